"""The timing harness: inner loops, repeats under caps and deadlines, coverage-first ordering."""

from __future__ import annotations

import time

import pytest

from perfmodel.probe.bench import Budget, Timing, TimingPolicy, predicted_s, spread_order, time_call


def test_time_call_picks_an_inner_loop_for_fast_calls() -> None:
    calls = []
    timing = time_call(lambda: calls.append(1), policy=TimingPolicy(warmup=1, repeats=4, min_sample_s=1e-3))
    assert timing.inner > 10 and len(timing.times_s) == 4
    assert 0 < timing.p10_s <= timing.median_s <= timing.p90_s
    assert len(calls) >= timing.inner * 4


def test_slow_call_is_kept_once_instead_of_repeated() -> None:
    timing = time_call(lambda: time.sleep(0.03), policy=TimingPolicy(repeats=5, max_point_s=0.05))
    assert timing.times_s and len(timing.times_s) == 1 and timing.inner == 1
    assert timing.median_s == pytest.approx(0.03, rel=0.5)


def test_deadline_cuts_repeats_to_the_minimum() -> None:
    policy = TimingPolicy(warmup=1, repeats=50, min_repeats=2, min_sample_s=1e-3, max_point_s=10)
    timing = time_call(lambda: time.sleep(0.002), policy=policy, deadline_s=time.perf_counter())
    assert len(timing.times_s) == 2


def test_thread_clock_counts_cpu_time_not_sleep() -> None:
    timing = time_call(lambda: time.sleep(0.01), policy=TimingPolicy(warmup=1, repeats=2), clock=time.thread_time)
    assert timing.median_s < 0.005


def test_spread_order_covers_the_range_first() -> None:
    points = list(range(9))
    order = spread_order(points)
    assert sorted(order) == points
    assert order[:3] == [0, 8, 4]
    assert spread_order([1, 2]) == [1, 2]


def test_predicted_is_optimistic_from_best_rates() -> None:
    seen = [(1e9, 1e6, 0.01), (1e6, 1e9, 0.1)]  # 100 GFLOP/s and 10 GB/s
    assert predicted_s(2e9, 1e3, seen) == pytest.approx(0.02)
    assert predicted_s(0.0, 1e10, seen) == pytest.approx(1.0)
    assert predicted_s(1e9, 1e9, []) == 0.0


def test_budget_shares_split_the_remaining_time() -> None:
    budget = Budget(total_s=10.0)
    deadline = budget.deadline(share=1.0, shares_left=4.0)
    after = time.perf_counter()
    # a quarter of what remained at the call (t): t + (10 - (t - start)) / 4, so between start + 2.5 and
    # after + 2.5 however slow the machine is
    assert budget.start_s + 2.5 <= deadline <= after + 2.5
    assert not budget.exhausted()
    assert Budget(total_s=0.0).exhausted()


def test_timing_statistics() -> None:
    t = Timing((3.0, 1.0, 2.0), inner=1)
    assert t.median_s == 2.0 and t.min_s == 1.0
