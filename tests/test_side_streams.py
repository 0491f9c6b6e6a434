"""Audio, subtitle and attachment streams beside the stylized video (engine.side_streams):
every one kept where the container holds it, one line for each one it cannot, and re-encoded
audio in sync with the input's, for every audio codec into every output container."""
import io
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.stream import Disposition

from vst.engine import cli
from vst.engine.chunks import chunk_settings, join_chunks
from vst.engine.job import VideoJob, VideoSettings, stylize_video
from vst.engine.runner import open_runner

from invoke import invoke
from media import add_tone, decode_audio, make_texture, write_tracks

RATE = 48000
FRAMES = [make_texture(48, 64, seed=seed) for seed in range(10)]  # 1 s at 10 fps


def run(capsys, *argv) -> tuple[int, str, str]:
    return invoke(cli.main, capsys, argv)


def streams(path: Path) -> list[tuple[str, str]]:
    with av.open(str(path)) as container:
        return [(stream.type, stream.name if stream.type == "attachment" else
                 stream.codec_context.name if stream.codec_context else None)  # None: MP4's chapter track
                for stream in container.streams]


def subtitle_packets(path: Path) -> list[tuple[float, bytes]]:
    with av.open(str(path)) as container:
        return [(float(p.pts * p.time_base), bytes(p)) for p in container.demux(container.streams.subtitles[0])
                if p.size]


@pytest.fixture(scope="module")
def tracks(tmp_path_factory) -> Path:
    """An mkv with two audio tracks (aac, opus), SRT subtitles and a font attachment."""
    return write_tracks(tmp_path_factory.mktemp("tracks") / "tracks.mkv", FRAMES, 10, ["aac", "libopus"],
                        subtitles=True)


def test_an_mkv_keeps_every_audio_track_its_subtitles_and_fonts_by_default(tracks, checkpoint, tmp_path, capsys):
    source = tmp_path / "film.mkv"
    source.write_bytes(tracks.read_bytes())
    code, said, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch")  # no -o
    assert code == 0, err
    out = tmp_path / "film.texture.mkv"
    assert streams(out) == [("video", "h264")] + streams(tracks)[1:]
    assert "audio copied (aac, opus), subtitles copied (srt), attachments copied (font.ttf)" in said, said
    with av.open(str(out)) as container:
        assert container.streams[4].data == bytes(range(256))
    assert subtitle_packets(out) == subtitle_packets(tracks)
    for index in range(2):  # each track its own, not the first twice
        assert np.array_equal(decode_audio(out, index)[1], decode_audio(tracks, index)[1])
    assert "left out" not in err


def test_a_stream_the_container_cannot_hold_gets_one_line(tracks, checkpoint, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    code, said, err = run(capsys, tracks, "--engine", checkpoint, "--backend", "torch", "-o", out)
    assert code == 0, err
    assert streams(out) == [("video", "h264"), ("audio", "aac"), ("audio", "opus"), ("subtitle", "mov_text")]
    notes = [line for line in err.splitlines() if "left out" in line]
    assert notes == [f"vst-run: {tracks}: attachment 4 (font.ttf) left out: mp4 holds no attachments "
                     "(write .mkv to keep it)"], err


def cues(path: Path) -> list[tuple[float, float, str]]:
    """A file's first subtitle stream as (start s, end s, text) per cue with text."""
    with av.open(str(path)) as container:
        stream = container.streams.subtitles[0]
        return [(round(float(p.pts * p.time_base), 3), round(float((p.pts + p.duration) * p.time_base), 3),
                 text.ass.decode().split(",", 8)[-1])
                for p in container.demux(stream) if p.size for text in p.decode()]


@pytest.mark.parametrize("suffix, kind", [(".mp4", "mov_text"), (".mov", "mov_text"), (".webm", "webvtt")])
def test_srt_subtitles_are_converted_where_the_container_takes_only_its_own_kind(suffix, kind, tracks, checkpoint,
                                                                                 tmp_path, capsys):
    out = tmp_path / f"out{suffix}"
    code, said, err = run(capsys, tracks, "--engine", checkpoint, "--backend", "torch", "-o", out)
    assert code == 0, err
    assert f"subtitles srt converted to {kind} ({out.suffix[1:]} cannot hold srt)" in said, said
    assert cues(out) == cues(tracks) == [(0.1, 0.4, "first line"), (0.5, 0.9, "second line")]


def test_a_cameras_timecode_is_kept(checkpoint, tmp_path, capsys):
    source = tmp_path / "camera.mp4"  # as phones and cameras write them: a tmcd data track
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height = 64, 48
        video.metadata["timecode"] = "01:00:00:00"
        for index in range(3):
            frame = make_texture(48, 64, seed=index)
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode())
    assert [stream.type for stream in av.open(str(source)).streams] == ["video", "data"]
    for out in (tmp_path / "out.mp4", tmp_path / "out.mkv"):  # MP4 writes its track again, Matroska a tag
        code, said, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", out)
        assert code == 0 and "left out" not in err, err
        with av.open(str(out)) as container:
            tags = {key.lower(): value for key, value in container.streams.video[0].metadata.items()}
            assert tags["timecode"] == av.open(str(source)).streams.video[0].metadata["timecode"]
    assert [stream.type for stream in av.open(str(tmp_path / "out.mp4")).streams] == ["video", "data"]


