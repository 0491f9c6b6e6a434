import numpy as np
import pytest
import torch

from vst.core.errors import InputError
from media import write_flo
from vst.train.flow import FLOW_METHODS, compute_flow, confidence_mask, read_flo
from vst.train.warp import warp


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, C) numpy -> (1, C, H, W) float32."""
    return torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None]


def shifted_pair(texture, dx: int, dy: int):
    """Two 64x96 crops with second(p) = first(p + (dx, dy))."""
    big = texture(80, 112)
    first = big[8:72, 8:104]
    second = big[8 + dy:72 + dy, 8 + dx:104 + dx]
    return first, second


@pytest.mark.parametrize("method", FLOW_METHODS)
def test_compute_flow_recovers_a_shift_in_the_documented_direction(texture, method):
    first, second = shifted_pair(texture, dx=3, dy=-2)
    # src(p) ≈ dst(p + F(p)): second(p) = first(p + (3, -2))
    flow = compute_flow(second, first, method)[12:-12, 12:-12]
    assert flow.dtype == np.float32
    np.testing.assert_allclose(np.median(flow.reshape(-1, 2), axis=0), [3, -2], atol=0.25)
    reverse = compute_flow(first, second, method)[12:-12, 12:-12]
    np.testing.assert_allclose(np.median(reverse.reshape(-1, 2), axis=0), [-3, 2], atol=0.25)


def test_compute_flow_rejects_an_unknown_method(texture):
    image = texture(32, 32)
    with pytest.raises(InputError, match="unknown flow method 'raft'"):
        compute_flow(image, image, "raft")


def test_confidence_is_zero_where_the_flow_leaves_the_frame_and_one_elsewhere():
    backward = np.zeros((40, 60, 2), np.float32)
    backward[..., 0] = -3  # frame t shows frame t-1 moved right by 3 px
    forward = -backward
    mask = confidence_mask(backward, forward)
    assert mask.shape == (40, 60) and mask.dtype == np.float32
    assert (mask[:, :3] == 0).all()
    assert (mask[:, 3:] == 1).all()


def test_confidence_is_zero_at_disocclusions_and_motion_boundaries():
    # a 10x10 square at columns 20..29 of frame t-1 moves 4 px right, to 24..33 in frame t
    backward = np.zeros((40, 60, 2), np.float32)
    backward[15:25, 24:34, 0] = -4
    forward = np.zeros((40, 60, 2), np.float32)
    forward[15:25, 20:30, 0] = 4
    mask = confidence_mask(backward, forward)
    assert (mask[15:25, 20:24] == 0).all(), "background uncovered behind the square"
    assert (mask[17:23, 33] == 0).all() and (mask[14, 26:32] == 0).all(), "square's edges"
    assert (mask[17:23, 26:32] == 1).all(), "inside the square"
    assert (mask[:10, 5:55] == 1).all() and (mask[30:, 5:55] == 1).all(), "static background"


def test_flo_round_trip(tmp_path):
    flow = np.random.default_rng(0).normal(size=(7, 11, 2)).astype(np.float32)
    write_flo(tmp_path / "a.flo", flow)
    assert (tmp_path / "a.flo").stat().st_size == 12 + flow.nbytes
    np.testing.assert_array_equal(read_flo(tmp_path / "a.flo"), flow)


def test_read_flo_rejects_bad_magic(tmp_path):
    path = tmp_path / "bad.flo"
    path.write_bytes(np.array([1.0, 2, 2], np.float32).tobytes() + bytes(32))
    with pytest.raises(InputError, match="bad.flo: not a .flo file"):
        read_flo(path)


@pytest.mark.parametrize("size, tail", [((7, 11), 8), ((7, 11), -8), ((-3, 11), 0), ((0, 4), 0)])
def test_read_flo_rejects_a_size_other_than_its_header_says(tmp_path, size, tail):
    path = tmp_path / "bad.flo"
    write_flo(path, np.zeros((7, 11, 2), np.float32))
    data = path.read_bytes()
    header = np.array([size[1], size[0]], "<i4").tobytes()
    path.write_bytes(data[:4] + header + (data[12:] + bytes(tail) if tail >= 0 else data[12:tail]))
    with pytest.raises(InputError, match="bad.flo: .* bytes, but its header says"):
        read_flo(path)


def test_sintel_ground_truth_flow_warps_its_frames_and_dis_agrees(shared_data):
    cv2 = pytest.importorskip("cv2")
    scene = shared_data / "flow" / "sintel" / "training"
    first, second = (cv2.cvtColor(cv2.imread(str(scene / "clean" / "alley_1" / name)),
                                  cv2.COLOR_BGR2RGB) for name in ("frame_0001.png", "frame_0002.png"))
    truth = read_flo(scene / "flow" / "alley_1" / "frame_0001.flo")
    assert truth.shape == first.shape[:2] + (2,)

    # Sintel: first(p) ≈ second(p + flo(p)), so the .flo brings the second frame onto the first
    warped, inside = warp(to_tensor(second), to_tensor(truth))
    error = ((warped - to_tensor(first)).abs().mean(1, keepdim=True) * inside).sum() / inside.sum()
    still = (to_tensor(second) - to_tensor(first)).abs().mean()
    assert error < 0.4 * still

    estimate = compute_flow(first, second, "dis")
    endpoint_error = np.linalg.norm(estimate - truth, axis=-1).mean()
    assert endpoint_error < 0.25 * np.linalg.norm(truth, axis=-1).mean()
