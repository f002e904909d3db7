"""Convert the Qwen3 TPU v6e-4 serving tables of sgl-project/sglang-jax into serving rows.

Reads, with ``git show`` from a local git mirror of github.com/sgl-project/sglang-jax (no work tree),
``docs/cookbook/base/benchmarks/qwen3_benchmark.md`` at commit fe09d9532aea. That page (test date 2025-09-12)
compares SGLang-JAX (main 10f32e49ab19) and vLLM (main 5931b7e5d9ac) serving Qwen3-8B and Qwen3-32B in bf16
on one TPU v6e-4 host with tensor parallelism 4, measured with ``sgl_jax.bench_serving --dataset-name random
--random-range-ratio 1 --max-concurrency C --num-prompts 3*C`` for C = 8 … 256.

Only the output-token throughput of the 1,024-output-token runs is written. The TTFT and ITL columns do not say
which statistic (mean or median) they are, so they are left out. A run is kept only when its input and output
throughputs stand in the ratio of the nominal lengths (input/output = ISL/OSL to 0.5 %), i.e. when every
request really produced OSL tokens; the vLLM Qwen3-8B runs fail this (their requests stopped early), so their
mean output length is unknown and they are skipped.
Usage: ``python validation/tools/sglang_jax_qwen3_tpu.py MIRROR_GIT_DIR > rows.csv`` (CSV rows, no header).
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys

from perfmodel.calibrate.serving_data import SERVING_COLUMNS

REPO = "github:sgl-project/sglang-jax"
COMMIT = "fe09d9532aeadb3cede2695ceaac2756b00014e2"
PATH = "docs/cookbook/base/benchmarks/qwen3_benchmark.md"
PROMPTS_PER_CONCURRENCY = 3

ENGINES = {
    "SGL_JAX": ("sglang-jax", "nightly-10f32e49ab19",
                "sgl_jax.launch_server --tp-size=4 --dtype=bfloat16 --chunked-prefill-size=2048 "
                "--max-running-requests 256 --page-size=128 --disable-radix-cache"),
    "vLLM": ("vllm", "nightly-5931b7e5d9ac",
             "vllm serve --tensor_parallel_size=4 --max-model-len=9216 --no-enable-prefix-caching"),
}


def rows_from_markdown(text: str) -> list[dict]:
    """Serving rows from the two 'Detailed Performance Data' tables."""
    out: list[dict] = []
    model = None
    for line in text.splitlines():
        m = re.match(r"## Qwen3-(8B|32B) Performance Results", line)
        if m:
            model = f"qwen3-{m.group(1).lower()}"
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if model is None or len(cells) != 10 or not re.fullmatch(r"\d+/\d+", cells[0]):
            continue
        isl, osl = (int(x) for x in cells[0].split("/"))
        conc = int(cells[1])
        for i, tag in enumerate(("SGL_JAX", "vLLM")):
            in_tps, out_tps = float(cells[6 + i]), float(cells[8 + i])
            if abs(in_tps * osl / (out_tps * isl) - 1.0) > 0.005:
                continue  # requests ended before OSL tokens: mean output length not stated
            engine, version, launch = ENGINES[tag]
            source = (f"{REPO}@{COMMIT[:12]}:{PATH} (Qwen3-{model[6:].upper()} table, ISL/OSL {isl}/{osl}, "
                      f"batch size {conc}, Output_Throughput(tok/s)_{tag}; TPU v6e-4, {launch}; "
                      f"sgl_jax.bench_serving --dataset-name random --random-range-ratio 1 --max-concurrency "
                      f"{conc} --num-prompts {PROMPTS_PER_CONCURRENCY * conc})")
            out.append({
                "hardware": "tpu-v6e", "num_devices": 4, "tp": 4, "pp": 1, "ep": 1, "dp": 1, "engine": engine,
                "engine_version": version, "model": model, "weight_dtype": "bf16", "kv_dtype": "bf16",
                "concurrency": conc, "request_rate": "", "input_len": isl, "output_len": osl, "range_ratio": 1,
                "num_requests": PROMPTS_PER_CONCURRENCY * conc, "spec_decode": "", "disagg": "",
                "quantity": "output_tokens_per_s", "value": f"{out_tps:.6g}", "reliability": "B",
                "source": source, "date": "2025-09",
            })
    return out


def main(mirror: str) -> None:
    """Print the serving rows as CSV (no header)."""
    text = subprocess.run(["git", "-C", mirror, "show", f"{COMMIT}:{PATH}"], check=True, capture_output=True,
                          text=True).stdout
    w = csv.DictWriter(sys.stdout, SERVING_COLUMNS, lineterminator="\n")
    for row in rows_from_markdown(text):
        w.writerow(row)


if __name__ == "__main__":
    main(sys.argv[1])