def write_gopro_clip(path: Path) -> Path:
    """As a GoPro writes it: video, AAC and a GPMF telemetry track (a data track with the
    handler "GoPro MET", as FFmpeg's MP4 muxer names every data track), a sample each second."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream("aac", rate=RATE, layout="mono")
        telemetry = container.add_data_stream("bin_data")
        telemetry.time_base = Fraction(1, 1000)
        container.start_encoding()
        for index in range(30):
            picture = av.VideoFrame.from_ndarray(FRAMES[index % 10], format="rgb24")
            picture.pts = index
            container.mux(video.encode(picture))
            if index % 10 == 0:
                sample = av.Packet(b"GPMF %d" % (index // 10))
                sample.stream, sample.time_base = telemetry, Fraction(1, 1000)
                sample.pts = sample.dts = index * 100
                sample.duration = 1000
                container.mux(sample)
        container.mux(video.encode())
        add_tone(container, sound, 3.0)
    return path


def telemetry(path: Path) -> list[tuple[float, bytes]]:
    with av.open(str(path)) as container:
        data = [stream for stream in container.streams if stream.type == "data"]
        return [(float(p.pts * p.time_base), bytes(p)) for p in container.demux(*data) if p.size] if data else []


def test_a_gopros_telemetry_is_kept_where_the_container_holds_it(checkpoint, tmp_path, capsys):
    source = write_gopro_clip(tmp_path / "GX010001.MP4")
    assert telemetry(source) == [(0.0, b"GPMF 0"), (1.0, b"GPMF 1"), (2.0, b"GPMF 2")]
    for suffix in (".mp4", ".mov"):
        out = tmp_path / f"out{suffix}"
        code, said, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", out)
        assert code == 0 and "audio copied (aac), telemetry copied (gpmd)" in said and "left out" not in err, err
        assert telemetry(out) == telemetry(source)
        assert av.open(str(out)).streams[2].metadata["handler_name"] == "GoPro MET"
    code, said, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "part.mp4",
                          "--start", "0.95")  # moved back with the part; the sample at 0 s is before it
    assert code == 0 and telemetry(tmp_path / "part.mp4") == [(0.05, b"GPMF 1"), (1.05, b"GPMF 2")], err
    for suffix in (".mkv", ".avi"):
        code, said, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / f"o{suffix}")
        container = {".mkv": "matroska", ".avi": "avi"}[suffix]
        assert code == 0 and err.strip().splitlines()[-1].endswith(
            f"data stream 2 (gpmd) left out: {container} holds no GoPro telemetry (write .mp4 to keep it)"), err
        assert telemetry(tmp_path / f"o{suffix}") == []


def test_no_subtitles_and_no_audio(tracks, checkpoint, tmp_path, capsys):
    code, said, err = run(capsys, tracks, "--engine", checkpoint, "--backend", "torch", "--no-subtitles",
                          "-o", tmp_path / "a.mkv")
    assert code == 0 and "left out" not in err, err
    assert [kind for kind, _ in streams(tmp_path / "a.mkv")] == ["video", "audio", "audio"]
    code, said, err = run(capsys, tracks, "--engine", checkpoint, "--backend", "torch", "--no-audio",
                          "-o", tmp_path / "s.mkv")
    assert code == 0, err
    assert [kind for kind, _ in streams(tmp_path / "s.mkv")] == ["video", "subtitle", "attachment"]
    assert ", no audio, subtitles copied (srt), attachments copied (font.ttf);" in said, said


CHAPTERS = [{"id": 1, "start": 0, "end": 500, "time_base": Fraction(1, 1000), "metadata": {"title": "Intro"}},
            {"id": 2, "start": 500, "end": 1000, "time_base": Fraction(1, 1000), "metadata": {"title": "Walk"}}]
LABELS = [({"language": "eng", "title": "main camera"}, 0),   # per stream: tags, disposition
          ({"language": "fra", "title": "French"}, Disposition.default),
          ({"language": "ger", "title": "German commentary"}, Disposition.comment),
          ({"language": "spa"}, Disposition.forced)]


@pytest.fixture(scope="module")
def labelled(tracks) -> Path:
    """`tracks` copied with a title and a comment, chapters, and each stream's language, title
    and disposition, as a film ripped with mkvmerge has them (its statistics tags too)."""
    path = tracks.with_name("labelled.mkv")
    with av.open(str(tracks)) as source, av.open(str(path), "w") as out:
        out.metadata.update({"title": "A walk", "comment": "shot on a phone"})
        copies = {}
        for stream, (tags, disposition) in zip(source.streams, LABELS):
            copies[stream.index] = out.add_stream_from_template(stream)
            copies[stream.index].metadata.update({**tags, "BPS-eng": "1234", "NUMBER_OF_FRAMES-eng": "10"})
            copies[stream.index].disposition = disposition
        out.add_attachment("font.ttf", "font/ttf", bytes(range(256)))
        out.set_chapters(CHAPTERS)
        for packet in source.demux(*(source.streams[index] for index in copies)):
            if packet.size:
                packet.stream = copies[packet.stream.index]
                out.mux(packet)
    return path


def labels(path: Path) -> tuple[dict, list, list]:
    """A file's container tags, chapters as (start s, end s, title), and per stream (tags, disposition)."""
    with av.open(str(path)) as container:
        chapters = [(float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]), c["metadata"]["title"])
                    for c in container.chapters()]
        return (dict(container.metadata), chapters,
                [(dict(stream.metadata), stream.disposition) for stream in container.streams])


