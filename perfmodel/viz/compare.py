"""Side-by-side figures of a few estimates (pure functions: estimates in, table or figures out)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from perfmodel.analytic import Estimate
from perfmodel.units import GB
from perfmodel.viz.figures import MEMORY_PARTS, PHASE_COLORS, roofline_points

COMPARE_METRICS = (  # (column, label, unit shown on the axis)
    ("ttft_s", "TTFT", "s"), ("tpot_s", "TPOT", "s"), ("e2e_s", "E2E latency", "s"),
    ("output_tokens_per_s", "output tokens/s", "tok/s"),
)


def compare_table(estimates: Sequence[Estimate], labels: Sequence[str]) -> pd.DataFrame:
    """One row per labelled estimate: latencies (s), throughput (tok/s), memory per device (GB), fit, bottleneck."""
    rows = []
    for label, est in zip(labels, estimates, strict=True):
        mem = est.memory
        rows.append({"configuration": label, "ttft_s": est.ttft_s, "tpot_s": est.tpot_s, "e2e_s": est.e2e_s,
                     "output_tokens_per_s": est.output_tokens_per_s, "memory_gb": mem.total_bytes / GB,
                     "capacity_gb": mem.capacity_bytes / GB, "fits": bool(est.fits), "bottleneck": est.bottleneck})
    return pd.DataFrame(rows)


def compare_metrics_figure(table: pd.DataFrame) -> go.Figure:
    """Each metric relative to the first configuration (= 1), grouped by metric; hover shows the value."""
    fig = go.Figure()
    base = table.iloc[0]
    for _, row in table.iterrows():
        ratios = [row[c] / base[c] if base[c] else float("nan") for c, _, _ in COMPARE_METRICS]
        fig.add_trace(go.Bar(x=[label for _, label, _ in COMPARE_METRICS], y=ratios, name=str(row["configuration"]),
                             customdata=[f"{row[c]:.4g} {unit}" for c, _, unit in COMPARE_METRICS],
                             hovertemplate="%{x}: %{customdata} (%{y:.2f}× the first)<extra></extra>"))
    fig.add_hline(y=1.0, line={"color": "grey", "dash": "dot"})
    fig.update_layout(barmode="group", title=f"Relative to {base['configuration']} (lower latency, higher tok/s "
                      "are better)", yaxis_title="× the first configuration", legend_title_text="")
    return fig


def compare_memory_figure(estimates: Sequence[Estimate], labels: Sequence[str]) -> go.Figure:
    """Per-device memory of each configuration as stacked bars (GB), each with its capacity marked."""
    fig = go.Figure()
    for field, part, color in MEMORY_PARTS:
        fig.add_trace(go.Bar(y=list(labels), x=[getattr(e.memory, field) / GB for e in estimates], orientation="h",
                             name=part, marker_color=color,
                             hovertemplate=f"{part}: %{{x:.3g}} GB<extra></extra>"))
    fig.add_trace(go.Scatter(y=list(labels), x=[e.memory.capacity_bytes / GB for e in estimates], mode="markers",
                             name="capacity", marker={"symbol": "line-ns-open", "size": 28, "color": "black",
                                                      "line": {"width": 3}},
                             hovertemplate="capacity %{x:.3g} GB<extra></extra>"))
    fig.update_layout(barmode="stack", title="Memory per device", xaxis_title="GB (10⁹ bytes)",
                      height=140 + 60 * len(labels), legend_title_text="")
    return fig


def compare_roofline_figure(estimates: Sequence[Estimate], labels: Sequence[str]) -> go.Figure:
    """Every configuration's operators on one log-log plot (symbol per configuration, colour per phase)."""
    symbols = ("circle", "square", "diamond", "triangle-up")
    fig = go.Figure()
    for i, (label, est) in enumerate(zip(labels, estimates, strict=True)):
        pts = roofline_points(est)
        for phase, rows in pts.groupby("phase", sort=False):
            fig.add_trace(go.Scatter(
                x=rows["intensity"], y=rows["flops_per_s"], mode="markers", name=f"{label} · {phase}",
                marker={"size": 9, "symbol": symbols[i % len(symbols)], "color": PHASE_COLORS.get(str(phase))},
                text=rows["operator"], hovertemplate="%{text}<br>%{x:.3g} FLOP/B<br>%{y:.3s}FLOP/s<extra></extra>"))
    fig.update_layout(title="Operators on the roofline (per-device roofs on each configuration's Estimate page)",
                      legend_title_text="")
    fig.update_xaxes(type="log", title="arithmetic intensity (FLOP/byte)")
    fig.update_yaxes(type="log", title="achieved FLOP/s")
    return fig
