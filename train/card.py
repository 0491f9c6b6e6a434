"""The model card's record of a training run: the vst-train command that reproduces it, the
losses at its end and what it cost, the runs it was fine-tuned from; and the card vst-train
writes beside every checkpoint it finishes (OUT.json), which `vst.release.ship` extends for
a shipped style."""
import csv
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from vst.core.checkpoint import Checkpoint
from vst.core.errors import InputError
from vst.core.files import write_atomically
from vst.core.paths import portable

from .config import TrainConfig, init_upsample
from .recipes import RECIPES, recipe_named, settings_of

FINAL_ITERATIONS = 50  # the losses at the end: their mean over this many last iterations


def train_command(config: TrainConfig) -> str:
    """The vst-train command line that gives this config: its recipe named (unless the
    default), the options that differ from the recipe's values after it."""
    base = recipe_named(config.recipe)
    # a recipe that keeps its init's network (upsample None) says so without --upsample
    network = base.upsample or init_upsample(config.init) or config.upsample
    defaults = TrainConfig(**{**settings_of(base), "upsample": network}, style=Path(), data=(), out=Path())
    parts = ["vst-train"] + (["--recipe", config.recipe] if base is not RECIPES["video"] else [])
    parts += ["--style-image", portable(config.style)]
    parts += [item for data in config.data for item in ("--data", portable(data))]
    parts += ["--out", config.out.name]
    own_start = base.start_from and config.init and config.init.name == f"{base.start_from}.pt"
    if config.init and not own_start:  # a recipe's start_from goes without saying
        parts += ["--init", config.init.name]
    for key in ("width", "upsample", "size", "style_size", "iters", "batch_size", "lr", "long_term",
                "flow", "max_pairs_per_video", "photo_motion", "precision", "seed"):
        value = getattr(config, key)
        if value != getattr(defaults, key):
            if value is None:  # the CLI's way to say it: all pairs; the frame's longer side
                value = 0 if key == "max_pairs_per_video" else max(config.size)
            value = "x".join(map(str, value)) if key == "size" else value
            parts += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    parts += [item for pattern in config.exclude for item in ("--exclude", f"'{pattern}'")]
    weights, default_weights = config.weights, defaults.weights
    for key in ("content", "style", "tv", "grid"):
        if getattr(weights, key) != getattr(default_weights, key):
            parts += [f"--{key}-weight", str(getattr(weights, key))]
    if weights.temporal == 0:
        parts.append("--no-temporal")
    elif weights.temporal != default_weights.temporal:
        parts += ["--temporal-weight", str(weights.temporal)]
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
    first: its command, iterations, the fit of a new tail to it (train.tail_fit) and the
    training cost. A shipped style carries its card's training record ("card"), which says
    all of it; for another run the cost comes from its log where that is still at the path it
    recorded (vst-train --init copies no log)."""
    if "card" in init:
        card = init["card"]
        record = {"command": card["command"], "iterations": card["iterations"],
                  **{key: card["losses_at_end"][key] for key in ("training_seconds", "segments")}}
        chain = card.get("fine_tuned_from")
    else:
        config = TrainConfig.from_record(init["config"])
        record = {"command": train_command(config), "iterations": init["iteration"]}
        log = config.log_path
        if log.is_file():
            cost = final_losses(log, until=init["iteration"])
            record.update(training_seconds=cost["training_seconds"], segments=cost["segments"])
        chain = "init" in init and fine_tuned_from(init["init"])
    if "tail_fit" in init:  # a fine-tune into "subpixel" fitted its new tail to that run's output first
        record["tail_fit"] = init["tail_fit"]
    if chain:
        record["init"] = chain
    return record


def network_record(ckpt: Checkpoint) -> dict:
    return {"architecture": f"353-Res{ckpt.stylizer.width}", "upsample": ckpt.stylizer.upsample,
            "parameters": sum(p.numel() for p in ckpt.stylizer.parameters())}


def training_record(ckpt: Checkpoint, config: TrainConfig, log: Path, vgg: str) -> dict:
    """The card's "training": how to train it again (command, recipe, data, weights) and the
    losses and time at its end, back to the first run it was fine-tuned from."""
    return {"command": train_command(config), "recipe": config.recipe, "data": [str(d) for d in config.data],
            "iterations": ckpt.training["iteration"], "frame_size": list(config.size),
            "loss_weights": asdict(config.weights), "flow": config.flow, "vgg": vgg,
            "losses_at_end": final_losses(log),
            **({"fine_tuned_from": fine_tuned_from(ckpt.training["init"])} if "init" in ckpt.training else {})}


def write_card(ckpt: Checkpoint, cfg: TrainConfig) -> Path | None:
    """OUT.json beside the checkpoint vst-train wrote: the model card, with the commands
    that use the model; None (no card) for a run stopped before its first logged iteration."""
    if not cfg.log_path.is_file():
        return None
    try:
        training = training_record(ckpt, cfg, cfg.log_path, ckpt.training["vgg"])
    except InputError:  # an empty log: stopped before its first iteration
        return None
    card = {
        "name": ckpt.style,
        "style_image": {"file": str(cfg.style)},
        "network": network_record(ckpt),
        "training": training,
        "use": {"run": f"vst-run VIDEO --engine {cfg.out}", "export": f"vst-export {cfg.out}"},
    }
    path = cfg.out.with_suffix(".json")
    text = json.dumps(card, indent=2, allow_nan=False) + "\n"
    write_atomically(path, lambda file: file.write(text.encode()))
    return path
