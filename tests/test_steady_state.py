"""The steady-state closed form: against the simulator, hand-computed limits, shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest

import perfmodel as pm
from perfmodel.cost.batch import Batch
from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import load_engine
from perfmodel.errors import PerfModelError

H100 = "h100-sxm-80gb"


def _simulate(model: str, concurrency: int, input_len: int, output_len: int) -> dict:
    """Closed loop, lengths uniform in [len/2, len], 16 requests per slot (the start-up wave is small)."""
    lengths = {n: {"dist": "uniform", "low": v // 2, "high": v} for n, v in
               (("input_len", input_len), ("output_len", output_len))}
    scenario = {"model": model, "hardware": H100, "engine": "vllm",
                "workload": {"requests": max(16 * concurrency, 32),
                             "arrival": {"process": "closed-loop", "concurrency": concurrency}, **lengths}}
    return pm.simulate(scenario).summary


@pytest.mark.parametrize(("model", "input_len", "output_len"), [("llama-3.1-8b", 1024, 256),
                                                                 ("qwen2.5-14b", 512, 512)])
def test_matches_the_simulator_at_three_concurrencies(model, input_len, output_len) -> None:
    """Throughput and mean TPOT within 10% of the simulated steady state at C = 1, 8, 64.

    When written (vllm profile, H100): llama-3.1-8b 1024/256 (uniform from half): simulated
    119.5 / 817 / 3140 output tok/s and 8.28 / 9.45 / 19.5 ms TPOT, closed form 119.6 / 833 / 3249 tok/s and
    8.28 / 9.48 / 19.5 ms; qwen2.5-14b 512/512: simulated 72.2 / 531 / 2739 tok/s, 13.8 / 14.7 / 22.5 ms,
    closed form 72.2 / 541 / 2834 tok/s, 13.8 / 14.7 / 22.5 ms. The simulated throughput includes the
    start-up wave and the drain at the end, hence the closed form is a few percent higher.
    """
    concurrency = np.array([1, 8, 64])
    ss = pm.steady_state(model, H100, engine="vllm", concurrency=concurrency, input_len=0.75 * input_len,
                         output_len=0.75 * output_len)
    for i, c in enumerate(concurrency):
        sim = _simulate(model, int(c), input_len, output_len)
        assert ss.output_tokens_per_s[i] == pytest.approx(sim["throughput"]["output_tokens_per_s"], rel=0.10)
        assert ss.tpot_mean_s[i] == pytest.approx(sim["tpot_s"]["mean"], rel=0.10)
        assert ss.e2e_mean_s[i] == pytest.approx(sim["e2e_s"]["mean"], rel=0.10)


def test_single_token_answers_are_one_prefill_step_each() -> None:
    """C = 1, output_len = 1: a request is its admission overhead plus one prefill step, back to back."""
    engine = load_engine("vllm")
    model, system = pm.load_model("llama-3.1-8b"), pm.resolve_system(H100, 1)
    prefill_s = float(pm.step_cost(model, system, Batch.prefill([700]), Precision.of("bf16"), Parallelism(),
                                   engine).time_s)
    ss = pm.steady_state("llama-3.1-8b", H100, engine="vllm", concurrency=1, input_len=700, output_len=1)
    assert float(ss.request_throughput_per_s) == pytest.approx(1.0 / (prefill_s + engine.request_overhead_s))
    assert float(ss.ttft_mean_s) == pytest.approx(prefill_s + engine.request_overhead_s)


def test_open_loop_below_capacity_serves_the_offered_rate() -> None:
    rates = np.array([0.5, 2.0, 6.0])
    ss = pm.steady_state("llama-3.1-8b", H100, engine="vllm", request_rate=rates, input_len=800, output_len=200)
    np.testing.assert_allclose(ss.request_throughput_per_s, rates)
    np.testing.assert_allclose(ss.output_tokens_per_s, rates * 200)
    np.testing.assert_allclose(ss.total_tokens_per_s, rates * 1000)
    assert not ss.saturated.any()
    assert np.all(np.diff(ss.tpot_mean_s) > 0) and np.all(np.diff(ss.decode_batch) > 0)
    assert np.all(ss.e2e_mean_s > ss.ttft_mean_s)


def test_open_loop_above_capacity_is_flagged_and_capped() -> None:
    common = dict(engine="vllm", input_len=800, output_len=200)
    over = pm.steady_state("llama-3.1-8b", H100, request_rate=1e4, **common)
    full = pm.steady_state("llama-3.1-8b", H100, concurrency=4096, **common)
    assert over.saturated.item() == 1.0 and np.isinf(over.ttft_mean_s).item()
    assert over.request_throughput_per_s.item() < 1e4
    assert over.request_throughput_per_s.item() == pytest.approx(full.request_throughput_per_s.item(), rel=0.15)


def test_vectorized_equals_one_at_a_time_and_is_monotone() -> None:
    c = np.array([1, 2, 4, 16, 64, 256, 1024])
    ss = pm.steady_state("qwen2.5-7b", H100, engine="sglang", concurrency=c, input_len=[300] * 7, output_len=900)
    for i, ci in enumerate(c):
        one = pm.steady_state("qwen2.5-7b", H100, engine="sglang", concurrency=int(ci), input_len=300,
                              output_len=900)
        assert one.output_tokens_per_s.item() == pytest.approx(ss.output_tokens_per_s[i])
        assert one.tpot_mean_s.item() == pytest.approx(ss.tpot_mean_s[i])
    assert np.all(np.diff(ss.output_tokens_per_s) >= 0) and np.all(np.diff(ss.tpot_mean_s) >= 0)
    assert np.all(np.diff(ss.ttft_mean_s) >= 0)
    # beyond max_num_seqs (256) requests queue: throughput stops growing, waiting shows in TTFT
    assert ss.output_tokens_per_s[-1] == pytest.approx(ss.output_tokens_per_s[-2], rel=0.02)
    assert ss.ttft_mean_s[-1] > 2 * ss.ttft_mean_s[-2]


def test_replicas_split_the_load() -> None:
    one = pm.steady_state("llama-3.1-8b", H100, concurrency=16, input_len=512, output_len=128)
    two = pm.steady_state("llama-3.1-8b", H100, concurrency=32, input_len=512, output_len=128, replicas=2)
    assert two.output_tokens_per_s.item() == pytest.approx(2 * one.output_tokens_per_s.item())
    assert two.tpot_mean_s.item() == pytest.approx(one.tpot_mean_s.item())


@pytest.mark.parametrize("kwargs", [dict(), dict(concurrency=4, request_rate=1.0), dict(concurrency=0),
                                    dict(concurrency=4, replicas=0)])
def test_bad_inputs_raise(kwargs) -> None:
    with pytest.raises(PerfModelError):
        pm.steady_state("llama-3.1-8b", H100, input_len=100, output_len=10, **kwargs)
