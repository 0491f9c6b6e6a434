"""The frame I/O contract of every model vst runs (exported graphs, plans, runners): uint8
(N, H, W, 3) RGB in [0, 255], NHWC, in and out, the output the input's size. It is what
decoders hand out and encoders take, so the host moves 1 byte per channel and does no
per-pixel work. No torch here: the runners that read it need none."""
from dataclasses import asdict, dataclass

from .errors import InputError

INPUT_NAME, OUTPUT_NAME = "frames", "stylized"
MAX_SIDE = 8192  # pixels: the largest frame side vst takes (and the exported graphs accept)


def check_scaled_size(source: str, what: str, width: int, height: int) -> None:
    """InputError where `source`'s `what` ("frames", "the image"), scaled by --height to
    width x height, would exceed MAX_SIDE on a side."""
    if max(width, height) > MAX_SIDE:
        raise InputError(f"{source}: {what} would be {width}x{height}; at most {MAX_SIDE} pixels a side "
                         "(lower --height)")


@dataclass(frozen=True)
class FrameConvention:
    """How frames cross a boundary, as the record of a checkpoint or an artifact states it."""
    layout: str                    # "NHWC" | "NCHW"
    channels: str                  # channel order
    dtype: str
    range: tuple[float, float]
    input: str | None = None       # an artifact's tensor names
    output: str | None = None

    def as_record(self) -> dict:
        return {name: list(value) if name == "range" else value
                for name, value in asdict(self).items() if value is not None}

    @classmethod
    def from_record(cls, record: dict) -> "FrameConvention":
        return cls(**{**record, "range": tuple(record["range"])})


FRAME_IO = FrameConvention("NHWC", "RGB", "uint8", (0, 255), INPUT_NAME, OUTPUT_NAME)
