"""Small plan specs (1B model, short fixed lengths, few requests) so stage 2 stays fast."""

from __future__ import annotations

import copy

import pytest


def small_spec(**over) -> dict:
    spec = {
        "name": "small",
        "model": "llama-3.2-1b",
        "traffic": {"rate_per_s": 4.0, "input_len": {"dist": "fixed", "value": 128},
                    "output_len": {"dist": "fixed", "value": 32}},
        "slo": {"ttft_s": {"p99": 0.5}, "tpot_s": {"p99": 0.05}},
        "candidates": {"devices": ["h100-sxm-80gb", "l4-24gb"]},
        "search": {"tp": [1, 2], "max_num_seqs": [32, 128]},
        "verify": {"top_k": 2, "max_pareto": 1, "requests": 120, "bisect_requests": 60, "bisect_steps": 2,
                   "bootstrap": 20},
    }
    out = copy.deepcopy(spec)
    for path, value in over.items():
        node = out
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return out


@pytest.fixture
def spec_factory():
    return small_spec
