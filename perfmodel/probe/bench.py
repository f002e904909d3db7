"""Timing harness: warm-up, adaptive inner loops, repeated timed samples and a shared time budget."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

T = TypeVar("T")
Clock = Callable[[], float]
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter, "thread": time.thread_time}
"""`wall`: elapsed time. `thread`: CPU time of the calling thread — on a shared machine it leaves out
time the OS gave to other processes; meaningful only for single-threaded CPU kernels."""


@dataclass
class Budget:
    """Wall-clock budget of a whole probe; benchmarks get deadlines carved out of it."""

    total_s: float
    start_s: float = field(default_factory=time.perf_counter)

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.start_s

    def remaining_s(self) -> float:
        return max(0.0, self.total_s - self.elapsed_s())

    def exhausted(self) -> bool:
        return self.remaining_s() <= 0.0

    def deadline(self, share: float, shares_left: float) -> float:
        """perf_counter deadline for a benchmark taking `share` of the time the remaining ones share."""
        fraction = share / shares_left if shares_left > 0 else 1.0
        return time.perf_counter() + self.remaining_s() * min(1.0, fraction)


@dataclass(frozen=True)
class Timing:
    """Per-call seconds of one benchmark point (each sample averages `inner` back-to-back calls)."""

    times_s: tuple[float, ...]
    inner: int

    @property
    def median_s(self) -> float:
        return float(np.median(self.times_s))

    @property
    def p10_s(self) -> float:
        return float(np.percentile(self.times_s, 10))

    @property
    def p90_s(self) -> float:
        return float(np.percentile(self.times_s, 90))

    @property
    def min_s(self) -> float:
        return float(np.min(self.times_s))


@dataclass(frozen=True)
class TimingPolicy:
    """How hard to time one point: warm-up calls, timed samples, minimum sample length, per-point cap."""

    warmup: int = 2
    repeats: int = 7
    min_repeats: int = 3
    min_sample_s: float = 2e-3
    max_point_s: float = 2.0
    max_inner: int = 100_000

    @property
    def max_call_s(self) -> float:
        """Longest single call worth timing: a warm-up plus the minimum samples fit in `max_point_s`."""
        return self.max_point_s / (1 + self.min_repeats)


def _sample(fn: Callable[[], object], sync: Callable[[], None], inner: int, clock: Clock) -> float:
    sync()
    start = clock()
    for _ in range(inner):
        fn()
    sync()
    return (clock() - start) / inner


def time_call(fn: Callable[[], object], *, sync: Callable[[], None] = lambda: None,
              policy: TimingPolicy = TimingPolicy(), deadline_s: float | None = None,
              clock: Clock = time.perf_counter) -> Timing:
    """Warm up, pick an inner loop long enough for the timer, then take repeated samples.

    Fewer samples (never under `policy.min_repeats`) are taken when the point would run past
    `policy.max_point_s` or the perf_counter `deadline_s`.
    """
    first = _sample(fn, sync, 1, clock)
    if first > policy.max_call_s:  # too slow to repeat: keep the one call
        return Timing((first,), 1)
    for _ in range(max(0, policy.warmup - 1)):
        first = min(first, _sample(fn, sync, 1, clock))
    first = max(first, 1e-9)
    inner = int(min(policy.max_inner, max(1, math.ceil(policy.min_sample_s / first))))
    allowed_s = policy.max_point_s
    if deadline_s is not None:
        allowed_s = min(allowed_s, max(0.0, deadline_s - time.perf_counter()))
    repeats = int(min(policy.repeats, max(policy.min_repeats, allowed_s // (first * inner))))
    return Timing(tuple(_sample(fn, sync, inner, clock) for _ in range(repeats)), inner)


def predicted_s(flops: float, nbytes: float, seen: Sequence[tuple[float, float, float]]) -> float:
    """Optimistic seconds for a point from the best FLOP/s and B/s seen so far ((flops, bytes, s) triples)."""
    best_flops = max((f / t for f, _, t in seen if f > 0), default=0.0)
    best_bytes = max((b / t for _, b, t in seen if b > 0), default=0.0)
    t_c = flops / best_flops if best_flops else 0.0
    t_m = nbytes / best_bytes if best_bytes else 0.0
    return max(t_c, t_m)


def spread_order(points: Sequence[T]) -> list[T]:
    """Points reordered so every prefix covers the range: ends first, then midpoints, recursively.

    A benchmark cut short by its budget still holds small, large and middle shapes.
    """
    n = len(points)
    if n <= 2:
        return list(points)
    order, seen = [0, n - 1], {0, n - 1}
    intervals = [(0, n - 1)]
    while intervals:
        nxt = []
        for lo, hi in intervals:
            if hi - lo < 2:
                continue
            mid = (lo + hi) // 2
            if mid not in seen:
                order.append(mid)
                seen.add(mid)
            nxt += [(lo, mid), (mid, hi)]
        intervals = nxt
    return [points[i] for i in order]


def time_interleaved(fns: Sequence[Callable[[], object]], *, sync: Callable[[], None] = lambda: None,
                     rounds: int = 5, min_sample_s: float = 2e-3, max_inner: int = 1000,
                     deadline_s: float | None = None, clock: Clock = time.perf_counter) -> list[Timing]:
    """Time several points in rounds (one sample of each per round) instead of back to back.

    A burst of background load then disturbs one sample of many points rather than every sample of
    one point, so a low quantile over the rounds is an unbiased estimate of the undisturbed time.
    Each function is called once (warm-up) before its inner-loop length is chosen. Rounds stop early
    (never under 2) past the perf_counter `deadline_s`.
    """
    inners = []
    for fn in fns:
        first = max(_sample(fn, sync, 1, clock), 1e-9)
        inners.append(int(min(max_inner, max(1, math.ceil(min_sample_s / first)))))
    times: list[list[float]] = [[] for _ in fns]
    for r in range(rounds):
        if r >= 2 and deadline_s is not None and time.perf_counter() > deadline_s:
            break
        for i, fn in enumerate(fns):
            times[i].append(_sample(fn, sync, inners[i], clock))
    return [Timing(tuple(t), inner) for t, inner in zip(times, inners, strict=True)]
