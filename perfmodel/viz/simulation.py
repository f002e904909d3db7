"""Plotly figures of a :class:`~perfmodel.sim.SimResult` (pure functions: no I/O, no Streamlit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from perfmodel.sim import SimResult

LABELS = {"ttft_s": "TTFT", "tpot_s": "TPOT", "e2e_s": "end-to-end latency", "queue_s": "queueing delay",
          "batch_size": "batch size (sequences)", "kv_utilization": "KV-cache blocks in use (fraction)",
          "queue_len": "waiting requests", "new_tokens": "tokens per step"}
MAX_POINTS = 1500


def latency_cdf_figure(result: SimResult, metric: str = "ttft_s") -> go.Figure:
    """Empirical CDF of a per-request latency (seconds), one line per request class, SLO as a dashed line."""
    req = result.requests[result.requests["status"] == "completed"]
    fig = go.Figure()
    for name, grp in req.groupby("class", sort=False):
        values = np.sort(grp[metric].dropna().to_numpy())
        if values.size == 0:
            continue
        fig.add_trace(go.Scatter(x=values, y=np.arange(1, values.size + 1) / values.size, mode="lines",
                                 name=str(name), line={"shape": "hv"}))
    for cls in result.setup.workload.classes:
        limit = getattr(cls.slo, metric, None)
        if limit is not None:
            fig.add_vline(x=limit, line_dash="dash", annotation_text=f"{cls.name} SLO")
    fig.update_layout(title=f"{LABELS.get(metric, metric)} CDF", xaxis_title="seconds",
                      yaxis_title="fraction of requests", yaxis_range=[0, 1.02])
    return fig


def _downsample(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """At most MAX_POINTS points per replica: step-duration-weighted means over equal time bins."""
    if len(df) <= MAX_POINTS:
        return df[["time_s", column]]
    bins = np.linspace(df["time_s"].iloc[0], df["time_s"].iloc[-1], MAX_POINTS + 1)
    idx = np.clip(np.searchsorted(bins, df["time_s"].to_numpy(), side="right") - 1, 0, MAX_POINTS - 1)
    w = (df["end_s"] - df["time_s"]).to_numpy()
    sums = np.bincount(idx, weights=df[column].to_numpy() * w, minlength=MAX_POINTS)
    wsum = np.bincount(idx, weights=w, minlength=MAX_POINTS)
    keep = wsum > 0
    return pd.DataFrame({"time_s": bins[:-1][keep], column: sums[keep] / wsum[keep]})


def timeseries_figure(result: SimResult, column: str = "batch_size") -> go.Figure:
    """A per-step quantity over simulated time, one line per replica (time-binned when long)."""
    ts = result.timeseries
    fig = go.Figure()
    for replica, grp in ts.groupby("replica", sort=True):
        pts = _downsample(grp, column)
        pool = result.setup.replicas[int(replica)].pool
        fig.add_trace(go.Scatter(x=pts["time_s"], y=pts[column], mode="lines", name=f"replica {replica} ({pool})",
                                 line={"shape": "hv"}))
    fig.update_layout(title=f"{LABELS.get(column, column)} over time", xaxis_title="simulated time (s)",
                      yaxis_title=LABELS.get(column, column))
    return fig


def replica_table(result: SimResult) -> pd.DataFrame:
    """Per-replica table with display-friendly columns."""
    df = result.replicas.copy()
    for col in ("utilization", "mfu", "mbu", "kv_peak_utilization"):
        df[col] = (100 * df[col]).round(1)
    return df.rename(columns={"utilization": "utilization %", "mfu": "MFU %", "mbu": "MBU %",
                              "kv_peak_utilization": "KV peak %", "busy_s": "busy (s)"})
