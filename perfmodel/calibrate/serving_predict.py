"""Predict serving-level measurement rows: by simulation (each configuration once) or by the closed form.

Quantities follow vLLM's `benchmark_serving`: throughputs are tokens (or requests) of completed
requests over the benchmark duration (start to last completion); TTFT and E2E per request; TPOT per
request = (e2e − ttft) / (output tokens − 1) over requests with more than one output token; ITL =
every gap between consecutive token emissions, pooled; then mean, median and 99th percentile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from perfmodel.calibrate.serving_data import DISAGG, configurations, row_keys
from perfmodel.cost.engine import EngineProfile, load_engine
from perfmodel.errors import PerfModelError
from perfmodel.sim.metrics import itl_samples, weighted_quantile
from perfmodel.sim.result import SimResult
from perfmodel.sim.runner import simulate
from perfmodel.sim.scenario import (
    ArrivalSpec,
    DisaggregationSpec,
    LengthSpec,
    PoolSpec,
    Scenario,
    SchedulerSpec,
    WorkloadSpec,
)
from perfmodel.specs.device import Device
from perfmodel.steady_state import steady_state

SEED = 0
MIN_REQUESTS = 64
REQUESTS_PER_SLOT = 8
"""Closed loop: at least this many requests per concurrency slot, so the start-up wave is a small part."""
MAX_REQUESTS = 2000
MAX_DECODE_STEPS = 20_000
"""Cap on (requests × output_len / concurrency), which sets a simulation's cost."""
OPEN_LOOP_SECONDS = 60.0
ENGINE_SCHEDULER = {
    # Scheduler limits assumed per engine (the engines' default serving settings as we read them).
    "vllm": {"max_num_seqs": 256, "max_num_batched_tokens": 8192},
    "sglang": {"max_num_seqs": 1024, "max_num_batched_tokens": 8192},
    "trtllm": {"max_num_seqs": 2048, "max_num_batched_tokens": 8192},
}
DEFAULT_SCHEDULER = {"max_num_seqs": 256, "max_num_batched_tokens": 8192}
CLOSED_FORM_QUANTITIES = ("output_tokens_per_s", "total_tokens_per_s", "request_throughput_per_s", "ttft_mean_s",
                          "tpot_mean_s", "itl_mean_s", "e2e_mean_s")


class Unsupported(PerfModelError):
    """A configuration the model cannot represent (the reason is reported with its rows)."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def scheduler_limits(engine: str) -> dict[str, int]:
    """The assumed scheduler limits of `engine`'s family (`sglang-0.4` schedules as `sglang` does)."""
    try:
        family = load_engine(engine).family or engine
    except PerfModelError:
        family = engine
    return ENGINE_SCHEDULER.get(family, DEFAULT_SCHEDULER)  # a current profile is its own family


def scheduler_for(engine: str) -> SchedulerSpec:
    """Continuous batching with the engine's assumed sequence and token limits."""
    return SchedulerSpec(name="continuous", **scheduler_limits(engine))


def length_spec(length: float, range_ratio: float) -> LengthSpec:
    """Lengths uniform in [range_ratio·length, length] (fixed when range_ratio is 1; a data set's mean length,
    given without a range, is simulated fixed at that mean)."""
    length = max(1, int(round(length)))
    low = max(1, int(round(range_ratio * length)))
    return LengthSpec.fixed(length) if low >= length else LengthSpec(dist="uniform", low=low, high=length)


def mean_length(length: float, range_ratio: float) -> float:
    """Mean of :func:`length_spec`'s distribution."""
    low = max(1, int(round(range_ratio * length)))
    return float(length) if low >= length else (low + float(length)) / 2.0


