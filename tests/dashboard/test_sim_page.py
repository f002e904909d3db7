"""The Serving simulation page runs headless (AppTest): metrics, CDFs, time series, table, reruns, errors, and
the background job: progress bar, Cancel, the previous result kept."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "pages" / "2_Serving_simulation.py"


@pytest.fixture
def page(finish) -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.session_state["sim_requests"] = 60
    return finish(at.run())


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_shows_metrics_cdfs_time_series_and_table(page: AppTest) -> None:
    assert not page.exception and not page.error
    assert page.title[0].value == "Serving simulation"
    assert list(_metrics(page)) == ["TTFT p50 / p99", "TPOT p50 / p99", "Throughput", "Goodput", "Preemptions",
                                    "KV peak"]
    assert len(page.get("plotly_chart")) == 4  # TTFT CDF, TPOT CDF, batch size, KV usage
    assert len(page.dataframe) == 1
    assert "60/60 completed" in page.caption[0].value


def test_form_overrides_rerun_the_simulation(page: AppTest, finish) -> None:
    before = page.caption[0].value
    page.number_input(key="sim_rate").set_value(200.0)
    page.selectbox(key="sim_scheduler").set_value("prefill-first")
    page.selectbox(key="sim_router").set_value("round-robin")
    finish(page.number_input(key="sim_replicas").set_value(2).run())
    assert not page.exception and not page.error
    assert page.caption[0].value != before
    assert len(page.dataframe) == 1


def test_other_shipped_scenario(page: AppTest, finish) -> None:
    page.selectbox(key="sim_scenario").set_value("disagg-2p1d")
    finish(page.number_input(key="sim_requests").set_value(20).run())
    assert not page.exception and not page.error
    assert len(page.get("plotly_chart")) == 4


def test_bad_scenario_file_shows_one_line_error(page: AppTest, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    data = yaml.safe_load((PAGE.parents[2] / "workloads" / "scenarios" / "chat.yaml").read_text())
    data["router"] = "random-ish"
    path.write_text(yaml.safe_dump(data))
    page.text_input(key="sim_path").set_value(str(path)).run()
    assert not page.exception
    assert len(page.error) == 1 and "field 'router'" in page.error[0].value


def test_missing_file_shows_error(page: AppTest) -> None:
    page.text_input(key="sim_path").set_value("/no/such/scenario.yaml").run()
    assert not page.exception
    assert page.error and "file not found" in page.error[0].value


def test_a_long_run_shows_progress_and_cancel_keeps_the_previous_result(page: AppTest, finish) -> None:
    """Rate 1 req/s over 5,000 requests takes seconds of wall time: the page shows a bar and a Cancel button;
    Cancel stops it, says so, and the 60-request run stays on the page (and Run again restarts it)."""
    before = page.caption[0].value
    page.number_input(key="sim_rate").set_value(1.0)
    page.number_input(key="sim_requests").set_value(5000).run()
    assert not page.exception and not page.error
    assert page.get("progress") and page.button(key="sim_cancel").label == "Cancel simulation"
    page.button(key="sim_cancel").click().run()
    assert not page.exception and not page.error and not page.get("progress")
    assert "Simulation cancelled" in page.info[0].value
    assert any(c.value == before for c in page.caption)  # the previous run is still shown
    assert len(page.get("plotly_chart")) == 4
    page.button(key="sim_again").click().run()
    assert page.get("progress")  # running again; cancel it so that the thread does not outlive the test
    page.button(key="sim_cancel").click().run()
    assert "Simulation cancelled" in page.info[0].value
