"""A TensorRT plan run through pycuda: uint8 (1, H, W, 3) RGB frames in, same out.

Two slots of pinned host and device buffers, allocated once per frame size. `submit` queues a
frame on one non-default stream (async host->device copy, `execute_async_v3`, async
device->host copy, an event) and returns at once; `collect` waits for that event. With two
frames in flight, the host fills one slot and reads the other while the GPU works, so the
GPU need not wait for Python between frames. The primary CUDA context is used (not pycuda.autoinit's private one) so TensorRT,
PyTorch and pycuda share memory and streams; it is pushed on the thread that builds the
runner, which must be the thread that calls it.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .frame_io import INPUT_NAME, OUTPUT_NAME
from .gpu_stack import GpuFacts, import_cuda_driver, import_tensorrt
from .metadata import ShapeProfile, read_plan_metadata


SLOTS = 2


@dataclass
class HostDeviceBuffer:
    host: np.ndarray   # pinned, so the copies are truly asynchronous
    device: object     # pycuda DeviceAllocation; int() gives the device pointer

    @classmethod
    def allocate(cls, cuda, shape: tuple, dtype) -> "HostDeviceBuffer":
        host = cuda.pagelocked_empty(shape, dtype)
        return cls(host, cuda.mem_alloc(host.nbytes))


@dataclass
class Slot:
    inputs: HostDeviceBuffer
    outputs: HostDeviceBuffer
    done: object       # pycuda Event recorded after the device->host copy


class TrtRunner:
    depth = SLOTS  # frames a caller may have submitted and not yet collected

    def __init__(self, plan: Path):
        plan = Path(plan)
        if not plan.is_file():
            raise InputError(f"{plan}: no such plan")
        self.metadata = read_plan_metadata(plan)
        trt, cuda = import_tensorrt(), import_cuda_driver()
        gpu = GpuFacts.of_device(cuda)
        self.warning = self.metadata.check_plan_runs_here(plan, trt.__version__, gpu.name,
                                                          gpu.compute_capability)
        if self.metadata.profile is None:
            raise InputError(f"{plan}: its metadata has no shape profile; rebuild the plan with vst-export")
        self.profile: ShapeProfile = self.metadata.profile
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
        self.slots: list[Slot] = []
        self.turn = 0

    def _allocate(self, shape: tuple) -> None:
        self.stream.synchronize()  # frames still in flight use the old buffers
        if not self.context.set_input_shape(INPUT_NAME, shape):
            raise InputError(f"TensorRT rejects input shape {shape}")
        out_shape = tuple(self.context.get_tensor_shape(OUTPUT_NAME))
        self.slots = [Slot(HostDeviceBuffer.allocate(self.cuda, shape, np.uint8),
                           HostDeviceBuffer.allocate(self.cuda, out_shape, np.uint8), self.cuda.Event())
                      for _ in range(SLOTS)]
        self.shape = shape

    def submit(self, frames: np.ndarray) -> Slot:
        """Queue a frame; the caller collects at most `depth` frames later (a slot is reused)."""
        slot = self.upload(frames)
        self.execute(slot)
        self.download(slot)
        return slot

    def upload(self, frames: np.ndarray) -> Slot:
        """Copy a frame into the next slot's pinned buffer and queue its host->device copy."""
        _, height, width, _ = frames.shape
        self.profile.require(width, height)
        if frames.shape != self.shape:
            self._allocate(frames.shape)
        slot = self.slots[self.turn]
        self.turn = (self.turn + 1) % SLOTS
        np.copyto(slot.inputs.host, frames)
        self.cuda.memcpy_htod_async(slot.inputs.device, slot.inputs.host, self.stream)
        return slot

    def execute(self, slot: Slot) -> None:
        """Queue the network on a slot's device buffers."""
        # one context, one stream: addresses are per enqueue, so each frame uses its own slot
        self.context.set_tensor_address(INPUT_NAME, int(slot.inputs.device))
        self.context.set_tensor_address(OUTPUT_NAME, int(slot.outputs.device))
        if not self.context.execute_async_v3(self.stream.handle):
            raise RuntimeError("TensorRT execution failed (see its log above)")

    def download(self, slot: Slot) -> None:
        """Queue a slot's device->host copy and mark its end."""
        self.cuda.memcpy_dtoh_async(slot.outputs.host, slot.outputs.device, self.stream)
        slot.done.record(self.stream)

    def collect(self, slot: Slot) -> np.ndarray:
        slot.done.synchronize()
        return slot.outputs.host.copy()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return self.collect(self.submit(frames))

    def close(self) -> None:
        """Free CUDA objects while the context is current, then release the context."""
        self.slots = []
        self.context = self.engine = self.stream = None
        self.cuda_context.pop()
        self.cuda_context.detach()
