"""`python -m vst.release.gallery`: the picture strips of the README and docs/ (JPEG for a
page, PNG lossless), from shipped styles or checkpoints, each frame stylized in FP32 by the
FrameModel every backend is checked against.

  style strip    the style image | an input frame | its stylized frame     (ship --gallery)
  mix strip      the input | strength 0.25 | 0.5 | 1 | preserve-color      (--mix)
  before/after   the input | checkpoint A | checkpoint B, at each height     (--before A --after B)
"""
from pathlib import Path

import click
import numpy as np
import torch

from vst.core.checkpoint import Checkpoint
from vst.core.command import HELP, require_writable_folder, run_command
from vst.core.errors import InputError
from vst.core.frame_model import frame_model
from vst.core.images import read_image, resize, scale_to_height, write_image
from vst.core.quality import REFERENCE_FRAME
from vst.core.style_mix import StyleMix
from vst.core.stylizer import Stylizer
from vst.styles import shipped_checkpoint

GAP = 8  # white pixels between the pictures of a strip
PAGE_JPEG_QUALITY = 68  # a 2344 x 714 before/after strip of the shipped styles stays under 380 KB, for a web page
MIX_STRIP = (StyleMix(0.25), StyleMix(0.5), StyleMix(1.0), StyleMix(preserve_color=True))


def stylized(stylizer: Stylizer, frame: np.ndarray, mix: StyleMix = StyleMix()) -> np.ndarray:
    """uint8 (H, W, 3) RGB -> the same, stylized in FP32 with `mix`."""
    with torch.no_grad():
        return frame_model(stylizer, "fp32", mix)(torch.from_numpy(frame[None])).numpy()[0]


def strip(pictures: list[np.ndarray]) -> np.ndarray:
    """Side by side, each scaled to the first one's height, a white gap between them."""
    height = pictures[0].shape[0]
    gap = np.full((height, GAP, 3), 255, np.uint8)
    parts = [part for picture in pictures for part in (gap, scale_to_height(picture, height))]
    return np.concatenate(parts[1:], axis=1)


def style_strip(style_image: Path, frame: np.ndarray, stylizer: Stylizer) -> np.ndarray:
    """The style image, scaled to the frame's height, | the frame | the stylized frame."""
    style = scale_to_height(read_image(style_image), frame.shape[0])
    return strip([style, frame, stylized(stylizer, frame)])


THUMBNAIL = (256, 144)  # (W, H) of the picture each style ships for pickers (vst-app)


def thumbnail(frame: np.ndarray, stylizer: Stylizer) -> np.ndarray:
    """The frame stylized at its own size, then scaled down to THUMBNAIL."""
    return resize(stylized(stylizer, frame), *THUMBNAIL)


def mix_strip(frame: np.ndarray, stylizer: Stylizer) -> np.ndarray:
    return strip([frame] + [stylized(stylizer, frame, mix) for mix in MIX_STRIP])


def before_after(frame: np.ndarray, before: Stylizer, after: Stylizer, heights: tuple[int, ...]) -> np.ndarray:
    """One row per height (frame resized to it, 16:9 kept): input | before | after, stacked
    at the widest row's width on white."""
    rows = []
    for height in heights:
        width = 2 * round(frame.shape[1] * height / frame.shape[0] / 2)
        sized = resize(frame, width, height)
        rows.append(strip([sized, stylized(before, sized), stylized(after, sized)]))
    width = max(row.shape[1] for row in rows)
    padded = [np.pad(row, ((0, GAP), (0, width - row.shape[1]), (0, 0)), constant_values=255) for row in rows]
    return np.concatenate(padded)[:-GAP]


def load_stylizer(model: str) -> Stylizer:
    """A shipped style's name or a checkpoint path."""
    path = Path(model)
    return Checkpoint.load(path if path.suffix == ".pt" else shipped_checkpoint(model)).stylizer


def parse_heights(ctx, param, value: str) -> tuple[int, ...]:
    try:
        heights = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a list of heights, e.g. 270,436") from None
    if min(heights) < 8:
        raise click.BadParameter(f"{value!r}: every height must be at least 8")
    return heights


@click.command("vst-gallery", context_settings=HELP)
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--style", "model", help="Shipped style or checkpoint for --mix.")
@click.option("--mix", is_flag=True, help="input | strength 0.25 | 0.5 | 1 | preserve-color.")
@click.option("--before", help="Shipped style or checkpoint: the left model of a before/after strip.")
@click.option("--after", help="Checkpoint or shipped style: the right model.")
@click.option("--heights", default="270,436", show_default=True, callback=parse_heights,
              help="Rows of the before/after strip, comma-separated.")
@click.option("--frame", type=click.Path(path_type=Path), default=REFERENCE_FRAME,
              help="The input frame [default: vst.core's reference frame].")
def command(out, model, mix, before, after, heights, frame):
    """Write a gallery strip to OUT (JPEG or PNG, by its suffix)."""
    require_writable_folder(out)
    picture = read_image(frame)
    if mix == bool(before or after):
        raise InputError("give --mix (with --style) or --before and --after")
    if mix:
        if not model:
            raise InputError("--mix needs --style NAME or a checkpoint")
        image = mix_strip(picture, load_stylizer(model))
    else:
        if not (before and after):
            raise InputError("give both --before and --after")
        image = before_after(picture, load_stylizer(before), load_stylizer(after), heights)
    write_image(out, image, PAGE_JPEG_QUALITY)
    click.echo(f"wrote {out} ({image.shape[1]}x{image.shape[0]})")


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)


if __name__ == "__main__":
    main()
