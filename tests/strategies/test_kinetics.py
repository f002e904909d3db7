"""The Kinetics law: published forms, closed form = sum over decode steps, the corrected sign, kinetics mode."""

from __future__ import annotations

import numpy as np
import pytest

import perfmodel as pm
from perfmodel.strategies import (
    BestOfN,
    BlockTopK,
    KineticsModel,
    LongCoT,
    SlidingWindow,
    TopK,
    attended_keys,
    kinetics_cost,
    kinetics_step_sum,
    task_cost,
)
from perfmodel.strategies.kinetics import published_topk_attended

KM = KineticsModel(params=8.19e9, gqa_ratio=4.0, kv_elements_per_token=2 * 8 * 128 * 36)
CASES = [(1, 100, 1000), (8, 512, 4096), (32, 3000, 2000), (4, 1, 777)]


@pytest.mark.parametrize(("n", "prompt", "gen"), CASES)
def test_dense_published_form(n, prompt, gen) -> None:
    """compute = 2PNL + 2rN·L_in·D·L + rN·D·L²; memory = 2·L_in·D·L + N·D·L² bytes at 2 bytes/element."""
    p, r, d = KM.params, KM.gqa_ratio, KM.kv_elements_per_token
    law = kinetics_cost(KM, n, prompt, gen)
    compute = 2 * p * n * gen + 2 * r * n * prompt * d * gen + r * n * d * gen**2
    assert float(law.compute_flops) == pytest.approx(compute)
    assert float(law.memory_bytes) == pytest.approx(2 * prompt * d * gen + n * d * gen**2)


@pytest.mark.parametrize(("n", "prompt", "gen"), CASES)
@pytest.mark.parametrize("attention", [pm.strategies.DENSE, TopK(1024), TopK(50), SlidingWindow(2048),
                                       BlockTopK(block_size=64, num_blocks=16, local_window=128),
                                       BlockTopK(block_size=16, num_blocks=200, local_window=64)])
def test_closed_form_equals_step_sum(n, prompt, gen, attention) -> None:
    """The law is the sum over decode steps of the core's exact batch sums (continuous convention)."""
    law = kinetics_cost(KM, n, prompt, gen, attention)
    steps = kinetics_step_sum(KM, n, prompt, gen, attention)
    for term in ("linear_flops", "attention_flops", "search_flops", "kv_bytes", "search_bytes"):
        assert float(getattr(law, term)) == pytest.approx(float(getattr(steps, term)), rel=1e-9, abs=1e-6), term


def test_integer_context_sum_differs_by_order_one_over_length() -> None:
    """Step i attending L_in + i keys (integer contexts) differs from the law by r·D·N·L: O(1/L)."""
    n, prompt, gen = 4, 512, 8192
    keys = sum(prompt + i + 1 for i in range(gen))  # each step attends the cache and itself
    discrete = 2 * KM.gqa_ratio * KM.kv_elements_per_token * n * keys
    law = float(kinetics_cost(KM, n, prompt, gen).attention_flops)
    assert discrete / law - 1 == pytest.approx(1 / (2 * prompt / gen + 1) / gen, rel=1e-6)


def test_oracle_topk_sign_correction() -> None:
    """Attending min(B, context) keys subtracts ½·max(0, B − L_in)²; the published script adds it."""
    budget, prompt, gen = 4096, 1000, 10000
    brute = sum(min(budget, prompt + i + 0.5) for i in range(gen))  # midpoint per step, exact for this integral
    assert float(attended_keys(budget, prompt, gen)) == pytest.approx(brute)
    published = float(published_topk_attended(budget, prompt, gen))
    assert published - brute == pytest.approx((budget - prompt) ** 2)  # off by twice the correction
    assert float(attended_keys(budget, 5000, gen)) == pytest.approx(float(published_topk_attended(budget, 5000, gen)))


def test_budget_beyond_generation_is_dense() -> None:
    assert float(attended_keys(10**6, 100, 1000)) == pytest.approx(float(attended_keys(None, 100, 1000)))


def test_kinetics_mode_reports_the_law() -> None:
    """--cost-model kinetics: FLOPs and eFLOPs exactly the law, I = bf16 peak ÷ bandwidth of the device."""
    model, device = pm.load_model("qwen3-8b"), pm.load_device("h100-sxm-80gb")
    r = task_cost(model, device, BestOfN(n=8, lengths=16384), input_len=512, cost_model="kinetics")
    law = kinetics_cost(KineticsModel.of(model), 8, 512, 16384)
    i = device.peak_flops_per_s("bf16") / device.mem_bw_bytes_per_s
    assert r.machine_balance_flop_per_byte == pytest.approx(i)
    assert r.flops == pytest.approx(float(law.compute_flops))
    assert r.eflops == pytest.approx(float(law.compute_flops + i * law.memory_bytes))
    assert r.weight_read_bytes == 0.0
    assert r.latency_s == pytest.approx(r.eflops / device.peak_flops_per_s("bf16"))


