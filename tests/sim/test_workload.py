"""Workload generation: arrival processes, length distributions, classes, groups; deterministic."""

from __future__ import annotations

import numpy as np
import pytest

from perfmodel.sim.scenario import ArrivalSpec, LengthSpec, WorkloadSpec
from perfmodel.sim.workload import acceptance_draws, draw_arrivals, draw_lengths, generate


def test_arrival_processes() -> None:
    rng = np.random.default_rng(0)
    poisson = np.diff(draw_arrivals(ArrivalSpec(process="poisson", rate_per_s=10), 50_000, rng))
    assert poisson.mean() == pytest.approx(0.1, rel=0.02)
    assert poisson.std() / poisson.mean() == pytest.approx(1, rel=0.03)
    gamma = np.diff(draw_arrivals(ArrivalSpec(process="gamma", rate_per_s=10, cv=3.0), 50_000, rng))
    assert gamma.mean() == pytest.approx(0.1, rel=0.05) and gamma.std() / gamma.mean() == pytest.approx(3, rel=0.1)
    const = draw_arrivals(ArrivalSpec(process="constant", rate_per_s=4), 5, rng)
    assert const.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert draw_arrivals(ArrivalSpec(process="all-at-once"), 3, rng).tolist() == [0, 0, 0]


def test_length_distributions() -> None:
    rng = np.random.default_rng(1)
    logn = draw_lengths(LengthSpec(dist="lognormal", mean=512, cv=1.0), 200_000, rng)
    assert logn.mean() == pytest.approx(512, rel=0.02) and logn.min() >= 1
    uni = draw_lengths(LengthSpec(dist="uniform", low=5, high=7), 1000, rng)
    assert set(uni) == {5, 6, 7}
    capped = draw_lengths(LengthSpec(dist="lognormal", mean=100, cv=2, min=10, max=50), 1000, rng)
    assert capped.min() >= 10 and capped.max() <= 50
    assert draw_lengths(LengthSpec.fixed(9), 3, rng).tolist() == [9, 9, 9]


def test_classes_groups_and_determinism() -> None:
    spec = WorkloadSpec(
        requests=2000, arrival=ArrivalSpec(process="poisson", rate_per_s=5),
        input_len=LengthSpec.fixed(100), output_len=LengthSpec(dist="uniform", low=1, high=50),
        classes=({"name": "a", "weight": 3},
                 {"name": "b", "samples": 4, "first_finish": 2, "shared_prefix_tokens": 150}),
    )
    wl = generate(spec, seed=3)
    share_b = (wl.class_id == 1).mean()
    assert share_b == pytest.approx(0.25, abs=0.03)
    assert wl.num_seqs == int(wl.samples.sum()) == 2000 + 3 * int((wl.class_id == 1).sum())
    assert np.all(wl.first_finish[wl.class_id == 1] == 2)
    assert np.all(wl.input_len[wl.class_id == 1] == 151)  # a shared prefix leaves room for the request's own text
    assert np.array_equal(wl.output_len, np.bincount(wl.seq_request, weights=wl.seq_output_len).astype(int))
    again = generate(spec, seed=3)
    assert np.array_equal(wl.arrival_s, again.arrival_s)
    assert np.array_equal(wl.seq_output_len, again.seq_output_len)
    assert not np.array_equal(wl.arrival_s, generate(spec, seed=4).arrival_s)


def test_acceptance_draws_follow_the_rate() -> None:
    draws = acceptance_draws(0, 5, 100_000, k=4, rate=0.7)
    assert draws.min() >= 0 and draws.max() <= 4
    expected = sum(0.7 ** j for j in range(1, 5))  # E[accepted] = Σ_{j=1..k} α^j
    assert draws.mean() == pytest.approx(expected, rel=0.01)
    assert np.array_equal(draws, acceptance_draws(0, 5, 100_000, k=4, rate=0.7))
