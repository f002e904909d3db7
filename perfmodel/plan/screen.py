"""Stage 1: the analytic screen, vectorized over every candidate of a hardware group.

For each (device, tp, pp, ep, dtypes, engine) group one closed-loop :func:`perfmodel.steady_state` call
sweeps a grid of per-replica concurrencies × scheduler caps × prompt variants; the curve of throughput
versus latency gives, per candidate, the largest per-replica request rate whose estimated percentiles
meet the SLOs. Percentiles are estimated from the means: TTFT adds an exponential queueing tail
(wait ≈ step·ρ/(1−ρ)), TPOT a 10% spread per standard score, E2E the output-length quantile. Prefill/
decode units price one full-budget prefill step and decode-only steps with :func:`perfmodel.cost.step_cost`.
The screen only ranks and prunes; stage 2 simulates the survivors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
from perfmodel.specs.catalog import load_model, resolve_system
from perfmodel.steady_state import steady_state
from perfmodel.strategies.speculative import tokens_per_verify

GRID = np.unique(np.round(np.geomspace(1, 4096, 40)))
"""Per-replica concurrencies swept (requests in flight)."""
MAX_UTILIZATION = 0.95
Z = {"p50": 0.0, "p90": 1.2816, "p99": 2.3263}
TPOT_SPREAD = 0.10


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


def _aggregated(rows: pd.DataFrame, shape: WorkloadShape, arch, system, prec, par, eng) -> Curve:
    seqs = rows["max_num_seqs"].to_numpy(float)[:, None]
    budget = rows["max_num_batched_tokens"].to_numpy(float)[:, None]
    inp = np.where(rows["prefix_caching"].to_numpy(bool), shape.cached_input_len, shape.input_len)[:, None]
    n = shape.samples
    ss = steady_state(arch, system, input_len=np.maximum(inp / n, 1.0), output_len=shape.output_len,
                      concurrency=GRID[None, :] * n, tp=par.tp, pp=par.pp, ep=par.ep,
                      weight_dtype=prec.weight.name, kv_dtype=prec.kv.name, act_dtype=prec.act.name, engine=eng,
                      max_num_seqs=seqs, max_num_batched_tokens=budget)
    rate = ss.request_throughput_per_s / n
    return Curve(rate=rate, ttft_mean=ss.ttft_mean_s, tpot_mean=ss.tpot_mean_s, step=ss.step_s,
                 capacity=np.max(rate, axis=1))


def _disaggregated(rows: pd.DataFrame, shape: WorkloadShape, arch, system, prec, par, eng, agg: Curve) -> Curve:
    """x prefill + y decode workers: prefill capacity from one full-budget prefill step, decode from
    decode-only steps at the aggregated curve's decode batches (rate and TPOT of the whole unit)."""
    x = rows["prefill_workers"].to_numpy(float)[:, None]
    y = rows["decode_workers"].to_numpy(float)[:, None]
    budget = rows["max_num_batched_tokens"].to_numpy(float)
    inp = np.where(rows["prefix_caching"].to_numpy(bool), shape.cached_input_len, shape.input_len)
    prompts = np.maximum(budget / inp, 1.0)
    window = arch.sliding_window.size if arch.sliding_window else None
    t_pre = np.asarray(step_cost(arch, system, BatchStats.uniform(prompts, np.minimum(inp, budget), 0.0,
                                                                  window=window), prec, par, eng).time_s)
    cp = prompts / np.maximum(np.ceil(inp / budget), 1.0) / t_pre / shape.samples  # requests/s per prefill worker
    seqs = rows["max_num_seqs"].to_numpy(float)[:, None]
    b = np.minimum(GRID[None, :] * shape.samples, seqs) * np.ones_like(x)
    context = shape.input_len + shape.output_len / 2.0
    t_dec = np.asarray(step_cost(arch, system, BatchStats.uniform(b.ravel(), 1.0, context, window=window), prec, par,
                                 eng).time_s).reshape(b.shape)
    rate_d = y * b / max(shape.output_len - 1.0, 1.0) / t_dec / shape.samples
    cap = np.minimum(x[:, 0] * cp * MAX_UTILIZATION, np.max(rate_d, axis=1))
    rate = np.minimum(rate_d, cap[:, None])
    ttft = agg.ttft_mean[:, :1] * np.ones_like(rate) + eng.request_overhead_s
    step = (t_pre / np.maximum(x[:, 0], 1.0))[:, None] * np.ones_like(rate)
    return Curve(rate=rate, ttft_mean=ttft, tpot_mean=t_dec, step=step, capacity=x[:, 0] * cp)


