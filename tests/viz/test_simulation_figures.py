"""Figures of a simulation result: one CDF line per class ending at 1, percent columns, bounded series."""

from __future__ import annotations

import pandas as pd
import pytest

import perfmodel as pm
from perfmodel.viz import latency_cdf_figure, replica_table, timeseries_figure
from perfmodel.viz.simulation import MAX_POINTS, _downsample

SCENARIO = {
    "model": "llama-3.1-8b", "hardware": "h100-sxm-80gb", "replicas": 2,
    "workload": {"requests": 30, "arrival": {"process": "all-at-once"},
                 "input_len": {"dist": "fixed", "value": 100}, "output_len": {"dist": "fixed", "value": 10},
                 "classes": [{"name": "a", "slo": {"ttft_s": 0.5}}, {"name": "b"}]},
}


@pytest.fixture(scope="module")
def result() -> pm.SimResult:
    return pm.simulate(SCENARIO)


def test_latency_cdf_has_a_line_per_class_reaching_one_and_the_slo(result: pm.SimResult) -> None:
    fig = latency_cdf_figure(result, "ttft_s")
    assert sorted(t.name for t in fig.data) == ["a", "b"]
    assert all(t.y[-1] == 1.0 for t in fig.data)
    assert [s.x0 for s in fig.layout.shapes] == [0.5]


def test_replica_table_shows_percentages(result: pm.SimResult) -> None:
    table = replica_table(result)
    assert (table["utilization %"] == (100 * result.replicas["utilization"]).round(1)).all()
    assert len(timeseries_figure(result).data) == 2  # one line per replica


def test_downsample_weights_by_step_duration() -> None:
    n = 2 * MAX_POINTS
    # steps alternate: value 1 for 1 s, value 4 for 3 s; every bin holds one full pair
    time = [sum((1, 3)[j % 2] for j in range(i)) for i in range(n)]
    df = pd.DataFrame({"time_s": time, "end_s": [t + (1, 3)[i % 2] for i, t in enumerate(time)],
                       "v": [(1.0, 4.0)[i % 2] for i in range(n)]})
    out = _downsample(df, "v")
    assert len(out) <= MAX_POINTS
    assert out["v"].iloc[len(out) // 2] == pytest.approx((1 * 1 + 4 * 3) / 4)
