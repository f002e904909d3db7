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
    devices = list(dict.fromkeys(load_device(d).id for d in spec.candidates.devices))
    modes = {}
    for mode in s.disaggregation:
        x, y = parse_disagg(mode)
        modes[mode] = ("aggregated" if not x else f"{x}p{y}d", x, y, (x + y) if x else 1)
    combos = [c for c in itertools.product(devices, s.tp, s.pp, s.ep, s.disaggregation, s.weight_dtype, s.kv_dtype,
                                           s.engine, s.max_num_seqs, s.max_num_batched_tokens,
                                           [bool(p) for p in s.prefix_caching], [bool(v) for v in s.speculative])
              if c[3] <= c[1]]  # ep <= tp
    names = ("device", "tp", "pp", "ep", "mode", "weight_dtype", "kv_dtype", "engine", "max_num_seqs",
             "max_num_batched_tokens", "prefix_caching", "speculative")
    columns: dict[str, list] = {k: list(v) for k, v in zip(names, zip(*combos, strict=True), strict=True)} \
        if combos else {k: [] for k in names}
    unit = [modes[m] for m in columns["mode"]]
    columns["mode"] = [u[0] for u in unit]
    columns["prefill_workers"] = [u[1] for u in unit]
    columns["decode_workers"] = [u[2] for u in unit]
    columns["gpus_per_unit"] = [u[3] * tp * pp for u, tp, pp in zip(unit, columns["tp"], columns["pp"], strict=True)]
    columns = {c: columns[c] for c in (*CONFIG_COLUMNS, "gpus_per_unit")}
    prices = {d: price_per_hour(spec, d) for d in devices}
    columns["price_per_gpu_hour_usd"] = [prices[d][0] for d in columns["device"]]
    columns["price_source"] = [prices[d][1] for d in columns["device"]]
    columns["config_id"] = config_hashes(columns)
    return pd.DataFrame(columns)


_ENCODER = json.JSONEncoder(sort_keys=True, default=str)


def config_hash(config: dict[str, Any]) -> str:
    """Short stable hash of a configuration (the simulation cache key adds workload and rate)."""
    text = _ENCODER.encode({k: config[k] for k in CONFIG_COLUMNS})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def config_hashes(columns: dict[str, list]) -> list[str]:
    """:func:`config_hash` of every row of `columns` (the same JSON text, each distinct value encoded once)."""
    keys = sorted(CONFIG_COLUMNS)
    encoded = {k: {(t, v): _ENCODER.encode(v) for t, v in dict.fromkeys((type(v), v) for v in columns[k])}
               for k in keys}
    parts = [[f'"{k}": ' + encoded[k][type(v), v] for v in columns[k]] for k in keys]
    return [hashlib.sha256(("{" + ", ".join(row) + "}").encode()).hexdigest()[:12] for row in zip(*parts, strict=True)]
