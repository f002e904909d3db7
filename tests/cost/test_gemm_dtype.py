"""A GEMM of each dtype runs at that dtype's published fraction of its own peak (MAMF), not BF16's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import perfmodel as pm
from perfmodel.cost.config import Precision
from perfmodel.cost.engine import gemm_dtype_ratio
from perfmodel.cost.roofline import DeviceRates
from perfmodel.specs.device import EfficiencyHints


def _h100_hints_only() -> pm.Device:
    """H100 as its datasheet and published hints give it (no fitted efficiency)."""
    return pm.load_device("h100-sxm-80gb").model_copy(update={"fitted_efficiency": None})


def test_fp8_ratio_is_the_published_fp8_over_bf16_fraction() -> None:
    device = _h100_hints_only()
    assert gemm_dtype_ratio(device, "fp8") == pytest.approx(0.709 / 0.803)
    assert gemm_dtype_ratio(device, "bf16") == 1.0
    assert gemm_dtype_ratio(device, None) == 1.0
    assert gemm_dtype_ratio(pm.load_device("a100-sxm-80gb"), "fp8") == 1.0  # nothing published: no change


def test_fp8_matmul_rate_uses_the_fp8_fraction() -> None:
    device = _h100_hints_only()
    engine = pm.load_engine("trtllm").model_copy(update={"gemm_scale": 1.0})
    fp8 = DeviceRates.of(device, engine, Precision.of("fp8"))
    bf16 = DeviceRates.of(device, engine, Precision.of("bf16"))
    assert fp8.matmul_flops_per_s == pytest.approx(1978.9e12 * 0.709)
    assert bf16.matmul_flops_per_s == pytest.approx(989.4e12 * 0.803)
    w8a16 = DeviceRates.of(device, engine, Precision.of("fp8", act="bf16"))  # weight-only FP8 computes in BF16
    assert w8a16.matmul_flops_per_s == pytest.approx(bf16.matmul_flops_per_s)


def test_fitted_device_level_keeps_the_published_dtype_ratio() -> None:
    device = pm.load_device("h100-sxm-80gb").model_copy(
        update={"fitted_efficiency": EfficiencyHints(gemm=0.70, bandwidth=0.88)})
    engine = pm.load_engine("trtllm").model_copy(update={"gemm_scale": 1.0})
    assert engine.gemm_efficiency(device, "fp8") == pytest.approx(0.70 * 0.709 / 0.803)


def test_unknown_dtype_key_is_rejected() -> None:
    with pytest.raises(ValidationError, match="gemm_by_dtype has unknown dtypes"):
        EfficiencyHints(gemm=0.8, gemm_by_dtype={"fp9": 0.7})


@pytest.mark.parametrize(("weight", "act", "kv", "family"), [
    ("fp8", "fp8", "fp8", "fp8"),  # FP8 FMHA: both operands stored in FP8
    ("fp8", "fp8", "bf16", "bf16"),  # W8A8 GEMMs, BF16 cache: attention stays 16-bit
    ("bf16", "bf16", "fp8", "bf16"),  # an FP8 cache under BF16 activations is dequantized
    ("nvfp4", "fp4", "fp8", "fp8"),
    ("int8", "int8", "int8", "bf16"),
    ("fp32", "fp32", "fp32", "fp32"),
])
def test_attention_runs_on_the_kv_and_activation_format(weight, act, kv, family) -> None:
    from perfmodel.specs.dtypes import attention_compute_family

    precision = Precision.of(weight, act=act, kv=kv)
    assert attention_compute_family(precision.act, precision.kv) == family
    device = _h100_hints_only()
    engine = pm.load_engine("trtllm").model_copy(update={"gemm_scale": 1.0})
    rates = DeviceRates.of(device, engine, precision)
    assert rates.attention_flops_per_s == pytest.approx(device.peak_flops_per_s(family)
                                                        * engine.gemm_efficiency(device, family))
