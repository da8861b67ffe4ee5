"""Where messages come from on the command line: files, folders, Maildirs, mboxes, stdin."""

from __future__ import annotations

import mailbox
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Item:
    """One message: a label to print (path, or path:N inside an mbox) and its bytes."""

    label: str
    data: bytes
    error: str = ""  # the input could not be read; data is empty


def is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def is_mbox(path: Path) -> bool:
    """An mbox holds more than one message, each after a 'From ' separator line."""
    try:
        with path.open("rb") as fh:
            head = fh.read(5)
            if head != b"From ":
                return False
            for line in fh:
                if line.startswith(b"From ") and b"@" in line or line.startswith(b"From -"):
                    return True
    except OSError:
        return False
    return False


def count(paths: list[str]) -> int:
    """How many inputs there are, cheaply (mboxes count as one)."""
    total = 0
    for raw in paths:
        path = Path(raw)
        if raw == "-" or path.is_file():
            total += 1
        elif is_maildir(path):
            total += sum(1 for sub in ("cur", "new") for _ in (path / sub).iterdir())
        elif path.is_dir():
            total += sum(1 for p in path.rglob("*") if p.is_file())
    return total


def iter_items(paths: list[str]) -> Iterator[Item]:
    """Every message under the given paths, in a stable order."""
    for raw in paths:
        if raw == "-":
            yield Item("-", sys.stdin.buffer.read())
            continue
        path = Path(raw)
        if is_maildir(path):
            yield from _maildir(raw, path)
        elif path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if is_maildir(child.parent.parent) and child.parent.name in ("cur", "new", "tmp"):
                    if child.parent.name == "tmp":
                        continue
                yield from _file(str(child), child)
        else:
            yield from _file(raw, path)


def _file(label: str, path: Path) -> Iterator[Item]:
    if not path.is_file():
        yield Item(label, b"", "no such file" if not path.exists() else "not a regular file")
        return
    if is_mbox(path):
        box = mailbox.mbox(path, create=False)
        try:
            for n, key in enumerate(box.iterkeys(), 1):
                yield Item(f"{label}:{n}", box.get_bytes(key))
        finally:
            box.close()
        return
    try:
        yield Item(label, path.read_bytes())
    except OSError as exc:
        yield Item(label, b"", exc.strerror or str(exc))


def _maildir(label: str, path: Path) -> Iterator[Item]:
    for sub in ("new", "cur"):
        for child in sorted((path / sub).iterdir()):
            if child.is_file():
                yield Item(str(Path(label) / sub / child.name), child.read_bytes())
