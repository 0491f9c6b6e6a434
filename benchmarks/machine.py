"""The machine a benchmark ran on, and its peak arithmetic and memory rates, measured.

Peaks are measured rather than looked up, so that "fraction of peak" means the same thing on
any CPU or GPU: the best of a few runs of a large 3x3 convolution per precision (the op the
stylizer is made of, through the same oneDNN / cuDNN kernels; a matmul is no proxy, since
torch's CPU matmul may not use AVX-512 on AMD CPUs and reached half of what its convolutions
do on the EPYC docs/results.md's numbers come from) and of a large copy (bytes read + written).
"""
import platform
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass

import torch

from vst.core.cpu import cpu_model, has_native_bf16, usable_cores
from vst.core.version import installed_version

LIBRARIES = ("vst", "torch", "onnxruntime", "openvino", "onnx", "tensorrt", "pycuda", "av", "numpy",
             "matplotlib")
CONV = {"cpu": (1, 256, 64), "cuda": (16, 256, 256)}  # batch, channels, side of the square input
COPY_BYTES = 1 << 30   # well past any cache
RUNS = 5


@dataclass(frozen=True)
class MachineFacts:
    cpu: str
    cores: int
    cpu_bf16: bool               # native BF16 instructions (AVX512-BF16 or AMX)
    gpu: str | None
    gpu_driver: str | None
    cuda: str | None             # the CUDA runtime torch was built with
    system: str
    python: str
    libraries: dict[str, str | None]

    def describe(self) -> str:
        cpu = f"{self.cpu} ({self.cores} cores{', BF16' if self.cpu_bf16 else ''})"
        gpu = f"{self.gpu} (driver {self.gpu_driver})" if self.gpu else "no GPU"
        versions = ", ".join(f"{name} {version}" for name, version in self.libraries.items()
                             if version and name != "vst")
        return f"{cpu}; {gpu}; {versions}"

    def as_record(self) -> dict:
        return asdict(self)


def _gpu_driver() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        result = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=10, check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    return result.stdout.splitlines()[0].strip() if result.stdout.strip() else None


def machine_facts() -> MachineFacts:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return MachineFacts(cpu_model(), usable_cores(), has_native_bf16(), gpu,
                        _gpu_driver() if gpu else None, torch.version.cuda,
                        platform.platform(), platform.python_version(),
                        {name: installed_version(name) for name in LIBRARIES})


@dataclass(frozen=True)
class Peak:
    device: str                  # "cpu" | "cuda"
    flops: dict[str, float]      # precision -> FLOP/s of a large 3x3 convolution
    bandwidth: float             # bytes/s of a large device-memory copy (read + write)
    how: str

    def as_record(self) -> dict:
        return asdict(self)


def _best_seconds(work, sync) -> float:
    work()  # warm-up: allocation, kernel selection
    sync()
    best = float("inf")
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        sync()
        best = min(best, time.perf_counter() - start)
    return best


def measure_peak(device: str) -> Peak:
    """Measured peaks of `device` ("cpu" or "cuda") for the precisions its backends use."""
    if device == "cuda":
        torch.backends.cudnn.benchmark = True  # the fastest algorithm, as the runners get
        precisions, sync = {"fp16": torch.float16}, torch.cuda.synchronize  # all GPU backends are FP16
    else:
        precisions, sync = {"fp32": torch.float32}, (lambda: None)
        if has_native_bf16():
            precisions["bf16"] = torch.bfloat16
    batch, channels, side = CONV[device]
    flops = {}
    for name, dtype in precisions.items():
        conv = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        conv = conv.to(device, dtype, memory_format=torch.channels_last)
        x = torch.randn(batch, channels, side, side, dtype=dtype, device=device)
        x = x.to(memory_format=torch.channels_last)
        with torch.no_grad():
            seconds = _best_seconds(lambda: conv(x), sync)
        flops[name] = 2 * batch * channels * channels * 9 * side * side / seconds
    source = torch.empty(COPY_BYTES, dtype=torch.uint8, device=device)
    target = torch.empty_like(source)
    bandwidth = 2 * COPY_BYTES / _best_seconds(lambda: target.copy_(source), sync)
    return Peak(device, flops, bandwidth,
                f"best of {RUNS}: 3x3 conv {channels}->{channels} channels on {batch}x{side}x{side}, "
                f"channels_last, per precision; {COPY_BYTES >> 20} MiB copy")
