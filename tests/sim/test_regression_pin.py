"""Regression pin: fixed-seed summaries of three small scenarios must stay bit-identical.

The expected numbers below were produced once by the pre-refactor simulator (the version with
positional records and name checks) and written here by hand; a change that alters any of them
changes the simulator's behaviour, not just its structure.
"""

from __future__ import annotations

import pytest

from perfmodel.sim import simulate

CASES = {  # overrides of the base scenario (see conftest.py)
    "continuous-best-of-prefix": dict(
        replicas=2, scheduler__kv_blocks=200, scheduler__prefix_caching=True,
        workload__classes=[{"name": "a", "samples": 3, "first_finish": 2, "shared_prefix_tokens": 64}]),
    "disaggregated-static-prefill-first": dict(
        disaggregation={
            "prefill": {"replicas": 1, "scheduler": {"name": "static", "kv_blocks": 400}},
            "decode": {"replicas": 2, "hardware": "a100-sxm-80gb",
                       "scheduler": {"name": "prefill-first", "kv_blocks": 300}},
            "link": {"shared": True}},
        workload__classes=[{"samples": 2}]),
    "speculative": dict(speculative={"draft_model": "llama-3.2-1b", "num_tokens": 3, "acceptance_rate": 0.6}),
}

# produced by the pre-refactor simulator (seed 0), not derived from the code under test
PINNED = {
    "continuous-best-of-prefix": {
        "steps": 683, "duration_s": 2.662742703556815, "ttft_p50": 0.013938180065363293,
        "ttft_p99": 0.02086088408882731, "tpot_p50": 0.006525571963924238, "e2e_mean": 0.21445147582885138},
    "disaggregated-static-prefill-first": {
        "steps": 584, "duration_s": 3.3073709504979107, "ttft_p50": 0.01279194170375908,
        "ttft_p99": 0.028081710511867995, "tpot_p50": 0.01148380453683475, "e2e_mean": 0.5554842608005306},
    "speculative": {
        "steps": 163, "duration_s": 2.448553561361314, "ttft_p50": 0.026460212312722053,
        "ttft_p99": 0.04431012457458027, "tpot_p50": 0.006413123166036724, "e2e_mean": 0.23740265279863157},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_summary_is_bit_identical_to_the_pinned_run(name: str, make) -> None:
    s = simulate(make(**CASES[name])).summary
    got = {"steps": s["simulator"]["steps"], "duration_s": s["duration_s"], "ttft_p50": s["ttft_s"]["p50"],
           "ttft_p99": s["ttft_s"]["p99"], "tpot_p50": s["tpot_s"]["p50"], "e2e_mean": s["e2e_s"]["mean"]}
    assert got == PINNED[name]
