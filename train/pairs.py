"""Training pairs of consecutive video frames with their backward optical flow.

Every item is a `FramePair`. Flows are computed once, up front, and cached on disk:

    cache_dir/<video stem>-<hash of resolved path, size, mtime, frame size>/
        frames.npy                    uint8 (T, H, W, 3) RGB, the decoded, resized video
        <flow method>/t000012-g1.npz  backward: float16 (H, W, 2) flow t -> t-gap,
                                      confidence: uint8 (H, W) in {0, 1}

Files are written under a temporary name and renamed, so an interrupted run leaves no
half file and the next run resumes where it stopped.
"""
import hashlib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Iterator

import av
import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset
from tqdm import tqdm

from vst.core.colour import Colour
from vst.core.convention import frames_to_tensor
from vst.core.errors import InputError
from vst.core.files import write_atomically
from vst.core.media import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, open_container, picture_stream

from .flow import check_flow_method, compute_flow, confidence_mask
from .frame_pair import FramePair
from .synthetic import Motion, PhotoPairs

CACHE_VERSION = 2  # bump when decoding or flow storage changes, so old caches are not reused


@dataclass(frozen=True)
class _CachedPair:
    frames: Path  # the video's frames.npy
    flow: Path    # .npz holding the backward flow and the confidence
    target: int   # index of frame t
    gap: int      # 1, or 2 for long-term pairs


class FramePairs(Dataset):
    """Pairs (t-1, t), and (t-2, t) with long_term, from videos resized (cover, centre crop)
    to size = (W, H). max_pairs_per_video keeps that many pairs evenly spaced per video."""

    def __init__(self, videos: list[Path], size: tuple[int, int], *, cache_dir: Path,
                 flow: str = "dis", long_term: bool = False,
                 max_pairs_per_video: int | None = None):
        check_flow_method(flow)
        if max_pairs_per_video is not None and max_pairs_per_video < 1:
            raise InputError(f"max_pairs_per_video must be at least 1, got {max_pairs_per_video}")
        self.method = flow
        self.pairs: list[_CachedPair] = []
        for video in videos:
            video_dir = Path(cache_dir) / _video_key(Path(video), size)
            frames = video_dir / "frames.npy"
            if not frames.exists():
                video_dir.mkdir(parents=True, exist_ok=True)
                write_atomically(frames, lambda file: _write_frames(file, Path(video), size))
            count = len(np.load(frames, mmap_mode="r"))
            self.pairs += [_CachedPair(frames, video_dir / flow / f"t{t:06d}-g{gap}.npz", t, gap)
                           for t, gap in _select_pairs(count, long_term, max_pairs_per_video)]
        missing = [pair for pair in self.pairs if not pair.flow.exists()]
        for pair in tqdm(missing, desc=f"flow {flow}", unit="pair", disable=not missing):
            self._compute(pair)

    def _compute(self, pair: _CachedPair) -> None:
        frames = np.load(pair.frames, mmap_mode="r")
        prev, cur = frames[pair.target - pair.gap], frames[pair.target]
        backward = compute_flow(cur, prev, self.method)
        forward = compute_flow(prev, cur, self.method)
        confidence = confidence_mask(backward, forward)
        pair.flow.parent.mkdir(exist_ok=True)
        write_atomically(pair.flow, lambda file: np.savez(
            file, backward=backward.astype(np.float16), confidence=confidence.astype(np.uint8)))

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> FramePair:
        pair = self.pairs[index]
        # opened per item: a memmap held on self would be copied into every DataLoader worker
        frames = np.load(pair.frames, mmap_mode="r")
        prev, cur = frames_to_tensor(frames[[pair.target - pair.gap, pair.target]])
        with np.load(pair.flow) as stored:
            flow = torch.from_numpy(stored["backward"].astype(np.float32)).permute(2, 0, 1)
            confidence = torch.from_numpy(stored["confidence"].astype(np.float32))[None]
        return FramePair(prev, cur, flow, confidence)


