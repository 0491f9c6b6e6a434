"""The shipped styles: each is a .pt, a matching .onnx and a model card, and runs."""
import json
from pathlib import Path

import numpy as np
import pytest

from invoke import invoke
from vst.core.checkpoint import Checkpoint
from vst.engine.cli import main as vst_run
from vst.core.frame_model import frame_model
from vst.core.quality import reference_frame
from vst.styles import STYLES, THUMBNAIL_SUFFIX, shipped_checkpoint, shipped_styles, style_card
from vst.train.recipes import SHIPPED as SHIPPED_STAGES

SHIPPED = shipped_styles()
CARD_FIELDS = {"name", "style_image", "network", "files", "training", "evaluation"}
# the paper's styles and the per-frame twin of Table 2, each trained by the recipe stages of
# train/recipes.py that its card names
RETRAINED = ("candy", "candy_no_temporal", "mosaic", "starry_night", "composition_vii", "gothic")


def test_the_paper_styles_and_the_table_2_baseline_ship():
    assert set(RETRAINED) <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_style_has_its_checkpoint_onnx_and_card(name):
    checkpoint = Checkpoint.load(shipped_checkpoint(name))
    assert checkpoint.style == name and "optimizer" not in checkpoint.training
    card = style_card(name)
    assert set(card) == CARD_FIELDS and card["name"] == name
    int8 = [STYLES / f"{name}.int8.{suffix}" for suffix in ("xml", "bin")]
    assert card["files"] == {"pt_bytes": (STYLES / f"{name}.pt").stat().st_size,
                             "onnx_bytes": (STYLES / f"{name}.onnx").stat().st_size,
                             "int8_bytes": sum(path.stat().st_size for path in int8)}
    assert card["training"]["iterations"] == checkpoint.training["iteration"]
    assert card["training"]["command"].startswith("vst-train --")
    assert card["training"]["recipe"] == SHIPPED_STAGES[name]
    assert card["style_image"]["licence"] and card["style_image"]["source"]
    assert all(clip["e_temporal"] > 0 for clip in card["evaluation"]["clips"].values())
    assert max(card["files"].values()) < 2_000_000
    assert 0 < (STYLES / f"{name}{THUMBNAIL_SUFFIX}").stat().st_size < 50_000  # vst-app's thumbnail


@pytest.mark.parametrize("name", SHIPPED)
def test_each_int8_graph_was_made_from_its_onnx(name):
    pytest.importorskip("openvino")
    from vst.engine.int8 import beside, onnx_key, read_int8

    onnx = STYLES / f"{name}.onnx"
    graph = read_int8(beside(onnx), onnx_key(onnx.read_bytes()))
    assert graph is not None, f"{beside(onnx)} is missing or stale: python -m vst.release.ship writes it"
    quantizers = [op for op in graph.get_ordered_ops() if op.get_type_name() == "FakeQuantize"]
    assert len(quantizers) >= 16
    fed = {target.get_node().get_type_name() for op in quantizers for target in op.output(0).get_target_inputs()}
    assert not fed & {"MVN", "Add"}, "instance norm and residual sums take float inputs (engine.int8.FLOAT_INPUTS)"
    convolutions = [op for op in graph.get_ordered_ops() if op.get_type_name() == "Convolution"]
    assert all("FakeQuantize" in upstream_types(conv, 3) for conv in convolutions)  # the sub-pixel tail's too
    up_blocks = [op for op in graph.get_ordered_ops() if op.get_type_name() == "ConvolutionBackpropData"]
    assert "FakeQuantize" not in upstream_types(up_blocks[-1], 3), "the last up block stays in float"


def upstream_types(node, depth: int) -> set[str]:
    """The op types of the nodes up to `depth` steps upstream of `node`'s inputs."""
    found = set()
    for value in node.input_values():
        found.add(value.get_node().get_type_name())
        if depth > 1:
            found |= upstream_types(value.get_node(), depth - 1)
    return found


