"""`python -m vst.release.compare EVAL.json... --baseline MODEL`: vst-eval results as the
recipe tables of docs/training.md. Per model: E_temporal per clip and its ratio to the baseline's (the
per-frame twin, Table 2's comparison), the worst ratio, the mean style and content
distances with the style distance's ratio to the baseline's, the worst ratio of the model's
stable floor to the baseline's E_temporal (the ratio a perfectly stable model with its texture
would reach) and the largest grid amplitude over the clips (these two where the results have
them)."""
import json
from pathlib import Path

import click
import numpy as np

from vst.core.command import HELP, run_command
from vst.core.errors import InputError
from vst.benchmarks.clips import INPUT_LABEL


def scores(paths: list[Path]) -> tuple[list[str], dict[str, dict[str, dict]]]:
    """(clip names in order, model -> clip -> its vst-eval row) over every file."""
    clips, table = [], {}
    for path in paths:
        try:
            record = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: not a readable vst-eval JSON ({type(exc).__name__})") from None
        if not isinstance(record, dict) or not isinstance(record.get("clips"), list):
            raise InputError(f"{path}: not a vst-eval JSON (no list of clips)")
        for clip in record["clips"]:
            if clip["clip"] not in clips:  # one clip scored in several files: one column
                clips.append(clip["clip"])
            for row in clip["results"]:
                table.setdefault(row["model"], {})[clip["clip"]] = row
    return clips, table


def mean_of(rows: dict[str, dict], key: str, clips: list[str]) -> float | None:
    """The mean of a distance over the clips; None where vst-eval ran --no-distances."""
    values = [rows[clip][key] for clip in clips]
    return None if None in values else float(np.mean(values))


def worst(values: list[float | None]) -> str:
    """The largest value; '-' where a result predates the score."""
    return "-" if None in values else f"{max(values):.2f}"


def markdown(clips: list[str], table: dict[str, dict[str, dict]], baseline: str) -> str:
    if baseline not in table:
        raise InputError(f"no model {baseline!r} in these results; models: {', '.join(table)}")
    base = table[baseline]
    head = (["model"] + [f"E_temporal {clip}" for clip in clips]
            + ["mean ratio", "worst ratio", "style distance (ratio)", "content distance", "worst floor ratio", "grid (levels)"])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for model, rows in table.items():
        if model == INPUT_LABEL:
            continue
        ratios = [rows[clip]["e_temporal"] / base[clip]["e_temporal"] for clip in clips]
        style, base_style, content = (mean_of(of, key, clips) for of, key in (
            (rows, "style_distance"), (base, "style_distance"), (rows, "content_distance")))
        distances = ["-", "-"] if style is None else [f"{style:.2f} ({style / base_style:.2f})", f"{content:.2f}"]
        floor_ratios = [None if rows[clip].get("stable_floor") is None
                        else rows[clip]["stable_floor"] / base[clip]["e_temporal"] for clip in clips]
        cells = ([model] + [f"{rows[clip]['e_temporal']:.4f} ({ratio:.2f})" for clip, ratio in zip(clips, ratios)]
                 + [f"{np.mean(ratios):.2f}", f"{max(ratios):.2f}"] + distances
                 + [worst(floor_ratios), worst([rows[clip].get("grid_amplitude") for clip in clips])])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@click.command("vst-compare", context_settings=HELP)
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--baseline", required=True, help="The model every ratio is taken to (the per-frame twin).")
def command(results, baseline):
    """Print vst-eval RESULTS as one markdown table, ratios to the baseline model."""
    clips, table = scores(list(results))
    missing = sorted({f"{model} on {clip}" for model, rows in table.items() for clip in clips
                      if clip not in rows and model != INPUT_LABEL})
    if missing:
        raise InputError(f"results do not cover every clip: {', '.join(missing[:3])}")
    click.echo(markdown(clips, table, baseline))


def main(argv: list[str] | None = None) -> None:
    run_command(command, argv)


if __name__ == "__main__":
    main()