def test_kinetics_mode_fp8_kv_keeps_i_and_lowers_eflops() -> None:
    """An fp8 KV cache halves β (one byte per element) but the matmuls still run on the BF16 peak."""
    model, device = pm.load_model("qwen3-8b"), pm.load_device("h100-sxm-80gb")
    bf16 = task_cost(model, device, LongCoT(lengths=8192), input_len=512, cost_model="kinetics")
    fp8 = task_cost(model, device, LongCoT(lengths=8192), input_len=512, cost_model="kinetics", kv_dtype="fp8")
    law = kinetics_cost(KineticsModel.of(model, 1.0), 1, 512, 8192)
    i = device.peak_flops_per_s("bf16") / device.mem_bw_bytes_per_s
    assert fp8.machine_balance_flop_per_byte == pytest.approx(i)
    assert fp8.machine_balance_flop_per_byte == pytest.approx(bf16.machine_balance_flop_per_byte)
    assert fp8.bytes == pytest.approx(float(law.memory_bytes)) and fp8.bytes == pytest.approx(bf16.bytes / 2)
    assert fp8.flops == pytest.approx(bf16.flops)
    assert fp8.eflops == pytest.approx(bf16.flops + i * bf16.bytes / 2)
    assert fp8.eflops < bf16.eflops
    assert fp8.latency_s == pytest.approx(fp8.eflops / device.peak_flops_per_s("bf16"))


def test_kinetics_mode_w8a8_fp8_uses_the_fp8_peak() -> None:
    model, device = pm.load_model("qwen3-8b"), pm.load_device("h100-sxm-80gb")
    r = task_cost(model, device, LongCoT(lengths=4096), input_len=512, cost_model="kinetics", weight_dtype="fp8")
    assert r.machine_balance_flop_per_byte == pytest.approx(device.peak_flops_per_s("fp8") / device.mem_bw_bytes_per_s)


@pytest.mark.parametrize("cost_model", ["kinetics", "perfmodel"])
def test_machine_balance_override_is_exact(cost_model: str) -> None:
    """With I given (the paper's 562.5 FLOP/byte on B200), eFLOPs = FLOPs + I·bytes exactly."""
    r = task_cost("qwen3-8b", "b200-sxm-180gb", BestOfN(n=4, lengths=8192), input_len=512, cost_model=cost_model,
                  machine_balance=562.5, resolution=16)
    assert r.machine_balance_flop_per_byte == 562.5
    assert r.eflops == pytest.approx(r.flops + 562.5 * r.bytes, rel=1e-12)
    if cost_model == "kinetics":
        law = kinetics_cost(KineticsModel.of(pm.load_model("qwen3-8b")), 4, 512, 8192)
        assert r.eflops == pytest.approx(float(law.compute_flops + 562.5 * law.memory_bytes), rel=1e-12)


def test_machine_balance_must_be_positive() -> None:
    from perfmodel.errors import PerfModelError

    with pytest.raises(PerfModelError, match="machine balance"):
        task_cost("qwen3-0.6b", "h100-sxm-80gb", LongCoT(lengths=64), input_len=8, machine_balance=0.0)


def test_kinetics_mode_expectation_over_lengths() -> None:
    """With a length distribution the law is averaged over it (all N samples share a draw, as published)."""
    from perfmodel.strategies import DiscreteLengths

    model = pm.load_model("qwen3-0.6b")
    dist = DiscreteLengths.of([1000, 3000], [0.5, 0.5])
    r = task_cost(model, "h100-sxm-80gb", BestOfN(n=4, lengths=dist), input_len=100, cost_model="kinetics")
    law = kinetics_cost(KineticsModel.of(model), 4, 100, np.array([1000.0, 3000.0]))
    assert r.flops == pytest.approx(float(np.mean(law.compute_flops)))


def test_perfmodel_attention_flops_agree_with_the_law(toy_model, toy_system, ideal) -> None:
    """Same 2·r·D FLOPs per query-key pair: perfmodel's decode attention FLOPs match the law to O(1/L)."""
    gen, prompt, n = 4000, 300, 4
    r = task_cost(toy_model, toy_system, BestOfN(n=n, lengths=gen + 1), input_len=prompt, engine=ideal,
                  resolution=None)
    decode = r.phases.set_index("phase").loc["decode"]
    law = kinetics_cost(KineticsModel.of(toy_model), n, prompt, gen)
    assert decode["attention_flops"] == pytest.approx(float(law.attention_flops), rel=2 / gen)


@pytest.mark.parametrize("model", ["qwen3-0.6b", "qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b", "qwen3-32b"])
@pytest.mark.parametrize("gen", [16384, 32768])
def test_attention_dominates_long_generations(model, gen) -> None:
    """Qwen3 at 16K–32K generated tokens: KV traffic dwarfs parameter work.

    Kinetics law (weights amortized): attention and KV ≥ 90% of eFLOPs even for one sample.
    perfmodel, 32 samples batched (weights read once per step, counted): KV bytes read exceed the
    weight bytes read, and at the speed of light (the `ideal` engine, so fitted kernel scales do not
    enter) attention kernels take longer than all parameter GEMMs, by the ratio of the bytes each moves
    (both are memory-bound in decode)."""
    kin = task_cost(model, "h100-sxm-80gb", LongCoT(lengths=gen), input_len=512, cost_model="kinetics")
    assert kin.attention_share >= 0.9
    r = task_cost(model, "h100-sxm-80gb", BestOfN(n=32, lengths=gen), input_len=512, resolution=16,
                  engine="ideal")
    assert r.kv_read_bytes > r.weight_read_bytes
    assert r.attention_time_s > r.gemm_time_s
    assert r.attention_time_s / r.gemm_time_s == pytest.approx(r.kv_read_bytes / r.weight_read_bytes, rel=0.25)