def test_titles_languages_dispositions_and_chapters_are_kept(labelled, checkpoint, tmp_path, capsys):
    out = tmp_path / "out.mkv"
    code, _, err = run(capsys, labelled, "--engine", checkpoint, "--backend", "torch", "-o", out)
    assert code == 0, err
    tags, chapters, streams_ = labels(out)
    assert tags["title"] == "A walk" and tags["COMMENT"] == "shot on a phone"
    assert chapters == [(0.0, 0.5, "Intro"), (0.5, 1.0, "Walk")]
    for (kept, disposition), (wanted, wanted_disposition) in zip(streams_, LABELS):
        assert {key: kept[key] for key in wanted} == wanted and disposition == wanted_disposition
        assert "BPS-eng" not in kept and "NUMBER_OF_FRAMES-eng" not in kept  # they describe the input's bytes
    # MP4 keeps the container's title, each track's language and the chapters too
    code, _, err = run(capsys, labelled, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "out.mp4")
    assert code == 0, err
    tags, chapters, streams_ = labels(tmp_path / "out.mp4")
    assert tags["title"] == "A walk" and chapters == [(0.0, 0.5, "Intro"), (0.5, 1.0, "Walk")]
    assert [kept["language"] for kept, _ in streams_[:3]] == ["eng", "fra", "ger"]  # then its chapter track
    titles = [tags.get("title") for tags, _ in LABELS[:3]]
    assert [kept.get("name") for kept, _ in streams_[:3]] == titles  # MP4 names a track's title "name"
    # and back from MP4: into MP4 again, and into Matroska as the track's title
    for suffix, key in ((".mp4", "name"), (".mkv", "title")):
        again = tmp_path / f"again{suffix}"
        assert run(capsys, tmp_path / "out.mp4", "--engine", checkpoint, "--backend", "torch", "-o", again)[0] == 0
        assert [kept.get(key) for kept, _ in labels(again)[2][:3]] == titles


