"""Hand-checked cost of best-of-N with and without prefix sharing, and the glue to the cost core."""

from __future__ import annotations

import numpy as np
import pytest

from perfmodel.cost import BatchStats, Parallelism, Precision, step_cost
from perfmodel.strategies import BestOfN, LognormalLengths, task_cost

N, PROMPT, LENGTH = 4, 10, 6
KV_BYTES_PER_TOKEN = 2 * 2 * 16 * 2 * 2  # K and V × 2 KV heads × head dim 16 × 2 bytes × 2 layers
FLOPS_PER_PAIR = 2 * 4 * (16 + 16) * 2  # 2·n_q·(d_qk + d_v) per layer × 2 layers
# weights read per step: per layer qkv 64×(4+2+2)·16, o 64×64, up 64×256, down 128×64; lm_head 64×100; bf16
WEIGHT_BYTES_PER_STEP = 2 * (2 * (64 * 128 + 64 * 64 + 64 * 256 + 128 * 64) + 64 * 100)
EMBEDDING_ROW_BYTES = 64 * 2


def _cost(toy_model, toy_system, ideal, share: bool):
    return task_cost(toy_model, toy_system, BestOfN(n=N, lengths=LENGTH, share_prefix=share), input_len=PROMPT,
                     engine=ideal, resolution=None)


def test_shared_prefix_by_hand(toy_model, toy_system, ideal) -> None:
    """Prefill the prompt once; decode step i (1…L−1) has N sequences after 9 + i cached tokens and
    reads the prompt once: KV tokens read = N·(10 + i) − (N − 1)·10 = 10 + 4i."""
    r = _cost(toy_model, toy_system, ideal, share=True)
    decode_reads = sum(PROMPT + N * i for i in range(1, LENGTH))  # 110
    assert r.kv_read_bytes == pytest.approx((PROMPT + decode_reads) * KV_BYTES_PER_TOKEN)
    assert r.kv_write_bytes == pytest.approx((PROMPT + N * (LENGTH - 1)) * KV_BYTES_PER_TOKEN)
    pairs = PROMPT * (PROMPT + 1) / 2 + sum(N * (PROMPT + i) for i in range(1, LENGTH))
    assert r.phases["attention_flops"].sum() == pytest.approx(pairs * FLOPS_PER_PAIR)
    rows = PROMPT + N * (LENGTH - 1)
    assert r.weight_read_bytes == pytest.approx(LENGTH * WEIGHT_BYTES_PER_STEP + rows * EMBEDDING_ROW_BYTES)
    assert r.generated_tokens == pytest.approx(N * LENGTH)
    # peak: weights + prompt once + N samples × (L − 1) cached generated tokens
    weights = toy_model.total_params() * 2
    assert r.peak_memory_bytes == pytest.approx(weights + (PROMPT + N * (LENGTH - 1)) * KV_BYTES_PER_TOKEN)


def test_unshared_prefix_by_hand(toy_model, toy_system, ideal) -> None:
    """Without sharing every sample prefills and reads its own prompt copy."""
    r = _cost(toy_model, toy_system, ideal, share=False)
    decode_reads = sum(N * (PROMPT + i) for i in range(1, LENGTH))  # 260
    assert r.kv_read_bytes == pytest.approx((N * PROMPT + decode_reads) * KV_BYTES_PER_TOKEN)
    assert r.kv_write_bytes == pytest.approx((N * PROMPT + N * (LENGTH - 1)) * KV_BYTES_PER_TOKEN)
    pairs = N * PROMPT * (PROMPT + 1) / 2 + sum(N * (PROMPT + i) for i in range(1, LENGTH))
    assert r.phases["attention_flops"].sum() == pytest.approx(pairs * FLOPS_PER_PAIR)
    weights = toy_model.total_params() * 2
    assert r.peak_memory_bytes == pytest.approx(weights + N * (PROMPT + LENGTH - 1) * KV_BYTES_PER_TOKEN)


def test_shared_is_cheaper(toy_model, toy_system, ideal) -> None:
    shared, unshared = (_cost(toy_model, toy_system, ideal, s) for s in (True, False))
    for key in ("flops", "bytes", "kv_read_bytes", "latency_s", "peak_memory_bytes"):
        assert getattr(shared, key) < getattr(unshared, key)


