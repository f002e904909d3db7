"""Plotly figures and display formatting (pure functions).

The figures of the estimate, comparison and simulation views load with the package; those of the
calibration, test-time-scaling and validation views load on first use (PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perfmodel._lazy import lazy_attributes
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

# public name -> module that defines it, imported on first use
_LAZY: dict[str, str] = {
    **dict.fromkeys(("RooflineCurve", "calibrated_gemm_curves", "calibration_quality", "gemm_fit_figure",
                     "gemm_points"), "perfmodel.viz.calibration"),
    **dict.fromkeys(("coinciding_series", "cost_vs_length_figure", "cost_vs_n_figure", "eflops_vs_flops_figure",
                     "frontier_figure", "time_split_figure"), "perfmodel.viz.tts"),
    **dict.fromkeys(("error_table", "scatter_figure"), "perfmodel.viz.validation"),
}

__all__ = [
    "RooflineCurve", "breakdown_figure", "breakdown_table", "calibrated_gemm_curves", "calibration_quality",
    "coinciding_series", "compare_memory_figure", "compare_metrics_figure", "compare_roofline_figure",
    "compare_table", "cost_vs_length_figure", "cost_vs_n_figure", "eflops_vs_flops_figure", "error_table",
    "frontier_figure", "gemm_fit_figure", "gemm_points", "human_bytes", "human_flops", "human_rate",
    "human_seconds", "latency_cdf_figure", "memory_figure", "replica_table", "roofline_figure", "roofline_points",
    "scatter_figure", "time_split_figure", "timeseries_figure",
]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())


if TYPE_CHECKING:
    from perfmodel.viz.calibration import (
        RooflineCurve,
        calibrated_gemm_curves,
        calibration_quality,
        gemm_fit_figure,
        gemm_points,
    )
    from perfmodel.viz.tts import (
        coinciding_series,
        cost_vs_length_figure,
        cost_vs_n_figure,
        eflops_vs_flops_figure,
        frontier_figure,
        time_split_figure,
    )
    from perfmodel.viz.validation import error_table, scatter_figure
