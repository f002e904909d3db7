"""Attention: causal prefill and one-query decode over growing KV, over contexts and head counts."""

from __future__ import annotations

from typing import Any

from perfmodel.probe.backends import DTYPE_BYTES, Backend
from perfmodel.probe.bench import predicted_s, spread_order
from perfmodel.probe.bundle import Sample
from perfmodel.probe.context import BenchContext

NAME = "attention"
SHARE = 0.05
HEAD_DIM = 128
HEADS = ((8, 8), (32, 8))  # (query heads, KV heads): MHA and a GQA group of 4
PREFILL_CONTEXTS = (128, 256, 512, 1024, 2048, 4096)
DECODE_CONTEXTS = (256, 1024, 4096, 16384)
DECODE_BATCHES = (1, 8)


def attention_work(batch: int, heads: int, kv_heads: int, q_len: int, kv_len: int, head_dim: int,
                   dtype: str) -> tuple[float, float]:
    """FLOPs (QKᵀ and PV over the causal pairs, as the cost core counts them) and bytes (K, V, Q, O)."""
    # prefill queries are the last q_len positions of kv_len, each seeing the keys up to itself
    pairs = float(kv_len) if q_len == 1 else q_len * (kv_len - q_len) + q_len * (q_len + 1) / 2.0
    flops = batch * pairs * 2.0 * heads * 2 * head_dim
    nbytes = batch * (2 * kv_heads * kv_len + 2 * heads * q_len) * head_dim * DTYPE_BYTES[dtype]
    return flops, float(nbytes)


def points(backend: Backend) -> list[tuple[str, str, int, int, int, int, int]]:
    """(phase, dtype, batch, heads, kv_heads, q_len, kv_len) in a coverage-first order."""
    dtypes = [d for d in backend.gemm_dtypes() if d in ("fp32", "bf16", "fp16")][:2]
    if backend.name == "numpy":
        dtypes = ["fp32"]
    out = []
    for dtype in dtypes:
        for heads, kv in HEADS:
            out += spread_order([("prefill", dtype, 1, heads, kv, s, s) for s in PREFILL_CONTEXTS])
            out += spread_order([("decode", dtype, b, heads, kv, 1, s) for s in DECODE_CONTEXTS
                                 for b in DECODE_BATCHES])
    return out


def run(ctx: BenchContext) -> None:
    for phase, dtype, batch, heads, kv, q_len, kv_len in points(ctx.backend):
        flops, nbytes = attention_work(batch, heads, kv, q_len, kv_len, HEAD_DIM, dtype)
        seen = [(s.flops, s.bytes, s.median_s) for s in ctx.result.samples if s.params["dtype"] == dtype]
        if predicted_s(flops, nbytes, seen) > ctx.policy.max_call_s:
            ctx.skip()
            continue
        ctx.check_time()
        fn = ctx.backend.attention(batch, heads, kv, q_len, kv_len, HEAD_DIM, q_len > 1, dtype)
        if fn is None:
            ctx.skip()
            continue
        ctx.measure(f"attention_{phase}", fn, flops=flops, bytes=nbytes, dtype=dtype, batch=batch,
                    heads=heads, kv_heads=kv, q_len=q_len, kv_len=kv_len, head_dim=HEAD_DIM)


def summarize(samples: list[Sample]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for s in samples:
        key = f"{s.kernel}_{s.params['dtype']}"
        cur = summary.setdefault(key, {"best_flops_per_s": 0.0, "best_bytes_per_s": 0.0})
        cur["best_flops_per_s"] = max(cur["best_flops_per_s"], s.flops_per_s)
        cur["best_bytes_per_s"] = max(cur["best_bytes_per_s"], s.bytes_per_s)
    return summary
