"""The capacity-planning page renders headless, plans a small spec in a child process, shows spec errors in one
line, and Cancel stops a long plan."""

from __future__ import annotations

from pathlib import Path

import yaml
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[2] / "dashboard" / "pages" / "4_Capacity_planning.py"
SMALL = {"model": "llama-3.2-1b", "traffic": {"rate_per_s": 2, "input_tokens": {"dist": "fixed", "value": 64},
                                                "output_tokens": {"dist": "fixed", "value": 16}},
         "slo": {"ttft_s": {"p99": 0.5}}, "candidates": {"devices": ["h100-sxm-80gb"]}, "search": {"tp": [1]}}


def test_plan_page_plans_and_shows_errors(finish):
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.run()
    assert not at.exception
    at.text_area[0].set_value(yaml.safe_dump(SMALL))
    at.sidebar.number_input(key="plan_top").set_value(1)
    at.sidebar.number_input(key="plan_requests").set_value(50)
    at.button(key="plan_run").click().run()
    assert at.get("progress")  # the planner runs in a child process
    finish(at)
    assert not at.exception and not at.error
    assert any(m.label == "Deployment" for m in at.metric)
    at.run()  # a rerun (e.g. a download click) keeps the plan on the page
    assert any(m.label == "Deployment" for m in at.metric)
    bad = dict(SMALL, search={"tp": []})
    at.text_area[0].set_value(yaml.safe_dump(bad)).run()
    assert any("search.tp" in e.value for e in at.error)


def test_cancel_stops_a_long_plan():
    """The shipped chat-70b plan simulates several configurations (tens of seconds): Cancel ends it at once."""
    at = AppTest.from_file(str(PAGE), default_timeout=60).run()
    at.button(key="plan_run").click().run()
    assert at.get("progress") and at.button(key="plan_cancel").label == "Cancel planning"
    at.button(key="plan_cancel").click().run()
    assert not at.exception and not at.error and not at.get("progress")
    assert "Planning cancelled" in at.info[0].value
    assert not any(m.label == "Deployment" for m in at.metric)
