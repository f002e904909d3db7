"""Convert vLLM serving-benchmark result files committed to SemiAnalysisAI/InferenceX into serving rows.

Reads, with ``git show`` from a local git mirror of github.com/SemiAnalysisAI/InferenceX (no work tree):

* ``experimental/token_position_decode_slo/minimax-m2.5/results/minimax_m25_vllm_tep8_*.json`` at commit
  5969d0ad2ddb (8x H200, vLLM wheel of commit dea63512bb9b, TP8 + expert parallel, fixed ISL/OSL, ignore-eos);
  the ``dep8`` files are skipped because their server launch is not in the repository;
* ``benchmarks/multi_node/results/*.json`` at a88fcacf72f3 (gpt-oss-120b) and
  ``benchmarks/multi_node/results/minimax-m2.5/*.json`` at 006dbc6f27e9 (MiniMax-M2.5): 2 x 8 MI355X,
  vLLM ROCm nightly 100c7b65, one prefill and one decode instance of TP8 each, 1024/1024 fixed lengths.

Only numbers present in the files are written (milliseconds converted to seconds); nothing is derived.
Usage: ``python validation/tools/inferencex_serving.py MIRROR_GIT_DIR > rows.csv`` (prints CSV rows, no header).
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys

REPO = "github:SemiAnalysisAI/InferenceX"
TOKEN_POS_COMMIT = "5969d0ad2ddbf32b69e31340643e465705868b8e"
GPTOSS_COMMIT = "a88fcacf72f3afc22e7eea0e05211cfdf43e91a7"
MINIMAX_DISAGG_COMMIT = "006dbc6f27e9973bc20fa956b83d8f876fd3074b"

# result key -> (quantity, scale to SI)
KEYS_S = {
    "output_throughput": ("output_tokens_per_s", 1.0),
    "total_token_throughput": ("total_tokens_per_s", 1.0),
    "request_throughput": ("request_throughput_per_s", 1.0),
    "median_ttft": ("ttft_p50_s", 1.0),
    "p99_ttft": ("ttft_p99_s", 1.0),
    "median_tpot": ("tpot_p50_s", 1.0),
    "p99_tpot": ("tpot_p99_s", 1.0),
    "median_e2el": ("e2e_p50_s", 1.0),
    "p99_e2el": ("e2e_p99_s", 1.0),
}
KEYS_MS = {
    "output_throughput": ("output_tokens_per_s", 1.0),
    "total_token_throughput": ("total_tokens_per_s", 1.0),
    "request_throughput": ("request_throughput_per_s", 1.0),
    **{f"{stat}_{m}_ms": (f"{m.replace('e2el', 'e2e')}_{tag}_s", 1e-3)
       for m in ("ttft", "tpot", "itl", "e2el")
       for stat, tag in (("mean", "mean"), ("median", "p50"), ("p99", "p99"))},
}


def _git(mirror: str, *args: str) -> str:
    return subprocess.run(["git", "-C", mirror, *args], check=True, capture_output=True, text=True).stdout


def _rows(d: dict, keys: dict, base: dict, source: str) -> list[dict]:
    assert d["completed"] == d["num_prompts"], source
    n = d["num_prompts"]
    base = {**base, "concurrency": d["max_concurrency"], "input_len": d["total_input_tokens"] // n,
            "output_len": d["total_output_tokens"] // n, "num_requests": n,
            "date": f"{d['date'][:4]}-{d['date'][4:6]}"}
    assert base["input_len"] * n == d["total_input_tokens"] and base["output_len"] * n == d["total_output_tokens"]
    out = []
    for key, (quantity, scale) in keys.items():
        if d.get(key) is None:
            continue
        out.append({**base, "quantity": quantity, "value": f"{float(d[key]) * scale:.6g}", "source": source})
    return out


def main(mirror: str) -> None:
    """Print serving rows for the three InferenceX sweeps."""
    cols = [
        "hardware", "num_devices", "tp", "pp", "ep", "dp", "engine", "engine_version", "model", "weight_dtype",
        "kv_dtype", "concurrency", "request_rate", "input_len", "output_len", "range_ratio", "num_requests",
        "spec_decode", "disagg", "quantity", "value", "reliability", "source", "date",
    ]
    w = csv.DictWriter(sys.stdout, cols, lineterminator="\n")
    common = {"pp": 1, "dp": 1, "engine": "vllm", "range_ratio": 1, "request_rate": "", "spec_decode": "",
              "reliability": "B"}
    rows: list[dict] = []
    d0 = "experimental/token_position_decode_slo/minimax-m2.5"
    for path in _git(mirror, "ls-tree", "--name-only", f"{TOKEN_POS_COMMIT}:{d0}/results").split():
        if not re.match(r"minimax_m25_vllm_tep8_.*\.json$", path):
            continue
        d = json.loads(_git(mirror, "show", f"{TOKEN_POS_COMMIT}:{d0}/results/{path}"))
        src = (f"{REPO}@{TOKEN_POS_COMMIT[:12]}:{d0}/results/{path} (vllm serve --tensor-parallel-size 8 "
               f"--enable-expert-parallel per serve_minimax_tep8_sbatch.sh; vLLM wheel of commit dea63512bb9b; "
               f"random dataset, --ignore-eos, request rate inf)")
        base = {**common, "hardware": "h200-sxm-141gb", "num_devices": 8, "tp": 8, "ep": 8,
                "engine_version": "nightly-dea63512bb9b", "model": "minimax-m2.5", "weight_dtype": "fp8",
                "kv_dtype": "bf16", "disagg": ""}
        rows += _rows(d, KEYS_S, base, src)
    for commit, folder, model, wdt, ep, cfg in (
        (GPTOSS_COMMIT, "benchmarks/multi_node/results", "gpt-oss-120b", "mxfp4", 1,
         "models_vllm.yaml gpt-oss-120b: prefill and decode --tensor-parallel-size 8"),
        (MINIMAX_DISAGG_COMMIT, "benchmarks/multi_node/results/minimax-m2.5", "minimax-m2.5", "fp8", 8,
         "models_vllm.yaml MiniMax-M2.5: prefill and decode --tensor-parallel-size 8 --enable-expert-parallel"),
    ):
        for path in _git(mirror, "ls-tree", "--name-only", f"{commit}:{folder}").split():
            if not path.endswith(".json"):
                continue
            d = json.loads(_git(mirror, "show", f"{commit}:{folder}/{path}"))
            src = (f"{REPO}@{commit[:12]}:{folder}/{path} (MI355X, vllm/vllm-openai-rocm:nightly-100c7b65 per "
                   f"benchmarks/multi_node/vllm_disagg_utils/run_P.sh; 1 prefill + 1 decode node, {cfg}; "
                   f"MoRI-IO KV transfer; range ratio 1)")
            base = {**common, "hardware": "mi355x", "num_devices": 16, "tp": 8, "ep": ep,
                    "engine_version": "nightly-100c7b65", "model": model, "weight_dtype": wdt,
                    "kv_dtype": "bf16", "disagg": "1p1d"}
            rows += _rows(d, KEYS_MS, base, src)
    for r in rows:
        w.writerow(r)


if __name__ == "__main__":
    main(sys.argv[1])
