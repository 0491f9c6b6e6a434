"""Two-frame synergic training (section 4.1): each iteration stylizes both frames of a batch
of consecutive pairs, and the hybrid loss of Eq. 1 updates the stylizer; on one process, or
on each rank of a torchrun job (train.distributed)."""
import csv
import io
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from vst.core.checkpoint import Checkpoint
from vst.core.convention import frames_to_tensor, tensor_to_frames
from vst.core.cpu import has_native_bf16
from vst.core.errors import InputError
from vst.core.files import write_atomically
from vst.core.images import read_image, write_image
from vst.core.stylizer import Stylizer, shared_weights

from .allocator import keep_freed_memory
from .card import write_card
from .config import TrainConfig
from .distributed import Ranks
from .losses import HybridLoss, LossTerms
from .pairs import training_pairs
from .tail_fit import TailFit, fit_tail, fitting_frames
from .vgg import load_vgg

LOG_COLUMNS = ("iteration", "seconds") + LossTerms._fields


def training_precision(requested: str, device: torch.device) -> str:
    """"bf16" (autocast, channels_last) on CUDA and on CPUs with native BF16 dot products,
    where it halves the step time (docs/training.md, *Training cost*); else "fp32"."""
    if requested == "auto":
        return "bf16" if device.type == "cuda" or has_native_bf16() else "fp32"
    if requested == "bf16" and device.type == "cpu" and not has_native_bf16():
        raise InputError("--precision bf16: this CPU has no native BF16 instructions; "
                         "emulated BF16 is slower than FP32 here")
    return requested


def load_weights(path: Path, cfg: TrainConfig, stylizer: Stylizer, same_arch: bool) -> tuple[Checkpoint, bool]:
    """The checkpoint at path, its weights loaded into stylizer: of the same architecture
    (same_arch, a resumed run), or of any whose weights fit (a fine-tune may switch between
    the resize upsamplers, which differ in interpolation only); and whether stylizer has a
    new tail to fit (train.tail_fit): a fine-tune into "subpixel" from a resize decoder
    keeps the layers up to the first up block."""
    ckpt = Checkpoint.load(path)
    found = (ckpt.stylizer.width, ckpt.stylizer.upsample)
    weights = ckpt.stylizer.state_dict()
    fits = {k: v.shape for k, v in weights.items()} == {k: v.shape for k, v in stylizer.state_dict().items()}
    new_tail = (not same_arch and found[0] == cfg.width and cfg.upsample == "subpixel"
                and found[1] in ("resize", "bilinear"))
    if found != (cfg.width, cfg.upsample) and (same_arch or not fits) and not new_tail:
        raise InputError(f"{path}: checkpoint is width {found[0]}/{found[1]}, "
                         f"not the requested {cfg.width}/{cfg.upsample}")
    stylizer.load_state_dict(shared_weights(weights) if new_tail else weights, strict=not new_tail)
    return ckpt, new_tail


def start_state(cfg: TrainConfig, stylizer: Stylizer) -> tuple[dict, Stylizer | None]:
    """Where training starts: {} from scratch; the 'training' record of the checkpoint at
    cfg.out for --resume; for --init, only {"init": what the weights came from} (the
    iteration, config and own origin of that checkpoint, so a model card can trace a
    fine-tuned model to its first iteration). Second, the model a new tail is fitted to."""
    if cfg.resume:
        return load_weights(cfg.out, cfg, stylizer, same_arch=True)[0].training, None
    if not cfg.init:
        return {}, None
    ckpt, new_tail = load_weights(cfg.init, cfg, stylizer, same_arch=False)
    origin = {"iteration": ckpt.training["iteration"], "config": ckpt.config,
              **{key: ckpt.training[key] for key in ("init", "card") if key in ckpt.training}}
    return {"init": origin}, ckpt.stylizer if new_tail else None


def cut_log(path: Path, iteration: int) -> None:
    """Drop the rows past `iteration` from a resumed run's log: a run stopped hard (a machine's
    end, SIGKILL) logged iterations after its last checkpoint, and they are trained again."""
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    kept = rows[:1] + [row for row in rows[1:] if int(row[0]) <= iteration]
    if len(kept) < len(rows):
        text = io.StringIO()
        csv.writer(text).writerows(kept)
        write_atomically(path, lambda file: file.write(text.getvalue().encode()))


def write_preview(path: Path, stylizer: Stylizer, frame: torch.Tensor) -> None:
    """Input and stylized output side by side, to watch training without other tools."""
    was_training = stylizer.training
    stylizer.eval()
    with torch.no_grad():
        out = stylizer(frame)
    stylizer.train(was_training)
    write_image(path, np.concatenate(tensor_to_frames(torch.cat((frame, out)).cpu()), axis=1))


def train(cfg: TrainConfig) -> Checkpoint | None:
    """Train as cfg says; returns the final checkpoint on rank 0 (the only rank that writes),
    None on the other ranks of a torchrun job."""
    keep_freed_memory()
    ranks = Ranks.from_environment(cfg.device)
    try:
        checkpoint = _train(cfg, ranks)
        ranks.wait_for_all()
        return checkpoint
    finally:
        ranks.close()


