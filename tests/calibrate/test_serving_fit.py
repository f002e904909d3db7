"""Which serving rows enter the fit: closed-loop throughput and mean TPOT, a lone request's median TPOT."""

from __future__ import annotations

import numpy as np
import pandas as pd

from perfmodel.calibrate.serving_fit import serving_fit_rows


def _rows(config_id: str, concurrency: float, quantities: dict[str, float], disagg: str = "") -> list[dict]:
    return [{"config_id": config_id, "concurrency": concurrency, "disagg": disagg, "spec_decode": "",
             "quantity": q, "value": v} for q, v in quantities.items()]


def test_lone_request_median_tpot_counts_as_its_mean_and_nothing_else_changes() -> None:
    serving = pd.DataFrame(
        _rows("alone", 1.0, {"ttft_p50_s": 0.2, "tpot_p50_s": 0.014})
        + _rows("eight", 8.0, {"ttft_p50_s": 0.3, "tpot_p50_s": 0.011})
        + _rows("mean", 1.0, {"tpot_mean_s": 0.020, "tpot_p50_s": 0.015, "output_tokens_per_s": 50.0})
        + _rows("disagg", 1.0, {"tpot_p50_s": 0.01}, disagg="1p1d")
        + _rows("open", np.nan, {"tpot_mean_s": 0.03}))
    fit = serving_fit_rows(serving)
    got = sorted(zip(fit["config_id"], fit["quantity"], fit["value"], strict=True))
    assert got == [("alone", "tpot_mean_s", 0.014),  # a lone request's median is its mean
                   ("mean", "output_tokens_per_s", 50.0),
                   ("mean", "tpot_mean_s", 0.020)]  # a reported mean wins over the median
    assert (fit["kind"] == "serving").all() and list(fit["batch"]) == [1, 1, 1]