@pytest.mark.parametrize("name", SHIPPED)
def test_each_style_passes_the_int8_gate(name):
    pytest.importorskip("openvino")
    from vst.engine.runner import open_runner

    runner = open_runner(None, name, precision="int8")  # the gate runs as it opens
    assert (runner.name, runner.notice) == ("OpenVINO (CPU, INT8)", None)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_onnx_is_its_checkpoint(name):
    pytest.importorskip("onnxruntime")
    import torch

    from vst.core.metadata import read_onnx_metadata
    from vst.core.onnx_runner import OnnxRunner

    assert read_onnx_metadata(STYLES / f"{name}.onnx").style == name
    frame = reference_frame((96, 64))
    with torch.no_grad():
        expected = frame_model(Checkpoint.load(shipped_checkpoint(name)).stylizer, "fp32")(torch.from_numpy(frame))
    got = OnnxRunner(STYLES / f"{name}.onnx", ["CPUExecutionProvider"])(frame)
    assert np.abs(got.astype(int) - expected.numpy().astype(int)).max() <= 1


def test_list_styles_describes_every_style_from_its_card(capsys):
    code, out, _ = invoke(vst_run, capsys, ["--list-styles"])
    lines = out.strip().splitlines()
    assert code == 0 and [line.split()[0] for line in lines] == SHIPPED
    candy, card = next(line for line in lines if line.startswith("candy ")), style_card("candy")
    mean = np.mean([c["e_temporal"] for c in card["evaluation"]["clips"].values()])
    assert f"iterations at 256x144, lambda {card['training']['loss_weights']['temporal']:g};" in candy
    # every stage of its chain, as docs/training.md sums them: the run, its fine_tuned_from, their inits
    assert " 10000+3000+1500+1500+750+750 iterations" in candy
    assert f"E_temporal {mean:.4f}" in candy


# The bar for the shipped pair (candy, candy_no_temporal: trained identically but lambda),
# on every clip of their cards: MPI Sintel with ground-truth flow at 1024x436 and the held-out
# real clips at 270 lines, none of them seen in training
FLICKER_RATIO = 0.60  # E_temporal, with the temporal loss / without, on each clip
STYLE_RATIO = 1.1     # style distance, with / without, mean over each set of clips


def table_2_pair() -> tuple[dict, dict]:
    with_loss, without = (style_card(name)["evaluation"]["clips"] for name in ("candy", "candy_no_temporal"))
    assert set(with_loss) == set(without)
    assert {ground_truth(clip) for clip in with_loss.values()} == {True, False}  # Sintel and real clips
    return with_loss, without


def ground_truth(clip: dict) -> bool:
    return clip["flow"].startswith("ground truth")


def test_the_temporal_loss_cuts_flicker_on_every_clip():
    with_loss, without = table_2_pair()
    ratios = {clip: with_loss[clip]["e_temporal"] / without[clip]["e_temporal"] for clip in with_loss}
    assert max(ratios.values()) <= FLICKER_RATIO, ratios


# sets of clips where the shipped pair is known to miss STYLE_RATIO, with why
STYLE_RATIO_MISSED = {"held-out": "2.6x: on these clips the flicker bar needs far less texture than the "
                                  "twin's, and the flicker bar is the one kept; docs/training.md, 'The stable "
                                  "floor' and 'The held-out style target'"}


@pytest.mark.parametrize("set_name", [pytest.param(set_name, marks=pytest.mark.xfail(
    set_name in STYLE_RATIO_MISSED, strict=True, reason=STYLE_RATIO_MISSED.get(set_name, "")))
    for set_name in ("sintel", "held-out")])
def test_less_flicker_does_not_come_from_less_style(set_name):
    with_loss, without = table_2_pair()
    clips = [clip for clip in with_loss if ground_truth(with_loss[clip]) == (set_name == "sintel")]
    ratio = (np.mean([with_loss[clip]["style_distance"] for clip in clips])
             / np.mean([without[clip]["style_distance"] for clip in clips]))
    assert ratio <= STYLE_RATIO, ratio


# The bar against the 300-iteration baseline models (their vst-eval rows, committed in
# benchmarks/results/release/before/ by training/release.sh, on the frames the cards score): the
# style distance, mean over each set of clips, at most this times the baseline's
BEFORE = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "release" / "before"
STYLE_GAIN = 0.75
# (style, set) pairs known to miss it, with why
STYLE_GAIN_MISSED: dict[tuple[str, str], str] = {
    ("candy", "held-out"): "0.78x: at 500 sub-pixel iterations (0.69x) candy missed the flicker bar against its "
                           "twin, and the flicker bar is the one kept; docs/training.md, 'What the shipped styles "
                           "were trained with'"}


def old_style_distances(name: str, set_name: str) -> dict[str, float]:
    clips = json.loads((BEFORE / f"{set_name}.json").read_text())["clips"]
    return {clip["clip"]: next(row["style_distance"] for row in clip["results"] if row["model"] == name)
            for clip in clips}


