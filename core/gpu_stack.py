"""TensorRT and pycuda, imported only when a plan is built or run.

Neither installs everywhere (TensorRT's libraries come from NVIDIA's index; pycuda needs the
CUDA driver at import), so everything else in vst works without them, and the commands
that need them exit with status 3 and one line naming what is missing.
"""
from dataclasses import dataclass

from .errors import CommandError


class MissingGpuStack(CommandError):
    """TensorRT, pycuda or a CUDA GPU is missing."""
    exit_code = 3


def import_tensorrt():
    try:
        import tensorrt as trt
    except ImportError:
        try:  # a bindings-only install exposes the same API under this name
            import tensorrt_bindings as trt
        except ImportError:
            raise MissingGpuStack("TensorRT is not installed (on a CUDA machine: "
                                  "pip install tensorrt)") from None
    return trt


def tensorrt_major(trt) -> int:
    return int(trt.__version__.split(".")[0])


def import_cuda_driver():
    """pycuda.driver, initialized, on a machine with at least one CUDA device."""
    try:
        import pycuda.driver as cuda
    except ImportError as exc:  # also raised when libcuda (the driver) is absent
        raise MissingGpuStack(f"pycuda cannot load ({exc}); on a CUDA machine: "
                              "pip install 'vst[gpu]'") from None
    try:
        cuda.init()
        count = cuda.Device.count()
    except cuda.Error as exc:
        raise MissingGpuStack(f"no usable CUDA driver ({exc})") from None
    if count == 0:
        raise MissingGpuStack("no CUDA GPU found")
    return cuda


@dataclass(frozen=True)
class GpuFacts:
    name: str
    compute_capability: str   # "9.0"

    @classmethod
    def of_device(cls, cuda, index: int = 0) -> "GpuFacts":
        device = cuda.Device(index)
        return cls(device.name(), "%d.%d" % device.compute_capability())
