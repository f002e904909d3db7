"""Serving-level measurements (benchmark_serving-style runs) as one validated table, grouped by configuration.

A row is one quantity of one benchmark run: a deployment (hardware, dp replicas of tp×pp devices,
engine, dtypes) serving a workload (closed-loop `concurrency` or open-loop `request_rate`, uniform
lengths in [range_ratio·len, len]). Rows sharing everything but quantity/value are one configuration,
so one simulation serves all of its quantities.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from perfmodel.calibrate.data import RELIABILITY_WEIGHT, study_of, versioned_engines
from perfmodel.errors import SpecError
from perfmodel.specs.loader import read_csv_file

SERVING_COLUMNS = ("hardware", "num_devices", "tp", "pp", "ep", "dp", "engine", "engine_version", "model",
                   "weight_dtype", "kv_dtype", "concurrency", "request_rate", "input_len", "output_len",
                   "range_ratio", "num_requests", "spec_decode", "disagg", "quantity", "value", "reliability",
                   "source", "date")
THROUGHPUT_QUANTITIES = ("output_tokens_per_s", "total_tokens_per_s", "request_throughput_per_s")
LATENCY_QUANTITIES = tuple(f"{m}_{s}_s" for m in ("ttft", "tpot", "itl", "e2e") for s in ("mean", "p50", "p99"))
SERVING_QUANTITIES = THROUGHPUT_QUANTITIES + LATENCY_QUANTITIES
CONFIG_COLUMNS = ("hardware", "num_devices", "tp", "pp", "ep", "dp", "engine", "engine_version", "model",
                  "weight_dtype", "kv_dtype", "concurrency", "request_rate", "input_len", "output_len", "range_ratio",
                  "num_requests", "spec_decode", "disagg")
_INT_COLUMNS = ("num_devices", "tp", "pp", "ep", "dp")
_LENGTH_COLUMNS = ("input_len", "output_len")  # mean tokens per request (a data set's mean need not be whole)
_TEXT_COLUMNS = ("engine", "engine_version", "kv_dtype", "spec_decode", "disagg", "reliability", "source", "date")
DISAGG = re.compile(r"^(\d+)p(\d+)d$")


def _bad(path: Path, column: str, message: str, rows: Iterable[int] = ()) -> SpecError:
    lines = [int(r) + 2 for r in list(rows)[:3]]  # 1-based, after the header
    where = f" (line {', '.join(map(str, lines))})" if lines else ""
    return SpecError(message + where, source=str(path), field=column)


def _numeric(df: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = pd.to_numeric(df[column], errors="coerce")
    bad = values.isna() & df[column].notna() & (df[column].astype(str).str.strip() != "")
    if bad.any():
        raise _bad(path, column, f"not a number: {df[column][bad].iloc[0]!r}; write a plain number",
                   np.flatnonzero(bad))
    return values


def _read_one(path: Path) -> pd.DataFrame:
    df = read_csv_file(path, dtype=str, keep_default_na=False)
    missing = [c for c in SERVING_COLUMNS if c not in df.columns]
    if missing:
        raise SpecError(f"missing column(s) {', '.join(missing)}; a serving CSV has columns "
                        f"{','.join(SERVING_COLUMNS)}", source=str(path))
    df = df.replace("", np.nan)
    for col in ("hardware", "model", "weight_dtype", "quantity", "value"):
        empty = df[col].isna()
        if empty.any():
            raise _bad(path, col, "empty; every row needs it", np.flatnonzero(empty))
    out = pd.DataFrame({c: df[c] for c in ("hardware", "model", "weight_dtype", "quantity")})
    for col in _TEXT_COLUMNS:
        out[col] = df[col].fillna("").astype(str).str.strip()
    out["engine"] = versioned_engines(out)
    for col in _INT_COLUMNS:
        values = _numeric(df, col, path)
        if col in ("tp", "pp", "ep", "dp"):
            values = values.fillna(1)
        if values.isna().any():
            raise _bad(path, col, "empty; every row needs it", np.flatnonzero(values.isna()))
        wrong = (values < 1) | (values != values.round())
        if wrong.any():
            raise _bad(path, col, "must be a whole number >= 1", np.flatnonzero(wrong))
        out[col] = values.astype(int)
    for col in _LENGTH_COLUMNS:
        values = _numeric(df, col, path)
        if values.isna().any():
            raise _bad(path, col, "empty; every row needs it", np.flatnonzero(values.isna()))
        wrong = values < 1
        if wrong.any():
            raise _bad(path, col, "must be a mean length >= 1 token", np.flatnonzero(wrong))
        out[col] = values.astype(float)
    conc = _numeric(df, "concurrency", path)
    rate = _numeric(df, "request_rate", path)
    both, neither = conc.notna() & rate.notna(), conc.isna() & rate.isna()
    if both.any() or neither.any():
        raise _bad(path, "concurrency", "set exactly one of concurrency (closed loop) or request_rate (open loop)",
                   np.flatnonzero(both | neither))
    bad_conc = conc.notna() & ((conc <= 0) | (conc != conc.round()))
    if bad_conc.any():
        raise _bad(path, "concurrency", "must be a whole number >= 1", np.flatnonzero(bad_conc))
    if (rate <= 0).any():
        raise _bad(path, "request_rate", "must be > 0 req/s", np.flatnonzero(rate <= 0))
    out["concurrency"], out["request_rate"] = conc, rate
    ratio = _numeric(df, "range_ratio", path).fillna(1.0)
    wrong = (ratio <= 0) | (ratio > 1)
    if wrong.any():
        raise _bad(path, "range_ratio", "must be in (0, 1] (1 = fixed lengths)", np.flatnonzero(wrong))
    out["range_ratio"] = ratio
    nreq = _numeric(df, "num_requests", path)
    if (nreq < 1).any():
        raise _bad(path, "num_requests", "must be >= 1 (or empty)", np.flatnonzero(nreq < 1))
    out["num_requests"] = nreq
    value = _numeric(df, "value", path)
    if (value <= 0).any():
        raise _bad(path, "value", "every measured value must be > 0", np.flatnonzero(value <= 0))
    out["value"] = value.astype(float)
    unknown = ~out["quantity"].isin(SERVING_QUANTITIES)
    if unknown.any():
        raise _bad(path, "quantity", f"unknown quantity {out['quantity'][unknown].iloc[0]!r}; use one of "
                   f"{', '.join(SERVING_QUANTITIES)}", np.flatnonzero(unknown))
    devices = out["dp"] * out["tp"] * out["pp"]
    parsed = out["disagg"].str.extract(DISAGG)
    bad_disagg = (out["disagg"] != "") & parsed[0].isna()
    if bad_disagg.any():
        raise _bad(path, "disagg", f"{out['disagg'][bad_disagg].iloc[0]!r} is not like '1p1d' (prefill and decode "
                   "replica counts); leave empty for a unified deployment", np.flatnonzero(bad_disagg))
    pools = parsed[0].astype(float).fillna(0) + parsed[1].astype(float).fillna(0)
    devices = devices.where(out["disagg"] == "", pools * out["tp"] * out["pp"])
    mismatch = devices != out["num_devices"]
    if mismatch.any():
        raise _bad(path, "num_devices", "must equal dp·tp·pp (or (prefill + decode replicas)·tp·pp with disagg)",
                   np.flatnonzero(mismatch))
    out["reliability"] = out["reliability"].replace("", "B")
    out["file"] = str(path)
    out["line"] = np.arange(len(out)) + 2
    return out


def load_serving(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Read serving CSVs into one table with `weight` (from reliability), `config_id` and `row_id` columns.

    Raises :class:`SpecError` naming the file, column and fix for any bad input.
    """
    frames = [_read_one(Path(p)) for p in paths]
    if not frames:
        raise SpecError("no serving measurement files given")
    table = pd.concat(frames, ignore_index=True)
    table["weight"] = table["reliability"].map(RELIABILITY_WEIGHT).fillna(0.6)
    table["config_id"] = pd.factorize(pd.Series(row_keys(table, CONFIG_COLUMNS)))[0]
    table["study"] = table["source"].map(study_of)
    table["row_id"] = np.arange(len(table))
    return table


def row_keys(table: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """One text key per row from `columns` (equal keys: same configuration)."""
    return ["|".join(map(str, row)) for row in table[list(columns)].itertuples(index=False)]


def configurations(table: pd.DataFrame) -> list[tuple[pd.Series, pd.DataFrame]]:
    """(configuration, its rows) for each distinct configuration, in first-seen order."""
    return [(rows.iloc[0][list(CONFIG_COLUMNS)], rows) for _, rows in table.groupby("config_id", sort=True)]


def default_serving_files() -> list[Path]:
    """The project's own serving CSVs (validation/serving*.csv)."""
    from perfmodel.specs.catalog import catalog_dir

    return sorted(catalog_dir("validation").glob("serving*.csv"))
