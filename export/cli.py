"""`vst-export`: a trained stylizer -> NAME.onnx (+ NAME.fp16.onnx) -> NAME.plan.

Exit status: 0 done, 1 a check failed (nothing written for that artifact), 2 bad input,
3 TensorRT / pycuda / GPU missing (the ONNX files are written), 130 Ctrl-C.
"""
from dataclasses import dataclass, replace
from pathlib import Path

import click

from vst.core.checkpoint import Checkpoint
from vst.core.command import HELP, FiniteRange, parse_resolution, require_writable_folder, run_command
from vst.core.errors import CommandError, InputError
from vst.core.files import write_atomically
from vst.core.gpu_stack import MissingGpuStack
from vst.core.metadata import ArtifactMetadata, ShapeProfile, plan_metadata_path, read_onnx_metadata
from vst.core.onnx_graph import OPSET
from vst.core.quality import below_bar, psnr, reference_frame
from vst.core.style_mix import StyleMix
from vst.core.stylizer import Stylizer
from vst.core.onnx_runner import OnnxRunner
from vst.styles import shipped_checkpoint

from .onnx_export import FP16_MIN_PSNR, PARITY_SIZES, PARITY_TOLERANCE, export_onnx, parity_error
from .tensorrt_plan import PlanSettings, build_plan


@dataclass(frozen=True)
class Artifacts:
    """The files of one export, named after NAME.onnx."""
    onnx: Path

    @classmethod
    def beside(cls, onnx_path: Path) -> "Artifacts":
        name = onnx_path.name.removesuffix(".onnx").removesuffix(".fp16")
        return cls(onnx_path.with_name(f"{name}.onnx"))

    @property
    def fp16_onnx(self) -> Path:
        return self.onnx.with_suffix(".fp16.onnx")

    @property
    def plan(self) -> Path:
        return self.onnx.with_suffix(".plan")


def write_onnx(stylizer: Stylizer, path: Path, metadata: ArtifactMetadata) -> None:
    model = export_onnx(stylizer, metadata)
    error = parity_error(stylizer, OnnxRunner(model), mix=metadata.mix)
    sizes = ", ".join(f"{w}x{h}" for h, w in PARITY_SIZES)
    if error > PARITY_TOLERANCE:
        raise CommandError(f"{path}: ONNX Runtime differs from PyTorch by {error}/255 "
                           f"(tolerance {PARITY_TOLERANCE}); not written")
    write_atomically(path, lambda file: file.write(model))
    click.echo(f"{path}: opset {metadata.opset}, dynamic batch/height/width, uint8 NHWC RGB; "
               f"max abs error vs PyTorch at {sizes}: {error}/255")


def write_fp16_onnx(stylizer: Stylizer, path: Path, fp32: Path, metadata: ArtifactMetadata) -> None:
    model = export_onnx(stylizer, metadata)
    frame = reference_frame()
    quality = psnr(OnnxRunner(model)(frame), OnnxRunner(fp32)(frame))
    refusal = below_bar(quality, FP16_MIN_PSNR, "FP16", "FP32")
    if refusal:
        raise CommandError(f"{path}: {refusal}; not written")
    write_atomically(path, lambda file: file.write(model))
    click.echo(f"{path}: FP16, instance norm in FP32; PSNR vs FP32 on a real "
               f"{frame.shape[2]}x{frame.shape[1]} frame (ONNX Runtime CPU): {quality:.1f} dB")


def write_plan(artifacts: Artifacts, settings: PlanSettings) -> None:
    """Build the plan from the FP16 ONNX (or, on TensorRT 10, an FP32 one), then run it
    on the GPU against the FP32 ONNX; a plan that fails the check is removed."""
    from vst.core.tensorrt_runner import TrtRunner

    source = artifacts.fp16_onnx if artifacts.fp16_onnx.is_file() else artifacts.onnx
    try:
        record = build_plan(source, artifacts.plan, read_onnx_metadata(source), settings)
    except MissingGpuStack as exc:
        raise MissingGpuStack(f"no TensorRT plan built: {exc}; to build it on a GPU machine "
                              f"with TensorRT: vst-export --from {artifacts.onnx} --fp16") from None
    frame = reference_frame(size=settings.profile.opt[::-1])
    runner = TrtRunner(artifacts.plan)
    try:
        got = runner(frame)
    finally:
        runner.close()
    reference = artifacts.onnx if artifacts.onnx.is_file() else source
    quality = psnr(got, OnnxRunner(reference)(frame))
    refusal = below_bar(quality, FP16_MIN_PSNR, "TensorRT", reference.name)
    if refusal:
        artifacts.plan.unlink()
        plan_metadata_path(artifacts.plan).unlink()
        raise CommandError(f"{artifacts.plan}: {refusal}; plan removed")
    click.echo(f"{artifacts.plan}: TensorRT {record.tensorrt_version} on {record.gpu_name} "
               f"({record.compute_capability}), profile {settings.profile.describe()}; "
               f"PSNR vs {reference.name} at {frame.shape[2]}x{frame.shape[1]}: {quality:.1f} dB")


