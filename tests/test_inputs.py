"""Command-line inputs: files, folders, Maildirs, mboxes and stdin become labelled messages."""

from __future__ import annotations

import io
import mailbox
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bounceback.inputs import Item, count, is_maildir, is_mbox, iter_items

Email = Callable[[str], bytes]
POSTFIX = "lhost-postfix-02.eml"
DISABLED = "rhost-google-01.eml"
TWO_IN_ONE = "rfc3464-28.eml"  # a real mbox: two DSNs, each after its own 'From ' line


def labels(items: list[Item]) -> list[str]:
    return [i.label for i in items]


def make_mbox(path: Path, *messages: bytes) -> Path:
    box = mailbox.mbox(path)
    for m in messages:
        box.add(m)
    box.flush()
    box.close()
    return path


def test_real_mbox_is_split_into_numbered_messages(tmp_path: Path, email: Email) -> None:
    path = tmp_path / "bounces"
    path.write_bytes(email(TWO_IN_ONE))
    assert is_mbox(path)
    items = list(iter_items([str(path)]))
    assert labels(items) == [f"{path}:1", f"{path}:2"]
    assert all(i.data.startswith(b"From MAILER-DAEMON") for i in items)
    assert b"kijitora@neko.example.jp" in items[0].data
    assert b"info@neko.example.jp" in items[1].data
    assert b"".join(i.data for i in items) == email(TWO_IN_ONE)


def test_an_eml_file_holding_two_messages_keeps_its_label(tmp_path: Path, email: Email) -> None:
    path = tmp_path / TWO_IN_ONE
    path.write_bytes(email(TWO_IN_ONE))
    items = list(iter_items([str(path)]))
    assert labels(items) == [str(path), str(path)]
    assert b"info@neko.example.jp" in items[1].data


def test_mbox_written_by_the_standard_library(tmp_path: Path, email: Email) -> None:
    path = make_mbox(tmp_path / "box", email(POSTFIX), email(DISABLED), email(POSTFIX))
    items = list(iter_items([str(path)]))
    assert labels(items) == [f"{path}:{n}" for n in (1, 2, 3)]
    assert b"shironeko@example.ne.jp" in items[1].data
    assert count([str(path)]) == 1  # cheap: an mbox counts as one input


def test_one_message_with_a_from_line_is_a_file_not_an_mbox(tmp_path: Path, email: Email) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(b"From MAILER-DAEMON Thu Apr 29 23:34:45 2015\n" + email(POSTFIX))
    assert not is_mbox(path)
    assert labels(list(iter_items([str(path)]))) == [str(path)]


def test_a_from_line_inside_a_paragraph_does_not_split(tmp_path: Path) -> None:
    path = tmp_path / "x.mbox"
    path.write_bytes(
        b"From a@example.org Thu Apr 29 23:34:45 2015\nSubject: one\n\nHello,\n"
        b"From what I hear, this is fine.\n\n"
        b"From b@example.org Thu Apr 29 23:35:45 2015\nSubject: two\n\nbye\n"
    )
    items = list(iter_items([str(path)]))
    assert len(items) == 2
    assert b"From what I hear" in items[0].data


def test_plain_message_is_not_an_mbox(tmp_path: Path, email: Email) -> None:
    path = tmp_path / POSTFIX
    path.write_bytes(email(POSTFIX))
    assert not is_mbox(path)
    assert not is_mbox(tmp_path / "missing")


def test_maildir_reads_new_then_cur_and_never_tmp(tmp_path: Path, email: Email) -> None:
    box = mailbox.Maildir(tmp_path / "md")
    box.add(email(POSTFIX))
    msg = mailbox.MaildirMessage(email(DISABLED))
    msg.set_subdir("cur")
    box.add(msg)
    (tmp_path / "md" / "tmp" / "partial").write_bytes(b"half a messa")
    (tmp_path / "md" / "cur" / ".hidden").write_bytes(b"x")
    assert is_maildir(tmp_path / "md")
    items = list(iter_items([str(tmp_path / "md")]))
    assert [Path(i.label).parent.name for i in items] == ["new", "cur"]
    assert b"shironeko@example.ne.jp" in items[1].data
    assert count([str(tmp_path / "md")]) == 2


def test_folder_walk_is_sorted_and_skips_hidden_files_docs_and_maildir_tmp(
    tmp_path: Path, email: Email
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.eml").write_bytes(email(POSTFIX))
    (tmp_path / "a.eml").write_bytes(email(DISABLED))
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_bytes(b"ref")
    (tmp_path / "README.md").write_text("about these bounces")
    (tmp_path / "LICENSE.set-of-emails").write_text("BSD")
    mailbox.Maildir(tmp_path / "md").add(email(POSTFIX))
    (tmp_path / "md" / "tmp" / "partial").write_bytes(b"half")
    items = list(iter_items([str(tmp_path)]))
    names = [str(Path(i.label).relative_to(tmp_path)) for i in items]
    assert names[:2] == ["a.eml", "b/2.eml"]
    assert len(names) == 3 and names[2].startswith("md/new/")
    assert count([str(tmp_path)]) == 4  # the count is cheap: it does not look into Maildirs


def test_files_over_the_limit_are_not_read(tmp_path: Path, email: Email) -> None:
    path = tmp_path / "big.eml"
    path.write_bytes(email(POSTFIX) + b"x" * 5000)
    [item] = iter_items([str(path)], max_bytes=4096)
    assert item.data == b""
    assert item.error.startswith("message too large: ")
    assert "limit 4096" in item.error


def test_an_oversized_message_inside_an_mbox_is_skipped_alone(tmp_path: Path, email: Email) -> None:
    huge = email(DISABLED) + b"y" * 50_000
    path = make_mbox(tmp_path / "box", email(POSTFIX), huge, email(POSTFIX))
    items = list(iter_items([str(path)], max_bytes=20_000))
    assert [bool(i.error) for i in items] == [False, True, False]
    assert "too large" in items[1].error
    assert b"userunknown@example.co.jp" in items[2].data
    assert b"yyyy" not in items[2].data


def test_stdin_is_read_up_to_the_limit(monkeypatch: pytest.MonkeyPatch, email: Email) -> None:
    class Stdin:
        buffer = io.BytesIO(email(POSTFIX))

    monkeypatch.setattr(sys, "stdin", Stdin)
    [item] = iter_items(["-"])
    assert item == Item("-", email(POSTFIX))

    Stdin.buffer = io.BytesIO(b"z" * 10_000)
    [item] = iter_items(["-"], max_bytes=1000)
    assert item.error == "message too large: 10000 bytes (limit 1000)"


def test_missing_and_special_paths_become_error_items(tmp_path: Path) -> None:
    items = list(iter_items([str(tmp_path / "nope.eml"), "/dev/null"]))
    assert [i.error for i in items] == ["no such file", "not a regular file"]
