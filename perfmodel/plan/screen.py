"""Stage 1: the analytic screen, vectorized over every candidate.

The closed-loop steady state (:func:`perfmodel.steady_state.closed_loop_batches`) of every distinct
(hardware, scheduler caps, prompt variant) is swept over a grid of per-replica concurrencies for all
candidates at once; its steps, with the prefill and decode steps of the xPyD units, are priced by one
:func:`perfmodel.cost.step_cost` call per hardware group (device, tp, pp, ep, dtypes, engine). Every
candidate is sized with its own caps (KV capacity and memory fit), so grouping changes the speed, never
the answer. The curve of throughput versus latency gives, per candidate, the largest per-replica request
rate whose estimated percentiles meet the SLOs. Percentiles are estimated from the means: TTFT adds an
exponential queueing tail (wait ≈ step·ρ/(1−ρ)), TPOT a 10% spread per standard score, E2E the
output-length quantile. The screen only ranks and prunes; stage 2 simulates the survivors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from perfmodel.analytic import uncertainty
from perfmodel.cost.batch import BatchStats
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import load_engine
from perfmodel.cost.step import step_cost
from perfmodel.errors import PerfModelError
from perfmodel.plan.spec import PlanSpec
from perfmodel.plan.workload import WorkloadShape
from perfmodel.sim.kv import kv_capacity_blocks
from perfmodel.specs.catalog import load_model, resolve_system
from perfmodel.steady_state import closed_loop_batches
from perfmodel.strategies.speculative import tokens_per_verify

GRID = np.unique(np.round(np.geomspace(1, 4096, 40)))
"""Per-replica concurrencies swept (requests in flight)."""
MAX_UTILIZATION = 0.95
Z = {"p50": 0.0, "p90": 1.2816, "p99": 2.3263}
TPOT_SPREAD = 0.10
BLOCK_SIZE = 16
"""KV-cache block size (tokens) of the memory model, as in :func:`perfmodel.steady_state`."""


@dataclass(frozen=True)
class Curve:
    """Per-candidate operating curves over GRID (arrays shaped (candidates, len(GRID)))."""

    rate: np.ndarray
    ttft_mean: np.ndarray
    tpot_mean: np.ndarray
    step: np.ndarray
    capacity: np.ndarray


def _tail(q: str) -> float:
    return -math.log(1.0 - {"p50": 0.5, "p90": 0.9, "p99": 0.99}[q])


def quantiles(curve: Curve, shape: WorkloadShape, open_loop: bool = True) -> dict[tuple[str, str], np.ndarray]:
    """Estimated (metric, quantile) -> seconds over the curve (closed loops have no arrival queue)."""
    rho = np.clip(curve.rate / np.maximum(curve.capacity[:, None], 1e-300), 0.0, 0.999)
    wait = curve.step * rho / (1.0 - rho) if open_loop else np.zeros_like(curve.rate)
    out = {}
    for q in ("p50", "p90", "p99"):
        ttft = curve.ttft_mean + wait * _tail(q)
        tpot = curve.tpot_mean * (1.0 + TPOT_SPREAD * Z[q])
        out[("ttft_s", q)] = ttft
        out[("tpot_s", q)] = tpot
        out[("itl_s", q)] = tpot
        out[("e2e_s", q)] = ttft + curve.tpot_mean * max(shape.output_quantile(q) - 1.0, 0.0)
    return out


KEYS = ["device", "tp", "pp", "ep", "weight_dtype", "kv_dtype", "engine"]
"""Candidates that agree on these run on the same hardware: their steps share one `step_cost` call."""
COLUMNS = ("max_num_seqs", "max_num_batched_tokens", "prefix_caching", "prefill_workers", "decode_workers",
           "speculative")


def _concat(parts: list[BatchStats]) -> tuple[BatchStats, list[slice]]:
    """One flat BatchStats of every part's steps and where each part lies in it."""
    names = [f.name for f in fields(BatchStats)]
    flat, sizes = [], []
    for b in parts:
        values = [np.asarray(getattr(b, k)) for k in names]
        shape = np.broadcast_shapes(*(v.shape for v in values))
        flat.append({k: np.broadcast_to(v, shape).ravel() for k, v in zip(names, values, strict=True)})
        sizes.append(int(np.prod(shape)))
    ends = np.cumsum(sizes)
    where = [slice(int(e - n), int(e)) for e, n in zip(ends, sizes, strict=True)]
    return BatchStats(**{k: np.concatenate([d[k] for d in flat]) for k in names}), where