def test_a_part_of_a_video_moves_every_stream_and_chapter_back_to_0(labelled, checkpoint, tmp_path, capsys):
    out = tmp_path / "part.mkv"
    code, said, err = run(capsys, labelled, "--engine", checkpoint, "--backend", "torch", "-o", out,
                          "--start", "0.45", "--end", "0:00:00.85")
    assert code == 0, err
    with av.open(str(out)) as container:
        frames = [round(float(frame.time), 3) for frame in container.decode(video=0)]
    with av.open(str(out)) as container:
        audio = [float(p.pts * p.time_base) for p in container.demux(container.streams.audio[0]) if p.size]
    assert frames == [0.05, 0.15, 0.25, 0.35]  # the input's 0.5 ... 0.8
    assert 0 <= audio[0] < 0.022 and audio[-1] < 0.45  # AAC packets of 21 ms, none past the video
    assert labels(out)[1] == [(0.0, 0.05, "Intro"), (0.05, 0.45, "Walk")]
    assert cues(out) == [(0.05, 0.4, "second line")]  # the first ended before; the second cut at the part's end
    code, said, err = run(capsys, labelled, "--engine", checkpoint, "--backend", "torch", "-o", out,
                          "--start", "0.2", "--end", "0.6")
    assert code == 0 and cues(out) == [(0.0, 0.2, "first line"), (0.3, 0.4, "second line")], err  # the first shown at 0.2
    with av.open(str(out)) as container:  # as long as its frames, to the last audio packet (21 ms)
        assert 0.4 <= container.duration / av.time_base < 0.45

    code, said, err = run(capsys, labelled, "--engine", checkpoint, "--backend", "torch", "-o", out, "--start", "5")
    assert code == 2 and err.strip().splitlines()[-1].endswith("no frame starts from 5 s on (the video is 1.00 s long)"), err
    code, said, err = run(capsys, labelled, "--engine", checkpoint, "--backend", "torch", "-o", out,
                          "--start", "10000000000000000")  # past any 64-bit timestamp: no seek is tried
    assert code == 2 and err.strip().splitlines()[-1].endswith("no frame starts from 1e+16 s on (the video is 1.00 s long)"), err
    code, said, err = run(capsys, labelled, "--engine", checkpoint, "-o", out, "--start", "1:00", "--end", "30")
    assert code == 2 and err.strip() == "vst-run: error: --end 30 s must come after --start 60 s", err
    code, said, err = run(capsys, labelled, "--engine", checkpoint, "-o", out, "--start", "0.51", "--end", "0.59")
    assert code == 2 and err.strip().endswith("no frame starts from 0.51 s to 0.59 s (the video is 1.00 s long)"), err
    code, said, err = run(capsys, labelled, "--engine", checkpoint, "-o", out, "--start", "1:75")
    assert code == 2 and "'1:75' is not a time: SECONDS or [HH:]MM:SS[.s]" in err, err


def test_a_raw_stream_whose_frames_have_no_time_is_numbered_at_its_rate(checkpoint, tmp_path, capsys):
    source = tmp_path / "raw.h264"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for frame in FRAMES[:5]:
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode())
    for extra, frames in (((), 5), (("--start", "0.1", "--end", "0.35"), 3)):
        code, said, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "o.mp4", *extra)
        assert code == 0 and f": {frames} frames 64x48 at 10 fps" in said, err
        with av.open(str(tmp_path / "o.mp4")) as container:
            times = [float(frame.time) for frame in container.decode(video=0)]
        assert times == pytest.approx([index / 10 for index in range(frames)])


