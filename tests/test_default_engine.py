"""One default engine: the API, CLI, `tts cost`, the simulator and the dashboard agree when none is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

import perfmodel as pm
from perfmodel.cli import app
from perfmodel.sim.scenario import load_scenario

runner = CliRunner()
ARGS = {"batch": 2, "input_len": 256, "output_len": 32}


def test_default_is_a_current_engine_profile() -> None:
    engine = pm.load_engine(None)
    assert engine.name == pm.DEFAULT_ENGINE
    assert engine.family == engine.name  # a current major version, not an old runtime or a research stack
    for spelling in ("", "default", "Default", "unknown"):
        assert pm.load_engine(spelling).name == pm.DEFAULT_ENGINE


def test_api_and_cli_agree() -> None:
    api = pm.estimate("llama-3.1-8b", "h100-sxm-80gb", **ARGS)
    named = pm.estimate("llama-3.1-8b", "h100-sxm-80gb", engine=pm.DEFAULT_ENGINE, **ARGS)
    assert api.tpot_s == named.tpot_s and api.provenance["engine"] == pm.DEFAULT_ENGINE
    r = runner.invoke(app, ["estimate", "-m", "llama-3.1-8b", "-H", "h100-sxm-80gb", "--batch", "2",
                            "--input-len", "256", "--output-len", "32", "--json"])
    assert r.exit_code == 0, r.output
    cli = json.loads(r.stdout)
    assert cli["tpot_s"] == pytest.approx(api.tpot_s, rel=1e-12)
    assert cli["provenance"]["engine"] == pm.DEFAULT_ENGINE


def test_tts_cost_uses_the_default() -> None:
    common = ["tts", "cost", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "--strategy", "best-of-n", "--n", "4",
              "--gen-len", "512", "--json"]
    unnamed = json.loads(runner.invoke(app, common).stdout)
    named = json.loads(runner.invoke(app, [*common, "--engine", pm.DEFAULT_ENGINE]).stdout)
    other = json.loads(runner.invoke(app, [*common, "--engine", "research-2023"]).stdout)
    assert unnamed["latency_s"] == pytest.approx(named["latency_s"], rel=1e-12)
    assert other["latency_s"] != pytest.approx(unnamed["latency_s"], rel=1e-3)


def test_scenario_default_engine() -> None:
    scenario = load_scenario({"name": "t", "model": "qwen3-0.6b", "hardware": "h100-sxm-80gb",
                              "workload": {"requests": 4, "arrival": {"process": "poisson", "rate_per_s": 1.0},
                                           "input_len": {"dist": "fixed", "value": 64},
                                           "output_len": {"dist": "fixed", "value": 8}}})
    assert pm.load_engine(scenario.engine).name == pm.DEFAULT_ENGINE


def test_dashboard_default_engine() -> None:
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py"), default_timeout=60)
    at.run()
    assert at.selectbox(key="engine").value == pm.DEFAULT_ENGINE
