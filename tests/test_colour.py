"""Colours through vst-run and vst-train (core.colour): a video is decoded with its own YUV matrix, or the
one players assume where it names none, and written back with that matrix and tagged with
it, so that a pass-through run (--strength 0) plays with the input's colours."""
from pathlib import Path

import av
import numpy as np
import pytest

from vst.engine import cli

from invoke import invoke

PATCHES = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (180, 180, 60)]
BT709, BT470BG, SMPTE170M = 1, 5, 6  # AVColorSpace


def patches(height: int, width: int) -> np.ndarray:
    rgb = np.zeros((height, width, 3), np.uint8)
    for index, colour in enumerate(PATCHES):
        rgb[:, index * width // 4:(index + 1) * width // 4] = colour
    return rgb


def write_clip(path: Path, height: int, width: int, matrix: int, tags: tuple[int, int, int] | None,
               pix_fmt: str = "yuv420p") -> Path:
    """Two lossless frames of the patches, converted to YUV with `matrix`, and the stream's
    (matrix, primaries, transfer) tags set to `tags` where given."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10, options={"qp": "0"})
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if tags:
            context = stream.codec_context
            context.colorspace, context.color_primaries, context.color_trc = tags
        for index in range(2):
            frame = av.VideoFrame.from_ndarray(patches(height, width), format="rgb24").reformat(
                format=pix_fmt, dst_colorspace=swscale(matrix), dst_color_range=1)
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def swscale(matrix: int) -> int:
    return 5 if matrix in (BT470BG, SMPTE170M) else matrix


def tags(path: Path) -> tuple[int, int, int]:
    """A video's (matrix, primaries, transfer) tags."""
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return context.colorspace, context.color_primaries, context.color_trc


def played(path: Path, matrix: int) -> np.ndarray:
    """The first frame decoded with `matrix`, as a player shows it."""
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24", src_colorspace=swscale(matrix))


@pytest.mark.parametrize("height, width, matrix, tagged", [
    (720, 1280, BT709, False),     # HD naming nothing: players take BT.709
    (96, 160, SMPTE170M, False),   # SD naming nothing: players take BT.601
    (720, 1280, BT470BG, True),    # HD that names BT.601 (PAL): its own
])
def test_a_pass_through_run_plays_with_the_inputs_colours(height, width, matrix, tagged, checkpoint, tmp_path, capsys):
    source = write_clip(tmp_path / "in.mp4", height, width, matrix, (matrix,) * 3 if tagged else None)
    out = tmp_path / "out.mp4"
    code, _, err = invoke(cli.main, capsys, [source, "--engine", checkpoint, "--backend", "torch",
                                             "--strength", "0", "--crf", "0", "-o", out])
    assert code == 0, err
    unnamed = 2  # primaries and transfer the input does not name are left so; the matrix is named
    assert tags(out) == ((matrix, matrix, matrix) if tagged else (matrix, unnamed, unnamed))
    before, after = played(source, matrix), played(out, matrix)
    for index in range(len(PATCHES)):  # the middle of each patch, away from chroma's blur at the edges
        middle = (height // 2, index * width // 4 + width // 8)
        assert np.abs(after[middle].astype(int) - before[middle]).max() <= 3, (before[middle], after[middle])


@pytest.mark.parametrize("codec, suffix, pixel_format, matrix", [
    ("prores_ks", ".mov", "yuv422p10le", BT709),  # 10-bit 4:2:2, the only formats ProRes takes
    ("mjpeg", ".avi", "yuvj420p", BT470BG),       # full-range YUV, BT.601 as JFIF defines it
    ("png", ".mov", "rgb24", 0),                  # RGB, tagged as RGB
])
def test_other_encoders_get_a_format_they_take_and_keep_the_colours(codec, suffix, pixel_format, matrix,
                                                                    checkpoint, tmp_path, capsys):
    source = write_clip(tmp_path / "in.mp4", 720, 1280, BT709, None)
    out = tmp_path / f"out{suffix}"
    code, _, err = invoke(cli.main, capsys, [source, "--engine", checkpoint, "--backend", "torch",
                                             "--strength", "0", "--codec", codec, "-o", out])
    assert code == 0, err
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == pixel_format
    assert tags(out)[0] == matrix
    before, after = played(source, BT709), played(out, matrix)
    for index in range(len(PATCHES)):
        middle = (360, index * 320 + 160)
        assert np.abs(after[middle].astype(int) - before[middle]).max() <= 4, (before[middle], after[middle])


@pytest.mark.parametrize("codec, suffix", [("libx264", ".mp4"), ("mjpeg", ".avi"), ("prores_ks", ".mov")])
def test_odd_sizes_keep_every_pixels_colour(codec, suffix, checkpoint, tmp_path, capsys):
    """4:2:0 and 4:2:2 cannot hold an odd last column: the encoder's first 4:4:4 format is taken."""
    source = write_clip(tmp_path / "odd.mkv", 97, 161, SMPTE170M, None, pix_fmt="yuv444p")
    out = tmp_path / f"out{suffix}"
    code, _, err = invoke(cli.main, capsys, [source, "--engine", checkpoint, "--backend", "torch",
                                             "--strength", "0", "--codec", codec, "-o", out])
    assert code == 0, err
    with av.open(str(out)) as container:
        assert "444" in container.streams.video[0].codec_context.pix_fmt  # as decoded: ProRes 4444 as 12-bit
    before, after = played(source, SMPTE170M), played(out, tags(out)[0])
    assert np.abs(after[:, -1].astype(int) - before[:, -1]).max() <= 6  # the last column, where 4:2:2 lost it


def test_an_alias_of_x264_takes_crf_and_preset(checkpoint, tmp_path, capsys):
    """--codec h264 runs libx264, and its --crf and --preset are x264's, not FFmpeg's defaults."""
    source = write_clip(tmp_path / "in.mp4", 48, 64, SMPTE170M, None)
    code, out, err = invoke(cli.main, capsys, [source, "--engine", checkpoint, "--backend", "torch",
                                               "--codec", "h264", "--preset", "veryfast", "-o", tmp_path / "o.mp4"])
    assert code == 0 and out.strip().endswith("(libx264 veryfast)"), (out, err)
    code, _, err = invoke(cli.main, capsys, [source, "--engine", checkpoint, "--codec", "hevc", "--preset", "bogus",
                                             "-o", tmp_path / "o.mp4"])
    assert code == 2 and "preset 'bogus': libx265 presets are" in err, err


def test_ten_bit_hdr_is_written_in_eight_bits_with_its_colour_tags(checkpoint, tmp_path, capsys):
    # BT.2020, PQ transfer (16), 10 bits, as HDR phones write it
    source = write_clip(tmp_path / "hdr.mkv", 48, 64, 9, (9, 9, 16), pix_fmt="yuv420p10le")
    out = tmp_path / "out.mkv"
    code, _, err = invoke(cli.main, capsys, [source, "--engine", checkpoint, "--backend", "torch", "-o", out])
    assert code == 0, err
    assert tags(out) == (9, 9, 16)
    with av.open(str(out)) as container:
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"


def test_training_frames_have_the_colours_vst_run_stylizes(tmp_path):
    """An untagged HD clip trains on the colours players show and vst-run stylizes (BT.709),
    not on FFmpeg's default BT.601, which shifts a red of (200, 30, 30) by 14 levels."""
    from vst.train.pairs import FramePairs

    source = write_clip(tmp_path / "hd.mp4", 720, 1280, BT709, None)
    pair = FramePairs([source], (128, 72), cache_dir=tmp_path / "cache")[0]
    trained = (pair.cur.permute(1, 2, 0).numpy() * 255).round().astype(int)
    shown = played(source, BT709)
    for index in range(len(PATCHES)):
        assert np.abs(trained[36, index * 32 + 16] - shown[360, index * 320 + 160]).max() <= 2
