"""How a source's config dataclass is read from the config file: by its fields' types.

``serve_config`` checks each ``[[sources.<kind>]]`` (and ``[smtpd]``, and each
``[webhooks.<provider>]``) table against the fields of its config dataclass, so a
new source declares its settings once, as the dataclass it uses anyway:

    str → text        int → a whole number      float → a number     bool → true/false
    Path (alone or with str) → a path, taken from the config file's folder
    list/Sequence/tuple of str → a list of strings      str | list[str] → either
    Literal["a", "b"] → one of those values        ... | None → the same, optional

A field without a default is required. Field metadata changes the reading:
``NOT_A_KEY`` keeps a field out of the file (set by code, or through another key);
``AS_WRITTEN`` takes a ``str | Path`` field as written, not as a path.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import MISSING, fields, is_dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

__all__ = ["AS_WRITTEN", "NOT_A_KEY", "Check", "Option", "options", "required"]

_KEY = "config"
NOT_A_KEY = types.MappingProxyType({_KEY: "not a key"})
AS_WRITTEN = types.MappingProxyType({_KEY: "as written"})


class Check(StrEnum):
    """How one config value is checked and converted."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    PATH = "path"
    TEXTS = "list of text"
    TEXT_OR_TEXTS = "text or list of text"


# A Check, or the values a Literal allows.
Option = Check | tuple[str, ...]


def options(config: type[Any]) -> dict[str, Option]:
    """Each key the config file may set for ``config`` (a dataclass), with its check."""
    if not is_dataclass(config):
        raise TypeError(f"{config.__name__} is not a dataclass")
    hints = get_type_hints(config)
    found: dict[str, Option] = {}
    for f in fields(config):
        how = f.metadata.get(_KEY)
        if how == NOT_A_KEY[_KEY]:
            continue
        found[f.name] = Check.TEXT if how == AS_WRITTEN[_KEY] else check_for(hints[f.name])
    return found


def required(config: type[Any]) -> tuple[str, ...]:
    """The keys ``config`` has no default for."""
    if not is_dataclass(config):
        raise TypeError(f"{config.__name__} is not a dataclass")
    return tuple(
        f.name
        for f in fields(config)
        if f.default is MISSING and f.default_factory is MISSING and f.metadata.get(_KEY) is None
    )


def check_for(hint: Any) -> Option:
    """The check for one annotation; TypeError for a type the file cannot spell."""
    origin = get_origin(hint)
    if origin is Literal:
        return tuple(str(value) for value in get_args(hint))
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(members) == 1:
            return check_for(members[0])
        checks = {check_for(arg) for arg in members}
        if checks == {Check.TEXT, Check.PATH}:
            return Check.PATH
        if checks == {Check.TEXT, Check.TEXTS}:
            return Check.TEXT_OR_TEXTS
    elif origin in (list, tuple, Sequence) and _of_text(get_args(hint)):
        return Check.TEXTS
    elif hint in _SCALARS:
        return _SCALARS[hint]
    raise TypeError(f"no config spelling for {hint!r}: mark the field NOT_A_KEY")


_SCALARS: dict[Any, Check] = {
    str: Check.TEXT,
    int: Check.INT,
    float: Check.FLOAT,
    bool: Check.BOOL,
    Path: Check.PATH,
}


def _of_text(args: tuple[Any, ...]) -> bool:
    return bool(args) and all(arg in (str, Ellipsis) for arg in args) and args[0] is str
