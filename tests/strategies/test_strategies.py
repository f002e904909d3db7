"""Speculative decoding, beam search, revision, verifiers, first-finish and length distributions."""

from __future__ import annotations

import numpy as np
import pytest

import perfmodel as pm
from perfmodel.errors import PerfModelError
from perfmodel.strategies import (
    BeamSearch,
    BestOfN,
    DiscreteLengths,
    EmpiricalLengths,
    FirstFinish,
    FixedLength,
    LognormalLengths,
    OutcomeRewardModel,
    ProcessRewardModel,
    Revision,
    SelfConsistency,
    Single,
    Speculative,
    task_cost,
    tokens_per_verify,
)

HW = "h100-sxm-80gb"


def test_tokens_per_verify() -> None:
    assert tokens_per_verify(4, 0.0) == 1.0
    assert tokens_per_verify(4, 1.0) == 5.0
    assert tokens_per_verify(3, 0.5) == pytest.approx(1 + 0.5 + 0.25 + 0.125)


def test_speculative_verify_steps(toy_model, toy_system, ideal) -> None:
    """1/τ as many target steps, each verifying γ+1 tokens per sequence; n-gram drafting is free."""
    gamma, alpha, length = 4, 0.6, 501
    base = task_cost(toy_model, toy_system, Single(lengths=length), input_len=20, engine=ideal, resolution=None)
    spec = task_cost(toy_model, toy_system, Speculative(Single(lengths=length), gamma=gamma, alpha=alpha),
                     input_len=20, engine=ideal, resolution=None)
    tau = tokens_per_verify(gamma, alpha)
    rows = spec.phases.set_index("phase")
    assert rows.loc["verify", "steps"] == pytest.approx((length - 1) / tau)
    assert rows.loc["verify", "generated_tokens"] == pytest.approx(length - 1)
    assert spec.latency_s < base.latency_s
    assert spec.weight_read_bytes < base.weight_read_bytes
    assert spec.flops > base.flops  # rejected draft tokens are verified too


def test_speculative_draft_model_adds_its_cost() -> None:
    inner = BestOfN(n=4, lengths=4096)
    ngram = task_cost("qwen3-32b", HW, Speculative(inner, gamma=4, alpha=0.7), input_len=256, resolution=16)
    draft = task_cost("qwen3-32b", HW, Speculative(inner, draft="qwen3-0.6b", gamma=4, alpha=0.7), input_len=256,
                      resolution=16)
    rows = draft.phases.set_index("phase")
    assert {"draft", "draft_prefill", "verify"} <= set(rows.index)
    assert rows.loc["draft", "model"] == "qwen3-0.6b"
    assert rows.loc["draft", "steps"] == pytest.approx(4 * rows.loc["verify", "steps"])
    assert draft.latency_s > ngram.latency_s and draft.flops > ngram.flops
    own = task_cost("qwen3-32b", HW, Speculative(inner, draft="qwen3-0.6b", draft_hardware="l4-24gb"),
                    input_len=256, resolution=16)
    price = sum(pm.load_device(d).price_per_hour_usd for d in (HW, "l4-24gb"))
    assert own.cost_usd == pytest.approx(price * own.latency_s / 3600)  # the draft's device is rented too


def test_beam_search_shares_prefixes() -> None:
    beam = BeamSearch(width=4, expansion=4, tokens_per_step=128, depth=6)
    shared = task_cost("qwen3-1.7b", HW, beam, input_len=2000, resolution=None)
    flat = task_cost("qwen3-1.7b", HW, BestOfN(n=16, lengths=128 * 6, share_prefix=False), input_len=2000,
                     resolution=None)
    assert shared.generated_tokens == pytest.approx(16 * 128 * 6)
    assert shared.kv_read_bytes < flat.kv_read_bytes
    with_prm = task_cost("qwen3-1.7b", HW, BeamSearch(width=4, expansion=4, tokens_per_step=128, depth=6,
                                                      prm="qwen3-0.6b"), input_len=2000, resolution=None)
    assert with_prm.latency_s > shared.latency_s
    assert set(with_prm.phases["role"]) == {"target", "verifier"}


def test_beam_search_binned_matches_every_step() -> None:
    beam = BeamSearch(width=2, expansion=3, tokens_per_step=512, depth=10)
    exact = task_cost("qwen3-4b", HW, beam, input_len=300, resolution=None)
    binned = task_cost("qwen3-4b", HW, beam, input_len=300, resolution=64)
    assert binned.flops == pytest.approx(exact.flops, rel=1e-9)
    assert binned.latency_s == pytest.approx(exact.latency_s, rel=0.005)


def test_revision_rereads_growing_context() -> None:
    one = task_cost("qwen3-8b", HW, Revision(turns=1, lengths=2000), input_len=500, resolution=32)
    three = task_cost("qwen3-8b", HW, Revision(turns=3, lengths=2000), input_len=500, resolution=32)
    no_cache = task_cost("qwen3-8b", HW, Revision(turns=3, lengths=2000, keep_cache=False), input_len=500,
                         resolution=32)
    # turn t reads ~t·(2000 + 64) more context per step: more than 3× the KV of one turn
    assert three.kv_read_bytes > 3 * one.kv_read_bytes
    assert no_cache.flops > three.flops
    assert three.generated_tokens == pytest.approx(6000)


