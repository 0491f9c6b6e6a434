"""`vst-bench`: per-frame timing of Res48 vs Res128 on every backend here (stylize only), or
one video through vst-run's whole pipeline (--video)."""
from pathlib import Path

import click

from vst.core.command import HELP, FiniteRange, parse_resolution, require_writable_folder, run_command
from vst.core.errors import CommandError, InputError
from vst.core.paths import portable
from vst.core.style_mix import StyleMix
from vst.core.stylizer import UPSAMPLERS
from vst.engine.choice import BACKENDS
from vst.engine.openvino_runner import PRECISIONS
from vst.samples import SAMPLE_CLIP

from .runners import BENCH_BACKENDS

BACKEND_KEYS = [b.key for b in BENCH_BACKENDS]
PROFILE_MIN_SIDE = 16  # the network works at a quarter of the frame, its pads need a few pixels there


def parse_list(choices: list[str]):
    def parse(ctx, param, value: str | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        items = tuple(v.strip() for v in value.split(",") if v.strip())
        unknown = [v for v in items if v not in choices]
        if unknown or not items:
            raise click.BadParameter(f"{value!r}: choose from {','.join(choices)}")
        return items
    return parse


@click.command("vst-bench", context_settings=HELP)
@click.option("--res", default="1024x436", show_default=True, callback=parse_resolution,
              help="Frame size for stylize-only timing (the paper's is 1024x436).")
@click.option("--backends", callback=parse_list(BACKEND_KEYS),
              help=f"Comma-separated keys, each the --backend, its device where it has two, and the number "
                   f"format: {','.join(BACKEND_KEYS)} [default: all; those that cannot run here say why].")
@click.option("--models", default="48,128", show_default=True, callback=parse_list(["48", "128"]),
              help="Residual widths: 353-Res48, 353-Res128.")
@click.option("--upsample", type=click.Choice(UPSAMPLERS), default="subpixel", show_default=True,
              help="The decoder of the timed networks: subpixel (a resize up block, then the sub-pixel tail) as "
                   "every shipped style, resize (nearest, then conv) as they were first trained, deconv as the "
                   "paper's.")
@click.option("--frames", type=click.IntRange(1), help="Timed frames per figure [default: 5 on CPU, 50 on GPU].")
@click.option("--warmup", type=click.IntRange(0), help="Untimed frames first [default: 2 on CPU, 10 on GPU].")
@click.option("--clip", type=click.Path(path_type=Path), default=SAMPLE_CLIP,
              help="Video whose first frames, resized to --res, are the input [default: the sample clip].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random weights.")
@click.option("--video", help="End to end: run this video through vst-run's pipeline.")
@click.option("--engine", type=click.Path(path_type=Path),
              help="With --video: NAME.plan, NAME.onnx or NAME.pt; stylize only: a checkpoint NAME.pt, alone or "
                   "beside --style (e.g. the network a style replaced), a column of its own.")
@click.option("--style", help="A shipped style: its weights for the stylize-only timing (Res48; random weights "
              "by default), or the model of --video, --scaling, --profile.")
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True,
              help="With --video or --scaling: what runs the model, as vst-run --backend.")
@click.option("--height", type=click.IntRange(8), help="With --video or --scaling: scale frames to this height.")
@click.option("--max-frames", type=click.IntRange(1), help="With --video or --scaling: stop after N frames.")
@click.option("--crf", type=click.IntRange(0, 51),
              help="With --video: x264's CRF, as vst-run --crf [default: vst-run's].")
@click.option("--preset", help="With --video: x264's preset, as vst-run --preset [default: vst-run's].")
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True,
              help="With --video or --scaling: OpenVINO's number format, as vst-run --precision.")
@click.option("--strength", type=FiniteRange(0, 1), default=1.0, show_default=True,
              help="Time with this style strength, as vst-run --strength (inside every graph).")
@click.option("--preserve-color", is_flag=True, help="Time with luminance-only transfer, as vst-run.")
@click.option("--scaling", multiple=True, help="Time these videos (repeat it) as a batch, and the first one "
              "cut into chunks, on each of --workers (with --engine or --style; needs vst[cluster]).")
@click.option("--workers", default="1,2", show_default=True, help="With --scaling: the worker counts.")
@click.option("--profile", "profile_sizes", help="Per-layer profile of the default path (--style's ONNX, default "
              "candy, or --engine NAME.onnx, on OpenVINO in --precision) at these comma-separated sizes, e.g. "
              "1024x436,1280x720,1920x1080 (--frames runs each, default 20).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write every figure and the machine here.")
