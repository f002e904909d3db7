"""An engine a cross-validation fold has no rows of is predicted with the fold's generic profile."""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

import perfmodel as pm
from perfmodel.calibrate.fit import (
    FitResult,
    generic_profile,
    held_out_engines,
    is_current_profile,
    prior_device,
    prior_engine,
)
from perfmodel.calibrate.params import ARCHITECTURE_FIELDS, Param
from perfmodel.calibrate.predict import predict

fit_module = importlib.import_module("perfmodel.calibrate.fit")  # the package exports a function `fit`
GLOBAL = Param("global", "roofline_sharpness", 3.0, 0.3, 1.5, 12.0)


def _fold() -> FitResult:
    """A hand-made fold fit: rows of vllm and sglang (each with one free field) and of kernels, none of trtllm."""
    vllm = prior_engine("vllm").model_copy(update={"step_overhead_s": 1e-3, "gemm_scale": 0.5, "gqa_kv_reread": 0.2,
                                                   "roofline_sharpness": 2.5})
    sglang = prior_engine("sglang").model_copy(update={"step_overhead_s": 4e-3, "gemm_scale": 0.8,
                                                       "gqa_kv_reread": 0.4, "roofline_sharpness": 2.5})
    kernels = prior_engine("kernels").model_copy(update={"roofline_sharpness": 2.5})
    params = [GLOBAL, Param("engine:vllm", "step_overhead_s", 1e-3, 1.5, 1e-6, 0.1),
              Param("engine:sglang", "step_overhead_s", 1e-3, 1.5, 1e-6, 0.1)]
    values = np.log([2.5, 1e-3, 4e-3])
    return FitResult(params, values, {"vllm": vllm, "sglang": sglang, "kernels": kernels}, {}, np.array([]),
                     True, 1)


def test_engine_without_rows_gets_mean_of_the_fitted_others() -> None:
    result = _fold()
    trtllm = held_out_engines(result, ["trtllm"])["trtllm"]
    assert trtllm.name == "generic"
    assert trtllm.step_overhead_s == pytest.approx(2e-3)  # geometric mean of 1 ms and 4 ms
    assert trtllm.gemm_scale == pytest.approx(0.4 ** 0.5)  # geometric mean of 0.5 and 0.8
    assert trtllm.gqa_kv_reread == pytest.approx(0.3)  # linear parameter: arithmetic mean of 0.2 and 0.4
    assert trtllm.roofline_sharpness == pytest.approx(2.5)  # global physics from the fold
    assert trtllm.step_overhead_s != pytest.approx(prior_engine("trtllm").step_overhead_s)


def test_engine_with_rows_keeps_its_fit() -> None:
    result = _fold()
    engines = held_out_engines(result, ["vllm", "sglang", "kernels"])
    assert engines["vllm"] is result.engines["vllm"]
    assert engines["sglang"] is result.engines["sglang"]
    assert engines["kernels"] is result.engines["kernels"]


def test_kernel_profile_without_rows_keeps_its_priors() -> None:
    result = _fold()
    del result.engines["kernels"]
    kernels = held_out_engines(result, ["kernels"])["kernels"]
    assert kernels.name == "kernels"
    assert kernels.roofline_sharpness == pytest.approx(2.5)
    assert kernels.step_overhead_s == prior_engine("kernels").step_overhead_s


def test_engine_with_rows_but_nothing_freed_is_left_out_of_the_mean() -> None:
    result = _fold()
    result.params, result.values = result.params[:2], result.values[:2]  # sglang had rows, none of its fields free
    assert generic_profile(result).step_overhead_s == pytest.approx(1e-3)  # vllm alone


def test_an_moe_field_only_some_engines_fitted_is_their_mean_alone() -> None:
    result = _fold()
    result.engines["sglang"] = result.engines["sglang"].model_copy(update={"moe_layer_overhead_s": 1e-4})
    result.params.append(Param("engine:sglang", "moe_layer_overhead_s", 1e-5, 1.5, 1e-8, 2e-3))
    result.values = np.append(result.values, np.log(1e-4))
    generic = generic_profile(result)
    assert generic.moe_layer_overhead_s == pytest.approx(1e-4)  # sglang measured it; vllm's prior does not dilute it
    assert generic.step_overhead_s == pytest.approx(2e-3)  # both fitted it: geometric mean of 1 ms and 4 ms
    assert generic.gemm_scale == pytest.approx(0.4 ** 0.5)  # neither fitted it: the mean over both
    result.engines["sglang"] = result.engines["sglang"].model_copy(update={"gemm_scale": 0.2})
    result.params.append(Param("engine:sglang", "gemm_scale", 1.0, 0.3, 0.1, 1.3))
    result.values = np.append(result.values, np.log(0.2))
    assert generic_profile(result).gemm_scale == pytest.approx((0.5 * 0.2) ** 0.5)  # not an MoE field: both


def test_cross_validation_predicts_an_engine_left_without_rows_with_the_fold_generic(monkeypatch) -> None:
    base = {"kind": "e2e", "hardware": "h100-sxm-80gb", "num_devices": 1, "model": "llama-3.1-8b",
            "weight_dtype": "bf16", "kv_dtype": "", "batch": 4, "input_len": 512, "output_len": 64, "operator": "",
            "quantity": "tpot_s", "value": 0.01, "reliability": "A", "weight": 1.0}
    table = pd.DataFrame([base | {"engine": "vllm", "source": "a"}, base | {"engine": "sglang", "source": "a"},
                          base | {"engine": "trtllm", "source": "b"}])
    result = _fold()
    seen = []
    monkeypatch.setattr(fit_module, "fit", lambda train, **_: seen.append(set(train["source"])) or result)
    held_out = fit_module.cross_validate(table, "source")
    assert seen == [{"b"}, {"a"}]
    devices = {"h100-sxm-80gb": prior_device("h100-sxm-80gb")}  # the hand-made fold fitted no device
    expected = predict(table.iloc[[2]], {"trtllm": generic_profile(result)}, devices)
    prior = predict(table.iloc[[2]], {"trtllm": prior_engine("trtllm").model_copy(update={"roofline_sharpness": 2.5})},
                    devices)
    assert held_out[2] == pytest.approx(expected[0], rel=1e-9)
    assert held_out[2] != pytest.approx(prior[0], rel=1e-3)
    assert held_out[0] == pytest.approx(predict(table.iloc[[0]], {"vllm": result.engines["vllm"]}, devices)[0],
                                        rel=1e-9)


def test_shipped_generic_is_the_mean_of_the_shipped_fitted_current_profiles() -> None:
    generic = pm.load_engine("generic")
    fitted = [e for e in (pm.load_engine(n) for n in pm.cost.engine_files()) if is_current_profile(e) and e.calibrated]
    assert len(fitted) >= 4
    for field in ("step_overhead_s", "gemm_scale", "request_overhead_s", "moe_efficiency", "moe_layer_overhead_s"):
        measured = [e for e in fitted if field in ARCHITECTURE_FIELDS and field in e.fit["fitted"]] or fitted
        values = np.array([getattr(e, field) for e in measured])
        assert getattr(generic, field) == pytest.approx(np.exp(np.log(values).mean()), rel=2e-3), field
    values = np.array([e.gqa_kv_reread for e in fitted])
    assert generic.gqa_kv_reread == pytest.approx(values.mean(), rel=2e-3, abs=1e-4)
