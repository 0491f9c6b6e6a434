"""The start of a fine-tune into the "subpixel" decoder (core.stylizer): its new tail fitted
to the output of the model it starts from, the layers before it frozen.

A random tail puts out a grey picture, and the style loss's gradients through it then undo
the trained layers before it: after 100 iterations from a shipped model, a washed-out frame
with a 2 x 2 grid. Fitted first, the tail starts the fine-tune at that model's look: about
32 dB from it on the training frames after TailFit's steps (docs/training.md).
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from tqdm import tqdm

from vst.core.stylizer import SHARED_LAYERS, Stylizer, padded, to_frame_range


@dataclass(frozen=True)
class TailFit:
    frames: int = 512    # evenly spaced training frames; their features are kept in memory
    steps: int = 1500
    batch: int = 8
    lr: float = 2e-3     # cosine-annealed to 0 over the steps


def fitting_frames(pairs: Dataset, count: int) -> torch.Tensor:
    """(N, 3, H, W) RGB in [0, 1]: the current frames of `count` evenly spaced pairs."""
    picked = np.linspace(0, len(pairs) - 1, min(count, len(pairs))).round().astype(int)
    return torch.stack([pairs[int(i)].cur for i in picked])


def fit_tail(student: Stylizer, teacher: Stylizer, frames: torch.Tensor, fit: TailFit = TailFit(),
             seed: int = 0) -> float:
    """Fit the layers of `student` after SHARED_LAYERS, by mean squared error, to the output of
    `teacher` on `frames` ((N, 3, H, W) RGB in [0, 1]), the student's layers before them
    kept as they are; the fit's PSNR in dB over its last 100 steps."""
    frames = padded(frames)  # as Stylizer.forward pads them, which the tail alone does not
    generator = torch.Generator().manual_seed(seed)
    head, tail = student.body[:SHARED_LAYERS], student.body[SHARED_LAYERS:]
    teacher.eval()
    with torch.no_grad():  # the frozen layers' output, once: the steps then cost the tail alone
        features, targets = zip(*((head(batch), teacher(batch)) for batch in frames.split(16)))
        features, targets = torch.cat(features), torch.cat(targets)
    optimizer = torch.optim.Adam(tail.parameters(), lr=fit.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, fit.steps)
    last = []
    for _ in tqdm(range(fit.steps), desc="fit the new tail", unit="step", dynamic_ncols=True):
        picked = torch.randint(0, len(frames), (fit.batch,), generator=generator)
        loss = F.mse_loss(to_frame_range(tail(features[picked])), targets[picked])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        last = (last + [loss.item()])[-100:]
    return float(10 * np.log10(1 / np.mean(last)))
