"""TailReader: incremental reading, partial lines, rotation, truncation, move-to."""

from __future__ import annotations

import os
from pathlib import Path

from bounceback.sources.tail import Line, TailReader


def texts(lines: list[Line]) -> list[str]:
    return [line.text for line in lines]


def append(path: Path, data: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(data)


def test_reads_only_new_complete_lines(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    state = tmp_path / "state.json"
    log.write_text("one\ntwo\nthr")
    tail = TailReader(log, state)
    assert texts(tail.read()) == ["one", "two"]
    assert tail.read() == []  # the half line waits
    append(log, "ee\nfour\n")
    assert texts(tail.read()) == ["three", "four"]


def test_offsets_heads_and_keys(tmp_path: Path) -> None:
    log = tmp_path / "a.csv"
    log.write_text("type,rcpt\nb,x@example.com\r\n")
    lines = TailReader(log, tmp_path / "s.json").read()
    assert [(line.offset, line.head) for line in lines] == [(0, "type,rcpt"), (10, "type,rcpt")]
    assert lines[1].text == "b,x@example.com"  # CR of CRLF stripped
    assert lines[1].ref == f"{log}:10"
    assert lines[0].key != lines[1].key


def test_state_survives_restart_only_after_commit(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    state = tmp_path / "state.json"
    log.write_text("a\nb\n")
    first = TailReader(log, state)
    assert texts(first.read()) == ["a", "b"]
    # No commit: a new reader (a restarted process) sees the lines again...
    again = TailReader(log, state)
    assert texts(again.read()) == ["a", "b"]
    again.commit()
    append(log, "c\n")
    # ...and after the commit only what is new.
    assert texts(TailReader(log, state).read()) == ["c"]


def test_same_line_same_key_after_rename(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("a\nb\n")
    before = TailReader(log, tmp_path / "s1.json").read()
    moved = tmp_path / "elsewhere.log"
    log.rename(moved)
    after = TailReader(moved, tmp_path / "s2.json").read()
    assert [x.key for x in before] == [x.key for x in after]


def test_batches_of_max_lines(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("".join(f"line {i}\n" for i in range(25)))
    tail = TailReader(log, tmp_path / "s.json", chunk_size=7)
    got: list[str] = []
    while batch := tail.read(max_lines=10):
        assert len(batch) <= 10
        got += texts(batch)
    assert got == [f"line {i}" for i in range(25)]


def test_rename_rotation_finishes_old_file_first(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    state = tmp_path / "state.json"
    log.write_text("1\n2\n")
    tail = TailReader(log, state)
    assert texts(tail.read()) == ["1", "2"]
    tail.commit()
    append(log, "3\n4\n")  # written before the rotation, not yet read
    log.rename(tmp_path / "mail.log.1")
    log.write_text("5\n")
    tail = TailReader(log, state)  # a restart in between, for good measure
    assert texts(tail.read()) == ["3", "4", "5"]
    tail.commit()
    append(log, "6\n")
    assert texts(TailReader(log, state).read()) == ["6"]


def test_copytruncate_rotation(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    state = tmp_path / "state.json"
    log.write_text("first line of the day\n2\n")
    tail = TailReader(log, state)
    assert texts(tail.read()) == ["first line of the day", "2"]
    tail.commit()
    append(log, "3\n")
    # logrotate's copytruncate: copy to .1, empty the live file in place.
    (tmp_path / "mail.log.1").write_bytes(log.read_bytes())
    with log.open("r+") as f:
        f.truncate(0)
    append(log, "4\n")
    tail = TailReader(log, state)
    got = texts(tail.read())
    got += texts(tail.read())  # the copy is found in the same pass or the next
    assert sorted(got) == ["3", "4"]
    assert not tail.problems


def test_truncation_without_copy_restarts_and_reports(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("a long line that was read\nanother one\n")
    tail = TailReader(log, tmp_path / "s.json")
    tail.read()
    log.write_text("x\n")  # shorter: truncated and rewritten
    assert texts(tail.read()) == ["x"]
    assert any("truncated" in p for p in tail.problems)


def test_replaced_in_place_with_longer_file_starts_over(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("aaa\n")
    tail = TailReader(log, tmp_path / "s.json")
    assert texts(tail.read()) == ["aaa"]
    with log.open("r+") as f:  # same inode, new beginning, longer than before
        f.write("bbb\nccc\n")
    assert texts(tail.read()) == ["bbb", "ccc"]


def test_move_to_folder(tmp_path: Path) -> None:
    live = tmp_path / "acct.csv"
    done = tmp_path / "done"
    done.mkdir()
    state = tmp_path / "state.json"
    live.write_text("type,rcpt\nb,a@example.com\n")
    tail = TailReader(live, state, move_to=done)
    assert texts(tail.read()) == ["type,rcpt", "b,a@example.com"]
    tail.commit()
    append(live, "b,b@example.com\n")
    # PowerMTA moves the finished file into the move-to folder and starts anew.
    live.rename(done / "acct-2026-11-20-0900.csv")
    (done / "acct-2026-11-20-0800.csv").write_text("type,rcpt\nb,old@example.com")
    os.utime(done / "acct-2026-11-20-0800.csv", (1, 1))  # older: read first
    live.write_text("type,rcpt\nb,c@example.com\n")
    tail = TailReader(live, state, move_to=done)
    got = texts(tail.read())
    assert got == [
        "type,rcpt",
        "b,old@example.com",  # a closed file: its last line needs no newline
        "b,b@example.com",
        "type,rcpt",
        "b,c@example.com",
    ]
    tail.commit()
    again = TailReader(live, state, move_to=done)
    assert again.read() == []
    assert [p.name for p in again.done_files()] == [
        "acct-2026-11-20-0800.csv",
        "acct-2026-11-20-0900.csv",
    ]


def test_damaged_state_file_starts_over(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    state = tmp_path / "state.json"
    log.write_text("a\n")
    state.write_text("{not json")
    tail = TailReader(log, state)
    assert texts(tail.read()) == ["a"]
    assert tail.problems
    tail.commit()
    assert TailReader(log, state).read() == []


def test_state_directory_is_created(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("a\n")
    tail = TailReader(log, tmp_path / "state" / "pmta" / "mail.json")
    tail.read()
    tail.commit()
    assert TailReader(log, tmp_path / "state" / "pmta" / "mail.json").read() == []


def test_missing_file_is_not_an_error(tmp_path: Path) -> None:
    tail = TailReader(tmp_path / "absent.log", tmp_path / "s.json")
    assert tail.read() == []
    assert not tail.problems


def test_lines_written_late_to_a_rotated_file_are_still_read(tmp_path: Path) -> None:
    log = tmp_path / "mail.log"
    log.write_text("1\n")
    tail = TailReader(log, tmp_path / "s.json")
    assert texts(tail.read()) == ["1"]
    rotated = tmp_path / "mail.log.1"
    log.rename(rotated)
    log.write_text("2\n")
    assert texts(tail.read()) == ["2"]
    append(rotated, "late\n")  # the daemon had not reopened its log yet
    assert texts(tail.read()) == ["late"]


def test_batch_limit_does_not_forget_other_files(tmp_path: Path) -> None:
    live = tmp_path / "acct.csv"
    done = tmp_path / "done"
    done.mkdir()
    state = tmp_path / "state.json"
    live.write_text("type,rcpt\nb,live1@example.com\n")
    tail = TailReader(live, state, move_to=done)
    assert len(tail.read()) == 2
    tail.commit()
    (done / "old.csv").write_text("type,rcpt\n" + "b,old@example.com\n" * 5)
    tail = TailReader(live, state, move_to=done)
    assert len(tail.read(max_lines=3)) == 3  # stops inside the moved file
    tail.commit()
    rest = TailReader(live, state, move_to=done).read()
    assert texts(rest) == ["b,old@example.com"] * 3  # and the live file is not re-read


def test_junk_without_newlines_stays_bounded(tmp_path: Path) -> None:
    log = tmp_path / "junk.log"
    log.write_bytes(b"x" * (3 * 1024 * 1024) + b"\nok\n")
    lines = TailReader(log, tmp_path / "s", chunk_size=256 * 1024).read()
    assert lines[-1].text == "ok"
    assert all(len(line.text) <= 2 * 1024 * 1024 for line in lines)
    assert sum(len(line.text) for line in lines[:-1]) == 3 * 1024 * 1024  # nothing skipped
    assert lines[-1].offset == 3 * 1024 * 1024 + 1


def test_dated_rotation_by_glob(tmp_path: Path) -> None:
    live = tmp_path / "acct.csv"
    state = tmp_path / "state.json"
    (tmp_path / "acct-2026-11-19-0000.csv").write_text("type,rcpt\nb,never-ours@example.com\n")
    live.write_text("type,rcpt\nb,1@example.com\n")
    tail = TailReader(live, state, rotated=("acct-*.csv",))
    assert texts(tail.read()) == ["type,rcpt", "b,1@example.com"]  # old files not ours
    tail.commit()
    append(live, "b,2@example.com\n")
    live.rename(tmp_path / "acct-2026-11-20-0000.csv")  # PowerMTA's own rotation
    live.write_text("type,rcpt\nb,3@example.com\n")
    tail = TailReader(live, state, rotated=("acct-*.csv",))
    assert texts(tail.read()) == ["b,2@example.com", "type,rcpt", "b,3@example.com"]
