"""Widgets shared by the dashboard pages: bounded inputs whose values survive page switches and travel in the
URL (query parameters), metric tiles that do not cut values short, and one-line errors.

Pages call these instead of the bare Streamlit widgets. Each widget has a session-state key; its value is
seeded (in this order) from the value kept when the user last left the page, the URL's query parameter of the
same name, or the default. A query value that is out of bounds or not an option is ignored, never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

SAVED = "_saved_inputs"  # plain (non-widget) session state: survives page switches


def _saved() -> dict[str, Any]:
    return st.session_state.setdefault(SAVED, {})


def _from_url(key: str, parse: Callable[[str], Any], valid: Callable[[Any], bool]) -> Any:
    raw = st.query_params.get(key)
    if raw is None:
        return None
    try:
        value = parse(raw)
    except (TypeError, ValueError):
        return None
    return value if valid(value) else None


def _seed(key: str, default: Any, parse: Callable[[str], Any], valid: Callable[[Any], bool]) -> None:
    """Put a valid value for `key` in session state before its widget is drawn."""
    if key in st.session_state and valid(st.session_state[key]):
        return
    for candidate in (_saved().get(key), _from_url(key, parse, valid)):
        if candidate is not None and valid(candidate):
            st.session_state[key] = candidate
            return
    st.session_state[key] = default


def _keep(key: str, to_url: Callable[[Any], str] | None = str) -> Any:
    """Remember the widget's value across pages and write it to the URL."""
    value = st.session_state[key]
    _saved()[key] = value
    if to_url is not None:
        text = to_url(value)
        if st.query_params.get(key) != text:
            st.query_params[key] = text
    return value


def number(where: Any, label: str, key: str, default: float, lo: float, hi: float, step: float | None = None,
           help: str | None = None) -> float:  # noqa: A002
    """A number input with hard bounds (ints when `default` is an int)."""
    is_int = isinstance(default, int) and not isinstance(default, bool)
    cast: Callable[[Any], Any] = int if is_int else float

    def valid(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and lo <= v <= hi

    _seed(key, default, lambda s: cast(float(s)) if is_int else float(s), valid)
    st.session_state[key] = cast(st.session_state[key])
    where.number_input(label, min_value=cast(lo), max_value=cast(hi), step=cast(step) if step else None, key=key,
                       help=help or f"between {lo:,} and {hi:,}")
    return _keep(key)


def select(where: Any, label: str, options: Sequence[str], key: str, default: str | None = None,
           help: str | None = None) -> str:  # noqa: A002
    """A selectbox over strings; the default is the first option when `default` is not one of them."""
    options = list(options)
    fallback = default if default in options else (options[0] if options else None)
    _seed(key, fallback, str, lambda v: v in options)
    where.selectbox(label, options, key=key, help=help)
    return _keep(key)


def multi(where: Any, label: str, options: Sequence[str], key: str, default: Sequence[str] = (),
          max_selections: int | None = None, help: str | None = None) -> list[str]:  # noqa: A002
    """A multiselect; in the URL the choice is comma-separated."""
    options = list(options)

    def valid(v: Any) -> bool:
        return isinstance(v, list) and all(x in options for x in v) and \
            (max_selections is None or len(v) <= max_selections)

    _seed(key, [d for d in default if d in options], lambda s: [x for x in s.split(",") if x], valid)
    where.multiselect(label, options, key=key, max_selections=max_selections, help=help)
    return _keep(key, ",".join)


def slider(where: Any, label: str, options: Sequence[Any], key: str, default: Any) -> Any:
    """A select slider over a few values (ints or strings)."""
    options = list(options)
    parse = type(options[0]) if options else str
    _seed(key, default if default in options else options[0], lambda s: parse(s), lambda v: v in options)
    where.select_slider(label, options=options, key=key)
    return _keep(key)


def text(where: Any, label: str, key: str, default: str = "", max_chars: int = 500, help: str | None = None,
         ) -> str:  # noqa: A002
    """A single-line text input (paths, ids), stripped."""
    _seed(key, default, str, lambda v: isinstance(v, str) and len(v) <= max_chars)
    where.text_input(label, key=key, max_chars=max_chars, help=help)
    return str(_keep(key)).strip()


def tiles(items: Sequence[tuple[str, str]], per_row: int = 3, help: dict[str, str | None] | None = None) -> None:
    """Metric tiles, at most `per_row` to a row so that values are never cut short."""
    help = help or {}
    for start in range(0, len(items), per_row):
        cols = st.columns(per_row)
        for col, (label, value) in zip(cols, items[start:start + per_row], strict=False):
            col.metric(label, value, help=help.get(label))


def error(exc: BaseException) -> None:
    """A one-line error message (the first line of the exception's text), never a traceback."""
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    st.error(lines[0])


FITS = ":material/check_circle: fits"  # Material icons ship with Streamlit; emoji fonts may be missing.
DOES_NOT_FIT = ":material/cancel: does not fit"
