"""`vst-run`: stylize videos (files, stream URLs, cameras) into new ones, keeping their frame
rate, timestamps, rotation, audio and subtitles, and still images into images of the same size and
format; folders of them too."""
from pathlib import Path

import click

from vst.core.command import HELP, FiniteRange, TimeParam, run_command
from vst.core.errors import InputError
from vst.styles import describe_style, shipped_styles

from .choice import BACKENDS
from .openvino_runner import PRECISIONS


@click.command("vst-run", context_settings=HELP)
@click.argument("inputs", nargs=-1)
@click.option("--engine", type=click.Path(path_type=Path), help="NAME.plan (TensorRT), NAME.onnx or NAME.pt.")
@click.option("--style", help=f"A shipped style: {', '.join(shipped_styles())} (--list-styles describes them).")
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True,
              help="What runs the model. auto: TensorRT for a .plan; on a GPU, PyTorch CUDA for a .pt "
                   "or --style, ONNX Runtime CUDA for a .onnx; on a CPU, OpenVINO when installed, else "
                   "ONNX Runtime, else PyTorch.")
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True,
              help="OpenVINO's number format. auto: the fastest this CPU has that stays close to FP32 "
                   "on a real frame: INT8 (ONNX models and styles, x86 CPUs with AVX2), then BF16, then FP32.")
@click.option("--strength", type=FiniteRange(0, 1), default=1.0, show_default=True,
              help="How much style: 0 gives the input back, 1 the full style.")
@click.option("--preserve-color", is_flag=True, help="Keep the input's colours; take the style's texture (luminance only).")
@click.option("--list-styles", is_flag=True, help="List the shipped styles and exit.")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="Output file; a folder for a folder or several inputs [default: beside each input, "
                   "STEM.STYLE.mp4 (.mkv for an .mkv, keeping all its streams) or STEM.STYLE.EXT; "
                   "FOLDER.STYLE for a folder].")
@click.option("--codec", default="auto", show_default=True,
              help="Video encoder: auto (libx264; libvpx-vp9 for .webm), libx265, h264_nvenc, ...")
@click.option("--crf", type=click.IntRange(0, 51),
              help="x264/x265/VP9 constant quality (lower is better) [default: 18]; other encoders take none.")
@click.option("--preset", default="auto", show_default=True,
              help="x264/x265 speed preset (other encoders take none). auto: ultrafast where the model runs on the CPU (the encoder shares "
                   "its cores; a quarter of medium's CPU time, more bytes at the same CRF), medium on a GPU.")
@click.option("--height", type=click.IntRange(8), help="Scale frames (and images) to this height before stylizing.")
@click.option("--max-frames", type=click.IntRange(1), help="Stop after N frames (needed to end a camera).")
@click.option("--start", type=TimeParam(), default=0.0,
              help="Begin this far into each video: SECONDS or [HH:]MM:SS[.s]; the output starts there, "
                   "audio, subtitles and chapters with it [default: 0].")
@click.option("--end", type=TimeParam(), help="End this far into each video (its time, not the output's).")
@click.option("--side-by-side", is_flag=True, help="Write input | output, twice as wide.")
@click.option("--no-audio", is_flag=True, help="Leave out the audio tracks.")
@click.option("--no-subtitles", is_flag=True, help="Leave out the subtitle streams and the attachments (their fonts); a cover picture stays.")
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Ray workers, each with its own backend: one GPU each where there are GPUs, else a "
                   "share of the CPU cores. 1 runs in this process, without Ray. Needs vst[cluster].")
@click.option("--ray-address", help="Join this Ray cluster (e.g. ray://head:10001) instead of starting "
                                    "Ray here; its workers must see the inputs and outputs at the same paths.")
@click.option("--chunk-seconds", type=FiniteRange(0), help="With workers: cut videos at the first keyframe "
              "S seconds or more after each cut, so one long video spreads over them; 0: never "
              "[default: about two chunks per worker over the batch, at least 2 s].")
def command(inputs, engine, style, backend, precision, strength, preserve_color, list_styles, out, codec, crf, preset,
            height, max_frames, start, end, side_by_side, no_audio, no_subtitles, workers, ray_address, chunk_seconds):
    """Stylize INPUTS (videos, images, folders of them, a stream URL or a camera) frame by
    frame: decode -> stylize -> encode, pipelined."""
    from vst.core.style_mix import StyleMix

    from .runner import ModelSpec
    from .batch import stylize_inputs
    from .cluster import Scaling
    from .inputs import check_inputs
    from .job import VideoSettings

    if list_styles:
        click.echo("\n".join(describe_style(name) for name in shipped_styles()))
        return
    check_inputs(list(inputs))
    if engine is None and style is None:
        raise InputError("give one of --engine FILE or --style NAME (--list-styles shows them)")
    if engine is not None and style is not None:
        raise InputError("give --engine FILE or --style NAME, not both")
    if end is not None and end <= start:
        raise InputError(f"--end {end:g} s must come after --start {start:g} s")
    settings = VideoSettings(codec=codec, crf=crf, preset=preset, height=height, max_frames=max_frames,
                             side_by_side=side_by_side, audio=not no_audio, subtitles=not no_subtitles,
                             start=start, end=end)
    tell = lambda notice: click.echo(f"vst-run: {notice}", err=True)  # noqa: E731
    model = ModelSpec(engine, style, backend, StyleMix(strength, preserve_color), precision)
    outcomes = stylize_inputs(list(inputs), out, model, settings, Scaling(workers, ray_address, chunk_seconds),
                              click.echo, tell)
    for note in (note for outcome in outcomes for note in outcome.notes):
        tell(note)
    failed = [outcome.error for outcome in outcomes if outcome.error]
    for error in failed[:-1]:
        tell(f"error: {error}")
    if failed:
        last = failed[-1]  # its kind sets the exit status: 2 for bad input, 1 otherwise
        raise last if len(outcomes) == 1 else type(last)(f"{last} ({len(failed)} of {len(outcomes)} inputs failed)")


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)


if __name__ == "__main__":
    main()
