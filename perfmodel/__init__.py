"""perfmodel: predict what LLM inference costs before renting the hardware.

Public API::

    import perfmodel as pm
    est = pm.estimate("llama-3.1-8b", "h100-sxm-80gb", batch=8, input_len=1024, output_len=256)
    est.ttft_s, est.tpot_s, est.breakdown

Every time figure comes from one cost core, :func:`perfmodel.cost.step_cost`. Names are imported
on first use (PEP 562), so `import perfmodel` and the command line start fast.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from perfmodel._lazy import lazy_attributes
from perfmodel._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("Estimate", "FitWarning", "estimate", "kernel_time"), "perfmodel.analytic"),
    **dict.fromkeys(("Batch", "BatchStats", "EngineProfile", "Parallelism", "Precision", "kv_bytes", "load_engine",
                     "max_batch_size", "step_cost"), "perfmodel.cost"),
    "DEFAULT_ENGINE": "perfmodel.cost.engine",
    "DeprecatedNameWarning": "perfmodel.deprecation",
    **dict.fromkeys(("DoesNotFitError", "PerfModelError", "SpecError", "UnknownIdError"), "perfmodel.errors"),
    **dict.fromkeys(("Device", "ModelArch", "System", "load_device", "load_model", "load_system",
                     "model_from_hf_dict", "resolve_system"), "perfmodel.specs"),
    # Test-time scaling: strategies, the cost of a task, accuracy-versus-cost frontiers.
    **dict.fromkeys(("BeamSearch", "BestOfN", "BlockTopK", "DenseAttention", "EmpiricalLengths", "FirstFinish",
                     "FixedLength", "LognormalLengths", "LongCoT", "OutcomeRewardModel", "ProcessRewardModel",
                     "Revision", "SelfConsistency", "Single", "SlidingWindow", "Speculative", "TaskCost", "TopK",
                     "task_cost"), "perfmodel.strategies"),
    **dict.fromkeys(("FrontierResult", "frontier"), "perfmodel.tts"),
    # Serving simulation: a discrete-event cluster (continuous batching, paged KV, P/D disaggregation).
    **dict.fromkeys(("ROUTERS", "SCHEDULERS", "Scenario", "SimResult", "load_scenario", "scenario_files",
                     "simulate"), "perfmodel.sim"),
    # Steady-state serving in closed form (vectorized over concurrencies, rates and lengths).
    **dict.fromkeys(("SteadyState", "steady_state"), "perfmodel.steady_state"),
    # Capacity planning: screen, simulate, rank (local process pool or Ray).
    **dict.fromkeys(("Plan", "PlanSpec", "plan"), "perfmodel.plan"),
    # Catalogs, lookups and the probe fit, for front ends (the dashboard lists and loads through these).
    **dict.fromkeys(("device_files", "model_files", "plan_files", "system_files"), "perfmodel.specs.catalog"),
    "DTYPES": "perfmodel.specs.dtypes",
    "engine_files": "perfmodel.cost.engine",
    "load_plan_spec": "perfmodel.plan.spec",
    "load_bundle": "perfmodel.probe",
    "calibrate_bundle": "perfmodel.calibrate.probe_fit",
    "attention_from_options": "perfmodel.strategies",
    "BUDGET_UNITS": "perfmodel.tts.frontier",
    **dict.fromkeys(("SWEEP_STRATEGIES", "cost_table"), "perfmodel.tts.sweep"),
    "Cancelled": "perfmodel.errors",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_attributes(__name__, _EXPORTS, globals())


class _Package(types.ModuleType):
    """Keeps `perfmodel.plan` and `perfmodel.steady_state` the functions even after their modules load.

    Importing a submodule sets it as an attribute of the package; for these two names the public
    function (resolved lazily by ``__getattr__``) wins, as it did when the root imported them eagerly.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _EXPORTS.get(name, "").startswith(f"{__name__}.{name}"):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from perfmodel.analytic import Estimate, FitWarning, estimate, kernel_time
    from perfmodel.calibrate.probe_fit import calibrate_bundle
    from perfmodel.cost import (
        Batch,
        BatchStats,
        EngineProfile,
        Parallelism,
        Precision,
        kv_bytes,
        load_engine,
        max_batch_size,
        step_cost,
    )
    from perfmodel.cost.engine import DEFAULT_ENGINE, engine_files
    from perfmodel.deprecation import DeprecatedNameWarning
    from perfmodel.errors import Cancelled, DoesNotFitError, PerfModelError, SpecError, UnknownIdError
    from perfmodel.plan import Plan, PlanSpec, plan
    from perfmodel.plan.spec import load_plan_spec
    from perfmodel.probe import load_bundle
    from perfmodel.sim import ROUTERS, SCHEDULERS, Scenario, SimResult, load_scenario, scenario_files, simulate
    from perfmodel.specs import (
        Device,
        ModelArch,
        System,
        load_device,
        load_model,
        load_system,
        model_from_hf_dict,
        resolve_system,
    )
    from perfmodel.specs.catalog import device_files, model_files, plan_files, system_files
    from perfmodel.specs.dtypes import DTYPES
    from perfmodel.steady_state import SteadyState, steady_state
    from perfmodel.strategies import (
        BeamSearch,
        BestOfN,
        BlockTopK,
        DenseAttention,
        EmpiricalLengths,
        FirstFinish,
        FixedLength,
        LognormalLengths,
        LongCoT,
        OutcomeRewardModel,
        ProcessRewardModel,
        Revision,
        SelfConsistency,
        Single,
        SlidingWindow,
        Speculative,
        TaskCost,
        TopK,
        attention_from_options,
        task_cost,
    )
    from perfmodel.tts import FrontierResult, frontier
    from perfmodel.tts.frontier import BUDGET_UNITS
    from perfmodel.tts.sweep import SWEEP_STRATEGIES, cost_table
