"""Expected alive samples: the expectation method against Monte-Carlo averages of exact per-draw sums."""

from __future__ import annotations

import numpy as np
import pytest

import perfmodel as pm
from perfmodel.cost import BatchStats, Parallelism, Precision, step_cost
from perfmodel.strategies import BestOfN, FirstFinish, LognormalLengths, task_cost
from perfmodel.strategies.alive import bin_profile, first_finish, parallel_samples
from perfmodel.strategies.lengths import DiscreteLengths

MODEL, HW, PROMPT = "qwen3-1.7b", "h100-sxm-80gb", 200
LENGTHS = LognormalLengths(1500, 0.6, max_tokens_cap=6000)


def _monte_carlo(draw_alive) -> tuple[float, float, float]:
    """Mean over draws of the exact decode-step sums: (seconds, FLOPs, KV bytes).

    `draw_alive(rng, draws)` returns (draws, steps) alive counts per decode step."""
    rng = np.random.default_rng(7)
    alive = draw_alive(rng, 300)
    draws, steps = alive.shape
    ctx = np.broadcast_to(PROMPT + np.arange(steps, dtype=float), alive.shape)
    on = alive > 0
    model, system = pm.load_model(MODEL), pm.resolve_system(HW)
    cost = step_cost(model, system, BatchStats.uniform(alive[on], 1, ctx[on], shared_prefix_tokens=PROMPT),
                     Precision.of("bf16"), Parallelism(), pm.load_engine("default"))
    return (float(np.sum(cost.time_s)) / draws, float(np.sum(cost.flops)) / draws,
            float(np.sum(cost.kv_bytes)) / draws)


def _decode(result) -> dict:
    row = result.phases.set_index("phase").loc["decode"]
    return {"time_s": row["time_s"], "flops": row["flops"], "kv_bytes": row["kv_bytes"], "steps": row["steps"]}


def test_best_of_n_matches_monte_carlo() -> None:
    n = 8

    def draw(rng, draws):
        lengths = LENGTHS.sample(rng, (draws, n))
        k = np.arange(1, LENGTHS.max_tokens)
        return (lengths[:, :, None] > k[None, None, :]).sum(axis=1)

    mc_time, mc_flops, mc_kv = _monte_carlo(draw)
    d = _decode(task_cost(MODEL, HW, BestOfN(n=n, lengths=LENGTHS), input_len=PROMPT, resolution=None))
    assert d["time_s"] == pytest.approx(mc_time, rel=0.02)
    assert d["flops"] == pytest.approx(mc_flops, rel=0.02)
    assert d["kv_bytes"] == pytest.approx(mc_kv, rel=0.02)


def test_first_finish_matches_monte_carlo() -> None:
    """Stop at the first m of k to finish: decode steps = E[L_(m)] − 1, cost until the stop."""
    k, m = 8, 2

    def draw(rng, draws):
        lengths = np.sort(LENGTHS.sample(rng, (draws, k)), axis=1)
        stop = lengths[:, m - 1]  # the m-th finisher's length: steps 1 … stop − 1 run
        steps = np.arange(1, LENGTHS.max_tokens)
        alive = (lengths[:, :, None] > steps[None, None, :]).sum(axis=1)
        return np.where(steps[None, :] < stop[:, None], alive, 0)

    mc_time, mc_flops, _ = _monte_carlo(draw)
    d = _decode(task_cost(MODEL, HW, FirstFinish(k=k, m=m, lengths=LENGTHS), input_len=PROMPT, resolution=None))
    assert d["time_s"] == pytest.approx(mc_time, rel=0.02)
    assert d["flops"] == pytest.approx(mc_flops, rel=0.02)
    order_stat = np.sort(LENGTHS.sample(np.random.default_rng(3), (20000, k)), axis=1)[:, m - 1]
    assert d["steps"] == pytest.approx(order_stat.mean() - 1, rel=0.01)


def test_expected_steps_exact_for_small_support() -> None:
    """Two lengths, N = 2: P(step runs) = 1 − P(both shorter) — checked exhaustively."""
    lengths = DiscreteLengths.of([3, 6], [0.25, 0.75])
    prof = parallel_samples(lengths, 2, 10)
    expected_run = [1.0, 1.0, 1 - 0.25**2, 1 - 0.25**2, 1 - 0.25**2]  # steps 1-2 always, 3-5 unless both are 3
    assert prof.run == pytest.approx(expected_run)
    assert prof.alive == pytest.approx([2, 2, 1.5, 1.5, 1.5])
    assert prof.expected_steps == pytest.approx(sum(expected_run))
    bins = bin_profile(prof, resolution=2)  # edges at the support keep the jump exact
    assert np.dot(bins.weight, bins.num_seqs) == pytest.approx(prof.alive.sum())
    assert np.dot(bins.weight, bins.num_seqs * bins.context) == pytest.approx(np.dot(prof.alive, prof.context))


def test_first_finish_m_equals_k_is_best_of_n() -> None:
    ff = first_finish(LENGTHS, 4, 4, PROMPT)
    bo = parallel_samples(LENGTHS, 4, PROMPT)
    assert ff.run == pytest.approx(bo.run, abs=1e-12)
    assert ff.alive == pytest.approx(bo.alive, abs=1e-9)
