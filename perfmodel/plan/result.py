"""`Plan`: the ranked table, Pareto fronts, the chosen configuration, reasons and exports."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from perfmodel.plan.spec import PlanSpec
from perfmodel.plan.workload import WorkloadShape

ANSWER_COLUMNS = (
    "rank", "verified", "feasible", "device", "total_gpus", "units", "mode", "prefill_workers", "decode_workers",
    "tp", "pp", "ep", "max_num_seqs", "max_num_batched_tokens", "weight_dtype", "kv_dtype", "engine",
    "prefix_caching", "speculative", "ttft_s_p50", "ttft_s_p99", "tpot_s_p50", "tpot_s_p99", "itl_s_p50",
    "itl_s_p99", "e2e_s_p50", "e2e_s_p99", "output_tokens_per_s", "tokens_per_s_per_gpu", "tokens_per_s_per_user",
    "max_load", "slo_attainment", "headroom", "cost_per_hour_usd", "usd_per_m_input_tokens",
    "usd_per_m_output_tokens", "joules_per_token", "uncertainty_rel", "price_per_gpu_hour_usd", "price_source",
    "reason", "config_id")


def objective_key(spec: PlanSpec) -> list[str]:
    """Columns to sort by (ascending) for the spec's objective."""
    return {"min-cost-per-hour": ["cost_per_hour_usd", "ttft_s_p99"],
            "min-cost-per-mtok": ["usd_per_m_output_tokens_at_capacity", "cost_per_hour_usd"],
            "min-gpus": ["total_gpus", "cost_per_hour_usd"],
            "max-tokens-per-gpu": ["neg_tokens_per_s_per_gpu", "cost_per_hour_usd"]}[spec.objective.kind]


