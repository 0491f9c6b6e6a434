"""`vst-run`: stylize a video (file, stream URL or camera) into a new one, keeping its frame
rate, timestamps, rotation and audio."""
from pathlib import Path

import click

from vst.core.command import run_command
from vst.core.errors import InputError
from vst.styles import describe_style, shipped_styles

from .choice import RUNTIMES


@click.command("vst-run")
@click.argument("video", required=False)
@click.option("--engine", type=click.Path(path_type=Path), help="NAME.plan (TensorRT), NAME.onnx or NAME.pt.")
@click.option("--style", help="A shipped style.")
@click.option("--backend", "runtime", type=click.Choice(RUNTIMES), default="auto", show_default=True,
              help="What runs the model. auto: TensorRT for a .plan; on a GPU, PyTorch CUDA for a .pt "
                   "or --style, ONNX Runtime CUDA for a .onnx; on a CPU, OpenVINO when installed, else "
                   "ONNX Runtime, else PyTorch.")
@click.option("--list-styles", is_flag=True, help="List the shipped styles and exit.")
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Output video [default: VIDEO's folder, STEM.STYLE.mp4].")
@click.option("--codec", default="auto", show_default=True,
              help="Video encoder: auto (libx264; libvpx-vp9 for .webm), libx265, h264_nvenc, ...")
@click.option("--crf", type=click.IntRange(0, 51), default=18, show_default=True, help="x264/x265/VP9 constant quality (lower is better).")
@click.option("--preset", default="medium", show_default=True, help="x264/x265 speed preset.")
@click.option("--height", type=click.IntRange(8), help="Scale frames to this height before stylizing.")
@click.option("--max-frames", type=click.IntRange(1), help="Stop after N frames (needed to end a camera).")
@click.option("--side-by-side", is_flag=True, help="Write input | output, twice as wide.")
@click.option("--no-audio", is_flag=True, help="Drop the audio track.")
def command(video, engine, style, runtime, list_styles, out, codec, crf, preset, height, max_frames,
            side_by_side, no_audio):
    """Stylize VIDEO frame by frame: decode -> stylize -> encode, pipelined."""
    from .backends import opened_backend
    from .job import VideoJob, stylize_video

    if list_styles:
        click.echo("\n".join(describe_style(name) for name in shipped_styles()))
        return
    if video is None:
        raise InputError("give a VIDEO: a file, a stream URL or a camera (/dev/video0)")
    if (engine is None) == (style is None):
        raise InputError("give one of --engine FILE or --style NAME (--list-styles shows them)")
    job = VideoJob(video, out, codec, crf, preset, height, max_frames, side_by_side, not no_audio)
    with opened_backend(engine, style, lambda notice: click.echo(f"vst-run: {notice}", err=True),
                        runtime) as backend:
        result = stylize_video(job, backend)

    info, times = result.info, result.times
    audio = (", no audio" if not (info.audio and job.audio) else
             f", audio {result.audio_note}" if result.audio_note else f", audio copied ({info.audio})")
    click.echo(f"{result.out}: {times.frames} frames {result.width}x{info.height} at {float(info.fps):g} fps"
               f"{audio}; {times.wall:.1f} s = {times.frames / times.wall:.1f} fps; "
               f"decode {times.throughput('decode'):.0f} fps, stylize {times.throughput('stylize'):.1f} fps "
               f"({backend.name}), encode {times.throughput('encode'):.0f} fps")
    if result.decode_error:
        raise InputError(f"{video}: decoding stopped after {times.frames} frames ({result.decode_error}); "
                         f"{result.out} has the frames that decoded")
    if max_frames is None and info.is_truncated(times.frames):
        raise InputError(f"{video}: truncated: {times.frames} of the {info.expected_frames} frames its "
                         f"header announces decoded; {result.out} has those")


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)

