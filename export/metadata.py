"""The one record every exported artifact carries: in the ONNX file's metadata_props (key
"vst") and beside a TensorRT plan as NAME.plan.json. The engine reads it to know the I/O
and to refuse a plan built for another GPU or TensorRT version."""
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from vst.core.errors import InputError
from vst.core.style_mix import StyleMix
from vst.core.files import write_atomically
from vst.core.version import vst_version

from .frame_model import FRAME_IO

METADATA_KEY = "vst"


@dataclass(frozen=True)
class ArtifactMetadata:
    style: str
    width: int                    # 48 = 353-Res48, 128 = 353-Res128
    upsample: str
    precision: str                # "fp32" | "fp16"
    opset: int
    io: dict = field(default_factory=lambda: dict(FRAME_IO))
    mix: dict = field(default_factory=lambda: StyleMix().as_record())  # the style mix in the graph
    profile: dict | None = None   # plans only: {"min"|"opt"|"max": [W, H]}
    tensorrt_version: str | None = None
    gpu_name: str | None = None
    compute_capability: str | None = None   # "9.0"
    vst_version: str = field(default_factory=vst_version)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str, source: Path) -> "ArtifactMetadata":
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError) as exc:
            raise InputError(f"{source}: unreadable vst metadata ({exc})") from None

    @property
    def style_mix(self) -> StyleMix:
        try:
            return StyleMix(**self.mix)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{self.style}: unreadable style mix in its vst metadata ({exc})") from None

    def for_plan(self, profile: dict, tensorrt_version: str, gpu_name: str,
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


def metadata_from_props(props: dict[str, str], source: Path) -> ArtifactMetadata:
    """The record among an ONNX file's metadata_props (as onnx or OpenVINO reads them)."""
    if METADATA_KEY not in props:
        raise InputError(f"{source}: not exported by vst-export (no vst metadata)")
    return ArtifactMetadata.from_json(props[METADATA_KEY], source)
