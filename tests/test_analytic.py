"""Static-batch estimates through the public API."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import perfmodel as pm


def test_estimate_identities() -> None:
    e = pm.estimate("llama-3.1-8b", "h100-sxm-80gb", batch=8, input_len=512, output_len=64, engine="vllm")
    assert e.e2e_s == pytest.approx(e.ttft_s + 63 * e.tpot_s)
    assert e.output_tokens_per_s == pytest.approx(8 * 64 / e.e2e_s)
    assert e.prefill_tokens_per_s == pytest.approx(8 * 512 / e.ttft_s)
    assert e.decode_tokens_per_s == pytest.approx(8 / e.tpot_s)
    assert e.fits and e.bottleneck == "memory-bandwidth"
    d = e.to_dict()
    for key in ("ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s", "prefill_tokens_per_s", "decode_tokens_per_s",
                "memory", "fits", "bottleneck", "provenance"):
        assert key in d
    for key in ("weights_bytes", "kv_cache_bytes", "activation_bytes", "total_bytes", "capacity_bytes"):
        assert key in d["memory"]
    assert set(e.breakdown.phase) == {"prefill", "decode"}


def test_decode_floor_is_weight_streaming() -> None:
    """Batch-1 decode of an 8B bf16 model on the ideal engine takes weights / bandwidth, give or take KV."""
    e = pm.estimate("llama-3.1-8b", "h100-sxm-80gb", input_len=16, output_len=8, engine="ideal")
    m = pm.load_model("llama-3.1-8b")
    streamed = m.total_params() - m.vocab_size * m.hidden_size  # the input embedding is a one-row gather
    floor = streamed * 2 / 3.35e12
    assert floor <= e.tpot_s <= 1.02 * floor


def test_tpot_is_mean_over_growing_context() -> None:
    e = pm.estimate("qwen3-0.6b", "h100-sxm-80gb", batch=32, input_len=1000, output_len=3000)
    steps = np.asarray(e.decode.time_s)
    assert steps[-1] > steps[0]
    assert e.tpot_s == pytest.approx(steps.mean())


def test_output_len_one_has_no_decode() -> None:
    e = pm.estimate("qwen3-0.6b", "h100-sxm-80gb", input_len=100, output_len=1)
    assert e.tpot_s == 0 and e.decode_tokens_per_s is None and e.e2e_s == e.ttft_s


def test_does_not_fit_warns_or_raises() -> None:
    with pytest.warns(pm.FitWarning, match="llama-3.1-70b"):
        e = pm.estimate("llama-3.1-70b", "l4-24gb", input_len=100, output_len=10)
    assert not e.fits and e.ttft_s > 0
    with pytest.raises(pm.DoesNotFitError):
        pm.estimate("llama-3.1-70b", "l4-24gb", input_len=100, output_len=10, strict=True)


def test_tp_shards_memory_and_speeds_decode() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pm.FitWarning)
        one = pm.estimate("llama-3.1-70b", "h100-sxm-80gb", input_len=128, output_len=32)
    four = pm.estimate("llama-3.1-70b", "dgx-h100", tp=4, input_len=128, output_len=32)
    norm_bytes = (2 * 80 + 1) * 8192 * 2.0  # RMSNorm weights: every rank holds them in full
    assert four.memory.weights_bytes == pytest.approx((one.memory.weights_bytes - norm_bytes) / 4 + norm_bytes)
    assert four.tpot_s < one.tpot_s
    assert four.provenance["hardware"] == "dgx-h100"


def test_quantized_weights_faster_decode() -> None:
    bf16 = pm.estimate("llama-3.1-8b", "rtx-4090", input_len=128, output_len=64, engine="llama.cpp")
    q4 = pm.estimate("llama-3.1-8b", "rtx-4090", input_len=128, output_len=64, weight_dtype="q4_0",
                     engine="llama.cpp")
    assert q4.tpot_s < 0.5 * bf16.tpot_s
    lm_head = 128256 * 4096  # llama.cpp keeps output.weight at Q6_K (6.5625 bits) under q4_0
    assert q4.memory.weights_bytes == pytest.approx(bf16.memory.weights_bytes * 4.5 / 16
                                                    + lm_head * (6.5625 - 4.5) / 8)


def test_max_batch_size_fits_boundary() -> None:
    from perfmodel.cost import Parallelism, Precision
    from perfmodel.cost.memory import max_batch_size

    m = pm.load_model("llama-3.1-8b")
    system = pm.resolve_system("h100-sxm-80gb")
    eng = pm.load_engine("default")
    b = max_batch_size(m, system, Precision.of("bf16"), Parallelism(), eng, input_len=2048, output_len=2048)
    assert b > 1
    assert pm.estimate(m, system, batch=b, input_len=2048, output_len=2, engine=eng).fits
    with pytest.warns(pm.FitWarning):
        pm.estimate(m, system, batch=b + 1, input_len=2048, output_len=2048, engine=eng)


def test_provenance_marks_spec_only_and_calibrated(tmp_path) -> None:
    e = pm.estimate("qwen3-0.6b", "h100-sxm-80gb", input_len=10, output_len=2)
    assert e.provenance["calibrated"] is False
    path = tmp_path / "cal.yaml"
    path.write_text("kind: gpu\nmemory: {capacity_gb: 80, bandwidth_gb_s: 3350}\ncompute_tflops: {bf16: 989}\n"
                    "calibration: {bundle_id: probe-123, gemm_efficiency: 0.7, bandwidth_efficiency: 0.9}\n")
    c = pm.estimate("qwen3-0.6b", str(path), input_len=10, output_len=2)
    assert c.provenance["calibrated"] is True and "probe-123" in c.provenance["device_calibration"]


def test_bad_arguments() -> None:
    with pytest.raises(pm.PerfModelError):
        pm.estimate("qwen3-0.6b", "h100-sxm-80gb", input_len=0, output_len=2)
    with pytest.raises(pm.PerfModelError, match="ep"):
        pm.estimate("qwen3-30b-a3b", "dgx-h100", tp=2, ep=4, input_len=10, output_len=2)
