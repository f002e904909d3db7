"""The bundle file: schema, atomic writes, one-line errors for files that are not bundles."""

from __future__ import annotations

import json

import pytest

from perfmodel.errors import SpecError
from perfmodel.probe.bench import Timing
from perfmodel.probe.bundle import BenchmarkResult, Bundle, Sample, load_bundle, new_bundle_id, utc_now, write_bundle


def _bundle() -> Bundle:
    sample = Sample.of("gemm", Timing((0.002, 0.001, 0.003), 4), flops=2e6, bytes=1e4, dtype="fp32", m=1, n=10, k=10)
    return Bundle(bundle_id=new_bundle_id("numpy", "cpu"), created_utc=utc_now(), backend="numpy", device="cpu",
                  threads=2, budget_s=10, benchmarks={"gemm": BenchmarkResult(name="gemm", samples=[sample])})


def test_round_trip_and_no_temporary_left(tmp_path) -> None:
    path = write_bundle(_bundle(), tmp_path / "sub" / "b.json")
    assert [p.name for p in path.parent.iterdir()] == ["b.json"]
    loaded = load_bundle(path)
    s = loaded.samples("gemm")[0]
    assert s.median_s == 0.002 and s.seconds("min") == 0.001 and s.flops_per_s == pytest.approx(1e9)
    assert loaded.samples("memory") == [] and loaded.samples("gemm", "other") == []
    assert loaded.bundle_id.startswith("probe-numpy-cpu-")


@pytest.mark.parametrize(("text", "needle"), [
    ("{not json", "not valid JSON"),
    ('{"format": "something-else"}', "not a calibration bundle"),
    ('{"format": "perfmodel-calibration-bundle", "schema_version": 99}', "schema_version 99"),
])
def test_bad_files_give_one_line_errors(tmp_path, text: str, needle: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(text)
    with pytest.raises(SpecError, match=needle):
        load_bundle(path)


def test_missing_field_names_the_field(tmp_path) -> None:
    data = json.loads(_bundle().model_dump_json())
    del data["backend"]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SpecError, match="backend"):
        load_bundle(path)
    with pytest.raises(SpecError, match="cannot read"):
        load_bundle(tmp_path / "missing.json")


def test_sample_statistics_by_hand() -> None:
    # five samples 1..5 ms: min 1, lower quartile (linear interpolation at position 1) 2, median 3
    s = Sample(kernel="k", params={}, flops=0.0, bytes=0.0, inner=1, times_s=[5e-3, 1e-3, 4e-3, 2e-3, 3e-3],
               median_s=3e-3, p10_s=1.4e-3, p90_s=4.6e-3)
    assert s.seconds("min") == pytest.approx(1e-3)
    assert s.seconds("p25") == pytest.approx(2e-3)
    assert s.seconds("median") == pytest.approx(3e-3)
