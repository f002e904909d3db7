"""Bad plan specs give one-line errors naming the field."""

from __future__ import annotations

import pytest

import perfmodel as pm
from perfmodel.errors import SpecError


@pytest.mark.parametrize("over, field", [
    ({"model": "llama-9-999b"}, "model"),
    ({"candidates.devices": ["h900-imaginary"]}, "candidates.devices"),
    ({"candidates.devices": []}, "candidates.devices"),
    ({"search.tp": []}, "search.tp"),
    ({"search.disaggregation": ["3x1"]}, "search.disaggregation"),
    ({"candidates.gpu_budget": -4}, "candidates.gpu_budget"),
    ({"traffic.rate_per_s": -1.0}, "traffic.rate_per_s"),
    ({"slo": {}}, "slo"),
    ({"candidates.devices": ["apple-m4-pro"]}, "candidates.prices"),
    ({"search.speculative": [True, False]}, "speculative"),
])
def test_bad_spec_names_the_field(spec_factory, over, field):
    with pytest.raises(SpecError) as info:
        pm.plan(spec_factory(**over), verify=False)
    message = str(info.value)
    assert "\n" not in message
    assert f"'{field}'" in message or field in message


def test_unknown_shipped_plan_lists_the_shipped_ones():
    with pytest.raises(SpecError, match="chat-70b"):
        pm.plan("no-such-plan")


def test_shipped_plans_load():
    from perfmodel.plan.spec import load_plan_spec

    for name in ("chat-70b", "reasoning-best-of-8", "rag-long-context", "on-device-assistant", "budget-study"):
        assert load_plan_spec(name).name == name
