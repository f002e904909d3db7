"""The end-to-end check on a tiny real transformers decoder (random weights, CPU)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from typer.testing import CliRunner  # noqa: E402

import perfmodel as pm  # noqa: E402
from perfmodel.cli import app  # noqa: E402
from perfmodel.probe.e2e import ModelChoice, run_e2e, summary, targets_for  # noqa: E402
from perfmodel.probe.hf_models import build_model  # noqa: E402

TINY = "qwen3-0.6b:layers=2:hidden=256:vocab=512"


def test_built_model_matches_the_catalog_parameter_count() -> None:
    """The catalog count leaves out Qwen3's per-head QK-norm weights (2·head_dim per layer): within 0.1%."""
    for ref in ("qwen3-0.6b:layers=2:hidden=256:vocab=512", "llama-3.2-1b:layers=1:hidden=128:vocab=300",
                "qwen2.5-7b:layers=1:hidden=256:vocab=300", "mistral-7b:layers=1:hidden=256:vocab=300"):
        arch = ModelChoice.parse(ref).arch()
        model = build_model(arch)
        assert sum(p.numel() for p in model.parameters()) == pytest.approx(arch.total_params(), rel=1e-3), ref


def test_run_e2e_measures_and_predicts(tmp_path) -> None:
    base = pm.Device(id="toy-cpu", kind="cpu", memory={"capacity_gb": 8, "bandwidth_gb_s": 10},
                     compute_tflops={"fp32": 0.1})
    rows = run_e2e([ModelChoice.parse(TINY)], targets_for(base, None, None), configs=[(2, 16)], output_len=4,
                   repeats=1, threads=1)
    (row,) = rows
    assert row.ttft_s > 0 and row.tpot_s > 0 and len(row.ttft_samples_s) == 1
    pred = row.predicted["spec-only"]
    assert pred["ttft_s"] > 0 and pred["engine"] == "hf-transformers"
    assert pred["provenance"].startswith("spec-only")
    assert set(summary(rows, ["spec-only"])["spec-only"]) == {"ttft_median_abs_err", "ttft_max_abs_err",
                                                              "ttft_p90_abs_err", "tpot_p90_abs_err",
                                                              "tpot_median_abs_err", "tpot_max_abs_err"}


def test_cli_e2e_table(tmp_path) -> None:
    out = tmp_path / "e2e.json"
    r = CliRunner().invoke(app, ["probe", "--e2e", TINY, "--configs", "1x8", "--output-len", "3", "--repeats", "1",
                                 "--threads", "1", "--clock", "thread", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "TTFT median" in r.output and "p90" in r.output
    assert pm.probe.load_bundle(out).e2e[0]["batch"] == 1


def test_cli_e2e_exits_1_above_max_error_with_a_calibrated_bundle(tmp_path, synth) -> None:
    bundle = pm.probe.write_bundle(synth.bundle(), tmp_path / "bundle.json")
    r = CliRunner().invoke(app, ["probe", "--e2e", TINY, "--configs", "1x8", "--output-len", "3", "--repeats", "1",
                                 "--threads", "1", "--calibrated", str(bundle), "--max-error", "0",
                                 "--max-p90-error", "0", "-o", str(tmp_path / "e.json")])
    assert r.exit_code == 1, r.output
    assert "calibrated" in r.output and "--max-error" in r.output
    assert "calibrated with 1 threads" not in r.output  # same thread count: no warning


def test_cli_e2e_unsupported_model_is_exit_2(tmp_path) -> None:
    r = CliRunner().invoke(app, ["probe", "--e2e", "deepseek-v3:layers=1", "-o", str(tmp_path / "e.json")])
    assert r.exit_code == 2 and "e2e check builds" in r.output
