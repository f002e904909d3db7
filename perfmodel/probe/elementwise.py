"""Elementwise and norm kernels (residual add, gated activation, RMSNorm, softmax) over row counts."""

from __future__ import annotations

from typing import Any

from perfmodel.probe.backends import DTYPE_BYTES, ELEMENTWISE_KERNELS, ELEMENTWISE_WORK, Backend
from perfmodel.probe.bench import spread_order
from perfmodel.probe.bundle import Sample
from perfmodel.probe.context import BenchContext

NAME = "elementwise"
SHARE = 0.05
ROWS = (1, 8, 64, 512, 4096)
COLS = 4096


def points(backend: Backend) -> list[tuple[str, str, int]]:
    dtypes = [d for d in backend.gemm_dtypes() if d in ("fp32", "bf16", "fp16")][:2]
    if backend.name == "numpy":
        dtypes = ["fp32"]
    return [(kernel, dtype, rows) for dtype in dtypes for rows in spread_order(ROWS) for kernel in ELEMENTWISE_KERNELS]


def run(ctx: BenchContext) -> None:
    for kernel, dtype, rows in points(ctx.backend):
        ctx.check_time()
        flops_per, arrays = ELEMENTWISE_WORK[kernel]
        elements = rows * COLS
        fn = ctx.backend.elementwise(kernel, rows, COLS, dtype)
        ctx.measure(kernel, fn, flops=flops_per * elements, bytes=arrays * elements * DTYPE_BYTES[dtype],
                    dtype=dtype, rows=rows, cols=COLS)


def summarize(samples: list[Sample]) -> dict[str, Any]:
    """Per kernel: seconds at one row (overhead-bound) and the best bandwidth."""
    summary: dict[str, Any] = {}
    for s in samples:
        cur = summary.setdefault(f"{s.kernel}_{s.params['dtype']}", {"one_row_s": None, "best_bytes_per_s": 0.0})
        if s.params["rows"] == 1:
            cur["one_row_s"] = s.median_s
        cur["best_bytes_per_s"] = max(cur["best_bytes_per_s"], s.bytes_per_s)
    return summary
