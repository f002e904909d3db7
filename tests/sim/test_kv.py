"""Paged KV: block accounting, prefix sharing, preemption exactly when blocks run out."""

from __future__ import annotations

import pytest

from perfmodel.sim import simulate
from perfmodel.sim.kv import BlockPool, blocks_for


def test_block_pool_evicts_unreferenced_prefixes_before_failing() -> None:
    pool = BlockPool(10)
    assert pool.alloc(4)
    pool.add_entry(("c", 0), 4, refs=1)
    assert pool.used == 4 and pool.free == 6
    pool.unref(("c", 0))
    assert pool.used == 0 and pool.cached == 4 and pool.free == 6
    assert pool.ref(("c", 0)) == 4 and pool.used == 4  # a cache hit
    pool.unref(("c", 0))
    assert pool.alloc(8)  # evicts the cached entry
    assert ("c", 0) not in pool.entries and pool.used == 8
    assert not pool.alloc(3)
    pool.release(8)
    assert pool.free == 10


def test_best_of_n_holds_one_copy_of_the_prompt(fixed) -> None:
    big = {"scheduler__max_num_batched_tokens": 16384}  # all prompts in one step: every sequence decodes in lockstep
    group = simulate(fixed(2000, 50, workload__classes=[{"name": "bo8", "samples": 8}], **big))
    independent = simulate(fixed(2000, 50, requests=8, scheduler__prefix_caching=False, **big))
    peak_group = group.timeseries["kv_blocks_used"].max()
    peak_indep = independent.timeseries["kv_blocks_used"].max()
    # 125 shared prompt blocks + per sample its 49 generated tokens' KV (2000 is a multiple of 16)
    assert peak_group == 2000 // 16 + 8 * blocks_for(49, 16)
    assert peak_indep == 8 * blocks_for(2000 + 49, 16)
    assert group.requests.iloc[0].generated_tokens == independent.requests["generated_tokens"].sum() == 400
    assert group.final_kv_blocks == [0]


def test_shared_class_prefix_is_computed_once_and_reused(make) -> None:
    def run(caching: bool):
        return simulate(make(scheduler__prefix_caching=caching, workload__requests=3,
                             workload__arrival={"process": "constant", "rate_per_s": 1.0},
                             workload__input_len={"dist": "fixed", "value": 1100},
                             workload__output_len={"dist": "fixed", "value": 8},
                             workload__classes=[{"name": "sys", "shared_prefix_tokens": 1024}]))

    cached, plain = run(True), run(False)
    ttft_c, ttft_p = cached.requests["ttft_s"].to_numpy(), plain.requests["ttft_s"].to_numpy()
    assert ttft_c[0] == pytest.approx(ttft_p[0], rel=1e-12)  # the first request computes the prefix
    assert ttft_c[1] < 0.5 * ttft_p[1]  # later ones prefill only their own 76 tokens
    assert cached.final_kv_blocks == [0]


def test_preemption_happens_when_and_only_when_kv_runs_out(make) -> None:
    ample = simulate(make(workload__requests=60, workload__arrival={"process": "all-at-once"}))
    assert ample.summary["preemptions"] == 0 and ample.summary["kv_peak_utilization"] < 1
    tight = simulate(make(workload__requests=60, workload__arrival={"process": "all-at-once"},
                          scheduler__kv_blocks=150))
    events = tight.recorder.preemption_events
    assert tight.summary["preemptions"] == len(events) > 0
    for _, _, used, capacity, need in events:
        assert used + need > capacity  # a step needed more blocks than were free
    assert tight.summary["kv_peak_utilization"] > 0.9
    assert tight.summary["completed"] == 60 and tight.final_kv_blocks == [0]
    # recompute costs time: the same work takes longer with preemptions
    assert tight.summary["duration_s"] > ample.summary["duration_s"]


def test_a_request_that_can_never_fit_is_refused_before_simulating(fixed) -> None:
    from perfmodel.errors import DoesNotFitError

    with pytest.raises(DoesNotFitError, match="single request does not fit"):
        simulate(fixed(4000, 100, scheduler__kv_blocks=100))
    with pytest.raises(DoesNotFitError, match="no room for a KV cache"):
        simulate(fixed(100, 10, model="llama-3.1-70b"))  # 141 GB of weights on one 80 GB GPU


def test_requests_too_large_for_kv_are_rejected_and_reported(make) -> None:
    res = simulate(make(scheduler__kv_blocks=60, workload__requests=30))
    req = res.requests
    too_big = [-(-(i + o - 1) // 16) > 60 for i, o in zip(req.input_len, req.output_len, strict=True)]
    assert (req["status"] == "rejected").tolist() == too_big
    assert res.summary["rejected"] == sum(too_big) > 0
