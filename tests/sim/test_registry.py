"""Schedulers and routers are registries: a new policy is one class plus one entry; unknown names are refused."""

from __future__ import annotations

import pandas as pd
import pytest

from perfmodel.errors import SpecError
from perfmodel.sim import ROUTERS, SCHEDULERS, simulate
from perfmodel.sim.router import Router
from perfmodel.sim.scheduler import Continuous


class RenamedContinuous(Continuous):
    name = "continuous-copy"


class LastReplica(Router):
    name = "last-replica"

    def pick(self, replicas, req):
        return replicas[-1]


def test_a_registered_scheduler_runs_like_the_policy_it_copies(make, monkeypatch) -> None:
    monkeypatch.setitem(SCHEDULERS, RenamedContinuous.name, RenamedContinuous)
    copy = simulate(make(scheduler__name="continuous-copy", scheduler__kv_blocks=150))
    base = simulate(make(scheduler__kv_blocks=150))
    pd.testing.assert_frame_equal(copy.requests, base.requests)


def test_a_registered_router_is_used(make, monkeypatch) -> None:
    monkeypatch.setitem(ROUTERS, LastReplica.name, LastReplica)
    res = simulate(make(replicas=3, router="last-replica"))
    assert set(res.requests["replica"]) == {2}


@pytest.mark.parametrize(("field", "value", "listed"), [
    ("scheduler__name", "fifo", "'static', 'continuous' or 'prefill-first'"),
    ("router", "random", "'round-robin', 'least-outstanding' or 'kv-aware'"),
])
def test_unknown_names_list_the_registered_ones(make, field: str, value: str, listed: str) -> None:
    with pytest.raises(SpecError, match=f"Input should be {listed} \\(got '{value}'\\)"):
        simulate(make(**{field: value}))

