"""Eager tables: interleaved timing, monotone flooring, measured grids in the cost core, fitted engine on the device."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

import perfmodel as pm
from perfmodel.analytic import engine_for
from perfmodel.cli import bare_e2e
from perfmodel.cost.operators import Op
from perfmodel.cost.roofline import EagerTables, MeasuredGrid, SkinnyGemmTable
from perfmodel.probe.bench import Timing, time_interleaved
from perfmodel.probe.bundle import BenchmarkResult, Sample
from perfmodel.probe.e2e import E2ERow, errors_exceed, models_for
from perfmodel.probe.eager_fit import attention_tables, eager_calibration, gemm_table, monotone_floor
from perfmodel.specs.device import Device


def test_time_interleaved_takes_one_sample_of_each_point_per_round() -> None:
    order: list[str] = []
    timings = time_interleaved([lambda: order.append("a"), lambda: order.append("b")], rounds=3, min_sample_s=0.0)
    assert [len(t.times_s) for t in timings] == [3, 3]
    # one warm-up call each, then rounds alternate a, b
    assert order == ["a", "b", "a", "b", "a", "b", "a", "b"]


def test_monotone_floor_repairs_a_disturbed_point_only() -> None:
    assert monotone_floor([1.0, 9.0, 3.0, 4.0]) == [1.0, 3.0, 3.0, 4.0]
    assert monotone_floor([1.0, 2.0, 3.0]) == [1.0, 2.0, 3.0]


def _sample(kernel: str, t: float, *, flops: float = 0.0, nbytes: float = 0.0, **params) -> Sample:
    return Sample.of(kernel, Timing((t, 2 * t, 3 * t), 1), flops=flops, bytes=nbytes, dtype="fp32", **params)


def test_gemm_table_is_weight_bytes_over_floored_seconds() -> None:
    w = 4e6
    samples = [_sample("linear", t, flops=float(m), nbytes=w, m=m, n=1000, k=1000)
               for m, t in ((1, 1e-3), (2, 5e-3), (4, 2e-3))]  # m=2 disturbed: floored to m=4's 2 ms
    table = gemm_table(samples, "min")
    assert table == {"fp32": {"k1000": {1: 4.0, 2: 2.0, 4: 2.0}}}


def test_attention_tables_fill_a_ragged_grid_from_the_nearest_length() -> None:
    samples = [_sample("sdpa_prefill", 1.0, flops=f, nbytes=1.0, batch=b, seq=s)
               for b, s, f in ((1, 128, 1e9), (1, 512, 4e9), (4, 128, 2e9))]
    table = attention_tables(samples, "min")["attention_prefill_gflops"]
    assert table == {1: {128: 1.0, 512: 4.0}, 4: {128: 2.0, 512: 2.0}}


def test_measured_grid_interpolates_in_logs_and_clamps() -> None:
    grid = MeasuredGrid.of({1: {100: 10.0, 10000: 1000.0}, 100: {100: 20.0, 10000: 2000.0}}, 1.0)
    assert grid is not None
    assert grid.rate(1, 1000) == pytest.approx(100.0)  # geometric midpoint of 10 and 1000
    assert grid.rate(10, 100) == pytest.approx(np.sqrt(10.0 * 20.0))
    assert grid.rate(1000, 1e6) == pytest.approx(2000.0)  # clamped to the largest measured point
    assert MeasuredGrid.of({1: {100: 1.0}, 2: {200: 1.0}}, 1.0) is None  # ragged


def _device(extra: dict) -> Device:
    return Device.model_validate({"id": "x", "kind": "cpu", "memory": {"capacity_gb": 16, "bandwidth_gb_s": 20},
                                  "compute_tflops": {"fp32": 1.0},
                                  "calibration": {"bundle_id": "b", "gemm_efficiency": 0.5, **extra}})


def test_full_gemm_table_extrapolates_at_constant_flop_rate() -> None:
    table = SkinnyGemmTable.from_device(_device({"gemm_weight_gb_s": {"fp32": {"k1024": {1: 10.0, 2048: 100.0}}}}),
                                        "fp32")
    assert table is not None and table.max_rows == np.inf
    one = table.weight_seconds(1e9, 1024, 2048)
    assert one == pytest.approx(0.01)
    assert table.weight_seconds(1e9, 1024, 4096) == pytest.approx(2 * one)


def test_eager_attention_decode_and_prefill_use_their_tables() -> None:
    tables = EagerTables.from_device(_device({"eager": {
        "attention_prefill_gflops": {1: {128: 50.0, 1024: 50.0}, 16: {128: 50.0, 1024: 50.0}},
        "attention_decode_kv_gb_s": {1: {128: 5.0, 2048: 5.0}, 16: {128: 10.0, 2048: 10.0}},
        "elementwise_ns_per_element": {"norm": 2.0}}}))
    assert tables is not None
    decode = Op("attention", "attention", 1.0, flops=1e6, bytes=2e6, rows=16.0, kv_bytes=1e8, seqs=16.0,
                kv_tokens=16.0 * 513)
    assert tables.attention_s(decode) == pytest.approx(1e8 / 10e9)
    prefill = Op("attention", "attention", 1.0, flops=5e10, bytes=1e6, rows=512.0, kv_bytes=1e6, seqs=1.0,
                 kv_tokens=512.0)
    assert tables.attention_s(prefill) == pytest.approx(1.0)
    norm = Op("attn_norm", "elementwise", 1.0, flops=5e6, bytes=1e6, elements=1e6)
    assert tables.elementwise_s_of(norm) == pytest.approx(2e-3)
    assert tables.elementwise_s_of(Op("sampling", "elementwise", 1.0, flops=1.0, bytes=1.0, elements=1.0)) is None


def test_calibrated_device_carries_its_engine_and_an_explicit_other_engine_wins(tmp_path, synth) -> None:
    from perfmodel.calibrate.probe_fit import calibrate_bundle
    from perfmodel.probe import write_bundle

    bundle = synth.bundle()
    eager = [_sample("linear", 1e-3 * m, flops=2.0 * m * 1024 * 1024, nbytes=4.0 * 1024 * 1024, m=m, n=1024, k=1024)
             for m in (1, 16, 256)]
    bundle.benchmarks["eager"] = BenchmarkResult(name="eager", samples=eager)
    path = write_bundle(bundle, tmp_path / "b.json")
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({"kind": "cpu", "memory": {"capacity_gb": 16, "bandwidth_gb_s": 12},
                                    "compute_tflops": {"fp32": 0.4}}))
    result = calibrate_bundle(path, str(base), device_id="mine")
    assert result.device["calibration"]["engine"]["fit"]["base"] == "hf-transformers"
    assert result.engine["kernel_overhead_s"] == 0.0  # the eager tables time whole calls
    device = Device.model_validate(result.device)
    assert engine_for(device, None).calibrated
    assert engine_for(device, "hf-transformers").calibrated
    assert engine_for(device, "vllm").name == "vllm"
    est = pm.estimate("qwen3-0.6b", device, batch=1, input_len=64, output_len=4, weight_dtype="fp32")
    assert est.inputs["engine"] == result.engine["name"]


def test_eager_calibration_is_empty_without_samples() -> None:
    assert eager_calibration([], "min") == {}


def test_bare_e2e_means_the_default_models() -> None:
    assert bare_e2e(["probe", "--e2e"]) == ["probe", "--e2e", "default"]
    assert bare_e2e(["probe", "--e2e", "--threads", "2"]) == ["probe", "--e2e", "default", "--threads", "2"]
    assert bare_e2e(["probe", "--e2e", "m1"]) == ["probe", "--e2e", "m1"]
    assert len(models_for(["default"])) == 2 and models_for(["m"]) == ["m"]


def _row(ttft_err: float, tpot_err: float) -> E2ERow:
    return E2ERow(model="m", params=1.0, batch=1, input_len=8, output_len=4, dtype="fp32", ttft_s=1.0, tpot_s=1.0,
                  ttft_samples_s=[1.0], tpot_samples_s=[1.0],
                  predicted={"calibrated": {"ttft_s": 1.0 + ttft_err, "tpot_s": 1.0 + tpot_err}})


def test_errors_exceed_checks_median_and_p90() -> None:
    ok = [_row(0.05, -0.05)] * 10
    assert errors_exceed(ok, "calibrated", 0.1, 0.2) is None
    worst = [_row(0.05, 0.0)] * 8 + [_row(0.5, 0.0)] * 2
    assert "TTFT p90" in errors_exceed(worst, "calibrated", 0.1, 0.2)
    assert errors_exceed(worst, "spec-only", 0.1, 0.2) is None


def test_eager_kernels_run_on_the_cpu() -> None:
    pytest.importorskip("torch")
    from perfmodel.probe.backends import get_backend
    from perfmodel.probe.eager import kernel_for

    backend = get_backend("torch", "cpu", 1)
    try:
        env = {"cpu": {"caches": {"L3": 1 << 20}}}
        for kernel, params in (("linear", {"m": 2, "n": 64, "k": 32}), ("sdpa_prefill", {"batch": 1, "seq": 16}),
                               ("sdpa_decode", {"batch": 2, "context": 16}), ("glue_norm", {"tokens": 4}),
                               ("glue_rope", {"tokens": 4}), ("glue_act", {"tokens": 4})):
            fn, flops, nbytes = kernel_for(backend, env, kernel, params, "fp32")
            fn()
            assert nbytes > 0 and flops >= 0
    finally:
        backend.close()


def test_monotone_floor_with_work_caps_a_disturbed_large_point() -> None:
    # work 1, 2, 4: the 4-unit point (disturbed, 10 s) is capped at 4 × the 1-unit point's 1 s per unit
    assert monotone_floor([1.0, 1.5, 10.0], [1.0, 2.0, 4.0]) == [1.0, 1.5, 3.0]


def test_lm_head_table_comes_from_its_own_points() -> None:
    w = 8e6
    samples = [_sample("lm_head", t, flops=float(m), nbytes=w, m=m, n=32000, k=1000) for m, t in ((1, 1e-3), (4, 4e-3))]
    samples.append(_sample("linear", 1e-3, flops=1.0, nbytes=w, m=1, n=1000, k=1000))
    out = eager_calibration(samples, "min")
    assert out["lm_head_weight_gb_s"] == {"fp32": {"k1000": {1: 8.0, 4: 2.0}}}
    assert out["gemm_weight_gb_s"] == {"fp32": {"k1000": {1: 8.0}}}


def test_cost_core_prices_lm_head_from_its_table_and_other_gemms_from_the_layers_table() -> None:
    from perfmodel.cost.config import Precision
    from perfmodel.cost.engine import load_engine
    from perfmodel.cost.roofline import DeviceRates, op_time

    device = _device({"gemm_weight_gb_s": {"fp32": {"k1024": {1: 10.0, 64: 10.0}}},
                      "lm_head_weight_gb_s": {"fp32": {"k1024": {1: 4.0, 64: 4.0}}}})
    rates = DeviceRates.of(device, load_engine("hf-transformers"), Precision.of("fp32"))
    head = Op("lm_head", "gemm", 1.0, flops=2e6, bytes=1e8, rows=1.0, weight_bytes=1e8, n_in=1024.0)
    up = Op("mlp_up", "gemm", 1.0, flops=2e6, bytes=1e8, rows=1.0, weight_bytes=1e8, n_in=1024.0)
    launch_s = rates.kernel_overhead_s
    assert float(op_time(head, rates).time_s) - launch_s == pytest.approx(1e8 / 4e9)
    assert float(op_time(up, rates).time_s) - launch_s == pytest.approx(1e8 / 10e9)


def test_fresh_allocation_is_the_extra_cost_of_the_large_fresh_tensor() -> None:
    from perfmodel.probe.eager_fit import fresh_allocation

    mib = 2**20
    samples = [_sample("alloc", t, nbytes=float(m * mib), mib=m, fresh=f)
               for m, f, t in ((16, 1, 1.1e-3), (16, 0, 1.0e-3), (64, 1, 36e-3), (64, 0, 4e-3))]
    out = fresh_allocation(samples, "min")
    assert out["ns_per_byte"] == pytest.approx(32e-3 / (64 * mib) * 1e9, rel=1e-3)  # (36 - 4) ms over 64 MiB
    assert out["min_bytes"] == 32 * mib  # 16 MiB paid almost nothing: glibc's threshold applies
    costly_everywhere = [_sample("alloc", t, nbytes=float(m * mib), mib=m, fresh=f)
                         for m, f, t in ((16, 1, 9e-3), (16, 0, 1e-3), (64, 1, 36e-3), (64, 0, 4e-3))]
    assert fresh_allocation(costly_everywhere, "min")["min_bytes"] == 0.0


def test_fresh_allocation_cost_applies_to_output_tensors_at_or_above_the_threshold() -> None:
    mib = 2**20
    tables = EagerTables.from_device(_device({"eager": {"fresh_allocation": {"ns_per_byte": 0.5,
                                                                              "min_bytes": 32 * mib}}}))
    assert tables is not None
    big = Op("mlp_up", "gemm", 1.0, flops=1.0, bytes=1.0, fresh_bytes=np.array([16.0 * mib, 32.0 * mib]),
             fresh_count=2.0)
    assert np.allclose(tables.fresh_s(big), [0.0, 2 * 32 * mib * 0.5e-9])
    assert tables.fresh_s(Op("lm_head", "gemm", 1.0, flops=1.0, bytes=1.0)) == 0.0


def test_operators_declare_the_eager_output_tensors_of_a_gated_mlp() -> None:
    from perfmodel.cost.batch import BatchStats
    from perfmodel.cost.config import Parallelism, Precision
    from perfmodel.cost.operators import step_operators

    model = pm.load_model("llama-3.2-1b")  # hidden 2048, intermediate 8192, 32 heads of 64
    ops = {op.name: op for op in step_operators(model, BatchStats.uniform(1, 2048, 0), Precision.of("fp32"),
                                                Parallelism())}
    tokens, f, h = 2048.0, 8192.0, 2048.0
    assert float(ops["mlp_up"].fresh_bytes) == tokens * f * 4 and ops["mlp_up"].fresh_count == 2.0  # gate, up
    assert float(ops["mlp_act"].fresh_bytes) == tokens * f * 4 and ops["mlp_act"].fresh_count == 2.0
    assert float(ops["mlp_down"].fresh_bytes) == tokens * h * 4 and ops["mlp_down"].fresh_count == 1.0
    assert float(ops["qkv_proj"].fresh_bytes) == tokens * 32 * 64 * 4  # the query projection
    assert ops["lm_head"].fresh_count == 0.0
