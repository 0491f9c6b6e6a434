"""The shipped styles: each is a .pt, a matching .onnx and a model card, and runs."""
import numpy as np
import pytest

from invoke import invoke
from vst.core.checkpoint import Checkpoint
from vst.engine.cli import main as vst_run
from vst.export.frame_model import frame_model
from vst.export.onnx_export import reference_frame
from vst.styles import STYLES, describe_style, shipped_checkpoint, shipped_styles, style_card

SHIPPED = shipped_styles()
CARD_FIELDS = {"name", "style_image", "network", "files", "training", "evaluation"}


def test_the_paper_styles_and_the_table_2_baseline_ship():
    assert {"candy", "candy_no_temporal", "mosaic", "starry_night", "composition_vii", "gothic"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_each_style_has_its_checkpoint_onnx_and_card(name):
    checkpoint = Checkpoint.load(shipped_checkpoint(name))
    assert checkpoint.style == name and "optimizer" not in checkpoint.training
    card = style_card(name)
    assert set(card) == CARD_FIELDS and card["name"] == name
    assert card["files"] == {"pt_bytes": (STYLES / f"{name}.pt").stat().st_size,
                             "onnx_bytes": (STYLES / f"{name}.onnx").stat().st_size}
    assert card["training"]["iterations"] == checkpoint.training["iteration"]
    assert card["training"]["command"].startswith("vst-train --style ")
    assert card["style_image"]["licence"] and card["style_image"]["source"]
    assert all(clip["e_temporal"] > 0 for clip in card["evaluation"]["clips"].values())
    assert max(card["files"].values()) < 2_000_000


@pytest.mark.parametrize("name", SHIPPED)
def test_each_onnx_is_its_checkpoint(name):
    pytest.importorskip("onnxruntime")
    import torch

    from vst.export.onnx_export import OnnxRunner, read_onnx_metadata

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
    assert lines == [describe_style(name) for name in SHIPPED]
    candy, card = next(line for line in lines if line.startswith("candy ")), style_card("candy")
    mean = np.mean([c["e_temporal"] for c in card["evaluation"]["clips"].values()])
    assert f"lambda {card['training']['loss_weights']['temporal']:g}," in candy
    assert f"E_temporal {mean:.4f}" in candy


def test_the_card_records_the_table_2_result():
    """The quality bar of the shipped pair: with the temporal loss, E_temporal at most 0.7x
    the per-frame baseline's on the held-out Sintel clips, the style distance at most 15 %
    above the baseline's."""
    with_loss, without = (style_card(name)["evaluation"]["clips"] for name in ("candy", "candy_no_temporal"))
    assert set(with_loss) == set(without)
    for clip in with_loss:
        assert with_loss[clip]["e_temporal"] <= 0.75 * without[clip]["e_temporal"], clip
    ratio = (np.mean([c["e_temporal"] for c in with_loss.values()])
             / np.mean([c["e_temporal"] for c in without.values()]))
    style = (np.mean([c["style_distance"] for c in with_loss.values()])
             / np.mean([c["style_distance"] for c in without.values()]))
    assert ratio <= 0.7 and style <= 1.15  # a lower style distance is a stronger stylization


# A grid amplitude (vst-eval's grid_amplitude, 8-bit levels) at or under this is invisible at
# 100 % zoom: the unstylized frames score 0.01-0.02, the resize-upsampling models 0.1-0.2, the
# deconv ones whose dot grid shows 0.74-0.85 (faint, seen at 4x zoom) to 3.55 (starry_night).
GRID_LIMIT = 0.5
# the 300-iteration deconv models shipped before issue 14's re-ship: their cards have no grid
# score, and their grid shows; each leaves this set when it is re-shipped
GRID_PENDING = {"candy", "candy_no_temporal", "mosaic", "starry_night", "composition_vii", "gothic"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(
    name in GRID_PENDING, reason="shipped before the grid score (issue 14)", strict=True)) for name in SHIPPED])
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
