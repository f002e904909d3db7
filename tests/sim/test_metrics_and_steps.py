"""Statistics helpers, ITL reconstruction, and the incremental step sums against the cost core's Batch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfmodel.sim import simulate
from perfmodel.sim.metrics import describe, weighted_quantile
from perfmodel.sim.records import Running
from perfmodel.sim.running import DecodeSet
from perfmodel.sim.steps import fast_keys, reference_keys


@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.integers(0, 5)), min_size=1, max_size=30),
       st.sampled_from([0, 1, 37.5, 50, 90, 99, 100]))
def test_weighted_quantile_equals_percentile_of_the_expanded_sample(pairs, q) -> None:
    values = np.array([p[0] for p in pairs])
    weights = np.array([p[1] for p in pairs])
    if weights.sum() == 0:
        assert np.isnan(weighted_quantile(values, weights, q))
        return
    expected = np.percentile(np.repeat(values, weights), q)
    assert weighted_quantile(values, weights, q) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_describe_handles_empty_input() -> None:
    assert describe(np.array([]))["p99"] is None
    assert describe(np.array([1.0, np.nan, 3.0]))["mean"] == 2.0


def test_itl_summary_equals_every_per_request_itl(make) -> None:
    res = simulate(make(replicas=2, scheduler__kv_blocks=150, workload__classes=[{"samples": 2}]))
    all_itl = res.itls()["itl_s"].to_numpy()
    summary = res.summary["itl_s"]
    assert summary["mean"] == pytest.approx(all_itl.mean(), rel=1e-9)
    for q in (50, 90, 99):
        assert summary[f"p{q}"] == pytest.approx(np.percentile(all_itl, q), rel=1e-9)
    tpot = res.requests["tpot_s"].to_numpy()
    assert np.all(tpot > 0)


@settings(max_examples=60, deadline=None)
@given(
    contexts=st.lists(st.integers(1, 5000), min_size=0, max_size=12),
    groups=st.lists(st.integers(0, 2), min_size=12, max_size=12),
    chunks=st.lists(st.tuples(st.integers(1, 600), st.integers(0, 3000), st.integers(0, 1)), max_size=3),
    advance=st.integers(0, 40),
    spec_k=st.sampled_from([0, 0, 3]),
)
def test_incremental_step_sums_equal_the_per_sequence_batch(contexts, groups, chunks, advance, spec_k) -> None:
    ds = DecodeSet(16)
    prefix = {0: 0, 1: 256, 2: 512}
    for i, ctx in enumerate(contexts):
        g = groups[i]
        gp = min(prefix[g], (ctx // 16) * 16)
        gkey = None if g == 0 else ("g", g, gp)
        ds.add(Running(seq=i, req=i, context0=ctx, generated0=1, counter0=ds.counter, output_len=10_000,
                       private_tokens0=ctx - gp, shared_blocks=gp // 16, prefix_keys=(), group_key=gkey,
                       group_prefix_tokens=gp, admit_order=i, first_emit_s=0.0, held_blocks0=0, reserved=False,
                       joined_counter=ds.counter))
    for _ in range(advance):
        ds.advance()
    n_dec = ds.size
    fast = fast_keys(0, ds, n_dec, chunks, spec_k, 1)
    ref = reference_keys(0, ds, n_dec, chunks, None, spec_k, 1, None) if (n_dec or chunks) else fast
    assert fast == ref