def training_pairs(data_dirs: list[Path], size: tuple[int, int], flow: str, long_term: bool,
                   cache_dir: Path, max_pairs_per_video: int | None = None, seed: int = 0,
                   exclude: tuple[str, ...] = (), photo_motion: float = 1.0) -> Dataset:
    """FramePairs over the videos and PhotoPairs over the photos found under data_dirs, less
    the files whose path matches a glob pattern of `exclude` (fnmatch, e.g. '*/bikes.mp4')."""
    check_flow_method(flow)
    videos, photos = [], []
    for data_dir in map(Path, data_dirs):
        if not data_dir.is_dir():
            what = "not a folder (--data takes folders of videos and photos)" if data_dir.exists() else "no such folder"
            raise InputError(f"{data_dir}: {what}")
        files = sorted(path for path in data_dir.rglob("*") if path.is_file()
                       and not any(fnmatch(str(path), pattern) for pattern in exclude))
        found_videos = [path for path in files if path.suffix.lower() in VIDEO_EXTENSIONS]
        found_photos = [path for path in files if path.suffix.lower() in IMAGE_EXTENSIONS]
        if not found_videos and not found_photos:
            extensions = " ".join(sorted(VIDEO_EXTENSIONS | IMAGE_EXTENSIONS))
            left_out = " outside --exclude" if exclude else ""
            raise InputError(f"{data_dir}: no videos or photos found{left_out} (extensions: {extensions})")
        videos += found_videos
        photos += found_photos
    datasets = []
    if videos:
        datasets.append(FramePairs(videos, size, cache_dir=cache_dir, flow=flow,
                                   long_term=long_term, max_pairs_per_video=max_pairs_per_video))
    if photos:
        datasets.append(PhotoPairs(photos, size, seed=seed, motion=Motion().scaled(photo_motion)))
    return datasets[0] if len(datasets) == 1 else ConcatDataset(datasets)


def _video_key(video: Path, size: tuple[int, int]) -> str:
    if not video.is_file():
        raise InputError(f"{video}: no such file")
    stat = video.stat()
    identity = f"{CACHE_VERSION}|{video.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{size}"
    return f"{video.stem}-{hashlib.sha1(identity.encode()).hexdigest()[:16]}"


def _select_pairs(count: int, long_term: bool, limit: int | None) -> list[tuple[int, int]]:
    """(t, gap) of the pairs to use from a video of `count` frames."""
    gaps = (1, 2) if long_term else (1,)
    pairs = [(t, gap) for t in range(1, count) for gap in gaps if t >= gap]
    if limit is not None and limit < len(pairs):
        # floor of a spacing >= 1 never picks the same pair twice
        pairs = [pairs[i] for i in np.linspace(0, len(pairs), limit, endpoint=False).astype(int)]
    return pairs


def _write_frames(file, video: Path, size: tuple[int, int]) -> None:
    """Stream the decoded frames into an .npy file without holding the video in memory."""
    # the header needs the frame count, hence a first decoding pass that only counts
    count = sum(1 for _ in _decode(video))
    if count < 2:
        raise InputError(f"{video}: has {count} frame(s); need at least 2")
    width, height = size
    np.lib.format.write_array_header_1_0(
        file, {"descr": "|u1", "fortran_order": False, "shape": (count, height, width, 3)})
    written = 0
    for frame, matrix in _decode(video):
        if written < count:
            file.write(np.ascontiguousarray(_cover_crop(frame, matrix, width, height)).tobytes())
        written += 1
    if written != count:
        raise InputError(f"{video}: decoded {written} frames after counting {count}")


def _decode(video: Path) -> Iterator[tuple[av.VideoFrame, int]]:
    """The video's frames, each with the swscale matrix that turns it into RGB (core.colour:
    as vst-run decodes it, so that a model trains on the colours it will stylize)."""
    try:
        with open_container(str(video)) as container:
            stream = picture_stream(container, str(video))
            stream.thread_type = "AUTO"
            matrix = Colour.of(stream).swscale_matrix
            for frame in container.decode(stream):
                yield frame, matrix
    except av.FFmpegError as error:
        raise InputError(f"{video}: cannot decode as a video ({error})") from None


def _cover_crop(frame: av.VideoFrame, matrix: int, width: int, height: int) -> np.ndarray:
    """uint8 (height, width, 3) RGB: the frame, turned into RGB with the swscale `matrix`,
    scaled to cover that size, centre cropped."""
    scale = max(width / frame.width, height / frame.height)
    scaled_w = max(width, round(frame.width * scale))
    scaled_h = max(height, round(frame.height * scale))
    rgb = frame.to_ndarray(width=scaled_w, height=scaled_h, format="rgb24", interpolation="AREA",
                           src_colorspace=matrix)
    top, left = (scaled_h - height) // 2, (scaled_w - width) // 2
    return rgb[top:top + height, left:left + width]
