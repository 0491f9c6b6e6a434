import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import ConcatDataset, DataLoader

import vst.train.pairs as pairs_module
from vst.core.errors import InputError
from vst.train.frame_pair import FramePair
from vst.train.pairs import FramePairs, training_pairs
from vst.train.synthetic import Motion, PhotoPairs
from vst.train.warp import warp

from media import write_video

SIZE = (64, 48)  # (W, H)
SHIFT = 2  # px per frame the test video's texture moves left, so frame t(p) = frame t-1(p + 2)


def moving_texture_video(path: Path, texture, frames: int = 6) -> Path:
    big = texture(SIZE[1], SIZE[0] + SHIFT * frames)
    return write_video(path, [big[:, SHIFT * k:SHIFT * k + SIZE[0]] for k in range(frames)])


def warp_errors(pair: FramePair) -> tuple[float, float]:
    """Mean |warp(prev, flow) - cur| and |prev - cur| over confident pixels."""
    warped, _ = warp(pair.prev[None], pair.flow[None])
    weight = pair.confidence.expand_as(pair.cur)
    mean = lambda difference: float((difference.abs() * weight).sum() / weight.sum())
    return mean(warped[0] - pair.cur), mean(pair.prev - pair.cur)


def check_types(pair: FramePair) -> None:
    width, height = SIZE
    assert [tuple(t.shape) for t in pair] == [(3, height, width), (3, height, width),
                                              (2, height, width), (1, height, width)]
    assert all(t.dtype == torch.float32 for t in pair)
    assert 0 <= pair.prev.min() and pair.cur.max() <= 1
    assert set(pair.confidence.unique().tolist()) <= {0.0, 1.0}


@pytest.fixture
def video(tmp_path, texture):
    return moving_texture_video(tmp_path / "clip.mp4", texture)


# --- PhotoPairs -------------------------------------------------------------------------------

@pytest.fixture
def photo(tmp_path, texture):
    cv2 = pytest.importorskip("cv2")
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), texture(90, 120, seed=3))
    return path


def test_photo_pair_flow_warps_prev_onto_cur(photo):
    pair = PhotoPairs([photo], SIZE, seed=1)[0]
    check_types(pair)
    assert pair.confidence.mean() > 0.8
    assert pair.flow.abs().max() > 0.5, "the motion must not be trivial"
    error, still = warp_errors(pair)
    assert error < 1e-3 and still > 0.02


def test_scaled_photo_motion_is_larger_and_its_flow_still_exact(photo):
    fast = Motion().scaled(4)
    assert fast.max_displacement(*SIZE) > 2 * Motion().max_displacement(*SIZE)
    slow_pair, fast_pair = (PhotoPairs([photo], SIZE, seed=1, motion=m)[0] for m in (Motion(), fast))
    assert fast_pair.flow.abs().mean() > 2 * slow_pair.flow.abs().mean()
    error, still = warp_errors(fast_pair)
    assert error < 1e-3 and still > 0.02


def test_photo_pairs_are_deterministic_per_seed(photo):
    first, again = PhotoPairs([photo], SIZE, seed=1)[0], PhotoPairs([photo], SIZE, seed=1)[0]
    other = PhotoPairs([photo], SIZE, seed=2)[0]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first.flow, other.flow)


def test_real_photo_pair(shared_data):
    pair = PhotoPairs([shared_data / "photos" / "skimage" / "astronaut.png"], (160, 96))[0]
    error, still = warp_errors(pair)
    assert error < 1e-3 and still > 0.02


def test_unreadable_photo(tmp_path):
    (tmp_path / "notes.jpg").write_text("not an image")
    with pytest.raises(InputError, match="notes.jpg: cannot read this image"):
        PhotoPairs([tmp_path / "notes.jpg"], SIZE)


# --- FramePairs -------------------------------------------------------------------------------

def test_video_pairs(video, tmp_path):
    dataset = FramePairs([video], SIZE, cache_dir=tmp_path / "cache")
    assert len(dataset) == 5
    for pair in dataset:
        check_types(pair)
        error, still = warp_errors(pair)
        assert error < 0.5 * still
        assert pair.flow[0, 8:-8, 8:-8].median() == pytest.approx(SHIFT, abs=0.3)
        assert pair.confidence.mean() > 0.7


def test_long_term_pairs_reach_two_frames_back(video, tmp_path):
    dataset = FramePairs([video], SIZE, cache_dir=tmp_path / "cache", long_term=True)
    assert len(dataset) == 5 + 4
    long_flows = [pair.flow[0, 8:-8, 8:-8].median() for pair, ref in zip(dataset, dataset.pairs)
                  if ref.gap == 2]
    assert len(long_flows) == 4
    assert all(abs(flow - 2 * SHIFT) < 0.5 for flow in long_flows)


def test_max_pairs_per_video_spreads_the_pairs(video, tmp_path):
    dataset = FramePairs([video], SIZE, cache_dir=tmp_path / "cache", max_pairs_per_video=2)
    assert [(ref.target, ref.gap) for ref in dataset.pairs] == [(1, 1), (3, 1)]


