"""Scenario files: shipped ones load and run; mistakes give one-line errors naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from perfmodel.errors import PerfModelError, SpecError
from perfmodel.sim import load_scenario, scenario_files, simulate

SHIPPED = ["chat", "code-completion", "disagg-2p1d", "reasoning-best-of-8", "summarization"]


def test_the_required_scenarios_are_shipped() -> None:
    assert set(SHIPPED) <= set(scenario_files())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_run(name: str) -> None:
    sc = load_scenario(name)
    res = simulate(sc, requests=3 if name == "reasoning-best-of-8" else 20)
    s = res.summary
    assert s["completed"] + s["rejected"] == s["requests"]
    assert s["ttft_s"]["p50"] > 0 and s["throughput"]["output_tokens_per_s"] > 0
    assert all(v == 0 for v in res.final_kv_blocks)
    if sc.disaggregation:
        assert {r["pool"] for r in s["replicas"]} == {"prefill", "decode"}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d["scheduler"].update(name="fifo"), "scheduler.name"),
    (lambda d: d["workload"]["arrival"].pop("rate_per_s"), "workload.arrival"),
    (lambda d: d["workload"]["input_len"].update(dist="uniform"), "workload.input_len"),
    (lambda d: d.update(routr="round-robin"), "routr"),
    (lambda d: d["workload"].update(classes=[{"samples": 2, "first_finish": 3}]), "workload.classes.0"),
    (lambda d: d["scheduler"].update(block_size=0), "scheduler.block_size"),
])
def test_bad_fields_give_one_line_errors_naming_the_field(tmp_path: Path, mutate, field: str, make) -> None:
    data = make()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(SpecError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert "\n" not in message and str(path) in message and f"field '{field}" in message


def test_unknown_scenario_and_missing_file() -> None:
    with pytest.raises(SpecError, match="unknown scenario 'caht'; did you mean chat"):
        load_scenario("caht")
    with pytest.raises(SpecError, match="file not found"):
        load_scenario("nowhere/s.yaml")


def test_overrides(make) -> None:
    sc = load_scenario("chat").with_overrides(requests=7, rate=3.5, seed=9)
    assert (sc.workload.requests, sc.workload.arrival.rate_per_s, sc.seed) == (7, 3.5, 9)
    closed = load_scenario(make(workload__arrival={"process": "closed-loop", "concurrency": 2}))
    with pytest.raises(PerfModelError, match="--rate applies to"):
        closed.with_overrides(rate=2)


def test_trace_replay_and_relative_paths(tmp_path: Path, make) -> None:
    (tmp_path / "trace.csv").write_text("arrival_s,input_len,output_len\n10.0,100,5\n10.5,200,3\n12.0,50,8\n")
    data = make(workload__arrival={"process": "trace", "path": "trace.csv"})
    res = simulate(str(_write(tmp_path, data)))
    req = res.requests
    assert req["arrival_s"].tolist() == [0.0, 0.5, 2.0]  # shifted to start at zero
    assert req["input_len"].tolist() == [100, 200, 50]
    assert req["generated_tokens"].tolist() == [5, 3, 8]


def test_trace_errors_name_the_column(tmp_path: Path, make) -> None:
    (tmp_path / "trace.csv").write_text("arrival_s,input_len\n0,100\n")
    data = make(workload__arrival={"process": "trace", "path": "trace.csv"})
    with pytest.raises(SpecError, match="field 'output_len'"):
        simulate(str(_write(tmp_path, data)))


def test_empirical_lengths_from_a_file(tmp_path: Path, make) -> None:
    (tmp_path / "lengths.txt").write_text("10\n20\n30\n")
    data = make(workload__input_len={"dist": "empirical", "path": "lengths.txt"})
    res = simulate(str(_write(tmp_path, data)))
    assert set(res.requests["input_len"]) <= {10, 20, 30}


def test_scenario_objects_are_accepted(make) -> None:
    import perfmodel as pm

    sc = load_scenario(make(workload__requests=5))
    sc = sc.model_copy(update={"model": pm.load_model("qwen3-0.6b"), "hardware": pm.load_device("a100-sxm-80gb")})
    res = pm.simulate(sc)
    assert isinstance(res, pm.SimResult) and res.summary["completed"] == 5
    assert res.config["pools"]["unified"]["device"] == "a100-sxm-80gb"
