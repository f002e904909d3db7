"""SimResult: per-request, per-replica and time-series DataFrames, the summary dict, trace export."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from perfmodel.sim.config import SimSetup
from perfmodel.sim.metrics import REJECT_REASONS, Recorder, describe, itl_samples, token_times


@dataclass
class SimResult:
    """The outcome of :func:`perfmodel.simulate`. Times in seconds (simulated), SI units throughout."""

    setup: SimSetup = field(repr=False)
    recorder: Recorder = field(repr=False)
    wall_s: float
    simulator: dict[str, Any]
    final_kv_blocks: list[int]

    # ---- tables -------------------------------------------------------------------------------------
    @cached_property
    def requests(self) -> pd.DataFrame:
        """One row per request: arrival, queueing delay, TTFT, TPOT, E2E, tokens, preemptions, replica, SLO."""
        rec, wl = self.recorder, self.setup.workload
        first = np.array(rec.first_token_s)
        arrival = rec.arrival_s
        seq_req = wl.seq_request
        gen = rec.seq_generated
        ok = (~rec.seq_cancelled) & (gen > 1)
        seq_tpot = np.where(ok, (rec.seq_finish_s - first[seq_req]) / np.maximum(gen - 1, 1), 0.0)
        n = wl.num_requests
        tpot_sum = np.bincount(seq_req, weights=np.where(ok, seq_tpot, 0.0), minlength=n)
        tpot_cnt = np.bincount(seq_req, weights=ok.astype(np.float64), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            tpot = np.where(tpot_cnt > 0, tpot_sum / tpot_cnt, np.nan)
        completed = rec.status == 1
        df = pd.DataFrame({
            "request_id": np.arange(n),
            "class": np.array([c.name for c in wl.classes], dtype=object)[wl.class_id],
            "status": np.where(completed, "completed", np.where(rec.status == 2, "rejected", "pending")),
            "reject_reason": [REJECT_REASONS.get(int(r), "") for r in rec.reject_reason],
            "arrival_s": arrival,
            "queue_s": np.array(rec.scheduled_s) - arrival,
            "ttft_s": first - arrival,
            "tpot_s": tpot,
            "e2e_s": np.where(completed, rec.finish_s - arrival, np.nan),
            "finish_s": rec.finish_s,
            "input_len": wl.input_len,
            "output_len": wl.output_len,
            "generated_tokens": np.bincount(seq_req, weights=gen, minlength=n).astype(np.int64),
            "samples": wl.samples,
            "preemptions": rec.preemptions,
            "replica": rec.replica,
            "decode_replica": rec.decode_replica,
        })
        met = completed.copy()
        for cid, cls in enumerate(wl.classes):
            mine = wl.class_id == cid
            for col, limit in (("ttft_s", cls.slo.ttft_s), ("tpot_s", cls.slo.tpot_s), ("e2e_s", cls.slo.e2e_s)):
                if limit is not None:
                    values = df[col].to_numpy()
                    met[mine] &= ~(values[mine] > limit)  # NaN (e.g. TPOT of a 1-token answer) meets it
        df["met_slo"] = met
        return df

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """One row per engine step: replica, start/end, batch size, new tokens, queue length, KV blocks in use."""
        df = pd.DataFrame(self.recorder.steps)
        caps = np.array([c.kv_blocks for c in self.setup.replicas], dtype=np.float64)
        df["kv_utilization"] = df["kv_blocks_used"] / caps[df["replica"].to_numpy()] if len(df) else []
        df = df.rename(columns={"num_seqs": "batch_size", "start_s": "time_s"})
        cols = ["replica", "time_s", "end_s", "batch_size", "new_tokens", "decode_seqs", "prefill_chunks",
                "queue_len", "kv_blocks_used", "kv_utilization", "flops", "bytes"]
        return df[cols].sort_values(["time_s", "replica"], kind="stable").reset_index(drop=True)

    @cached_property
    def replicas(self) -> pd.DataFrame:
        """Per replica: steps, busy fraction, MFU, memory-bandwidth utilization, batch size, KV peak."""
        ts, dur = self.timeseries, self.duration_s
        rows = []
        req = self.requests
        for cfg in self.setup.replicas:
            mine = ts[ts["replica"] == cfg.index]
            busy = float((mine["end_s"] - mine["time_s"]).sum())
            span = dur if dur > 0 else np.nan
            served = int(((req["replica"] == cfg.index) | (req["decode_replica"] == cfg.index)).sum())
            rows.append({
                "replica": cfg.index, "pool": cfg.pool, "hardware": cfg.system_id, "steps": len(mine),
                "requests": served, "busy_s": busy, "utilization": busy / span,
                "mfu": float(mine["flops"].sum()) / (span * cfg.peak_flops_per_s),
                "mbu": float(mine["bytes"].sum()) / (span * cfg.mem_bw_bytes_per_s),
                "mean_batch_size": float(mine["batch_size"].mean()) if len(mine) else 0.0,
                "kv_blocks": cfg.kv_blocks,
                "kv_peak_utilization": float(mine["kv_utilization"].max()) if len(mine) else 0.0,
                "kv_blocks_at_end": self.final_kv_blocks[cfg.index],
            })
        return pd.DataFrame(rows)

    # ---- latencies ----------------------------------------------------------------------------------
    @cached_property
    def _itl(self) -> tuple[np.ndarray, np.ndarray]:
        return itl_samples(self.recorder)

    def token_times(self, seq: int) -> np.ndarray:
        """Emission times of one sequence (a request with one sample has sequence id = workload seq_start)."""
        return token_times(self.recorder, seq)

    def itl_s(self, request_id: int) -> np.ndarray:
        """Every inter-token latency of a request (concatenated over its samples)."""
        wl = self.setup.workload
        start = int(wl.seq_start[request_id])
        parts = [np.diff(self.token_times(s)) for s in range(start, start + int(wl.samples[request_id]))]
        return np.concatenate(parts) if parts else np.zeros(0)

    def itls(self) -> pd.DataFrame:
        """Long table (request_id, index, itl_s) of every inter-token latency (built on demand)."""
        frames = []
        for rid in self.requests.loc[self.requests["status"] == "completed", "request_id"]:
            values = self.itl_s(int(rid))
            frames.append(pd.DataFrame({"request_id": rid, "index": np.arange(len(values)), "itl_s": values}))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["request_id", "index",
                                                                                         "itl_s"])

    def in_system(self) -> pd.DataFrame:
        """Requests in the system (arrived, not finished) over time, as a step function."""
        req = self.requests[self.requests["status"] != "pending"]
        t = np.concatenate([req["arrival_s"].to_numpy(), req["finish_s"].to_numpy()])
        d = np.concatenate([np.ones(len(req)), -np.ones(len(req))])
        order = np.lexsort((d, t))
        return pd.DataFrame({"time_s": t[order], "in_system": np.cumsum(d[order]).astype(np.int64)})

    # ---- summary ------------------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        fin = self.recorder.finish_s
        return float(np.nanmax(fin)) if np.isfinite(fin).any() else 0.0

    @cached_property
    def summary(self) -> dict[str, Any]:
        """The JSON summary (`perfmodel simulate --json`)."""
        req, dur = self.requests, self.duration_s
        done = req[req["status"] == "completed"]
        values, weights = self._itl
        per = 1.0 / dur if dur > 0 else 0.0
        classes = {}
        for name, grp in done.groupby("class", sort=False):
            classes[str(name)] = {"completed": len(grp), "ttft_s": describe(grp["ttft_s"]),
                                  "tpot_s": describe(grp["tpot_s"]), "e2e_s": describe(grp["e2e_s"]),
                                  "slo_attainment": float(grp["met_slo"].mean()),
                                  "goodput_requests_per_s": float(grp["met_slo"].sum()) * per}
        ts = self.timeseries
        return {
            "scenario": self.setup.scenario.name,
            "requests": int(len(req)),
            "completed": int(len(done)),
            "rejected": int((req["status"] == "rejected").sum()),
            "preemptions": int(self.recorder.total_preemptions),
            "duration_s": dur,
            "ttft_s": describe(done["ttft_s"]),
            "tpot_s": describe(done["tpot_s"]),
            "itl_s": describe(values, weights),
            "e2e_s": describe(done["e2e_s"]),
            "queue_s": describe(done["queue_s"]),
            "throughput": {"requests_per_s": len(done) * per,
                           "output_tokens_per_s": float(req["generated_tokens"].sum()) * per,
                           "input_tokens_per_s": float(done["input_len"].sum()) * per},
            "goodput_requests_per_s": float(done["met_slo"].sum()) * per,
            "slo_attainment": float(done["met_slo"].mean()) if len(done) else None,
            "kv_peak_utilization": float(ts["kv_utilization"].max()) if len(ts) else 0.0,
            "tokens": {"requested": int(req["output_len"].sum()), "generated": int(req["generated_tokens"].sum())},
            "classes": classes,
            "replicas": self.replicas.to_dict(orient="records"),
            "config": self.config,
            "simulator": {"wall_s": self.wall_s, **self.simulator},
        }

    @property
    def config(self) -> dict[str, Any]:
        """The typed configuration of the run (scenario and resolved pools), JSON-ready."""
        return {"scenario": self.setup.scenario.model_dump(mode="json"), "pools": self.setup.pool_info}

    def to_dict(self) -> dict[str, Any]:
        return self.summary

    def write_chrome_trace(self, path: str | Path) -> Path:
        """Write the steps of every replica (and KV transfers) as Chrome-trace JSON (chrome://tracing, Perfetto)."""
        from perfmodel.sim.trace import chrome_trace

        path = Path(path)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(chrome_trace(self)))
        tmp.replace(path)
        return path
