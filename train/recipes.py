"""Training recipes as data: the settings of one training stage (`Recipe`), the named recipes
`vst-train --recipe NAME` takes, and every stage of every shipped style (`STAGES`), each a
recipe bound to its style image, data and the stage it starts from.

A plain `vst-train --style-image X.jpg --data DIR --out X.pt` trains with the recipe "video", the
first stage of every shipped style; an option given on the command line overrides the
recipe's value. `vst-train --recipe STAGE --out RUN.pt` reproduces a shipped stage exactly,
starting from OUT's folder/INIT.pt (training/reproduce.sh runs a style's chain), and a model
card names the stage it was shipped from under "recipe". Paths of the shipped stages are
relative to the repository (the shared data sits beside it, in ../shared/data).
"""
from dataclasses import dataclass, field, replace

import click

from vst.core.command import HELP, run_command
from vst.core.errors import InputError

from .losses import LossWeights


@dataclass(frozen=True)
class Recipe:
    """Every setting of one training stage but its files (style image, data, output)."""
    width: int = 48                          # 48 = 353-Res48, 128 = 353-Res128
    upsample: str | None = "resize"          # nearest resize + conv: no deconv checkerboard; None: the init's
    size: tuple[int, int] = (256, 144)       # training frame (width, height)
    style_size: int | None = 512             # style image's longer side; None: the frame's
    iters: int = 6000
    batch_size: int = 2                      # frame pairs per iteration
    lr: float = 1e-3
    weights: LossWeights = field(default_factory=LossWeights)
    long_term: bool = False
    flow: str = "dis"
    max_pairs_per_video: int | None = 200    # evenly spaced pairs per video; None: all
    photo_motion: float = 4.0                # scale of the photo pairs' synthetic motion
    start_from: str | None = None            # a shipped style whose weights it fine-tunes (unless --init)


def settings_of(recipe: Recipe) -> dict:
    """The recipe's fields by name, values as they are (not dicts, unlike asdict)."""
    return {name: getattr(recipe, name) for name in Recipe.__dataclass_fields__}


def recipe_named(name: str | None) -> Recipe:
    """The settings a recorded run names by `recipe`: a stage's, a named recipe's, else the
    default recipe's (a run that predates recipe names)."""
    return STAGES[name].recipe if name in STAGES else RECIPES.get(name, RECIPES["video"])


def style_up(recipe: Recipe, iters: int, **weights: float) -> Recipe:
    return replace(recipe, iters=iters, weights=replace(recipe.weights, **weights))


VIDEO = Recipe()
RECIPES = {
    "video": VIDEO,
    # a second stage like the shipped styles' (each varies it, STAGES below): from --init, 4x
    # the style weight, the grid term against a pattern fixed to the output's 4-pixel phase
    "finetune": replace(style_up(VIDEO, 1500, style=2.0, grid=2.0), upsample=None),
    # a new style in minutes on a CPU: a shipped model's weights (the one that adapted fastest
    # to styles no model was trained on: docs/training.md, "Your own style") fine-tuned with
    # the weights of gothic's second stage, from photos alone (synthetic motion) or clips
    "quick": Recipe(upsample=None, iters=800, start_from="composition_vii",
                    weights=LossWeights(style=2.0, grid=2.0, temporal=2000.0)),
    # the paper's settings (section 4.1) with vst's loss scaling: days on a CPU
    "paper": Recipe(upsample="deconv", size=(640, 360), style_size=None, iters=80_000,
                    weights=LossWeights(temporal=100.0), max_pairs_per_video=None, photo_motion=1.0),
}

FINE_TUNING = ("finetune",)  # recipes that only fine-tune: they need --init, the model to start from

SHARED = "../shared/data"
DATA = (f"{SHARED}/videos", f"{SHARED}/photos")
HELD_OUT = ("*paragliding-launch*", "*flipping_a_pancake*", "*03_blocks*", "*/bikes.mp4")  # scored, never trained on


@dataclass(frozen=True)
class Stage:
    """One stage of a shipped style: a recipe on a style image and data, from `init` (the
    name of the stage whose weights it starts from) or from scratch."""
    name: str
    style: str
    recipe: Recipe
    init: str | None = None
    data: tuple[str, ...] = DATA
    exclude: tuple[str, ...] = HELD_OUT


def _chain(style: str, *stages: tuple[str, Recipe]) -> list[Stage]:
    """Stages each starting from the one before."""
    return [Stage(name, style, recipe, stages[i - 1][0] if i else None)
            for i, (name, recipe) in enumerate(stages)]


