"""Power, energy and dollars of a device busy for some seconds.

Power model (per device): P = P_idle + (TDP − P_idle) · u, with utilization
u = max(FLOPs / (peak · t), bytes / (bandwidth · t)) of the step at datasheet peak and bandwidth
(the busier of the two resources), clipped to [0, 1]. P_idle is the spec's `idle_w`, or 0.3·TDP
when the spec gives none. Energy = Σ P · t over steps. A device with no power spec gets no energy.

Dollars = devices × price_per_hour_usd × seconds / 3600 (the price is an assumption stated in the
device YAML; none gives no dollar figure).
"""

from __future__ import annotations

import numpy as np

from perfmodel.cost.batch import FloatArray
from perfmodel.specs.device import Device

DEFAULT_IDLE_FRACTION = 0.3


def idle_power_w(device: Device) -> float | None:
    """Idle power of one device (None without a power spec)."""
    if device.power is None:
        return None
    if device.power.idle_w is not None:
        return float(device.power.idle_w)
    return DEFAULT_IDLE_FRACTION * device.power.tdp_w


def utilization(device: Device, flops: FloatArray, nbytes: FloatArray, time_s: FloatArray,
                compute_family: str) -> FloatArray:
    """max(compute share, memory share) of a step on one device, at datasheet rates."""
    t = np.maximum(np.asarray(time_s, dtype=np.float64), 1e-300)
    compute = np.asarray(flops, dtype=np.float64) / (device.peak_flops_per_s(compute_family) * t)
    memory = np.asarray(nbytes, dtype=np.float64) / (device.mem_bw_bytes_per_s * t)
    return np.clip(np.maximum(compute, memory), 0.0, 1.0)


def power_w(device: Device, util: FloatArray) -> FloatArray | None:
    """Power of one device at utilization `util` (None without a power spec)."""
    idle = idle_power_w(device)
    if idle is None:
        return None
    return idle + (device.power.tdp_w - idle) * np.asarray(util, dtype=np.float64)


def dollars(device: Device, devices: int, seconds: float) -> float | None:
    """Rental cost of `devices` devices for `seconds` (None without a price)."""
    if device.price_per_hour_usd is None:
        return None
    return devices * device.price_per_hour_usd * seconds / 3600.0
