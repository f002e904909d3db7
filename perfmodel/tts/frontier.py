"""Accuracy-versus-cost frontiers over models × strategies × N × length budgets.

For every configuration the accuracy comes from the trial data (:mod:`perfmodel.tts.accuracy`)
and the cost of a task from the cost core (:func:`perfmodel.strategies.task.price_tasks`), with
generation lengths drawn from the model's observed lengths (pooled over questions) capped at the
budget. The frontier for a budget unit (eFLOPs, FLOPs, seconds, dollars, joules) keeps the
configurations that no cheaper configuration matches in accuracy: the best accuracy reachable
for each budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from perfmodel.cost.engine import EngineProfile
from perfmodel.deprecation import warn_renamed
from perfmodel.errors import PerfModelError
from perfmodel.specs.device import Device, System
from perfmodel.strategies.alive import DEFAULT_RESOLUTION
from perfmodel.strategies.attention import DENSE, AttentionSpec
from perfmodel.strategies.lengths import EmpiricalLengths
from perfmodel.strategies.sampling import BestOfN, FirstFinish, LongCoT, OutcomeRewardModel
from perfmodel.strategies.task import make_setup, make_target, price_tasks
from perfmodel.tts import accuracy as acc
from perfmodel.tts.trials import load_trials

FRONTIER_STRATEGIES = ("long-cot", "pass@k", "self-consistency", "best-of-n", "first-finish")
BUDGET_UNITS = {"eflops": "eflops", "flops": "flops", "seconds": "latency_s", "dollars": "cost_usd",
                "joules": "energy_j"}
DEFAULT_N = (1, 2, 4, 8, 16, 32, 64, 128)
POINT_COLUMNS = ["model", "active_params", "strategy", "n", "length_budget", "attention", "accuracy", "eflops",
                 "flops", "bytes", "latency_s", "energy_j", "cost_usd", "generated_tokens", "attention_share"]


@dataclass(frozen=True)
class FrontierResult:
    """All configurations (`points`) and, per budget unit, the frontier and the size threshold."""

    points: pd.DataFrame
    frontiers: dict[str, pd.DataFrame] = field(repr=False)
    thresholds: dict[str, dict[str, Any] | None]

    def to_dict(self) -> dict[str, Any]:
        return {"frontiers": {k: v.to_dict(orient="records") for k, v in self.frontiers.items()},
                "thresholds": self.thresholds, "points": len(self.points)}


def pareto(points: pd.DataFrame, cost: str) -> pd.DataFrame:
    """Rows no cheaper (or equally cheap) row beats in accuracy, cheapest first, with a `budget` column."""
    df = points.dropna(subset=[cost, "accuracy"]).sort_values([cost, "accuracy"], ascending=[True, False])
    best = df["accuracy"].cummax().shift(fill_value=-np.inf)
    front = df[df["accuracy"] > best]
    return front.assign(budget=front[cost]).reset_index(drop=True)


def baselines(points: pd.DataFrame, cost: str) -> pd.DataFrame:
    """Each model without test-time scaling: one sample at its largest length budget (cheapest such row)."""
    single = points[points["n"] == 1].dropna(subset=[cost, "accuracy"])
    top = single[single["length_budget"] == single.groupby("model")["length_budget"].transform("max")]
    return top.sort_values(cost).groupby("model", as_index=False).first().sort_values("active_params")


def size_threshold(points: pd.DataFrame, cost: str) -> dict[str, Any] | None:
    """The model size above which test-time compute beats a bigger model.

    Model m "beats" the next larger model m' when some configuration of m (more samples, another
    strategy, another budget) reaches the accuracy of m' without test-time scaling (one sample
    at its largest budget) for less than m' costs. The threshold is the smallest model from which
    every model up to the second largest beats its next larger one; the largest model when even
    that one does not (then scaling the model always wins). None with fewer than two models.
    """
    base = baselines(points, cost)
    if len(base) < 2:
        return None
    rows = list(base.itertuples(index=False))
    comparisons = []
    for small, big in zip(rows, rows[1:], strict=False):
        reach = points[(points["model"] == small.model) & (points["accuracy"] >= big.accuracy)]
        best = float(reach[cost].min()) if len(reach) else float("inf")
        comparisons.append({"model": small.model, "bigger_model": big.model, "bigger_accuracy": float(big.accuracy),
                            "bigger_cost": float(getattr(big, cost)), "cheapest_match_cost": best,
                            "beats_bigger": bool(best < getattr(big, cost))})
    threshold = rows[-1]
    for row, comp in zip(reversed(rows[:-1]), reversed(comparisons), strict=True):
        if not comp["beats_bigger"]:
            break
        threshold = row
    return {"model": threshold.model, "active_params": float(threshold.active_params), "comparisons": comparisons}


def default_budgets(tokens: np.ndarray, count: int = 8) -> list[int]:
    """`count` length budgets spread geometrically up to the longest observed generation."""
    top = int(tokens.max())
    return sorted({int(b) for b in np.geomspace(max(256, top / 2 ** (count - 1)), top, count).round()})


def _strategies(name: str, n: int, lengths: EmpiricalLengths, budget: int, verifier: str | None):
    if name == "long-cot":
        return LongCoT(lengths=lengths, budget_tokens=budget)
    if name == "first-finish":
        return FirstFinish(k=n, m=1, lengths=lengths, budget_tokens=budget)
    if name == "best-of-n" and verifier:
        return BestOfN(n=n, lengths=lengths, budget_tokens=budget, verifier=OutcomeRewardModel(verifier))
    return BestOfN(n=n, lengths=lengths, budget_tokens=budget)  # pass@k, self-consistency: no verifier model


def _accuracies(qa: acc.QuestionArrays, name: str, ns: list[int], budget: int, rounds: int, seed: int) -> list[float]:
    if name == "long-cot":
        return [acc.coverage(qa, 1, budget)]
    if name == "pass@k":
        return [acc.coverage(qa, n, budget) for n in ns]
    if name == "self-consistency":
        return list(acc.majority_accuracy(qa, ns, budget, rounds, seed))
    if name == "best-of-n":
        return [acc.verifier_accuracy(qa, n, budget) for n in ns]
    return [acc.first_finish_accuracy(qa, n, budget) for n in ns]


def frontier(
    trials: str | Path | pd.DataFrame,
    hardware: str | Device | System,
    *,
    models: Sequence[str] | None = None,
    strategies: Sequence[str] | None = None,
    n_values: Sequence[int] = DEFAULT_N,
    length_budgets: Sequence[int] | None = None,
    input_len: int | None = None,
    attention: AttentionSpec = DENSE,
    weight_dtype: str = "bf16",
    kv_dtype: str | None = None,
    tp: int = 1,
    engine: str | EngineProfile | None = None,
    verifier_model: str | None = None,
    resolution: int | None = DEFAULT_RESOLUTION // 2,
    majority_rounds: int = acc.DEFAULT_ROUNDS,
    seed: int = 0,
    prompt_len: int | None = None,
) -> FrontierResult:
    """Accuracy and cost of every (model, strategy, N, length budget), and the frontiers.

    `strategies` from :data:`FRONTIER_STRATEGIES` (default: those the data supports — majority
    vote needs `answer`, best-of-n needs `score`). `input_len` defaults to the data's mean
    `input_len` column per model, else 256 (`prompt_len` is its deprecated spelling). `verifier_model`
    charges an outcome reward model for best-of-n (otherwise the scores are taken as free). `attention`
    is the attention the trials
    were generated with (sparse trials need sparse costs).
    """
    if prompt_len is not None:
        warn_renamed("prompt_len", "input_len")
        input_len = input_len if input_len is not None else prompt_len
    df = load_trials(trials)
    names = list(strategies) if strategies else [s for s in FRONTIER_STRATEGIES
                                                 if (s != "self-consistency" or "answer" in df.columns)
                                                 and (s != "best-of-n" or "score" in df.columns)]
    unknown = [s for s in names if s not in FRONTIER_STRATEGIES]
    if unknown:
        raise PerfModelError(f"unknown frontier strategy '{unknown[0]}'; use {', '.join(FRONTIER_STRATEGIES)}")
    chosen = list(models) if models else sorted(df["model"].unique())
    missing = [m for m in chosen if m not in set(df["model"])]
    if missing:
        raise PerfModelError(f"model '{missing[0]}' has no trials in the data")
    budgets = list(length_budgets) if length_budgets else default_budgets(df["generated_tokens"].to_numpy())
    rows: list[dict[str, Any]] = []
    for model in chosen:
        rows += _model_points(df[df["model"] == model], model, hardware, names, list(n_values), budgets,
                              input_len, attention, weight_dtype, kv_dtype, tp, engine, verifier_model,
                              resolution, majority_rounds, seed)
    points = pd.DataFrame(rows, columns=POINT_COLUMNS)
    frontiers = {unit: pareto(points, col) for unit, col in BUDGET_UNITS.items()}
    thresholds = {unit: size_threshold(points, col) for unit, col in BUDGET_UNITS.items()}
    return FrontierResult(points, frontiers, thresholds)


def _model_points(df: pd.DataFrame, model: str, hardware, names, ns, budgets, input_len, attention, weight_dtype,
                  kv_dtype, tp, engine, verifier_model, resolution, rounds, seed) -> list[dict[str, Any]]:
    qa = acc.QuestionArrays.from_frame(df)
    ns = [n for n in ns if n <= int(qa.n.min())]
    prompt = input_len or (int(round(df["input_len"].mean())) if "input_len" in df.columns else 256)
    target = make_target(model, hardware, attention=attention, weight_dtype=weight_dtype, kv_dtype=kv_dtype,
                         tp=tp, engine=engine)
    pooled = EmpiricalLengths(tuple(int(t) for t in df["generated_tokens"]), source=model)
    configs, tasks, setups, role_cache = [], {}, [], {}
    for budget in budgets:
        lengths = EmpiricalLengths(pooled.tokens, source=model)  # one object per budget: costs cached per object
        for name in names:
            n_list = [1] if name == "long-cot" else ns
            for n, accuracy in zip(n_list, _accuracies(qa, name, n_list, budget, rounds, seed), strict=True):
                kind = "verified" if name == "best-of-n" and verifier_model else name
                kind = "parallel" if kind in ("pass@k", "self-consistency", "best-of-n", "long-cot") else kind
                key = (kind, n, budget)
                if key not in tasks:
                    strategy = _strategies(name, n, lengths, budget, verifier_model)
                    tasks[key] = len(setups)
                    setups.append((make_setup(target, strategy, prompt, resolution, role_cache), strategy))
                configs.append((name, n, budget, accuracy, tasks[key]))
    costs = price_tasks([s for s, _ in setups], [st for _, st in setups])
    params = float(target.model.active_params())
    return [{"model": model, "active_params": params, "strategy": name, "n": n, "length_budget": budget,
             "attention": attention.label(), "accuracy": accuracy, "eflops": costs[i].eflops, "flops": costs[i].flops,
             "bytes": costs[i].bytes, "latency_s": costs[i].latency_s, "energy_j": costs[i].energy_j,
             "cost_usd": costs[i].cost_usd, "generated_tokens": costs[i].generated_tokens,
             "attention_share": costs[i].attention_share}
            for name, n, budget, accuracy, i in configs]