def request_count(config: pd.Series) -> int:
    """Requests to simulate: the benchmark's own count when the row states it (its start-up wave and drain
    are part of what was measured), else enough for a steady state; capped to stay fast."""
    given = 0 if _blank(config["num_requests"]) else int(config["num_requests"])
    if not _blank(config["concurrency"]):
        c = int(config["concurrency"])
        want = given or max(REQUESTS_PER_SLOT * c, MIN_REQUESTS)
        cap = max(min(MAX_DECODE_STEPS * c // max(int(config["output_len"]), 1), MAX_REQUESTS), 2 * c)
    else:
        want = given or max(int(float(config["request_rate"]) * OPEN_LOOP_SECONDS), MIN_REQUESTS)
        cap = MAX_REQUESTS
    return int(min(want, cap))


def _unsupported_reason(config: pd.Series) -> str | None:
    if config["spec_decode"]:
        return (f"speculative decoding '{config['spec_decode']}': the row gives no draft model or acceptance rate "
                "for the simulator")
    return None


def serving_scenario(config: pd.Series) -> Scenario:
    """The simulator scenario of one serving configuration (raises :class:`Unsupported` with the reason)."""
    reason = _unsupported_reason(config)
    if reason:
        raise Unsupported(reason)
    closed = not _blank(config["concurrency"])
    arrival = (ArrivalSpec(process="closed-loop", concurrency=int(config["concurrency"])) if closed
               else ArrivalSpec(process="poisson", rate_per_s=float(config["request_rate"])))
    ratio = float(config["range_ratio"])
    workload = WorkloadSpec(requests=request_count(config), arrival=arrival,
                            input_len=length_spec(int(config["input_len"]), ratio),
                            output_len=length_spec(int(config["output_len"]), ratio))
    disagg = None
    if config["disagg"]:
        p, d = (int(x) for x in DISAGG.match(config["disagg"]).groups())
        disagg = DisaggregationSpec(prefill=PoolSpec(replicas=p), decode=PoolSpec(replicas=d))
    kv = config["kv_dtype"] or None
    return Scenario(name="serving-row", seed=SEED, model=config["model"], hardware=config["hardware"],
                    replicas=int(config["dp"]), tp=int(config["tp"]), pp=int(config["pp"]), ep=int(config["ep"]),
                    engine=config["engine"], weight_dtype=config["weight_dtype"],
                    kv_dtype=None if kv == "auto" else kv, scheduler=scheduler_for(config["engine"]),
                    workload=workload, disaggregation=disagg)


def _stats(values: np.ndarray, prefix: str) -> dict[str, float]:
    values = values[np.isfinite(values)]
    if not values.size:
        return {f"{prefix}_{s}_s": float("nan") for s in ("mean", "p50", "p99")}
    return {f"{prefix}_mean_s": float(np.mean(values)), f"{prefix}_p50_s": float(np.median(values)),
            f"{prefix}_p99_s": float(np.percentile(values, 99))}


def serving_quantities(result: SimResult) -> dict[str, float]:
    """Every serving quantity of a simulated benchmark, computed as `benchmark_serving` does."""
    req = result.requests
    done = req[req["status"] == "completed"]
    duration = result.duration_s
    per_s = 1.0 / duration if duration > 0 else float("nan")
    out_tokens = done["generated_tokens"].to_numpy(dtype=np.float64)
    ttft = done["ttft_s"].to_numpy(dtype=np.float64)
    e2e = done["e2e_s"].to_numpy(dtype=np.float64)
    multi = out_tokens > 1
    tpot = (e2e[multi] - ttft[multi]) / (out_tokens[multi] - 1.0)
    values, weights = itl_samples(result.recorder)
    q = {"output_tokens_per_s": out_tokens.sum() * per_s,
         "total_tokens_per_s": (out_tokens.sum() + done["input_len"].sum()) * per_s,
         "request_throughput_per_s": len(done) * per_s,
         **_stats(ttft, "ttft"), **_stats(tpot, "tpot"), **_stats(e2e, "e2e")}
    if weights.sum() > 0:
        q.update({"itl_mean_s": float(np.sum(values * weights) / np.sum(weights)),
                  "itl_p50_s": weighted_quantile(values, weights, 50),
                  "itl_p99_s": weighted_quantile(values, weights, 99)})
    else:
        q.update({"itl_mean_s": float("nan"), "itl_p50_s": float("nan"), "itl_p99_s": float("nan")})
    return {k: float(v) for k, v in q.items()}


def predict_serving_config(config: pd.Series) -> dict[str, float]:
    """Simulate one configuration; raises :class:`PerfModelError` (e.g. :class:`Unsupported`) if it cannot."""
    return serving_quantities(simulate(serving_scenario(config)))


def _fill(table: pd.DataFrame, predicted: np.ndarray, reasons: list[str]) -> pd.DataFrame:
    out = table.copy()
    out["predicted"] = predicted
    out["reason"] = reasons
    return out


def predict_serving_rows(table: pd.DataFrame,
                         progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """The table plus `predicted` (simulated, same units as `value`) and `reason` (why a row has none).

    Each configuration is simulated once for all its quantities; `progress(done, total)` counts them.
    """
    predicted = np.full(len(table), np.nan)
    reasons = [""] * len(table)
    groups = configurations(table)
    positions = {rid: i for i, rid in enumerate(table["row_id"])}
    for n, (config, rows) in enumerate(groups, start=1):
        try:
            values = predict_serving_config(config)
            reason = ""
        except PerfModelError as exc:
            values, reason = {}, str(exc)
        for row in rows.itertuples(index=False):
            i = positions[row.row_id]
            value = values.get(row.quantity, float("nan"))
            predicted[i] = value
            reasons[i] = reason or ("" if np.isfinite(value) else "the simulation gives no value")
        if progress is not None:
            progress(n, len(groups))
    return _fill(table, predicted, reasons)


def predict_serving_steady(table: pd.DataFrame,
                           progress: Callable[[int, int], None] | None = None,
                           engines: Mapping[str, EngineProfile] | None = None,
                           devices: Mapping[str, Device] | None = None) -> pd.DataFrame:
    """Like :func:`predict_serving_rows` with the closed form (:func:`perfmodel.steady_state`): one vectorized
    call per deployment and loop kind; means and throughputs only (percentiles get a reason).

    `engines` / `devices` replace the catalog's profile or device of that name (what a fit tries).
    """
    engines, devices = engines or {}, devices or {}
    predicted = np.full(len(table), np.nan)
    reasons = ["" for _ in range(len(table))]
    work = table.reset_index(drop=True)
    closed = work["concurrency"].notna()
    deploy = ["model", "hardware", "tp", "pp", "ep", "dp", "engine", "weight_dtype", "kv_dtype", "spec_decode",
              "disagg"]
    keys = pd.Series([k + ("|closed" if c else "|open") for k, c in zip(row_keys(work, deploy), closed, strict=True)])
    groups = list(work.groupby(keys, sort=False).groups.values())
    for n, index in enumerate(groups, start=1):
        part = work.loc[index]
        first = part.iloc[0]
        reason = _unsupported_reason(first) or (f"disaggregated serving ('{first['disagg']}') has no closed form"
                                                if first["disagg"] else None)
        if reason is None:
            try:
                ratio = part["range_ratio"].to_numpy(dtype=np.float64)
                inp = np.array([mean_length(x, r) for x, r in zip(part["input_len"], ratio, strict=True)])
                outl = np.array([mean_length(x, r) for x, r in zip(part["output_len"], ratio, strict=True)])
                sched = scheduler_limits(first["engine"])
                kv = first["kv_dtype"] or None
                common = dict(input_len=inp, output_len=outl, replicas=int(first["dp"]), tp=int(first["tp"]),
                              pp=int(first["pp"]), ep=int(first["ep"]), weight_dtype=first["weight_dtype"],
                              kv_dtype=None if kv == "auto" else kv,
                              engine=engines.get(first["engine"], first["engine"]), **sched)
                hardware = devices.get(first["hardware"], first["hardware"])
                if bool(pd.notna(first["concurrency"])):
                    ss = steady_state(first["model"], hardware,
                                      concurrency=part["concurrency"].to_numpy(dtype=np.float64), **common)
                else:
                    ss = steady_state(first["model"], hardware,
                                      request_rate=part["request_rate"].to_numpy(dtype=np.float64), **common)
            except PerfModelError as exc:
                reason = str(exc)
        for j, i in enumerate(index):
            quantity = work.at[i, "quantity"]
            if reason:
                reasons[i] = reason
            elif quantity not in CLOSED_FORM_QUANTITIES:
                reasons[i] = "the closed form predicts throughputs and means only"
            else:
                predicted[i] = float(np.asarray(getattr(ss, quantity))[j])
                if not np.isfinite(predicted[i]):
                    reasons[i] = "open-loop rate above the deployment's capacity"
        if progress is not None:
            progress(n, len(groups))
    return _fill(table, predicted, reasons)


def validate_serving(paths, *, fast: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Serving rows with predictions (simulated, or closed form when `fast`), errors, `reason` and `load`."""
    from perfmodel.calibrate.data import excluded_mask
    from perfmodel.calibrate.report import with_errors
    from perfmodel.calibrate.serving_data import load_serving

    table = load_serving(paths)
    excluded = excluded_mask(table)
    table = table[~excluded].reset_index(drop=True)
    predicted = (predict_serving_steady if fast else predict_serving_rows)(table, progress)
    errors = with_errors(predicted, predicted["predicted"].to_numpy())
    errors["load"] = [f"c={int(c)}" if pd.notna(c) else f"{r:g} req/s"
                      for c, r in zip(errors["concurrency"], errors["request_rate"], strict=True)]
    errors.attrs["excluded_rows"] = int(excluded.sum())
    return errors


__all__ = ["Unsupported", "predict_serving_config", "predict_serving_rows", "predict_serving_steady",
           "serving_quantities", "serving_scenario", "validate_serving"]
