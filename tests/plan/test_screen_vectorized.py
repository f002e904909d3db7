"""The vectorized screen answers as if every candidate were priced alone, and the per-unit load search
brackets the true limit."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import perfmodel as pm
from perfmodel.plan.screen import GRID, screen
from perfmodel.plan.space import enumerate_candidates
from perfmodel.plan.workload import workload_shape

verify = importlib.import_module("perfmodel.plan.verify")

SPEC = {
    "name": "mixed",
    "model": "llama-3.1-70b",
    "traffic": {"rate_per_s": 6.0, "input_len": {"dist": "lognormal", "mean": 900, "cv": 0.5, "max": 4096},
                "output_len": {"dist": "lognormal", "mean": 200, "cv": 0.5, "max": 1024},
                "shared_prefix_fraction": 0.3},
    "slo": {"ttft_s": {"p99": 2.0}, "tpot_s": {"p99": 0.08}},
    "candidates": {"devices": ["h100-sxm-80gb", "h200-sxm-141gb"]},
    "search": {"tp": [1, 2, 4], "disaggregation": ["aggregated", "1p1d"], "weight_dtype": ["bf16", "fp8"],
               "max_num_seqs": [32, 128], "max_num_batched_tokens": [2048, 8192], "prefix_caching": [True, False],
               "speculative": [False, True]},
    "speculative": {"draft_model": "llama-3.2-1b", "num_tokens": 4, "acceptance_rate": 0.7},
}


@pytest.fixture(scope="module")
def screened():
    spec = pm.PlanSpec.model_validate(SPEC)
    shape = workload_shape(spec)
    df = enumerate_candidates(spec)
    return spec, shape, df, screen(df, spec, shape)


def _picks(df) -> list[int]:
    """Hand-picked rows: a configuration that does not fit (70B bf16 on one 80 GB GPU), aggregated and
    1p1d units, both caps, prefix caching on and off, speculative decoding on and off."""
    def first(**cols) -> int:
        mask = np.ones(len(df), bool)
        for k, v in cols.items():
            mask &= (df[k] == v).to_numpy()
        return int(np.flatnonzero(mask)[0])

    return [first(device="h100-sxm-80gb", tp=1, weight_dtype="bf16"),
            first(device="h100-sxm-80gb", tp=2, mode="aggregated", max_num_seqs=32, prefix_caching=True),
            first(device="h100-sxm-80gb", tp=4, mode="1p1d", max_num_batched_tokens=2048, speculative=True),
            first(device="h200-sxm-141gb", tp=2, mode="aggregated", weight_dtype="bf16", max_num_seqs=128,
                  max_num_batched_tokens=8192, prefix_caching=False, speculative=False),
            first(device="h200-sxm-141gb", tp=1, mode="1p1d", weight_dtype="fp8", max_num_seqs=128,
                  prefix_caching=False),
            first(device="h200-sxm-141gb", tp=4, mode="aggregated", weight_dtype="fp8", speculative=True)]


def test_vectorized_screen_equals_one_candidate_at_a_time(screened):
    spec, shape, df, together = screened
    picks = _picks(df)
    assert together.reason[picks[0]].startswith("does not fit")
    assert (together.max_load[picks[1:]] > 0).any()
    for i in picks:
        alone = screen(df.iloc[[i]].reset_index(drop=True), spec, shape)
        assert alone.reason[0] == together.reason[i]
        for name in ("max_load", "capacity", "uncertainty_rel"):
            np.testing.assert_allclose(getattr(alone, name)[0], getattr(together, name)[i], rtol=1e-12,
                                       equal_nan=True, err_msg=name)
        for name in ("load", "rate"):
            np.testing.assert_allclose(getattr(alone, name)[0], getattr(together, name)[i], rtol=1e-12,
                                       equal_nan=True, err_msg=name)
        for key, value in together.est.items():
            np.testing.assert_allclose(alone.est[key][0], value[i], rtol=1e-12, equal_nan=True, err_msg=key)


def test_aggregated_curve_is_the_public_steady_state(screened):
    spec, shape, df, together = screened
    i = _picks(df)[3]  # aggregated, no prefix caching, no speculative decoding
    row = df.iloc[i]
    ss = pm.steady_state(spec.model, row["device"], input_len=shape.input_len, output_len=shape.output_len,
                         concurrency=GRID, tp=int(row["tp"]), weight_dtype=row["weight_dtype"],
                         kv_dtype=row["kv_dtype"], engine=row["engine"], max_num_seqs=int(row["max_num_seqs"]),
                         max_num_batched_tokens=int(row["max_num_batched_tokens"]))
    np.testing.assert_allclose(together.rate[i], ss.request_throughput_per_s, rtol=1e-12)
    assert together.capacity[i] == pytest.approx(np.max(ss.request_throughput_per_s), rel=1e-12)


def test_search_by_hand():
    # the limit is 8.8 req/s per unit, 20 req/s planned, the screen said 8.91 (3 units):
    # 20/3 = 6.67 meets, min(2 × 6.67, 20/2) = 10 misses, then halves until the bracket is within 10%
    tried = []

    def ok(x: float) -> bool:
        tried.append(x)
        return x <= 8.8

    lo, hi, _ = verify.search_unit_load(ok, 8.91, 20.0, steps=6, tolerance=0.1)
    assert tried[:3] == pytest.approx([20 / 3, 10.0, (20 / 3 + 10.0) / 2])
    assert lo <= 8.8 < hi and hi - lo <= 0.1 * lo
    assert math.ceil(20.0 / lo) == 3


@settings(max_examples=200, deadline=None)
@given(limit=st.floats(0.05, 500.0), start=st.floats(0.05, 500.0), planned=st.floats(0.5, 200.0),
       integer=st.booleans())
def test_search_brackets_the_limit_and_decides_the_units(limit, start, planned, integer):
    lo, hi, tried = verify.search_unit_load(lambda x: x <= limit, start, planned, steps=60, tolerance=0.1,
                                            integer=integer)
    assert lo <= limit < hi
    assert all(t > 0 for t in tried)
    if lo > 0 and math.isfinite(hi) and not integer:
        assert hi - lo <= 0.1 * lo + 1e-9
        assert verify._units(planned, lo) == verify._units(planned, limit)