@pytest.mark.parametrize("suffix", [".avi", ".y4m"])
def test_a_part_of_a_video_timed_in_frames_holds_the_frames_of_that_part(suffix, checkpoint, tmp_path, capsys):
    """AVI frames are numbered, not timed, and read from the first rather than sought; in a
    time base of 1/fps, 0.45 s is 4.5 frames and 0.15 s 1.4999... of them: the part starts
    at the first frame at or after its start and ends before its end."""
    source = tmp_path / f"in{suffix}"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264" if suffix == ".avi" else "rawvideo", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv444p" if suffix == ".avi" else "yuv420p"
        if suffix == ".avi":
            video.options = {"qp": "0"}
        for index, frame in enumerate(FRAMES):
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode())
    inputs = [picture.to_ndarray(format="rgb24").astype(int) for picture in av.open(str(source)).decode(video=0)]
    for start, end, wanted in (("0.45", "0.85", [5, 6, 7, 8]), ("0.15", "0.35", [2, 3]), ("0.3", "0.6", [3, 4, 5])):
        out = tmp_path / f"part{start}.mkv"
        code, _, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "--strength", "0",
                           "--crf", "0", "-o", out, "--start", start, "--end", end)
        assert code == 0, err
        with av.open(str(out)) as container:
            got = [frame.to_ndarray(format="rgb24").astype(int) for frame in container.decode(video=0)]
        assert [int(np.argmin([np.abs(g - f).mean() for f in inputs])) for g in got] == wanted, (start, end)


def test_a_part_of_a_transport_stream_starts_at_its_first_frame(checkpoint, tmp_path, capsys):
    """MPEG-TS has no index: a seek lands past the keyframe a part needs (here the only one, at
    the start: no frame at all), so such a file is read from its start."""
    frames = [make_texture(48, 64, seed=seed) for seed in range(60)]
    source = write_tracks(tmp_path / "camera.ts", frames, 10, ["aac"])
    out = tmp_path / "part.mkv"
    code, _, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "--strength", "0",
                       "--crf", "0", "-o", out, "--start", "2.5", "--end", "4")
    assert code == 0, err
    with av.open(str(out)) as container:
        got = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(got) == 15  # the input's frames 25 ... 39
    assert [int(np.argmin([np.abs(g.astype(int) - f).mean() for f in frames])) for g in got] == list(range(25, 40))


def test_a_tag_that_is_not_utf8_is_kept_with_a_replacement_character(checkpoint, tmp_path, capsys):
    source = tmp_path / "old.mkv"  # as older AVIs and cameras write them: a Latin-1 title
    with av.open(str(source), "w") as container:
        container.metadata["title"] = "Caf\u00e9!"
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for frame in FRAMES[:2]:
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode())
    data = source.read_bytes()
    source.write_bytes(data.replace("Caf\u00e9!".encode(), b"Caf\xe9!!"))  # same length, not UTF-8
    code, _, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "out.mkv")
    assert code == 0, err
    assert labels(tmp_path / "out.mkv")[0]["title"] == "Caf\ufffd!!"


def test_a_run_cut_short_keeps_the_chapters_it_reaches(labelled, checkpoint, tmp_path, capsys):
    out = tmp_path / "cut.mkv"
    code, _, err = run(capsys, labelled, "--engine", checkpoint, "--backend", "torch", "-o", out,
                       "--max-frames", "3")
    assert code == 0, err
    assert labels(out)[1] == [(0.0, 0.3, "Intro")]


