"""Serving rows in the fit: the closed-loop throughput and mean-TPOT rows the steady-state closed form prices.

The simulator scores every serving row (`perfmodel validate --serving`), but a least-squares fit
evaluates the model thousands of times, so it uses :func:`perfmodel.steady_state` and only the rows
that closed form describes: closed-loop (fixed-concurrency) runs of a unified deployment without
speculative decoding, output tokens/s and mean TPOT (a median TPOT is no stand-in:
with long prompts most sequences see no prompt chunk while the mean pays for every chunk). At
concurrency 1 it is: each request decodes alone, every one at the same per-token cost, so a run
that reports only the median TPOT contributes it as the mean.
"""

from __future__ import annotations

import pandas as pd

FIT_QUANTITIES = ("output_tokens_per_s", "tpot_mean_s")
SERVING_KIND = "serving"


def serving_fit_rows(serving: pd.DataFrame) -> pd.DataFrame:
    """The serving rows a fit uses, as rows of the measurement table (`kind` = 'serving')."""
    usable = serving[serving["concurrency"].notna() & (serving["disagg"] == "") & (serving["spec_decode"] == "")]
    rows = []
    for _key, part in usable.groupby("config_id", sort=False):
        by_q = {q: r for q, r in zip(part["quantity"], part.itertuples(index=False), strict=True)}
        if "tpot_mean_s" not in by_q and "tpot_p50_s" in by_q and float(part["concurrency"].iloc[0]) == 1.0:
            by_q["tpot_mean_s"] = by_q["tpot_p50_s"]  # alone, every request decodes at the same per-token cost
        for quantity in FIT_QUANTITIES:
            row = by_q.get(quantity)
            if row is not None:
                rows.append(row._asdict() | {"quantity": quantity})
    if not rows:
        return pd.DataFrame()
    out = pd.DataFrame(rows)
    out["kind"] = SERVING_KIND
    out["batch"] = out["concurrency"].astype(int)
    out["operator"] = ""
    return out
