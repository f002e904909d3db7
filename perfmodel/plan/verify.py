"""Stage 2: verify a screened configuration by simulation (bisection on load under the SLOs, then the
whole deployment at the planned load), cached by configuration hash."""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from perfmodel.errors import PerfModelError
from perfmodel.plan.scenario import build_scenario
from perfmodel.plan.spec import PlanSpec
from perfmodel.sim import simulate
from perfmodel.specs.loader import is_file

BRACKET_FACTOR = 2.0
"""Step of the search for a load bracket (one load that meets the SLOs, one that misses) around the screen."""
BRACKET_STEPS = 3
"""Most steps of BRACKET_FACTOR up (the screen was pessimistic) or down (optimistic) before giving up."""
EXTRA_UNITS = 2
"""Units added, one at a time, when the whole deployment misses at the bisected per-unit load."""


def default_cache_dir() -> Path:
    """`$PERFMODEL_CACHE/plan`, else `~/.cache/perfmodel/plan`."""
    root = os.environ.get("PERFMODEL_CACHE")
    return Path(root).expanduser() / "plan" if root else Path.home() / ".cache" / "perfmodel" / "plan"


def _bootstrap_ci(values: np.ndarray, q: float, n: int, seed: int) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if n == 0 or values.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = np.percentile(values[rng.integers(0, values.size, (n, values.size))], q, axis=1)
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def _measure(scenario, bootstrap: int) -> dict[str, Any]:
    """Simulate and keep what the plan needs (percentiles, attainment, throughput, 95% CIs of p99s)."""
    res = simulate(scenario)
    s = res.summary
    out: dict[str, Any] = {"requests": s["requests"], "completed": s["completed"], "rejected": s["rejected"],
                           "slo_attainment": s["slo_attainment"], "duration_s": s["duration_s"],
                           "output_tokens_per_s": s["throughput"]["output_tokens_per_s"],
                           "requests_per_s": s["throughput"]["requests_per_s"],
                           "goodput_requests_per_s": s["goodput_requests_per_s"]}
    for m in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
        for q in ("mean", "p50", "p90", "p99"):
            out[f"{m}_{q}"] = s[m][q]
    if bootstrap:
        req = res.requests
        for m in ("ttft_s", "tpot_s", "e2e_s"):
            lo, hi = _bootstrap_ci(req[m].to_numpy(np.float64), 99.0, bootstrap, scenario.seed)
            out[f"{m}_p99_ci_low"], out[f"{m}_p99_ci_high"] = lo, hi
    return out


def cached_measure(scenario, bootstrap: int, cache_dir: Path | None) -> dict[str, Any]:
    """`_measure`, memoized on disk by the hash of the scenario (configuration, workload, load, seed)."""
    key = hashlib.sha256(json.dumps([scenario.model_dump(mode="json"), bootstrap], sort_keys=True,
                                    default=str).encode()).hexdigest()[:20]
    path = cache_dir / f"{key}.json" if cache_dir is not None else None
    if path is not None and is_file(path):
        return json.loads(path.read_text())
    out = _measure(scenario, bootstrap)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(out, default=float))
        tmp.replace(path)
    return out


def miss(spec: PlanSpec, m: dict[str, Any]) -> tuple[float, str]:
    """Worst ratio of a simulated metric to its SLO (<= 1 meets it) and a description of the misses."""
    worst, notes = 0.0, []
    for metric, q, limit in spec.slo.constraints():
        value = m.get(f"{metric}_{q}")
        ratio = float("inf") if value is None or not math.isfinite(value) else value / limit
        worst = max(worst, ratio)
        if ratio > 1.0:
            notes.append(f"{metric} {q} {value:.3g}s vs {limit:.3g}s (+{(ratio - 1) * 100:.0f}%)")
    if m["slo_attainment"] < spec.slo.attainment:
        notes.append(f"attainment {m['slo_attainment']:.1%} < {spec.slo.attainment:.1%}")
        worst = max(worst, spec.slo.attainment / max(m["slo_attainment"], 1e-9))
    if m["rejected"] or m["completed"] < m["requests"]:
        notes.append(f"{m['requests'] - m['completed']} requests not completed")
        worst = max(worst, 1.0 + 1e-9)
    return worst, "; ".join(notes)


def _units(planned: float, per_unit: float) -> int:
    return max(math.ceil(planned / per_unit - 1e-9), 1)