def _train(cfg: TrainConfig, ranks: Ranks) -> Checkpoint | None:
    device = ranks.device
    torch.manual_seed(cfg.seed)
    bf16 = training_precision(cfg.precision, device) == "bf16"
    if cfg.resume and not cfg.out.is_file():
        raise InputError(f"--resume: {cfg.out} does not exist yet")
    style = frames_to_tensor(read_image(cfg.style, cfg.style_size or max(cfg.size))).to(device)
    vgg = load_vgg(cfg.vgg).to(device)
    memory_format = torch.channels_last if bf16 else torch.contiguous_format
    stylizer = Stylizer(cfg.width, cfg.upsample)
    training, teacher = start_state(cfg, stylizer)
    start = training.get("iteration", 0)
    loss_fn = HybridLoss(vgg.to(memory_format=memory_format), style, cfg.weights).to(device)
    # flows are computed (or found in the cache) here, after the cheap checks above
    pairs = ranks.main_first(lambda: training_pairs(
        list(cfg.data), cfg.size, cfg.flow, cfg.long_term, cfg.cache_dir, cfg.max_pairs_per_video,
        cfg.seed, cfg.exclude, cfg.photo_motion))
    if teacher is not None:
        fit = TailFit()
        psnr = fit_tail(stylizer, teacher, fitting_frames(pairs, fit.frames), fit, cfg.seed)
        training["init"]["tail_fit"] = {**asdict(fit), "psnr_db": round(psnr, 2)}
        tqdm.write(f"new sub-pixel tail fitted to {cfg.init.name}: {psnr:.1f} dB on the training frames")
    stylizer.to(device, memory_format=memory_format)
    model = ranks.wrap(stylizer)
    optimizer = torch.optim.Adam(stylizer.parameters(), lr=cfg.lr)
    if "optimizer" in training:
        optimizer.load_state_dict(training["optimizer"])
    batches = ranks.loader(pairs, cfg.batch_size, cfg.seed + start)
    preview_frame = pairs[0].cur[None].to(device)

    def checkpoint(iteration: int) -> Checkpoint | None:
        if not ranks.is_main:
            return None
        origin = {"init": training["init"]} if "init" in training else {}
        ckpt = Checkpoint(stylizer, cfg.out.stem, cfg.as_record(), {
            "iteration": iteration, "optimizer": optimizer.state_dict(), "vgg": vgg.source, **origin})
        ckpt.save(cfg.out)
        write_preview(cfg.out.with_suffix(".preview.jpg"), stylizer, preview_frame)
        return ckpt

    new_log = not (cfg.resume and cfg.log_path.is_file())
    if not new_log and ranks.is_main:
        cut_log(cfg.log_path, start)
    with (open(cfg.log_path, "w" if new_log else "a", newline="") if ranks.is_main else nullcontext()) as log_file:
        log = csv.writer(log_file) if log_file else None
        if log and new_log:
            log.writerow(LOG_COLUMNS)
        model.train()
        began, done = time.monotonic(), start
        bar = tqdm(total=cfg.iters, initial=start, desc="train", unit="it", dynamic_ncols=True,
                   disable=not ranks.is_main)
        try:
            for iteration in range(start + 1, cfg.iters + 1):
                batch = [t.to(device, non_blocking=True) for t in next(batches)]
                prev, cur, flow, confidence = batch
                # bf16 keeps float32's range, so no gradient scaler is needed; the loss terms
                # reduce in float32 (losses.py)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                    out = model(torch.cat((prev, cur)).contiguous(memory_format=memory_format))
                    out_prev, out_cur = out.float().chunk(2)
                    terms = loss_fn(prev, cur, out_prev, out_cur, flow, confidence)
                optimizer.zero_grad(set_to_none=True)
                terms.total.backward()
                optimizer.step()
                done = iteration
                values = ranks.mean([t.item() for t in terms])
                if log:
                    log.writerow([iteration, f"{time.monotonic() - began:.2f}"] + [f"{v:.6g}" for v in values])
                    log_file.flush()  # so the CSV can be followed while training runs
                bar.set_postfix({k: f"{v:.3g}" for k, v in zip(LossTerms._fields, values)}, refresh=False)
                bar.update()
                if done % cfg.checkpoint_every == 0:
                    checkpoint(done)
        except KeyboardInterrupt:
            stopped = checkpoint(done)
            if stopped:
                try:  # nothing may hide the interrupt itself
                    write_card(stopped, cfg)
                except OSError as exc:
                    tqdm.write(f"no model card written ({exc.strerror or exc})")
                tqdm.write(f"saved {cfg.out} at iteration {done}, ready to use (vst-run VIDEO --engine {cfg.out}); "
                           "continue with --resume")
            raise
        finally:
            bar.close()
    ranks.check_agree(stylizer)
    final = checkpoint(done)
    if final:
        write_card(final, cfg)
    return final
