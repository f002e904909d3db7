"""2024-2026 public measurements: ids resolve, units and quantities are valid, every row is cited."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import perfmodel as pm
from perfmodel.calibrate.data import study_of
from perfmodel.specs.catalog import catalog_dir
from perfmodel.specs.dtypes import DTYPES

SERVING_COLUMNS = [
    "hardware", "num_devices", "tp", "pp", "ep", "dp", "engine", "engine_version", "model", "weight_dtype",
    "kv_dtype", "concurrency", "request_rate", "input_len", "output_len", "range_ratio", "num_requests",
    "spec_decode", "disagg", "quantity", "value", "reliability", "source", "date",
]
STATIC_COLUMNS = [
    "hardware", "num_devices", "engine", "model", "weight_dtype", "kv_dtype", "batch", "input_len", "output_len",
    "quantity", "value", "reliability", "source", "engine_version", "date",
]
SERVING_QUANTITIES = {"output_tokens_per_s", "total_tokens_per_s", "request_throughput_per_s"} | {
    f"{m}_{s}_s" for m in ("ttft", "tpot", "itl", "e2e") for s in ("mean", "p50", "p99")}
STATIC_QUANTITIES = {"ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s", "prefill_tokens_per_s",
                     "decode_tokens_per_s"}


def _load(name: str) -> pd.DataFrame:
    return pd.read_csv(catalog_dir("validation") / name, dtype={"engine_version": str, "date": str})


@pytest.fixture(scope="module")
def serving() -> pd.DataFrame:
    return _load("serving_measurements.csv")


@pytest.fixture(scope="module")
def static() -> pd.DataFrame:
    return _load("static_modern.csv")


def _check_common(df: pd.DataFrame, quantities: set[str]) -> None:
    for hw in df["hardware"].unique():
        pm.load_device(hw)
    for model in df["model"].unique():
        pm.load_model(model)
    assert set(df["weight_dtype"]) | set(df["kv_dtype"]) <= set(DTYPES)
    assert set(df["quantity"]) <= quantities
    assert all(math.isfinite(v) and v > 0 for v in df["value"])
    assert df["source"].fillna("").str.len().min() > 20
    assert df["date"].str.fullmatch(r"20(2[4-6])-(0[1-9]|1[0-2])").all()
    assert not df["source"].str.contains("mlperf|mlcommons|perf-overview", case=False).any()
    assert set(df["reliability"]) <= {"A", "B", "B-"}


def test_serving_rows(serving: pd.DataFrame) -> None:
    assert list(serving.columns) == SERVING_COLUMNS
    _check_common(serving, SERVING_QUANTITIES)
    # exactly one of concurrency (closed loop) and request rate (open loop)
    assert (serving["concurrency"].notna() ^ serving["request_rate"].notna()).all()
    # the deployment layout multiplies out to the devices used (per instance for disaggregated runs)
    instances = serving["disagg"].fillna("").map(lambda d: 2 if d == "1p1d" else 1)
    assert (serving["tp"] * serving["pp"] * serving["dp"] * instances == serving["num_devices"]).all()
    # uniform random lengths carry their ratio; dataset-driven lengths (ShareGPT) leave it empty
    ratio = serving["range_ratio"].dropna()
    assert ((ratio > 0) & (ratio <= 1)).all()
    assert (serving["input_len"] > 0).all() and (serving["output_len"] > 0).all()
    # latencies are in seconds: a mean/median TPOT or ITL above 1 s would be a unit slip; a p99 inter-token gap may
    # hold a whole long prefill (TensorRT-LLM at 30k-token prompts stalls decoding ~2.7 s) but not 10 s
    per_token = serving[serving["quantity"].str.startswith(("tpot", "itl"))]
    tail = per_token["quantity"].str.endswith("_p99_s")
    assert (per_token.loc[~tail, "value"] < 1.0).all()
    assert (per_token.loc[tail, "value"] < 10.0).all()


def test_static_rows(static: pd.DataFrame) -> None:
    assert list(static.columns) == STATIC_COLUMNS
    _check_common(static, STATIC_QUANTITIES)
    pp = static[static["quantity"] == "prefill_tokens_per_s"]
    assert ((pp["input_len"] == 512) & (pp["output_len"] == 1)).all()
    tg = static[static["quantity"] == "decode_tokens_per_s"]
    assert ((tg["input_len"] == 1) & (tg["output_len"] == 128) & (tg["batch"] == 1)).all()


def test_counts_as_documented(serving: pd.DataFrame, static: pd.DataFrame) -> None:
    # lower bounds: rows may be added, never silently lost
    assert len(serving) >= 1893
    assert len(static) >= 9
    vendors = {pm.load_device(hw).vendor for hw in set(serving["hardware"]) | set(static["hardware"])}
    assert {"nvidia", "amd", "apple"} <= vendors
    per_hw = serving.groupby("hardware").size().to_dict()
    assert per_hw.get("h200-sxm-141gb", 0) >= 1273 and per_hw.get("mi355x", 0) >= 240
    assert per_hw.get("a100-sxm-40gb", 0) >= 48
    assert per_hw.get("mi300x", 0) >= 238 and per_hw.get("tpu-v6e", 0) >= 94
    assert {"nvidia", "amd", "google"} <= {pm.load_device(hw).vendor for hw in serving["hardware"]}
    # several engines and unified deployments, not one engine's sweep
    assert {"vllm", "sglang", "trtllm", "sglang-jax", "vllm-tpu"} <= set(serving["engine"])
    # vLLM on TPU is described by more than one study (leave-one-source-out needs a second one)
    tpu_vllm = serving[serving["engine"] == "vllm-tpu"]["source"].str.extract(r"^(github:[^@]+)")[0]
    assert tpu_vllm.nunique() >= 2
    unified = serving[serving["disagg"].isna()]
    assert unified.groupby(["hardware", "model", "engine"]).ngroups >= 19
    # the serving table covers models of the catalog, not only one sweep's model
    assert {"minimax-m2.5", "gpt-oss-120b", "llama-3.3-70b", "deepseek-r1", "qwen3-8b", "qwen3-32b",
            "llama-3.1-8b", "gemma-2-27b", "llama-3.2-3b", "qwq-32b"} <= set(serving["model"])
    assert len(tpu_vllm) >= 42 and (serving[serving["engine"] == "vllm-tpu"]["model"] == "llama-3.3-70b").sum() >= 24
    assert {"llama-3.1-70b", "llama-3.2-3b"} <= set(static["model"])


def test_serving_rows_are_not_duplicated(serving: pd.DataFrame) -> None:
    key = [c for c in SERVING_COLUMNS if c not in ("value", "source", "reliability", "date")]
    assert not serving.duplicated(subset=key).any()


def test_engines_and_deepseek_have_independent_studies(serving: pd.DataFrame) -> None:
    # leave-one-source-out needs a second study for the modern SGLang and TensorRT-LLM builds and for MLA+MoE
    studies = serving["source"].map(study_of)
    per_engine = studies.groupby(serving["engine"]).nunique()
    assert per_engine["sglang"] >= 3 and per_engine["trtllm"] >= 3
    assert studies[serving["model"] == "deepseek-r1"].nunique() >= 4
    # SGLang >= 0.4 also on dense models, not only on DeepSeek
    sglang_models = set(serving.loc[serving["engine"] == "sglang", "model"])
    assert {"llama-3.1-8b", "llama-3.2-3b", "qwq-32b"} <= sglang_models
    h200_r1 = serving[(serving["hardware"] == "h200-sxm-141gb") & (serving["model"] == "deepseek-r1")]
    assert {"sglang", "trtllm", "vllm"} <= set(h200_r1["engine"])
