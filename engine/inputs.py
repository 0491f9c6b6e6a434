"""What `vst-run INPUT... [-o OUT]` writes where: each input (a video, a still image, a
folder of them, a stream URL or a camera) becomes one or more `Task`s.

  one file or stream, no -o     STEM.STYLE.mp4 (videos; .mkv for an .mkv) or STEM.STYLE.EXT
                                (images) beside it
  one file or stream, -o FILE   FILE
  a folder                      its videos and images, found recursively, into -o FOLDER
                                (default: FOLDER.STYLE beside it), under their own relative
                                names (videos as .mp4, an .mkv as .mkv)
  several inputs                each as above, or all into -o FOLDER
"""
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from vst.core.errors import InputError
from vst.core.media import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS


@dataclass(frozen=True)
class Task:
    source: str        # a file, a stream URL or a camera (/dev/video0)
    out: Path
    kind: str          # "video" or "image"
    batch: bool = False  # one of a folder's or several inputs': its output folder is made as needed
    # why it is not run: missing, an empty folder, its output would overwrite an input or another's
    refused: str | None = None

    @property
    def is_image(self) -> bool:
        return self.kind == "image"


def kind_of(source: str) -> str:
    return "image" if Path(source).suffix.lower() in IMAGE_EXTENSIONS else "video"


def output_suffix(source: Path) -> str:
    """An image keeps its suffix. A video is written as .mp4, which every player reads, but
    an .mkv stays .mkv: its fonts, which MP4 cannot hold, and its SRT subtitles and audio
    MP4 would convert (Vorbis) are then kept as they are."""
    suffix = source.suffix.lower()
    return source.suffix if suffix in IMAGE_EXTENSIONS else ".mkv" if suffix == ".mkv" else ".mp4"


def default_output(source: str, style: str) -> Path:
    """STEM.STYLE.SUFFIX (output_suffix) beside a file; a stream's output lands in the working
    folder, named as the file its URL ends in (STEM.STYLE.SUFFIX), else stream.STYLE.mp4,
    and a camera's as camera.STYLE.mp4."""
    path = Path(source)
    if path.is_file():
        return path.with_name(f"{path.stem}.{style}{output_suffix(path)}")
    served = Path(urlsplit(source).path).name if "://" in source else ""
    if Path(served).suffix.lower() in VIDEO_EXTENSIONS:
        return Path(f"{Path(served).stem}.{style}{output_suffix(Path(served))}")
    return Path(f"{'camera' if source.startswith('/dev/') else 'stream'}.{style}.mp4")


def folder_media(folder: Path) -> list[Path]:
    """The videos and images under `folder`, sorted; hidden files (vst's own temporaries) left out."""
    media = VIDEO_EXTENSIONS | IMAGE_EXTENSIONS
    return sorted(path for path in folder.rglob("*") if path.is_file() and path.suffix.lower() in media
                  and not any(part.startswith(".") for part in path.relative_to(folder).parts))


def check_inputs(inputs: list[str]) -> None:
    """Refuse no input, or a lone missing one, before a model is loaded for it (a missing
    input of several is refused alone: plan_tasks)."""
    if not inputs:
        raise InputError("give an INPUT: a video, an image, a folder of them, a stream URL or a camera")
    if len(inputs) == 1 and is_missing(inputs[0]):
        raise InputError(f"{inputs[0]}: no such file")


def is_missing(source: str) -> bool:
    return "://" not in source and not Path(source).exists()


def plan_tasks(inputs: list[str], out: Path | None, style: str) -> list[Task]:
    """Every (source, output) pair. Those whose input is missing (or a folder without media),
    or whose output would overwrite an input or be written by two inputs, are marked
    refused, so that a batch runs the others; a lone input is refused at once."""
    check_inputs(inputs)
    batch = len(inputs) > 1 or Path(inputs[0]).is_dir()
    if batch and out is not None and out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file; with several inputs or a folder, -o names a folder")
    if batch and out is not None and not out.exists() and out.suffix.lower() in VIDEO_EXTENSIONS | IMAGE_EXTENSIONS:
        raise InputError(f"{out}: with several inputs or a folder, -o names a folder, not a {out.suffix} file")
    tasks = []
    for source in inputs:
        path = Path(source)
        found = folder_media(path) if path.is_dir() else None
        if is_missing(source):
            tasks.append(Task(source, default_output(source, style), kind_of(source), batch, f"{source}: no such file"))
        elif found == []:
            tasks.append(Task(source, path, "video", batch, f"{path}: no videos or images in this folder"))
        elif found:
            whole = path.resolve()  # "." and ".." have no name of their own
            target = out or whole.with_name(f"{whole.name}.{style}")
            tasks += [Task(str(file), _in_folder(target, file.relative_to(path)), kind_of(str(file)), True)
                      for file in found]
        elif batch and out is not None:
            name = Path(path.name) if path.is_file() else Path(default_output(source, style).name)
            tasks.append(Task(source, _in_folder(out, name), kind_of(source), True))
        else:
            tasks.append(Task(source, out or default_output(source, style), kind_of(source)))
    tasks = _refuse_clashes(tasks)
    if len(tasks) == 1 and tasks[0].refused:
        raise InputError(tasks[0].refused)
    return tasks


def _in_folder(folder: Path, relative: Path) -> Path:
    return folder / relative.with_suffix(output_suffix(relative))


def _refuse_clashes(tasks: list[Task]) -> list[Task]:
    planned = [task for task in tasks if not task.refused]
    source = {task: Path(task.source).resolve() for task in planned}  # each path resolved once
    target = {task: task.out.resolve() for task in planned}
    writers: dict[Path, list[Task]] = {}
    for task in planned:
        writers.setdefault(target[task], []).append(task)
    checked = []
    for task in tasks:
        if task.refused:
            checked.append(task)
            continue
        others = [other for other in writers[target[task]] if other is not task]
        names = " and ".join(other.source for other in others)
        why = (f"{task.out}: would overwrite the input" if target[task] in source.values() else
               f"{task.source}: given twice" if any(source[other] == source[task] for other in others) else
               f"{task.source}: {names} would be written to {task.out} too; rename one" if others else
               None)
        checked.append(replace(task, refused=why) if why else task)
    return checked
