"""`plan(spec)`: screen every candidate analytically, verify the best and the Pareto set by simulation,
answer with a ranked table (see docs/planner.md)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from perfmodel.checks import whole
from perfmodel.errors import PerfModelError
from perfmodel.plan.backends import run_tasks
from perfmodel.plan.result import Plan, objective_key, pareto_mask
from perfmodel.plan.screen import screen
from perfmodel.plan.space import CONFIG_COLUMNS, enumerate_candidates
from perfmodel.plan.spec import PlanSpec, load_plan_spec
from perfmodel.plan.verify import default_cache_dir
from perfmodel.plan.workload import WorkloadShape, workload_shape
from perfmodel.specs.catalog import load_device

Progress = Callable[[str, int, int], None]


def _planned_load(spec: PlanSpec) -> float:
    t = spec.traffic
    return float(t.concurrency if t.concurrency is not None else t.rate_per_s)


def interp_weights(grid: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise linear interpolation of a function sampled on `grid` at `at` (grids made non-decreasing;
    clamped at the ends): (rows, upper index, weight of the upper point) for :func:`interp_rows`."""
    x = np.maximum.accumulate(np.nan_to_num(grid, nan=0.0), axis=1)
    n = x.shape[1]
    j = np.clip((x <= at[:, None]).sum(axis=1), 1, n - 1)
    rows = np.arange(len(at))
    x0, x1 = x[rows, j - 1], x[rows, j]
    w = np.clip(np.where(x1 > x0, (at - x0) / np.where(x1 > x0, x1 - x0, 1.0), 1.0), 0.0, 1.0)
    return rows, j, w