@dataclass
class _Hardware:
    """One group's resolved hardware (None fields when it does not fit)."""

    system: object
    prec: Precision
    par: Parallelism
    eng: object


def _resolve_groups(keys: np.ndarray, arch, agg: np.ndarray, agg_bounds: np.ndarray):
    """Per group its resolved hardware (None when it cannot run the model at all); per distinct
    (group, max_num_seqs, budget, prompt) of `agg` the KV blocks of one replica with those caps, the
    engine's request overhead and a 'does not fit' reason where not one block fits."""
    engines: dict[str, object] = {}
    systems: dict[tuple[str, int], object] = {}
    precisions: dict[tuple[str, str], Precision] = {}
    hardware: list[_Hardware | None] = []
    reasons = np.full(len(agg), "", dtype=object)
    blocks = np.ones(len(agg))
    overhead = np.zeros(len(agg))
    for k, (device, tp, pp, ep, weight, kv, engine) in enumerate(keys):
        eng = engines.get(engine) or engines.setdefault(engine, load_engine(engine))
        par = Parallelism(tp=int(tp), pp=int(pp), ep=int(ep))
        part = slice(int(agg_bounds[k]), int(agg_bounds[k + 1]))
        try:
            par.check_for(arch)
            system = systems.get((device, par.num_devices)) or systems.setdefault(
                (device, par.num_devices), resolve_system(device, par.num_devices))
            prec = precisions.get((weight, kv)) or precisions.setdefault((weight, kv), Precision.of(weight, None, kv))
        except PerfModelError as exc:
            hardware.append(None)
            reasons[part] = f"does not fit: {exc}"
            continue
        hardware.append(_Hardware(system, prec, par, eng))
        overhead[part] = eng.request_overhead_s
        caps = {}
        for j in range(part.start, part.stop):
            key = (int(agg[j, 2]), int(agg[j, 1]))
            if key not in caps:
                try:
                    caps[key] = (float(kv_capacity_blocks(arch, system, prec, par, eng, block_size=BLOCK_SIZE,
                                                          step_tokens=key[0], max_seqs=key[1])[0]), "")
                except PerfModelError as exc:
                    caps[key] = (1.0, f"does not fit: {exc}")
            blocks[j], reasons[j] = caps[key]
        if all(reason for _, reason in caps.values()):
            hardware[-1] = None  # nothing of this group fits: nothing to price
    return hardware, reasons, blocks, overhead


def _band(hw: _Hardware) -> float:
    rel = uncertainty(hw.eng, hw.system.device)["rel"]
    return np.nan if rel is None else float(rel)


def _price(steps: BatchStats, step_group: np.ndarray, hardware: list[_Hardware | None], arch) -> np.ndarray:
    """Seconds of every step: one `step_cost` call per group on its own hardware (NaN where it cannot run).
    A step identical to the one before it (past saturation the swept batches repeat) is priced once."""
    names = [f.name for f in fields(BatchStats)]
    values = {k: np.asarray(getattr(steps, k)) for k in names}
    n = len(step_group)
    repeat = np.zeros(n, dtype=bool)
    if n > 1:
        repeat[1:] = step_group[1:] == step_group[:-1]
        for v in values.values():
            repeat[1:] &= v[1:] == v[:-1]
    kept = np.flatnonzero(~repeat)
    order = kept[np.argsort(step_group[kept], kind="stable")]
    bounds = np.searchsorted(step_group[order], np.arange(len(hardware) + 1))
    ordered = {k: v[order] for k, v in values.items()}
    t = np.full(n, np.nan)
    for k, hw in enumerate(hardware):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if hw is None or hi == lo:
            continue
        part = BatchStats(**{name: v[lo:hi] for name, v in ordered.items()})
        t[order[lo:hi]] = step_cost(arch, hw.system, part, hw.prec, hw.par, hw.eng).time_s
    # each repeated step takes the time of the last priced step before it
    return t[np.maximum.accumulate(np.where(repeat, 0, np.arange(n)))]


