"""Memory bandwidth: read, copy and triad over sizes from cache-resident to DRAM-sized."""

from __future__ import annotations

from typing import Any

import numpy as np

from perfmodel.probe.backends import STREAM_KERNELS, STREAM_TRAFFIC, Backend
from perfmodel.probe.bench import spread_order
from perfmodel.probe.bundle import Sample
from perfmodel.probe.context import BenchContext
from perfmodel.probe.env import last_level_cache_bytes

NAME = "memory"
SHARE = 0.1
MIN_BYTES = 16 << 10
MAX_BYTES = 1 << 30


def sizes(env: dict[str, Any]) -> list[int]:
    """Powers of two from 16 KiB to 8× the last-level cache (at least 256 MiB, at most 1 GiB)."""
    top = min(MAX_BYTES, max(256 << 20, 8 * last_level_cache_bytes(env)))
    return [1 << p for p in range(int(np.log2(MIN_BYTES)), int(np.log2(top)) + 1)]


def points(backend: Backend, env: dict[str, Any]) -> list[tuple[str, int]]:
    grid = spread_order(sizes(env))
    return [(kernel, size) for size in grid for kernel in STREAM_KERNELS]


def run(ctx: BenchContext) -> None:
    for kernel, size in points(ctx.backend, ctx.env):
        ctx.check_time()
        fn = ctx.backend.stream(kernel, size)
        ctx.measure(kernel, fn, bytes=STREAM_TRAFFIC[kernel] * size, array_bytes=size)


def summarize(samples: list[Sample]) -> dict[str, Any]:
    """Per kernel: the best bandwidth (cache) and the bandwidth at the largest size (DRAM)."""
    summary: dict[str, Any] = {}
    for kernel in STREAM_KERNELS:
        mine = sorted((s for s in samples if s.kernel == kernel), key=lambda s: s.params["array_bytes"])
        if mine:
            summary[kernel] = {"peak_bytes_per_s": max(s.bytes_per_s for s in mine),
                               "largest_bytes_per_s": mine[-1].bytes_per_s,
                               "largest_array_bytes": mine[-1].params["array_bytes"]}
    return summary