def test_an_mp4s_chapter_track_is_read_as_its_chapters(labelled, checkpoint, tmp_path, capsys):
    mp4 = tmp_path / "labelled.mp4"  # MP4 holds chapters as a text track beside the others
    assert run(capsys, labelled, "--engine", checkpoint, "--backend", "torch", "-o", mp4)[0] == 0
    code, _, err = run(capsys, mp4, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "out.mkv")
    assert code == 0 and "left out" not in err, err
    assert labels(tmp_path / "out.mkv")[1] == [(0.0, 0.5, "Intro"), (0.5, 1.0, "Walk")]
    # and its mov_text subtitles, which Matroska does not take, come back as ASS
    assert [text for _, _, text in cues(tmp_path / "out.mkv")] == ["first line", "second line"]
    assert streams(tmp_path / "out.mkv")[3] == ("subtitle", "ssa")  # FFmpeg reads ASS back as its ssa decoder


@pytest.mark.parametrize("suffix", [".mkv", ".mov"])
def test_the_join_of_chunks_carries_the_tracks_and_labels_as_one_worker_does(suffix, labelled, checkpoint, tmp_path):
    settings = VideoSettings(codec="libx264")
    part = tmp_path / f"chunk00000{suffix}"
    runner = open_runner(checkpoint, None, "torch")
    try:
        stylize_video(VideoJob(str(labelled), part, chunk_settings(settings), (0, None)), runner, progress=False)
    finally:
        runner.close()
    assert [kind for kind, _ in streams(part)] == ["video"]
    out = tmp_path / f"out{suffix}"
    joined = join_chunks(str(labelled), [part], out, settings, cut_side=False)
    assert joined.frames == 10
    if suffix == ".mkv":
        assert joined.left_out == () and streams(out) == [("video", "h264")] + streams(labelled)[1:]
        assert subtitle_packets(out) == subtitle_packets(labelled)
        assert [kept.get("language") for kept, _ in labels(out)[2]] == ["eng", "fra", "ger", "spa", None]
    else:  # MOV holds neither Opus nor SRT
        assert streams(out) == [("video", "h264"), ("audio", "aac"), ("audio", "aac"), ("subtitle", "mov_text"),
                                ("data", None)]
        assert "audio opus re-encoded to aac (mov cannot hold opus)" in joined.side_streams
        assert "subtitles srt converted to mov_text (mov cannot hold srt)" in joined.side_streams
        assert cues(out) == cues(labelled)
        assert joined.left_out == ("attachment 4 (font.ttf) left out: mov holds no attachments (write .mkv to keep it)",)
        assert [kept["language"] for kept, _ in labels(out)[2][:4]] == ["eng", "fra", "ger", "spa"]  # ger re-encoded
    tags, chapters, _ = labels(out)
    assert tags["title"] == "A walk" and chapters == [(0.0, 0.5, "Intro"), (0.5, 1.0, "Walk")]


def picture(codec: str, muxer: str, pix_fmt: str, side: int) -> bytes:
    """A picture file: one texture encoded by `codec`, written by the `muxer` format."""
    file = io.BytesIO()
    with av.open(file, "w", format=muxer) as container:
        stream = container.add_stream(codec)
        stream.width, stream.height, stream.pix_fmt = side, side, pix_fmt
        container.mux(stream.encode(av.VideoFrame.from_ndarray(make_texture(side, side), format="rgb24")))
        container.mux(stream.encode())
    return file.getvalue()


COVER = picture("png", "image2pipe", "rgb24", 32)


def with_cover(path: Path, frames: list[np.ndarray]) -> Path:
    """An MP4 with a cover picture (a PNG stream marked as attached picture, as songs and
    downloads have one) and, unless `frames` is empty, a video; else a second of audio."""
    with av.open(str(path), "w", format="mp4") as container:
        cover = container.add_stream("png")
        cover.width, cover.height, cover.pix_fmt = 32, 32, "rgb24"
        cover.disposition = Disposition.attached_pic
        if frames:
            video = container.add_stream("libx264", rate=10)
            video.width, video.height, video.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        else:
            audio = container.add_stream("aac", rate=RATE)
        container.start_encoding()
        packet = av.Packet(COVER)
        packet.stream = cover
        container.mux(packet)
        for index, frame in enumerate(frames):
            image = av.VideoFrame.from_ndarray(frame, format="rgb24")
            image.pts = index
            container.mux(video.encode(image))
        if frames:
            container.mux(video.encode())
        else:
            add_tone(container, audio, 1.0)
    return path


