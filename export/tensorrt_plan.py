"""ONNX -> serialized TensorRT engine (NAME.plan), for TensorRT 10.x and 11.x.

An FP16-typed ONNX is built strongly typed on both versions, so the numerics are those of
the graph (FP16 convs, FP32 instance norm) whatever TensorRT's version. TensorRT 11 has no
FP16 builder flag: an FP32 ONNX would build an FP32 engine there, so it is refused. On 10.x
an FP32 ONNX may still be built weakly typed with the FP16 flag (TensorRT picks per layer).
Written against the 11.4 bindings (../shared/docs/tensorrt-pycuda.md); TensorRT is imported
lazily, through core.gpu_stack, here, in its runner (core.tensorrt_runner) and in vst-bench.
"""
from dataclasses import dataclass, field
from pathlib import Path

from vst.core.errors import InputError
from vst.core.files import write_atomically
from vst.core.frame_io import INPUT_NAME
from vst.core.gpu_stack import GpuFacts, import_cuda_driver, import_tensorrt, tensorrt_major
from vst.core.metadata import ArtifactMetadata, ShapeProfile, write_plan_metadata
from vst.core.paths import cache_dir


@dataclass(frozen=True)
class PlanSettings:
    profile: ShapeProfile = field(default_factory=ShapeProfile)
    workspace_bytes: int = 4 << 30
    optimization_level: int = 3       # TensorRT's 0..5; higher builds slower, may run faster
    timing_cache: Path | None = None  # default: one per GPU and TensorRT version, see below


def default_timing_cache(gpu: GpuFacts, trt_version: str) -> Path:
    slug = "".join(c if c.isalnum() else "-" for c in gpu.name).strip("-").lower()
    return cache_dir() / "tensorrt" / f"{slug}-trt{trt_version}.timing"


def network_flags(trt, strongly_typed: bool) -> int:
    # enum values moved between 10.x and 11.x: always shift by the member, never a literal
    flag = getattr(trt.NetworkDefinitionCreationFlag, "STRONGLY_TYPED", None)
    return 1 << int(flag) if strongly_typed and flag is not None else 0


def parse_onnx(trt, network, logger, onnx_path: Path) -> None:
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = [parser.get_error(i) for i in range(parser.num_errors)]
        details = "; ".join(f"node {e.node()} ({e.node_operator()}): {e.desc()}" for e in errors)
        raise InputError(f"{onnx_path}: TensorRT cannot parse it: {details}")


def build_plan(onnx_path: Path, plan_path: Path, metadata: ArtifactMetadata,
               settings: PlanSettings) -> ArtifactMetadata:
    """Build and write `plan_path` and its NAME.plan.json; return the plan's record.
    Raises MissingGpuStack without TensorRT, pycuda or a GPU."""
    trt = import_tensorrt()
    gpu = GpuFacts.of_device(import_cuda_driver())
    fp16_graph = metadata.precision == "fp16"
    if not fp16_graph and tensorrt_major(trt) >= 11:
        raise InputError(f"{onnx_path} is FP32 and TensorRT {trt.__version__} takes precision from "
                         "the graph: build from the FP16 ONNX (vst-export --fp16 writes NAME.fp16.onnx)")

    logger = trt.Logger(trt.Logger.WARNING)  # must outlive everything built through it
    builder = trt.Builder(logger)
    network = builder.create_network(network_flags(trt, strongly_typed=fp16_graph))
    parse_onnx(trt, network, logger, onnx_path)

    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, settings.workspace_bytes)
    config.builder_optimization_level = settings.optimization_level
    if not fp16_graph:  # TensorRT 10.x, FP32 graph: weak typing lets layers run in FP16
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    profile.set_shape(INPUT_NAME, *settings.profile.input_shapes())
    if config.add_optimization_profile(profile) < 0:
        raise InputError(f"TensorRT rejects the shape profile {settings.profile.describe()}")

    cache_path = settings.timing_cache or default_timing_cache(gpu, trt.__version__)
    cache = config.create_timing_cache(cache_path.read_bytes() if cache_path.is_file() else b"")
    if not config.set_timing_cache(cache, ignore_mismatch=False):
        # a cache from another GPU or version is rejected: start a fresh one in its place
        cache = config.create_timing_cache(b"")
        config.set_timing_cache(cache, ignore_mismatch=False)

    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError("TensorRT could not build the engine (see its log above)")
    write_atomically(plan_path, lambda file: file.write(plan))
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(cache_path, lambda file: file.write(config.get_timing_cache().serialize()))

    record = metadata.for_plan(settings.profile, trt.__version__, gpu.name,
                               gpu.compute_capability)
    write_plan_metadata(plan_path, record)
    return record
