"""Predicted-versus-measured figures for validation reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go


def scatter_figure(errors: pd.DataFrame) -> go.Figure:
    """Log-log predicted vs measured, one colour per quantity, with y = x and a ±10% band.

    Values are normalized per quantity to a ratio-preserving scale (measured / median measured),
    so seconds, tokens/s and kernel times share one plot.
    """
    fig = go.Figure()
    df = errors.dropna(subset=["predicted"])
    for quantity, part in df.groupby("quantity"):
        scale = part["value"].median()
        fig.add_trace(go.Scatter(
            x=part["value"] / scale, y=part["predicted"] / scale, mode="markers", name=str(quantity),
            text=[f"{r.hardware} · {r.engine} · {r.model} · {_load(r)} {r.input_len}→{r.output_len}<br>"
                  f"measured {r.value:.4g} · predicted {r.predicted:.4g} ({r.ratio:.2f}×)"
                  for r in part.itertuples()], hoverinfo="text"))
    span = np.array([0.05, 20.0])
    fig.add_trace(go.Scatter(x=span, y=span, mode="lines", name="y = x", line={"color": "black"}))
    fig.add_trace(go.Scatter(x=np.r_[span, span[::-1]], y=np.r_[span * 1.1, span[::-1] * 0.9], fill="toself",
                             mode="none", name="±10%", fillcolor="rgba(0,128,0,0.12)"))
    fig.update_layout(xaxis={"type": "log", "title": "measured (÷ median of its quantity)"},
                      yaxis={"type": "log", "title": "predicted (same scale)"}, height=600,
                      title="predicted vs measured")
    return fig


def _load(row) -> str:
    """How the row loads the system: a static batch, or a serving row's concurrency / request rate."""
    return str(row.load) if hasattr(row, "load") else f"b={row.batch}"


def error_table(rows: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group: row count, median and 90th-percentile |predicted/measured − 1| (%), and median ratio.

    `rows` needs a `ratio` column (predicted / measured) and the `by` column.
    """
    err = (rows["ratio"] - 1).abs() * 100
    out = rows.assign(abs_error_pct=err).groupby(by, sort=True).agg(
        rows=("ratio", "size"), median_abs_error_pct=("abs_error_pct", "median"),
        p90_abs_error_pct=("abs_error_pct", lambda s: s.quantile(0.9)), median_ratio=("ratio", "median"))
    return out.round(2).sort_values("median_abs_error_pct", ascending=False).reset_index()