@pytest.mark.parametrize("name, set_name", [pytest.param(
    name, set_name, marks=pytest.mark.xfail((name, set_name) in STYLE_GAIN_MISSED, strict=True,
                                            reason=STYLE_GAIN_MISSED.get((name, set_name), "")))
    for name in RETRAINED for set_name in ("sintel", "held-out")])
def test_each_style_is_more_stylized_than_the_model_it_replaced(name, set_name):
    old = old_style_distances(name, set_name)
    clips = style_card(name)["evaluation"]["clips"]
    assert set(old) <= set(clips), (sorted(old), sorted(clips))
    ratio = np.mean([clips[clip]["style_distance"] for clip in old]) / np.mean(list(old.values()))
    assert ratio <= STYLE_GAIN, ratio


# gothic's stage gothic_g2l2000 (more style, the grid term) against its own per-frame twin,
# gothic_no_temporal_g2 (the same stage at lambda 0, not shipped), and against the gothic it
# was fine-tuned from, which read as little more than a colour tint: their vst-eval rows on the
# card's clips, committed in benchmarks/results/release/after/
AFTER = BEFORE.parent / "after"
GOTHIC_FLICKER_RATIO = 0.85  # E_temporal / the twin's, on each clip
GOTHIC_STYLE_GAIN = 0.75     # held-out style distance / the earlier gothic's, mean over the clips


def rows_of(model: str, set_name: str) -> dict[str, dict]:
    clips = json.loads((AFTER / f"{set_name}-{model}.json").read_text())["clips"]
    return {clip["clip"]: next(row for row in clip["results"] if row["model"] == model) for clip in clips}


def test_gothic_flickers_less_than_its_per_frame_twin_on_every_clip():
    clips = style_card("gothic")["evaluation"]["clips"]
    twin = {**rows_of("gothic_no_temporal_g2", "sintel"), **rows_of("gothic_no_temporal_g2", "held-out")}
    assert set(twin) == set(clips)
    ratios = {clip: clips[clip]["e_temporal"] / twin[clip]["e_temporal"] for clip in clips}
    assert max(ratios.values()) <= GOTHIC_FLICKER_RATIO, ratios


def test_gothic_reads_as_gothic():
    clips = style_card("gothic")["evaluation"]["clips"]
    earlier = rows_of("gothic", "held-out")
    ratio = np.mean([clips[clip]["style_distance"] for clip in earlier]) / np.mean(
        [row["style_distance"] for row in earlier.values()])
    assert ratio <= GOTHIC_STYLE_GAIN, ratio


# A grid amplitude (vst-eval's grid_amplitude, 8-bit levels) at or under this is invisible at
# 100 % zoom: the unstylized frames score 0.01-0.02, the shipped models 0.16-0.37 (worst
# clip; their resize stages 0.12-0.46), the deconv ones whose dot grid shows 0.74-0.85 (faint,
# seen at 4x zoom) to 3.55 (the 300-iteration starry_night).
GRID_LIMIT = 0.5
GRID_MISSED: dict[str, str] = {}  # styles known to miss the grid bar, with why (none)


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(
    name in GRID_MISSED, reason=GRID_MISSED.get(name, ""), strict=True)) for name in SHIPPED])
def test_no_visible_grid_on_any_clip_the_card_scores(name):
    """The card's clips cover both sizes users see: Sintel at 1024x436, the held-out clips at
    270 lines (480x270)."""
    clips = style_card(name)["evaluation"]["clips"]
    heights = {clip["size"][1] for clip in clips.values()}
    assert {436, 270} <= heights, heights
    grids = {clip: scores.get("grid_amplitude") for clip, scores in clips.items()}
    assert None not in grids.values() and max(grids.values()) <= GRID_LIMIT, grids


@pytest.mark.parametrize("name", SHIPPED)
def test_no_build_machine_paths_in_what_ships(name):
    checkpoint = Checkpoint.load(STYLES / f"{name}.pt")
    onnx = (STYLES / f"{name}.onnx").read_bytes().decode("latin-1")  # the exporter's stack traces
    for text in (str(checkpoint.config), str(checkpoint.training), (STYLES / f"{name}.json").read_text(), onnx):
        assert not any(root in text for root in ("/tmp/", "/root/", "/work/", "/home/", "site-packages")), text[:300]
