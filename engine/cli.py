"""`vst-run`: stylize a video (file, stream URL or camera) into a new one, keeping its frame
rate, timestamps, rotation and audio."""
import os
from pathlib import Path

import click
import numpy as np

from vst.train.command import require_writable_folder, run_command
from vst.train.errors import InputError
from vst.train.files import temporary_sibling
from vst.train.shipped import shipped_styles

CONTAINERS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov", ".webm": "webm", ".avi": "avi"}


def default_output(video: str, style: str) -> Path:
    path = Path(video)
    if path.is_file():
        return path.with_name(f"{path.stem}.{style}.mp4")
    return Path(f"{'camera' if video.startswith('/dev/') else 'stream'}.{style}.mp4")


def input_beside_output(source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    return np.concatenate([source, stylized], axis=1)


@click.command("vst-run")
@click.argument("video", required=False)
@click.option("--engine", type=click.Path(path_type=Path), help="NAME.plan (TensorRT), NAME.onnx or NAME.pt.")
@click.option("--style", help="A shipped style, on PyTorch (CUDA when present).")
@click.option("--list-styles", is_flag=True, help="List the shipped styles and exit.")
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Output video [default: VIDEO's folder, STEM.STYLE.mp4].")
@click.option("--codec", default="libx264", show_default=True, help="libx264, libx265, h264_nvenc, ...")
@click.option("--crf", type=click.IntRange(0, 51), default=18, show_default=True, help="x264/x265 quality.")
@click.option("--preset", default="medium", show_default=True, help="x264/x265 speed preset.")
@click.option("--height", type=click.IntRange(8), help="Scale frames to this height before stylizing.")
@click.option("--max-frames", type=click.IntRange(1), help="Stop after N frames (needed to end a camera).")
@click.option("--side-by-side", is_flag=True, help="Write input | output, twice as wide.")
@click.option("--no-audio", is_flag=True, help="Drop the audio track.")
def command(video, engine, style, list_styles, out, codec, crf, preset, height, max_frames,
            side_by_side, no_audio):
    """Stylize VIDEO frame by frame: decode -> stylize -> encode, pipelined."""
    from tqdm import tqdm

    from .backends import open_backend
    from .pipeline import run_pipeline
    from .video_io import VideoReader, VideoWriter

    if list_styles:
        click.echo("\n".join(shipped_styles()))
        return
    if video is None:
        raise InputError("give a VIDEO: a file, a stream URL or a camera (/dev/video0)")
    if (engine is None) == (style is None):
        raise InputError("give one of --engine FILE or --style NAME (--list-styles shows them)")
    backend = open_backend(engine, style)
    reader = writer = None
    try:
        reader = VideoReader(video, height, audio=not no_audio)
        out = out or default_output(video, backend.style)
        if out.suffix.lower() not in CONTAINERS:
            raise InputError(f"{out}: unknown container; use one of {' '.join(CONTAINERS)}")
        require_writable_folder(out)
        if Path(video).exists() and out.resolve() == Path(video).resolve():
            raise InputError(f"{out}: would overwrite the input")
        info = reader.info
        temporary = temporary_sibling(out)
        try:
            writer = VideoWriter(temporary, CONTAINERS[out.suffix.lower()], info,
                                 info.width * (2 if side_by_side else 1), codec, crf, preset, reader.audio)
            total = min(filter(None, (info.frames, max_frames)), default=None)
            with tqdm(total=total, unit="frame", desc=backend.name, dynamic_ncols=True) as bar:
                times = run_pipeline(reader, backend.submit, writer.write_frame, writer.write_audio,
                                     backend.collect, backend.depth,
                                     input_beside_output if side_by_side else None, max_frames, bar.update)
            writer.close()
            writer = None
            if times.frames == 0:
                raise InputError(f"{video}: no frame could be decoded")
            os.replace(temporary, out)
        finally:
            if writer is not None:
                writer.abandon()
            temporary.unlink(missing_ok=True)
    finally:
        backend.close()
        if reader is not None:
            reader.close()

    audio = f", audio copied ({info.audio})" if info.audio and not no_audio else ", no audio"
    click.echo(f"{out}: {times.frames} frames {info.width * (2 if side_by_side else 1)}x{info.height} "
               f"at {float(info.fps):g} fps{audio}; {times.wall:.1f} s = {times.frames / times.wall:.1f} fps; "
               f"decode {times.throughput('decode'):.0f} fps, stylize {times.throughput('stylize'):.1f} fps "
               f"({backend.name}), encode {times.throughput('encode'):.0f} fps")
    if reader.error:
        raise InputError(f"{video}: decoding stopped after {reader.decoded} frames ({reader.error}); "
                         f"{out} has the frames that decoded")
    if max_frames is None and info.is_truncated(times.frames):
        raise InputError(f"{video}: truncated: {times.frames} of the {info.expected_frames} frames its "
                         f"header announces decoded; {out} has those")


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)

