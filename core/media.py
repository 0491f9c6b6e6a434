"""Which files are videos and which are still images, by suffix (lower case), and how a
video file is opened and which of its streams is the picture."""
from .errors import InputError

VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg",
                              ".wmv", ".flv", ".ts", ".m2ts", ".mts", ".3gp", ".ogv", ".mxf",
                              ".nut", ".y4m"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".tif", ".tiff", ".webp"})


def open_container(source: str, **options):
    """A PyAV input container. Tags that are not UTF-8 (Latin-1 in older AVIs and camera
    files) are read with replacement characters, where PyAV would refuse the whole file."""
    import av

    return av.open(source, metadata_errors="replace", **options)


def is_cover(stream) -> bool:
    import av

    return stream.type == "video" and bool(stream.disposition & av.stream.Disposition.attached_pic)


def announced_empty(stream) -> bool:
    """A Matroska track whose tags say it holds no frame (a DURATION of 0, as FFmpeg writes
    for a track that got none; NUMBER_OF_FRAMES 0, as mkvmerge writes)."""
    duration = stream.metadata.get("DURATION")
    return stream.metadata.get("NUMBER_OF_FRAMES") == "0" or (duration is not None and not duration.strip("0:."))


def picture_stream(container, name: str):
    """The video stream vst stylizes: the first one that is not a cover picture (an MP4's
    or Matroska's attached picture, which songs and downloads carry) nor announced empty
    (else the first of those). InputError, naming the file as `name`, where there is none."""
    pictures = [stream for stream in container.streams.video if not is_cover(stream)]
    stream = next((stream for stream in pictures if not announced_empty(stream)), next(iter(pictures), None))
    if stream is None:
        covers = " (only a cover picture)" if container.streams.video else ""
        raise InputError(f"{name}: has no video stream{covers}")
    return stream
