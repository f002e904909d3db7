"""The candidate configurations of a plan: one row per point of the search space (before replicas)."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from typing import Any

import pandas as pd

from perfmodel.plan.spec import PlanSpec
from perfmodel.specs.catalog import load_device

_DISAGG = re.compile(r"^(\d+)p(\d+)d$")
CONFIG_COLUMNS = ("device", "tp", "pp", "ep", "mode", "prefill_workers", "decode_workers", "weight_dtype",
                  "kv_dtype", "engine", "max_num_seqs", "max_num_batched_tokens", "prefix_caching", "speculative")


def parse_disagg(text: str) -> tuple[int, int]:
    """'aggregated' -> (0, 0); 'xPyD' -> (x, y). Raises ValueError naming the expected form."""
    t = text.strip().lower()
    if t == "aggregated":
        return 0, 0
    m = _DISAGG.match(t)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise ValueError(f"'{text}' is neither 'aggregated' nor 'xPyD' with x, y >= 1 (e.g. '2p1d')")
    return int(m.group(1)), int(m.group(2))


def price_per_hour(spec: PlanSpec, device_id: str) -> tuple[float, str]:
    """USD per device-hour and where it comes from (spec override, else the catalog's assumption)."""
    dev = load_device(device_id)
    for key in (device_id, dev.id):
        if key in spec.candidates.prices:
            return float(spec.candidates.prices[key]), "spec"
    return float(dev.price_per_hour_usd or 0.0), "catalog assumption"


def enumerate_candidates(spec: PlanSpec) -> pd.DataFrame:
    """Every configuration of the search space (one row each); `gpus_per_unit` is the GPUs of one replica
    (aggregated) or one xPyD unit (disaggregated)."""
    s = spec.search
    devices = [load_device(d).id for d in spec.candidates.devices]
    modes = {mode: parse_disagg(mode) for mode in s.disaggregation}
    rows = []
    for dev, tp, pp, ep, mode, w, kv, eng, seqs, budget, prefix, spec_on in itertools.product(
            dict.fromkeys(devices), s.tp, s.pp, s.ep, s.disaggregation, s.weight_dtype, s.kv_dtype, s.engine,
            s.max_num_seqs, s.max_num_batched_tokens, s.prefix_caching, s.speculative):
        if ep > tp:
            continue
        x, y = modes[mode]
        workers = (x + y) if x else 1
        rows.append({"device": dev, "tp": tp, "pp": pp, "ep": ep, "mode": "aggregated" if not x else f"{x}p{y}d",
                     "prefill_workers": x, "decode_workers": y, "weight_dtype": w, "kv_dtype": kv, "engine": eng,
                     "max_num_seqs": seqs, "max_num_batched_tokens": budget, "prefix_caching": bool(prefix),
                     "speculative": bool(spec_on), "gpus_per_unit": workers * tp * pp})
    df = pd.DataFrame(rows, columns=[*CONFIG_COLUMNS, "gpus_per_unit"])
    prices = {d: price_per_hour(spec, d) for d in dict.fromkeys(devices)}
    df["price_per_gpu_hour_usd"] = [prices[d][0] for d in df["device"]]
    df["price_source"] = [prices[d][1] for d in df["device"]]
    df["config_id"] = [config_hash(r) for r in rows]
    return df


def config_hash(config: dict[str, Any]) -> str:
    """Short stable hash of a configuration (the simulation cache key adds workload and rate)."""
    text = json.dumps({k: config[k] for k in CONFIG_COLUMNS}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
