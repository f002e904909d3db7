"""The Streamlit dashboard runs headless (AppTest): metrics render, widgets rerun, errors are shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard" / "pages" / "1_Estimate.py"
DEVICE_YAML = """\
kind: gpu
memory: {capacity_gb: 80, bandwidth_gb_s: 3350}
compute_tflops: {fp32: 67, bf16: 989, fp16: 989, fp8: 1979}
"""
METRICS = ["TTFT", "TPOT", "E2E latency", "Output tokens/s", "Decode tokens/s"]


@pytest.fixture
def device_path(tmp_path: Path) -> str:
    path = tmp_path / "test-gpu.yaml"
    path.write_text(DEVICE_YAML)
    return str(path)


@pytest.fixture
def app(device_path: str) -> AppTest:
    """The app on a small model and a tmp device (the device catalog may be empty)."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.session_state["model"] = "qwen3-0.6b"
    at.session_state["hardware_path"] = device_path
    return at.run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_app_shows_metrics_figures_and_table(app: AppTest) -> None:
    assert not app.exception
    assert not app.error
    assert list(_metrics(app)) == METRICS
    assert all(value and value != "–" for value in _metrics(app).values())
    assert len(app.get("plotly_chart")) == 3
    assert len(app.dataframe) == 1
    assert "bottleneck" in app.caption[0].value


def test_changing_batch_reruns_with_new_numbers(app: AppTest) -> None:
    before = _metrics(app)
    app.number_input(key="batch").set_value(32).run()
    assert not app.exception and not app.error
    assert _metrics(app)["Output tokens/s"] != before["Output tokens/s"]


def test_config_that_does_not_fit_shows_a_warning(app: AppTest) -> None:
    app.selectbox(key="model").set_value("llama-3.1-8b")
    app.number_input(key="batch").set_value(64)
    app.number_input(key="input_len").set_value(32768).run()
    assert not app.exception
    assert len(app.warning) == 1
    assert "GB per device" in app.warning[0].value and "lower the batch" in app.warning[0].value
    assert "does not fit" in app.caption[0].value


def test_bad_hardware_path_shows_error_not_exception(app: AppTest) -> None:
    app.text_input(key="hardware_path").set_value("/no/such/device.yaml").run()
    assert not app.exception
    assert len(app.error) == 1
    assert "file not found" in app.error[0].value


def test_bad_parallelism_shows_error(app: AppTest) -> None:
    app.number_input(key="tp").set_value(2)
    app.number_input(key="ep").set_value(4).run()
    assert not app.exception
    assert app.error and "ep" in app.error[0].value


def test_default_run_without_custom_hardware_does_not_crash() -> None:
    """With an empty device catalog the page asks for a YAML path; with devices it shows metrics."""
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception and not at.error
    assert at.info or list(_metrics(at)) == METRICS


def test_uncertainty_caption_shown() -> None:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    assert not at.exception
    assert any("uncertainty" in c.value for c in at.caption)
