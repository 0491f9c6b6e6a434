"""vst-run --workers: a batch on Ray workers, long videos cut at keyframes and joined by
stream copy (engine.cluster, engine.chunks). Ray starts once for the module."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from media import add_tone, make_texture

from vst.core.errors import InputError
from vst.core.style_mix import StyleMix
from vst.core.quality import psnr
from vst.engine.runner import ModelSpec
from vst.engine.batch import stylize_inputs
from vst.engine.chunks import FrameTimes, plan_chunks
from vst.engine.cluster import Scaling, import_ray
from vst.engine.job import VideoSettings


def panning_clip(path: Path, frames: int, fps: int = 25, gop: int = 25, audio: bool = True,
                 size: tuple[int, int] = (96, 64)) -> Path:
    """A texture panning right, x264 with B-frames and a keyframe every `gop` frames, and a
    tone as long as the video."""
    width, height = size
    texture = make_texture(height, width + frames)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "12", "g": str(gop), "keyint_min": str(gop)}
        sound = container.add_stream("aac", rate=48000, layout="mono") if audio else None
        for index in range(frames):
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(texture[:, index:index + width]),
                                                 format="rgb24")
            picture.pts = index
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
        if sound is not None:
            add_tone(container, sound, frames / fps)
    return path


def decoded(path: Path) -> tuple[np.ndarray, list[float], float | None]:
    """(frames (T, H, W, 3), their times in seconds, the audio's duration or None)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames, times = [], []
        for frame in container.decode(video):
            frames.append(frame.to_ndarray(format="rgb24"))
            times.append(float(frame.pts * frame.time_base))
        audio = None
        if container.streams.audio:
            stream = container.streams.audio[0]
            audio = float(stream.duration * stream.time_base) if stream.duration else None
    return np.stack(frames), times, audio


@pytest.fixture(scope="module")
def ray_two_cpus():
    ray = pytest.importorskip("ray", reason="pip install 'vst[cluster]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def run(inputs, out, checkpoint, scaling, **settings):
    lines = []
    outcomes = stylize_inputs([str(source) for source in inputs], out, ModelSpec(checkpoint, None, "torch", StyleMix()),
                              VideoSettings(**settings), scaling, lines.append, lambda notice: None, progress=False)
    return outcomes, lines


def test_chunks_start_at_keyframes_and_cover_every_frame_once(tmp_path):
    clip = panning_clip(tmp_path / "long.mp4", 130, gop=25, audio=False)
    times = FrameTimes.scan(str(clip))
    chunks = plan_chunks(str(clip), 2.0)
    assert [chunk.start for chunk in chunks] == times.keyframes[::2]   # 2 s = every other 1 s keyframe
    assert sum(chunk.frames for chunk in chunks) == 130
    assert chunks[-1].end is None and all(a.end == b.start for a, b in zip(chunks, chunks[1:]))
    cut = plan_chunks(str(clip), 2.0, max_frames=60)
    assert sum(chunk.frames for chunk in cut) == 60 and cut[-1].end == times.pts[60]
    assert len(plan_chunks(str(clip), 100.0)) == 1


def test_frames_numbered_at_the_rate_are_never_chunked(tmp_path):
    """A raw stream's (and AVI's) frames carry no times of their own to cut by."""
    with av.open(str(tmp_path / "raw.m2v"), "w") as container:  # its demuxer times the packets, not the frames
        video = container.add_stream("mpeg2video", rate=25, options={"g": "5"})
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for seed in range(30):
            container.mux(video.encode(av.VideoFrame.from_ndarray(make_texture(48, 64, seed), format="rgb24")))
        container.mux(video.encode())
    assert plan_chunks(str(tmp_path / "raw.m2v"), 0.2) == []
    assert plan_chunks(str(panning_clip(tmp_path / "clip.avi", 30, gop=5, audio=False)), 0.5) == []


def test_without_ray_workers_say_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(InputError, match=r"pip install 'vst\[cluster\]'"):
        import_ray()


def test_three_clips_on_two_workers_give_the_frames_of_one(ray_two_cpus, checkpoint, tmp_path):
    clips = [panning_clip(tmp_path / f"clip{i}.mp4", 12 + 4 * i, fps=10 + i, audio=i != 1) for i in range(3)]
    # lossless, so that the frames compared are the stylizer's and not x264's choices
    one, _ = run(clips, tmp_path / "one", checkpoint, Scaling(1), crf=0)
    two, lines = run(clips, tmp_path / "two", checkpoint, Scaling(2, chunk_seconds=0), crf=0)
    assert [o.error for o in one + two] == [None] * 6 and len(lines) == 3
    for clip in clips:
        frames_one, times_one, audio_one = decoded(tmp_path / "one" / clip.name)
        frames_two, times_two, audio_two = decoded(tmp_path / "two" / clip.name)
        assert times_two == times_one and audio_two == audio_one
        # the same model and encoder; a worker's share of the cores changes how convolutions
        # split their sums, which moves a float's last bits and so a few pixels by a level
        assert psnr(frames_two, frames_one) >= 50
    assert not [p for p in (tmp_path / "two").iterdir() if p.name.startswith(".")]


def test_a_long_clip_chunked_on_two_workers_is_the_clip_one_worker_writes(ray_two_cpus, checkpoint, tmp_path):
    clip = panning_clip(tmp_path / "long.mp4", 150, gop=25)
    # lossless: the random-weight model's output is noise that x264 at crf 18 cannot keep,
    # and two GOP layouts would lose different parts of it (~30 dB apart)
    run([clip], tmp_path / "one.mp4", checkpoint, Scaling(1), crf=0)
    outcomes, lines = run([clip], tmp_path / "two.mp4", checkpoint, Scaling(2, chunk_seconds=1.0), crf=0)
    assert outcomes[0].error is None and "6 chunks on 2 workers" in lines[0]
    frames_one, times_one, audio_one = decoded(tmp_path / "one.mp4")
    frames_two, times_two, audio_two = decoded(tmp_path / "two.mp4")
    assert len(frames_two) == 150 and times_two == times_one
    assert audio_two == pytest.approx(audio_one, abs=0.03)
    assert psnr(frames_two, frames_one) >= 38
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4", "one.mp4", "two.mp4"]


def test_chunks_keep_max_frames_height_and_the_audio_cut_under_the_longest_name(ray_two_cpus, checkpoint, tmp_path):
    clip = panning_clip(tmp_path / "long.mp4", 100, gop=10)
    settings = dict(max_frames=45, height=32)
    # the longest name whose temporary still carries it (core.files allows for a 7-digit pid):
    # the chunks' folder, named after the temporary, fits too
    two = tmp_path / f"{'t' * (255 - len('..4194304.tmp.mkv'))}.mkv"
    run([clip], tmp_path / "one.mkv", checkpoint, Scaling(1), **settings)
    outcomes, _ = run([clip], two, checkpoint, Scaling(2, chunk_seconds=0.4), **settings)
    assert outcomes[0].error is None
    frames_one, times_one, _ = decoded(tmp_path / "one.mkv")
    frames_two, times_two, _ = decoded(two)
    assert frames_two.shape == frames_one.shape == (45, 32, 48, 3) and times_two == times_one
    with av.open(str(two)) as chunked, av.open(str(tmp_path / "one.mkv")) as one:
        ends = [max(float(p.pts * p.time_base) for p in c.demux(c.streams.audio[0]) if p.pts is not None)
                for c in (one, chunked)]
    assert ends[1] == pytest.approx(ends[0], abs=0.05) and ends[1] < 45 / 25 + 0.05


def test_a_truncated_clip_chunked_is_reported_as_one_worker_reports_it(ray_two_cpus, checkpoint, tmp_path):
    """Each chunk's reader sees only its span: the last one measures the whole video's end,
    and the driver says what one worker says. Chunked runs used to say nothing."""
    whole = panning_clip(tmp_path / "whole.mkv", 100, gop=10, audio=False)
    clip = tmp_path / "cut.mkv"
    clip.write_bytes(whole.read_bytes()[:int(whole.stat().st_size * 0.6)])
    one, _ = run([clip], tmp_path / "one.mkv", checkpoint, Scaling(1))
    two, lines = run([clip], tmp_path / "two.mkv", checkpoint, Scaling(2, chunk_seconds=0.4))
    assert "chunks on 2 workers" in lines[0]
    assert "truncated" in str(one[0].error)
    assert str(two[0].error) == str(one[0].error).replace("one.mkv", "two.mkv")


def test_a_failing_video_is_reported_while_the_others_finish(ray_two_cpus, checkpoint, tmp_path):
    (tmp_path / "clips" / "sub").mkdir(parents=True)
    good = panning_clip(tmp_path / "clips" / "good.mp4", 40, gop=10)
    bad = tmp_path / "clips" / "sub" / "bad.mp4"
    bad.write_bytes(good.read_bytes()[:2000])  # the header and no frames
    outcomes, lines = run([tmp_path / "clips"], tmp_path / "out", checkpoint, Scaling(2, chunk_seconds=0.4))
    by_name = {Path(o.task.source).name: o for o in outcomes}
    assert by_name["good.mp4"].error is None and by_name["bad.mp4"].line is None
    assert str(by_name["bad.mp4"].error).startswith(str(bad))
    # out/sub was made for bad.mp4, which wrote nothing: it goes too
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good.mp4"]


def test_a_worker_killed_mid_chunk_is_restarted_and_its_chunk_retried(ray_two_cpus, checkpoint, tmp_path):
    clip = panning_clip(tmp_path / "long.mp4", 120, gop=30, size=(128, 72), audio=False)
    killed = []

    def kill_one_worker():
        for _ in range(600):
            found = subprocess.run(["pgrep", "-f", "StylizeWorker.run"], capture_output=True, text=True).stdout.split()
            if found:
                os.kill(int(found[0]), signal.SIGKILL)
                killed.append(found[0])
                return
            time.sleep(0.1)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    outcomes, _ = run([clip], tmp_path / "out.mp4", checkpoint, Scaling(2, chunk_seconds=1.0))
    killer.join()
    assert killed and outcomes[0].error is None
    assert len(decoded(tmp_path / "out.mp4")[0]) == 120


def test_sigterm_stops_the_workers_and_leaves_nothing(checkpoint, tmp_path):
    pytest.importorskip("ray", reason="pip install 'vst[cluster]'")
    clip = panning_clip(tmp_path / "long.mp4", 200, gop=25, size=(128, 72), audio=False)
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "vst.engine.cli", str(clip), "--engine", str(checkpoint),
                                "-o", str(out / "x.mp4"), "--workers", "2", "--chunk-seconds", "2", "--backend", "torch"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(1200):  # until a chunk folder exists: the workers are stylizing
        if out.is_dir() and any(p.name.startswith(".x.mp4.") and p.suffix == ".cut" for p in out.iterdir()):
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143 and "stopped by SIGTERM" in err
    assert list(out.iterdir()) == []
    assert subprocess.run(["pgrep", "-f", "StylizeWorker"], capture_output=True).stdout == b""


def test_a_bad_ray_address_is_one_line(checkpoint, tmp_path):
    pytest.importorskip("ray", reason="pip install 'vst[cluster]'")
    clip = panning_clip(tmp_path / "clip.mp4", 5, audio=False)
    done = subprocess.run([sys.executable, "-m", "vst.engine.cli", str(clip), "--engine", str(checkpoint),
                           "--workers", "2", "--ray-address", "nohost:noport"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "vst-run: error: --ray-address nohost:noport: cannot start or join Ray" in done.stderr
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == [clip]
