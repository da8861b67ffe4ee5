"""Where messages come from on the command line: files, folders, Maildirs, mboxes, stdin.

Every message comes out as an :class:`Item`; a path that cannot be read, or a
message too large to be worth reading, comes out as an Item with an error, so a
run over many inputs goes on and says what it skipped. Memory stays bounded:
files are read one at a time, mboxes are streamed, and nothing larger than the
parser's limit is held in memory.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bounceback.parse import MAX_MESSAGE_BYTES

_MAILDIR_SUBS = ("new", "cur")
_DOCUMENT_STEMS = frozenset({"README", "LICENSE", "COPYING", "NOTICE"})
_DOCUMENT_SUFFIXES = frozenset({".md", ".rst", ".toml", ".csv"})  # a config, a contacts list
_MESSAGE_SUFFIXES = frozenset({".eml"})


@dataclass(frozen=True, slots=True)
class Item:
    """One message: a label to print (path, or path:N inside an mbox) and its bytes."""

    label: str
    data: bytes
    error: str = ""  # the input could not be read; data is empty


def is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def _is_separator(line: bytes, previous_blank: bool) -> bool:
    # An mbox separator: "From " at the start of a line, after a blank line (or
    # at the start of the file). An unescaped "From " inside a body rarely
    # follows a blank line *and* carries the sender and date.
    return previous_blank and line.startswith(b"From ") and len(line.split()) >= 3


def is_mbox(path: Path) -> bool:
    """An mbox holds one or more messages, each after a 'From sender date' line.

    A single message that merely starts with a 'From ' line is read as a file;
    the parser drops that line itself.
    """
    try:
        with path.open("rb") as fh:
            first = fh.readline()
            if not _is_separator(first, True):
                return False
            previous_blank = False
            for line in fh:
                if _is_separator(line, previous_blank):
                    return True
                previous_blank = not line.strip()
    except OSError:
        return False
    return False


def _is_document(path: Path) -> bool:
    # A folder of messages often carries its own README or LICENSE; those are not mail.
    stem = path.name.split(".", 1)[0].upper()
    return stem in _DOCUMENT_STEMS or path.suffix.lower() in _DOCUMENT_SUFFIXES


def _visible_files(folder: Path) -> list[Path]:
    """Message files under a folder, sorted: no hidden files (.DS_Store), no README."""
    found = []
    for p in folder.rglob("*"):
        rel = p.relative_to(folder).parts
        if any(part.startswith(".") for part in rel) or _is_document(p):
            continue
        if p.is_file():
            found.append(p)
    return sorted(found)


def count(paths: list[str]) -> int:
    """How many inputs there are, cheaply (an mbox counts as one)."""
    total = 0
    for raw in paths:
        path = Path(raw)
        if raw == "-" or path.is_file():
            total += 1
        elif is_maildir(path):
            total += sum(1 for sub in _MAILDIR_SUBS for p in _maildir_files(path / sub))
        elif path.is_dir():
            total += len(_visible_files(path))
    return total


def iter_items(paths: list[str], max_bytes: int = MAX_MESSAGE_BYTES) -> Iterator[Item]:
    """Every message under the given paths, in a stable order."""
    for raw in paths:
        if raw == "-":
            yield _stream("-", sys.stdin.buffer, max_bytes)
            continue
        path = Path(raw)
        if is_maildir(path):
            yield from _maildir(raw, path, max_bytes)
        elif path.is_dir():
            for child in _visible_files(path):
                # A Maildir inside the folder: tmp/ holds messages still being written.
                if child.parent.name == "tmp" and is_maildir(child.parent.parent):
                    continue
                yield from _file(str(child), child, max_bytes)
        else:
            yield from _file(raw, path, max_bytes)


def _too_large(size: int, max_bytes: int) -> str:
    return f"message too large: {size} bytes (limit {max_bytes})"


def _stream(label: str, fh: BinaryIO, max_bytes: int) -> Item:
    data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        # Drain the rest without keeping it, so the size can be told.
        size = len(data)
        while chunk := fh.read(1 << 20):
            size += len(chunk)
        return Item(label, b"", _too_large(size, max_bytes))
    return Item(label, data)


def _file(label: str, path: Path, max_bytes: int) -> Iterator[Item]:
    try:
        if not path.is_file():
            yield Item(label, b"", "no such file" if not path.exists() else "not a regular file")
            return
        size = path.stat().st_size
        if is_mbox(path):
            # A message file (.eml) that holds several messages keeps its plain label:
            # the path names the file, and a file is one unit to whoever named it so.
            numbered = path.suffix.lower() not in _MESSAGE_SUFFIXES
            yield from _mbox(label, path, max_bytes, numbered)
            return
        if size > max_bytes:
            yield Item(label, b"", _too_large(size, max_bytes))
            return
        yield Item(label, path.read_bytes())
    except OSError as exc:
        yield Item(label, b"", exc.strerror or str(exc))


def _mbox(label: str, path: Path, max_bytes: int, numbered: bool = True) -> Iterator[Item]:
    """Stream an mbox message by message; 'From ' lines stay (parse drops them).

    Messages are labelled path:1, path:2, ... (or all path, when not numbered).
    """
    n = 0
    chunks: list[bytes] = []
    size = 0
    previous_blank = True
    with path.open("rb") as fh:
        for line in fh:
            if _is_separator(line, previous_blank) and (chunks or size):
                n += 1
                yield _mbox_item(f"{label}:{n}" if numbered else label, chunks, size, max_bytes)
                chunks, size = [], 0
            size += len(line)
            if size <= max_bytes:
                chunks.append(line)
            else:
                chunks = []  # too large: count the bytes, keep none of them
            previous_blank = not line.strip()
    if chunks or size:
        n += 1
        yield _mbox_item(f"{label}:{n}" if numbered else label, chunks, size, max_bytes)


def _mbox_item(label: str, chunks: list[bytes], size: int, max_bytes: int) -> Item:
    if size > max_bytes:
        return Item(label, b"", _too_large(size, max_bytes))
    return Item(label, b"".join(chunks))


def _maildir_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _maildir(label: str, path: Path, max_bytes: int) -> Iterator[Item]:
    for sub in _MAILDIR_SUBS:
        for child in _maildir_files(path / sub):
            yield from _file(str(Path(label) / sub / child.name), child, max_bytes)
