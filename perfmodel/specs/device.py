"""Device and system specs: datasheet numbers in human units, exposed in SI."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

from perfmodel.specs.dtypes import COMPUTE_FALLBACK
from perfmodel.units import GB, TERA, US

COMPUTE_KEYS = ("fp64", "fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4", "fp4")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MemorySpec(_Frozen):
    capacity_gb: PositiveFloat
    bandwidth_gb_s: PositiveFloat
    type: str | None = None


class LinkSpec(_Frozen):
    """A link, per direction."""

    name: str | None = None
    bandwidth_gb_s: PositiveFloat
    latency_us: float = Field(default=5.0, ge=0)

    @property
    def bw_bytes_per_s(self) -> float:
        return self.bandwidth_gb_s * GB

    @property
    def latency_s(self) -> float:
        return self.latency_us * US


class StorageSpec(_Frozen):
    """Where weights live on disk: sequential read bandwidth (what an mmap'd model streams at)."""

    name: str | None = None
    read_gb_s: PositiveFloat

    @property
    def read_bytes_per_s(self) -> float:
        return self.read_gb_s * GB


# Used when a device spec gives no host link (collectives, host offload): a typical PCIe slot.
ASSUMED_HOST_LINK = LinkSpec(name="assumed PCIe Gen4 x16", bandwidth_gb_s=25.0, latency_us=10.0)
# Used when a device spec gives no storage or host link (stated as an assumption in the docs).
ASSUMED_STORAGE = StorageSpec(name="assumed NVMe PCIe Gen3 x4 SSD", read_gb_s=3.0)


class PowerSpec(_Frozen):
    tdp_w: PositiveFloat
    idle_w: float | None = Field(default=None, ge=0)


class EfficiencyHints(_Frozen):
    """Measured fractions of peak from public benchmarks (used instead of engine defaults)."""

    gemm: float | None = Field(default=None, gt=0, le=1)
    bandwidth: float | None = Field(default=None, gt=0, le=1)
    gemm_by_dtype: dict[str, Annotated[float, Field(gt=0, le=1)]] | None = None
    """Large-GEMM fraction of that dtype's own peak where it differs from `gemm` (the BF16 figure), e.g.
    `{fp8: 0.709}` on H100 (MAMF). Keys are matmul compute families (`fp8`, `int8`, `fp4`, ...)."""

    @model_validator(mode="after")
    def _known_dtypes(self) -> EfficiencyHints:
        unknown = sorted(set(self.gemm_by_dtype or {}) - set(COMPUTE_KEYS))
        if unknown:
            raise ValueError(f"gemm_by_dtype has unknown dtypes {unknown}; use any of {', '.join(COMPUTE_KEYS)}")
        return self


class CalibrationSpec(BaseModel):
    """Fitted parameters from a probe run; their presence marks the device as calibrated."""

    model_config = ConfigDict(frozen=True, extra="allow")
    bundle_id: str
    gemm_efficiency: float | None = Field(default=None, gt=0, le=1)
    bandwidth_efficiency: float | None = Field(default=None, gt=0, le=1)
    kernel_overhead_us: float | None = Field(default=None, ge=0)


class Device(_Frozen):
    """One accelerator or CPU socket. YAML fields in human units; SI properties for the cost core."""

    id: str = "custom-device"
    name: str | None = None
    aliases: list[str] = Field(default_factory=list)
    """Other names this catalog device answers to (e.g. `h100` for `h100-sxm-80gb`)."""
    kind: Literal["gpu", "npu", "cpu", "soc"]
    vendor: str | None = None
    memory: MemorySpec
    compute_tflops: dict[str, PositiveFloat]
    on_chip_memory_mb: float | None = Field(default=None, ge=0)
    scale_up: LinkSpec | None = None
    host_link: LinkSpec | None = None
    storage: StorageSpec | None = None
    """Local storage the weights are read from when they do not fit (mmap'd by llama.cpp)."""
    power: PowerSpec | None = None
    price_per_hour_usd: float | None = Field(default=None, ge=0)
    price_note: str | None = None
    efficiency_hints: EfficiencyHints | None = None
    fitted_efficiency: EfficiencyHints | None = None
    """Fractions of peak fitted to published end-to-end and kernel measurements
    (`calibration/device_efficiency.yaml`, written by `perfmodel calibrate-engines`)."""
    calibration: CalibrationSpec | None = None
    sources: dict[str, str] = Field(default_factory=dict)
    notes: str | None = None

    @model_validator(mode="after")
    def _check_compute_keys(self) -> Device:
        if not self.compute_tflops:
            raise ValueError("compute_tflops needs at least one dtype peak, e.g. {fp16: 100}")
        for key in self.compute_tflops:
            if key not in COMPUTE_KEYS:
                raise ValueError(f"compute_tflops has unknown key '{key}'; use {', '.join(COMPUTE_KEYS)}")
        return self

    # --- SI views -------------------------------------------------------------------------
    @property
    def capacity_bytes(self) -> float:
        return self.memory.capacity_gb * GB

    @property
    def mem_bw_bytes_per_s(self) -> float:
        return self.memory.bandwidth_gb_s * GB

    @property
    def is_calibrated(self) -> bool:
        return self.calibration is not None

    def peak_flops_per_s(self, family: str) -> float:
        """Dense peak for a compute family, falling back to the next wider format the device has."""
        for key in COMPUTE_FALLBACK.get(family, (family,)):
            if key in self.compute_tflops:
                return self.compute_tflops[key] * TERA
        return max(self.compute_tflops.values()) * TERA

    def machine_balance_flop_per_byte(self, family: str) -> float:
        """Kinetics' I: peak FLOP/s divided by memory B/s."""
        return self.peak_flops_per_s(family) / self.mem_bw_bytes_per_s


class System(_Frozen):
    """Devices joined by links: what a replica of an engine runs on."""

    id: str
    name: str | None = None
    device: Device
    devices_per_node: PositiveInt = 1
    nodes: PositiveInt = 1
    scale_up: LinkSpec | None = None
    scale_out: LinkSpec | None = None
    sources: dict[str, str] = Field(default_factory=dict)

    @property
    def num_devices(self) -> int:
        return self.devices_per_node * self.nodes

    def link_for(self, group_size: int, *, between_replicas: bool = False) -> LinkSpec:
        """The link a collective over `group_size` devices runs on (scale-up inside a node).

        `between_replicas=True`: the link that carries data from this system to another replica (a KV
        handoff between serving pools): the scale-out network, else the device's host link, else the
        link of a group larger than one node."""
        if between_replicas:
            if self.scale_out or self.device.host_link:
                return self.scale_out or self.device.host_link
            group_size = max(group_size, self.devices_per_node + 1)
        if group_size <= self.devices_per_node:
            link = self.scale_up or self.device.scale_up or self.device.host_link
        else:
            link = self.scale_out or self.scale_up or self.device.scale_up
        return link or ASSUMED_HOST_LINK

    @classmethod
    def single(cls, device: Device, count: int = 1) -> System:
        """A node of `count` copies of one device using the device's own scale-up link."""
        return cls(id=device.id if count == 1 else f"{count}x-{device.id}", device=device,
                   devices_per_node=count, scale_up=device.scale_up)
