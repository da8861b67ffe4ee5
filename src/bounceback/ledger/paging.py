"""Keyset paging and substring patterns shared by the ledger's list queries.

A list function returns ``(items, next_key)``: ``next_key`` is the last item's sort
key (a list of plain values) when more items follow, else None; the caller encodes it
as the cursor and hands it back as ``after``. Keyset paging reads the same few index
entries on page 1000 as on page 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

Key = list[Any]


def like_pattern(text: str) -> str:
    """``text`` as a LIKE substring pattern (its wildcards taken literally, escape ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def ends_with_pattern(text: str) -> str:
    """``text`` as a LIKE suffix pattern (``@example.org``: addresses at that domain)."""
    return "%" + like_pattern(text)[1:-1]


def page(
    rows: Sequence[Any], limit: int, key: Callable[[Any], Iterable[Any]]
) -> tuple[Sequence[Any], Key | None]:
    """Rows fetched with ``limit + 1``: the page and the key to read on from."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, list(key(rows[-1]))


def every_page(
    read: Callable[[Key | None], tuple[list[dict[str, Any]], Key | None]],
) -> list[dict[str, Any]]:
    """Every item of a list function, page after page (``read(after)`` reads one)."""
    items: list[dict[str, Any]] = []
    after: Key | None = None
    while True:
        shown, after = read(after)
        items.extend(shown)
        if after is None:
            return items


def newest_first(at: Any, ident: Any, after: Key | None) -> ColumnElement[bool] | None:
    """Rows strictly after (older than) ``after`` = (time, id) in newest-first order."""
    if after is None:
        return None
    when, last = after
    return or_(at < when, and_(at == when, ident < last))
