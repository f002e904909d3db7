"""Figures behind the Compare, Validation, Calibration and Test-time scaling pages, on hand-made inputs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import perfmodel as pm
from perfmodel.viz import compare_memory_figure, compare_metrics_figure, compare_table
from perfmodel.viz.calibration import gemm_fit_figure, gemm_points
from perfmodel.viz.tts import coinciding_series, cost_vs_n_figure
from perfmodel.viz.validation import error_table


def test_identical_series_are_marked_not_hidden() -> None:
    rows = []
    for strategy, scale in (("best-of-n", 1.0), ("first-finish", 1.0), ("self-consistency", 2.0)):
        rows += [{"model": "m", "strategy": strategy, "n": n, "eflops": scale * n * 1e15} for n in (1, 2, 4)]
    fig = cost_vs_n_figure(pd.DataFrame(rows), "eflops")
    assert len(fig.data) == 3
    assert coinciding_series(fig) == [("first-finish", "best-of-n")]
    twin = fig.data[1]
    assert twin.line.dash == "dot" and twin.marker.symbol == "circle-open"
    assert fig.data[0].line.dash is None and fig.data[2].line.dash is None


def test_error_table_by_group() -> None:
    rows = pd.DataFrame({"engine": ["a", "a", "b"], "ratio": [1.1, 0.9, 1.5]})
    table = error_table(rows, "engine").set_index("engine")
    assert table.loc["a", "rows"] == 2 and table.loc["b", "rows"] == 1
    assert table.loc["a", "median_abs_error_pct"] == pytest.approx(10.0)
    assert table.loc["b", "median_abs_error_pct"] == pytest.approx(50.0)
    assert table.loc["a", "median_ratio"] == pytest.approx(1.0)
    assert list(table.index) == ["b", "a"]  # worst first


@pytest.fixture(scope="module")
def two() -> list[pm.Estimate]:
    return [pm.estimate("qwen3-0.6b", "h100-sxm-80gb", batch=4, input_len=256, output_len=32),
            pm.estimate("qwen3-0.6b", "a100-sxm-80gb", batch=4, input_len=256, output_len=32)]


def test_compare_table_and_relative_bars(two: list[pm.Estimate]) -> None:
    table = compare_table(two, ["h100", "a100"])
    assert list(table["configuration"]) == ["h100", "a100"]
    assert table.loc[1, "tpot_s"] == two[1].tpot_s
    assert table.loc[0, "memory_gb"] == pytest.approx(two[0].memory.total_bytes / 1e9)
    fig = compare_metrics_figure(table)
    assert list(fig.data[0].y) == pytest.approx([1.0, 1.0, 1.0, 1.0])
    assert fig.data[1].y[1] == pytest.approx(two[1].tpot_s / two[0].tpot_s)
    mem = compare_memory_figure(two, ["h100", "a100"])
    weights = next(t for t in mem.data if t.name == "weights")
    assert weights.x[0] == pytest.approx(two[0].memory.weights_bytes / 1e9)


def test_gemm_fit_figure_shows_fitted_and_datasheet_roofs() -> None:
    big = SimpleNamespace(flops=2e9, bytes=1e7, params={"dtype": "fp32"}, seconds=lambda stat: 0.04)
    skinny = SimpleNamespace(flops=1e7, bytes=1e7, params={"dtype": "fp32"}, seconds=lambda stat: 0.002)
    points = gemm_points([big, skinny])
    assert points.loc[0, "intensity"] == pytest.approx(200.0) and points.loc[0, "flops_per_s"] == pytest.approx(5e10)
    assert points.loc[1, "intensity"] == pytest.approx(1.0) and points.loc[1, "flops_per_s"] == pytest.approx(5e9)
    fit = SimpleNamespace(peak_flops_per_s=1e11, bw_bytes_per_s=1e10, sharpness=50.0)
    fig = gemm_fit_figure(points, {"fp32": fit}, {"fp32": 4e11}, 2e10)
    by_name = {t.name: t for t in fig.data}
    fitted, sheet = by_name["fp32 fitted"], by_name["fp32 datasheet"]
    x = np.asarray(fitted.x)
    assert np.asarray(fitted.y)[-1] == pytest.approx(1e11, rel=0.02)  # compute-bound end: the fitted peak
    assert np.asarray(fitted.y)[0] == pytest.approx(1e10 * x[0], rel=0.02)  # memory-bound end: bw × intensity
    assert np.asarray(sheet.y) == pytest.approx(np.minimum(4e11, 2e10 * np.asarray(sheet.x)))
