"""Argument checks shared by the public API: whole counts and finite positive numbers.

Each raises :class:`PerfModelError` with a one-line message naming the argument, so a NaN, a
string or a negative value never reaches the cost core.
"""

from __future__ import annotations

import math
import numbers

from perfmodel.errors import PerfModelError

MAX_TOKENS = 100_000_000
"""Largest request length accepted (tokens): far beyond any model's context, small enough to stay bounded."""
MAX_GENERATION_TOKENS = 1_048_576
"""Longest generation a test-time-scaling strategy accepts (its step profiles grow with it)."""
MAX_COUNT = 100_000_000
"""Largest batch, sample or request count accepted."""


def whole(value: object, name: str, *, minimum: int = 1, maximum: int = MAX_COUNT) -> int:
    """`value` as an int in [minimum, maximum]; bools, NaN, fractions and non-numbers are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise PerfModelError(f"{name} must be a whole number (got {value!r})")
    number = float(value)
    if not math.isfinite(number) or not number.is_integer():
        raise PerfModelError(f"{name} must be a whole number (got {value!r})")
    if number < minimum:
        raise PerfModelError(f"{name} must be >= {minimum} (got {int(number)})")
    if number > maximum:
        raise PerfModelError(f"{name} must be <= {maximum:,} (got {int(number):,}): over the limit of what is "
                             "modelled")
    return int(number)


def tokens(value: object, name: str, *, minimum: int = 1) -> int:
    """A token count in [minimum, :data:`MAX_TOKENS`]."""
    return whole(value, name, minimum=minimum, maximum=MAX_TOKENS)


def positive(value: object, name: str, *, maximum: float = math.inf) -> float:
    """A finite number > 0 (and <= maximum)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise PerfModelError(f"{name} must be a number (got {value!r})")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise PerfModelError(f"{name} must be a finite number > 0 (got {value!r})")
    if number > maximum:
        raise PerfModelError(f"{name} must be <= {maximum:g} (got {value!r})")
    return number
