"""Weights that do not fit are streamed every step from storage (mmap) or the host (host offload)."""

from __future__ import annotations

import warnings

import pytest

from perfmodel.analytic import FitWarning, estimate
from perfmodel.cost.batch import BatchStats
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import load_engine
from perfmodel.cost.memory import weight_bytes_per_device
from perfmodel.cost.step import step_cost
from perfmodel.errors import PerfModelError
from perfmodel.specs.catalog import load_model, resolve_system
from perfmodel.specs.device import Device


def test_70b_q4_on_a_16gb_laptop_streams_from_storage() -> None:
    with pytest.warns(FitWarning, match="streamed from storage"):
        e = estimate("llama-3.1-70b", "apple-m1", input_len=128, output_len=16, weight_dtype="q4_k_m",
                     engine="llama.cpp")
    assert not e.fits
    weights = e.memory.weights_bytes
    # ~70.6e9 params × 4.85 bits ≈ 42.8 GB: at least (weights − 16 GB) must come from the 2.8 GB/s SSD each token
    assert weights > 40e9
    assert e.tpot_s >= (weights - 16e9) / 2.8e9
    assert e.bottleneck == "weight streaming (storage)"
    rows = e.breakdown[e.breakdown.operator == "weight_streaming"]
    assert set(rows.kind) == {"memory"} and (rows.time_s > 0).all()


def test_streaming_row_is_missing_bytes_over_the_host_link() -> None:
    # llama-3.1-70b bf16 on one H100 under vLLM: 80 GB, 10% + 0.5 GB reserve; PCIe Gen5 host link 63 GB/s
    model, system = load_model("llama-3.1-70b"), resolve_system("h100", 1)
    prec, par, vllm = Precision.of("bf16"), Parallelism(), load_engine("vllm")
    cost = step_cost(model, system, BatchStats.uniform(1, 1, 999), prec, par, vllm)
    kv = 1000 * 80 * 2 * 8 * 128 * 2.0  # 999 cached + 1 new token, 80 layers, 8 KV heads of 128, bf16
    act = (4 * 8192 + 2 * 28672) * 2.0 + 128256 * 4.0  # one token's buffers and its fp32 logits
    room = 80e9 - (0.1 * 80e9 + 0.5e9) - kv - act
    missing = weight_bytes_per_device(model, prec, par) - room
    row = next(op for op in cost.ops if op.name == "weight_streaming")
    assert float(row.time_s) == pytest.approx(missing / 63e9)
    assert float(row.bytes) == pytest.approx(missing)
    plain = step_cost(model, system, BatchStats.uniform(1, 1, 999), prec, par,
                      vllm.model_copy(update={"weight_offload": "none"}))
    assert float(cost.time_s) == pytest.approx(float(plain.time_s) + missing / 63e9)


def test_host_offload_bottleneck_label() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        e = estimate("llama-3.1-70b", "h100", input_len=128, output_len=8, engine="vllm")
    assert e.bottleneck == "weight streaming (host)"


@pytest.mark.parametrize("engine", ["llama.cpp", "vllm"])
def test_a_model_that_fits_is_unchanged(engine: str) -> None:
    prof = load_engine(engine)
    kwargs = dict(input_len=256, output_len=32, weight_dtype="q4_0" if engine == "llama.cpp" else "bf16")
    hardware = "apple-m1" if engine == "llama.cpp" else "h100"
    on = estimate("llama-3.2-1b", hardware, engine=prof, **kwargs)
    off = estimate("llama-3.2-1b", hardware, engine=prof.model_copy(update={"weight_offload": "none"}), **kwargs)
    assert on.fits
    assert on.tpot_s == off.tpot_s and on.ttft_s == off.ttft_s
    assert on.bottleneck == off.bottleneck


def test_storage_spec_parses_and_rejects_bad_values() -> None:
    base = resolve_system("apple-m1", 1).device.model_dump()
    assert Device(**{**base, "storage": {"name": "SD card", "read_gb_s": 0.1}}).storage.read_bytes_per_s == 0.1e9
    with pytest.raises((PerfModelError, ValueError)):
        Device(**{**base, "storage": {"read_gb_s": 0}})
