"""Serving rows through the simulator and the closed form: scenario mapping, quantity definitions, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import perfmodel as pm
from perfmodel.calibrate import serving_predict as sp
from perfmodel.calibrate.serving_data import SERVING_QUANTITIES, configurations, load_serving
from perfmodel.cli import app


def _config(tmp_path, serving_csv, **update):
    table = load_serving([serving_csv(tmp_path / "c.csv", {k: str(v) for k, v in update.items()})])
    return configurations(table)[0][0]


def test_scenario_of_a_configuration(tmp_path, serving_csv) -> None:
    sc = sp.serving_scenario(_config(tmp_path, serving_csv, dp=2, tp=2, num_devices=4, concurrency=4,
                                     input_len=1000, output_len=100, range_ratio=0.5, num_requests=10))
    assert (sc.replicas, sc.tp, sc.pp, sc.engine) == (2, 2, 1, "vllm")
    assert sc.workload.arrival.process == "closed-loop" and sc.workload.arrival.concurrency == 4
    assert (sc.workload.input_len.low, sc.workload.input_len.high) == (500, 1000)
    assert (sc.workload.output_len.low, sc.workload.output_len.high) == (50, 100)
    assert sc.workload.requests == 10  # the benchmark's own count: its start-up wave and drain were measured
    sc = sp.serving_scenario(_config(tmp_path, serving_csv, concurrency="", request_rate=3, num_requests=500,
                                     disagg="1p1d", num_devices=2))
    assert sc.workload.arrival.process == "poisson" and sc.workload.arrival.rate_per_s == 3.0
    assert sc.workload.requests == 500 and sc.workload.input_len.dist == "fixed"
    assert (sc.disaggregation.prefill.replicas, sc.disaggregation.decode.replicas) == (1, 1)


def test_request_count_is_capped_for_long_answers(tmp_path, serving_csv) -> None:
    config = _config(tmp_path, serving_csv, concurrency=2, output_len=8000, num_requests=1000)
    n = sp.request_count(config)
    assert n * 8000 / 2 <= sp.MAX_DECODE_STEPS and n >= 4


def test_speculative_rows_are_reported_not_dropped(tmp_path, serving_csv) -> None:
    path = serving_csv(tmp_path / "s.csv", {}, {"spec_decode": "eagle", "quantity": "tpot_mean_s", "value": "0.01"})
    table = load_serving([path])
    for predict in (sp.predict_serving_rows, sp.predict_serving_steady):
        out = predict(table)
        assert len(out) == 2 and np.isfinite(out["predicted"].iloc[0])
        assert np.isnan(out["predicted"].iloc[1]) and "eagle" in out["reason"].iloc[1]


def test_one_simulation_per_configuration(tmp_path, serving_csv, monkeypatch) -> None:
    rows = [{"quantity": q, "value": "1"} for q in SERVING_QUANTITIES] + [{"concurrency": "2"}]
    table = load_serving([serving_csv(tmp_path / "q.csv", *rows)])
    calls = []
    real = sp.simulate
    monkeypatch.setattr(sp, "simulate", lambda sc: calls.append(sc) or real(sc))
    out = sp.predict_serving_rows(table)
    assert len(calls) == 2
    assert out["predicted"].notna().all() and (out["reason"] == "").all()


def test_quantities_follow_benchmark_serving(tmp_path, serving_csv) -> None:
    """One request at a time (C = 1, fixed lengths): every per-request figure can be checked by hand."""
    config = _config(tmp_path, serving_csv, concurrency=1, input_len=2000, output_len=50, num_requests=3)
    scenario = sp.serving_scenario(config).model_copy(
        update={"workload": sp.serving_scenario(config).workload.model_copy(update={"requests": 3})})
    result = pm.simulate(scenario)
    q = sp.serving_quantities(result)
    req = result.requests
    ttft, e2e = req["ttft_s"].to_numpy(), req["e2e_s"].to_numpy()
    tpot = (e2e - ttft) / 49
    assert q["tpot_mean_s"] == pytest.approx(tpot.mean())
    assert q["tpot_p50_s"] == pytest.approx(np.median(tpot))
    # TPOT excludes the first token: a 2000-token prefill is slower than a decode step
    assert q["ttft_mean_s"] > 2 * q["tpot_mean_s"]
    assert q["tpot_mean_s"] < q["e2e_mean_s"] / 50
    # ITL pools every gap: 49 per request, equal to the TPOT mean when all answers have one length
    assert q["itl_mean_s"] == pytest.approx(q["tpot_mean_s"])
    assert q["itl_p50_s"] <= q["itl_p99_s"]
    # throughputs are over the benchmark duration: start to the last completion
    duration = req["finish_s"].max()
    assert q["output_tokens_per_s"] == pytest.approx(150 / duration)
    assert q["total_tokens_per_s"] == pytest.approx((150 + 6000) / duration)
    assert q["request_throughput_per_s"] == pytest.approx(3 / duration)
    assert q["e2e_p99_s"] >= q["e2e_p50_s"] > 0


def test_closed_form_rows_agree_with_simulated_ones(tmp_path, serving_csv) -> None:
    rows = [{"quantity": q, "value": "1", "concurrency": "16", "range_ratio": "0.5", "input_len": "1024",
             "output_len": "256", "num_requests": "256"}
            for q in ("output_tokens_per_s", "tpot_mean_s", "e2e_mean_s", "tpot_p99_s")]
    table = load_serving([serving_csv(tmp_path / "a.csv", *rows)])
    sim = sp.predict_serving_rows(table)["predicted"].to_numpy()
    fast = sp.predict_serving_steady(table)
    np.testing.assert_allclose(fast["predicted"].to_numpy()[:3], sim[:3], rtol=0.10)
    assert np.isnan(fast["predicted"].iloc[3]) and "means only" in fast["reason"].iloc[3]


runner = CliRunner()


def test_validate_serving_command(tmp_path, serving_csv) -> None:
    path = serving_csv(tmp_path / "serving_x.csv",
                       {"quantity": "output_tokens_per_s", "value": "700"},
                       {"quantity": "tpot_p50_s", "value": "0.01"},
                       {"quantity": "ttft_mean_s", "value": "0.05", "engine": "sglang"},
                       {"quantity": "itl_mean_s", "value": "0.01", "spec_decode": "ngram"})
    report, rows = tmp_path / "r.html", tmp_path / "rows.csv"
    r = runner.invoke(app, ["validate", "--serving", str(path), "--json", "--report", str(report),
                            "--csv", str(rows)])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["overall"]["rows"] == 4 and summary["overall"]["predicted"] == 3
    assert {g["quantity"] for g in summary["by_quantity"]} == {"output_tokens_per_s", "tpot_p50_s",
                                                                 "ttft_mean_s", "itl_mean_s"}
    assert {g["engine"] for g in summary["by_engine"]} == {"vllm", "sglang"}
    assert summary["unpredicted"][0]["line"] == 5 and "ngram" in summary["unpredicted"][0]["reason"]
    assert "predicted vs measured" in report.read_text() and rows.read_text().count("\n") == 5

    r = runner.invoke(app, ["validate", "--serving", "--fast", str(path)])
    assert r.exit_code == 0, r.output
    assert "by quantity" in r.stdout and "closed form" in r.stdout


def test_validate_serving_without_files(monkeypatch) -> None:
    import perfmodel.calibrate.serving_data as data

    monkeypatch.setattr(data, "default_serving_files", lambda: [])
    r = runner.invoke(app, ["validate", "--serving"])
    assert r.exit_code == 2 and "serving*.csv" in r.output and len(r.output.strip().splitlines()) == 1
    assert runner.invoke(app, ["validate", "--fast"]).exit_code == 2


def test_an_old_version_schedules_as_its_family() -> None:
    from perfmodel.calibrate.serving_predict import DEFAULT_SCHEDULER, ENGINE_SCHEDULER, scheduler_limits

    assert scheduler_limits("sglang-0.4") == ENGINE_SCHEDULER["sglang"]
    assert scheduler_limits("trtllm-0.17") == ENGINE_SCHEDULER["trtllm"]
    assert scheduler_limits("vllm-v0") == ENGINE_SCHEDULER["vllm"]
    assert scheduler_limits("no-such-engine") == DEFAULT_SCHEDULER
