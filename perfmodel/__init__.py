"""perfmodel: predict what LLM inference costs before renting the hardware.

Public API::

    import perfmodel as pm
    est = pm.estimate("llama-3.1-8b", "h100-sxm-80gb", batch=8, input_len=1024, output_len=256)
    est.ttft_s, est.tpot_s, est.breakdown

Every time figure comes from one cost core, :func:`perfmodel.cost.step_cost`.
"""

__version__ = "0.1.0"

from perfmodel.analytic import Estimate, FitWarning, estimate, kernel_time  # noqa: E402
from perfmodel.cost import (  # noqa: E402
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
from perfmodel.cost.engine import DEFAULT_ENGINE  # noqa: E402
from perfmodel.errors import DoesNotFitError, PerfModelError, SpecError, UnknownIdError  # noqa: E402
from perfmodel.specs import (  # noqa: E402
    Device,
    ModelArch,
    System,
    load_device,
    load_model,
    load_system,
    model_from_hf_dict,
    resolve_system,
)

__all__ = [
    "DEFAULT_ENGINE", "Batch", "BatchStats", "Device", "DoesNotFitError", "EngineProfile", "Estimate", "FitWarning",
    "ModelArch", "Parallelism", "PerfModelError", "Precision", "SpecError", "System", "UnknownIdError",
    "estimate", "kernel_time", "kv_bytes", "load_device", "load_engine", "load_model", "load_system", "max_batch_size",
    "model_from_hf_dict", "resolve_system", "step_cost",
]

# Test-time scaling: strategies, the cost of a task, accuracy-versus-cost frontiers.
from perfmodel.strategies import (  # noqa: E402
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
    task_cost,
)
from perfmodel.tts import FrontierResult, frontier  # noqa: E402

__all__ += [
    "BeamSearch", "BestOfN", "BlockTopK", "DenseAttention", "EmpiricalLengths", "FirstFinish", "FixedLength",
    "FrontierResult", "LognormalLengths", "LongCoT", "OutcomeRewardModel", "ProcessRewardModel", "Revision",
    "SelfConsistency", "Single", "SlidingWindow", "Speculative", "TaskCost", "TopK", "frontier", "task_cost",
]

# Serving simulation: a discrete-event cluster (continuous batching, paged KV, P/D disaggregation).
from perfmodel.sim import (  # noqa: E402
    ROUTERS,
    SCHEDULERS,
    Scenario,
    SimResult,
    load_scenario,
    scenario_files,
    simulate,
)

__all__ += ["ROUTERS", "SCHEDULERS", "Scenario", "SimResult", "load_scenario", "scenario_files", "simulate"]

# Steady-state serving in closed form (vectorized over concurrencies, rates and lengths).
from perfmodel.steady_state import SteadyState, steady_state  # noqa: E402

__all__ += ["SteadyState", "steady_state"]

# Capacity planning: screen, simulate, rank (local process pool or Ray).
from perfmodel.plan import Plan, PlanSpec, plan  # noqa: E402

__all__ += ["Plan", "PlanSpec", "plan"]
