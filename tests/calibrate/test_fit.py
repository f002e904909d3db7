"""The fit recovers known parameters from synthetic measurements made by the same cost core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from perfmodel.calibrate.fit import cross_validate, fit, prior_device, prior_engine
from perfmodel.calibrate.predict import predict
from perfmodel.specs.device import EfficiencyHints


def synthetic_table(kernels: bool = False) -> tuple[pd.DataFrame, dict]:
    """Rows for one engine on one device and two models, 'measured' with known true parameters.

    `kernels`: add isolated GEMM rows on the device (what lets a fit free its GEMM fraction)."""
    truth = {"step_overhead_s": 4e-3, "gemm_scale": 0.6}
    rows = []
    shapes = [(1, 128, 1, "ttft_s"), (1, 2048, 1, "ttft_s"), (8, 1024, 1, "ttft_s"), (1, 128, 64, "tpot_s"),
              (16, 512, 64, "tpot_s"), (64, 256, 64, "tpot_s"), (4, 4096, 1, "ttft_s"),
              (32, 128, 32, "output_tokens_per_s")]
    for (batch, inp, out, quantity), model in [(s, m) for m in ("llama-3.1-8b", "qwen2.5-14b") for s in shapes]:
        rows.append({"kind": "e2e", "hardware": "a100-sxm-80gb", "num_devices": 1, "engine": "vllm",
                     "model": model, "weight_dtype": "bf16", "kv_dtype": "", "batch": batch,
                     "input_len": inp, "output_len": out, "operator": "", "quantity": quantity, "value": 1.0,
                     "reliability": "A", "source": f"synthetic-{len(rows) % 2}", "weight": 1.0})
    for i, tokens in enumerate((1, 64, 512, 2048) if kernels else ()):
        for operator in ("qkv_proj", "mlp_up"):
            rows.append({"kind": "kernel", "hardware": "a100-sxm-80gb", "num_devices": 1, "engine": "kernels",
                         "model": "llama-3.1-8b", "weight_dtype": "bf16", "kv_dtype": "bf16", "batch": 1,
                         "input_len": tokens, "output_len": 1, "operator": operator,
                         "quantity": f"kernel_s:{operator}", "value": 1.0, "reliability": "A",
                         "source": f"synthetic-{i % 2}", "weight": 1.0})
    table = pd.DataFrame(rows)
    engine = prior_engine("vllm").model_copy(update=truth)
    device = prior_device("a100-sxm-80gb").model_copy(update={"fitted_efficiency": EfficiencyHints(gemm=0.8,
                                                                                                   bandwidth=0.8)})
    table["value"] = predict(table, {"vllm": engine, "kernels": prior_engine("kernels")}, {"a100-sxm-80gb": device})
    return table, truth


def test_fit_recovers_known_parameters() -> None:
    table, truth = synthetic_table()
    before = np.abs(predict(table, {"vllm": prior_engine("vllm")}, {"a100-sxm-80gb": prior_device("a100-sxm-80gb")})
                    / table["value"] - 1)
    result = fit(table, max_nfev=80)
    after = np.abs(result.predictions / table["value"] - 1)
    assert np.median(after) < 0.02 < np.median(before)
    assert result.value("engine:vllm:step_overhead_s") == pytest.approx(truth["step_overhead_s"], rel=0.3)
    # No kernel rows on the device: its GEMM fraction stays at the prior and the engine's scale takes the rest.
    assert "device:a100-sxm-80gb:gemm" not in {p.key for p in result.params}
    prior_gemm = prior_device("a100-sxm-80gb").efficiency_hints.gemm
    effective_gemm = result.value("engine:vllm:gemm_scale") * prior_gemm
    assert effective_gemm == pytest.approx(0.6 * 0.8, rel=0.15)


def test_cross_validation_predicts_every_row_without_seeing_it() -> None:
    table, _ = synthetic_table(kernels=True)
    held_out = cross_validate(table, "source", max_nfev=20)
    assert np.isfinite(held_out).all()
    assert np.median(np.abs(held_out / table["value"] - 1)) < 0.15


def _rows(n: int, **columns) -> pd.DataFrame:
    base = {"engine": "vllm", "hardware": "h100-sxm-80gb", "model": "llama-3.1-8b", "num_devices": 1}
    return pd.DataFrame([base | columns] * n)


def _free(table: pd.DataFrame, features: dict | None = None) -> dict[str, list[str]]:
    from perfmodel.calibrate.params import build_params, fitted_fields

    engines = {e: prior_engine(e) for e in set(table["engine"])}
    devices = {d: prior_device(d) for d in set(table["hardware"])}
    return fitted_fields(build_params(table, engines, devices, features))


def test_one_free_parameter_per_three_rows() -> None:
    free = _free(_rows(7))
    assert free["global"] == ["roofline_sharpness", "kernel_overhead_s"]
    assert free["engine:vllm"] == ["step_overhead_s", "request_overhead_s"]  # 7 // 3; one model: no kernel scales
    assert free["device:h100-sxm-80gb"] == ["bandwidth"]  # no kernel rows: the GEMM fraction is not identified
    assert "device:h100-sxm-80gb" not in _free(_rows(2))


def test_device_gemm_fraction_only_with_kernel_rows() -> None:
    kernels = _rows(3, engine="kernels", model="llama-2-7b")
    with_kernels = _free(pd.concat([_rows(6), kernels], ignore_index=True))
    assert with_kernels["device:h100-sxm-80gb"] == ["bandwidth", "gemm"]  # 9 rows, kernel-anchored
    assert _free(_rows(9))["device:h100-sxm-80gb"] == ["bandwidth"]  # same count, end-to-end rows only
    other_device = pd.concat([_rows(6), _rows(3, engine="kernels", hardware="a100-sxm-80gb")], ignore_index=True)
    assert _free(other_device)["device:h100-sxm-80gb"] == ["bandwidth"]  # another device's kernels do not count


def test_parameters_only_for_physics_the_rows_exercise() -> None:
    one_model = _free(_rows(60))["engine:vllm"]
    assert not {"gemm_scale", "bandwidth_scale", "collective_overhead_s", "gqa_kv_reread"} & set(one_model)
    assert not any(name.startswith("moe_") for name in one_model)
    mixed = pd.concat([_rows(30), _rows(30, model="mixtral-8x7b", num_devices=2)], ignore_index=True)
    free = _free(mixed, {"moe": {"mixtral-8x7b"}, "grouped": {"llama-3.1-8b", "mixtral-8x7b"}})["engine:vllm"]
    assert {"moe_efficiency", "moe_layer_overhead_s", "gemm_scale", "collective_overhead_s", "gqa_kv_reread"} <= set(
        free)
