"""Serving rows transcribed from result tables posted in two public GitHub issue threads.

The tables are copied digit for digit below (the threads are not git repositories, so there is nothing to
``git show``); the script only converts units (ms -> s) and attaches the deployment columns and citation.

1. github.com/SemiAnalysisAI/InferenceX/issues/870 ("deepseek sglang h200 experimental"), two result comments
   of 2026-03-05: DeepSeek-R1-0528 (FP8 checkpoint) on 8x H200, SGLang v0.5.7, TP8, EP1, run by the InferenceX
   benchmark workflow. The launch is ``benchmarks/single_node/dsr1_fp8_h200.sh`` and the image
   ``lmsysorg/sglang:v0.5.7-cu129-amd64`` (``.github/configs/nvidia-master.yaml``, key ``dsr1-fp8-h200-sglang``)
   at InferenceX commit 05fc9518e930 (main on 2026-03-05): ``sglang.launch_server --tensor-parallel-size=8
   --data-parallel-size=1`` (no DP attention, no ``--kv-cache-dtype``: BF16 KV), client
   ``utils/bench_serving/benchmark_serving.py --dataset-name random --random-range-ratio 0.8`` (workflow default;
   lengths uniform in [0.8 len, len]) ``--num-prompts CONC*10 --max-concurrency CONC --ignore-eos``. Kept: mean
   and p99 of TTFT, TPOT and E2E as tabulated. Left out: the per-GPU throughputs (the table gives only
   per-GPU values; scaling them is not a reading) and the ITL rows (``--stream-interval 10``: one streamed chunk
   per ten tokens, so the client's ITL is a chunk gap, ten times the TPOT).
2. github.com/NVIDIA/TensorRT-LLM/issues/5929 ("DS-R1 FP4 on B200 vs DS-R1 FP8 on H200 --- slow-down in TTFT",
   2025-07-10): TensorRT-LLM built from source at v0.21.0rc2, ``trtllm-serve`` measured with LLMPerf at 1 and 8
   concurrent requests, 1,600 or 8,192 input and 600 output tokens, TP8 with expert parallel off, 4 or 8.
   Kept: the DeepSeek-R1 FP8 rows on 8x H200 (checkpoint default BF16 KV), median TTFT and median inter-token
   latency in seconds. LLMPerf's inter-token latency is per request (the sum of the gaps between streamed
   tokens divided by the output tokens), i.e. TPOT's definition, so its median is written as ``tpot_p50_s``.
   The input/output numbers are LLMPerf's requested means; the spread is not stated (``range_ratio`` empty) and
   neither is the request count. Left out: the B200 FP4 rows (neither the FP4 checkpoint nor the KV-cache dtype
   is stated), the "Speed-up" rows (ratios) and the rest of the table after the first FP8 row at 8 requests
   (not in the stored copy of the thread).

Usage: ``python validation/tools/issue_thread_tables.py > rows.csv`` (CSV rows, no header).
"""

from __future__ import annotations

import csv
import sys

from perfmodel.calibrate.serving_data import SERVING_COLUMNS

# --- 1. InferenceX issue 870: (ISL, OSL, concurrency) -> metric -> value as printed (ms, E2E in s) ---
IX_URL = "https://github.com/SemiAnalysisAI/InferenceX/issues/870"
IX_METRICS = {  # printed row label -> (quantity, scale to SI)
    "Mean TTFT (ms)": ("ttft_mean_s", 1e-3), "P99 TTFT (ms)": ("ttft_p99_s", 1e-3),
    "Mean TPOT (ms)": ("tpot_mean_s", 1e-3), "P99 TPOT (ms)": ("tpot_p99_s", 1e-3),
    "Mean E2E (s)": ("e2e_mean_s", 1.0), "P99 E2E (s)": ("e2e_p99_s", 1.0),
}
IX_COLUMNS = list(IX_METRICS)
IX_TABLE = {
    # comment "DeepSeek R1 FP8 H200 SGLang Benchmark Results" (Concurrency=4; 1k/1k, 1k/8k, 8k/1k)
    (1024, 1024, 4): (267.3, 835.0, 22.73, 28.70, 21.06, 28.28),
    (1024, 8192, 4): (204.1, 940.4, 10.93, 11.10, 79.55, 89.25),
    (8192, 1024, 4): (474.3, 1832.2, 12.05, 12.53, 11.55, 13.97),
    # comment "Concurrency Sweep: DeepSeek R1 FP8 H200 SGLang (1k/1k)"
    (1024, 1024, 8): (330.6, 1975.4, 12.8, 14.3, 12.22, 14.65),
    (1024, 1024, 16): (356.0, 2149.4, 17.2, 18.5, 16.07, 20.48),
    (1024, 1024, 32): (426.5, 2644.1, 25.6, 27.1, 24.02, 28.97),
    (1024, 1024, 64): (423.1, 2741.1, 34.6, 37.0, 32.33, 37.90),
}