@click.command("vst-export", context_settings=HELP)
@click.argument("checkpoint", required=False, type=click.Path(path_type=Path))
@click.option("--style", help="A shipped style instead of a checkpoint.")
@click.option("--from", "from_onnx", type=click.Path(path_type=Path),
              help="Build the plan from NAME.onnx written earlier (no PyTorch export).")
@click.option("-o", "--out", type=click.Path(path_type=Path),
              help="ONNX file to write [default: NAME.onnx here]; NAME.fp16.onnx, NAME.plan beside it.")
@click.option("--fp16", is_flag=True, help="Also NAME.fp16.onnx and the FP16 TensorRT plan.")
@click.option("--onnx-only", is_flag=True, help="Stop after the ONNX files.")
@click.option("--strength", type=FiniteRange(0, 1), default=1.0, show_default=True,
              help="Build the style mix into the graph (as vst-run --strength): a plan cannot take one later.")
@click.option("--preserve-color", is_flag=True, help="Build luminance-only transfer into the graph (as vst-run).")
@click.option("--opset", type=click.IntRange(17, 23), default=OPSET, show_default=True)
@click.option("--min-res", default="256x256", show_default=True, callback=parse_resolution)
@click.option("--opt-res", default="1024x436", show_default=True, callback=parse_resolution)
@click.option("--max-res", default="1920x1088", show_default=True, callback=parse_resolution)
@click.option("--workspace", type=FiniteRange(0.125), default=4.0, show_default=True,
              help="TensorRT builder workspace, GiB.")
@click.option("--opt-level", type=click.IntRange(0, 5), default=3, show_default=True,
              help="TensorRT builder optimization level.")
@click.option("--timing-cache", type=click.Path(path_type=Path),
              help="TensorRT timing cache, reused across builds [default: one per GPU in $XDG_CACHE_HOME/vst/tensorrt/, ~/.cache/vst/tensorrt/ when unset].")
def command(checkpoint, style, from_onnx, out, fp16, onnx_only, strength, preserve_color, opset, min_res,
            opt_res, max_res, workspace, opt_level, timing_cache):
    """Export a stylizer to ONNX; with --fp16, also FP16 ONNX and a TensorRT plan (on a GPU)."""
    if sum(x is not None for x in (checkpoint, style, from_onnx)) != 1:
        raise InputError("give exactly one of CHECKPOINT, --style NAME or --from NAME.onnx")
    settings = PlanSettings(ShapeProfile(min_res, opt_res, max_res), int(workspace * (1 << 30)),
                            opt_level, timing_cache)
    if out is not None:
        if from_onnx is not None:
            raise InputError("--from writes NAME.plan beside NAME.onnx; -o names a checkpoint's export")
        require_writable_folder(out)
        if out.suffix != ".onnx":
            raise InputError(f"-o {out}: the ONNX file's name ends in .onnx (NAME.fp16.onnx and NAME.plan go beside it)")
    if from_onnx is not None:
        if not from_onnx.is_file():
            raise InputError(f"{from_onnx}: no such file")
        if not fp16 or onnx_only:
            raise InputError("--from builds a TensorRT plan: add --fp16 (and drop --onnx-only)")
        if strength != 1.0 or preserve_color:
            raise InputError("--from takes the style mix the ONNX was exported with; give "
                             "--strength / --preserve-color when exporting the checkpoint")
        read_onnx_metadata(from_onnx)  # refuse foreign files before TensorRT is touched
        artifacts = Artifacts.beside(from_onnx)
    else:
        path = shipped_checkpoint(style) if style else checkpoint
        ckpt = Checkpoint.load(path)
        artifacts = Artifacts.beside(out or Path(f"{path.stem}.onnx"))
        require_writable_folder(artifacts.onnx)
        metadata = ArtifactMetadata(ckpt.style, ckpt.stylizer.width, ckpt.stylizer.upsample, "fp32", opset,
                                    mix=StyleMix(strength, preserve_color))
        write_onnx(ckpt.stylizer, artifacts.onnx, metadata)
        if fp16:
            write_fp16_onnx(ckpt.stylizer, artifacts.fp16_onnx, artifacts.onnx,
                            replace(metadata, precision="fp16"))
    if fp16 and not onnx_only:
        require_writable_folder(artifacts.plan)
        write_plan(artifacts, settings)


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)
