"""vst.styles: the trained stylizers that ship inside the package, so that `--style NAME`
works on a fresh install. Beside this file: NAME.pt (a vst.core.checkpoint file without the
optimizer state, for PyTorch and training), NAME.onnx (what OpenVINO and ONNX Runtime run),
NAME.json, the model card, and NAME.thumb.jpg, a thumbnail (all written by vst.release.ship)."""
import json
from pathlib import Path

from vst.core.errors import InputError

STYLES = Path(__file__).parent
THUMBNAIL_SUFFIX = ".thumb.jpg"  # NAME.thumb.jpg: the reference frame stylized, vst-app's style picker


def shipped_styles() -> list[str]:
    return sorted(path.stem for path in STYLES.glob("*.pt"))


def shipped_checkpoint(name: str) -> Path:
    return shipped_model(name, ".pt")


def shipped_model(name: str, suffix: str) -> Path:
    """NAME's checkpoint (".pt", for PyTorch and training) or its FP32 ONNX (".onnx", what
    OpenVINO and ONNX Runtime run: no torch needed)."""
    path = STYLES / f"{name}{suffix}"
    if not path.is_file():
        raise InputError(f"no shipped style {name!r}; shipped: {', '.join(shipped_styles()) or 'none'}")
    return path


def style_card(name: str) -> dict:
    """NAME's model card; {} for a style shipped without one."""
    card = STYLES / f"{name}.json"
    return json.loads(card.read_text()) if card.is_file() else {}


def training_stages(training: dict) -> str:
    """The iterations of each stage, first to last ("10000+3000" for a model fine-tuned from
    another run's 10,000 iterations): the card's run, what it was fine-tuned from, and that
    one's own `init`s in turn."""
    stages = []
    while training:
        stages.insert(0, str(training["iterations"]))
        training = training.get("fine_tuned_from") or training.get("init")
    return "+".join(stages)


def describe_style(name: str) -> str:
    """One line for --list-styles: the name, its style image and where that comes from, and
    the flicker measured on the card's reference clips."""
    card = style_card(name)
    if not card:
        return name
    image, training = card["style_image"], card["training"]
    line = (f"{name:<18} {image['file']} ({image['licence']}); {card['network']['architecture']}, "
            f"{training_stages(training)} iterations at {'x'.join(map(str, training['frame_size']))}, "
            f"lambda {training['loss_weights']['temporal']:g}")
    clips = (card.get("evaluation") or {}).get("clips", {})
    if clips:
        mean = sum(clip["e_temporal"] for clip in clips.values()) / len(clips)
        line += f"; E_temporal {mean:.4f} on {len(clips)} held-out clips"
    return line
