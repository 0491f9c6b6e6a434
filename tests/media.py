"""Test media made on the fly: textures and small videos, so no test needs ../shared."""
from pathlib import Path

import av
import numpy as np
import torch


def make_texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """uint8 RGB (height, width, 3): blobs at several scales, trackable by optical flow."""
    rng = np.random.default_rng(seed)
    image = torch.zeros(1, 3, height, width)
    for cell in (4, 8, 16):
        coarse = torch.from_numpy(rng.random((1, 3, height // cell + 2, width // cell + 2),
                                             dtype=np.float32))
        image += torch.nn.functional.interpolate(coarse, size=(height, width), mode="bicubic",
                                                 align_corners=False)
    image = (image - image.min()) / (image.max() - image.min())
    return (image[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def write_video(path: Path, frames: list[np.ndarray], fps: int = 10, codec: str = "libx264",
                audio: str | None = None, rotation: int = 0, x264: dict[str, str] | None = None) -> Path:
    """Encode uint8 RGB (H, W, 3) frames (near-lossless for x264 unless `x264` gives other
    options), optionally with a tone encoded by the `audio` codec (aac, libopus, mp3...)
    lasting as long as the video, and a display `rotation` (degrees) in the container."""
    height, width = frames[0].shape[:2]
    even = width % 2 == 0 and height % 2 == 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if even or codec != "libx264" else "yuv444p"
        stream.options = (x264 or {"crf": "10"}) if codec == "libx264" else {}
        if rotation:
            stream.set_display_rotation(rotation)
        sound = container.add_stream(audio, rate=48000, layout="mono") if audio else None
        for index, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            picture.pts = index  # in the stream's time base, 1/fps; without it every pts is 0
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
        if sound is not None:
            add_tone(container, sound, len(frames) / fps)
    return path


def add_tone(container, sound, seconds: float) -> None:
    """Encode a 440 Hz mono tone of `seconds` into the 48 kHz audio stream `sound`."""
    samples = int(48000 * seconds)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 48000)).astype(np.float32)
    chunk = sound.frame_size or 1024
    for start in range(0, samples, chunk):
        piece = av.AudioFrame.from_ndarray(tone[None, start:start + chunk], format="fltp", layout="mono")
        piece.sample_rate, piece.pts = 48000, start
        container.mux(sound.encode(piece))
    container.mux(sound.encode())


def noise(seconds: float, channels: int, seed: int = 0, rate: int = 48000) -> np.ndarray:
    """float32 (channels, samples) white noise: unlike a tone, it lines up with a shifted copy
    of itself at one lag only, so cross-correlation finds an offset exactly."""
    rng = np.random.default_rng(seed)
    return np.repeat(0.3 * rng.standard_normal((1, int(rate * seconds))).astype(np.float32), channels, axis=0)


SUBTITLES = "1\n00:00:00,100 --> 00:00:00,400\nfirst line\n\n2\n00:00:00,500 --> 00:00:00,900\nsecond line\n"


def write_tracks(path: Path, frames: list[np.ndarray], fps: int, audio: list[str],
                 subtitles: bool = False) -> Path:
    """A video with one noise track per codec in `audio` (48 kHz; vorbis, whose FFmpeg encoder
    is experimental and stereo only, in stereo) as long as the video, each its own seed, and
    with `subtitles` an SRT stream of two lines (SUBTITLES) and a font attachment (Matroska)."""
    height, width = frames[0].shape[:2]
    seconds = len(frames) / fps
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        tracks = []
        for codec in audio:
            layout = "stereo" if codec == "vorbis" else "mono"
            track = container.add_stream(codec, rate=48000, layout=layout)
            if codec == "vorbis":
                track.codec_context.options = {"strict": "experimental"}
            tracks.append(track)
        if subtitles:
            srt = path.with_suffix(".srt")
            srt.write_text(SUBTITLES)
            source = av.open(str(srt))
            text = container.add_stream_from_template(source.streams.subtitles[0])
            container.add_attachment("font.ttf", "font/ttf", bytes(range(256)))
        for index, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            picture.pts = index
            container.mux(stream.encode(picture))
        container.mux(stream.encode())
        for seed, track in enumerate(tracks):
            samples = noise(seconds, track.codec_context.channels, seed)
            step = track.frame_size or 1024
            resampler = av.AudioResampler(track.format.name, track.layout.name, 48000)
            for start in range(0, samples.shape[1], step):
                piece = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start:start + step]),
                                                   format="fltp", layout=track.layout.name)
                piece.sample_rate, piece.pts = 48000, start
                for converted in resampler.resample(piece):
                    container.mux(track.encode(converted))
            container.mux(track.encode())
        if subtitles:
            for packet in source.demux(source.streams.subtitles[0]):
                if packet.size:
                    packet.stream = text
                    container.mux(packet)
            source.close()
    return path


def decode_audio(path: Path, index: int = 0) -> tuple[float, np.ndarray, int]:
    """(when its first sample plays, in seconds; the audio stream's samples, float32 mono,
    48 kHz; its encoder's frame size in samples) of the index-th audio stream of `path`."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[index]
        resampler = av.AudioResampler("flt", "mono", 48000)
        start, pieces = None, []
        for frame in container.decode(stream):
            if start is None:
                start = float(frame.pts * frame.time_base)
            pieces += [piece.to_ndarray()[0] for piece in resampler.resample(frame)]
        pieces += [piece.to_ndarray()[0] for piece in resampler.resample(None)]
        return start, np.concatenate(pieces), stream.codec_context.frame_size or 1024


def write_flo(path: Path, flow: np.ndarray) -> None:
    """Write (H, W, 2) flow as a Middlebury/Sintel .flo file, as vst.train.flow.read_flo reads it."""
    from vst.train.flow import FLO_MAGIC

    height, width, _ = flow.shape
    with open(path, "wb") as file:
        np.array([FLO_MAGIC], "<f4").tofile(file)
        np.array([width, height], "<i4").tofile(file)
        np.ascontiguousarray(flow, "<f4").tofile(file)
