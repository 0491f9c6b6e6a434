"""vst-run on the clips that break naive pipelines, each made here: irregular timestamps,
B-frames in AVI, --max-frames with audio, a full disk, SIGTERM / SIGHUP, and settings that
must be refused in one line before any frame is stylized."""
import os
import resource
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vst.engine import cli
from vst.engine.video_io import VideoReader

from invoke import invoke
from media import add_tone, make_texture, write_video

SIZE = (48, 64)  # (H, W)


def frames(count: int) -> list[np.ndarray]:
    scene = make_texture(SIZE[0], SIZE[1] + 2 * count, seed=1)
    return [np.ascontiguousarray(scene[:, 2 * t:2 * t + SIZE[1]]) for t in range(count)]


def write_timed(path: Path, times: list[float], codec="libx264", options=None, audio=None) -> Path:
    """Frames shown at `times` (seconds), in a 1/90000 time base; a tone as long as the video."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=30)
        stream.codec_context.time_base = stream.time_base = Fraction(1, 90000)
        stream.width, stream.height = SIZE[1], SIZE[0]
        stream.pix_fmt = "yuv420p"
        stream.options = options or {}
        sound = container.add_stream(audio, rate=48000, layout="mono") if audio else None
        for t, pixels in zip(times, frames(len(times))):
            picture = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            picture.pts, picture.time_base = round(t * 90000), Fraction(1, 90000)
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
        if sound is not None:
            add_tone(container, sound, times[-1] + 1 / 30)
    return path


def video_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0)]


def audio_end(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return max(float((p.pts + p.duration) * p.time_base) for p in container.demux(stream)
                   if p.pts is not None)


def run(capsys, *argv) -> tuple[int, str]:
    code, _, err = invoke(cli.main, capsys, argv)
    return code, err


def stylize(capsys, checkpoint, source, out, *extra) -> None:
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", out, *extra)
    assert code == 0, err


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- timestamps -------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_irregular_timestamps_survive_exactly(suffix, checkpoint, tmp_path, capsys):
    rng = np.random.default_rng(0)
    gaps = rng.uniform(0.020, 0.046, 30)
    gaps[[5, 17]] = 0.0167  # two frames closer than one period of the average rate
    times = list(np.concatenate([[0], np.cumsum(gaps)]))
    source = write_timed(tmp_path / "jitter.mp4", times)
    stylize(capsys, checkpoint, source, tmp_path / f"out{suffix}")
    got = video_times(tmp_path / f"out{suffix}")
    assert len(got) == len(times) and got == pytest.approx(times, abs=0.0006)  # mkv: 1 ms ticks
    assert np.all(np.diff(got) > 0.01), "never two frames on one timestamp"


@pytest.mark.parametrize("codec,options", [("libx264", {"bf": "3"}), ("mpeg4", {"bf": "2", "qscale": "3"})])
def test_avi_with_b_frames_comes_out_evenly_spaced(codec, options, checkpoint, tmp_path, capsys):
    source = tmp_path / "in.avi"
    with av.open(str(source), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(24000, 1001))
        stream.width, stream.height, stream.pix_fmt = SIZE[1], SIZE[0], "yuv420p"
        stream.options = options
        for index, pixels in enumerate(frames(24)):
            picture = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            picture.pts = index
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    stylize(capsys, checkpoint, source, tmp_path / "out.mp4")
    got = video_times(tmp_path / "out.mp4")
    assert got == pytest.approx([i * 1001 / 24000 for i in range(24)], abs=1e-3)


def test_avi_output_is_numbered_at_the_frame_rate(checkpoint, tmp_path, capsys):
    """mkv's 1 ms time base would become a 1000 fps AVI full of empty frames."""
    source = write_video(tmp_path / "in.mkv", frames(12), fps=10)
    stylize(capsys, checkpoint, source, tmp_path / "out.avi")
    with av.open(str(tmp_path / "out.avi")) as container:
        video = container.streams.video[0]
        assert video.average_rate == 10 and len(list(container.decode(video))) == 12


