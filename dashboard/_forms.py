"""Sidebar forms and API calls shared by the Estimate and Compare pages."""

from __future__ import annotations

import warnings
from typing import Any

import _ui

import perfmodel as pm
from perfmodel import device_files, model_files, system_files

AUTO = "auto"
DEFAULT_MODEL, DEFAULT_DEVICE = "llama-3.1-8b", "h100-sxm-80gb"
# Bounds: the largest values any shipped model or engine accepts; output_len bounds the decode loop's cost.
MAX_BATCH, MAX_INPUT_LEN, MAX_OUTPUT_LEN, MAX_PARALLEL = 4096, 1_048_576, 131_072, 512


def workload(sb: Any) -> dict:
    """Model, batch, lengths and parallelism (shared by the Estimate and Compare pages)."""
    sb.header("Workload")
    model = _ui.select(sb, "Model", list(model_files()), "model", DEFAULT_MODEL)
    model = _ui.text(sb, "…or model YAML / HF config.json path", "model_path") or model
    batch = _ui.number(sb, "Batch", "batch", 1, 1, MAX_BATCH, 1)
    input_len = _ui.number(sb, "Input tokens", "input_len", 1024, 1, MAX_INPUT_LEN, 128)
    output_len = _ui.number(sb, "Output tokens", "output_len", 256, 1, MAX_OUTPUT_LEN, 64)
    sb.header("Parallelism")
    tp = _ui.number(sb, "Tensor parallel (tp)", "tp", 1, 1, MAX_PARALLEL, 1)
    pp = _ui.number(sb, "Pipeline parallel (pp)", "pp", 1, 1, MAX_PARALLEL, 1)
    ep = _ui.number(sb, "Expert parallel (ep)", "ep", 1, 1, MAX_PARALLEL, 1)
    return {"model": model, "batch": batch, "input_len": input_len, "output_len": output_len, "tp": tp, "pp": pp,
            "ep": ep}


def hardware_ids() -> list[str]:
    return list(device_files()) + list(system_files())


def run_estimate(args: dict) -> tuple[pm.Estimate, list[str]]:
    """Call the public API, keeping its FitWarning messages to show on the page."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pm.FitWarning)
        est = pm.estimate(**args)
    return est, [str(w.message) for w in caught if issubclass(w.category, pm.FitWarning)]


