"""Stage 2 backends give identical tables; the Ray backend runs on a local 2-CPU instance."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

import perfmodel as pm
from perfmodel.cli import app
from perfmodel.plan.launch import launch_commands

COLS = ["config_id", "verified", "feasible", "units", "ttft_s_p99", "tpot_s_p99", "cost_per_hour_usd"]


def test_ray_backend_matches_the_process_pool(spec_factory, tmp_path):
    pytest.importorskip("ray", reason="Ray not installed: pip install 'perfmodel[ray]' to test the Ray backend")
    spec = spec_factory(**{"verify.top_k": 2, "verify.max_pareto": 0})
    local = pm.plan(spec, backend="local", workers=2, cache_dir=False)
    ray_plan = pm.plan(spec, backend="ray", workers=2, cache_dir=False)
    pd.testing.assert_frame_equal(local.table[COLS], ray_plan.table[COLS])
    assert (local.table["verified"] == "simulated").sum() == 2


def test_cache_reuses_simulations(spec_factory, tmp_path):
    spec = spec_factory(**{"verify.top_k": 1, "verify.max_pareto": 0})
    first = pm.plan(spec, backend="serial", cache_dir=tmp_path)
    files = sorted(tmp_path.glob("*.json"))
    assert files
    again = pm.plan(spec, backend="serial", cache_dir=tmp_path)
    assert sorted(tmp_path.glob("*.json")) == files
    pd.testing.assert_frame_equal(first.table[COLS], again.table[COLS])


def test_launch_commands_carry_the_configuration():
    cfg = {"tp": 4, "pp": 2, "ep": 1, "max_num_seqs": 128, "max_num_batched_tokens": 4096, "weight_dtype": "fp8",
           "kv_dtype": "fp8", "prefix_caching": True, "speculative": False, "prefill_workers": 2,
           "decode_workers": 1}
    cmds = launch_commands("org/model", cfg, units=3, context_tokens=4096)
    vllm = cmds["vllm"]
    assert len(vllm) == 2  # one per pool
    for flag in ("--tensor-parallel-size 4", "--pipeline-parallel-size 2", "--max-num-seqs 128",
                 "--max-num-batched-tokens 4096", "--kv-cache-dtype fp8", "--quantization fp8",
                 "--enable-prefix-caching"):
        assert flag in vllm[0]
    assert "prefill × 6" in vllm[0] and "decode × 3" in vllm[1]
    assert "--tp 4" in cmds["sglang"][0] and "--disaggregation-mode prefill" in cmds["sglang"][0]
    assert "--tp_size 4" in cmds["trtllm"][0] and "--max_batch_size 128" in cmds["trtllm"][0]
    assert "-np 128" in cmds["llama.cpp"][0] and "-ngl" in cmds["llama.cpp"][0]


def test_cli_plan_json_and_one_line_errors(spec_factory, tmp_path):
    import yaml

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(spec_factory(**{"verify.top_k": 1, "verify.max_pareto": 0})))
    runner = CliRunner()
    res = runner.invoke(app, ["plan", str(path), "--json", "--backend", "serial", "--no-cache",
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "scenario.yaml").is_file()
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(spec_factory(**{"search.tp": []})))
    res = runner.invoke(app, ["plan", str(bad)])
    assert res.exit_code == 2 and "search.tp" in res.output
