"""Sparse attention through a whole task against brute-force step sums."""

from __future__ import annotations

import pytest

from perfmodel.strategies import DENSE, BestOfN, BlockTopK, SlidingWindow, TopK, task_cost

N, PROMPT, LENGTH = 3, 40, 120
KV_BYTES_PER_TOKEN = 2 * 2 * 16 * 2 * 2
FLOPS_PER_PAIR = 2 * 4 * 32 * 2


def _decode(toy_model, toy_system, ideal, attention):
    r = task_cost(toy_model, toy_system, BestOfN(n=N, lengths=LENGTH), input_len=PROMPT, attention=attention,
                  engine=ideal, resolution=None)
    return r.phases.set_index("phase").loc["decode"]


def _dense(s: int) -> tuple[float, float]:
    """(query-key pairs, KV tokens read) of dense attention: the prompt read once for all samples."""
    return N * (s + 1), N * (s + 1) - (N - 1) * PROMPT


def _steps():
    return [PROMPT + i - 1 for i in range(1, LENGTH)]  # cached tokens at decode steps 1 … L−1


@pytest.mark.parametrize("budget", [10, 64, 100, 500])
def test_oracle_topk_brute_force(toy_model, toy_system, ideal, budget) -> None:
    """Each sample attends its own B keys (nothing shared); dense where that reads no less."""
    row = _decode(toy_model, toy_system, ideal, TopK(budget))
    pairs = reads = 0.0
    for s in _steps():
        sparse = N * min(s + 1, budget)
        dense_pairs, dense_reads = _dense(s)
        pairs += sparse if sparse < dense_reads else dense_pairs
        reads += min(sparse, dense_reads)
    assert row["attention_flops"] == pytest.approx(pairs * FLOPS_PER_PAIR)
    writes = N * (LENGTH - 1)
    assert row["kv_bytes"] == pytest.approx((reads + writes) * KV_BYTES_PER_TOKEN)


@pytest.mark.parametrize("window", [10, 64, 100, 500])
def test_sliding_window_brute_force(toy_model, toy_system, ideal, window) -> None:
    row = _decode(toy_model, toy_system, ideal, SlidingWindow(window))
    reads = 0
    for s in _steps():
        seen = min(s + 1, window)
        shared_in_window = max(0, PROMPT - (s + 1 - seen))
        reads += N * seen - (N - 1) * shared_in_window
    assert row["kv_bytes"] == pytest.approx((reads + N * (LENGTH - 1)) * KV_BYTES_PER_TOKEN)


@pytest.mark.parametrize(("block", "blocks", "local"), [(8, 4, 16), (16, 2, 0), (4, 40, 8)])
def test_block_topk_brute_force(toy_model, toy_system, ideal, block, blocks, local) -> None:
    att = BlockTopK(block_size=block, num_blocks=blocks, local_window=local)
    budget = att.budget_tokens
    row = _decode(toy_model, toy_system, ideal, att)
    pairs = reads = 0.0
    for s in _steps():
        sp_pairs = sp_reads = N * min(s + 1, budget)
        if s + 1 > budget:  # score one representative key per block: QK half of the FLOPs, K half of the bytes
            sp_pairs += 0.5 * N * s / block
            sp_reads += 0.5 * (N * s - (N - 1) * PROMPT) / block
        dense_pairs, dense_reads = _dense(s)
        pairs += sp_pairs if sp_reads < dense_reads else dense_pairs
        reads += min(sp_reads, dense_reads)
    assert row["attention_flops"] == pytest.approx(pairs * FLOPS_PER_PAIR)
    assert row["kv_bytes"] == pytest.approx((reads + N * (LENGTH - 1)) * KV_BYTES_PER_TOKEN)


def test_sparse_cheaper_than_dense_at_long_context() -> None:
    s = BestOfN(n=8, lengths=32768)
    dense = task_cost("qwen3-8b", "h100-sxm-80gb", s, input_len=512, attention=DENSE, resolution=32)
    for att in (TopK(2048), SlidingWindow(2048), BlockTopK(64, 30, 128)):
        sparse = task_cost("qwen3-8b", "h100-sxm-80gb", s, input_len=512, attention=att, resolution=32)
        assert sparse.kv_read_bytes < 0.2 * dense.kv_read_bytes
        assert sparse.eflops < dense.eflops
        assert sparse.latency_s < dense.latency_s
        assert sparse.peak_memory_bytes == pytest.approx(dense.peak_memory_bytes)  # the cache stays resident