def test_latency_is_the_sum_of_core_steps(toy_model, toy_system, ideal) -> None:
    """Every second comes from step_cost: the task equals pricing its steps directly."""
    r = _cost(toy_model, toy_system, ideal, share=True)
    prec, par = Precision.of("bf16"), Parallelism()
    prefill = step_cost(toy_model, toy_system, BatchStats.uniform(1, PROMPT, 0), prec, par, ideal)
    ctx = PROMPT + np.arange(LENGTH - 1, dtype=float)
    decode = step_cost(toy_model, toy_system, BatchStats.uniform(N, 1, ctx, shared_prefix_tokens=PROMPT), prec,
                       par, ideal)
    assert r.latency_s == pytest.approx(float(prefill.time_s) + float(np.sum(decode.time_s)))
    assert r.flops == pytest.approx(float(prefill.flops) + float(np.sum(decode.flops)))


def test_energy_and_dollars(toy_model, toy_system, ideal) -> None:
    """Power between idle (0.3·TDP) and TDP; dollars = price × seconds / 3600."""
    r = _cost(toy_model, toy_system, ideal, share=True)
    assert 0.3 * 500 * r.latency_s <= r.energy_j <= 500 * r.latency_s
    assert r.cost_usd == pytest.approx(2.0 * r.latency_s / 3600)
    assert r.eflops == pytest.approx(r.flops + r.machine_balance_flop_per_byte * r.bytes)
    assert r.machine_balance_flop_per_byte == pytest.approx(100e12 / 1000e9)


def test_no_price_or_power_gives_none(toy_model, ideal) -> None:
    from perfmodel.specs import Device

    bare = Device(kind="gpu", memory={"capacity_gb": 10, "bandwidth_gb_s": 1000}, compute_tflops={"bf16": 100})
    r = task_cost(toy_model, bare, BestOfN(n=2, lengths=8), input_len=4, engine=ideal)
    assert r.energy_j is None and r.cost_usd is None
    d = r.to_dict()
    assert d["energy_j"] is None and d["cost_usd"] is None


def test_binned_matches_every_step() -> None:
    """Context bins (midpoint rule): linear sums exact, time within 0.5% of the every-step sum."""
    s = BestOfN(n=8, lengths=LognormalLengths(6000, 0.6, max_tokens_cap=24000))
    exact = task_cost("qwen3-8b", "h100-sxm-80gb", s, input_len=300, resolution=None)
    binned = task_cost("qwen3-8b", "h100-sxm-80gb", s, input_len=300, resolution=64)
    for key in ("flops", "bytes", "weight_read_bytes", "kv_read_bytes", "kv_write_bytes", "generated_tokens"):
        assert getattr(binned, key) == pytest.approx(getattr(exact, key), rel=1e-9), key
    assert binned.latency_s == pytest.approx(exact.latency_s, rel=0.005)
    assert binned.energy_j == pytest.approx(exact.energy_j, rel=0.005)


def test_binned_sparse_matches_every_step() -> None:
    """Bin edges at the sparse budget keep the kink of min(context, B) exact; only the one bin where the
    engine switches from dense to sparse attention is priced at its representative step (≪ 0.5%)."""
    from perfmodel.strategies import BlockTopK

    s = BestOfN(n=4, lengths=20000)
    att = BlockTopK(block_size=64, num_blocks=30, local_window=128)
    exact = task_cost("qwen3-1.7b", "h100-sxm-80gb", s, input_len=500, attention=att, resolution=None)
    binned = task_cost("qwen3-1.7b", "h100-sxm-80gb", s, input_len=500, attention=att, resolution=32)
    for key in ("flops", "kv_read_bytes"):
        assert getattr(binned, key) == pytest.approx(getattr(exact, key), rel=1e-3), key
    assert binned.weight_read_bytes == pytest.approx(exact.weight_read_bytes, rel=1e-9)
    assert binned.latency_s == pytest.approx(exact.latency_s, rel=0.005)
