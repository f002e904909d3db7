"""Convert single serving runs printed in sgl-project/sglang-jax cookbook recipes into serving rows.

Reads, with ``git show`` from a local git mirror of github.com/sgl-project/sglang-jax (no work tree), at commit
cddbf6f1cc33, the "Serving Benchmark Result" block of two recipes measured on one TPU v6e-4 host (TP4, bf16,
sglang-jax 0.1.0, ``sgl_jax.bench_serving --dataset-name random --num-prompts 100 --max-concurrency 16``):

* ``docs/cookbook/autoregressive/Llama/Llama3.1.md`` (Llama-3.1-8B-Instruct, nominal 512/512);
* ``docs/cookbook/autoregressive/Google/Gemma2.md`` (gemma-2-27b-it, nominal 1024/1024).

Neither command sets ``--random-range-ratio``, whose default in that bench_serving is 0.0 (each length drawn
uniformly between 1 and the nominal length), so ``range_ratio`` is left empty and ``input_len`` /
``output_len`` are the block's total input / generated tokens divided by the 100 requests. Only the numbers
printed in the block are written (milliseconds converted to seconds).
Usage: ``python validation/tools/sglang_jax_cookbook.py MIRROR_GIT_DIR > rows.csv`` (CSV rows, no header).
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys

from perfmodel.calibrate.serving_data import SERVING_COLUMNS

REPO = "github:sgl-project/sglang-jax"
COMMIT = "cddbf6f1cc33cbdd453bd8f36ff7051cf46ca176"
RECIPES = {
    "docs/cookbook/autoregressive/Llama/Llama3.1.md": ("llama-3.1-8b", "512/512", "2026-06"),
    "docs/cookbook/autoregressive/Google/Gemma2.md": ("gemma-2-27b", "1024/1024", "2026-07"),
}
# printed label -> (quantity, scale to SI)
LABELS = {
    "Request throughput (req/s)": ("request_throughput_per_s", 1.0),
    "Output token throughput (tok/s)": ("output_tokens_per_s", 1.0),
    "Total token throughput (tok/s)": ("total_tokens_per_s", 1.0),
    "Mean E2E Latency (ms)": ("e2e_mean_s", 1e-3),
    "Mean TTFT (ms)": ("ttft_mean_s", 1e-3),
    "Mean TPOT (ms)": ("tpot_mean_s", 1e-3),
    "Median TPOT (ms)": ("tpot_p50_s", 1e-3),
    "Mean ITL (ms)": ("itl_mean_s", 1e-3),
}


def parse_block(text: str) -> dict[str, float]:
    """The label/value pairs of the first 'Serving Benchmark Result' block."""
    block = text.split("Serving Benchmark Result", 1)[1].split("```", 1)[0]
    out = {}
    for line in block.splitlines():
        m = re.match(r"(.+?):\s+([0-9.]+)\s*$", line.strip())
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def rows_for(path: str, text: str) -> list[dict]:
    """Serving rows of one recipe."""
    model, nominal, date = RECIPES[path]
    vals = parse_block(text)
    n = int(vals["Successful requests"])
    assert n == 100 and "--max-concurrency 16" in text, path
    source = (f"{REPO}@{COMMIT[:12]}:{path} (section 4.2 Speed: TPU v6e-4, TP4, bf16, sglang-jax 0.1.0; "
              f"sgl_jax.bench_serving --dataset-name random, nominal {nominal}, default range ratio 0, "
              f"100 prompts, --max-concurrency 16; lengths are the block's totals / 100)")
    base = {
        "hardware": "tpu-v6e", "num_devices": 4, "tp": 4, "pp": 1, "ep": 1, "dp": 1, "engine": "sglang-jax",
        "engine_version": "0.1.0", "model": model, "weight_dtype": "bf16", "kv_dtype": "bf16",
        "concurrency": 16, "request_rate": "", "input_len": f"{vals['Total input tokens'] / n:g}",
        "output_len": f"{vals['Total generated tokens'] / n:g}", "range_ratio": "", "num_requests": n,
        "spec_decode": "", "disagg": "", "reliability": "B", "source": source, "date": date,
    }
    return [{**base, "quantity": q, "value": f"{vals[label] * scale:.6g}"}
            for label, (q, scale) in LABELS.items() if label in vals]


def main(mirror: str) -> None:
    """Print the serving rows as CSV (no header)."""
    w = csv.DictWriter(sys.stdout, SERVING_COLUMNS, lineterminator="\n")
    for path in RECIPES:
        text = subprocess.run(["git", "-C", mirror, "show", f"{COMMIT}:{path}"], check=True, capture_output=True,
                              text=True).stdout
        for row in rows_for(path, text):
            w.writerow(row)


if __name__ == "__main__":
    main(sys.argv[1])
