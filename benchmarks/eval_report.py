"""vst-eval's output: Table-2-style Markdown on screen, one JSON record, and the Fig. 4 error
map PNGs."""
from pathlib import Path

import numpy as np

from vst.core.images import write_image
from vst.core.version import vst_version

from .evaluate import ClipResult, ErrorMaps
from .report import markdown_row

DEFINITIONS = {
    "frames": "RGB, pixels in [0, 1], at the size evaluated (column 'size')",
    "e_temporal": "Huang et al. 2017 Eq. 8: sqrt(sum c*(x_t - warp(x_t+1))^2 / ((T-1)*H*W*3)); "
                  "the sum over all scored pairs, every value in the denominator, masked or not",
    "warping_error": "Lai et al. 2018: mean over scored pairs of sum c*(x_t - warp(x_t+1))^2 / "
                     "(3 * sum c): the mean over the confident values only, not rooted",
    "c": "1 where frame t+1 can be matched to frame t: the flow stays inside the frame and, for "
         "estimated flows, forward and backward flow agree and no motion boundary; for ground "
         "truth, not occluded and not invalid",
    "stable_floor": "the E_temporal a perfectly stable output with this model's texture would "
                    "still score on these flows, to first order: E_temporal(input) * "
                    "sqrt(gradient_energy / gradient_energy(input)) (flow errors d leave |grad x . d|); "
                    "null without the input row",
    "gradient_energy": "mean squared difference of horizontally plus of vertically adjacent values, "
                       "pixels in [0, 1], mean over frames",
    "content_distance": "relu4_2 MSE of the output to its input frame / the input's mean squared "
                        "feature (vst-train's relative content term), mean over frames",
    "style_distance": "Gram distance to the style image, summed over relu1_2, relu2_2, relu3_2, "
                      "relu4_2, each layer / the style Gram's ||G||^2/C^2 (vst-train's relative "
                      "style term; style image scaled to the frame's longer side), mean over frames",
    "style_distance_layers": "style_distance's four terms, one per layer (they sum to it): which "
                             "scale of the style the output misses, from relu1_2 (colour, the "
                             "finest texture) to relu4_2 (the largest shapes)",
    "grid_amplitude": "the grid or checkerboard left by the stylizer's stride-2 stages, in 8-bit "
                      "levels: RMS over the 4x4 pixel phases (y mod 4, x mod 4) of the output's "
                      "high-pass (minus a Gaussian blur, sigma 2) averaged at each phase over all "
                      "frames, the mean over phases removed; unstylized frames score ~0.02",
}


def _number(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def definitions_text() -> str:
    return "\n".join(f"- {name}: {text}" for name, text in DEFINITIONS.items())


def temporal_table(results: list[ClipResult]) -> str:
    """Table 2's layout: E_temporal, a row per model, a column per clip."""
    columns = ["E_temporal", *(result.clip.name for result in results)]
    columns += ["mean"] if len(results) > 1 else []
    lines = [markdown_row(columns), markdown_row(["---"] * len(columns))]
    for row, model in enumerate(results[0].models):
        values = [result.models[row].temporal.e_temporal for result in results]
        mean = [np.mean(values)] if len(results) > 1 else []
        lines.append(markdown_row([model.label, *(_number(v) for v in values + mean)]))
    return "\n".join(lines)


def detail_table(results: list[ClipResult]) -> str:
    columns = ["clip", "size", "frames", "pairs scored", "confident pixels", "model", "backend",
               "E_temporal", "stable floor", "E_warp (Lai)", "style distance", "content distance", "grid (levels)"]
    lines = [markdown_row(columns), markdown_row(["---"] * len(columns))]
    for result in results:
        for model in result.models:
            lines.append(markdown_row([
                result.clip.name, "x".join(map(str, result.size)), result.frames,
                f"{result.pairs} of {result.frames - 1}", f"{result.confident.mean:.1%}", model.label,
                model.backend, _number(model.temporal.e_temporal),
                _number(result.stable_floor(model)), _number(model.temporal.warping_error, 6),
                _number(model.style_distance, 3), _number(model.content.mean, 3),
                _number(model.grid.amplitude, 2)]))
    return "\n".join(lines)


def eval_record(results: list[ClipResult], settings: dict, command: list[str]) -> dict:
    return {"tool": "vst-eval", "command": command, "vst_version": vst_version(),
            "settings": settings, "definitions": DEFINITIONS,
            "clips": [result.as_record() for result in results]}


def map_paths(path: Path, results: list[ClipResult]) -> list[Path]:
    """PATH for one clip; PATH's stem + .CLIP + its suffix for each of several."""
    if len(results) == 1:
        return [path]
    return [path.with_name(f"{path.stem}.{result.clip.name.replace('/', '_')}{path.suffix}")
            for result in results]


def write_error_maps(path: Path, result: ClipResult) -> None:
    """Fig. 4 for one pair: a column per model (stylized frame t above its error map), on one
    colour scale so the columns compare; excluded pixels (c = 0) gray."""
    import cv2

    maps: ErrorMaps = result.maps
    scale = max(float(np.percentile(m[maps.mask > 0], 99.5)) if maps.mask.any() else 0.0
                for m in maps.maps) or 1e-6
    height, width = maps.mask.shape
    font = max(0.4, width / 1400)
    strip = int(36 * font) + 8

    def label(text: str, columns: int) -> np.ndarray:
        banner = np.full((strip, width * columns, 3), 255, np.uint8)
        cv2.putText(banner, text, (6, strip - 8), cv2.FONT_HERSHEY_SIMPLEX, font, (0, 0, 0),
                    max(1, round(font * 1.5)), cv2.LINE_AA)
        return banner

    columns = []
    for model, frame, error in zip(result.models, maps.frames, maps.maps):
        levels = np.clip(error / scale * 255, 0, 255).astype(np.uint8)
        colored = cv2.cvtColor(cv2.applyColorMap(levels, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
        colored[maps.mask == 0] = 128
        columns.append(np.concatenate([
            label(f"{model.label}: E_temporal {model.temporal.e_temporal:.4f}", 1), frame, colored]))
    grid = np.concatenate(columns, axis=1)
    footer = label(f"{result.clip.name}, frames {maps.pair} -> {maps.pair + 1} (0-based): |x_t - warp(x_t+1)|, "
                   f"black 0 to yellow {scale:.3f} (pixels in [0, 1]); gray: c = 0", len(columns))
    write_image(path, np.concatenate([grid, footer]))
