"""The recipe as data: a plain vst-train trains with the shipped first stage, options override
the recipe, and every stage a shipped model card records is what `vst-train --recipe STAGE`
gives, option for option."""
import json
import shlex
from dataclasses import replace

import pytest

from vst.core.errors import InputError
from vst.styles import STYLES
from vst.train.cli import command, config_from_options
from vst.train.losses import LossWeights
from vst.train.recipes import RECIPES, SHIPPED, STAGES, VIDEO, chain_of, settings_of


def parsed(args: list[str]):
    return config_from_options(**command.make_context("vst-train", list(args)).params)


def comparable(config) -> dict:
    record = config.as_record()
    # the names it was given by (a stage's file may be named as the style it shipped as);
    # the settings are what must agree
    record.pop("recipe"), record.pop("out")
    return record


def card_stages(style: str):
    """(command, stage, out name) of a shipped card and every stage it was fine-tuned from."""
    training = json.loads((STYLES / f"{style}.json").read_text())["training"]
    stage, out = training["recipe"], style
    yield training["command"], stage, out
    record = training.get("fine_tuned_from")
    while record:
        stage = STAGES[stage].init
        yield record["command"], stage, stage
        record = record.get("init")


@pytest.mark.parametrize("style", sorted(SHIPPED))
def test_every_shipped_stage_is_its_recipe(style):
    stages = list(card_stages(style))
    assert [stage for _, stage, _ in stages][::-1] == chain_of(SHIPPED[style])
    for line, stage, out in stages:
        words = shlex.split(line)
        assert words[0] == "vst-train"
        assert comparable(parsed(words[1:])) == comparable(parsed(["--recipe", stage, "--out", f"{out}.pt"])), stage


def test_a_plain_command_trains_with_the_shipped_first_stage(tmp_path):
    config = parsed(["--style-image", "s.jpg", "--data", "clips", "--out", "s.pt"])
    assert {name: getattr(config, name) for name in settings_of(VIDEO)} == settings_of(VIDEO)
    assert config.recipe == "video" and config.size == (256, 144) and config.weights.temporal == 300
    assert config.init is None and config.exclude == ()


def test_options_override_the_recipe():
    config = parsed(["--recipe", "finetune", "--init", "first.pt", "--style-image", "s.jpg", "--data", "d", "--out", "o.pt",
                     "--iters", "10", "--size", "64x48", "--style-weight", "3", "--no-temporal"])
    assert config.iters == 10 and config.size == (64, 48)
    assert config.weights == replace(RECIPES["finetune"].weights, style=3.0, temporal=0.0)
    assert RECIPES["finetune"].weights == LossWeights(style=2.0, grid=2.0)


def test_a_stage_brings_its_files_and_starts_from_the_stage_before(tmp_path):
    config = parsed(["--recipe", "gothic_g2", "--out", str(tmp_path / "g.pt")])
    stage = STAGES["gothic_g2"]
    assert str(config.style) == stage.style and [str(d) for d in config.data] == list(stage.data)
    assert config.init == tmp_path / "gothic.pt" and config.exclude == stage.exclude
    assert parsed(["--recipe", "gothic_g2", "--out", "g.pt", "--init", "x.pt"]).init.name == "x.pt"


@pytest.mark.parametrize("args,message", [
    (["--recipe", "nope", "--style-image", "s.jpg", "--data", "d", "--out", "o.pt"], "no such recipe or stage"),
    (["--out", "o.pt"], "give --style-image and --data"),
    (["--style-image", "s.jpg", "--out", "o.pt"], "give --style-image and --data"),
])
def test_bad_recipes_are_refused(args, message):
    with pytest.raises(InputError, match=message):
        parsed(args)


def test_quick_starts_from_its_shipped_style_and_its_command_says_only_the_recipe():
    from vst.train.card import train_command

    config = parsed(["--recipe", "quick", "--style-image", "mine.jpg", "--data", "photos", "--out", "mine.pt"])
    assert config.init == STYLES / f"{RECIPES['quick'].start_from}.pt" and config.init.is_file()
    assert parsed(["--recipe", "quick", "--style-image", "m.jpg", "--data", "p", "--out", "m.pt", "--init", "x.pt"]).init.name == "x.pt"
    line = train_command(config)
    assert line == "vst-train --recipe quick --style-image mine.jpg --data photos --out mine.pt"
    assert comparable(parsed(shlex.split(line)[1:])) == comparable(config)
