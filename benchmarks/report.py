"""vst-bench's output: Markdown tables on screen (they paste into docs/results.md as they are),
one JSON record with every figure and the machine, and an optional bar chart."""
import json
from dataclasses import asdict
from pathlib import Path

from vst.core.files import write_atomically
from vst.core.paths import portable

from .end_to_end import VideoResults
from .machine import MachineFacts, Peak
from .runners import EAGER
from .stylize_only import PAPER_K80, StylizeBench, StylizeResults
from . import timing
from .timing import Stats


def markdown_row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def eager_stats(results: StylizeResults) -> list[Stats] | None:
    """PyTorch CPU FP32 eager's figure per model, the reference of the speed-up column; None
    where it did not run."""
    eager = [r.with_copies for r in results.results if r.backend.key == EAGER]
    return eager if eager and all(eager) else None


def stylize_table(results: StylizeResults) -> str:
    models = results.labels
    ratio = models == ("Res48", "Res128")  # the paper's comparison
    eager = eager_stats(results)
    speedup = [f"speed-up vs PyTorch CPU FP32 ({' / '.join(models)})"] if eager else []
    columns = ["backend", "timing", *(f"{m} ms/frame" for m in models),
               *(["Res128/Res48"] if ratio else []), *(f"{m} fps" for m in models), *speedup,
               "PSNR vs FP32, dB"]
    lines = [markdown_row(columns), markdown_row(["---"] * len(columns))]
    if ratio:
        k80 = (PAPER_K80["Res48_ms"], PAPER_K80["Res128_ms"])
        lines.append(markdown_row([PAPER_K80["device"], "1024x436", *k80, f"{k80[1] / k80[0]:.2f}",
                           *(f"{1000 / ms:.1f}" for ms in k80), *[""] * len(speedup), ""]))
    for backend in dict.fromkeys(r.backend for r in results.results):
        per_model = [results.result(backend.key, m) for m in models]
        reason = next((r.not_run for r in per_model if r.not_run), None)
        if reason:
            lines.append(markdown_row([backend.label, f"could not run: {reason}",
                               *[""] * (len(columns) - 2)]))
            continue
        psnr = " / ".join("identical" if r.identical else f"{r.psnr_db:.1f}" for r in per_model)
        timings = [("host clock", "with_copies")] if backend.device == "cpu" else [
            ("with copies, host clock", "with_copies"), ("compute only, device events", "compute_only")]
        for clock, field in timings:
            stats = [getattr(r, field) for r in per_model]
            lines.append(markdown_row([backend.label, clock, *(s.describe() for s in stats),
                               *([f"{stats[1].median_ms / stats[0].median_ms:.2f}"] if ratio else []),
                               *(f"{s.fps:.1f}" for s in stats),
                               *([" / ".join(f"{e.median_ms / s.median_ms:.2f}" for e, s in zip(eager, stats))]
                                 if eager else []),
                               psnr]))
    return "\n".join(lines)


def floor_table(floors: list[dict]) -> str:
    lines = [markdown_row(["model", "GFLOP/frame", "min MB/frame", "layer-by-layer MB/frame",
                           "fastest backend with a measured peak", "its GFLOP/s", "measured peak GFLOP/s",
                           "fraction of peak", "floor ms (min / layer bytes)"]),
             markdown_row(["---"] * 9)]
    for best in floors:
        lines.append(markdown_row([
            best["model"], f"{best['flops'] / 1e9:.2f}", f"{best['min_bytes'] / 1e6:.2f}",
            f"{best['layer_bytes'] / 1e6:.0f}", f"{best['backend']} ({best['precision'].upper()})",
            f"{best['flops_per_s'] / 1e9:.0f}", f"{best['peak_flops_per_s'] / 1e9:.0f}",
            f"{best['fraction_of_peak']:.0%}", f"{best['floor_ms']:.1f} / {best['layer_floor_ms']:.1f}"]))
    return "\n".join(lines)


