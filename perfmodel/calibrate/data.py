"""Published measurements as one validated table (end-to-end rows and per-operator kernel rows)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from perfmodel.cost.engine import DEFAULT_ENGINE, profile_for_version
from perfmodel.errors import SpecError
from perfmodel.specs.loader import is_file, read_csv_file

E2E_QUANTITIES = ("ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s", "prefill_tokens_per_s", "decode_tokens_per_s")
E2E_COLUMNS = ("hardware", "num_devices", "engine", "model", "weight_dtype", "kv_dtype", "batch", "input_len",
               "output_len", "quantity", "value", "source")
KERNEL_COLUMNS = ("hardware", "model", "tensor_parallel", "dtype", "num_tokens", "operator", "time_s", "source")
# External operator names -> perfmodel breakdown names.
KERNEL_OPERATORS = {"qkv_proj": "qkv_proj", "o_proj": "o_proj", "gate_up_proj": "mlp_up", "down_proj": "mlp_down",
                    "mlp_up": "mlp_up", "mlp_down": "mlp_down"}
RELIABILITY_WEIGHT = {"A": 1.0, "B": 0.8, "B-": 0.6, "C": 0.4}
STATIC_FILES = ("kernel_measurements.csv", "measurements.csv", "static_modern.csv")
UNKNOWN_ENGINE = DEFAULT_ENGINE  # a row that names no engine is scored with the default profile
KERNEL_ENGINE = "kernels"


def _require(df: pd.DataFrame, columns: Iterable[str], path: Path) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SpecError(f"missing column(s) {', '.join(missing)}; see validation/README.md", source=str(path))


def study_of(source: str) -> str:
    """The publication a row comes from, for leave-one-source-out: the citation before its parenthesised
    detail, a repository's folder (two levels) for per-file citations, one page for its language editions."""
    head = re.sub(r"(amd\.com)/[a-z]{2}(?:-[a-z]{2})?/", r"\1/", source.split(" (", 1)[0].strip())
    match = re.match(r"^(github:[^@:]+)(?:@[0-9a-f]+)?:(.+)$", head)
    if match:
        folders = match.group(2).split("/")[:-1] or [match.group(2)]
        return f"{match.group(1)}:{'/'.join(folders[:3])}"
    return head


def versioned_engines(df: pd.DataFrame) -> pd.Series:
    """Each row's engine profile: its `engine`, refined by `engine_version` where the file has that column
    (vLLM 0.7 rows are `vllm-v0`); an empty engine is the default."""
    engines = df["engine"].fillna("").astype(str).replace("", UNKNOWN_ENGINE)
    if "engine_version" not in df.columns:
        return engines
    versions = df["engine_version"].fillna("").astype(str)
    return pd.Series([profile_for_version(e, v) for e, v in zip(engines, versions, strict=True)], index=df.index)