@click.option("--plot", type=click.Path(path_type=Path), help="Bar chart PNG of the stylize-only timing (needs matplotlib).")
def command(res, backends, models, upsample, frames, warmup, clip, seed, video, engine, style, backend, height,
            max_frames, crf, preset, precision, strength, preserve_color, scaling, workers, profile_sizes, json_path,
            plot):
    """Time the stylizers: Res48 vs Res128 per frame on each backend (default), or a whole
    video end to end (--video with --engine or --style)."""
    for path in filter(None, (json_path, plot)):
        require_writable_folder(path)
    if profile_sizes and (video or scaling or plot or backend != "auto" or height or max_frames):
        raise InputError("--profile goes with --style or --engine, --precision, --frames and --json alone: "
                         "not with --video, --scaling, --plot, --backend, --height or --max-frames")
    if video is None and not scaling and not profile_sizes and (backend != "auto" or height or max_frames
                                                                or precision != "auto"):
        raise InputError("--backend, --precision, --height and --max-frames go with --video or --scaling "
                         "(--precision also with --profile)")
    if video is None and (crf is not None or preset is not None):
        raise InputError("--crf and --preset go with --video")
    if video is not None and plot:
        raise InputError("--plot charts the stylize-only timing; drop --video for it")
    if plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise InputError("--plot needs matplotlib: pip install 'vst[bench]'") from None
    command_line = click.get_current_context().obj
    mix = StyleMix(strength, preserve_color)
    if profile_sizes:
        bench_profile(profile_sizes, engine, style, precision, frames or 20, json_path, command_line)
    elif scaling:
        bench_workers(list(scaling), engine, style, backend, precision, height, max_frames, mix, workers, json_path,
                      command_line)
    elif video is not None:
        bench_end_to_end(video, engine, style, backend, precision, height, max_frames, crf, preset, frames, warmup,
                         mix, json_path, command_line)
    else:
        bench_stylize_only(res, backends, models, upsample, style, engine, frames, warmup, clip, seed, mix,
                           json_path, plot, command_line)


def bench_stylize_only(res, backends, models, upsample, style, checkpoint, frames, warmup, clip, seed, mix,
                       json_path, plot, command_line):
    from . import report
    from .machine import machine_facts, measure_peak
    from .stylize_only import StylizeBench, bench_stylize, floors, log

    if style is not None:
        from vst.styles import shipped_checkpoint

        shipped_checkpoint(style)  # or the line every command gives for a style it does not ship
    if checkpoint is not None:
        if checkpoint.suffix != ".pt":
            raise InputError(f"--engine {checkpoint}: stylize-only timing takes a checkpoint, NAME.pt")
        if not checkpoint.is_file():
            raise InputError(f"{checkpoint}: no such checkpoint")
        if checkpoint.stem == style:
            raise InputError(f"--engine {checkpoint} is named like --style {style}: its column would be too")
    if style is not None or checkpoint is not None:
        given = [f"--{name}" for name in ("models", "upsample", "seed") if click.get_current_context()
                 .get_parameter_source(name) != click.core.ParameterSource.DEFAULT]
        if given:
            raise InputError(f"--style and --engine time their own network and weights: drop {', '.join(given)}")
        models = ()  # their columns are named by them (BenchModel.label)
    settings = StylizeBench(*res, Path(clip), backends or tuple(BACKEND_KEYS),
                            tuple(int(m) for m in models), frames, warmup, seed, mix, upsample, style, checkpoint)
    machine = machine_facts()
    results = bench_stylize(settings)
    ran = [r for r in results.results if r.with_copies]
    log("measuring the machine's peaks")
    peaks = {device: measure_peak(device) for device in ("cpu", "cuda")
             if device == "cpu" or any(r.backend.device == device for r in ran)}
    limits = floors(results, peaks)
    mixed = "" if mix.is_plain else (f"; with --strength {mix.strength:g}"
                                     + (" --preserve-color" if mix.preserve_color else "") + " in the graph")
    weights = (f"the weights of {report.weights_phrase(settings)}" if style or checkpoint else
               f"up blocks {upsample}, random weights (seed {seed}; time does not depend on them)")
    click.echo(f"Stylize only, {res[0]}x{res[1]}{mixed}: real frames of {Path(clip).name} resized; {weights}; "
               f"median [p10-p90] over the timed frames\n"
               f"machine: {machine.describe()}\n{report.peaks_line(peaks)}\n")
    click.echo(report.stylize_table(results) + "\n")
    if ran:
        click.echo(report.floor_table(limits))
    if json_path:
        report.write_json(json_path, report.stylize_record(results, machine, peaks, limits, command_line))
    if plot and ran:
        report.write_plot(plot, results, machine)
    if not ran:
        raise CommandError("none of the chosen backends can run here (reasons in the table)")


