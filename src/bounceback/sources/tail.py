"""Read a growing log or CSV file incrementally, surviving rotation and restarts.

The reader remembers, per file (by inode), how far it has read and a hash of the
bytes already read, in a small JSON state file. It never emits half a line: a
last line without its newline waits for the next read. Rotation is followed:

- rename rotation (``log`` → ``log.1`` or a dated name matching a configured
  glob, a new ``log``): the old inode is finished from the remembered offset in
  its new name, then the new file starts at 0;
- copytruncate (``log`` copied to ``log.1``, ``log`` emptied): the copy is found
  by the hash of what was already read and finished, the live file restarts at 0;
- a file replaced in place (same inode, different beginning): starts again at 0;
- PowerMTA's ``move-to`` folder: every file that appears there is read once, the
  one we were reading when it was moved from the remembered offset.

State is written only by ``commit()``, which the caller runs after the lines it
took are safely handled: a crash in between means they are read again, and the
idempotency key of each ``Line`` makes that harmless.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bounceback.sources.records import digest

_PREFIX = 4096  # bytes hashed to recognise a file again
_MAX_HEAD = 65536  # longest first line kept (a CSV header)
_MAX_LINE = 1 << 20  # longer "lines" are cut: memory stays flat on junk


@dataclass(frozen=True, slots=True)
class Line:
    """One complete line of a file, with where it was found."""

    text: str
    path: str
    offset: int  # byte offset of the line's start
    head: str  # the file's first line (a CSV header names the fields)

    @property
    def key(self) -> str:
        """Idempotency key: the same line of the same file, wherever it now lives."""
        return digest("line", self.head, self.offset, self.text)

    @property
    def ref(self) -> str:
        return f"{self.path}:{self.offset}"


@dataclass(slots=True)
class _Progress:
    offset: int = 0
    head: str = ""
    plen: int = 0  # how many leading bytes phash covers
    phash: str = ""
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "offset": self.offset,
            "head": self.head,
            "plen": self.plen,
            "phash": self.phash,
            "done": self.done,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Progress:
        return cls(
            offset=int(data.get("offset", 0)),
            head=str(data.get("head", "")),
            plen=int(data.get("plen", 0)),
            phash=str(data.get("phash", "")),
            done=bool(data.get("done", False)),
        )


class TailReader:
    """Incremental, rotation-aware reader of one file (and its move-to folder)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        state_path: str | os.PathLike[str],
        *,
        rotated: tuple[str, ...] = (".1",),
        move_to: str | os.PathLike[str] | None = None,
        chunk_size: int = 1 << 20,
    ) -> None:
        self.path = Path(path)
        self.state_path = Path(state_path)
        self.rotated = rotated
        self.move_to = Path(move_to) if move_to is not None else None
        self.chunk_size = chunk_size
        self.problems: list[str] = []
        self._files: dict[str, _Progress] = {}
        self._load()

    # -- state -------------------------------------------------------------
    def _load(self) -> None:
        try:
            raw = json.loads(self.state_path.read_text("utf-8"))
            files = raw.get("files", {}) if isinstance(raw, dict) else {}
            self._files = {str(k): _Progress.from_json(v) for k, v in files.items()}
        except FileNotFoundError:
            self._files = {}
        except (ValueError, TypeError, AttributeError) as exc:
            # A damaged state file means reading again from the start: safe, since
            # every line carries its idempotency key.
            self.problems.append(f"state file {self.state_path} unreadable ({exc}); starting over")
            self._files = {}

    def commit(self) -> None:
        """Remember how far the lines returned so far were read (atomic write)."""
        data = {"path": str(self.path), "files": {k: p.to_json() for k, p in self._files.items()}}
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True), "utf-8")
        os.replace(tmp, self.state_path)

    # -- reading -----------------------------------------------------------
    def read(self, max_lines: int = 10_000) -> list[Line]:
        """The next complete lines, at most ``max_lines``; [] when caught up."""
        out: list[Line] = []
        candidates = self._candidates()
        present = {_ident(st) for _, st, _ in candidates}
        for path, st, finishing in candidates:
            ident = _ident(st)
            progress = self._progress(path, st, ident, finishing)
            if progress is None or progress.done:
                continue
            final = finishing and path.parent == self.move_to
            at_end = self._read_file(path, progress, out, max_lines, final)
            # A moved file is closed for good. A rotated one is not marked done:
            # the writer may add lines until it reopens its log, so it is read on
            # (a seek to its end) for as long as it keeps its rotated name.
            if final and at_end:
                progress.done = True
            if len(out) >= max_lines:
                break
        # Forget files that are gone, so the state stays small and a reused inode
        # is not mistaken for an old file.
        for ident in list(self._files):
            if ident not in present:
                del self._files[ident]
        return out

    def done_files(self) -> list[Path]:
        """Move-to files read to the end: the caller may archive or delete them once
        the events from them are committed (and after ``commit()``)."""
        if self.move_to is None or not self.move_to.is_dir():
            return []
        out: list[Path] = []
        for entry in sorted(self.move_to.iterdir()):
            with contextlib.suppress(OSError):
                progress = self._files.get(_ident(entry.stat()))
                if progress is not None and progress.done:
                    out.append(entry)
        return out

    def _candidates(self) -> list[tuple[Path, os.stat_result, bool]]:
        """Files to read, oldest first: move-to files, rotated files, the live file."""
        found: list[tuple[Path, os.stat_result, bool]] = []
        if self.move_to is not None and self.move_to.is_dir():
            moved: list[tuple[float, str, Path, os.stat_result]] = []
            for entry in self.move_to.iterdir():
                with contextlib.suppress(OSError):
                    st = entry.stat()
                    if entry.is_file():
                        moved.append((st.st_mtime, entry.name, entry, st))
            found.extend((p, st, True) for _, _, p, st in sorted(moved))
        for rotated in self._rotated_paths():
            with contextlib.suppress(OSError):
                found.append((rotated, rotated.stat(), True))
        with contextlib.suppress(OSError):
            found.append((self.path, self.path.stat(), False))
        return found

    def _rotated_paths(self) -> list[Path]:
        """Where a rotated copy may be, oldest first: ``<name><suffix>`` for each
        suffix (".1"), and the files matching each glob (PowerMTA's own rotation,
        logrotate's dateext: "acct-*.csv", "mail.log-*") in the log's folder."""
        out: list[Path] = []
        for item in self.rotated:
            if any(c in item for c in "*?["):
                matches: list[tuple[float, str, Path]] = []
                for p in self.path.parent.glob(item):
                    with contextlib.suppress(OSError):
                        if p != self.path and p.is_file():
                            matches.append((p.stat().st_mtime, p.name, p))
                out.extend(p for _, _, p in sorted(matches))
            else:
                out.append(Path(f"{self.path}{item}"))
        return out

    def _progress(
        self, path: Path, st: os.stat_result, ident: str, finishing: bool
    ) -> _Progress | None:
        progress = self._files.get(ident)
        if progress is None:
            if finishing and path.parent != self.move_to:
                # A rotated file we never read: only a copytruncate copy of the
                # file we were reading is ours to finish.
                return self._adopt_copy(path, st, ident)
            progress = self._files[ident] = _Progress()
            return progress
        if progress.done:
            return progress
        if st.st_size < progress.offset or not _same_prefix(path, progress):
            if not finishing:
                self._find_copy_of(progress)
            self._files[ident] = progress = _Progress()
        return progress

    def _find_copy_of(self, old: _Progress) -> None:
        """Before restarting a truncated live file, hand its progress to its copy."""
        for rotated in self._rotated_paths():
            try:
                st = rotated.stat()
            except OSError:
                continue
            ident = _ident(st)
            if st.st_size >= old.offset and _same_prefix(rotated, old):
                if ident not in self._files:  # else already adopted this round
                    self._files[ident] = _Progress(old.offset, old.head, old.plen, old.phash)
                return
        if old.offset:
            self.problems.append(f"{self.path} was truncated; lines after offset {old.offset} lost")

    def _adopt_copy(self, path: Path, st: os.stat_result, ident: str) -> _Progress | None:
        for key, prog in list(self._files.items()):
            if prog.plen and st.st_size >= prog.offset and _same_prefix(path, prog):
                if key == ident:
                    return prog
                adopted = _Progress(prog.offset, prog.head, prog.plen, prog.phash)
                self._files[ident] = adopted
                return adopted
        return None

    def _read_file(
        self, path: Path, progress: _Progress, out: list[Line], limit: int, final: bool
    ) -> bool:
        """Append complete lines from ``progress.offset``; True when the file is exhausted.

        ``final``: the file is closed for good (moved away), so a last line without
        its newline is complete; in a live file it is half a line and waits.
        """
        try:
            f = path.open("rb")
        except OSError as exc:
            self.problems.append(f"cannot open {path}: {exc}")
            return False
        with f:
            if not progress.head:
                first = f.readline(_MAX_HEAD)
                if not first.endswith(b"\n") and not final and len(first) < _MAX_HEAD:
                    return True  # not even one complete line yet
                progress.head = first.rstrip(b"\r\n").decode("utf-8", "replace")
            f.seek(progress.offset)
            pos = progress.offset
            pending = b""
            name = str(path)
            exhausted = False
            while len(out) < limit:
                chunk = f.read(self.chunk_size)
                if not chunk:
                    exhausted = True
                    break
                pending += chunk
                parts = [(raw, len(raw) + 1) for raw in pending.split(b"\n")]
                pending = parts.pop()[0]
                if len(pending) > _MAX_LINE:
                    # No newline in sight (binary junk): pass it on as one line
                    # (the parser will refuse it) rather than hold it all in memory.
                    parts.append((pending, len(pending)))
                    pending = b""
                for raw, size in parts:
                    if len(out) >= limit:
                        break  # the rest is read again from ``pos`` next time
                    out.append(Line(_decode(raw), name, pos, progress.head))
                    pos += size
            if exhausted and final and pending and len(out) < limit:
                out.append(Line(_decode(pending), name, pos, progress.head))
                pos += len(pending)
            progress.offset = pos
            _remember_prefix(f, progress)
            return exhausted


def _decode(raw: bytes) -> str:
    return raw.rstrip(b"\r").decode("utf-8", "replace")


def _ident(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}"


def _prefix_hash(f: Any, length: int) -> str:
    f.seek(0)
    return hashlib.sha256(f.read(length)).hexdigest()


def _remember_prefix(f: Any, progress: _Progress) -> None:
    want = min(progress.offset, _PREFIX)
    if want > progress.plen:
        progress.plen = want
        progress.phash = _prefix_hash(f, want)


def _same_prefix(path: Path, progress: _Progress) -> bool:
    if not progress.plen:
        return True
    try:
        with path.open("rb") as f:
            return _prefix_hash(f, progress.plen) == progress.phash
    except OSError:
        return False
