"""Read YAML/JSON spec files into validated spec objects, with one-line errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from perfmodel.errors import SpecError

if TYPE_CHECKING:
    import pandas as pd

SpecT = TypeVar("SpecT", bound=BaseModel)


MAX_SPEC_BYTES = 16 * 1024 * 1024
"""Largest YAML/JSON spec file read (16 MiB; the shipped ones are a few KB)."""
MAX_TABLE_BYTES = 512 * 1024 * 1024
"""Largest CSV or list file read into memory (512 MiB)."""
MAX_DEPTH = 32
"""Deepest nesting of mappings and lists accepted in a spec file."""
MAX_INT = 2**53
"""Largest integer accepted in a spec file (exact as a float)."""
MAX_NODES = 1_000_000
"""Most values (after YAML alias expansion) accepted in a spec file."""


def is_file(path: str | Path) -> bool:
    """True for an existing regular file; False (not an exception) for names the OS refuses."""
    try:
        return Path(path).expanduser().is_file()
    except (OSError, ValueError):
        return False


def _checked_size(path: Path, limit: int, source: str) -> None:
    try:
        size = path.stat().st_size
    except (OSError, ValueError) as exc:
        raise SpecError(f"cannot read file ({exc.strerror or exc.__class__.__name__}); check the path",
                        source=source) from None
    if not is_file(path):
        raise SpecError("is not a regular file; give the path of a file", source=source)
    if size > limit:
        raise SpecError(f"file is {size / 2**20:.0f} MiB, over the {limit / 2**20:.0f} MiB limit; "
                        "give a smaller file", source=source)


def read_text_file(path: str | Path, *, limit: int = MAX_SPEC_BYTES, source: str | None = None) -> str:
    """A UTF-8 text file's contents, refusing missing, oversized, binary or otherwise encoded files."""
    path = Path(path)
    source = source or str(path)
    _checked_size(path, limit, source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read file ({exc.strerror or exc.__class__.__name__})", source=source) from None
    if b"\x00" in raw:
        raise SpecError("is a binary file (or UTF-16); save it as UTF-8 text", source=source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError("is not UTF-8 text; save it as UTF-8", source=source) from None


def read_csv_file(path: str | Path, *, source: str | None = None, **kwargs: Any) -> pd.DataFrame:
    """A CSV file as a DataFrame; empty, binary, malformed or oversized files raise :class:`SpecError`."""
    import io

    import pandas as pd

    path = Path(path)
    source = source or str(path)
    text = read_text_file(path, limit=MAX_TABLE_BYTES, source=source)
    if not text.strip():
        raise SpecError("is empty; a CSV needs a header row and data rows", source=source)
    try:
        return pd.read_csv(io.StringIO(text), **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise SpecError(f"not a readable CSV ({first})", source=source) from None


def check_tree(data: Any, source: str) -> None:
    """Refuse non-finite numbers, too-deep nesting and too many values (e.g. YAML alias bombs)."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    seen = 0
    while stack:
        node, where, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise SpecError(f"holds more than {MAX_NODES:,} values (after expanding aliases); give a smaller file",
                            source=source)
        if depth > MAX_DEPTH:
            raise SpecError(f"nested more than {MAX_DEPTH} levels deep", source=source, field=where or None)
        if isinstance(node, float) and not math.isfinite(node):
            raise SpecError(f"must be a finite number (got {node})", source=source, field=where or None)
        if isinstance(node, int) and not isinstance(node, bool) and abs(node) > MAX_INT:
            raise SpecError(f"is too large (over {MAX_INT:.1e})", source=source, field=where or None)
        if isinstance(node, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(node))


def parse_mapping(text: str, *, source: str, json_syntax: bool = False) -> dict[str, Any]:
    """Parse YAML (or JSON) text that must hold a mapping of finite values."""
    kind = "JSON" if json_syntax else "YAML"
    try:
        data = json.loads(text) if json_syntax else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", getattr(exc, "lineno", None))
        at = f" near line {line + 1 if isinstance(exc, yaml.YAMLError) else line}" if line is not None else ""
        raise SpecError(f"not valid {kind}{at}; fix the syntax", source=source) from None
    except RecursionError:
        raise SpecError(f"not usable {kind}: nested too deeply", source=source) from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise SpecError(f"not usable {kind} ({exc})", source=source) from None
    if not isinstance(data, dict):
        raise SpecError("expected a mapping of fields at the top level", source=source)
    check_tree(data, source)
    return data


def read_mapping(path: Path) -> dict[str, Any]:
    """Parse a YAML or JSON file that must hold a mapping (see :func:`parse_mapping`)."""
    path = Path(path)
    text = read_text_file(path)
    return parse_mapping(text, source=str(path), json_syntax=path.suffix == ".json")


def validation_error_to_spec_error(exc: ValidationError, source: str) -> SpecError:
    """Turn pydantic's multi-line report into one line naming the first bad field."""
    # A misspelled field also makes the real one "missing": report the misspelling first.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    err = errors[0]
    field = ".".join(str(p) for p in err["loc"]) or None
    kind = err["type"]
    if kind == "missing":
        message = "is required but missing; add it (see docs/spec_formats.md)"
    elif kind == "extra_forbidden":
        message = "is not a known field; remove it or check its spelling (see docs/spec_formats.md)"
    else:
        message = err["msg"].removeprefix("Value error, ")
        if "input" in err and not isinstance(err["input"], dict | list):
            message += f" (got {err['input']!r})"
    more = f" (+{len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    return SpecError(message + more, source=source, field=field)


def build_spec(cls: type[SpecT], data: dict[str, Any], source: str) -> SpecT:
    """Validate a mapping into a spec class, converting errors to :class:`SpecError`."""
    if not isinstance(data, dict):
        raise SpecError(f"expected a mapping of fields (got a {type(data).__name__})", source=source)
    check_tree(data, source)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise validation_error_to_spec_error(exc, source) from None
