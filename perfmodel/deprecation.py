"""Old spellings that still work for one release, with a warning naming the new one."""

from __future__ import annotations

import warnings
from typing import Any

from perfmodel.errors import SpecError

LENGTH_KEYS = {"input_tokens": "input_len", "output_tokens": "output_len"}
"""Request-length keys renamed in specs, trace columns and arguments (tokens)."""


class DeprecatedNameWarning(FutureWarning):
    """A renamed argument, flag, key or column was used under its old name."""


def warn_renamed(old: str, new: str, where: str = "") -> None:
    """Warn that `old` is deprecated in favour of `new`."""
    prefix = f"{where}: " if where else ""
    warnings.warn(f"{prefix}'{old}' is deprecated; use '{new}' (the old name goes in the next release)",
                  DeprecatedNameWarning, stacklevel=3)


def rename_keys(data: Any, renames: dict[str, str] = LENGTH_KEYS, where: str = "") -> Any:
    """A mapping with deprecated keys renamed (warning once per key); other values pass through."""
    if not isinstance(data, dict) or not any(old in data for old in renames):
        return data
    data = dict(data)
    for old, new in renames.items():
        if old in data:
            if new in data:
                raise SpecError(f"give '{new}' only ('{old}' is its deprecated spelling)", source=where or None,
                                field=old)
            warn_renamed(old, new, where)
            data[new] = data.pop(old)
    return data


def rename_columns(table: Any, where: str = "", renames: dict[str, str] = LENGTH_KEYS) -> Any:
    """A DataFrame with deprecated column names renamed (warning once per column)."""
    old = [c for c in renames if c in table.columns and renames[c] not in table.columns]
    for col in old:
        warn_renamed(col, renames[col], where)
    return table.rename(columns={c: renames[c] for c in old}) if old else table
