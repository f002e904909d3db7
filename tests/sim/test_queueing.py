"""Queueing sanity: M/D/1 waiting time and Little's law on the simulated trace."""

from __future__ import annotations

import numpy as np
import pytest

from perfmodel.sim import simulate


def _md1_scenario(rate: float, requests: int, make) -> dict:
    return make(scheduler__name="static", scheduler__max_num_seqs=1, workload__requests=requests,
                workload__arrival={"process": "poisson", "rate_per_s": rate},
                workload__input_len={"dist": "fixed", "value": 64},
                workload__output_len={"dist": "fixed", "value": 4})


def test_mean_wait_matches_md1(fixed, make) -> None:
    one = simulate(fixed(64, 4, scheduler__name="static", scheduler__max_num_seqs=1))
    overhead = one.setup.request_overhead_s
    service_s = float(one.requests.iloc[0].e2e_s - overhead)  # deterministic service: prefill + 3 decode steps
    rho = 0.7
    res = simulate(_md1_scenario(rho / service_s, 4000, make))
    req = res.requests
    wait = (req["queue_s"] - overhead).to_numpy()
    assert np.allclose(req["e2e_s"] - req["queue_s"], service_s, rtol=1e-9)  # service really is deterministic
    expected = rho * service_s / (2 * (1 - rho))  # Pollaczek-Khinchine for M/D/1
    batches = wait[400:].reshape(20, -1).mean(axis=1)  # batch means (waits are correlated)
    se = batches.std(ddof=1) / np.sqrt(len(batches))
    assert abs(wait[400:].mean() - expected) < 3 * se + 0.02 * expected


def test_littles_law_on_the_trace(make) -> None:
    res = simulate(make(replicas=2, workload__requests=300, workload__arrival={"process": "poisson",
                                                                             "rate_per_s": 40}))
    n = res.in_system()
    t, count = n["time_s"].to_numpy(), n["in_system"].to_numpy()
    area = float(np.sum(count[:-1] * np.diff(t)))  # ∫ N(t) dt over the run
    horizon = t[-1] - t[0]
    req = res.requests
    lam = len(req) / horizon
    assert area / horizon == pytest.approx(lam * req["e2e_s"].mean(), rel=1e-9)  # L = λ W
    # and for the waiting line alone: time-average number queued = λ × mean queueing delay
    wait_start = req["arrival_s"].to_numpy() + res.setup.request_overhead_s
    wait_end = wait_start + (req["queue_s"].to_numpy() - res.setup.request_overhead_s)
    grid = np.linspace(t[0], t[-1], 200_001)
    queued = (np.searchsorted(np.sort(wait_start), grid, side="right")
              - np.searchsorted(np.sort(wait_end), grid, side="right"))
    assert queued.mean() == pytest.approx(lam * (wait_end - wait_start).mean(), rel=0.02, abs=1e-3)
