"""`python -m vst.release.ship`: make a vst-train checkpoint a shipped style (maintainers).

Writes into vst/styles/ (the styles/ folder of the repository):
  NAME.pt     the checkpoint without the optimizer state, its style field set to NAME
  NAME.onnx   the FP32 ONNX (vst-export's, parity-checked against PyTorch)
  NAME.jpg    a thumbnail: the reference frame stylized, 256 x 144 (vst-app's style picker)
  NAME.json   the model card: style image source and licence, the exact training command,
              the recipe or stage it was trained with (train.recipes) and its data, iterations, size, the losses at the end (mean of the last 50
              iterations of the training log), E_temporal and distances from vst-eval JSONs
and, with --gallery, a strip (JPEG or PNG, by its suffix): the style image | an input frame |
its stylized frame.
"""
import csv
import json
from pathlib import Path

import click
import numpy as np

from vst.core.checkpoint import Checkpoint
from vst.core.command import HELP, require_writable_folder, run_command
from vst.core.errors import InputError
from vst.core.files import write_atomically
from vst.core.images import read_image, write_image
from vst.core.paths import portable, portable_words
from vst.styles import STYLES
from vst.train.config import TrainConfig
from vst.train.recipes import RECIPES, STAGES, settings_of

from .gallery import PAGE_JPEG_QUALITY, style_strip, thumbnail

FINAL_ITERATIONS = 50  # the losses at the end: their mean over this many last iterations


def train_command(config: dict) -> str:
    """The vst-train command line that gives this recorded TrainConfig: its recipe named
    (unless the default), the options that differ from the recipe's values after it."""
    recipe = config.get("recipe", "video")
    base = STAGES[recipe].recipe if recipe in STAGES else RECIPES.get(recipe, RECIPES["video"])
    defaults = TrainConfig(**settings_of(base), style=Path(), data=(), out=Path()).as_record()
    weights = config["weights"]
    parts = ["vst-train"] + (["--recipe", recipe] if recipe != "video" and base is not RECIPES["video"] else [])
    parts += ["--style", portable(config["style"])]
    parts += [item for data in config["data"] for item in ("--data", portable(data))]
    parts += ["--out", Path(config["out"]).name]
    if config.get("init"):
        parts += ["--init", Path(config["init"]).name]
    for key in ("width", "upsample", "size", "style_size", "iters", "batch_size", "lr", "long_term",
                "flow", "max_pairs_per_video", "photo_motion", "precision", "seed"):
        if config.get(key, defaults[key]) != defaults[key]:  # keys a checkpoint predates: defaults
            value = "x".join(map(str, config[key])) if key == "size" else config[key]
            if value is None:  # the CLI's way to say it: all pairs; the frame's longer side
                value = 0 if key == "max_pairs_per_video" else max(config["size"])
            parts += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    parts += [item for pattern in config.get("exclude", ()) for item in ("--exclude", f"'{pattern}'")]
    for key in ("content", "style", "tv", "grid"):
        if weights.get(key, defaults["weights"][key]) != defaults["weights"][key]:
            parts += [f"--{key}-weight", str(weights[key])]
    if weights["temporal"] == 0:
        parts.append("--no-temporal")
    elif weights["temporal"] != defaults["weights"]["temporal"]:
        parts += ["--temporal-weight", str(weights["temporal"])]
    return " ".join(parts)


def final_losses(log: Path, until: int | None = None) -> dict:
    """The losses at the end of the training log (up to iteration `until`) and what the
    training cost."""
    with open(log, newline="") as file:
        rows = [row for row in csv.DictReader(file) if until is None or int(row["iteration"]) <= until]
    if not rows:
        raise InputError(f"{log}: empty training log")
    last = rows[-FINAL_ITERATIONS:]
    losses = {key: float(np.mean([float(row[key]) for row in last]))
              for key in rows[0] if key not in ("iteration", "seconds")}
    segments = training_segments(rows)
    return {"iterations": f"{last[0]['iteration']}-{last[-1]['iteration']}", **losses,
            "training_seconds": round(sum(s["seconds"] for s in segments), 2), "segments": segments}


