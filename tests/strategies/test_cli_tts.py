"""`perfmodel tts cost | frontier`: JSON keys, the Kinetics mode, one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perfmodel.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "workloads" / "tts" / "trials_synthetic.csv"
KEYS = {"flops", "bytes", "kv_read_bytes", "weight_read_bytes", "eflops", "latency_s", "energy_j", "cost_usd",
        "peak_memory_bytes", "attention_share"}


def _run(*args: str):
    return runner.invoke(app, ["tts", *args])


@pytest.mark.parametrize("strategy", ["single", "best-of-n", "self-consistency", "long-cot", "beam", "first-finish",
                                      "revision", "speculative"])
def test_cost_json_for_every_strategy(strategy) -> None:
    r = _run("cost", "--model", "qwen3-0.6b", "--hardware", "h100-sxm-80gb", "--strategy", strategy, "--samples", "4",
             "--output-len", "2048", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d) >= KEYS
    assert d["inputs"]["strategy"] == strategy and d["latency_s"] > 0 and 0 < d["attention_share"] < 1


def test_cost_sparse_and_kinetics() -> None:
    common = ["cost", "-m", "qwen3-8b", "-H", "h100-sxm-80gb", "--strategy", "best-of-n", "--samples", "8",
              "--output-len", "16384", "--json"]
    dense = json.loads(_run(*common).stdout)
    sparse = json.loads(_run(*common, "--sparse", "block-topk", "--kv-budget", "1152", "--block-size", "64",
                             "--local-window", "128").stdout)
    assert sparse["kv_read_bytes"] < dense["kv_read_bytes"]
    assert sparse["inputs"]["attention"].startswith("block top-16")
    kin = json.loads(_run(*common, "--cost-model", "kinetics").stdout)
    assert kin["cost_model"] == "kinetics" and kin["weight_read_bytes"] == 0
    assert kin["eflops"] == pytest.approx(kin["flops"] + kin["machine_balance_flop_per_byte"] * kin["bytes"])
    given = json.loads(_run(*common, "--cost-model", "kinetics", "--machine-balance", "562.5").stdout)
    assert given["machine_balance_flop_per_byte"] == 562.5
    assert given["eflops"] == pytest.approx(given["flops"] + 562.5 * given["bytes"], rel=1e-12)


def test_cost_lengths_file_and_table(tmp_path) -> None:
    path = tmp_path / "lengths.txt"
    path.write_text("1000\n2000\n4000\n")
    r = _run("cost", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", "--strategy", "best-of-n", "--output-lengths",
             str(path), "--phases")
    assert r.exit_code == 0, r.output
    assert "eFLOPs" in r.stdout and "decode" in r.stdout


@pytest.mark.parametrize(("args", "match"), [
    (["--strategy", "tree"], "unknown strategy"),
    (["--sparse", "topk"], "--kv-budget"),
    (["--strategy", "beam", "--cost-model", "kinetics"], "kinetics cost model"),
    (["--output-lengths", "/no/such/file"], "file not found"),
    (["--kv-dtype", "fp7"], "unknown dtype"),
    (["--input-len", "0"], "prompt length"),
])
def test_cost_errors_are_one_line(args, match) -> None:
    r = _run("cost", "-m", "qwen3-0.6b", "-H", "h100-sxm-80gb", *args)
    assert r.exit_code == 2
    assert match in r.output and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1


def test_frontier_csv_and_json(tmp_path) -> None:
    out = tmp_path / "front.csv"
    r = _run("frontier", str(EXAMPLE), "-H", "h100-sxm-80gb", "--models", "qwen3-0.6b,qwen3-4b", "--n-values",
             "1,4", "--budgets", "8192,32768", "--csv", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_text().startswith("budget,accuracy,model")
    r = _run("frontier", str(EXAMPLE), "--models", "qwen3-0.6b,qwen3-4b", "--n-values", "1,4", "--budgets", "8192",
             "--budget-unit", "dollars", "--json")
    d = json.loads(r.stdout)
    assert d["budget_unit"] == "dollars" and d["frontier"] and "threshold" in d


def test_frontier_errors(tmp_path) -> None:
    r = _run("frontier", str(tmp_path / "missing.csv"))
    assert r.exit_code == 2 and "file not found" in r.output
    r = _run("frontier", str(EXAMPLE), "--budget-unit", "watts")
    assert r.exit_code == 2 and "budget-unit" in r.output
    r = _run("frontier", str(EXAMPLE), "--n-values", "1,x")
    assert r.exit_code == 2 and "comma-separated" in r.output
