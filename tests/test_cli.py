"""End-to-end tests of the command line (through typer's runner and a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml
from typer.testing import CliRunner

import perfmodel as pm
from perfmodel.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_estimate_json_keys() -> None:
    r = run("estimate", "--model", "llama-3.1-8b", "--hardware", "h100-sxm-80gb", "--batch", "4",
            "--input-len", "512", "--output-len", "128", "--json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["e2e_s"] > d["ttft_s"] > 0
    assert d["memory"]["capacity_bytes"] == 80e9
    assert d["provenance"]["engine"] == pm.DEFAULT_ENGINE == "vllm"


def test_estimate_table_and_breakdown() -> None:
    r = run("estimate", "-m", "qwen3-0.6b", "-H", "a100-sxm-80gb", "--input-len", "100", "--output-len", "10",
            "--engine", "vllm", "--breakdown")
    assert r.exit_code == 0, r.output
    assert "TTFT" in r.stdout and "lm_head" in r.stdout


def test_unknown_id_exit_2_with_suggestion() -> None:
    r = run("estimate", "-m", "llama-3.1-8", "-H", "h100-sxm-80gb", "--input-len", "1", "--output-len", "1")
    assert r.exit_code == 2
    assert "llama-3.1-8b" in r.output and "Traceback" not in r.output


def test_malformed_yaml_exit_2_names_file_and_field(tmp_path) -> None:
    bad = tmp_path / "gpu.yaml"
    bad.write_text("kind: gpu\nmemory: {capacity_gb: 16}\ncompute_tflops: {fp16: 10}\n")
    r = run("estimate", "-m", "qwen3-0.6b", "-H", str(bad), "--input-len", "1", "--output-len", "1")
    assert r.exit_code == 2
    assert "gpu.yaml" in r.output and "memory.bandwidth_gb_s" in r.output


def test_malformed_json_model(tmp_path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    r = run("estimate", "-m", str(bad), "-H", "h100-sxm-80gb", "--input-len", "1", "--output-len", "1")
    assert r.exit_code == 2 and "not valid JSON" in r.output


def test_not_fitting_warns_and_strict_exits_3() -> None:
    args = ["estimate", "-m", "llama-3.1-70b", "-H", "l4-24gb", "--input-len", "10", "--output-len", "2", "--json"]
    r = run(*args)
    assert r.exit_code == 0
    assert json.loads(r.stdout)["fits"] is False
    assert "does not fit" in r.stderr
    assert run(*args, "--strict").exit_code == 3


def test_catalog_commands(tmp_path) -> None:
    r = run("hardware", "list", "--json")
    assert "h100-sxm-80gb" in json.loads(r.stdout)["devices"]
    assert "dgx-h100" in json.loads(r.stdout)["systems"]
    assert "989" in run("hardware", "show", "h100-sxm-80gb").stdout
    assert "qwen3-30b-a3b" in json.loads(run("model", "list", "--json").stdout)
    assert run("model", "list").exit_code == 0
    assert "active_params" in run("model", "show", "deepseek-v3").stdout
    engines = json.loads(run("engine", "list", "--json").stdout)
    assert engines["trtllm-0.6"]["calibrated"] and not engines["ideal"]["calibrated"]
    assert engines[pm.DEFAULT_ENGINE]["default"] and "software" in engines["trtllm"]
    assert run("engine", "list").exit_code == 0
    assert run("model", "show", "nope-model").exit_code == 2


def test_hardware_detect_writes_usable_yaml(tmp_path) -> None:
    path = tmp_path / "me.yaml"
    r = run("hardware", "detect", "-o", str(path))
    assert r.exit_code == 0, r.output
    spec = yaml.safe_load(path.read_text())
    assert spec["kind"] == "cpu" and "ESTIMATED" in spec["sources"]["compute_tflops"]
    r = run("estimate", "-m", "qwen3-0.6b", "-H", str(path), "--input-len", "32", "--output-len", "4", "--json")
    assert r.exit_code == 0, r.output


def test_console_script_subprocess() -> None:
    r = subprocess.run([sys.executable, "-m", "perfmodel.cli", "estimate", "-m", "nope", "-H", "h100-sxm-80gb",
                        "--input-len", "1", "--output-len", "1"], capture_output=True, text=True, check=False)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "unknown model" in r.stderr


def test_validate_command_json_and_report(tmp_path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_text("hardware,num_devices,engine,model,weight_dtype,kv_dtype,batch,input_len,output_len,quantity,value,"
                   "reliability,source\n"
                   "h100-sxm-80gb,1,vllm,llama-3-8b,fp16,fp16,1,128,128,e2e_s,0.994,B,paper-a\n"
                   "a100-sxm-80gb,1,vllm,llama-3-8b,fp16,fp16,1,128,128,e2e_s,1.826,B,paper-b\n")
    report = tmp_path / "r.html"
    r = run("validate", str(csv), "--json", "--report", str(report))
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["overall"]["rows"] == 2 and summary["overall"]["median"] < 0.5
    assert "predicted vs measured" in report.read_text()
    r = run("validate", str(csv), "--cv", "source", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["mode"] == "cross-validated by source"
    assert run("validate", str(csv), "--cv", "banana").exit_code == 2
    assert run("validate", str(tmp_path / "missing.csv")).exit_code == 2


def test_engine_aliases_and_unknown_engine_fallback() -> None:
    r = run("estimate", "-m", "qwen3-0.6b", "-H", "h100", "--input-len", "16", "--output-len", "4", "--engine",
            "TensorRT-LLM", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["provenance"]["engine"] == "trtllm"
    r = run("estimate", "-m", "qwen3-0.6b", "-H", "h100", "--input-len", "16", "--output-len", "4", "--engine",
            "some-new-engine", "--json")
    assert r.exit_code == 0
    assert "no profile for 'some-new-engine'" in json.loads(r.stdout)["provenance"]["engine"]
