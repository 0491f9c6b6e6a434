"""`python -m vst.release.ship`: make a vst-train checkpoint a shipped style (maintainers).

Writes into vst/styles/ (the styles/ folder of the repository):
  NAME.pt     the checkpoint without the optimizer state, its style field set to NAME
  NAME.onnx   the FP32 ONNX (vst-export's, parity-checked against PyTorch)
  NAME.int8.xml, .bin   its INT8 form (engine.int8), OpenVINO IR
  NAME.thumb.jpg  a thumbnail: the reference frame stylized, 256 x 144 (vst-app's style picker)
  NAME.json   the model card: style image source and licence, the exact training command,
              the recipe or stage it was trained with (train.recipes) and its data, iterations, size, the losses at the end (mean of the last 50
              iterations of the training log), E_temporal and distances from vst-eval JSONs
and, with --gallery, a strip (JPEG or PNG, by its suffix): the style image | an input frame |
its stylized frame.
"""
import json
from dataclasses import replace
from pathlib import Path

import click

from vst.core.checkpoint import Checkpoint
from vst.core.command import HELP, require_writable_folder, run_command
from vst.core.errors import InputError
from vst.core.files import write_atomically
from vst.core.images import read_image, write_image
from vst.core.paths import portable, portable_words
from vst.styles import STYLES, THUMBNAIL_SUFFIX
from vst.train.card import network_record, training_record
from vst.train.config import TrainConfig

from .gallery import PAGE_JPEG_QUALITY, style_strip, thumbnail

def evaluation(paths: tuple[Path, ...], labels: tuple[str, ...]) -> dict:
    """The rows of vst-eval JSONs for the model labelled with one of `labels` (vst-eval labels
    an --engine by its file stem, a --style by its name): every run's command, and per clip
    its scores, its size and the flow it was scored with (ground truth or estimated)."""
    commands, clips = [], {}
    for path in paths:
        record = json.loads(path.read_text())
        found = False
        for clip in record["clips"]:
            row = next((r for r in clip["results"] if r["model"] in labels), None)
            if row:
                found = True
                clips[clip["clip"]] = {key: row[key] for key in
                                       ("e_temporal", "warping_error", "style_distance", "content_distance")}
                # vst-eval records from before these scores lack them
                clips[clip["clip"]].update({key: row[key] for key in ("stable_floor", "grid_amplitude") if key in row})
                clips[clip["clip"]].update(size=clip["size"], flow=clip["flow"])
        if not found:
            raise InputError(f"{path}: no results for a model named {' or '.join(map(repr, labels))}")
        commands.append(portable_words(" ".join(record["command"])))
    return {"commands": commands, "clips": clips}


@click.command("vst-ship", context_settings=HELP)
@click.argument("checkpoint", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="The style's name: --style NAME.")
@click.option("--source", required=True, help="Where the style image comes from (repository, path).")
@click.option("--licence", required=True, help="The style image's licence as its source states it.")
@click.option("--eval", "eval_jsons", multiple=True, type=click.Path(path_type=Path),
              help="vst-eval --json output with rows for CHECKPOINT's file stem or NAME (repeatable: "
                   "Sintel, held-out clips).")
@click.option("--held-out", multiple=True, help="Clips kept out of the training data (repeatable).")
@click.option("--gallery", type=click.Path(path_type=Path), help="Write the gallery strip PNG here.")
@click.option("--frame", type=click.Path(path_type=Path), help="The gallery's input frame [default: vst.core's reference frame].")
def command(checkpoint, name, source, licence, eval_jsons, held_out, gallery, frame):
    """Ship CHECKPOINT as the style NAME: .pt, .onnx, its INT8 IR and the model card in vst/styles."""
    from vst.core.metadata import ArtifactMetadata
    from vst.core.onnx_graph import OPSET
    from vst.core.quality import REFERENCE_FRAME
    from vst.engine.int8 import nncf_missing, write_beside
    from vst.export.cli import write_onnx

    if nncf_missing():  # before anything is written: a style ships with its INT8 form
        raise InputError(nncf_missing())
    ckpt = Checkpoint.load(checkpoint)
    trained = TrainConfig.from_record(ckpt.config)
    log = trained.log or checkpoint.with_suffix(".csv")
    for path in (log, *eval_jsons, trained.style if gallery else None):
        if path and not Path(path).is_file():
            raise InputError(f"{path}: no such file")
    if gallery:
        require_writable_folder(gallery)
    # what the shipped checkpoint and card record: no path of this machine
    config = replace(trained, style=Path(portable(trained.style)), data=tuple(Path(portable(d)) for d in trained.data),
                     out=Path(f"{name}.pt"), log=None, vgg=trained.vgg and Path(portable(trained.vgg)),
                     init=trained.init and Path(trained.init.name))
    # the gallery strip too is made before anything is written: a bad --frame fails here
    strip = gallery and style_strip(trained.style, read_image(frame or REFERENCE_FRAME), ckpt.stylizer)
    card = {  # everything that can fail on bad input before any file is written
        "name": name,
        "style_image": {"file": config.style.name, "source": source, "licence": licence},
        "network": network_record(ckpt),
        "files": {},
        "training": {**training_record(ckpt, config, log, portable_words(ckpt.training["vgg"])),
                     "held_out": list(held_out)},
        "evaluation": evaluation(eval_jsons, (checkpoint.stem, name)) if eval_jsons else None,
    }
    # no "init" in the shipped .pt: the origin's config holds this machine's paths. Its card's
    # training record instead, for the card of a model fine-tuned from it (train.card.fine_tuned_from)
    shipped = Checkpoint(ckpt.stylizer, name, {**config.as_record(), "cache_dir": None},
                         {"iteration": ckpt.training["iteration"], "vgg": portable_words(ckpt.training["vgg"]),
                          "card": card["training"]})
    pt, onnx = STYLES / f"{name}.pt", STYLES / f"{name}.onnx"
    # the .onnx first: its parity check can fail, and a style is listed by its .pt
    write_onnx(ckpt.stylizer, onnx, ArtifactMetadata(name, ckpt.stylizer.width, ckpt.stylizer.upsample,
                                                     "fp32", OPSET))
    int8 = write_beside(onnx)  # vst-run's INT8 path, without NNCF on the user's machine
    shipped.save(pt)
    write_image(STYLES / f"{name}{THUMBNAIL_SUFFIX}", thumbnail(read_image(REFERENCE_FRAME), ckpt.stylizer),
                PAGE_JPEG_QUALITY)
    card["files"] = {"pt_bytes": pt.stat().st_size, "onnx_bytes": onnx.stat().st_size,
                     "int8_bytes": int8.stat().st_size + int8.with_suffix(".bin").stat().st_size}
    card_path = STYLES / f"{name}.json"
    text = json.dumps(card, indent=2, allow_nan=False) + "\n"
    write_atomically(card_path, lambda file: file.write(text.encode()))
    if gallery:
        write_image(gallery, strip, PAGE_JPEG_QUALITY)
    click.echo(f"shipped {name}: {pt}, {onnx}, {card_path}" + (f"; gallery {gallery}" if gallery else ""))


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)


if __name__ == "__main__":
    main()