_J = f"{SHARED}/styles/jcjohnson_fast-neural-style"
_CANDY_FIRST = replace(VIDEO, iters=10_000, style_size=256)  # the frame's longer side
_CANDY_512 = replace(VIDEO, iters=3000)
_B4 = style_up(VIDEO, 750, style=4.0, grid=2.0)


def _lam(recipe: Recipe, temporal: float) -> Recipe:
    return replace(recipe, weights=replace(recipe.weights, temporal=temporal))


STAGES = {stage.name: stage for stage in [
    # candy and its per-frame twin (lambda 0, Table 2's baseline): identical but lambda
    *_chain(f"{_J}/candy.jpg", ("candy", _CANDY_FIRST), ("candy_ft", _lam(_CANDY_512, 1000)),
            ("candy_ft2", style_up(VIDEO, 1500, style=2.0, temporal=1000)),
            ("candy_grid4000", style_up(VIDEO, 1500, style=2.0, grid=2.0, temporal=4000)),
            ("candy_b4l5000", _lam(_B4, 5000))),
    *_chain(f"{_J}/candy.jpg", ("candy_no_temporal", _lam(_CANDY_FIRST, 0)),
            ("candy_no_temporal_ft", _lam(_CANDY_512, 0)),
            ("candy_no_temporal_ft2", style_up(VIDEO, 1500, style=2.0, temporal=0)),
            ("candy_no_temporal_grid", style_up(VIDEO, 1500, style=2.0, grid=2.0, temporal=0)),
            ("candy_no_temporal_b4", _lam(_B4, 0))),
    *_chain(f"{_J}/mosaic.jpg", ("mosaic", VIDEO), ("mosaic_ft1", style_up(VIDEO, 1500, style=1.0))),
    *_chain(f"{_J}/starry_night.jpg", ("starry_night", VIDEO),
            ("starry_night_ft", style_up(VIDEO, 2000, style=2.0)),
            ("starry_night_grid", style_up(VIDEO, 1500, style=2.5, grid=2.0))),
    *_chain(f"{_J}/composition_vii.jpg", ("composition_vii", VIDEO),
            ("composition_vii_ft", style_up(VIDEO, 1500, style=2.0))),
    *_chain(f"{SHARED}/styles/lambdal_TF2-Fast-Neural-Style/gothic.jpg", ("gothic", VIDEO),
            ("gothic_g2l2000", style_up(VIDEO, 1000, style=2.0, grid=2.0, temporal=2000))),
]}
# gothic's second stage at other lambdas, from the same weights: its per-frame twin (lambda 0,
# what its flicker is measured against) and lambda 1000 (measured, not shipped:
# docs/training.md); neither ships
STAGES.update({name: replace(STAGES["gothic_g2l2000"], name=name, recipe=_lam(STAGES["gothic_g2l2000"].recipe, temporal))
               for name, temporal in (("gothic_no_temporal_g2", 0.0), ("gothic_g2", 1000.0))})

# each style's last stage with resize up blocks: where its shipped stage starts
RESIZE_SHIPPED = {"candy": "candy_b4l5000", "candy_no_temporal": "candy_no_temporal_b4", "mosaic": "mosaic_ft1",
                  "starry_night": "starry_night_grid", "composition_vii": "composition_vii_ft",
                  "gothic": "gothic_g2l2000"}
# each style's last stage once more with the sub-pixel tail, which INT8 runs faster: its new
# tail fitted to that stage's output, then 500 iterations at that stage's weights; 750 for
# candy and its twin, which at 500 missed Table 2's bars (docs/training.md)
SUBPIXEL_ITERS = {"candy": 750, "candy_no_temporal": 750}
STAGES.update({f"{style}_subpixel": Stage(f"{style}_subpixel", STAGES[stage].style,
                                          replace(STAGES[stage].recipe, upsample="subpixel",
                                                  iters=SUBPIXEL_ITERS.get(style, 500)), stage)
               for style, stage in RESIZE_SHIPPED.items()})
SHIPPED = {style: f"{style}_subpixel" for style in RESIZE_SHIPPED}  # style -> the stage it ships


def chain_of(stage: str) -> list[str]:
    """The stages to train, in order, to reproduce `stage`: the first from scratch."""
    names = [stage]
    while STAGES[names[0]].init:
        names.insert(0, STAGES[names[0]].init)
    return names


@click.command("python -m vst.train.recipes", context_settings=HELP)
@click.argument("names", nargs=-1, required=True)
def chains(names):
    """Print, for each shipped style or stage NAME, the stages that reproduce it, in order."""
    for name in names:
        stage = SHIPPED.get(name, name)
        if stage not in STAGES:
            raise InputError(f"{name}: no shipped style or stage of that name (styles: {', '.join(SHIPPED)})")
        click.echo(" ".join(chain_of(stage)))


if __name__ == "__main__":
    run_command(chains)
