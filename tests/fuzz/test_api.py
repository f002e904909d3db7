"""Hypothesis over the public API: wrong types and values raise PerfModelError, never a bare TypeError or NaN."""

from __future__ import annotations

import contextlib
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfmodel as pm

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.binary(max_size=10), st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), st.just(Path("no/such.yaml")),
    st.just(Path("workloads/models/qwen3-0.6b.yaml")), st.just(object()),
)
COUNT = st.one_of(st.integers(1, 64), ANYTHING)

settings.load_profile("fuzz")


def _finite_numbers(obj) -> None:
    for name in ("ttft_s", "tpot_s", "e2e_s", "output_tokens_per_s", "latency_s", "flops"):
        value = getattr(obj, name, None)
        if isinstance(value, float):
            assert math.isfinite(value) and value >= 0, (name, value)


def _call(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = fn(*args, **kwargs)
        except pm.PerfModelError as exc:
            assert str(exc) and "\n" not in str(exc).strip()
            return None
    _finite_numbers(result)
    return result


@given(model=st.one_of(st.just("qwen3-0.6b"), ANYTHING), hardware=st.one_of(st.just("h100-sxm-80gb"), ANYTHING))
def test_estimate_refs(model, hardware) -> None:
    _call(pm.estimate, model, hardware, input_len=16, output_len=4)


@given(batch=COUNT, input_len=COUNT, output_len=COUNT, tp=COUNT, pp=COUNT, ep=COUNT,
       weight_dtype=st.one_of(st.just("bf16"), ANYTHING), engine=st.one_of(st.none(), st.just("vllm"), ANYTHING))
def test_estimate_values(batch, input_len, output_len, tp, pp, ep, weight_dtype, engine) -> None:
    _call(pm.estimate, "qwen3-0.6b", "h100-sxm-80gb", batch=batch, input_len=input_len, output_len=output_len,
          tp=tp, pp=pp, ep=ep, weight_dtype=weight_dtype, engine=engine)


@given(input_len=COUNT, n=st.integers(-2, 16), tokens=st.integers(-2, 4096))
def test_task_cost_values(input_len, n, tokens) -> None:
    try:
        strategy = pm.BestOfN(n=n, lengths=pm.FixedLength(tokens))
    except pm.PerfModelError:
        return
    _call(pm.task_cost, "qwen3-0.6b", "h100-sxm-80gb", strategy, input_len=input_len)


@given(concurrency=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 10**6)),
       input_len=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 10**6)),
       replicas=COUNT)
def test_steady_state_values(concurrency, input_len, replicas) -> None:
    result = _call(pm.steady_state, "qwen3-0.6b", "h100-sxm-80gb", input_len=input_len, output_len=64,
                   concurrency=concurrency, replicas=replicas)
    if result is not None:
        assert np.all(np.isfinite(result.output_tokens_per_s)) and np.all(result.output_tokens_per_s > 0)
        # latencies are infinite only where documented: open-loop rates above capacity (saturated)
        finite = np.isfinite(result.e2e_mean_s) & np.isfinite(result.ttft_mean_s)
        assert np.all(finite | np.asarray(result.saturated, dtype=bool))
        assert not np.any(np.isnan(result.e2e_mean_s))


@given(ref=ANYTHING)
def test_loaders(ref) -> None:
    for fn in (pm.load_model, pm.load_device, pm.load_system, pm.load_engine, pm.load_scenario,
               pm.model_from_hf_dict):
        _call(fn, ref)


@given(requests=COUNT, rate=st.one_of(st.floats(allow_nan=True, allow_infinity=True), ANYTHING), seed=ANYTHING)
@settings(max_examples=15)
def test_scenario_overrides(requests, rate, seed) -> None:
    sc = pm.load_scenario("chat")
    with contextlib.suppress(pm.PerfModelError):
        sc.with_overrides(requests=requests, rate=rate, seed=seed)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 0, 2.5, "8", None, True])
def test_batch_refused(value) -> None:
    with pytest.raises(pm.PerfModelError, match="batch"):
        pm.estimate("qwen3-0.6b", "h100-sxm-80gb", batch=value, input_len=16, output_len=4)


def test_path_and_mapping_arguments() -> None:
    est = pm.estimate(Path("workloads/models/qwen3-0.6b.yaml"), "h100-sxm-80gb", input_len=16, output_len=4)
    assert est.inputs["model"] == "qwen3-0.6b"
    model = pm.load_model({"num_layers": 2, "hidden_size": 64, "num_heads": 4, "intermediate_size": 128,
                           "vocab_size": 100})
    assert model.num_layers == 2
    with pytest.raises(pm.PerfModelError, match="model"):
        pm.estimate(None, "h100-sxm-80gb", input_len=16, output_len=4)


def test_dashboard_inputs_raise_the_package_errors(corpus) -> None:
    """The dashboard's Estimate page calls these with what the user typed: bad files give PerfModelError."""
    for name in ("binary.yaml", "utf16.yaml", "deep-list.yaml", "inf.yaml", "alias-bomb.yaml"):
        with pytest.raises(pm.PerfModelError):
            pm.resolve_system(str(corpus[name]), 1)
    for name in ("hf-string/config.json", "hf-nan/config.json", "hf-missing/config.json", "hf-binary/config.json"):
        with pytest.raises(pm.PerfModelError):
            pm.estimate(str(corpus[name]), "h100-sxm-80gb", input_len=16, output_len=4)
    with pytest.raises(pm.PerfModelError):
        pm.estimate("/no/such/dir/config.json", "h100-sxm-80gb", input_len=16, output_len=4)
    with pytest.raises(pm.PerfModelError, match="limit"):
        pm.estimate("qwen3-0.6b", "h100-sxm-80gb", input_len=16, output_len=10**9)
