"""The one record every exported artifact carries: in the ONNX file's metadata_props (key
"vst") and beside a TensorRT plan as NAME.plan.json, with a plan's shape profile. export/
writes it; reading it refuses an artifact whose frames are not core.frame_io.FRAME_IO, and
the engine a plan built for another GPU or TensorRT version."""
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .errors import InputError
from .files import write_atomically
from .frame_io import FRAME_IO, FrameConvention
from .style_mix import StyleMix
from .version import vst_version

METADATA_KEY = "vst"
Resolution = tuple[int, int]  # (width, height), as --min-res 256x256 reads


@dataclass(frozen=True)
class ShapeProfile:
    """The frame sizes one plan accepts; TensorRT tunes its kernels for `opt`."""
    min: Resolution = (256, 256)
    opt: Resolution = (1024, 436)
    max: Resolution = (1920, 1088)

    def __post_init__(self):
        if not all(a <= b for lo, hi in ((self.min, self.opt), (self.opt, self.max)) for a, b in zip(lo, hi)):
            raise InputError(f"shape profile needs min <= opt <= max in width and height, got "
                             f"{self.describe()}")

    def input_shapes(self) -> list[tuple[int, int, int, int]]:
        """(min, opt, max) shapes of the NHWC uint8 input, one frame per call."""
        return [(1, h, w, 3) for w, h in (self.min, self.opt, self.max)]

    def require(self, width: int, height: int) -> None:
        """Refuse a frame size the plan was not built for (TensorRT would fail mid-video)."""
        if not (self.min[0] <= width <= self.max[0] and self.min[1] <= height <= self.max[1]):
            raise InputError(f"frame {width}x{height} is outside the plan's profile {self.describe()}; "
                             "rebuild it with vst-export --min-res/--max-res, or scale the video")

    def describe(self) -> str:
        return " ... ".join(f"{w}x{h}" for w, h in (self.min, self.opt, self.max))

    def as_record(self) -> dict:
        return {"min": list(self.min), "opt": list(self.opt), "max": list(self.max)}

    @classmethod
    def from_record(cls, record: dict) -> "ShapeProfile":
        return cls(**{key: tuple(value) for key, value in record.items()})


@dataclass(frozen=True)
class ArtifactMetadata:
    style: str
    width: int                    # 48 = 353-Res48, 128 = 353-Res128
    upsample: str
    precision: str                # "fp32" | "fp16"
    opset: int
    io: FrameConvention = FRAME_IO
    mix: StyleMix = StyleMix()    # the style mix built into the graph
    profile: ShapeProfile | None = None   # plans only
    tensorrt_version: str | None = None
    gpu_name: str | None = None
    compute_capability: str | None = None   # "9.0"
    vst_version: str = field(default_factory=vst_version)

    def to_json(self) -> str:
        record = asdict(self)
        record.update(io=self.io.as_record(), mix=self.mix.as_record(),
                      profile=None if self.profile is None else self.profile.as_record())
        return json.dumps(record, indent=2)

    @classmethod
    def from_json(cls, text: str, source: Path) -> "ArtifactMetadata":
        try:
            record = json.loads(text)
            profile = record.get("profile")
            metadata = cls(**{**record, "io": FrameConvention.from_record(record["io"]) if "io" in record else FRAME_IO,
                              "mix": StyleMix(**record.get("mix", {})),
                              "profile": None if profile is None else ShapeProfile.from_record(profile)})
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InputError(f"{source}: unreadable vst metadata ({type(exc).__name__}: {exc})") from None
        except InputError as exc:  # a shape profile that is no profile
            raise InputError(f"{source}: {exc}") from None
        if metadata.io != FRAME_IO:
            raise InputError(f"{source}: its frames are {metadata.io.as_record()}; this vst runs "
                             f"{FRAME_IO.as_record()}")
        return metadata

    def for_plan(self, profile: ShapeProfile, tensorrt_version: str, gpu_name: str,
                 compute_capability: str) -> "ArtifactMetadata":
        return replace(self, profile=profile, tensorrt_version=tensorrt_version,
                       gpu_name=gpu_name, compute_capability=compute_capability)

    def check_plan_runs_here(self, plan: Path, tensorrt_version: str, gpu_name: str,
                             compute_capability: str) -> str | None:
        """Raise InputError if the plan cannot run on this TensorRT and GPU (plans are tied
        to both); return a warning when only the GPU model differs within one architecture."""
        rebuild = f"rebuild it here with: vst-export --from {plan.with_suffix('.onnx')} --fp16"
        if self.tensorrt_version != tensorrt_version:
            raise InputError(f"{plan}: built with TensorRT {self.tensorrt_version}, this machine has "
                             f"TensorRT {tensorrt_version}; {rebuild}")
        if self.compute_capability != compute_capability:
            raise InputError(f"{plan}: built for {self.gpu_name} (compute capability "
                             f"{self.compute_capability}), this GPU is {gpu_name} ({compute_capability}); {rebuild}")
        if self.gpu_name != gpu_name:
            return (f"{plan}: built on {self.gpu_name}, running on {gpu_name} (same architecture; "
                    f"tactics may be slower; {rebuild})")
        return None


def plan_metadata_path(plan: Path) -> Path:
    return plan.with_name(plan.name + ".json")


def write_plan_metadata(plan: Path, metadata: ArtifactMetadata) -> None:
    write_atomically(plan_metadata_path(plan), lambda file: file.write(metadata.to_json().encode()))


def read_plan_metadata(plan: Path) -> ArtifactMetadata:
    path = plan_metadata_path(plan)
    if not path.is_file():
        raise InputError(f"{plan}: no {path.name} beside it; rebuild the plan with vst-export")
    return ArtifactMetadata.from_json(path.read_text(), path)


def set_onnx_metadata(model, metadata: ArtifactMetadata) -> None:
    """Store the record in an onnx.ModelProto's metadata_props (replacing an older one)."""
    props = [p for p in model.metadata_props if p.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(props)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, metadata.to_json()


def get_onnx_metadata(model, source: Path) -> ArtifactMetadata:
    return metadata_from_props({prop.key: prop.value for prop in model.metadata_props}, source)


def read_onnx_metadata(path: Path) -> ArtifactMetadata:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several types for a file that is not ONNX
        raise InputError(f"{path}: not a readable ONNX file ({type(exc).__name__})") from None
    return get_onnx_metadata(model, path)


def metadata_from_props(props: dict[str, str], source: Path) -> ArtifactMetadata:
    """The record among an ONNX file's metadata_props (as onnx or OpenVINO reads them)."""
    if METADATA_KEY not in props:
        raise InputError(f"{source}: not exported by vst-export (no vst metadata)")
    return ArtifactMetadata.from_json(props[METADATA_KEY], source)
