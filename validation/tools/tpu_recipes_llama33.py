"""Convert the vLLM-on-TPU serving results of the AI-Hypercomputer/tpu-recipes Llama-3.3-70B recipe into rows.

Reads, with ``git show`` from a local git mirror of github.com/AI-Hypercomputer/tpu-recipes (no work tree), at
commit 7fbfaa9225d5 (2025-12-10), ``inference/trillium/vLLM/Llama3.3/README.md``: Llama-3.3-70B-Instruct (bf16) on
one TPU v6e-8 host (topology 2x4), ``vllm serve --tensor-parallel-size 8 --max-num-batched-tokens 512
--max-num-seqs 256 --async-scheduling --no-enable-prefix-caching`` in the pinned image
``vllm/vllm-tpu:nightly-20251129-28607fc-39e63de``; ``vllm bench serve --dataset-name random --ignore-eos
--num-prompts 3000 --random-input-len 1000 --random-output-len 1000`` at max concurrency 64 and 128. The default
random range ratio of ``vllm bench serve`` is 0 (fixed lengths), which the printed token totals confirm, so
``range_ratio`` is 1 and the lengths are the printed totals / 3000. Only numbers printed in the two "Serving
Benchmark Result" blocks are written (milliseconds converted to seconds); the "Peak" lines have no quantity.
Usage: ``python validation/tools/tpu_recipes_llama33.py MIRROR_GIT_DIR > rows.csv`` (CSV rows, no header).
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys

from perfmodel.calibrate.serving_data import SERVING_COLUMNS

REPO = "github:AI-Hypercomputer/tpu-recipes"
COMMIT = "7fbfaa9225d50eb7d1f131a401447a242ba45009"
PATH = "inference/trillium/vLLM/Llama3.3/README.md"
IMAGE = "nightly-20251129-28607fc-39e63de"
# printed label -> (quantity, scale to SI)
LABELS = {
    "Request throughput (req/s)": ("request_throughput_per_s", 1.0),
    "Output token throughput (tok/s)": ("output_tokens_per_s", 1.0),
    "Total Token throughput (tok/s)": ("total_tokens_per_s", 1.0),
    "Mean TTFT (ms)": ("ttft_mean_s", 1e-3),
    "Median TTFT (ms)": ("ttft_p50_s", 1e-3),
    "P99 TTFT (ms)": ("ttft_p99_s", 1e-3),
    "Mean TPOT (ms)": ("tpot_mean_s", 1e-3),
    "Median TPOT (ms)": ("tpot_p50_s", 1e-3),
    "P99 TPOT (ms)": ("tpot_p99_s", 1e-3),
    "Mean ITL (ms)": ("itl_mean_s", 1e-3),
    "Median ITL (ms)": ("itl_p50_s", 1e-3),
    "P99 ITL (ms)": ("itl_p99_s", 1e-3),
}


def parse_blocks(text: str) -> list[dict[str, float]]:
    """Label/value pairs of every 'Serving Benchmark Result' block, in file order."""
    blocks = []
    for chunk in text.split("Serving Benchmark Result")[1:]:
        vals = {}
        for line in chunk.split("```", 1)[0].splitlines():
            m = re.match(r"(.+?):\s+([0-9.]+)\s*$", line.strip())
            if m:
                vals[m.group(1)] = float(m.group(2))
        blocks.append(vals)
    return blocks


def rows_for(text: str) -> list[dict]:
    """Serving rows of the recipe's result blocks."""
    assert f"vllm/vllm-tpu:{IMAGE}" in text and "--tensor-parallel-size $TP" in text and "--ignore-eos" in text
    assert "export TP=8" in text and "--topology 2x4" in text and "--random-range-ratio" not in text
    rows = []
    for vals in parse_blocks(text):
        n = int(vals["Successful requests"])
        assert n == 3000 and vals["Failed requests"] == 0
        conc = int(vals["Maximum request concurrency"])
        source = (f"{REPO}@{COMMIT[:12]}:{PATH} (result block 'With MAX_CONCURRENCY={conc}'; TPU v6e-8, "
                  f"vllm/vllm-tpu:{IMAGE}, vllm serve meta-llama/Llama-3.3-70B-Instruct --tensor-parallel-size 8 "
                  f"--max-num-batched-tokens 512 --max-num-seqs 256 --async-scheduling --no-enable-prefix-caching "
                  f"--max-model-len 2048; vllm bench serve --dataset-name random --ignore-eos --num-prompts 3000 "
                  f"--random-input-len 1000 --random-output-len 1000 --max-concurrency {conc}, default range ratio 0 "
                  f"= fixed lengths; lengths are the block's totals / 3000)")
        base = {
            "hardware": "tpu-v6e", "num_devices": 8, "tp": 8, "pp": 1, "ep": 1, "dp": 1, "engine": "vllm-tpu",
            "engine_version": IMAGE, "model": "llama-3.3-70b", "weight_dtype": "bf16", "kv_dtype": "bf16",
            "concurrency": conc, "request_rate": "", "input_len": f"{vals['Total input tokens'] / n:g}",
            "output_len": f"{vals['Total generated tokens'] / n:g}", "range_ratio": 1, "num_requests": n,
            "spec_decode": "", "disagg": "", "reliability": "A", "source": source, "date": "2025-12",
        }
        rows += [{**base, "quantity": q, "value": f"{vals[label] * scale:.6g}"}
                 for label, (q, scale) in LABELS.items() if label in vals]
    return rows


def main(mirror: str) -> None:
    """Print the serving rows as CSV (no header)."""
    text = subprocess.run(["git", "-C", mirror, "show", f"{COMMIT}:{PATH}"], check=True, capture_output=True,
                          text=True).stdout
    w = csv.DictWriter(sys.stdout, SERVING_COLUMNS, lineterminator="\n")
    for row in rows_for(text):
        w.writerow(row)


if __name__ == "__main__":
    main(sys.argv[1])
