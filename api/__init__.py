"""vst: real-time neural style transfer for video (Huang et al., CVPR 2017).

The Python API, the same code as vst-run:

    import vst
    vst.stylize("clip.mp4", style="candy")                 # -> [PosixPath('clip.candy.mp4')]
    vst.stylize("photos/", style="mosaic", output="out/", strength=0.5)
    with vst.load("candy", preserve_color=True) as candy:
        stylized = candy(frame)                            # uint8 (H, W, 3) RGB in and out

Importing vst imports nothing else: the stages load when called.
"""
from pathlib import Path


def stylize(inputs, style: str | None = None, *, engine: str | Path | None = None,
            output: str | Path | None = None, backend: str = "auto", precision: str = "auto",
            strength: float = 1.0, preserve_color: bool = False, codec: str = "auto", crf: int | None = None,
            preset: str = "auto", height: int | None = None, max_frames: int | None = None,
            start: float | str = 0.0, end: float | str | None = None, side_by_side: bool = False,
            audio: bool = True, subtitles: bool = True, progress: bool = True,
            workers: int = 1, ray_address: str | None = None, chunk_seconds: float | None = None) -> list[Path]:
    """Stylize a video, an image, a folder of them (or a list of any of these) as vst-run
    does with the same options; returns the files written. Raises vst.core.errors.InputError
    for bad input, and CommandError when an input of several fails (after the others); a
    video written in part (truncated input), or an input stream left out of its output, is a
    warning (warnings.warn)."""
    import warnings

    from vst.core.command import parse_time
    from vst.core.errors import CommandError, InputError, check_flag
    from vst.core.style_mix import StyleMix
    from vst.engine.batch import stylize_inputs
    from vst.engine.cluster import Scaling
    from vst.engine.job import VideoSettings
    from vst.engine.runner import ModelSpec

    if engine is None and style is None:
        raise InputError("give one of engine=FILE or style=NAME")
    if engine is not None and style is not None:
        raise InputError("give engine=FILE or style=NAME, not both")
    if isinstance(inputs, (str, Path)):
        sources = [str(inputs)]
    elif isinstance(inputs, (list, tuple)) and all(isinstance(source, (str, Path)) for source in inputs):
        sources = [str(source) for source in inputs]
    else:
        raise TypeError(f"inputs must be a path or a list of paths, got {inputs!r}")
    check_flag("progress", progress)
    settings = VideoSettings(codec=codec, crf=crf, preset=preset, height=height, max_frames=max_frames,
                             side_by_side=side_by_side, audio=audio, subtitles=subtitles, start=parse_time(start),
                             end=None if end is None else parse_time(end))
    model = ModelSpec(None if engine is None else Path(engine), style, backend, StyleMix(strength, preserve_color),
                      precision)
    outcomes = stylize_inputs(sources, None if output is None else Path(output), model, settings,
                              Scaling(workers, ray_address, chunk_seconds), lambda line: None,
                              lambda notice: None, progress)
    for outcome in outcomes:
        if outcome.error and outcome.line:
            warnings.warn(str(outcome.error), stacklevel=2)
        for note in outcome.notes:
            warnings.warn(note, stacklevel=2)
    failed = [str(outcome.error) for outcome in outcomes if outcome.error and not outcome.line]
    if failed:
        raise CommandError("; ".join(failed))
    return [outcome.task.out for outcome in outcomes]


def load(model: str | Path, backend: str = "auto", strength: float = 1.0, preserve_color: bool = False,
         precision: str = "auto"):
    """A shipped style's name or a model file (.pt, .onnx, .plan) as a StyleRunner: call it on
    uint8 RGB frames (H, W, 3) or (N, H, W, 3)."""
    from vst.engine.style_runner import StyleRunner

    return StyleRunner(model, backend, strength, preserve_color, precision)


__all__ = ["stylize", "load"]