# --- 2. TensorRT-LLM issue 5929: (concurrency, ISL, OSL) -> ITL p50 and TTFT p50 (s) for EP None / 4 / 8 ---
TRT_URL = "https://github.com/NVIDIA/TensorRT-LLM/issues/5929"
TRT_EP = (1, 4, 8)  # "EP=None" is no expert parallelism: every rank holds a TP slice of every expert
TRT_TABLE = {
    (1, 1600, 600): ((0.01378, 0.01081, 0.011), (0.16463, 0.13436, 0.12411)),
    (1, 8192, 600): ((0.01453, 0.01159, 0.01178), (0.51583, 0.37007, 0.35281)),
    (8, 1600, 600): ((0.01818, 0.01566, 0.01642), (0.69481, 0.49538, 0.47733)),
}


def inferencex_rows() -> list[dict]:
    """Rows of the SGLang DeepSeek-R1 runs in InferenceX issue 870."""
    out = []
    for (isl, osl, conc), values in IX_TABLE.items():
        source = (f"{IX_URL} (result comments 2026-03-05: DeepSeek-R1-0528 FP8, SGLang v0.5.7, TP8 EP1, H200, "
                  f"ISL {isl} OSL {osl}, concurrency {conc}); launch per github:SemiAnalysisAI/InferenceX@05fc9518e930:"
                  "benchmarks/single_node/dsr1_fp8_h200.sh (--tensor-parallel-size=8 --data-parallel-size=1, "
                  "default KV dtype) with image lmsysorg/sglang:v0.5.7-cu129-amd64 "
                  "(.github/configs/nvidia-master.yaml); client random dataset, --random-range-ratio 0.8, "
                  "--num-prompts CONC*10, --ignore-eos")
        base = {
            "hardware": "h200-sxm-141gb", "num_devices": 8, "tp": 8, "pp": 1, "ep": 1, "dp": 1,
            "engine": "sglang", "engine_version": "0.5.7", "model": "deepseek-r1", "weight_dtype": "fp8",
            "kv_dtype": "bf16", "concurrency": conc, "request_rate": "", "input_len": isl, "output_len": osl,
            "range_ratio": 0.8, "num_requests": conc * 10, "spec_decode": "", "disagg": "",
            "reliability": "B-", "source": source, "date": "2026-03",
        }
        for label, value in zip(IX_COLUMNS, values, strict=True):
            quantity, scale = IX_METRICS[label]
            out.append({**base, "quantity": quantity, "value": f"{value * scale:.6g}"})
    return out


def trtllm_rows() -> list[dict]:
    """Rows of the TensorRT-LLM DeepSeek-R1 FP8 H200 runs in TensorRT-LLM issue 5929."""
    out = []
    for (conc, isl, osl), (itl, ttft) in TRT_TABLE.items():
        for i, ep in enumerate(TRT_EP):
            ep_label = "None" if ep == 1 else str(ep)
            source = (f"{TRT_URL} (issue description 2025-07-10: DeepSeek-R1 FP8 on 8x H200, TensorRT-LLM built "
                      f"from source at v0.21.0rc2, trtllm-serve TP=8 EP={ep_label}, LLMPerf, batch size {conc}, "
                      f"input {isl}, output {osl}; ITL p50 written as tpot_p50_s: LLMPerf's per-request "
                      "inter-token latency)")
            base = {
                "hardware": "h200-sxm-141gb", "num_devices": 8, "tp": 8, "pp": 1, "ep": ep, "dp": 1,
                "engine": "trtllm", "engine_version": "0.21.0rc2", "model": "deepseek-r1", "weight_dtype": "fp8",
                "kv_dtype": "bf16", "concurrency": conc, "request_rate": "", "input_len": isl, "output_len": osl,
                "range_ratio": "", "num_requests": "", "spec_decode": "", "disagg": "",
                "reliability": "B-", "source": source, "date": "2025-07",
            }
            out.append({**base, "quantity": "ttft_p50_s", "value": f"{ttft[i]:.6g}"})
            out.append({**base, "quantity": "tpot_p50_s", "value": f"{itl[i]:.6g}"})
    return out


def main() -> None:
    """Print the serving rows as CSV (no header)."""
    w = csv.DictWriter(sys.stdout, SERVING_COLUMNS, lineterminator="\n")
    for row in inferencex_rows() + trtllm_rows():
        w.writerow(row)


if __name__ == "__main__":
    main()