def video_table(results: VideoResults) -> str:
    record = results.as_record()
    stages = record["stage_fps"]
    return "\n".join([
        markdown_row(["video", "frame", "backend", "end-to-end fps", "stylize-only fps", "efficiency",
              "decode fps", "stylize fps (in pipeline)", "encode fps", "encoder", "output Mbit/s", "peak RSS GB"]),
        markdown_row(["---"] * 12),
        markdown_row([Path(results.settings.video).name, "x".join(map(str, record["frame"])), results.backend,
              f"{results.end_to_end_fps:.1f}", f"{results.stylize_only.fps:.1f}", f"{results.efficiency:.2f}",
              f"{stages['decode']:.0f}", f"{stages['stylize']:.1f}", f"{stages['encode']:.0f}",
              f"CRF {results.settings.crf}, {record['encoder']}", f"{record['video_mbit_per_s']:.1f}",
              f"{record['peak_rss_bytes'] / 1e9:.2f}"])])


def peaks_line(peaks: dict[str, Peak]) -> str:
    parts = [f"{peak.device}: " + ", ".join(f"{p.upper()} {f / 1e9:.0f} GFLOP/s" for p, f in peak.flops.items())
             + f", {peak.bandwidth / 1e9:.0f} GB/s" for peak in peaks.values()]
    return f"measured peaks ({next(iter(peaks.values())).how}): " + "; ".join(parts)


def weights_phrase(settings: StylizeBench) -> str:
    named = [f"the shipped style {settings.style}"] if settings.style else []
    if settings.checkpoint:
        named.append(f"the checkpoint {portable(settings.checkpoint)}")
    return " and ".join(named) or f"random (torch seed {settings.seed}); time does not depend on them"


def stylize_record(results: StylizeResults, machine: MachineFacts, peaks: dict[str, Peak],
                   floors: list[dict], command: list[str]) -> dict:
    settings = asdict(results.settings)
    settings["clip"] = portable(settings["clip"])
    settings["checkpoint"] = settings["checkpoint"] and portable(settings["checkpoint"])
    settings["weights"] = weights_phrase(results.settings)
    settings["columns"] = list(results.labels)
    settings["timing"] = {"backends": "opened at once, timed in turns (benchmarks.timing.time_interleaved)",
                          "turns": timing.TURNS, "pause_s": timing.PAUSE_S}
    return {"tool": "vst-bench", "mode": "stylize-only", "command": command,
            "machine": machine.as_record(), "peaks": {d: p.as_record() for d, p in peaks.items()},
            "settings": settings, "paper": PAPER_K80,
            "models": [{"model": label, **cost.as_record()} for label, cost in results.costs.items()],
            "results": [r.as_record() for r in results.results],
            "floor": floors}


def video_record(results: VideoResults, machine: MachineFacts, command: list[str]) -> dict:
    return {"tool": "vst-bench", "mode": "end-to-end", "command": command,
            "machine": machine.as_record(), "settings": asdict(results.settings),
            "results": [results.as_record()]}


def write_json(path: Path, record: dict) -> None:
    text = json.dumps(record, indent=2, allow_nan=False)  # strict JSON: other tools read it
    write_atomically(path, lambda file: file.write(text.encode()))


def write_plot(path: Path, results: StylizeResults, machine: MachineFacts) -> None:
    """Grouped bars: ms/frame per backend (with copies) for each model, after the paper's K80
    when the resolution is the paper's."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    models = results.labels
    settings = results.settings
    rows = []
    if [settings.width, settings.height] == PAPER_K80["frame"] and all(f"{m}_ms" in PAPER_K80 for m in models):
        rows.append((PAPER_K80["device"], [PAPER_K80[f"{m}_ms"] for m in models]))
    for backend in dict.fromkeys(r.backend for r in results.results):
        stats = [results.result(backend.key, m).with_copies for m in models]
        if any(stats):
            rows.append((backend.label, [s.median_ms if s else None for s in stats]))
    figure, axes = plt.subplots(figsize=(1.6 * len(rows) + 3, 4.5))
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        xs = [j + (i - (len(models) - 1) / 2) * width for j in range(len(rows))]
        heights = [values[i] or 0 for _, values in rows]
        bars = axes.bar(xs, heights, width, label=model)
        axes.bar_label(bars, labels=[f"{h:.0f}" if h else "" for h in heights], fontsize=7)
    axes.set_xticks(range(len(rows)), [label for label, _ in rows], rotation=20, ha="right", fontsize=8)
    axes.set_ylabel("ms per frame, median (host frame in -> out)")
    axes.set_title(f"vst-bench {settings.width}x{settings.height} on {machine.gpu or machine.cpu}", fontsize=9)
    axes.legend()
    figure.tight_layout()
    write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=120))
    plt.close(figure)
