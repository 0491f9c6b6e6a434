"""A TensorRT plan run through pycuda: uint8 (1, H, W, 3) RGB frames in, same out.

Device buffers and pinned host buffers are allocated once per frame size; every frame is one
async host->device copy, `execute_async_v3` and an async device->host copy on one non-default
stream. The primary CUDA context is used (not pycuda.autoinit's private one) so TensorRT,
PyTorch and pycuda share memory and streams; it is pushed on the thread that builds the
runner, which must be the thread that calls it.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vst.export.frame_model import INPUT_NAME, OUTPUT_NAME
from vst.export.gpu_stack import GpuFacts, import_cuda_driver, import_tensorrt
from vst.export.metadata import read_plan_metadata
from vst.export.tensorrt_plan import ShapeProfile
from vst.train.errors import InputError


@dataclass
class HostDeviceBuffer:
    host: np.ndarray   # pinned, so the copies are truly asynchronous
    device: object     # pycuda DeviceAllocation; int() gives the device pointer

    @classmethod
    def allocate(cls, cuda, shape: tuple, dtype) -> "HostDeviceBuffer":
        host = cuda.pagelocked_empty(shape, dtype)
        return cls(host, cuda.mem_alloc(host.nbytes))


class TrtRunner:
    def __init__(self, plan: Path):
        plan = Path(plan)
        if not plan.is_file():
            raise InputError(f"{plan}: no such plan")
        self.metadata = read_plan_metadata(plan)
        trt, cuda = import_tensorrt(), import_cuda_driver()
        gpu = GpuFacts.of_device(cuda)
        self.warning = self.metadata.check_plan_runs_here(plan, trt.__version__, gpu.name,
                                                          gpu.compute_capability)
        self.profile = ShapeProfile(**{k: tuple(v) for k, v in self.metadata.profile.items()})
        self.cuda = cuda
        self.cuda_context = cuda.Device(0).retain_primary_context()
        self.cuda_context.push()
        self.logger = trt.Logger(trt.Logger.WARNING)  # must outlive the engine
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(plan.read_bytes())
        if self.engine is None:
            self.close()
            raise InputError(f"{plan}: TensorRT cannot load this plan (corrupt, or built elsewhere)")
        self.context = self.engine.create_execution_context()
        self.stream = cuda.Stream()  # TensorRT adds synchronization on the default stream
        self.shape = None
        self.inputs = self.outputs = None

    def _allocate(self, shape: tuple) -> None:
        if not self.context.set_input_shape(INPUT_NAME, shape):
            raise InputError(f"TensorRT rejects input shape {shape}")
        out_shape = tuple(self.context.get_tensor_shape(OUTPUT_NAME))
        self.inputs = HostDeviceBuffer.allocate(self.cuda, shape, np.uint8)
        self.outputs = HostDeviceBuffer.allocate(self.cuda, out_shape, np.uint8)
        self.context.set_tensor_address(INPUT_NAME, int(self.inputs.device))
        self.context.set_tensor_address(OUTPUT_NAME, int(self.outputs.device))
        self.shape = shape

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        _, height, width, _ = frames.shape
        self.profile.require(width, height)
        if frames.shape != self.shape:
            self._allocate(frames.shape)
        np.copyto(self.inputs.host, frames)
        self.cuda.memcpy_htod_async(self.inputs.device, self.inputs.host, self.stream)
        if not self.context.execute_async_v3(self.stream.handle):
            raise RuntimeError("TensorRT execution failed (see its log above)")
        self.cuda.memcpy_dtoh_async(self.outputs.host, self.outputs.device, self.stream)
        self.stream.synchronize()
        return self.outputs.host.copy()

    def close(self) -> None:
        """Free CUDA objects while the context is current, then release the context."""
        self.inputs = self.outputs = self.context = self.engine = self.stream = None
        self.cuda_context.pop()
        self.cuda_context.detach()
