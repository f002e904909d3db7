"""GEMM over a shape grid, in the nn.Linear layout (x @ Wᵀ) inference engines use.

Skinny decode shapes (M = 1…256 tokens over weights ~4× the last-level cache, so they stream from
DRAM, with 512, 2048 and ~6000 input features: a one-row GEMV's streaming rate grows with the row
length), prefill shapes (M = 256, 2048 over layer-sized weights) and squares up to the per-point cap.
"""

from __future__ import annotations

import math
from typing import Any

from perfmodel.probe.backends import DTYPE_BYTES, Backend
from perfmodel.probe.bench import predicted_s, spread_order
from perfmodel.probe.bundle import Sample
from perfmodel.probe.context import BenchContext
from perfmodel.probe.env import last_level_cache_bytes

NAME = "gemm"
SHARE = 0.15
DECODE_ROWS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
SKINNY_IN_FEATURES = (512, 2048)  # besides the square DRAM-sized weight
PREFILL_ROWS = (256, 2048)
PREFILL_WEIGHTS = ((1024, 1024), (3072, 1024), (1024, 3072), (4096, 4096))  # (out, in) features
SQUARE_SIZES = (128, 256, 512, 1024, 2048, 4096, 8192, 16384)


def weight_dim(llc_bytes: int, dtype: str) -> int:
    """Square weight side whose bytes are ~4× the last-level cache (so it streams from DRAM)."""
    side = math.sqrt(4 * llc_bytes / DTYPE_BYTES[dtype])
    return int(min(16384, max(1024, round(side / 256) * 256)))


def skinny_weights(llc_bytes: int, dtype: str) -> list[tuple[int, int]]:
    """(out, in) features of the DRAM-sized weights the skinny shapes stream."""
    w = weight_dim(llc_bytes, dtype)
    out = [(int(min(131072, max(1024, round(4 * llc_bytes / (k * DTYPE_BYTES[dtype]) / 256) * 256))), k)
           for k in SKINNY_IN_FEATURES]
    return [*out, (w, w)]


def shapes(backend: Backend, env: dict[str, Any]) -> list[tuple[str, int, int, int]]:
    """(dtype, m, n, k) points, each dtype's list ordered so any prefix spans the grid."""
    llc = last_level_cache_bytes(env)
    points = []
    for dtype in backend.gemm_dtypes():
        grid = [(dtype, m, n, k) for n, k in skinny_weights(llc, dtype) for m in DECODE_ROWS]
        grid += [(dtype, s, s, s) for s in SQUARE_SIZES]
        grid += [(dtype, m, n, k) for m in PREFILL_ROWS for n, k in PREFILL_WEIGHTS]
        points += spread_order(grid)
    return points


def gemm_work(m: int, n: int, k: int, dtype: str) -> tuple[float, float]:
    """FLOPs and minimum bytes (A, B read once, C written once) of an m×k by k×n product."""
    out_bytes = 4 if dtype == "int8" else DTYPE_BYTES[dtype]  # int8 GEMMs accumulate into int32
    return 2.0 * m * n * k, float((m * k + k * n) * DTYPE_BYTES[dtype] + m * n * out_bytes)


def run(ctx: BenchContext) -> None:
    """Time every shape that fits in the per-point cap; skip shapes predicted to be too slow."""
    by_dtype: dict[str, list[Sample]] = {}
    for dtype, m, n, k in shapes(ctx.backend, ctx.env):
        flops, byts = gemm_work(m, n, k, dtype)
        done = by_dtype.setdefault(dtype, [])
        if predicted_s(flops, byts, [(s.flops, s.bytes, s.median_s) for s in done]) > ctx.policy.max_call_s:
            ctx.skip()
            continue
        ctx.check_time()
        try:
            fn = ctx.backend.gemm(m, n, k, dtype)
        except (RuntimeError, ValueError) as exc:  # a shape this dtype's kernel does not support
            ctx.result.note += f"{dtype} {m}x{n}x{k} unsupported ({str(exc).splitlines()[0][:80]}); "
            ctx.skip()
            continue
        done.append(ctx.measure("gemm", fn, flops=flops, bytes=byts, dtype=dtype, m=m, n=n, k=k))


def skinny_weight_rates(samples: list[Sample], stat: str = "median") -> dict[str, dict[str, dict[int, float]]]:
    """Weight bytes streamed per second by skinny GEMMs: {dtype: {"k<in>": {rows: B/s}}} (rows ≤ 256)."""
    table: dict[str, dict[str, dict[int, float]]] = {}
    for s in samples:
        m, n, k, dtype = (int(s.params["m"]), int(s.params["n"]), int(s.params["k"]), str(s.params["dtype"]))
        if m <= max(DECODE_ROWS) and n * k * DTYPE_BYTES[dtype] >= (64 << 20):
            table.setdefault(dtype, {}).setdefault(f"k{k}", {})[m] = n * k * DTYPE_BYTES[dtype] / s.seconds(stat)
    return {d: {k: dict(sorted(v.items())) for k, v in sorted(t.items()) if len(v) >= 3} for d, t in table.items()}


def summarize(samples: list[Sample]) -> dict[str, Any]:
    """Best achieved FLOP/s per dtype and the skinny GEMMs' weight-streaming rates."""
    best: dict[str, float] = {}
    for s in samples:
        best[str(s.params["dtype"])] = max(best.get(str(s.params["dtype"]), 0.0), s.flops_per_s)
    return {"best_flops_per_s": best, "skinny_weight_bytes_per_s": skinny_weight_rates(samples)}
