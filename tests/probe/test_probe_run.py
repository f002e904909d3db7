"""The numpy probe end to end on this CPU: a valid bundle in a few seconds; interruptions keep samples."""

from __future__ import annotations

import pytest

from perfmodel.errors import PerfModelError
from perfmodel.probe import BENCHMARKS, ProbeOptions, load_bundle, run_probe
from perfmodel.probe import memory as memory_bench


def test_numpy_probe_writes_a_valid_bundle(tmp_path) -> None:
    out = tmp_path / "bundle.json"
    bundle = run_probe(ProbeOptions(backend="numpy", budget_s=3.0, output=out))
    # how closely the budget is kept is measured by benchmarks/bench_probe.py, not asserted here
    assert bundle.budget_s == 3.0 and bundle.elapsed_s > 0
    loaded = load_bundle(out)
    assert loaded.status in ("complete", "partial") and loaded.backend == "numpy" and loaded.device == "cpu"
    assert set(loaded.benchmarks) == {"gemm", "eager", "memory", "elementwise", "attention", "overhead", "copies"}
    assert loaded.benchmarks["eager"].status == "skipped"
    assert loaded.benchmarks["copies"].status == "skipped"
    for name in ("gemm", "memory", "elementwise", "overhead"):
        assert loaded.benchmarks[name].samples, name
        assert loaded.benchmarks[name].summary, name
    gemm = loaded.samples("gemm")
    assert all(s.params["dtype"] == "fp32" and s.flops > 0 and s.median_s > 0 for s in gemm)
    assert loaded.env["cpu"]["threads_used"] >= 1 and loaded.env["versions"]["numpy"]
    assert {s.params["op"] for s in loaded.samples("overhead", "dispatch")} <= {"python_call", "add", "matmul"}


def test_budget_exhaustion_truncates_but_keeps_samples(tmp_path) -> None:
    out = tmp_path / "bundle.json"
    bundle = run_probe(ProbeOptions(backend="numpy", budget_s=0.3, output=out, only=["gemm", "memory"]))
    assert bundle.status == "partial"
    loaded = load_bundle(out)
    assert loaded.benchmarks["memory"].status == "truncated"
    assert any(r.samples for r in loaded.benchmarks.values())


def test_interrupted_probe_leaves_a_readable_partial_bundle(tmp_path, monkeypatch) -> None:
    real_run = memory_bench.run

    def run_then_interrupt(ctx) -> None:
        kernel_calls = []
        original_measure = ctx.measure

        def measure(*args, **kwargs):
            kernel_calls.append(args[0])
            if len(kernel_calls) > 2:
                raise KeyboardInterrupt
            return original_measure(*args, **kwargs)

        ctx.measure = measure
        ctx.check_time = lambda: None  # reach the third point however loaded the machine is
        real_run(ctx)

    monkeypatch.setattr(BENCHMARKS["memory"], "run", run_then_interrupt)
    out = tmp_path / "bundle.json"
    with pytest.raises(KeyboardInterrupt):
        run_probe(ProbeOptions(backend="numpy", budget_s=6.0, output=out, only=["gemm", "memory", "elementwise"]))
    loaded = load_bundle(out)
    assert loaded.status == "interrupted"
    assert loaded.benchmarks["gemm"].samples  # finished before the interruption
    assert loaded.benchmarks["memory"].status == "interrupted"
    assert len(loaded.benchmarks["memory"].samples) == 2  # the points measured before Ctrl-C
    assert "elementwise" not in loaded.benchmarks


@pytest.mark.parametrize(("opts", "needle"), [
    (ProbeOptions(backend="cuda-magic"), "unknown backend"),
    (ProbeOptions(backend="numpy", device="cuda"), "CPU only"),
    (ProbeOptions(backend="numpy", only=["gemm", "bogus"]), "unknown benchmark"),
    (ProbeOptions(backend="numpy", collectives=True), "needs --backend torch"),
    (ProbeOptions(backend="numpy", clock="thread"), "--threads 1"),
    (ProbeOptions(backend="numpy", clock="sundial"), "unknown clock"),
])
def test_bad_options_are_one_line_errors(opts: ProbeOptions, needle: str) -> None:
    with pytest.raises(PerfModelError, match=needle):
        run_probe(opts)


def test_thread_clock_single_thread_runs(tmp_path) -> None:
    bundle = run_probe(ProbeOptions(backend="numpy", budget_s=0.5, threads=1, clock="thread", only=["overhead"],
                                    output=tmp_path / "b.json"))
    assert bundle.clock == "thread" and bundle.threads == 1 and bundle.benchmarks["overhead"].samples