def covers(path: Path) -> list[bytes]:
    """The pictures of a file's cover picture streams."""
    with av.open(str(path)) as container:
        return [bytes(packet) for stream in container.streams.video if stream.disposition & Disposition.attached_pic
                for packet in container.demux(stream) if packet.size]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_cover_picture_is_kept_in_mp4_and_mkv(suffix, checkpoint, tmp_path, capsys):
    source = with_cover(tmp_path / "clip.mp4", FRAMES)
    out = tmp_path / f"out{suffix}"
    code, said, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", out)
    assert code == 0, err
    assert "10 frames 64x48" in said and "cover picture copied (png)" in said, said
    assert covers(out) == [COVER]
    again = tmp_path / "again.mp4"  # Matroska's attachment comes back as a cover picture
    assert run(capsys, out, "--engine", checkpoint, "--backend", "torch", "-o", again)[0] == 0
    assert covers(again) == [COVER]


def test_a_cover_picture_gets_one_line_where_it_cannot_go(checkpoint, tmp_path, capsys):
    source = with_cover(tmp_path / "clip.mp4", FRAMES)
    code, _, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "out.mov")
    assert code == 0 and f"{source}: cover picture 1 (png) left out: mov holds no cover pictures " \
                         "(write .mkv to keep it)" in err, err
    gif_cover = tmp_path / "gif.mkv"  # Matroska shows any picture attachment as a cover; MP4 takes no GIF
    with av.open(str(gif_cover), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        container.add_attachment("cover.gif", "image/gif", picture("gif", "gif", "rgb8", 16))
        for frame in FRAMES[:2]:
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode())
    code, _, err = run(capsys, gif_cover, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "gif.mp4")
    assert code == 0 and f"{gif_cover}: cover picture 1 (gif) left out: mp4 cannot hold gif " \
                         "(write .mkv to keep it)" in err, err


def test_a_chunk_holds_the_video_alone_and_the_join_adds_the_cover(checkpoint, tmp_path):
    source = with_cover(tmp_path / "clip.mp4", FRAMES)
    part = tmp_path / "chunk00000.mkv"
    runner = open_runner(checkpoint, None, "torch")
    try:
        stylize_video(VideoJob(str(source), part, chunk_settings(VideoSettings()), (0, None)), runner, progress=False)
    finally:
        runner.close()
    assert streams(part) == [("video", "h264")]
    joined = join_chunks(str(source), [part], tmp_path / "out.mkv", VideoSettings(), cut_side=False)
    assert joined.frames == 10 and covers(tmp_path / "out.mkv") == [COVER]


def test_a_song_with_a_cover_picture_is_no_video(checkpoint, tmp_path, capsys):
    song = with_cover(tmp_path / "song.m4a", [])
    code, _, err = run(capsys, song, "--engine", checkpoint, "--backend", "torch", "-o", tmp_path / "out.mp4")
    assert code == 2 and err.strip().endswith(f"{song}: has no video stream (only a cover picture)"), err
    assert not (tmp_path / "out.mp4").exists()


def subpicture(seconds: float, colour: int) -> bytes:
    """A DVD subtitle packet (a subpicture unit): a 4 x 2 box of one palette colour at (10, 20),
    shown from the packet's time for `seconds`. Pixels are 2-bit run lengths, the even rows
    then the odd ones; two control sequences show it, then hide it."""
    row = bytes([0, colour])  # a run of length 0: this colour to the row's end
    pixels, first = row * 2, 4 + 2 * len(row)
    show = (b"\x01" + b"\x03\x32\x10" + b"\x04\xff\xf0" + bytes([0x05, 0, 0xA0, 0x0D, 0x01, 0x40, 0x15])
            + struct.pack(">BHH", 0x06, 4, 4 + len(row)) + b"\xff")
    second = first + 4 + len(show)
    body = (pixels + struct.pack(">HH", 0, second) + show
            + struct.pack(">HH", round(seconds * 90000 / 1024), second) + b"\x02\xff")
    return struct.pack(">HH", 4 + len(body), first) + body


