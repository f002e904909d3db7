"""Small serving CSVs written in the test's tmp folder: the `serving_csv` fixture returns the writer."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfmodel.calibrate.serving_data import SERVING_COLUMNS

BASE_ROW = {"hardware": "h100-sxm-80gb", "num_devices": "1", "tp": "1", "pp": "1", "ep": "1", "dp": "1",
            "engine": "vllm", "engine_version": "0.9.0", "model": "llama-3.1-8b", "weight_dtype": "bf16",
            "kv_dtype": "", "concurrency": "8", "request_rate": "", "input_len": "512", "output_len": "64",
            "range_ratio": "1", "num_requests": "32", "spec_decode": "", "disagg": "",
            "quantity": "output_tokens_per_s", "value": "500", "reliability": "B", "source": "test",
            "date": "2026-01-01"}


def write_serving(path: Path, *rows: dict[str, str], columns: tuple[str, ...] = SERVING_COLUMNS) -> Path:
    """A serving CSV at `path` with one line per update of BASE_ROW."""
    lines = [",".join(columns)]
    for update in rows:
        row = {**BASE_ROW, **update}
        lines.append(",".join(row.get(c, "") for c in columns))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def serving_csv():
    """`serving_csv(path, *updates, columns=...)`: write a serving CSV, one row per update of a base row."""
    return write_serving
