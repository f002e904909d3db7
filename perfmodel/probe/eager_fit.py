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


def gemm_table(samples: list[Sample], stat: str) -> dict[str, dict[str, dict[int, float]]]:
    """{dtype: {"k<in>": {rows: weight GB/s}}} of `F.linear` over rows, floored along rows."""
    out: dict[str, dict[str, dict[int, float]]] = {}
    for dtype in sorted({str(s.params["dtype"]) for s in samples if s.kernel == "linear"}):
        mine = [s for s in samples if s.kernel == "linear" and s.params["dtype"] == dtype]
        for k, rows in _by(mine, "linear", "k", "m", stat, scale_work=True).items():
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


def spread(samples: list[Sample]) -> dict[str, float]:
    """How disturbed the timings were: p90 ÷ min of each point, median and worst."""
    ratios = sorted(s.p90_s / min(s.times_s) for s in samples if s.times_s)
    if not ratios:
        return {}
    return {"p90_over_min_median": _sig(ratios[len(ratios) // 2]), "p90_over_min_worst": _sig(ratios[-1]),
            "points": len(ratios)}


def eager_calibration(samples: list[Sample], stat: str) -> dict[str, Any]:
    """The `calibration.eager` section (attention, glue, spread) and the GEMM table, or {} without samples."""
    if not samples:
        return {}
    eager: dict[str, Any] = attention_tables(samples, stat)
    glue = glue_ns_per_element(samples, stat)
    if glue:
        eager["elementwise_ns_per_element"] = glue
    eager["timing_spread"] = spread(samples)
    eager["statistic"] = stat
    return {"eager": eager, "gemm_weight_gb_s": gemm_table(samples, stat)}