def interp_rows(grid: np.ndarray, values: np.ndarray, at: np.ndarray,
                weights: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Row-wise linear interpolation of values(grid) at `at` (grids made non-decreasing; clamped at ends);
    `weights` from :func:`interp_weights` when several value arrays share the grid."""
    rows, j, w = weights if weights is not None else interp_weights(grid, at)
    y0, y1 = values[rows, j - 1], values[rows, j]
    return y0 + w * (y1 - y0)


def _gpu_budget(spec: PlanSpec) -> float:
    c = spec.candidates
    limits = [c.gpu_budget or math.inf, (c.nodes * c.devices_per_node) if c.nodes else math.inf]
    return min(limits)


def _cost_columns(df: pd.DataFrame | dict[str, Any], spec: PlanSpec, shape: WorkloadShape) -> dict[str, np.ndarray]:
    """Cost, throughput and energy columns from units, GPUs, prices and the planned load."""
    load = _planned_load(spec)

    def col(name: str) -> np.ndarray:
        return np.asarray(df[name], dtype=np.float64)

    rate = col("rate_per_s") if "rate_per_s" in df else np.full(len(df["units"]), load)
    total_gpus = np.asarray(df["units"]) * np.asarray(df["gpus_per_unit"])
    cost = total_gpus * col("price_per_gpu_hour_usd")
    out_tok = rate * shape.output_len * shape.samples
    tpot = col("tpot_s_p50")
    devices = np.asarray(df["device"], dtype=object)
    watts = {d: (load_device(d).power.tdp_w if load_device(d).power else np.nan) for d in set(devices)}
    tdp = np.array([watts[d] for d in devices], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"total_gpus": total_gpus, "cost_per_hour_usd": cost, "output_tokens_per_s": out_tok,
                "tokens_per_s_per_gpu": out_tok / np.maximum(total_gpus, 1),
                "tokens_per_s_per_user": 1.0 / np.where(tpot > 0, tpot, np.nan),
                "usd_per_m_output_tokens": cost / (out_tok * 3600.0) * 1e6,
                "usd_per_m_input_tokens": cost / (rate * shape.input_len * 3600.0) * 1e6,
                "joules_per_token": tdp * total_gpus / out_tok,
                "headroom": col("max_load") * np.asarray(df["units"]) / load - 1.0}


def _fill_costs(df: pd.DataFrame, spec: PlanSpec, shape: WorkloadShape) -> None:
    """Write :func:`_cost_columns` into `df`."""
    for name, value in _cost_columns(df, spec, shape).items():
        df[name] = value


def screened_table(spec: PlanSpec, shape: WorkloadShape) -> pd.DataFrame:
    """Stage 1 for every candidate: units needed, estimated latencies at the planned load, cost, reasons."""
    df = enumerate_candidates(spec)
    scr = screen(df, spec, shape)
    load = _planned_load(spec)
    max_load = scr.max_load
    fits = max_load > 0
    units = np.maximum(np.ceil(load / np.where(fits, max_load, 1.0) - 1e-9), 1).astype(int)
    cols: dict[str, Any] = {"units": units, "max_load": max_load, "screen_capacity_rate": scr.capacity,
                            "uncertainty_rel": scr.uncertainty_rel}
    per_unit = load / units
    weights = interp_weights(scr.load, per_unit)
    for k, v in scr.est.items():
        cols[k] = np.where(fits, interp_rows(scr.load, v, per_unit, weights), np.nan)
    if spec.traffic.concurrency is not None:
        cols["rate_per_s"] = np.where(fits, interp_rows(scr.load, scr.rate, per_unit, weights) * units, np.nan)
    else:
        cols["rate_per_s"] = np.full(len(df), float(load))
    cols["screen_reason"] = scr.reason.astype(str)
    cols.update(_cost_columns({**cols, **{c: df[c].to_numpy() for c in ("gpus_per_unit", "price_per_gpu_hour_usd",
                                                                        "device")}}, spec, shape))
    budget = _gpu_budget(spec)
    reason = np.array(cols["screen_reason"], dtype=object)
    over = fits & (cols["total_gpus"] > budget)
    reason[over] = [f"over the GPU budget: needs {g} GPUs > {budget:g}" for g in cols["total_gpus"][over]]
    cols["reason"] = reason
    cols["verified"] = np.full(len(df), "screened", dtype=object)
    cols["feasible"] = reason == ""
    for col in ("sim_max_load_per_unit", "slo_attainment", "sim_requests", *(f"{m}_p99_ci_{e}" for m in
                ("ttft_s", "tpot_s", "e2e_s") for e in ("low", "high"))):
        cols[col] = np.full(len(df), np.nan)
    return pd.concat([df, pd.DataFrame(cols, index=df.index)], axis=1)


def _select(df: pd.DataFrame, spec: PlanSpec, top_k: int) -> list[int]:
    """Indices to verify: the top K by the objective plus the Pareto set ($/h vs p99 TTFT), capped."""
    ok = df[df["feasible"]]
    if ok.empty:
        return []
    ranked = ok.sort_values(objective_key(spec), kind="stable").index.tolist()
    chosen = ranked[:top_k]
    front = ok.index[pareto_mask(ok["cost_per_hour_usd"].to_numpy(), ok["ttft_s_p99"].to_numpy())]
    front = sorted(front, key=ranked.index)[: spec.verify.max_pareto]
    return list(dict.fromkeys(chosen + front))


def plan(spec: str | Path | dict | PlanSpec, *, backend: str = "local", workers: int | None = None,
         ray_address: str | None = None, top_k: int | None = None, cache_dir: str | Path | None | bool = None,
         progress: Progress | None = None, verify: bool = True) -> Plan:
    """The cheapest deployment that meets the SLOs (by the spec's objective), with the evidence.

    `spec`: a :class:`PlanSpec`, a mapping, a YAML path or a shipped plan id. `backend`: 'local' (process
    pool of `workers`), 'serial' or 'ray' (`ray_address` for a remote cluster). `cache_dir=False` disables
    the simulation cache. Ctrl-C during stage 2 stops it and returns what was verified so far.
    """
    t0 = time.perf_counter()
    if workers is not None:
        workers = whole(workers, "workers", maximum=4096)
    if top_k is not None:
        top_k = whole(top_k, "top_k (configurations to verify)", minimum=0, maximum=10_000)
    if backend not in ("local", "serial", "ray"):
        raise PerfModelError(f"--backend must be one of local, serial, ray (got {backend!r})")
    spec = load_plan_spec(spec)
    shape = workload_shape(spec)
    df = screened_table(spec, shape)
    screen_s = time.perf_counter() - t0
    k = spec.verify.top_k if top_k is None else top_k
    picks = _select(df, spec, k) if verify else []
    cache = None if cache_dir is False else str(Path(cache_dir) if cache_dir else default_cache_dir())
    data = spec.model_dump(mode="json")
    load = _planned_load(spec)
    # longest simulations first (the final one simulates every replica), so no worker idles at the end
    picks = sorted(picks, key=lambda i: -float(df.at[i, "units"] * max(df.at[i, "prefill_workers"]
                                                                        + df.at[i, "decode_workers"], 1)))
    tasks = [(data, {c: _plain(df.at[i, c]) for c in (*CONFIG_COLUMNS, "config_id")}, load,
              float(df.at[i, "max_load"]), cache) for i in picks]
    interrupted = False
    if progress:
        progress("verify", 0, len(tasks))
    done = 0
    try:
        for j, res in run_tasks(tasks, backend=backend, workers=workers, ray_address=ray_address):
            _apply(df, picks[j], res, spec, shape)
            done += 1
            if progress:
                progress("verify", done, len(tasks))
    except KeyboardInterrupt:
        interrupted = True
    return Plan(spec=spec, table=df, shape=shape,
                stats={"candidates": len(df), "screen_s": screen_s, "verified": done, "to_verify": len(tasks),
                       "wall_s": time.perf_counter() - t0, "interrupted": interrupted, "backend": backend})


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _apply(df: pd.DataFrame, i: int, res: dict[str, Any], spec: PlanSpec, shape: WorkloadShape) -> None:
    """Write one simulation result into row i (simulated numbers replace the screen's)."""
    df.at[i, "verified"] = "simulated"
    df.at[i, "sim_max_load_per_unit"] = res["sim_max_load_per_unit"]
    df.at[i, "reason"] = res["reason"]
    df.at[i, "feasible"] = bool(res["feasible"])
    if "units" in res:
        df.at[i, "units"] = int(res["units"])
        df.at[i, "max_load"] = res["sim_max_load_per_unit"]
    sim = res.get("sim")
    if sim:
        for m in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
            for q in ("p50", "p90", "p99"):
                df.at[i, f"{m}_{q}"] = sim[f"{m}_{q}"]
        for key in ("slo_attainment", "ttft_s_p99_ci_low", "ttft_s_p99_ci_high", "tpot_s_p99_ci_low",
                    "tpot_s_p99_ci_high", "e2e_s_p99_ci_low", "e2e_s_p99_ci_high"):
            if key in sim:
                df.at[i, key] = sim[key]
        df.at[i, "rate_per_s"] = sim["requests_per_s"] if spec.traffic.concurrency is not None else \
            _planned_load(spec)
        df.at[i, "sim_requests"] = sim["requests"]
    row = df.loc[[i]].copy()
    _fill_costs(row, spec, shape)
    for c in ("total_gpus", "cost_per_hour_usd", "output_tokens_per_s", "tokens_per_s_per_gpu",
              "tokens_per_s_per_user", "usd_per_m_output_tokens", "usd_per_m_input_tokens", "joules_per_token",
              "headroom"):
        df.at[i, c] = row.at[i, c]
    if res["feasible"] and df.at[i, "total_gpus"] > _gpu_budget(spec):
        df.at[i, "feasible"] = False
        df.at[i, "reason"] = f"over the GPU budget after simulation: needs {int(df.at[i, 'total_gpus'])} GPUs"
