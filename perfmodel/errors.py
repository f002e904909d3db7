"""One error hierarchy for every user-facing failure.

Front ends (CLI, dashboard) catch :class:`PerfModelError` and show its one-line message;
anything else is a bug and may show a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PerfModelError(Exception):
    """Base class: a user mistake or an impossible request, with a one-line message."""

    exit_code = 2


class SpecError(PerfModelError):
    """A spec file or object is malformed: names the file, the field and the fix."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        where = ""
        if source:
            where += f"{source}: "
        if field:
            where += f"field '{field}': "
        super().__init__(where + message)
        self.source = source
        self.field = field


class UnknownIdError(PerfModelError):
    """An id that is neither in a catalog nor an existing file; suggests the closest ids."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=4, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        super().__init__(
            f"unknown {kind} '{name}'{hint} (see `perfmodel {kind} list`, or pass a path to a YAML file)"
        )
        self.kind = kind
        self.name = name
        self.suggestions = close


class Cancelled(PerfModelError):
    """The caller stopped the work (e.g. a progress callback raised it to cancel a simulation)."""

    exit_code = 130


class DoesNotFitError(PerfModelError):
    """The configuration does not fit in device memory (raised only when asked to be strict)."""

    exit_code = 3