def _curves(candidates: pd.DataFrame, shape: WorkloadShape, arch) -> tuple[Curve, np.ndarray, np.ndarray,
                                                                            np.ndarray]:
    """Operating curves of every candidate (NaN where it does not fit), 'does not fit' reasons, which fit,
    and the engine profiles' uncertainty bands.

    Aggregated replicas: the closed-loop steady state of each distinct (hardware, max_num_seqs, budget,
    prompt) over GRID. xPyD units: prefill capacity from one full-budget prefill step, decode from
    decode-only steps at GRID's batches (rate and TPOT of the whole unit), TTFT from the aggregated curve
    at concurrency one. Every step is priced by one `step_cost` call per hardware group."""
    g, ns = len(GRID), shape.samples
    cols = {c: candidates[c].to_numpy() for c in COLUMNS}
    gid = candidates.groupby(KEYS, sort=False).ngroup().to_numpy()
    _, first = np.unique(gid, return_index=True)
    keys = candidates[KEYS].to_numpy(object)[first]
    seqs = cols["max_num_seqs"].astype(float)
    budget = cols["max_num_batched_tokens"].astype(float)
    inp = np.where(cols["prefix_caching"].astype(bool), shape.cached_input_len, shape.input_len)
    agg, agg_of = np.unique(np.stack([gid, seqs, budget, inp], axis=1), axis=0, return_inverse=True)
    agg_of = agg_of.ravel()
    agg_g = agg[:, 0].astype(int)
    hardware, agg_reason, blocks, overhead = _resolve_groups(keys, arch, agg,
                                                             np.searchsorted(agg_g, np.arange(len(keys) + 1)))
    window = arch.sliding_window.size if arch.sliding_window else None
    pending = closed_loop_batches(input_len=np.maximum(agg[:, 3:4] / ns, 1.0), output_len=shape.output_len,
                                  concurrency=GRID[None, :] * ns, max_num_seqs=agg[:, 1:2],
                                  max_num_batched_tokens=agg[:, 2:3], kv_blocks=blocks[:, None],
                                  request_overhead_s=overhead[:, None], window=window, block_size=BLOCK_SIZE)
    parts, groups = [pending.steps], [np.tile(np.repeat(agg_g, g), 2)]
    dis = cols["prefill_workers"] > 0
    if dis.any():
        pre, pre_of = np.unique(np.stack([gid[dis], budget[dis], inp[dis]], axis=1), axis=0, return_inverse=True)
        prompts = np.maximum(pre[:, 1] / pre[:, 2], 1.0)
        parts.append(BatchStats.uniform(prompts, np.minimum(pre[:, 2], pre[:, 1]), 0.0, window=window))
        groups.append(pre[:, 0].astype(int))
        dec, dec_of = np.unique(np.stack([gid[dis], seqs[dis]], axis=1), axis=0, return_inverse=True)
        b_dec = np.minimum(GRID[None, :] * ns, dec[:, 1:2])
        parts.append(BatchStats.uniform(b_dec, 1.0, shape.input_len + shape.output_len / 2.0, window=window))
        groups.append(np.repeat(dec[:, 0].astype(int), g))
    steps, where = _concat(parts)
    t = _price(steps, np.concatenate(groups), hardware, arch)
    ss = pending.finish(t[where[0]])
    rate = (ss.request_throughput_per_s / ns)[agg_of]
    curve = {"rate": rate, "ttft_mean": ss.ttft_mean_s[agg_of], "tpot_mean": ss.tpot_mean_s[agg_of],
             "step": ss.step_s[agg_of], "capacity": np.max(rate, axis=1)}
    if dis.any():
        pre_of, dec_of = pre_of.ravel(), dec_of.ravel()
        x = cols["prefill_workers"][dis].astype(float)
        y = cols["decode_workers"][dis].astype(float)[:, None]
        t_pre = t[where[1]][pre_of]
        cp = prompts[pre_of] / np.maximum(np.ceil(pre[pre_of, 2] / pre[pre_of, 1]), 1.0) / t_pre / ns
        t_dec = t[where[2]].reshape(b_dec.shape)[dec_of]
        rate_d = y * b_dec[dec_of] / max(shape.output_len - 1.0, 1.0) / t_dec / ns
        cap = np.minimum(x * cp * MAX_UTILIZATION, np.max(rate_d, axis=1))
        d_rate = np.minimum(rate_d, cap[:, None])
        zero = np.zeros_like(d_rate)
        values = {"rate": d_rate, "ttft_mean": curve["ttft_mean"][dis][:, :1] + overhead[agg_of][dis, None] + zero,
                  "tpot_mean": t_dec, "step": (t_pre / np.maximum(x, 1.0))[:, None] + zero, "capacity": x * cp}
        for name, value in values.items():
            curve[name] = np.array(curve[name], dtype=np.float64, copy=True)
            curve[name][dis] = value
    reason = agg_reason[agg_of]
    fits = reason == ""
    for name in ("rate", "ttft_mean", "tpot_mean", "step"):
        curve[name][~fits] = np.nan
    curve["capacity"][~fits] = 0.0
    known: dict[tuple[int, int], float] = {}
    bands = [np.nan if hw is None else known.setdefault((id(hw.eng), id(hw.system.device)), _band(hw))
             for hw in hardware]
    band = np.where(fits, np.array(bands, dtype=np.float64)[gid], np.nan)
    return Curve(**curve), reason, fits, band


