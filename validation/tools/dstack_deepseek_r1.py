"""Convert dstack's DeepSeek-R1 online serving results (8x H200, 8x MI300X) into serving rows.

Reads, with ``git show`` from a local git mirror of github.com/dstackai/benchmarks (no work tree), the file
``Deepseek-R1/raw_data/online_results.csv`` at commit 7f37e6697725 (branch ``deepseek-r1-benchmark``). The
``Deepseek-R1/README.md`` beside it gives the deployments: ``vllm serve deepseek-ai/DeepSeek-R1
--tensor-parallel-size 8`` (H200: vLLM 0.7.4.dev181+gf35f8e22 nightly wheel, FLASHMLA attention; MI300X:
``rocm/vllm-dev:vllm-ds3-staging-0217``, vLLM 0.7.3.dev138+g21f6ca217), ``sglang.launch_server --tp 8`` on
MI300X (``rocm/sglang-staging:20250212``, SGLang 0.4.2.post4) and ``trtllm-serve --backend pytorch --tp_size 8
--ep_size 4`` on H200 (TensorRT-LLM 0.17.post1.dev built from commit 9b931c0f6305). The client is SGLang's
``bench_serving.py``: random dataset, ``--random-range-ratio 1`` (fixed lengths), 500 prompts, closed loop at
``--max-concurrency``.

Skipped: the prefix-cache runs (``generated-shared-prefix`` dataset, shared prompt prefixes); the H200 SGLang
runs (``--enable-dp-attention``: eight data-parallel attention ranks inside one TP8 instance, which the layout
columns cannot express); the TensorRT-LLM inter-token latencies (that backend's ITL is longer than its TPOT on
average and its recorded mean concurrency, e.g. 111 at max concurrency 4, does not match its latencies, so
the per-chunk accounting is suspect; TTFT, TPOT, E2E and throughput agree with each other and are kept); runs
in which a request failed (fewer than 500 completed).

Only numbers present in the file are written (milliseconds converted to seconds); nothing is derived.
Usage: ``python validation/tools/dstack_deepseek_r1.py MIRROR_GIT_DIR > rows.csv`` (prints CSV rows, no header).
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys

from perfmodel.calibrate.serving_data import SERVING_COLUMNS

REPO = "github:dstackai/benchmarks"
COMMIT = "7f37e6697725e58dd09b9ef190b62ce19f01d45e"
PATH = "Deepseek-R1/raw_data/online_results.csv"
NUM_PROMPTS = 500


# result column -> (quantity, scale to SI)
KEYS = {
    "output_throughput": ("output_tokens_per_s", 1.0),
    "request_throughput": ("request_throughput_per_s", 1.0),
    **{f"{stat}_{m}_ms": (f"{q}_{tag}_s", 1e-3)
       for m, q in (("ttft", "ttft"), ("tpot", "tpot"), ("itl", "itl"), ("e2e_latency", "e2e"))
       for stat, tag in (("mean", "mean"), ("median", "p50"), ("p99", "p99"))},
}

# (GPU, backend) -> deployment columns and the launch it was measured with
DEPLOYMENTS = {
    ("h200", "vllm"): dict(
        hardware="h200-sxm-141gb", engine="vllm", engine_version="0.7.4.dev181+gf35f8e22", ep=1,
        launch="vllm serve deepseek-ai/DeepSeek-R1 --trust-remote-code --tensor-parallel-size 8, "
               "VLLM_ATTENTION_BACKEND=FLASHMLA, nightly wheel over vllm/vllm-openai:v0.7.3"),
    ("mi300x", "vllm"): dict(
        hardware="mi300x", engine="vllm", engine_version="0.7.3.dev138+g21f6ca217", ep=1,
        launch="rocm/vllm-dev:vllm-ds3-staging-0217, vllm serve deepseek-ai/DeepSeek-R1 "
               "--tensor-parallel-size 8 --trust-remote-code --max-model-len 32768"),
    ("mi300x", "sglang"): dict(
        hardware="mi300x", engine="sglang", engine_version="0.4.2.post4", ep=1,
        launch="rocm/sglang-staging:20250212, sglang.launch_server --model-path deepseek-ai/DeepSeek-R1 "
               "--tp 8 --trust-remote-code"),
    ("h200", "trt-llm"): dict(
        hardware="h200-sxm-141gb", engine="trtllm", engine_version="0.17.post1.dev+9b931c0f6305", ep=4,
        launch="trtllm-serve --backend pytorch --tp_size 8 --ep_size 4 --pp_size 1 --max_batch_size 512 "
               "--max_num_tokens 16384, image built from TensorRT-LLM commit 9b931c0f6305"),
}


def rows_from_csv(text: str) -> list[dict]:
    """Serving rows for the fixed-length runs of the deployments in ``DEPLOYMENTS``."""
    out: list[dict] = []
    for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        dep = DEPLOYMENTS.get((r["GPU"], r["backend"]))
        if dep is None or r["dataset_name"] != "random":
            continue
        isl, osl = int(r["random_input_len"]), int(r["random_output_len"])
        if int(r["completed"]) != NUM_PROMPTS:
            continue  # a run with failed requests: its throughput counts only the completed ones
        assert float(r["random_range_ratio"]) == 1.0, r
        assert int(r["total_input_tokens"]) == isl * NUM_PROMPTS, r
        assert int(r["total_output_tokens"]) == osl * NUM_PROMPTS, r
        source = (f"{REPO}@{COMMIT[:12]}:{PATH} (row {r['GPU']}/{r['backend']}, max concurrency "
                  f"{r['max_concurrency']}, output {osl}; Deepseek-R1/README.md: 8x {r['GPU'].upper()}, "
                  f"{dep['launch']}; SGLang bench_serving.py --dataset-name random --random-range-ratio 1 "
                  f"--num-prompts {NUM_PROMPTS})")
        base = {
            "hardware": dep["hardware"], "num_devices": 8, "tp": 8, "pp": 1, "ep": dep["ep"], "dp": 1,
            "engine": dep["engine"], "engine_version": dep["engine_version"], "model": "deepseek-r1",
            "weight_dtype": "fp8", "kv_dtype": "bf16", "concurrency": int(r["max_concurrency"]),
            "request_rate": "", "input_len": isl, "output_len": osl, "range_ratio": 1,
            "num_requests": NUM_PROMPTS, "spec_decode": "", "disagg": "", "reliability": "B",
            "source": source, "date": "2025-03",
        }
        for key, (quantity, scale) in KEYS.items():
            if dep["engine"] == "trtllm" and key.endswith("_itl_ms"):
                continue
            if r.get(key, "") == "":
                continue
            out.append({**base, "quantity": quantity, "value": f"{float(r[key]) * scale:.6g}"})
    return out


def main(mirror: str) -> None:
    """Print the serving rows as CSV (no header)."""
    text = subprocess.run(["git", "-C", mirror, "show", f"{COMMIT}:{PATH}"], check=True, capture_output=True,
                          text=True).stdout
    w = csv.DictWriter(sys.stdout, SERVING_COLUMNS, lineterminator="\n")
    for row in rows_from_csv(text):
        w.writerow(row)


if __name__ == "__main__":
    main(sys.argv[1])