def _e2e_rows(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    _require(df, E2E_COLUMNS, path)
    bad = sorted(set(df["quantity"]) - set(E2E_QUANTITIES))
    if bad:
        raise SpecError(f"unknown quantity {bad[0]!r}; use one of {', '.join(E2E_QUANTITIES)}",
                        source=str(path), field="quantity")
    out = pd.DataFrame({
        "kind": "e2e",
        "hardware": df["hardware"].astype(str),
        "num_devices": df["num_devices"].astype(int),
        "engine": versioned_engines(df),
        "model": df["model"].astype(str),
        "weight_dtype": df["weight_dtype"].astype(str),
        "kv_dtype": df["kv_dtype"].fillna("").astype(str),
        "batch": df["batch"].astype(int),
        "input_len": df["input_len"].astype(int),
        "output_len": df["output_len"].astype(int),
        "operator": "",
        "quantity": df["quantity"].astype(str),
        "value": df["value"].astype(float),
        "reliability": df.get("reliability", pd.Series(["B"] * len(df))).fillna("B").astype(str),
        "source": df["source"].astype(str),
    })
    return out


def _kernel_rows(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    _require(df, KERNEL_COLUMNS, path)
    unknown = sorted(set(df["operator"]) - set(KERNEL_OPERATORS))
    if unknown:
        raise SpecError(f"unknown operator {unknown[0]!r}; use one of {', '.join(KERNEL_OPERATORS)}",
                        source=str(path), field="operator")
    operators = df["operator"].map(KERNEL_OPERATORS)
    return pd.DataFrame({
        "kind": "kernel",
        "hardware": df["hardware"].astype(str),
        "num_devices": df["tensor_parallel"].astype(int),
        "engine": KERNEL_ENGINE,
        "model": df["model"].astype(str),
        "weight_dtype": df["dtype"].astype(str),
        "kv_dtype": df["dtype"].astype(str),
        "batch": 1,
        "input_len": df["num_tokens"].astype(int),
        "output_len": 1,
        "operator": operators,
        "quantity": "kernel_s:" + operators,
        "value": df["time_s"].astype(float),
        "reliability": "B",
        "source": df["source"].astype(str),
    })


def load_measurements(paths: Iterable[str | Path]) -> pd.DataFrame:
    """Read measurement CSVs (either format) into one table with a `weight` per row."""
    frames = []
    for raw in paths:
        path = Path(raw)
        df = read_csv_file(path)
        try:
            frames.append(_kernel_rows(df, path) if "time_s" in df.columns else _e2e_rows(df, path))
        except (ValueError, TypeError) as exc:
            raise SpecError(f"bad value ({exc})", source=str(path)) from None
    if not frames:
        raise SpecError("no measurement files given")
    table = pd.concat(frames, ignore_index=True)
    if (table["value"] <= 0).any():
        raise SpecError("every measured value must be > 0", field="value")
    table["weight"] = table["reliability"].map(RELIABILITY_WEIGHT).fillna(0.6)
    table["study"] = table["source"].map(study_of)
    table["row_id"] = range(len(table))
    return table


def exclusions() -> list[dict[str, str]]:
    """Studies left out of fitting and scoring (`validation/exclusions.yaml`), each with its reason."""
    from perfmodel.specs.catalog import catalog_dir
    from perfmodel.specs.loader import read_mapping

    path = catalog_dir("validation") / "exclusions.yaml"
    entries = read_mapping(path).get("exclusions") if is_file(path) else None
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("source_contains") for e in entries):
        raise SpecError("exclusions must be a list of {source_contains, reason}", source=str(path), field="exclusions")
    return entries


def excluded_mask(table: pd.DataFrame) -> pd.Series:
    """Rows whose source matches an entry of `validation/exclusions.yaml`."""
    mask = pd.Series(False, index=table.index)
    for entry in exclusions():
        mask |= table["source"].str.contains(entry["source_contains"], regex=False)
    return mask


def load_fit_table(paths: Iterable[str | Path], serving_paths: Iterable[str | Path] = ()) -> pd.DataFrame:
    """Static and kernel rows plus the serving rows the steady-state closed form prices (see `serving_fit`)."""
    from perfmodel.calibrate.serving_data import load_serving
    from perfmodel.calibrate.serving_fit import serving_fit_rows

    table = load_measurements(paths)
    table = table[~excluded_mask(table)].reset_index(drop=True)
    serving_paths = list(serving_paths)
    if serving_paths:
        serving = load_serving(serving_paths)
        serving = serving_fit_rows(serving[~excluded_mask(serving)])
        table = pd.concat([table, serving[[c for c in serving.columns if c != "row_id"]]], ignore_index=True)
        table["row_id"] = range(len(table))
    return table


def data_hash(paths: Iterable[str | Path]) -> str:
    """sha256 over the files' bytes, in sorted path order (what a fit was made from)."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def default_measurement_files() -> list[Path]:
    """The project's own validation CSVs in the static-batch and kernel formats.

    Serving rows (``serving_measurements.csv``) have their own loader and validator.
    """
    from perfmodel.specs.catalog import catalog_dir

    return [catalog_dir("validation") / name for name in STATIC_FILES]
