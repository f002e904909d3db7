"""Invariants of task costs over random configurations (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from perfmodel.strategies import (
    DENSE,
    BestOfN,
    BlockTopK,
    FirstFinish,
    LognormalLengths,
    SlidingWindow,
    TopK,
    task_cost,
)

FEW = settings(max_examples=20, deadline=None)  # per test: leaves the suite's global profile alone
MODELS = st.sampled_from(["qwen3-0.6b", "qwen3-8b", "qwen3-30b-a3b", "llama-3.1-8b"])
HW = "h100-sxm-80gb"
KEYS = ("flops", "bytes", "eflops", "kv_read_bytes", "latency_s", "energy_j", "cost_usd", "peak_memory_bytes")


def _cost(model, strategy, prompt=256, attention=DENSE):
    return task_cost(model, HW, strategy, input_len=prompt, attention=attention, resolution=None)


def _le(a, b, keys=KEYS) -> None:
    for k in keys:
        assert getattr(a, k) <= getattr(b, k) * (1 + 1e-9), k


@FEW
@given(MODELS, st.integers(1, 32), st.integers(1, 32), st.integers(2, 8192))
def test_monotone_in_samples(model, n, dn, length) -> None:
    _le(_cost(model, BestOfN(n=n, lengths=length)), _cost(model, BestOfN(n=n + dn, lengths=length)))


@FEW
@given(MODELS, st.integers(1, 16), st.integers(2, 8192), st.integers(1, 8192))
def test_monotone_in_length(model, n, length, extra) -> None:
    _le(_cost(model, BestOfN(n=n, lengths=length)), _cost(model, BestOfN(n=n, lengths=length + extra)))


@FEW
@given(MODELS, st.integers(1, 16), st.floats(100, 6000), st.integers(500, 8000))
def test_monotone_in_length_budget(model, k, median, budget) -> None:
    lengths = LognormalLengths(median, 0.6, max_tokens_cap=12000)
    _le(_cost(model, FirstFinish(k=k, lengths=lengths, budget_tokens=budget)),
        _cost(model, FirstFinish(k=k, lengths=lengths, budget_tokens=budget + 1000)))


@FEW
@given(MODELS, st.integers(1, 16), st.integers(2, 16384), st.integers(1, 4096), st.integers(16, 4096))
def test_sparse_never_exceeds_dense(model, n, length, prompt, budget) -> None:
    dense = _cost(model, BestOfN(n=n, lengths=length), prompt)
    for att in (TopK(budget), SlidingWindow(budget)):
        _le(_cost(model, BestOfN(n=n, lengths=length), prompt, att), dense)


@FEW
@given(MODELS, st.integers(1, 16), st.integers(2, 16384), st.integers(1, 8192), st.sampled_from([16, 32, 64]),
       st.integers(0, 64))
def test_block_topk_work_never_exceeds_dense(model, n, length, prompt, block, blocks) -> None:
    """Block top-k with its selection cost moves no more bytes than dense when the budget is at most half
    the prompt (near the full context, scoring every block can cost more than attending to everything)."""
    att = BlockTopK(block_size=block, num_blocks=blocks, local_window=16)
    if att.budget_tokens > prompt / 2:
        return
    _le(_cost(model, BestOfN(n=n, lengths=length), prompt, att), _cost(model, BestOfN(n=n, lengths=length), prompt),
        keys=("flops", "bytes", "eflops", "kv_read_bytes"))


@FEW
@given(MODELS, st.integers(2, 16), st.integers(2, 8192), st.integers(1, 8192))
def test_shared_prefix_never_exceeds_unshared(model, n, length, prompt) -> None:
    _le(_cost(model, BestOfN(n=n, lengths=length, share_prefix=True), prompt),
        _cost(model, BestOfN(n=n, lengths=length, share_prefix=False), prompt))