def bench_profile(sizes: str, engine: Path | None, style: str | None, precision: str, runs: int, json_path,
                  command_line):
    from vst.styles import shipped_model

    from . import report
    from .machine import machine_facts, measure_peak
    from .profile import profile_model, profile_tables

    if engine and style:
        raise InputError("--profile takes one of --style NAME or --engine NAME.onnx")
    if engine and engine.suffix != ".onnx":
        raise InputError(f"--profile --engine {engine}: give an ONNX file (vst-export writes one from a checkpoint)")
    if engine and not engine.is_file():
        raise InputError(f"{engine}: no such engine file")
    if engine:
        model, named = engine, f"--engine {portable(engine)}"
    else:
        model, named = shipped_model(style or "candy", ".onnx"), f"--style {style or 'candy'}"

    try:
        shapes = [parse_resolution(None, None, size.strip()) for size in sizes.split(",")]
    except click.BadParameter as exc:
        raise InputError(f"--profile {sizes!r}: {exc.message}") from None
    if min(min(shape) for shape in shapes) < PROFILE_MIN_SIDE:
        raise InputError(f"--profile {sizes!r}: frames of at least {PROFILE_MIN_SIDE}x{PROFILE_MIN_SIDE}")
    machine, peak = machine_facts(), measure_peak("cpu")
    profiles = profile_model(model, shapes, runs, precision)
    chosen, precision = precision == "auto", profiles[0].precision
    # no INT8 peak is measured: INT8 convolutions are set against BF16's where there is one
    against = precision if precision in peak.flops else "bf16" if "bf16" in peak.flops else "fp32"
    flops = peak.flops[against]
    click.echo(f"Profile of {named} on OpenVINO in {precision.upper()}"
               f"{' (what vst-run runs on this CPU)' if chosen else ''}, "
               f"OpenVINO's performance counters, median of {runs} runs per node; convolutions against the "
               f"{against.upper()} peak\nmachine: {machine.describe()}\n{report.peaks_line({'cpu': peak})}\n")
    click.echo(profile_tables(profiles, flops))
    if json_path:
        report.write_json(json_path, {"tool": "vst-bench", "mode": "profile", "command": command_line,
                                      "machine": machine.as_record(), "peak": peak.as_record(), "model": named,
                                      "convolutions_against": against,
                                      "profiles": [p.as_record(flops) for p in profiles]})


def bench_end_to_end(video, engine, style, backend, precision, height, max_frames, crf, preset, frames, warmup,
                     mix, json_path, command_line):
    import torch

    from vst.engine.runner import opened_runner

    from . import report
    from .end_to_end import VideoBench, bench_video
    from .machine import machine_facts
    from .stylize_only import DEFAULT_FRAMES, DEFAULT_WARMUP

    if (engine is None) == (style is None):
        raise InputError("--video needs one of --engine FILE or --style NAME")
    device = "cuda" if torch.cuda.is_available() else "cpu"  # where a GPU is, the backend uses it
    encoder = {name: value for name, value in (("crf", crf), ("preset", preset)) if value is not None}
    settings = VideoBench(video, height, max_frames, frames or DEFAULT_FRAMES[device],
                          warmup if warmup is not None else DEFAULT_WARMUP[device], **encoder)
    with opened_runner(engine, style, lambda notice: click.echo(f"vst-bench: {notice}", err=True),
                       backend, mix, precision) as runner:
        results = bench_video(settings, runner)
    machine = machine_facts()
    click.echo(f"End to end: {video} through vst-run's pipeline (decode -> stylize -> encode with libx264, "
               f"no audio); stylize-only = the same backend on the video's first frames alone, median of "
               f"{settings.frames}\nmachine: {machine.describe()}\n")
    click.echo(report.video_table(results))
    if json_path:
        report.write_json(json_path, report.video_record(results, machine, command_line))


def bench_workers(videos, engine, style, backend, precision, height, max_frames, mix, workers, json_path,
                  command_line):
    from vst.engine.runner import ModelSpec
    from vst.engine.job import VideoSettings

    from . import report
    from .machine import machine_facts
    from .scaling import bench_scaling, scaling_table

    if (engine is None) == (style is None):
        raise InputError("--scaling needs one of --engine FILE or --style NAME")
    try:
        counts = sorted({int(n) for n in workers.split(",")})
    except ValueError:
        raise InputError(f"--workers {workers!r}: give worker counts, e.g. 1,2") from None
    if not counts or counts[0] < 1:
        raise InputError(f"--workers {workers!r}: counts start at 1")
    runs = bench_scaling(videos, ModelSpec(engine, style, backend, mix, precision),
                         VideoSettings(height=height, max_frames=max_frames), counts)
    machine = machine_facts()
    click.echo(f"Scaling: {len(videos)} videos as a batch, and {videos[0]} alone in chunks; wall time from the "
               f"call to the last file, Ray's start and model loading included\nmachine: {machine.describe()}\n")
    click.echo(scaling_table(runs))
    if json_path:
        report.write_json(json_path, {"tool": "vst-bench", "mode": "scaling", "command": command_line,
                                      "machine": machine.as_record(), "videos": [portable(v) for v in videos],
                                      "results": [run.as_record() for run in runs]})


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)
