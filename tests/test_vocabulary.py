"""One vocabulary: input_len / output_len everywhere; the old spellings still work, with a warning."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import perfmodel as pm
from perfmodel.cli import app

runner = CliRunner()
SCENARIO = {"model": "qwen3-0.6b", "hardware": "h100-sxm-80gb",
            "workload": {"requests": 3, "arrival": {"process": "poisson", "rate_per_s": 5.0}}}


def test_scenario_old_length_keys_warn_and_mean_the_same() -> None:
    lengths = {"dist": "fixed", "value": 32}
    new = pm.load_scenario({**SCENARIO, "workload": {**SCENARIO["workload"], "input_len": lengths,
                                                      "output_len": lengths}})
    with pytest.warns(pm.DeprecatedNameWarning, match="'input_tokens' is deprecated; use 'input_len'"):
        old = pm.load_scenario({**SCENARIO, "workload": {**SCENARIO["workload"], "input_tokens": lengths,
                                                          "output_len": lengths}})
    assert old.workload == new.workload


def test_both_spellings_at_once_is_an_error() -> None:
    lengths = {"dist": "fixed", "value": 32}
    with pytest.raises(pm.PerfModelError, match="give 'input_len' only"):
        pm.load_scenario({**SCENARIO, "workload": {**SCENARIO["workload"], "input_len": lengths,
                                                    "input_tokens": lengths, "output_len": lengths}})


def test_task_cost_prompt_len_alias() -> None:
    strategy = pm.BestOfN(n=2, lengths=pm.FixedLength(64))
    new = pm.task_cost("qwen3-0.6b", "h100-sxm-80gb", strategy, input_len=100)
    with pytest.warns(pm.DeprecatedNameWarning, match="prompt_len"):
        old = pm.task_cost("qwen3-0.6b", "h100-sxm-80gb", strategy, prompt_len=100)
    assert old.latency_s == new.latency_s and new.inputs["input_len"] == 100


def test_tts_old_flags_warn_and_match_the_new_ones() -> None:
    base = ["tts", "cost", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "-s", "best-of-n", "--json"]
    new = runner.invoke(app, [*base, "--samples", "4", "--input-len", "100", "--output-len", "256"])
    old = runner.invoke(app, [*base, "--n", "4", "--prompt-len", "100", "--gen-len", "256"])
    assert new.exit_code == old.exit_code == 0, old.output
    assert json.loads(new.stdout)["latency_s"] == json.loads(old.stdout)["latency_s"]
    for flag in ("--n", "--prompt-len", "--gen-len"):
        assert f"{flag} is deprecated" in old.stderr
    assert "deprecated" not in new.stderr


def test_version_and_short_help() -> None:
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == f"perfmodel {pm.__version__}"
    r = runner.invoke(app, ["estimate", "-h"])
    assert r.exit_code == 0 and "--input-len" in r.stdout
    assert "<bool>" not in r.stdout  # flags take no value


def test_unknown_engine_notice_on_stderr() -> None:
    r = runner.invoke(app, ["estimate", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "--input-len", "16",
                            "--output-len", "4", "--engine", "my-engine", "--json"])
    assert r.exit_code == 0
    assert "no engine profile named 'my-engine'; using 'generic'" in r.stderr
    assert json.loads(r.stdout)["provenance"]["engine"].startswith("generic")
