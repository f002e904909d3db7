"""Tables the cost core reads from the eager benchmark: GEMM, attention and glue rates on their grids.

Background load only ever adds time, and each kernel's time cannot fall as its work grows; so a
point's time is floored by the times of larger points (a running minimum from the largest down),
and for GEMMs and prefill attention capped by smaller points scaled by the FLOP ratio (efficiency
does not fall with size), which repairs a disturbed point from its neighbours without smoothing
undisturbed ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from perfmodel.probe.bundle import Sample


def monotone_floor(times_s: Sequence[float], work: Sequence[float] | None = None) -> list[float]:
    """Times ordered by growing work, each replaced by the least time at that work or more.

    With `work`, also the cost per unit of work may not grow with the work (a kernel does not get
    less efficient on a bigger problem of the same shape family): a point's time is capped by a
    smaller point's time scaled by the work ratio. That repairs disturbed large points.
    """
    t = np.minimum.accumulate(np.asarray(times_s, dtype=np.float64)[::-1])[::-1]
    if work is not None:
        w = np.asarray(work, dtype=np.float64)
        t = w * np.minimum.accumulate(t / w)
        t = np.minimum.accumulate(t[::-1])[::-1]
    return [float(x) for x in t]


def _sig(x: float) -> float:
    return float(f"{x:.4g}")


def _by(samples: list[Sample], kernel: str, outer: str, inner: str, stat: str, scale_work: bool = False
        ) -> dict[int, list[tuple[int, Sample, float]]]:
    """{outer value: [(inner value, sample, floored seconds)] sorted by inner}, floored along inner."""
    groups: dict[int, list[Sample]] = {}
    for s in samples:
        if s.kernel == kernel:
            groups.setdefault(int(s.params[outer]), []).append(s)
    out = {}
    for key, group in sorted(groups.items()):
        group.sort(key=lambda s: int(s.params[inner]))
        work = [s.flops for s in group] if scale_work and all(s.flops > 0 for s in group) else None
        floored = monotone_floor([s.seconds(stat) for s in group], work)
        out[key] = [(int(s.params[inner]), s, t) for s, t in zip(group, floored, strict=True)]
    return out


def _fill(table: dict[int, dict[int, float]]) -> dict[int, dict[int, float]]:
    """Complete a ragged {a: {b: rate}} grid: a missing b takes the rate of the nearest measured b."""
    bs = sorted({b for row in table.values() for b in row})
    full = {}
    for a, row in table.items():
        have = sorted(row)
        full[a] = {b: row[b] if b in row else row[min(have, key=lambda h: abs(np.log(h / b)))] for b in bs}
    return full


def gemm_table(samples: list[Sample], stat: str, kernel: str = "linear") -> dict[str, dict[str, dict[int, float]]]:
    """{dtype: {"k<in>": {rows: weight GB/s}}} of `F.linear` over rows, floored along rows.

    `kernel` "linear" is the layers' feed-forward-shaped weights, "lm_head" the vocabulary-wide output
    projection.
    """
    out: dict[str, dict[str, dict[int, float]]] = {}
    for dtype in sorted({str(s.params["dtype"]) for s in samples if s.kernel == kernel}):
        mine = [s for s in samples if s.kernel == kernel and s.params["dtype"] == dtype]
        for k, rows in _by(mine, kernel, "k", "m", stat, scale_work=True).items():
            out.setdefault(dtype, {})[f"k{k}"] = {m: _sig(s.bytes / t / 1e9) for m, s, t in rows}
    return out


def attention_tables(samples: list[Sample], stat: str) -> dict[str, Any]:
    """Prefill GFLOP/s by batch and length; decode KV GB/s by batch and context (both floored)."""
    out: dict[str, Any] = {}
    prefill = {b: {s_: _sig(s.flops / t / 1e9) for s_, s, t in rows}
               for b, rows in _by(samples, "sdpa_prefill", "batch", "seq", stat, scale_work=True).items()}
    if prefill:
        out["attention_prefill_gflops"] = _fill(prefill)
    decode = {b: {c: _sig(s.bytes / t / 1e9) for c, s, t in rows}
              for b, rows in _by(samples, "sdpa_decode", "batch", "context", stat).items()}
    if decode:
        out["attention_decode_kv_gb_s"] = _fill(decode)
    return out


def glue_ns_per_element(samples: list[Sample], stat: str, min_tokens: int = 512) -> dict[str, float]:
    """Nanoseconds per element of each glue kind: the least over its larger (floored) points."""
    out = {}
    for kind in ("norm", "rope", "act"):
        mine = sorted((s for s in samples if s.kernel == f"glue_{kind}"), key=lambda s: int(s.params["tokens"]))
        if not mine:
            continue
        floored = monotone_floor([s.seconds(stat) for s in mine])
        per = [t / s.bytes for s, t in zip(mine, floored, strict=True) if int(s.params["tokens"]) >= min_tokens]
        if per:
            out[kind] = _sig(float(np.min(per)) * 1e9)
    return out


def fresh_allocation(samples: list[Sample], stat: str) -> dict[str, float]:
    """Extra ns per byte of writing a fresh tensor, from the largest size measured, and the size it starts at.

    The smaller size counts as free when its extra cost is under a quarter of the larger one's (the
    allocator reuses memory there); the threshold is then the allocator's, else every size pays.
    """
    extra: dict[int, float] = {}
    for mib in sorted({int(s.params["mib"]) for s in samples if s.kernel == "alloc"}):
        pair = {int(s.params["fresh"]): s for s in samples if s.kernel == "alloc" and int(s.params["mib"]) == mib}
        if 0 in pair and 1 in pair:
            extra[mib] = max(0.0, pair[1].seconds(stat) - pair[0].seconds(stat)) / pair[1].bytes
    if not extra:
        return {}
    largest = max(extra)
    per_byte = extra[largest]
    below = [m for m in extra if m < largest and extra[m] < 0.25 * per_byte]
    min_bytes = float(MMAP_THRESHOLD_MAX_BYTES if below and max(below) * 2**20 <= MMAP_THRESHOLD_MAX_BYTES else 0)
    return {"ns_per_byte": _sig(per_byte * 1e9), "min_bytes": min_bytes}


MMAP_THRESHOLD_MAX_BYTES = 32 * 2**20
"""glibc's largest dynamic mmap threshold on 64-bit systems: every larger allocation maps fresh pages."""


def spread(samples: list[Sample]) -> dict[str, float]:
    """How disturbed the timings were: p90 ÷ min of each point, median and worst."""
    ratios = sorted(s.p90_s / min(s.times_s) for s in samples if s.times_s)
    if not ratios:
        return {}
    return {"p90_over_min_median": _sig(ratios[len(ratios) // 2]), "p90_over_min_worst": _sig(ratios[-1]),
            "points": len(ratios)}


def eager_calibration(samples: list[Sample], stat: str) -> dict[str, Any]:
    """The `calibration.eager` section (attention, glue, spread) and the GEMM tables, or {} without samples."""
    if not samples:
        return {}
    eager: dict[str, Any] = attention_tables(samples, stat)
    glue = glue_ns_per_element(samples, stat)
    if glue:
        eager["elementwise_ns_per_element"] = glue
    fresh = fresh_allocation(samples, stat)
    if fresh:
        eager["fresh_allocation"] = fresh
    eager["timing_spread"] = spread(samples)
    eager["statistic"] = stat
    out = {"eager": eager, "gemm_weight_gb_s": gemm_table(samples, stat)}
    lm_head = gemm_table(samples, stat, "lm_head")
    if lm_head:
        out["lm_head_weight_gb_s"] = lm_head
    return out
