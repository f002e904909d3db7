"""Capacity planning: the cheapest deployment that meets the SLOs, screened analytically over the whole
search space, verified by simulation, with launch commands and a replayable scenario.

    import perfmodel as pm
    p = pm.plan("chat-70b")          # a shipped spec (workloads/plans/), a YAML path, a dict or a PlanSpec
    p.best, p.table, p.pareto, p.export("out/")

See docs/planner.md.
"""

from perfmodel.plan.planner import plan
from perfmodel.plan.result import Plan
from perfmodel.plan.spec import PlanSpec, load_plan_spec

__all__ = ["Plan", "PlanSpec", "load_plan_spec", "plan"]