@pytest.mark.parametrize("verifier", [OutcomeRewardModel("qwen3-1.7b"), ProcessRewardModel("qwen3-1.7b", 128)])
def test_verifiers_add_their_cost(verifier) -> None:
    base = task_cost("qwen3-8b", HW, BestOfN(n=8, lengths=4096), input_len=300, resolution=16)
    checked = task_cost("qwen3-8b", HW, BestOfN(n=8, lengths=4096, verifier=verifier), input_len=300, resolution=16)
    v = checked.phases[checked.phases["role"] == "verifier"]
    assert set(v["model"]) == {"qwen3-1.7b"}
    assert checked.latency_s == pytest.approx(base.latency_s + v["time_s"].sum())
    assert checked.flops == pytest.approx(base.flops + v["flops"].sum())


def test_self_consistency_costs_best_of_n_without_verifier() -> None:
    a = task_cost("qwen3-0.6b", HW, SelfConsistency(n=8, lengths=2048), input_len=100)
    b = task_cost("qwen3-0.6b", HW, BestOfN(n=8, lengths=2048), input_len=100)
    assert a.eflops == pytest.approx(b.eflops) and a.latency_s == pytest.approx(b.latency_s)
    with pytest.raises(PerfModelError, match="no verifier"):
        SelfConsistency(n=4, verifier=OutcomeRewardModel("qwen3-0.6b"))


def test_first_finish_is_cheaper_than_waiting_for_all() -> None:
    lengths = LognormalLengths(3000, 0.7, max_tokens_cap=16000)
    ff = task_cost("qwen3-4b", HW, FirstFinish(k=8, m=1, lengths=lengths), input_len=200, resolution=32)
    bo = task_cost("qwen3-4b", HW, BestOfN(n=8, lengths=lengths), input_len=200, resolution=32)
    assert ff.latency_s < bo.latency_s and ff.generated_tokens < bo.generated_tokens


def test_length_budget_caps_generation() -> None:
    lengths = LognormalLengths(3000, 0.7, max_tokens_cap=16000)
    capped = lengths.capped(2000)
    assert capped.max_tokens == 2000
    assert capped.mean_tokens < lengths.mean_tokens
    values, probs = capped.pmf()
    assert probs.sum() == pytest.approx(1.0)
    assert probs[-1] == pytest.approx(float(lengths.survival(1999)))


def test_length_distributions(tmp_path) -> None:
    ln = LognormalLengths(1000, 0.5, max_tokens_cap=20000)
    assert ln.mean_tokens == pytest.approx(1000 * np.exp(0.5**2 / 2), rel=0.01)
    assert float(ln.cdf(1000)) == pytest.approx(0.5, abs=0.01)
    path = tmp_path / "lengths.txt"
    path.write_text("100\n300\n300\n")
    emp = EmpiricalLengths.from_file(path)
    assert emp.mean_tokens == pytest.approx(700 / 3)
    assert list(emp.pmf()[0]) == [100, 300]
    assert FixedLength(5).survival(4) == 1.0 and FixedLength(5).survival(5) == 0.0
    points, weights = ln.quantile_points(8)
    assert np.dot(points, weights) == pytest.approx(ln.mean_tokens)
    assert DiscreteLengths.of([2, 2, 5], [1, 1, 2]).pmf()[1] == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("bad", ["", "12\nabc\n"])
def test_bad_lengths_file(tmp_path, bad) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(bad)
    with pytest.raises(PerfModelError, match="bad.txt"):
        EmpiricalLengths.from_file(path)


def test_bad_inputs_are_one_line_errors() -> None:
    for make in (lambda: BestOfN(n=0), lambda: FirstFinish(k=2, m=3), lambda: FixedLength(0),
                 lambda: Speculative(gamma=0), lambda: BeamSearch(width=0)):
        with pytest.raises(PerfModelError):
            make()
    with pytest.raises(PerfModelError, match="prompt"):
        task_cost("qwen3-0.6b", HW, Single(lengths=10), input_len=0)
    with pytest.raises(PerfModelError, match="cost model"):
        task_cost("qwen3-0.6b", HW, Single(lengths=10), input_len=10, cost_model="flops")


def test_where_the_time_goes_adds_up() -> None:
    r = task_cost("qwen3-8b", HW, BestOfN(n=16, lengths=16384), input_len=512, resolution=32)
    parts = r.attention_time_s + r.gemm_time_s + r.other_time_s
    assert r.phases["time_s"].sum() == pytest.approx(parts)
    assert r.latency_s - parts == pytest.approx(pm.load_engine("default").request_overhead_s)
    assert 0 < r.attention_share < 1
    d = r.to_dict()
    for key in ("flops", "bytes", "kv_read_bytes", "weight_read_bytes", "eflops", "latency_s", "energy_j",
                "cost_usd", "peak_memory_bytes", "attention_share"):
        assert key in d