def training_segments(rows: list[dict]) -> list[dict]:
    """The log cut where its clock restarts: a run resumed later (often on
    another machine) logs seconds from its own start."""
    segments, first = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or float(rows[i]["seconds"]) < float(rows[i - 1]["seconds"]):
            seconds = float(rows[i - 1]["seconds"])
            segments.append({"iterations": f"{rows[first]['iteration']}-{rows[i - 1]['iteration']}",
                             "seconds": seconds, "seconds_per_iteration": round(seconds / (i - first), 3)})
            first = i
    return segments


def fine_tuned_from(init: dict) -> dict:
    """The card's record of the run a fine-tuned (--init) model started from, back to the
    first: its command, iterations and, where its log is still at the path it recorded, the
    training cost (vst-train --init copies no log)."""
    config = init["config"]
    record = {"command": train_command(config), "iterations": init["iteration"]}
    log = Path(config.get("log") or Path(config["out"]).with_suffix(".csv"))
    if log.is_file():
        cost = final_losses(log, until=init["iteration"])
        record.update(training_seconds=cost["training_seconds"], segments=cost["segments"])
    if "init" in init:
        record["init"] = fine_tuned_from(init["init"])
    return record


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
    """Ship CHECKPOINT as the style NAME: .pt, .onnx and the model card in vst/styles."""
    from vst.core.metadata import ArtifactMetadata
    from vst.core.onnx_graph import OPSET
    from vst.core.quality import REFERENCE_FRAME
    from vst.export.cli import write_onnx

    ckpt = Checkpoint.load(checkpoint)
    log = Path(ckpt.config.get("log") or checkpoint.with_suffix(".csv"))
    for path in (log, *eval_jsons, ckpt.config["style"] if gallery else None):
        if path and not Path(path).is_file():
            raise InputError(f"{path}: no such file")
    if gallery:
        require_writable_folder(gallery)
    config = dict(ckpt.config, style=portable(ckpt.config["style"]),
                  data=[portable(d) for d in ckpt.config["data"]], out=f"{name}.pt", cache_dir=None,
                  log=None, vgg=ckpt.config.get("vgg") and portable(ckpt.config["vgg"]),
                  init=ckpt.config.get("init") and Path(ckpt.config["init"]).name)
    # the gallery strip too is made before anything is written: a bad --frame fails here
    strip = gallery and style_strip(Path(ckpt.config["style"]), read_image(frame or REFERENCE_FRAME),
                                    ckpt.stylizer)
    card = {  # everything that can fail on bad input before any file is written
        "name": name,
        "style_image": {"file": Path(config["style"]).name, "source": source, "licence": licence},
        "network": {"architecture": f"353-Res{ckpt.stylizer.width}", "upsample": ckpt.stylizer.upsample,
                    "parameters": sum(p.numel() for p in ckpt.stylizer.parameters())},
        "files": {},
        "training": {"command": train_command(config), "recipe": config.get("recipe"), "data": config["data"], "held_out": list(held_out),
                     "iterations": ckpt.training["iteration"], "frame_size": config["size"],
                     "loss_weights": config["weights"], "flow": config["flow"], "vgg": portable_words(ckpt.training["vgg"]),
                     "losses_at_end": final_losses(log),
                     **({"fine_tuned_from": fine_tuned_from(ckpt.training["init"])} if "init" in ckpt.training else {})},
        "evaluation": evaluation(eval_jsons, (checkpoint.stem, name)) if eval_jsons else None,
    }
    shipped = Checkpoint(ckpt.stylizer, name, config,
                         {"iteration": ckpt.training["iteration"], "vgg": portable_words(ckpt.training["vgg"])})
    # no "init" in the shipped .pt: the origin's config holds this machine's paths; the card traces it
    pt, onnx = STYLES / f"{name}.pt", STYLES / f"{name}.onnx"
    # the .onnx first: its parity check can fail, and a style is listed by its .pt
    write_onnx(ckpt.stylizer, onnx, ArtifactMetadata(name, ckpt.stylizer.width, ckpt.stylizer.upsample,
                                                     "fp32", OPSET))
    shipped.save(pt)
    write_image(STYLES / f"{name}.jpg", thumbnail(read_image(REFERENCE_FRAME), ckpt.stylizer), PAGE_JPEG_QUALITY)
    card["files"] = {"pt_bytes": pt.stat().st_size, "onnx_bytes": onnx.stat().st_size}
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
