"""Conservation under random workloads: requests, tokens and KV blocks all balance."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfmodel.sim import simulate

CLASSES = {
    "single": [{"name": "a"}],
    "prefix": [{"name": "a", "shared_prefix_tokens": 64}, {"name": "b", "weight": 0.5}],
    "best-of-3": [{"name": "a", "samples": 3}, {"name": "b"}],
    "first-finish": [{"name": "a", "samples": 4, "first_finish": 2}],
}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scheduler=st.sampled_from(["continuous", "prefill-first", "static"]),
    kv_blocks=st.sampled_from([40, 90, 250, None]),
    classes=st.sampled_from(sorted(CLASSES)),
    arrival=st.sampled_from(["poisson", "all-at-once", "closed-loop"]),
    router=st.sampled_from(["round-robin", "least-outstanding", "kv-aware"]),
    seed=st.integers(0, 10_000),
)
def test_requests_tokens_and_blocks_balance(scheduler, kv_blocks, classes, arrival, router, seed, make) -> None:
    arrivals = {"poisson": {"process": "poisson", "rate_per_s": 30},
                "all-at-once": {"process": "all-at-once"},
                "closed-loop": {"process": "closed-loop", "concurrency": 6}}
    sc = make(seed=seed, replicas=2, router=router, scheduler__name=scheduler, scheduler__max_num_seqs=16,
              scheduler__max_num_batched_tokens=512, scheduler__kv_blocks=kv_blocks,
              workload__requests=20, workload__arrival=arrivals[arrival], workload__classes=CLASSES[classes],
              workload__input_len={"dist": "lognormal", "mean": 120, "cv": 1.0, "max": 700},
              workload__output_len={"dist": "lognormal", "mean": 25, "cv": 1.0, "max": 200})
    res = simulate(sc, check=True)
    req = res.requests
    rec = res.recorder
    assert set(req["status"]) <= {"completed", "rejected"}  # nothing lost
    assert res.summary["completed"] + res.summary["rejected"] == 20
    assert all(r == "does not fit in KV memory" for r in req.loc[req.status == "rejected", "reject_reason"])
    wl = res.setup.workload
    done_seq = np.isfinite(rec.seq_finish_s)
    completed_req = (req["status"] == "completed").to_numpy()
    assert np.array_equal(done_seq, completed_req[wl.seq_request])  # every sample of a completed request ends
    full = done_seq & ~rec.seq_cancelled
    assert np.array_equal(rec.seq_generated[full], wl.seq_output_len[full])  # tokens generated = requested
    assert np.all(rec.seq_generated[rec.seq_cancelled] < wl.seq_output_len[rec.seq_cancelled])
    if classes != "first-finish":
        assert not rec.seq_cancelled.any()
        done = req[req.status == "completed"]
        assert (done["generated_tokens"] == done["output_len"]).all()
    else:  # a request completes with its m-th sample (others ending in that same step count as finished)
        finished = np.bincount(wl.seq_request[full], minlength=20)
        assert np.all(finished[completed_req] >= wl.first_finish[completed_req])
        assert rec.seq_cancelled.any()
    assert res.final_kv_blocks == [0, 0]  # KV blocks return to zero
    ts = res.timeseries
    assert (ts["kv_blocks_used"] <= np.array([c.kv_blocks for c in res.setup.replicas])[ts["replica"]]).all()
    # the step time series accounts for every token: one per decode slot, plus one as each prompt completes
    assert ts["decode_seqs"].sum() + len(rec.run_seq) == rec.seq_generated.sum()
    # every emission is a token: emissions x tokens reconstruct the generated counts
    for seq in np.flatnonzero(full)[:5]:
        assert len(res.token_times(int(seq))) == rec.seq_generated[seq]