def _speculative_factor(cols: dict[str, np.ndarray], spec: PlanSpec, arch) -> np.ndarray:
    """Per candidate: decode time per token scaled by (1 + k·draft/target params) / tokens per verify
    with speculative decoding on, 1 otherwise."""
    on = cols["speculative"].astype(bool)
    if not on.any() or spec.speculative is None:
        return np.ones(len(on))
    s = spec.speculative
    draft = load_model(s.draft_model)
    ratio = (1.0 + s.num_tokens * draft.total_params() / arch.total_params()) / tokens_per_verify(s.num_tokens,
                                                                                            s.acceptance_rate)
    return np.where(on, ratio, 1.0)


@dataclass
class Screened:
    """Stage-1 result for a set of candidates (rows in candidate order; curves shaped (rows, len(GRID)))."""

    max_load: np.ndarray
    capacity: np.ndarray
    reason: np.ndarray
    uncertainty_rel: np.ndarray
    load: np.ndarray
    rate: np.ndarray
    est: dict[str, np.ndarray]


def screen(candidates: pd.DataFrame, spec: PlanSpec, shape: WorkloadShape) -> Screened:
    """Screen every candidate; rows in candidate order. Curves come from one `step_cost` call per hardware
    group; the queueing estimates and SLO checks run over all candidates at once."""
    n, g = len(candidates), len(GRID)
    arch = load_model(spec.model)
    curve, reason, fits, band = _curves(candidates, shape, arch)
    f = _speculative_factor({"speculative": candidates["speculative"].to_numpy()}, spec, arch)
    full = Curve(rate=curve.rate / f[:, None], ttft_mean=curve.ttft_mean, tpot_mean=curve.tpot_mean * f[:, None],
                 step=curve.step, capacity=curve.capacity / f)
    open_loop = spec.traffic.concurrency is None
    est = quantiles(full, shape, open_loop)
    load = full.rate if open_loop else np.where(fits[:, None], GRID[None, :], np.nan)
    ok = full.rate <= full.capacity[:, None] * MAX_UTILIZATION if open_loop else np.ones((n, g), bool)
    worst = np.zeros((n, g))
    for metric, q, limit in spec.slo.constraints():
        worst = np.maximum(worst, np.nan_to_num(est[(metric, q)] / limit, nan=0.0, posinf=1e9))
    ok &= (worst <= 1.0) & fits[:, None]
    max_load = np.where(ok, load, 0.0).max(axis=1)
    for i in np.flatnonzero((max_load <= 0) & fits):
        j = int(np.argmin(worst[i]))
        names = [f"{m} {q} {est[(m, q)][i, j]:.3g}s vs {lim:.3g}s" for m, q, lim in spec.slo.constraints()
                 if est[(m, q)][i, j] > lim]
        reason[i] = ("SLO miss at every load: " + "; ".join(names) if names else
                     "SLO miss: no load below saturation meets the SLOs")
    return Screened(max_load=max_load, capacity=full.capacity, reason=reason, uncertainty_rel=band,
                    load=np.asarray(load), rate=full.rate,
                    est={f"{m}_{q}": est[(m, q)] for m in ("ttft_s", "tpot_s", "itl_s", "e2e_s") for q in Z})