def pareto_mask(cost: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Points no other point beats on both (lower is better on both axes); O(n log n)."""
    cost, other = np.asarray(cost, float), np.nan_to_num(np.asarray(other, float), nan=np.inf)
    order = np.lexsort((other, cost))
    mask = np.zeros(len(cost), dtype=bool)
    best = np.inf
    for i in order:
        if other[i] < best:
            mask[i] = True
            best = other[i]
    return mask


def rank_table(df: pd.DataFrame, spec: PlanSpec) -> pd.DataFrame:
    """Feasible simulated rows first, then feasible screened, then rejected; each by the objective."""
    df = df.copy()
    df["usd_per_m_output_tokens_at_capacity"] = df["usd_per_m_output_tokens"] / (1.0 + df["headroom"].clip(lower=0))
    df["neg_tokens_per_s_per_gpu"] = -df["tokens_per_s_per_gpu"]
    floor = spec.objective.min_tokens_per_s_per_user
    if floor is not None:
        low = df["feasible"] & (df["tokens_per_s_per_user"] < floor)
        df.loc[low, "reason"] = [f"below the tokens/s/user floor: {v:.3g} < {floor:g}"
                                 for v in df.loc[low, "tokens_per_s_per_user"]]
        df.loc[low, "feasible"] = False
    tier = np.where(df["feasible"] & (df["verified"] == "simulated"), 0, np.where(df["feasible"], 1, 2))
    df["_tier"] = tier
    df = df.sort_values(["_tier", *objective_key(spec), "config_id"], kind="stable").drop(columns="_tier")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    # on neither Pareto front and not simulated: dominated
    ok = df["feasible"]
    f1 = pareto_mask(df["cost_per_hour_usd"], df["ttft_s_p99"])
    f2 = pareto_mask(-df["tokens_per_s_per_gpu"].fillna(0), -df["tokens_per_s_per_user"].fillna(0))
    dominated = ok & ~f1 & ~f2 & (df["verified"] != "simulated")
    df["dominated"] = dominated
    return df.reset_index(drop=True)


@dataclass
class Plan:
    """The answer to a :class:`PlanSpec`: `table` (one row per candidate, ranked), `best`, `pareto`."""

    spec: PlanSpec
    table: pd.DataFrame
    shape: WorkloadShape
    stats: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.table = rank_table(self.table, self.spec)

    @property
    def feasible(self) -> pd.DataFrame:
        return self.table[self.table["feasible"]]

    @property
    def best(self) -> pd.Series | None:
        """The chosen configuration: the best simulated feasible row (None when nothing verified meets the SLOs)."""
        ok = self.table[self.table["feasible"] & (self.table["verified"] == "simulated")]
        return ok.iloc[0] if len(ok) else None

    @property
    def pareto(self) -> pd.DataFrame:
        """Feasible rows on the $/hour vs p99 TTFT front."""
        ok = self.feasible
        return ok[pareto_mask(ok["cost_per_hour_usd"], ok["ttft_s_p99"])]

    def rejections(self) -> pd.DataFrame:
        """Why each rejected family (device × mode × tp) was rejected: its most common reason."""
        df = self.table
        rows = []
        for key, g in df.groupby(["device", "mode", "tp"], sort=True):
            if g["feasible"].any():
                continue
            reasons = g["reason"].replace("", "dominated")
            rows.append({"device": key[0], "mode": key[1], "tp": key[2], "candidates": len(g),
                         "reason": reasons.mode().iat[0]})
        return pd.DataFrame(rows, columns=["device", "mode", "tp", "candidates", "reason"])

    def advice(self) -> list[str]:
        """When nothing is feasible: the SLO closest to being met and what would change the answer."""
        if self.best is not None:
            return []
        df, out = self.table, []
        over = df[df["reason"].str.startswith("over the GPU budget")]
        if len(over):
            out.append(f"more GPUs: the cheapest configuration meeting the SLOs needs {int(over['total_gpus'].min())}"
                       " GPUs")
        misses = df[df["reason"].str.contains("SLO miss|misses", regex=True)]
        if len(misses):
            out.append(f"closest SLO miss: {misses.iloc[0]['reason']} ({misses.iloc[0]['device']}, "
                       f"tp={misses.iloc[0]['tp']}); loosen that target")
        if not any(d in self.spec.search.weight_dtype for d in ("fp8", "int8", "int4")):
            out.append("lower precision: add fp8 (or int4) to search.weight_dtype")
        if not out:
            out.append("widen the search space (more devices, tp, batch caps)")
        return out

    def answer(self, top: int = 10) -> pd.DataFrame:
        cols = [c for c in ANSWER_COLUMNS if c in self.table.columns]
        return self.table[cols].head(top)

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-ready: spec, stats, best, advice, rejections and the table (SI units)."""
        table = self.answer(top or len(self.table))
        best = self.best
        return {"spec": self.spec.model_dump(mode="json"), "stats": self.stats,
                "best": None if best is None else _records(best.to_frame().T)[0],
                "advice": self.advice(), "rejections": _records(self.rejections()), "table": _records(table)}

    def scenario(self, row: pd.Series | None = None):
        """The simulator scenario of a row (default: the best) at the planned load: what stage 2 simulated."""
        from perfmodel.plan.planner import _planned_load
        from perfmodel.plan.scenario import build_scenario

        row = self.best if row is None else row
        v = self.spec.verify
        return build_scenario(self.spec, row.to_dict(), int(row["units"]), _planned_load(self.spec), v.requests, v.seed)

    def launch(self, row: pd.Series | None = None) -> dict[str, list[str]]:
        from perfmodel.plan.launch import launch_commands
        from perfmodel.specs.catalog import load_model

        row = self.best if row is None else row
        arch = load_model(self.spec.model)
        ctx = int(self.shape.input_len + self.shape.output_q["p99"])
        spec_cfg = self.spec.speculative.model_dump() if self.spec.speculative else None
        return launch_commands(arch.hf_repo or arch.id, row.to_dict(), int(row["units"]), max(ctx, 1), spec_cfg)

    def export(self, folder: str | Path) -> list[Path]:
        """Write plan.json, table.csv, rejections.csv and, for the chosen configuration, scenario.yaml
        (replayable with `perfmodel simulate`) and launch-<engine>.sh. Returns the paths written."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / "plan.json", folder / "table.csv", folder / "rejections.csv"]
        paths[0].write_text(json.dumps(self.to_dict(), indent=2, default=_json_default))
        self.answer(len(self.table)).to_csv(paths[1], index=False)
        self.rejections().to_csv(paths[2], index=False)
        if self.best is not None:
            sc = self.scenario().model_dump(mode="json", exclude_none=True)
            p = folder / "scenario.yaml"
            p.write_text(yaml.safe_dump(sc, sort_keys=False))
            paths.append(p)
            for engine, cmds in self.launch().items():
                p = folder / f"launch-{engine.replace('.', '')}.sh"
                p.write_text("#!/bin/sh\n" + "\n".join(cmds) + "\n")
                paths.append(p)
        return paths


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in df.to_dict("records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else _json_default(v)
                        if isinstance(v, (np.generic,)) else v) for k, v in rec.items()})
    return out
