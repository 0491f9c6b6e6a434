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


def picture_stream(container, name: str):
    """The video stream vst stylizes: the first one that is not a cover picture (an MP4's
    or Matroska's attached picture, which songs and downloads carry). InputError, naming the
    file as `name`, where there is none."""
    stream = next((stream for stream in container.streams.video if not is_cover(stream)), None)
    if stream is None:
        covers = " (only a cover picture)" if container.streams.video else ""
        raise InputError(f"{name}: has no video stream{covers}")
    return stream