def test_avi_output_of_audio_that_starts_before_the_video_has_no_hole(checkpoint, tmp_path, capsys):
    """AAC's and MP3's priming packet starts before 0, which AVI cannot hold: its muxer moved
    every stream later, so the first frame stayed on screen twice (21 frames for 20)."""
    source = write_video(tmp_path / "in.mp4", frames(20), fps=10, audio="aac")
    times = {}
    for name, extra in (("with", ()), ("without", ("--no-audio",))):
        stylize(capsys, checkpoint, source, tmp_path / f"{name}.avi", *extra)
        with av.open(str(tmp_path / f"{name}.avi")) as container:
            assert container.streams.video[0].frames == 20
            times[name] = video_times(tmp_path / f"{name}.avi")
    assert times["with"] == times["without"] and np.allclose(np.diff(times["with"]), 0.1)


def test_what_avi_cannot_hold_of_a_turned_video_with_late_audio_is_said(checkpoint, tmp_path, capsys):
    """AVI holds neither a display rotation nor a start time: a portrait clip plays turned
    and audio that begins after the video plays early there, each said in one line."""
    source = tmp_path / "phone.mp4"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = SIZE[1], SIZE[0], "yuv420p"
        video.set_display_rotation(90)
        sound = container.add_stream("aac", rate=48000, layout="mono")
        for index, pixels in enumerate(frames(20)):
            picture = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode())
        for start in range(24000, 96000, 1024):  # from 0.5 s to 2 s
            piece = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            piece.sample_rate, piece.pts = 48000, start
            container.mux(sound.encode(piece))
        container.mux(sound.encode())
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.avi")
    notes = err.strip().splitlines()[-2:]
    assert code == 0 and notes[0].endswith("phone.mp4: the display rotation (90 degrees) left out: avi holds none, "
                                           "so the video plays turned (write .mp4 to keep it)"), err
    assert "the start of audio stream 1 left out: it begins 0.4" in notes[1] and "plays that much early" in notes[1]
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4")
    assert code == 0 and "left out" not in err, err


def test_frames_that_change_size_are_written_at_the_first_size_and_said(checkpoint, tmp_path, capsys):
    """Two raw H.264 streams of two sizes one after the other, as a spliced recording has them."""
    parts = []
    for index, (width, height) in enumerate(((64, 48), (96, 54))):
        part = tmp_path / f"part{index}.h264"
        with av.open(str(part), "w") as container:
            video = container.add_stream("libx264", rate=10)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            for seed in range(5):
                container.mux(video.encode(av.VideoFrame.from_ndarray(make_texture(height, width, seed), format="rgb24")))
            container.mux(video.encode())
        parts.append(part.read_bytes())
    (tmp_path / "spliced.h264").write_bytes(b"".join(parts))
    code, err = run(capsys, tmp_path / "spliced.h264", "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4")
    assert code == 0 and err.strip().splitlines()[-1].endswith(
        "spliced.h264: the frames change size at 0.50 s (64x48, then 96x54): all are written at 64x48"), err
    with av.open(str(tmp_path / "o.mp4")) as container:
        assert container.streams.video[0].frames == 10


# --- audio ------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".mp4", ".avi", ".webm"])
def test_max_frames_cuts_the_audio_where_the_video_ends(suffix, checkpoint, tmp_path, capsys):
    source = write_video(tmp_path / "in.mkv", frames(30), fps=10, audio="aac")
    out = tmp_path / f"out{suffix}"
    stylize(capsys, checkpoint, source, out, "--max-frames", "8")
    assert len(video_times(out)) == 8
    # the video ends at 0.8 s; cut at packet granularity, AAC's 21 ms, twice in AVI, which
    # cannot record the encoder's priming delay and so shows every packet one frame later
    assert 0.75 < audio_end(out) <= 0.8 + 0.045