def search_unit_load(unit_ok, start: float, planned: float, *, steps: int, tolerance: float,
                     integer: bool = False) -> tuple[float, float, list[float]]:
    """Largest per-unit load meeting the SLOs, bracketed from the screen's estimate `start`.

    `unit_ok(load) -> bool` simulates one unit. Returns (lo, hi, tried): lo the largest load that met the
    SLOs (0 if none did), hi the smallest that missed (inf if none did). The bracket comes from `start`,
    then the planned per-unit loads planned/u (u units), then the bracket's middle: up to `steps` simulations
    after the bracket, stopping early once it decides the unit count and is narrower than `tolerance` × lo.
    `integer`: loads are whole numbers (requests in flight)."""
    tried: list[float] = []

    def ok(load: float) -> bool:
        tried.append(load)
        return unit_ok(load)

    def snap(x: float) -> float:
        return float(max(int(x), 1)) if integer else x

    lo, hi = 0.0, math.inf
    # first the per-unit load of the screen's unit count: it decides whether that many units suffice
    x = snap(planned / _units(planned, start))
    if ok(x):
        lo = x
        for _ in range(BRACKET_STEPS):
            # up to the load of one unit fewer, or (one unit already) BRACKET_FACTOR above the screen
            units = _units(planned, lo)
            y = snap(min(lo * BRACKET_FACTOR, planned / (units - 1)) if units > 1 else
                     max(start, lo) * BRACKET_FACTOR)
            if y <= lo:
                break
            if ok(y):
                lo = y
            else:
                hi = y
                break
    else:
        hi = x
        for _ in range(BRACKET_STEPS):
            y = snap(hi / BRACKET_FACTOR)
            if y >= hi:
                break
            if ok(y):
                lo = y
                break
            hi = y
    if lo <= 0 or math.isinf(hi):
        return lo, hi, tried
    for _ in range(steps):
        units = _units(planned, lo)
        fewest = math.floor(planned / hi) + 1  # every load below hi needs at least this many units
        if units <= fewest and hi - lo <= tolerance * lo:
            break
        # undecided: the per-unit load of the unit count nearest the bracket's middle; else the middle
        aim = min(max(math.ceil(planned / ((lo + hi) / 2.0)), fewest), units - 1)
        mid = snap(planned / aim) if units > fewest else hi
        if not lo < mid < hi:
            mid = snap((lo + hi) / 2.0)
            if not lo < mid < hi:
                break
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi, tried


def verify_config(spec_data: dict[str, Any], config: dict[str, Any], planned_load: float, screen_load: float,
                  cache_dir: str | None) -> dict[str, Any]:
    """Find the largest per-unit load that meets the SLOs (:func:`search_unit_load`, from the screen's
    estimate), size the deployment, simulate it at the planned load. Pure function of its arguments
    (seeded); runs in a worker process or as a Ray task."""
    from perfmodel.plan.spec import load_plan_spec

    spec = load_plan_spec(spec_data)
    v = spec.verify
    cache = Path(cache_dir) if cache_dir else None
    closed = spec.traffic.concurrency is not None
    last = {"worst": math.inf, "note": "no simulation ran"}
    misses: dict[float, tuple[float, str]] = {}

    def unit_ok(load: float) -> bool:
        sc = build_scenario(spec, config, 1, load, v.bisect_requests, v.seed)
        worst, note = miss(spec, cached_measure(sc, 0, cache))
        if worst > 1.0:
            misses[load] = (worst, note)
        return worst <= 1.0

    try:
        start = max(screen_load, 1.0 if closed else 1e-3)
        lo, hi, _ = search_unit_load(unit_ok, start, planned_load, steps=v.bisect_steps,
                                     tolerance=v.bisect_tolerance, integer=closed)
        if hi in misses:
            last["worst"], last["note"] = misses[hi]
        if lo <= 0:
            return {"verified": True, "feasible": False, "sim_max_load_per_unit": 0.0,
                    "reason": f"SLO miss in simulation at every load tried: {last['note']}",
                    "closest_ratio": last["worst"]}
        units = _units(planned_load, lo)
        for extra in range(EXTRA_UNITS + 1):
            sc = build_scenario(spec, config, units + extra, planned_load, v.requests, v.seed)
            m = cached_measure(sc, v.bootstrap, cache)
            worst, note = miss(spec, m)
            if worst <= 1.0:
                return {"verified": True, "feasible": True, "units": units + extra, "sim_max_load_per_unit": lo,
                        "reason": "", "closest_ratio": worst, "sim": m}
        return {"verified": True, "feasible": False, "units": units + EXTRA_UNITS, "sim_max_load_per_unit": lo,
                "reason": f"whole deployment misses at the planned load: {note}", "closest_ratio": worst, "sim": m}
    except PerfModelError as exc:
        return {"verified": True, "feasible": False, "sim_max_load_per_unit": 0.0,
                "reason": f"does not fit: {exc}", "closest_ratio": float("inf")}
