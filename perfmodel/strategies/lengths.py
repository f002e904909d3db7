"""Generation-length distributions: how many tokens one sample generates.

Every distribution reduces to a discrete pmf over integer lengths >= 1 (:meth:`LengthDist.pmf`);
costs are expectations over it, never the cost at the mean. A length budget caps the lengths
(:meth:`LengthDist.capped`): a sample that would run longer stops at the budget.
"""

from __future__ import annotations

import csv
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

from perfmodel.checks import MAX_GENERATION_TOKENS
from perfmodel.errors import PerfModelError
from perfmodel.specs.loader import MAX_TABLE_BYTES, is_file, read_text_file

FloatArray = NDArray[np.float64]


class LengthDist(ABC):
    """Distribution of the number of tokens one sample generates (integers >= 1)."""

    @abstractmethod
    def _pmf(self) -> tuple[FloatArray, FloatArray]:
        """Sorted distinct lengths and their probabilities (summing to 1)."""

    @cached_property
    def _table(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        values, probs = self._pmf()
        probs = probs / probs.sum()
        return values, probs, np.cumsum(probs)

    def pmf(self) -> tuple[FloatArray, FloatArray]:
        """(lengths, probabilities): sorted distinct integer lengths >= 1."""
        values, probs, _ = self._table
        return values, probs

    @property
    def mean_tokens(self) -> float:
        values, probs = self.pmf()
        return float(np.dot(values, probs))

    @property
    def max_tokens(self) -> int:
        return int(self.pmf()[0][-1])

    def cdf(self, tokens: ArrayLike) -> FloatArray:
        """P(L <= tokens)."""
        values, _, cum = self._table
        idx = np.searchsorted(values, np.asarray(tokens, dtype=np.float64), side="right")
        return np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0.0)

    def survival(self, tokens: ArrayLike) -> FloatArray:
        """P(L > tokens): the probability a sample is still generating after `tokens` tokens."""
        return np.clip(1.0 - self.cdf(tokens), 0.0, 1.0)

    def quantile_points(self, count: int) -> tuple[FloatArray, FloatArray]:
        """At most `count` (length, probability) points that keep the mean exact.

        The whole pmf when it is small enough; otherwise the conditional mean length of each of
        `count` equal-probability slices.
        """
        values, probs = self.pmf()
        if values.size <= count:
            return values, probs
        _, _, cum = self._table
        slice_of = np.minimum((cum - probs / 2.0) * count, count - 1).astype(int)
        mass = np.bincount(slice_of, weights=probs, minlength=count)
        first = np.bincount(slice_of, weights=probs * values, minlength=count)
        keep = mass > 0
        return first[keep] / mass[keep], mass[keep]

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> NDArray[np.int64]:
        """Random lengths (for Monte-Carlo checks)."""
        values, probs = self.pmf()
        return rng.choice(values.astype(np.int64), size=size, p=probs)

    def capped(self, budget_tokens: int | None) -> LengthDist:
        """Lengths under a generation budget: min(L, budget)."""
        if budget_tokens is None:
            return self
        if budget_tokens < 1:
            raise PerfModelError(f"length budget must be >= 1 token (got {budget_tokens})")
        cache = self.__dict__.setdefault("_capped_cache", {})  # distributions are immutable
        if budget_tokens not in cache:
            values, probs = self.pmf()
            cache[budget_tokens] = self if values[-1] <= budget_tokens else DiscreteLengths.of(
                np.minimum(values, budget_tokens), probs)
        return cache[budget_tokens]


@dataclass(frozen=True, eq=False)
class DiscreteLengths(LengthDist):
    """Any pmf over integer lengths (duplicates are merged)."""

    values: tuple[float, ...]
    probs: tuple[float, ...]

    @classmethod
    def of(cls, values: ArrayLike, probs: ArrayLike) -> DiscreteLengths:
        v = np.asarray(values, dtype=np.float64)
        p = np.asarray(probs, dtype=np.float64)
        if v.size == 0 or v.shape != p.shape:
            raise PerfModelError("a length distribution needs as many probabilities as lengths (at least one)")
        if np.any(v < 1) or np.any(v != np.round(v)):
            raise PerfModelError("generated lengths must be whole numbers of tokens >= 1")
        if np.any(p < 0) or p.sum() <= 0:
            raise PerfModelError("length probabilities must be >= 0 with a positive sum")
        uniq, inverse = np.unique(v, return_inverse=True)
        merged = np.bincount(inverse, weights=p)
        return cls(tuple(uniq.tolist()), tuple((merged / merged.sum()).tolist()))

    def _pmf(self) -> tuple[FloatArray, FloatArray]:
        return np.asarray(self.values, dtype=np.float64), np.asarray(self.probs, dtype=np.float64)


