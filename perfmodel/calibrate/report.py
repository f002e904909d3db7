"""Accuracy summaries of predictions against measurements, as tables and an HTML page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

GROUPS = {"source": "study", "device": "hardware", "engine": "engine", "quantity": "quantity", "model": "model"}


def with_errors(table: pd.DataFrame, predicted: np.ndarray) -> pd.DataFrame:
    """The table plus `predicted`, `ratio` (predicted / measured) and `abs_rel_error`."""
    out = table.copy()
    out["predicted"] = predicted
    out["ratio"] = out["predicted"] / out["value"]
    out["abs_rel_error"] = (out["ratio"] - 1.0).abs()
    return out


def summary(errors: pd.DataFrame) -> dict[str, float]:
    """Median and 90th percentile of |relative error|, and the worst ratio either way."""
    err = errors["abs_rel_error"]
    ratio = errors["ratio"]
    worst = np.maximum(ratio, 1.0 / ratio).max() if len(ratio) else float("nan")
    return {"rows": int(len(errors)), "predicted": int(err.notna().sum()), "median": float(err.median()),
            "p90": float(err.quantile(0.9)), "max_ratio": float(worst)}


def summary_by(errors: pd.DataFrame, group: str) -> pd.DataFrame:
    """One summary row per value of `group` (source, device, engine, quantity or model)."""
    column = GROUPS[group]
    rows = [{group: key, **summary(part)} for key, part in errors.groupby(column, sort=True)]
    return pd.DataFrame(rows)


def passes_gate(stats: dict[str, float], thresholds: dict[str, float]) -> list[str]:
    """Names of the thresholds the summary violates (empty list = pass)."""
    failures = []
    if not stats["median"] <= thresholds["median_abs_rel_error"]:
        failures.append(f"median |error| {stats['median']:.1%} > {thresholds['median_abs_rel_error']:.0%}")
    if not stats["p90"] <= thresholds["p90_abs_rel_error"]:
        failures.append(f"p90 |error| {stats['p90']:.1%} > {thresholds['p90_abs_rel_error']:.0%}")
    if not stats["max_ratio"] <= thresholds["max_ratio"]:
        failures.append(f"worst row off by {stats['max_ratio']:.2f}x > {thresholds['max_ratio']}x")
    if stats["predicted"] < stats["rows"]:
        failures.append(f"{stats['rows'] - stats['predicted']} rows could not be predicted")
    return failures


STATIC_ROW_COLUMNS = ("kind", "hardware", "num_devices", "engine", "model", "batch", "input_len", "output_len",
                      "quantity", "value", "predicted", "ratio")


def html_report(errors: pd.DataFrame, path: Path, *, title: str = "perfmodel validation",
                groups: tuple[str, ...] = ("source", "device", "engine", "quantity"),
                columns: tuple[str, ...] = STATIC_ROW_COLUMNS) -> None:
    """A self-contained page: predicted-vs-measured scatter, the summary tables by `groups`, the rows."""
    from perfmodel.viz.validation import scatter_figure

    figure = scatter_figure(errors)
    parts = [f"<h1>{title}</h1>", "<h2>Overall</h2>", pd.DataFrame([summary(errors)]).to_html(index=False),
             figure.to_html(full_html=False, include_plotlyjs="cdn")]
    for group in groups:
        parts += [f"<h2>By {group}</h2>", summary_by(errors, group).to_html(index=False, float_format="%.3f")]
    parts += ["<h2>Rows</h2>", errors[list(columns)].to_html(index=False, float_format="%.4g")]
    body = "\n".join(parts)
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
                    f"<body style='font-family:sans-serif'>{body}</body></html>")