def with_dvd_subtitles(path: Path) -> Path:
    """FRAMES with two DVD (picture) subtitles, at 0.1 and 0.5 s, 0.3 s each."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        pictures = container.add_stream("dvdsub")
        for frame in FRAMES:
            container.mux(video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(video.encode())
        for colour, start in enumerate((100, 500), 1):
            packet = av.Packet(subpicture(0.3, colour))
            packet.stream, packet.time_base = pictures, Fraction(1, 1000)
            packet.pts = packet.dts = start
            packet.duration = 300
            container.mux(packet)
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_dvd_subtitles_are_copied_into_mp4_and_mkv(suffix, checkpoint, tmp_path, capsys):
    source = with_dvd_subtitles(tmp_path / "dvd.mkv")
    out = tmp_path / f"out{suffix}"
    code, said, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", out)
    assert code == 0 and "subtitles copied (dvdsub)" in said, err
    assert streams(out) == [("video", "h264"), ("subtitle", "dvdsub")]
    assert subtitle_packets(out) == subtitle_packets(source) and len(subtitle_packets(out)) == 2
    with av.open(str(out)) as container:
        shown = [subtitle for packet in container.demux(container.streams.subtitles[0]) if packet.size
                 for subtitle in packet.decode()]
    assert [type(subtitle).__name__ for subtitle in shown] == ["BitmapSubtitle"] * 2


@pytest.mark.parametrize("suffix", [".mov", ".webm"])
def test_dvd_subtitles_get_one_line_where_they_cannot_go(suffix, checkpoint, tmp_path, capsys):
    source = with_dvd_subtitles(tmp_path / "dvd.mkv")
    out = tmp_path / f"out{suffix}"
    code, _, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", out)
    assert code == 0 and f"{source}: subtitle stream 1 (dvdsub) left out: {suffix[1:]} cannot hold dvdsub " \
                         "(write .mkv to keep it)" in err, err
    assert [kind for kind, _ in streams(out)] == ["video"]


def lag(reference: np.ndarray, shifted: np.ndarray, most: int = 4800) -> int:
    """Samples by which `shifted` lags `reference` (in array positions), by cross-correlation
    of their first half second, within ±most."""
    window = RATE // 2
    head = reference[most:most + window]
    scores = [float(np.dot(head, shifted[most + d:most + d + window])) for d in range(-most, most + 1)]
    return int(np.argmax(scores)) - most


AUDIO_CODECS = ["aac", "libmp3lame", "ac3", "libopus", "vorbis"]


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv", ".webm"])
@pytest.mark.parametrize("codec", AUDIO_CODECS)
def test_audio_copied_or_re_encoded_stays_in_sync(codec, suffix, checkpoint, tmp_path, capsys):
    """The audio starts within 1 ms of the input's and ends within one audio frame of it,
    copied or re-encoded (AAC's and Opus's priming samples recorded as delay)."""
    source = write_tracks(tmp_path / "in.mkv", FRAMES, 10, [codec])
    out = tmp_path / f"out{suffix}"
    code, said, err = run(capsys, source, "--engine", checkpoint, "--backend", "torch", "-o", out)
    assert code == 0, err
    start_in, samples_in, frame_in = decode_audio(source)
    start_out, samples_out, frame_out = decode_audio(out)
    offset = start_out - start_in + lag(samples_in, samples_out) / RATE
    assert abs(offset) <= 0.001, f"{said}: the audio plays {offset * 1e3:.2f} ms late"
    end_in, end_out = start_in + len(samples_in) / RATE, start_out + len(samples_out) / RATE
    assert abs(end_out - end_in) <= max(frame_in, frame_out) / RATE, f"{said}: ends {end_out - end_in:+.4f} s off"