def test_audio_the_container_cannot_hold_is_re_encoded(checkpoint, tmp_path, capsys):
    # .mov lists Opus among its codecs and then refuses it; .webm does not list aac
    source = write_video(tmp_path / "in.mkv", frames(10), fps=10, audio="libopus")
    stylize(capsys, checkpoint, source, tmp_path / "o.mov")
    with av.open(str(tmp_path / "o.mov")) as container:
        assert [s.codec_context.name for s in container.streams.audio] == ["aac"]
    assert audio_end(tmp_path / "o.mov") == pytest.approx(1.0, abs=0.05)
    source = write_video(tmp_path / "in.mp4", frames(10), fps=10, audio="aac")
    stylize(capsys, checkpoint, source, tmp_path / "o.webm")
    with av.open(str(tmp_path / "o.webm")) as container:
        assert container.streams.video[0].codec_context.name == "vp9"
        assert [s.codec_context.name for s in container.streams.audio] == ["opus"]
    # PCM, as cameras write it into AVI, whose channel order goes unsaid ("1 channels"), into
    # MP4: FFmpeg would refuse its shorter last packet once the whole video is written
    source = write_video(tmp_path / "camera.avi", frames(10), fps=10, audio="pcm_s16le")
    with av.open(str(source)) as container:
        assert container.streams.audio[0].layout.name == "1 channels"
    stylize(capsys, checkpoint, source, tmp_path / "camera.mp4")
    with av.open(str(tmp_path / "camera.mp4")) as container:
        assert [(s.codec_context.name, s.layout.name) for s in container.streams.audio] == [("aac", "mono")]
    assert audio_end(tmp_path / "camera.mp4") == pytest.approx(1.0, abs=0.05)


def test_a_libx265_video_of_one_or_two_frames(checkpoint, tmp_path, capfd):
    """x265 gives such short encodes a DTS from uninitialized memory, which the MP4 muxer
    refuses (a traceback, about one run in four): one frame or two are never reordered, so
    their DTS is their PTS. Several runs in one process, where x265's heap is reused. x265's
    own statistics, which it writes on the process's stderr, are not shown."""
    source = write_video(tmp_path / "in.mp4", frames(4), fps=10)
    for attempt in range(6):
        count = 1 + attempt % 2
        out = tmp_path / f"o{attempt}.mp4"
        code, err = run(capfd, source, "--engine", checkpoint, "--backend", "torch", "-o", out,
                        "--codec", "libx265", "--max-frames", str(count))
        assert code == 0 and "encoded" not in err and "x265" not in err.replace("(libx265", ""), err
        with av.open(str(out)) as container:
            packets = [p for p in container.demux(video=0) if p.size]
        assert len(packets) == count and all(p.dts == p.pts for p in packets)


def test_a_packet_the_muxer_refuses_is_one_line_and_leaves_nothing(checkpoint, tmp_path, capsys, monkeypatch):
    def refuse(self, pixels, source):
        raise av.error.PatchWelcomeError(-1163346256, "Not yet implemented in FFmpeg, patches welcome")

    monkeypatch.setattr("vst.engine.video_io.VideoWriter.write_frame", refuse)
    source = write_video(tmp_path / "in.mp4", frames(3), fps=10)
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4")
    assert code == 1 and err.strip().splitlines()[-1].endswith(
        "o.mp4: FFmpeg cannot write it (Not yet implemented in FFmpeg, patches welcome); nothing written"), err
    assert leftovers(tmp_path) == [] and not (tmp_path / "o.mp4").exists()


def test_progress_bar_total_without_a_frame_count(checkpoint, tmp_path, capsys):
    source = write_video(tmp_path / "in.webm", frames(15), fps=10, codec="libvpx-vp9")
    reader = VideoReader(str(source))
    assert reader.info.frames is None and reader.info.expected_frames == 15
    reader.close()
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4")
    assert code == 0 and "15/15" in err, err


