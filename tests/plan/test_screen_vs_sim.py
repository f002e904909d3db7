"""Screen and simulation agree for one replica at low load."""

from __future__ import annotations

import pytest

import perfmodel as pm


def test_single_replica_low_load_screen_matches_simulation(spec_factory):
    spec = spec_factory(**{"traffic.rate_per_s": 0.5, "candidates.devices": ["h100-sxm-80gb"], "search.tp": [1],
                           "search.max_num_seqs": [64]})
    p = pm.plan(spec, verify=False)
    row = p.table.iloc[0]
    assert row["units"] == 1
    sim = pm.simulate(p.scenario(row).with_overrides(requests=60)).summary
    # at low load nothing queues: the screen's medians are its means
    assert row["tpot_s_p50"] == pytest.approx(sim["tpot_s"]["mean"], rel=0.05)
    assert row["ttft_s_p50"] == pytest.approx(sim["ttft_s"]["mean"], rel=0.05)
