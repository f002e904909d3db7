"""Predict measurement rows through the public API (the same path users take)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from perfmodel.analytic import FitWarning, estimate, kernel_time
from perfmodel.cost.engine import EngineProfile
from perfmodel.errors import PerfModelError
from perfmodel.specs.device import Device


def predict_row(row: pd.Series | object, engines: Mapping[str, EngineProfile] | None = None,
                devices: Mapping[str, Device] | None = None) -> float:
    """The model's value for one measurement row (same quantity and units as the row)."""
    engine = (engines or {}).get(row.engine, row.engine)
    hardware = (devices or {}).get(row.hardware, row.hardware)
    kv = row.kv_dtype or None
    if row.kind == "kernel":
        return kernel_time(row.model, hardware, row.operator, num_tokens=int(row.input_len),
                              tp=int(row.num_devices), weight_dtype=row.weight_dtype, kv_dtype=kv, engine=engine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        est = estimate(row.model, hardware, batch=int(row.batch), input_len=int(row.input_len),
                          output_len=int(row.output_len), tp=int(row.num_devices), weight_dtype=row.weight_dtype,
                          kv_dtype=kv, engine=engine)
    value = getattr(est, row.quantity)
    return float("nan") if value is None else float(value)


def predict(table: pd.DataFrame, engines: Mapping[str, EngineProfile] | None = None,
            devices: Mapping[str, Device] | None = None) -> np.ndarray:
    """Predictions for every row; a row the model cannot price gives NaN (reported, never dropped).

    Serving rows (`kind` = 'serving') are priced together by the steady-state closed form.
    """
    from perfmodel.calibrate.serving_fit import SERVING_KIND
    from perfmodel.calibrate.serving_predict import predict_serving_steady

    out = np.full(len(table), np.nan)
    serving = (table["kind"] == SERVING_KIND).to_numpy()
    for i, row in enumerate(table.itertuples(index=False)):
        if serving[i]:
            continue
        try:
            out[i] = predict_row(row, engines, devices)
        except PerfModelError:
            out[i] = np.nan
    if serving.any():
        out[serving] = predict_serving_steady(table[serving], engines=engines, devices=devices)["predicted"]
    return out