def test_progress_bar_total_of_an_mkv_whose_audio_outlasts_its_video(checkpoint, tmp_path, capsys):
    """Matroska keeps no frame count, and its container duration spans the longer AAC track
    (2.021 s for 50 frames at 25 fps): the video stream's own DURATION tag gives 50, not 51."""
    source = write_video(tmp_path / "in.mkv", frames(50), fps=25, audio="aac")
    reader = VideoReader(str(source))
    assert reader.info.frames is None and reader.info.expected_frames == 50
    reader.close()
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mkv")
    assert code == 0 and "50/50" in err and "/51" not in err, err


def write_raw_mpeg2(path: Path, count: int, understated: int) -> Path:
    """A raw MPEG-2 stream (.m2v, no container: no times, no frame count) of `count` flat
    frames at constant bit rate, whose headers then state `understated` times less than that
    rate: FFmpeg guesses its duration from the rate, `understated` times too long."""
    rate = 400_000
    with av.open(str(path), "w", format="mpeg2video") as container:
        stream = container.add_stream("mpeg2video", rate=25)
        stream.width, stream.height, stream.pix_fmt, stream.bit_rate = SIZE[1], SIZE[0], "yuv420p", rate
        stream.codec_context.options = {"maxrate": str(rate), "minrate": str(rate), "bufsize": str(rate // 2)}
        for index in range(count):
            picture = av.VideoFrame.from_ndarray(np.full((*SIZE, 3), 10 * index, np.uint8), format="rgb24")
            picture.pts = index
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    data, stated = bytearray(path.read_bytes()), rate // 400 // understated  # in units of 400 bit/s
    header = data.find(b"\x00\x00\x01\xb3")  # each sequence header: 18 bits of rate after 4 bytes
    while header >= 0:
        data[header + 8], data[header + 9] = stated >> 10 & 0xFF, stated >> 2 & 0xFF
        data[header + 10] = data[header + 10] & 0x3F | (stated & 3) << 6
        header = data.find(b"\x00\x00\x01\xb3", header + 4)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("suffix", [".mkv", ".webm", ".mp4"])
def test_a_video_that_starts_late_pauses_or_holds_its_last_frame_is_not_called_truncated(suffix, checkpoint,
                                                                                         tmp_path, capsys):
    """Matroska states no frame count: its frames are checked against its end time, not
    against its length times its mean rate, which these three would miss by 25-95 %. A last
    frame held for seconds (a slide show's) is held as long in the output, which used to
    last its frames' mean spacing instead; with B-frames, MP4 holds that length on another
    frame's packet than the last one's, which used to make it "truncated"."""
    codec = "libvpx-vp9" if suffix == ".webm" else "libx264"
    held = [0.04 * index for index in range(13)]  # 13: the last packet (a B-frame) is not the last frame's
    for name, times, last in (("late", [1 + 0.04 * index for index in range(20)], None),
                              ("pause", [0, 0.04, 0.08, 5.08, 5.12], None), ("held", held, 2.0)):
        source = tmp_path / f"{name}{suffix}"
        with av.open(str(source), "w") as container:
            stream = container.add_stream(codec, rate=25)
            stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
            stream.width, stream.height, stream.pix_fmt = SIZE[1], SIZE[0], "yuv420p"
            stream.options = {"x264-params": "b-adapt=0:bframes=3"} if codec == "libx264" else {}
            packets = []
            for t, pixels in zip(times, frames(len(times))):
                picture = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                picture.pts, picture.time_base = round(t * 1000), Fraction(1, 1000)
                packets += stream.encode(picture)
            packets += stream.encode()
            if last:  # the last frame shown for `last` seconds, as FFmpeg writes a slide show's:
                # on the last frame's packet (Matroska) and on the last packet (MP4)
                end = round((times[-1] + last) * 1000)
                for packet in (max(packets, key=lambda packet: packet.pts), packets[-1]):
                    packet.duration = end - packet.pts
            container.mux(packets)
        out = tmp_path / f"{name}.out{suffix}"
        code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", out)
        assert code == 0 and "truncated" not in err, (name, err)
        if last:
            with av.open(str(out)) as container:
                assert container.duration / 1e6 == pytest.approx(times[-1] + last, abs=0.01)
        if suffix != ".mp4":  # Matroska's length runs from its first frame to its DURATION tag, not from 0
            reader = VideoReader(str(source))
            assert reader.info.duration == pytest.approx(times[-1] - times[0] + (last or 0.04), abs=0.002), name
            reader.close()


def test_an_mkv_whose_first_video_track_is_empty_is_read_from_the_next(checkpoint, tmp_path, capsys):
    source = tmp_path / "two.mkv"
    with av.open(str(source), "w") as container:
        empty, video = (container.add_stream("libx264", rate=10) for _ in range(2))
        for stream in (empty, video):
            stream.width, stream.height, stream.pix_fmt = SIZE[1], SIZE[0], "yuv420p"
        for index, pixels in enumerate(frames(10)):
            picture = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode())
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4")
    assert code == 0, err
    with av.open(str(tmp_path / "o.mp4")) as container:
        assert container.streams.video[0].frames == 10


@pytest.mark.parametrize("suffix", [".flv", ".nut"])
def test_a_container_that_states_no_length_is_read_whole(suffix, checkpoint, tmp_path, capsys):
    """Neither FLV nor NUT (as PyAV writes them) states a stream's length: nothing to measure
    a truncation against, which is no error."""
    source = write_video(tmp_path / f"in{suffix}", frames(5), fps=10)
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4")
    assert code == 0, err
    with av.open(str(tmp_path / "o.mp4")) as container:
        assert container.streams.video[0].frames == 5


def test_a_raw_stream_whose_length_ffmpeg_guesses_is_not_called_truncated(checkpoint, tmp_path, capsys):
    source = write_raw_mpeg2(tmp_path / "in.m2v", 20, understated=4)
    with av.open(str(source)) as container:
        assert container.duration / av.time_base > 2 * 20 / 25  # the guess
    reader = VideoReader(str(source))
    assert reader.info.expected_frames is None
    reader.close()
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4")
    assert code == 0 and "truncated" not in err, err
    with av.open(str(tmp_path / "o.mp4")) as container:
        assert container.streams.video[0].frames == 20


def combing(pictures: list[np.ndarray]) -> float:
    """How much each line differs from the mean of its neighbours: the teeth of woven fields."""
    lines = np.stack(pictures).astype(np.float64)
    return float(np.abs(lines[:, 1:-1] - (lines[:, :-2] + lines[:, 2:]) / 2).mean())


def test_interlaced_input_is_deinterlaced_and_said_and_progressive_input_untouched(checkpoint, tmp_path, capsys):
    """Each frame weaves two fields a moment apart (a texture moving 6 pixels a field), encoded
    interlaced by x264; bwdif blends them before the stylizer sees them, frame for frame."""
    scene, count = make_texture(SIZE[0], SIZE[1] + 12 * 16, seed=3), 16
    woven = []
    for t in range(count):
        top, bottom = (scene[:, 12 * t + shift:12 * t + shift + SIZE[1]] for shift in (0, 6))
        frame = top.copy()
        frame[1::2] = bottom[1::2]
        woven.append(frame)
    interlaced = tmp_path / "tff.mp4"
    with av.open(str(interlaced), "w") as container:  # flagged and coded as interlaced
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = SIZE[1], SIZE[0], "yuv420p"
        stream.options = {"crf": "10", "x264-params": "interlaced=1:tff=1"}
        for index, pixels in enumerate(woven):
            picture = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            picture.pts = index
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
    progressive = write_video(tmp_path / "progressive.mp4", woven, fps=25)

    def seen(path: Path) -> tuple[list[np.ndarray], bool]:
        reader = VideoReader(str(path))
        pictures = [item.pixels for item in reader if not isinstance(item, av.Packet)]
        reader.close()
        return pictures, reader.deinterlacer is not None

    deinterlaced, used = seen(interlaced)
    untouched, not_used = seen(progressive)
    assert used and not not_used and len(deinterlaced) == len(untouched) == count
    assert combing(deinterlaced) < 0.6 * combing(untouched), (combing(deinterlaced), combing(untouched))
    code, out, err = invoke(cli.main, capsys, [interlaced, "--engine", checkpoint, "--backend", "torch",
                                                "-o", tmp_path / "out.mp4"])
    assert code == 0 and "16 frames 64x48 at 25 fps, deinterlaced (bwdif)" in out, (out, err)
    assert video_times(tmp_path / "out.mp4") == video_times(interlaced)


# --- the process around the job ---------------------------------------------------------------

VST_RUN = [sys.executable, "-c", "from vst.engine.cli import main; main()"]


def test_disk_full_is_one_line_and_leaves_nothing(checkpoint, tmp_path):
    source = write_video(tmp_path / "in.mp4", [make_texture(96, 128, seed=t) for t in range(20)], fps=10)

    def small_disk():  # what a full disk does to a write: EFBIG instead of ENOSPC
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    (tmp_path / "out").mkdir()
    result = subprocess.run([*VST_RUN, str(source), "--engine", str(checkpoint), "--backend", "torch",
                             "-o", str(tmp_path / "out" / "o.mp4"), "--crf", "0"],
                            preexec_fn=small_disk, capture_output=True, text=True)
    lines = [line for line in result.stderr.splitlines() if line.startswith("vst-run:")]
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines == [f"vst-run: error: {tmp_path / 'out' / 'o.mp4'}: cannot write (File too large); nothing written"]
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_like_ctrl_c(signum, checkpoint, tmp_path):
    source = write_video(tmp_path / "in.mp4", [make_texture(96, 128, seed=t % 5) for t in range(400)], fps=25)
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen([*VST_RUN, str(source), "--engine", str(checkpoint), "--backend", "torch",
                                "-o", str(out / "o.mp4")], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not leftovers(out) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)  # until the temporary output exists: the job is under way
    time.sleep(0.3)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, err
    assert err.strip().splitlines()[-1] == f"vst-run: stopped by {signal.Signals(signum).name}"
    assert list(out.iterdir()) == []


# --- refusals, before any frame -----------------------------------------------------------------

def test_settings_are_refused_in_one_line(checkpoint, tmp_path, capsys, monkeypatch):
    source = write_video(tmp_path / "in.mp4", frames(4), fps=10, audio="aac")
    stylized = []
    monkeypatch.setattr("vst.engine.job.run_pipeline", lambda *a, **k: stylized.append(1))
    base = [source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4"]
    (tmp_path / "folder.mp4").mkdir()
    cases = {
        ("--preset", "bogus"): "preset 'bogus': libx264 presets are ultrafast,",
        ("--codec", "aac"): "codec 'aac' is an audio encoder",
        ("--codec", "no-such-codec"): "codec 'no-such-codec' is not available here",
        ("--height", "100000"): "frames would be 133334x100000; at most 8192 pixels a side",
        ("-o", tmp_path / "folder.mp4"): "folder.mp4: is a folder",
        ("--strength", "nan"): "'nan' is not a finite number",
        ("-o", tmp_path / "o.webm", "--codec", "libx264"): "'webm' format does not support 'libx264' codec",
        ("-o", tmp_path / "o.mov", "--codec", "libvpx-vp9"): "mov files do not take libvpx-vp9 video (Invalid argument)",
        ("-o", tmp_path / f"{'a' * 252}.mp4"): f"{'a' * 252}.mp4: cannot write there (File name too long)",
        ("--codec", "no-such-codec", "--crf", "20"): "codec 'no-such-codec' is not available here",
        ("--codec", "mpeg4", "--crf", "20"): "crf is a setting of libx264, libx264rgb, libx265, libvpx-vp9, not of mpeg4",
        ("-o", tmp_path / "o.webm", "--preset", "medium"): "preset is a setting of libx264, libx264rgb, libx265, "
                                                           "not of libvpx-vp9",
    }
    if "h264_nvenc" in av.codecs_available and not Path("/dev/nvidia0").exists():
        cases["--codec", "h264_nvenc"] = "h264_nvenc does not start with these settings"
    for extra, message in cases.items():
        code, err = run(capsys, *base, *extra)
        last = err.strip().splitlines()
        assert code == 2 and len(last) == 1 and message in last[0], (extra, err)
    assert stylized == [] and leftovers(tmp_path) == []


@pytest.mark.skipif(not os.access("/proc", os.W_OK), reason="needs a /proc that reads as writable (Linux, as root)")
@pytest.mark.parametrize("command, out", [("vst.engine.cli", "o.mp4"), ("vst.engine.cli", "o.png"),
                                          ("vst.export.cli", "o.onnx"), ("vst.train.cli", "o.pt")])
def test_a_folder_that_reads_as_writable_but_takes_no_file_is_one_line(command, out, checkpoint, tmp_path, capsys):
    import importlib

    Image.fromarray(frames(1)[0]).save(tmp_path / "in.png")
    source = write_video(tmp_path / "in.mp4", frames(4), fps=10)
    argv = {"vst.engine.cli": [source if out.endswith(".mp4") else tmp_path / "in.png", "--engine", checkpoint,
                               "--backend", "torch"],
            "vst.export.cli": [checkpoint],
            "vst.train.cli": ["--style-image", tmp_path / "in.png", "--data", tmp_path, "--iters", "1"]}[command]
    option = "--out" if command == "vst.train.cli" else "-o"
    code, _, err = invoke(importlib.import_module(command).main, capsys, [*argv, option, f"/proc/{out}"])
    assert code == 2 and err.strip().endswith(f"error: /proc/{out}: cannot write there (No such file or directory)"), err


def test_a_stream_that_stops_before_its_first_frame_says_why(checkpoint, tmp_path, capsys):
    """An mp4 served over HTTP by a server that cannot seek in it (no Range requests): FFmpeg
    reads its header, then fails to reach its frames."""
    import functools
    import http.server
    import threading

    noise = np.random.default_rng(0).integers(0, 256, (40, 96, 128, 3), np.uint8)
    write_video(tmp_path / "in.mp4", list(noise), fps=10)  # its index after 0.5 MB of frames, out of reach
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/in.mp4"
    try:
        code, err = run(capsys, url, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4")
    finally:
        server.shutdown()
    assert code == 2 and err.strip().splitlines()[-1] == (
        f"vst-run: error: {url}: no frame could be decoded (Input/output error)"), err
    assert not (tmp_path / "o.mp4").exists()


def test_the_longest_name_a_file_system_takes_is_written(checkpoint, tmp_path, capsys):
    """255 bytes: its temporary, too long to carry the name, is named by its digest."""
    from vst.core.files import remove_temporaries, temporary_sibling

    source = write_video(tmp_path / "in.mp4", frames(3), fps=10)
    out = tmp_path / f"{'b' * 251}.mp4"
    code, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", out)
    assert code == 0 and out.is_file() and leftovers(tmp_path) == [], err
    temporary = temporary_sibling(out)
    temporary.write_bytes(b"left by a killed run")
    assert len(temporary.name) < 255
    remove_temporaries(out)
    assert leftovers(tmp_path) == []


def test_vst_train_refuses_frames_too_small_for_the_loss_network(tmp_path, capsys):
    from vst.train.cli import main as vst_train

    code, _, err = invoke(vst_train, capsys, ["--style-image", tmp_path / "s.jpg", "--data", tmp_path,
                                              "--out", tmp_path / "m.pt", "--size", "7x3"])
    assert code == 2 and err.strip() == ("vst-train: error: --size 7x3: training frames must be at least "
                                         "16x16 (the loss network sees relu4_2 at 1/8 of the frame)")


def test_a_library_call_on_another_thread_keeps_its_signal_handlers():
    """run_command installs SIGTERM/SIGHUP handlers only on the main thread."""
    import threading

    from vst.core.command import stops_like_ctrl_c

    before = signal.getsignal(signal.SIGTERM)
    seen = []

    def call():
        with stops_like_ctrl_c():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=call)
    thread.start()
    thread.join()
    assert seen == [before]
