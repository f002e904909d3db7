"""Validation page: predicted versus measured for the held-out rows of `calibration/cross_validation.csv`.

Thin by design: a CSV written by `perfmodel calibrate-engines` → filters → perfmodel.viz.validation figures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _ui  # noqa: E402

from perfmodel.viz import error_table, scatter_figure  # noqa: E402

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "calibration" / "cross_validation.csv"
PREDICTIONS = {"fitted (held out)": "fitted", "prior (uncalibrated)": "prior"}
GROUPS = ("engine", "hardware", "quantity", "model", "kind", "cv_source")


@st.cache_data(show_spinner=False)
def load(path: str, mtime: float) -> pd.DataFrame:
    """The cross-validation rows (`mtime` keys the cache so a rewritten file is read again)."""
    return pd.read_csv(path)


def main() -> None:
    st.title("Validation")
    st.caption("Each row's prediction comes from a fit that did not see the row's source "
               "(leave one source out), so the errors are out of sample.")
    sb = st.sidebar
    path = _ui.text(sb, "Cross-validation CSV", "val_csv", str(DEFAULT_CSV))
    if not Path(path).is_file():
        st.info(f"No validation data at {path}: run `perfmodel calibrate-engines` to write it.")
        return
    try:
        df = load(path, Path(path).stat().st_mtime)
        missing = {"engine", "hardware", "quantity", "value", "fitted", "prior"} - set(df.columns)
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(sorted(missing))}")
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        _ui.error(exc)
        return
    which = PREDICTIONS[_ui.select(sb, "Prediction", list(PREDICTIONS), "val_prediction")]
    engines = _ui.multi(sb, "Engines", sorted(df["engine"].astype(str).unique()), "val_engines")
    devices = _ui.multi(sb, "Devices", sorted(df["hardware"].astype(str).unique()), "val_devices")
    metrics = _ui.multi(sb, "Metrics", sorted(df["quantity"].astype(str).unique()), "val_metrics")
    group = _ui.select(sb, "Error table by", GROUPS, "val_group", "engine")
    rows = df[(df["engine"].astype(str).isin(engines or df["engine"].astype(str)))
              & (df["hardware"].astype(str).isin(devices or df["hardware"].astype(str)))
              & (df["quantity"].astype(str).isin(metrics or df["quantity"].astype(str)))]
    rows = rows.assign(predicted=rows[which], ratio=rows[which] / rows["value"])
    rows = rows[np.isfinite(rows["ratio"]) & (rows["value"] > 0)]
    if rows.empty:
        st.info("No rows match the filters.")
        return
    err = (rows["ratio"] - 1).abs()
    _ui.tiles([("Rows", f"{len(rows):,}"), ("Median |error|", f"{err.median():.1%}"),
               ("Within ±25%", f"{(err <= 0.25).mean():.0%}")])
    st.plotly_chart(scatter_figure(rows))
    st.subheader(f"Errors by {group}")
    st.dataframe(error_table(rows, group), hide_index=True)


main()