def fail(*args, **kwargs):
    raise AssertionError("recomputed although cached")


def test_cache_is_reused_and_keyed_by_size_and_mtime(video, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = FramePairs([video], SIZE, cache_dir=cache)
    monkeypatch.setattr(pairs_module, "compute_flow", fail)
    monkeypatch.setattr(pairs_module, "_decode", fail)
    again = FramePairs([video], SIZE, cache_dir=cache)
    assert all(torch.equal(a, b) for a, b in zip(first[2], again[2]))
    with pytest.raises(AssertionError, match="recomputed"):
        FramePairs([video], (32, 24), cache_dir=cache)
    with pytest.raises(AssertionError, match="recomputed"):
        FramePairs([video], SIZE, cache_dir=cache, flow="deepflow")
    os.utime(video, ns=(1, 1))
    with pytest.raises(AssertionError, match="recomputed"):
        FramePairs([video], SIZE, cache_dir=cache)


def test_interrupted_run_leaves_no_partial_file_and_resumes(video, tmp_path, monkeypatch):
    real_savez, saved = np.savez, []

    def savez_then_interrupt(file, **arrays):
        if len(saved) == 2:
            file.write(b"half a file")
            raise KeyboardInterrupt
        saved.append(file)
        real_savez(file, **arrays)

    monkeypatch.setattr(np, "savez", savez_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        FramePairs([video], SIZE, cache_dir=tmp_path / "cache")
    monkeypatch.undo()
    files = sorted(path.name for path in (tmp_path / "cache").rglob("*") if path.is_file())
    assert files == ["frames.npy", "t000001-g1.npz", "t000002-g1.npz"]

    computed = []
    real_compute = pairs_module.compute_flow
    monkeypatch.setattr(pairs_module, "compute_flow",
                        lambda *args: computed.append(args) or real_compute(*args))
    assert len(FramePairs([video], SIZE, cache_dir=tmp_path / "cache")) == 5
    assert len(computed) == 2 * 3, "forward and backward flow of the 3 missing pairs only"


def test_batches_collate_into_a_frame_pair(video, photo, tmp_path):
    dataset = training_pairs([video.parent], SIZE, "dis", False, tmp_path / "cache")
    assert isinstance(dataset, ConcatDataset) and len(dataset) == 5 + 1
    batch = next(iter(DataLoader(dataset, batch_size=6)))
    assert isinstance(batch, FramePair)
    assert batch.prev.shape == (6, 3, SIZE[1], SIZE[0]) and batch.confidence.shape[1] == 1


# --- errors -----------------------------------------------------------------------------------

def test_video_with_one_frame(tmp_path, texture):
    clip = write_video(tmp_path / "still.mp4", [texture(SIZE[1], SIZE[0])])
    with pytest.raises(InputError, match=r"still.mp4: has 1 frame\(s\); need at least 2"):
        FramePairs([clip], SIZE, cache_dir=tmp_path / "cache")


def test_file_that_is_not_a_video(tmp_path):
    (tmp_path / "fake.mp4").write_text("not a video")
    with pytest.raises(InputError, match="fake.mp4: cannot decode as a video"):
        FramePairs([tmp_path / "fake.mp4"], SIZE, cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("*.npy")), "no cache entry for a failed decode"


def test_missing_folder(tmp_path):
    with pytest.raises(InputError, match="nowhere: no such folder"):
        training_pairs([tmp_path / "nowhere"], SIZE, "dis", False, tmp_path / "cache")


def test_folder_without_videos_or_photos(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "readme.txt").write_text("hello")
    with pytest.raises(InputError, match=r"data: no videos or photos found \(extensions: .*\.mp4"):
        training_pairs([tmp_path / "data"], SIZE, "dis", False, tmp_path / "cache")


def test_exclude_leaves_out_matching_files(video, photo, tmp_path):
    moving_texture_video(tmp_path / "held_out.mp4", lambda h, w: np.zeros((h, w, 3), np.uint8) + 128)
    assert len(training_pairs([tmp_path], SIZE, "dis", False, tmp_path / "cache")) == 5 + 5 + 1
    kept = training_pairs([tmp_path], SIZE, "dis", False, tmp_path / "cache", exclude=("*/held_out.mp4",))
    assert len(kept) == 5 + 1
    with pytest.raises(InputError, match="no videos or photos found outside --exclude"):
        training_pairs([tmp_path], SIZE, "dis", False, tmp_path / "cache", exclude=("*.mp4", "*.png"))


def test_unknown_flow_method_is_rejected_before_decoding(video, tmp_path, monkeypatch):
    monkeypatch.setattr(pairs_module, "_decode", fail)
    with pytest.raises(InputError, match="unknown flow method 'farneback'"):
        training_pairs([video.parent], SIZE, "farneback", False, tmp_path / "cache")
    with pytest.raises(InputError, match="unknown flow method 'farneback'"):
        FramePairs([video], SIZE, cache_dir=tmp_path / "cache", flow="farneback")
