"""Scenario builders for the simulator tests (catalog ids for model and hardware; a few hundred steps each).

They are fixtures (`make`, `fixed`) returning plain functions, so tests need no imports from this file."""

from __future__ import annotations

import copy
from typing import Any

import pytest

BASE: dict[str, Any] = {
    "model": "llama-3.1-8b",
    "hardware": "h100-sxm-80gb",
    "engine": "vllm",
    "scheduler": {"name": "continuous", "max_num_seqs": 64, "max_num_batched_tokens": 2048},
    "workload": {
        "requests": 40,
        "arrival": {"process": "poisson", "rate_per_s": 20},
        "input_len": {"dist": "lognormal", "mean": 300, "cv": 0.8, "max": 2000},
        "output_len": {"dist": "lognormal", "mean": 40, "cv": 0.8, "max": 300},
    },
}


def build(**overrides: Any) -> dict[str, Any]:
    """BASE with nested overrides: `scheduler__kv_blocks=300` sets scenario['scheduler']['kv_blocks']."""
    data = copy.deepcopy(BASE)
    for key, value in overrides.items():
        node = data
        *parents, leaf = key.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return data


def build_fixed(input_len: int, output_len: int, requests: int = 1, **overrides: Any) -> dict[str, Any]:
    """All requests of the same lengths arriving at once."""
    return build(workload__requests=requests, workload__arrival={"process": "all-at-once"},
                workload__input_len={"dist": "fixed", "value": input_len},
                workload__output_len={"dist": "fixed", "value": output_len}, **overrides)


@pytest.fixture(scope="session")
def make():
    """`make(**overrides)`: the base scenario dict with nested overrides (`scheduler__kv_blocks=300`)."""
    return build


@pytest.fixture(scope="session")
def fixed():
    """`fixed(input_len, output_len, requests=1, **overrides)`: identical requests arriving at once."""
    return build_fixed