def _speculative(curve: Curve, rows: pd.DataFrame, spec: PlanSpec, arch) -> Curve:
    """Speculative decoding: decode time per token scaled by (1 + k·draft/target params) / tokens per verify."""
    on = rows["speculative"].to_numpy(bool)
    if not on.any() or spec.speculative is None:
        return curve
    s = spec.speculative
    draft = load_model(s.draft_model)
    ratio = (1.0 + s.num_tokens * draft.total_params / arch.total_params) / tokens_per_verify(s.num_tokens,
                                                                                            s.acceptance_rate)
    f = np.where(on, ratio, 1.0)
    return Curve(rate=curve.rate / f[:, None], ttft_mean=curve.ttft_mean, tpot_mean=curve.tpot_mean * f[:, None],
                 step=curve.step, capacity=curve.capacity / f)


def _merge(agg: Curve, dis_mask: np.ndarray, dis: Curve) -> Curve:
    """Aggregated rows from `agg`, disaggregated rows from `dis`."""
    parts = {}
    for name in ("rate", "ttft_mean", "tpot_mean", "step", "capacity"):
        value = np.array(getattr(agg, name), dtype=np.float64, copy=True)
        value[dis_mask] = getattr(dis, name)
        parts[name] = value
    return Curve(**parts)


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


def _blank(n: int, reason: str) -> Screened:
    def nan() -> np.ndarray:
        return np.full((n, len(GRID)), np.nan)

    return Screened(max_load=np.zeros(n), capacity=np.zeros(n), reason=np.full(n, reason, dtype=object),
                    uncertainty_rel=np.full(n, np.nan), load=nan(), rate=nan(),
                    est={f"{m}_{q}": nan() for m in ("ttft_s", "tpot_s", "itl_s", "e2e_s") for q in Z})


def screen_group(rows: pd.DataFrame, spec: PlanSpec, shape: WorkloadShape) -> Screened:
    """Screen one hardware group: per-row max load per unit, estimated percentile curves, reasons."""
    first = rows.iloc[0]
    arch = load_model(spec.model)
    par = Parallelism(tp=int(first["tp"]), pp=int(first["pp"]), ep=int(first["ep"]))
    eng = load_engine(first["engine"])
    try:
        par.check_for(arch)
        system = resolve_system(first["device"], par.num_devices)
        prec = Precision.of(first["weight_dtype"], None, first["kv_dtype"])
        agg = _aggregated(rows, shape, arch, system, prec, par, eng)
    except PerfModelError as exc:
        return _blank(len(rows), f"does not fit: {exc}")
    curve = agg
    dis = rows["prefill_workers"].to_numpy() > 0
    if dis.any():
        sub = Curve(*(getattr(agg, f)[dis] for f in ("rate", "ttft_mean", "tpot_mean", "step", "capacity")))
        curve = _merge(agg, dis, _disaggregated(rows[dis], shape, arch, system, prec, par, eng, sub))
    curve = _speculative(curve, rows, spec, arch)
    open_loop = spec.traffic.concurrency is None
    est = quantiles(curve, shape, open_loop)
    load = curve.rate if open_loop else np.broadcast_to(GRID[None, :], curve.rate.shape)
    ok = curve.rate <= curve.capacity[:, None] * MAX_UTILIZATION if open_loop else np.ones(curve.rate.shape, bool)
    worst = np.zeros_like(curve.rate)
    for metric, q, limit in spec.slo.constraints():
        worst = np.maximum(worst, np.nan_to_num(est[(metric, q)] / limit, nan=0.0, posinf=1e9))
    ok &= worst <= 1.0
    max_load = np.where(ok, load, 0.0).max(axis=1)
    reasons = np.full(len(rows), "", dtype=object)
    for i in np.flatnonzero(max_load <= 0):
        j = int(np.argmin(worst[i]))
        names = [f"{m} {q} {est[(m, q)][i, j]:.3g}s vs {lim:.3g}s" for m, q, lim in spec.slo.constraints()
                 if est[(m, q)][i, j] > lim]
        reasons[i] = ("SLO miss at every load: " + "; ".join(names) if names else
                      "SLO miss: no load below saturation meets the SLOs")
    band = uncertainty(eng, system.device)["rel"]
    return Screened(max_load=max_load, capacity=curve.capacity, reason=reasons,
                    uncertainty_rel=np.full(len(rows), np.nan if band is None else band), load=np.asarray(load),
                    rate=curve.rate, est={f"{m}_{q}": v for (m, q), v in est.items()})


def screen(candidates: pd.DataFrame, spec: PlanSpec, shape: WorkloadShape) -> Screened:
    """Screen every candidate (grouped by hardware, parallelism, dtypes and engine); rows in candidate order."""
    keys = ["device", "tp", "pp", "ep", "weight_dtype", "kv_dtype", "engine"]
    n = len(candidates)
    out = _blank(n, "")
    for _, rows in candidates.groupby(keys, sort=False):
        pos = candidates.index.get_indexer(rows.index)
        part = screen_group(rows, spec, shape)
        for name in ("max_load", "capacity", "reason", "uncertainty_rel", "load", "rate"):
            getattr(out, name)[pos] = getattr(part, name)
        for k, v in part.est.items():
            out.est[k][pos] = v
    return out
