"""From a scenario to a runnable setup: pools of replica configs, KV capacities, links, workload.

Everything here is resolved once and immutable during the run. A configuration in which not even
the smallest request of the workload fits in a replica's KV cache is refused here, before anything
is simulated, with the reason (:class:`~perfmodel.errors.DoesNotFitError`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from perfmodel.cost.config import Parallelism, Precision
from perfmodel.cost.engine import EngineProfile, load_engine, request_overhead_s
from perfmodel.cost.memory import kv_bytes
from perfmodel.errors import DoesNotFitError
from perfmodel.sim.kv import blocks_for, kv_capacity_blocks
from perfmodel.sim.pricing import CostTarget
from perfmodel.sim.replica import ReplicaConfig
from perfmodel.sim.scenario import PoolSpec, Scenario
from perfmodel.sim.workload import RequestTable, acceptance_draws, generate
from perfmodel.specs.catalog import load_model, resolve_system
from perfmodel.specs.device import LinkSpec
from perfmodel.specs.dtypes import matmul_compute_family
from perfmodel.specs.model import ModelArch
from perfmodel.units import GB

# Fraction of the KV link's bandwidth a handoff achieves. Full bandwidth, as the simulator has always
# priced it; the engines' `link_efficiency` (fitted to collectives) is not applied to these copies.
KV_HANDOFF_LINK_EFFICIENCY = 1.0


@dataclass
class SimSetup:
    """A resolved scenario (read-only during the run; the acceptance-draw cache is filled lazily)."""

    scenario: Scenario
    workload: RequestTable
    lists: SimpleNamespace
    replicas: list[ReplicaConfig]
    pools: dict[str, list[int]]
    entry_pool: str
    routers: dict[str, str]
    targets: dict[int, CostTarget]
    links: list[LinkSpec]  # one per prefill replica, or one shared by all
    shared_link: bool
    kv_link_efficiency: float  # fraction of the link's bandwidth a KV handoff achieves
    kv_model: ModelArch
    kv_precision: Precision
    kv_parallelism: Parallelism
    fits: list[bool]
    pool_info: dict[str, dict[str, Any]]
    _draws: dict[int, list[int]] = field(default_factory=dict)

    @property
    def entry_engine(self) -> EngineProfile:
        """The engine of the pool requests arrive at (it pays the per-request overhead)."""
        return self.replicas[self.pools[self.entry_pool][0]].engine

    @property
    def request_overhead_s(self) -> float:
        return request_overhead_s(self.entry_engine)

    @property
    def num_requests(self) -> int:
        return self.workload.num_requests

    @property
    def closed_loop(self) -> bool:
        return self.workload.closed_loop

    @property
    def concurrency(self) -> int:
        return self.workload.concurrency or 0

    @property
    def think_time_s(self) -> float:
        return self.workload.think_time_s

    def accepted(self, seq: int, generated: int) -> int:
        """Draft tokens accepted in a speculative step of `seq` taken after `generated` tokens."""
        draws = self._draws.get(seq)
        if draws is None:
            spec = self.scenario.speculative
            draws = acceptance_draws(self.scenario.seed, seq, int(self.workload.seq_output_len[seq]),
                                     spec.num_tokens, spec.acceptance_rate).tolist()
            self._draws[seq] = draws
        return draws[generated] if generated < len(draws) else 0


def request_blocks(lists: SimpleNamespace, req: int, block_size: int, prefill_only: bool) -> int:
    """KV blocks a request needs at its largest, sharing nothing with other requests."""
    prompt = lists.input_len[req]
    if prefill_only:
        return blocks_for(prompt, block_size)
    start, n = lists.seq_start[req], lists.samples[req]
    outs = lists.seq_output_len[start:start + n]
    if n == 1:
        return blocks_for(prompt + outs[0] - 1, block_size)
    tail = prompt % block_size
    return prompt // block_size + sum(blocks_for(tail + o - 1, block_size) for o in outs)


def _lists(wl: RequestTable) -> SimpleNamespace:
    return SimpleNamespace(
        arrival_s=wl.arrival_s.tolist(), input_len=wl.input_len.tolist(), class_id=wl.class_id.tolist(),
        samples=wl.samples.tolist(), first_finish=wl.first_finish.tolist(), prefix_tokens=wl.prefix_tokens.tolist(),
        seq_start=wl.seq_start.tolist(), seq_output_len=wl.seq_output_len.tolist())


def build_setup(sc: Scenario) -> SimSetup:
    """Resolve every id, size every KV cache, draw the workload, and check that requests fit."""
    model = load_model(sc.model)
    prec = Precision.of(sc.weight_dtype, sc.act_dtype, sc.kv_dtype)
    draft = load_model(sc.speculative.draft_model) if sc.speculative else None
    dis = sc.disaggregation
    pool_specs = {"prefill": dis.prefill, "decode": dis.decode} if dis else {"unified": PoolSpec(replicas=sc.replicas)}
    wl = generate(sc.workload, sc.seed)
    lists = _lists(wl)

    replicas: list[ReplicaConfig] = []
    pools: dict[str, list[int]] = {}
    targets: dict[int, CostTarget] = {}
    info: dict[str, dict[str, Any]] = {}
    systems = {}
    fits = [True] * wl.num_requests
    for name, ps in pool_specs.items():
        par = Parallelism(tp=ps.tp or sc.tp, pp=ps.pp or sc.pp, ep=ps.ep or sc.ep).check_for(model)
        system = resolve_system(ps.hardware or sc.hardware, par.num_devices)
        engine = load_engine(ps.engine or sc.engine)
        sched = ps.scheduler or sc.scheduler
        spec_k = sc.speculative.num_tokens if (draft is not None and name != "prefill") else 0
        cfg_id = len(targets)
        targets[cfg_id] = CostTarget(model, system, prec, par, engine)
        draft_id = None
        if spec_k:
            draft_id = len(targets)
            targets[draft_id] = CostTarget(draft, system, prec, par, engine)
        if sched.kv_blocks is not None:
            blocks = sched.kv_blocks
            block_bytes = float(kv_bytes(model, prec, sched.block_size, par))
            if spec_k:
                block_bytes += float(kv_bytes(draft, prec, sched.block_size, par))
        else:
            blocks, block_bytes = kv_capacity_blocks(model, system, prec, par, engine, block_size=sched.block_size,
                                                     step_tokens=sched.max_num_batched_tokens,
                                                     max_seqs=sched.max_num_seqs,
                                                     draft=(draft, par) if spec_k else None)
        prefill_only = name == "prefill"
        needs = [request_blocks(lists, r, sched.block_size, prefill_only) for r in range(wl.num_requests)]
        if needs and min(needs) > blocks:
            small = min(range(len(needs)), key=needs.__getitem__)
            start = lists.seq_start[small]
            outs = lists.seq_output_len[start:start + lists.samples[small]]
            raise DoesNotFitError(
                f"a single request does not fit: {lists.input_len[small]} prompt + {sum(outs)} output tokens "
                f"need {needs[small]} KV blocks of {sched.block_size} tokens but a {name} replica ({model.id} on "
                f"{system.id}, tp={par.tp}, pp={par.pp}) holds {blocks}"
                + f" ({blocks * block_bytes / GB:.2f} GB per device)"
                + "; use shorter requests, quantize the KV cache, raise tp/pp, or pick larger hardware")
        for r, need in enumerate(needs):
            if need > blocks:
                fits[r] = False
        window = model.sliding_window.size if model.sliding_window else None
        dwindow = draft.sliding_window.size if (spec_k and draft.sliding_window) else None
        peak = system.device.peak_flops_per_s(matmul_compute_family(prec.weight, prec.act))
        pools[name] = []
        for _ in range(ps.replicas):
            index = len(replicas)
            pools[name].append(index)
            replicas.append(ReplicaConfig(
                index=index, pool=name, cfg_id=cfg_id, draft_cfg_id=draft_id, scheduler=sched, kv_blocks=blocks,
                engine=engine, spec_k=spec_k, window=window, draft_window=dwindow, peak_flops_per_s=peak,
                mem_bw_bytes_per_s=system.device.mem_bw_bytes_per_s, system_id=system.id))
        systems[name] = (system, par)
        info[name] = {"replicas": ps.replicas, "hardware": system.id, "device": system.device.id, "tp": par.tp,
                      "pp": par.pp, "ep": par.ep, "engine": engine.name, "scheduler": sched.model_dump(),
                      "kv_blocks": blocks, "kv_block_bytes_per_device": block_bytes,
                      "speculative_tokens": spec_k}

    entry = "prefill" if dis else "unified"
    routers = {entry: sc.router}
    links: list[LinkSpec] = []
    shared = False
    kv_par = systems[entry][1]
    if dis:
        routers["decode"] = dis.decode_router or sc.router
        p_system = systems["prefill"][0]
        base = p_system.link_for(systems["prefill"][1].num_devices, between_replicas=True)
        link = LinkSpec(name=None if dis.link.bandwidth_gb_s else base.name,
                        bandwidth_gb_s=dis.link.bandwidth_gb_s or base.bandwidth_gb_s,
                        latency_us=base.latency_us if dis.link.latency_us is None else dis.link.latency_us)
        shared = dis.link.shared
        links = [link] * (1 if shared else len(pools["prefill"]))
        info["kv_link"] = {"bandwidth_bytes_per_s": link.bw_bytes_per_s, "latency_s": link.latency_s,
                           "shared": shared, "name": link.name}
    return SimSetup(scenario=sc, workload=wl, lists=lists, replicas=replicas, pools=pools, entry_pool=entry,
                    routers=routers, targets=targets, links=links, shared_link=shared,
                    kv_link_efficiency=KV_HANDOFF_LINK_EFFICIENCY, kv_model=model, kv_precision=prec,
                    kv_parallelism=kv_par, fits=fits, pool_info=info)
