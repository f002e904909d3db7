"""The Test-time scaling dashboard page runs headless (AppTest): figures, frontier, widget reruns, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "pages" / "3_Test_time_scaling.py"


@pytest.fixture(scope="module")
def page() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.session_state["tts_models"] = ["qwen3-0.6b", "qwen3-8b"]
    return at.run()


def test_page_shows_cost_figures_and_frontier(page: AppTest) -> None:
    assert not page.exception and not page.error
    assert page.title[0].value == "Test-time scaling"
    assert len(page.get("plotly_chart")) == 5  # cost vs N, cost vs length, eFLOPs vs FLOPs, time split, frontier
    assert len(page.dataframe) == 1
    assert any("Size threshold" in c.value for c in page.caption)
    assert all(box.proto.has_min and box.proto.has_max for box in page.number_input)
    # best-of-N and first-finish cost the same at fixed lengths: the page says so rather than hiding a line
    assert any("first-finish** = **qwen3-8b · best-of-n**" in c.value for c in page.caption)


def test_changing_metric_and_attention_reruns(page: AppTest) -> None:
    page.selectbox(key="tts_metric").set_value("latency (s)")
    page.selectbox(key="tts_sparse").set_value("block-topk").run()
    assert not page.exception and not page.error
    assert len(page.get("plotly_chart")) == 5


def test_missing_trials_file_warns(page: AppTest) -> None:
    page.text_input(key="tts_trials").set_value("/no/such/trials.csv").run()
    assert not page.exception
    assert len(page.warning) == 1 and "file not found" in page.warning[0].value
    assert len(page.get("plotly_chart")) == 4


def test_no_strategy_shows_info(page: AppTest) -> None:
    page.multiselect(key="tts_strategies").set_value([]).run()
    assert not page.exception
    assert page.info and "at least one" in page.info[0].value