def _check_max(tokens: float, what: str) -> None:
    if tokens > MAX_GENERATION_TOKENS:
        raise PerfModelError(f"{what} {tokens:,.0f} is over the {MAX_GENERATION_TOKENS:,}-token limit of the "
                             "test-time-scaling model (memory grows with it)")


@dataclass(frozen=True)
class FixedLength(LengthDist):
    """Every sample generates exactly `tokens` tokens."""

    tokens: int

    def __post_init__(self) -> None:
        if self.tokens < 1:
            raise PerfModelError(f"generation length must be >= 1 token (got {self.tokens})")
        _check_max(self.tokens, "generation length")

    def _pmf(self) -> tuple[FloatArray, FloatArray]:
        return np.array([float(self.tokens)]), np.array([1.0])


@dataclass(frozen=True, eq=False)
class EmpiricalLengths(LengthDist):
    """Lengths drawn uniformly from observed samples (e.g. measured generations)."""

    tokens: tuple[int, ...]
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.tokens:
            raise PerfModelError(f"{self.source or 'empirical lengths'}: no lengths given")
        if min(self.tokens) < 1:
            raise PerfModelError(f"{self.source or 'empirical lengths'}: lengths must be >= 1 token")
        _check_max(max(self.tokens), f"{self.source or 'empirical lengths'}: generation length")

    @classmethod
    def from_file(cls, path: str | Path) -> EmpiricalLengths:
        """One integer per line, or a CSV with a `generated_tokens` column."""
        p = Path(path)
        if not is_file(p):
            raise PerfModelError(f"{p}: file not found; give a file of generated lengths (one per line)")
        text = read_text_file(p, limit=MAX_TABLE_BYTES).strip().splitlines()
        if not text:
            raise PerfModelError(f"{p}: empty file; give one generated length per line")
        try:
            if "generated_tokens" in text[0]:
                rows = csv.DictReader(text)
                tokens = [int(float(r["generated_tokens"])) for r in rows]
            else:
                tokens = [int(float(line.split(",")[0])) for line in text if line.strip()]
        except (ValueError, KeyError) as exc:
            raise PerfModelError(f"{p}: not a list of token counts ({exc}); one integer per line") from None
        return cls(tuple(tokens), source=str(p))

    def _pmf(self) -> tuple[FloatArray, FloatArray]:
        values, counts = np.unique(np.asarray(self.tokens, dtype=np.float64), return_counts=True)
        return values, counts.astype(np.float64)


@dataclass(frozen=True)
class LognormalLengths(LengthDist):
    """Lognormal lengths with the given median and log-space sigma, discretized to integers.

    Mass below 1.5 tokens goes to length 1, mass beyond `max_tokens` to `max_tokens` (a sample
    that would run longer is cut at the model's limit).
    """

    median_tokens: float
    sigma: float = 0.5
    max_tokens_cap: int = 32768

    def __post_init__(self) -> None:
        if not (self.median_tokens >= 1 and self.sigma > 0 and self.max_tokens_cap >= 1):
            raise PerfModelError("lognormal lengths need median_tokens >= 1, sigma > 0 and max_tokens_cap >= 1")
        if not math.isfinite(self.sigma):
            raise PerfModelError(f"lognormal sigma must be finite (got {self.sigma})")
        _check_max(self.median_tokens, "median generation length")
        _check_max(self.max_tokens_cap, "max_tokens_cap")

    def _pmf(self) -> tuple[FloatArray, FloatArray]:
        k = np.arange(1, self.max_tokens_cap + 1, dtype=np.float64)
        upper = ndtr((np.log(k + 0.5) - np.log(self.median_tokens)) / self.sigma)
        upper[-1] = 1.0
        probs = np.diff(np.concatenate([[0.0], upper]))
        keep = probs > 0
        return k[keep], probs[keep]


def as_lengths(value: int | LengthDist) -> LengthDist:
    """An int means a fixed length."""
    return FixedLength(int(value)) if isinstance(value, (int, np.integer)) else value
