"""Plotly figures for test-time scaling (pure functions: DataFrames in, figures out).

Inputs are the tables of :func:`perfmodel.tts.sweep.cost_table` (cost sweeps) and
:func:`perfmodel.tts.frontier.frontier` (accuracy-versus-cost points and frontiers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

METRIC_LABELS = {
    "eflops": "eFLOPs (FLOPs + I·bytes)", "flops": "FLOPs", "latency_s": "latency (s)", "cost_usd": "cost (USD)",
    "energy_j": "energy (J)", "bytes": "bytes moved", "kv_read_bytes": "KV bytes read",
}
TIME_PARTS = (("attention_time_s", "attention / KV", "#f58518"), ("gemm_time_s", "parameters (GEMMs)", "#4c78a8"),
              ("other_time_s", "overheads, norms, comm", "#bab0ac"))


def _label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def _lines(df: pd.DataFrame, x: str, y: str, title: str) -> go.Figure:
    """One line per model / strategy / attention; a line equal to an earlier one is drawn dotted with open
    markers on top of it (and says so in its legend name), so identical series never hide each other."""
    fig = go.Figure()
    keys = [c for c in ("model", "strategy", "attention") if c in df.columns and df[c].nunique() > 1] or ["model"]
    drawn: list[tuple[str, np.ndarray, np.ndarray]] = []
    for key, part in df.groupby(keys, sort=False):
        name = " · ".join(map(str, key if isinstance(key, tuple) else (key,)))
        part = part.sort_values(x)
        xs, ys = part[x].to_numpy(dtype=float), part[y].to_numpy(dtype=float)
        twin = next((other for other, ox, oy in drawn if _same(xs, ys, ox, oy)), None)
        drawn.append((name, xs, ys))
        if twin is None:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=name))
        else:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=f"{name} (= {twin})",
                                     line={"dash": "dot", "width": 3},
                                     marker={"symbol": "circle-open", "size": 12, "line": {"width": 2}}))
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=_label(y), template="plotly_white")
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig


def _same(xs: np.ndarray, ys: np.ndarray, ox: np.ndarray, oy: np.ndarray) -> bool:
    return xs.shape == ox.shape and bool(np.array_equal(xs, ox)) and bool(np.allclose(ys, oy, rtol=1e-9,
                                                                                        equal_nan=True))


def coinciding_series(fig: go.Figure) -> list[tuple[str, str]]:
    """(series, the earlier series it coincides with) for every line `_lines` marked as a duplicate."""
    out = []
    for trace in fig.data:
        name = str(trace.name or "")
        if name.endswith(")") and " (= " in name:
            series, twin = name[:-1].split(" (= ", 1)
            out.append((series, twin))
    return out


def cost_vs_n_figure(sweep: pd.DataFrame, metric: str = "eflops") -> go.Figure:
    """Cost of a task against the number of samples N (one line per model / strategy / attention)."""
    return _lines(sweep, "n", metric, f"{_label(metric)} vs number of samples")


def cost_vs_length_figure(sweep: pd.DataFrame, metric: str = "eflops") -> go.Figure:
    """Cost of a task against the generation length (budget)."""
    return _lines(sweep, "output_len", metric, f"{_label(metric)} vs generation length")


def eflops_vs_flops_figure(sweep: pd.DataFrame) -> go.Figure:
    """eFLOPs against FLOPs: distance above the diagonal is the memory (mostly KV) traffic × I."""
    fig = go.Figure()
    for model, part in sweep.groupby("model", sort=False):
        fig.add_trace(go.Scatter(x=part["flops"], y=part["eflops"], mode="markers", name=str(model),
                                 text=[f"{s} N={n} L={g}" for s, n, g in zip(part["strategy"], part["n"],
                                                                           part["output_len"], strict=True)]))
    lo = float(np.nanmin(sweep["flops"])) if len(sweep) else 1.0
    hi = float(np.nanmax(sweep["eflops"])) if len(sweep) else 10.0
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="eFLOPs = FLOPs",
                             line={"dash": "dash", "color": "grey"}, hoverinfo="skip"))
    fig.update_layout(title="eFLOPs vs FLOPs", xaxis_title="FLOPs", yaxis_title=_label("eflops"),
                      template="plotly_white")
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig


def time_split_figure(sweep: pd.DataFrame) -> go.Figure:
    """Where the time goes, per configuration: attention/KV vs parameter GEMMs vs the rest."""
    labels = [f"{m} · {s} · N={n} · L={g}" for m, s, n, g in zip(sweep["model"], sweep["strategy"], sweep["n"],
                                                               sweep["output_len"], strict=True)]
    fig = go.Figure()
    for col, name, color in TIME_PARTS:
        fig.add_trace(go.Bar(x=labels, y=sweep[col], name=name, marker_color=color))
    fig.update_layout(barmode="stack", title="Where the time goes", yaxis_title="seconds", template="plotly_white")
    return fig


def frontier_figure(points: pd.DataFrame, front: pd.DataFrame, cost: str = "eflops") -> go.Figure:
    """All configurations (faint) and the frontier: best accuracy reachable for each budget."""
    fig = go.Figure()
    for model, part in points.groupby("model", sort=False):
        fig.add_trace(go.Scatter(x=part[cost], y=part["accuracy"], mode="markers", name=str(model), opacity=0.35,
                                 text=[f"{s} N={n} B={b}" for s, n, b in zip(part["strategy"], part["n"],
                                                                           part["length_budget"], strict=True)]))
    if len(front):
        fig.add_trace(go.Scatter(x=front[cost], y=front["accuracy"], mode="lines+markers", name="frontier",
                                 line={"shape": "hv", "color": "black"},
                                 text=[f"{m} · {s} N={n} B={b}" for m, s, n, b in zip(
                                     front["model"], front["strategy"], front["n"], front["length_budget"],
                                     strict=True)]))
    fig.update_layout(title=f"Accuracy vs {_label(cost)}", xaxis_title=_label(cost), yaxis_title="accuracy",
                      template="plotly_white")
    fig.update_xaxes(type="log")
    return fig
