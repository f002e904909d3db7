"""Convert the H200 serving results committed to github.com/simon-mo/R1-Benchmark into serving rows.

Reads, with ``git show`` from a local git mirror of the repository (no work tree), vLLM ``benchmark_serving.py``
result JSON files (``--dataset-name random --ignore-eos --num-prompts 50 --request-rate 10``, Poisson arrivals;
ShareGPT runs: 500 prompts at 10 req/s) of two sets, one 8x H200 DGX machine (the author's "brewster"/DGX H200):

* commit d538cdc9 (2025-04-19), ``saved-results/v0.8.4/deepseek-r1/h200/2025-04-18/deepseek-r1-h200-04182025/``:
  DeepSeek-R1 (FP8 checkpoint, real weights, BF16 KV), the README's "DGX H200" table. ``vllm-*-.json``: vLLM
  0.8.4, ``vllm serve --tensor-parallel-size 8 --no-enable-prefix-caching``; ``vllm-*-ep.json``: the same plus
  ``--enable-expert-parallel`` (``ep`` 8); ``trt-*.json``: TensorRT-LLM built from main at commit 2e669133c276
  (``trt-guide.md``, ``LOG.md`` 04/16 and 04/18), ``trtllm-serve --backend pytorch --tp_size 8 --ep_size 8``
  (overlap scheduler and CUDA graphs; the 30,000/100 run without them, max batch 50), no attention DP.
  Left out: the SGLang files (``--enable-dp-attention --dp-size 8``: data-parallel attention inside one TP8
  instance, which the layout columns cannot express) and the Nebius H200 repeats (same deployment keys).
* commit 8eaead1d (2025-03-30), ``saved-results/v0.8.2/h200-brewster/{llama-8b,llama-3b,qwq-32b}/``: dense models
  with ``--load-format dummy`` (random weights; ``--ignore-eos`` makes the lengths independent of them), vLLM 0.8.2
  and SGLang 0.4.4.post3 (``sglang.launch_server --disable-radix-cache``): neuralmagic Llama-3.1-8B-Instruct-FP8
  and Llama-3.2-3B-Instruct-FP8 (FP8 weights, BF16 KV) at TP1, QwQ-32B (BF16) at TP2. Left out: that commit's
  DeepSeek-R1 files (dummy weights, later withdrawn by the author because they distort MoE routing) and the H100
  set (the H100 variant is not stated).

Fixed-length runs get ``range_ratio`` 1 (every request's lengths are checked equal); ShareGPT runs get an empty
``range_ratio`` and the file's total tokens / completed requests as lengths. Runs with a failed request are
skipped. Only numbers present in the files are written (milliseconds converted to seconds).
Usage: ``python validation/tools/r1_benchmark_h200.py MIRROR_GIT_DIR > rows.csv`` (CSV rows, no header).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

from perfmodel.calibrate.serving_data import SERVING_COLUMNS

REPO = "github:simon-mo/R1-Benchmark"
KEYS = {
    "request_throughput": ("request_throughput_per_s", 1.0),
    "output_throughput": ("output_tokens_per_s", 1.0),
    "total_token_throughput": ("total_tokens_per_s", 1.0),
    **{f"{stat}_{m}_ms": (f"{q}_{tag}_s", 1e-3)
       for m, q in (("ttft", "ttft"), ("tpot", "tpot"), ("itl", "itl"), ("e2el", "e2e"))
       for stat, tag in (("mean", "mean"), ("median", "p50"), ("p99", "p99"))},
}
R1_COMMIT = "d538cdc9"
R1_DIR = "saved-results/v0.8.4/deepseek-r1/h200/2025-04-18/deepseek-r1-h200-04182025"
DENSE_COMMIT = "8eaead1d"
DENSE_DIR = "saved-results/v0.8.2/h200-brewster"
SCENARIOS = ("1000-2000", "5000-1000", "10000-500", "30000-100", "32000-100", "sharegpt")

# (file prefix, file suffix) -> deployment columns and launch description for DeepSeek-R1
R1_DEPLOYMENTS = {
    ("vllm", "-"): (dict(engine="vllm", engine_version="0.8.4", ep=1),
                    "vllm serve --tensor-parallel-size 8 --no-enable-prefix-caching, vLLM 0.8.4"),
    ("vllm", "-ep"): (dict(engine="vllm", engine_version="0.8.4", ep=8),
                      "vllm serve --tensor-parallel-size 8 --enable-expert-parallel --no-enable-prefix-caching, "
                      "vLLM 0.8.4"),
    ("trt", ""): (dict(engine="trtllm", engine_version="nightly-2e669133c276", ep=8),
                  "trtllm-serve --backend pytorch --tp_size 8 --ep_size 8, TensorRT-LLM built from main "
                  "2e669133c276 per trt-guide.md"),
}
# model folder -> (catalog id, weight dtype, TP)
DENSE_MODELS = {
    "llama-8b": ("llama-3.1-8b", "fp8", 1),
    "llama-3b": ("llama-3.2-3b", "fp8", 1),
    "qwq-32b": ("qwq-32b", "bf16", 2),
}
DENSE_ENGINES = {
    "vllm": ("vllm", "0.8.2", "vllm serve --load-format dummy --no-enable-prefix-caching, vLLM 0.8.2"),
    "sgl": ("sglang", "0.4.4.post3",
            "sglang.launch_server --load-format dummy --disable-radix-cache, SGLang 0.4.4.post3"),
}


def _show(mirror: str, commit: str, path: str) -> str | None:
    done = subprocess.run(["git", "--git-dir", mirror, "show", f"{commit}:{path}"], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def rows_for(result: dict, base: dict, source: str) -> list[dict]:
    """Serving rows of one result file (empty when a request failed)."""
    n = int(result["completed"])
    if n != int(result["num_prompts"]):
        return []
    fixed = len(set(result["input_lens"])) == 1 and len(set(result["output_lens"])) == 1
    row = {
        **base, "concurrency": "", "request_rate": f"{float(result['request_rate']):g}",
        "input_len": f"{result['total_input_tokens'] / n:g}", "output_len": f"{result['total_output_tokens'] / n:g}",
        "range_ratio": 1 if fixed else "", "num_requests": n, "spec_decode": "", "disagg": "",
        "reliability": "B-", "source": source,
    }
    return [{**row, "quantity": q, "value": f"{float(result[k]) * scale:.6g}"}
            for k, (q, scale) in KEYS.items() if result.get(k) is not None]


def deepseek_rows(mirror: str) -> list[dict]:
    """DeepSeek-R1 rows of the 2025-04-18 DGX H200 set."""
    out = []
    for (prefix, suffix), (dep, launch) in R1_DEPLOYMENTS.items():
        for scenario in SCENARIOS:
            path = f"{R1_DIR}/{prefix}-{scenario}{suffix}.json"
            text = _show(mirror, R1_COMMIT, path)
            if text is None:
                continue
            base = {"hardware": "h200-sxm-141gb", "num_devices": 8, "tp": 8, "pp": 1, "dp": 1, "model": "deepseek-r1",
                    "weight_dtype": "fp8", "kv_dtype": "bf16", "date": "2025-04", **dep}
            source = (f"{REPO}@{R1_COMMIT}:{path} (8x H200 DGX; {launch}; vLLM benchmark_serving random/ShareGPT, "
                      "--ignore-eos, Poisson 10 req/s)")
            out += rows_for(json.loads(text), base, source)
    return out


def dense_rows(mirror: str) -> list[dict]:
    """Dense-model rows of the 2025-03-30 H200 set."""
    out = []
    for folder, (model, wdtype, tp) in DENSE_MODELS.items():
        for prefix, (engine, version, launch) in DENSE_ENGINES.items():
            for scenario in SCENARIOS:
                path = f"{DENSE_DIR}/{folder}/{prefix}-{scenario}.json"
                text = _show(mirror, DENSE_COMMIT, path)
                if text is None:
                    continue
                base = {"hardware": "h200-sxm-141gb", "num_devices": tp, "tp": tp, "pp": 1, "ep": 1, "dp": 1,
                        "engine": engine, "engine_version": version, "model": model, "weight_dtype": wdtype,
                        "kv_dtype": "bf16", "date": "2025-03"}
                source = (f"{REPO}@{DENSE_COMMIT}:{path} (H200, TP{tp}; {launch}; vLLM benchmark_serving "
                          "random/ShareGPT, --ignore-eos, Poisson 10 req/s)")
                out += rows_for(json.loads(text), base, source)
    return out


def main(mirror: str) -> None:
    """Print the serving rows as CSV (no header)."""
    w = csv.DictWriter(sys.stdout, SERVING_COLUMNS, lineterminator="\n")
    for row in deepseek_rows(mirror) + dense_rows(mirror):
        w.writerow(row)


if __name__ == "__main__":
    main(sys.argv[1])
