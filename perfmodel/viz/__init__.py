"""Plotly figures and display formatting (pure functions)."""

from perfmodel.viz.compare import (
    compare_memory_figure,
    compare_metrics_figure,
    compare_roofline_figure,
    compare_table,
)
from perfmodel.viz.figures import (
    breakdown_figure,
    breakdown_table,
    memory_figure,
    roofline_figure,
    roofline_points,
)
from perfmodel.viz.format import human_bytes, human_flops, human_rate, human_seconds
from perfmodel.viz.simulation import latency_cdf_figure, replica_table, timeseries_figure

__all__ = [
    "breakdown_figure", "breakdown_table", "compare_memory_figure", "compare_metrics_figure",
    "compare_roofline_figure", "compare_table", "human_bytes", "human_flops", "human_rate", "human_seconds",
    "latency_cdf_figure", "memory_figure", "replica_table", "roofline_figure", "roofline_points",
    "timeseries_figure",
]
