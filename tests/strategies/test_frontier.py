"""Frontiers and the size threshold on a small trial set, and the example data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from perfmodel.errors import PerfModelError
from perfmodel.tts import frontier, load_trials, pareto, size_threshold

EXAMPLE = Path(__file__).resolve().parents[2] / "workloads" / "tts" / "trials_synthetic.csv"


def _points(rows: list[tuple]) -> pd.DataFrame:
    cols = ["model", "active_params", "strategy", "n", "length_budget", "accuracy", "eflops"]
    return pd.DataFrame(rows, columns=cols)


def test_pareto_keeps_best_accuracy_per_budget() -> None:
    pts = _points([("a", 1, "s", 1, 10, 0.2, 1.0), ("a", 1, "s", 2, 10, 0.1, 2.0), ("b", 2, "s", 1, 10, 0.5, 3.0),
                   ("b", 2, "s", 2, 10, 0.5, 4.0), ("b", 2, "s", 4, 10, 0.6, 4.0)])
    front = pareto(pts, "eflops")
    assert list(front["eflops"]) == [1.0, 3.0, 4.0]
    assert list(front["accuracy"]) == [0.2, 0.5, 0.6]
    assert np.all(np.diff(front["accuracy"]) > 0)


def test_size_threshold() -> None:
    """Small beats mid via test-time compute, mid does not beat big: threshold is the big model."""
    pts = _points([
        ("small", 1, "long-cot", 1, 100, 0.3, 1.0), ("small", 1, "pass@k", 8, 100, 0.6, 3.0),
        ("mid", 2, "long-cot", 1, 100, 0.5, 4.0), ("mid", 2, "pass@k", 8, 100, 0.95, 50.0),
        ("big", 3, "long-cot", 1, 100, 0.9, 10.0)])
    t = size_threshold(pts, "eflops")
    assert t["model"] == "big"
    assert [c["beats_bigger"] for c in t["comparisons"]] == [True, False]
    pts.loc[pts["model"] == "mid", "eflops"] = [4.0, 9.0]  # now mid reaches 0.9 for less than big
    assert size_threshold(pts, "eflops")["model"] == "small"


def test_example_data_is_synthetic_and_valid() -> None:
    df = load_trials(EXAMPLE)
    assert set(df["model"]) == {"qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"}
    assert {"answer", "score", "input_len"} <= set(df.columns)
    acc = df.groupby("model")["correct"].mean()
    assert acc["qwen3-32b"] > acc["qwen3-0.6b"]
    assert "SYNTHETIC" in (EXAMPLE.parent / "make_trials.py").read_text()


def test_frontier_on_example() -> None:
    r = frontier(EXAMPLE, "h100-sxm-80gb", models=["qwen3-0.6b", "qwen3-8b"], n_values=(1, 2, 4, 8),
                 length_budgets=(4096, 16384))
    pts = r.points
    assert set(pts["strategy"]) == {"long-cot", "pass@k", "self-consistency", "best-of-n", "first-finish"}
    assert len(pts) == 2 * 2 * (1 + 4 * 4)
    assert pts["accuracy"].between(0, 1).all() and (pts["eflops"] > pts["flops"]).all()
    for unit in ("eflops", "flops", "seconds", "dollars", "joules"):
        front = r.frontiers[unit]
        assert len(front) >= 1 and np.all(np.diff(front["accuracy"]) > 0) and np.all(np.diff(front["budget"]) >= 0)
    # pass@k never below one sample; more samples never cost less
    cov = pts[pts["strategy"] == "pass@k"].sort_values("n")
    for _, g in cov.groupby(["model", "length_budget"]):
        assert np.all(np.diff(g["accuracy"]) >= -1e-12) and np.all(np.diff(g["eflops"]) > 0)


def test_frontier_errors() -> None:
    with pytest.raises(PerfModelError, match="no trials"):
        frontier(EXAMPLE, "h100-sxm-80gb", models=["llama-3.1-8b"])
    with pytest.raises(PerfModelError, match="unknown frontier strategy"):
        frontier(EXAMPLE, "h100-sxm-80gb", strategies=["tree"])
