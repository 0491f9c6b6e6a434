"""`vst-bench --profile`: where the default path's time goes, layer by layer. A shipped style's
ONNX (or any vst ONNX) on OpenVINO, compiled as `vst-run` compiles it on this CPU, with OpenVINO's
performance counters on, at each frame size asked: every node's median time, summed by kind
(convolution, instance norm (MVN), pad, upsampling (Interpolate), fused element-wise
subgraphs, layout and precision conversions (Reorder, Transpose)...), and for each
convolution the time it would take at the machine's measured peak."""
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import numpy as np

from vst.core.errors import CommandError
from vst.core.quality import reference_frame
from vst.engine.runner import openvino_on_onnx

CONVOLUTIONS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData")
KINDS = {  # OpenVINO CPU node types, in words
    "Convolution": "convolution", "ConvolutionBackpropData": "transposed convolution (folded up block)",
    "MVN": "instance norm (MVN)", "Pad": "pad (reflection; replication before a folded up block)",
    "Interpolate": "nearest upsampling", "Subgraph": "fused element-wise", "Eltwise": "element-wise",
    "Reorder": "layout / precision conversion", "Transpose": "NHWC <-> NCHW transpose",
}


@dataclass(frozen=True)
class LayerTime:
    name: str
    kind: str            # OpenVINO's node type
    implementation: str  # its exec type: the kernel and precision (brgconv_avx512_bf16...)
    ms: float            # median over the runs
    flops: int | None    # convolutions only: 2 per multiply-add


@dataclass(frozen=True)
class Profile:
    width: int
    height: int
    precision: str
    wall_ms: float             # median time of one inference, counters on
    layers: list[LayerTime]

    @property
    def counted_ms(self) -> float:
        return sum(layer.ms for layer in self.layers)

    def by_kind(self) -> list[tuple[str, float, int]]:
        """(kind, ms, nodes), slowest first."""
        kinds: dict[str, list[float]] = {}
        for layer in self.layers:
            kinds.setdefault(layer.kind, []).append(layer.ms)
        return sorted(((kind, sum(t), len(t)) for kind, t in kinds.items()), key=lambda row: -row[1])

    def as_record(self, peak_flops: float) -> dict:
        return {"size": [self.width, self.height], "precision": self.precision, "wall_ms": round(self.wall_ms, 3),
                "counted_ms": round(self.counted_ms, 3),
                "by_kind": [{"kind": kind, "ms": round(ms, 3), "nodes": nodes} for kind, ms, nodes in self.by_kind()],
                "layers": [{"name": l.name, "kind": l.kind, "implementation": l.implementation, "ms": round(l.ms, 4),
                            "flops": l.flops, "ms_at_peak": l.flops and round(1e3 * l.flops / peak_flops, 4)}
                           for l in self.layers]}


def places(kinds: list[str]) -> list[tuple[str, int]]:
    """Each kind with its place among the kinds like it so far: [a, b, a] -> [(a, 0), (b, 0), (a, 1)]."""
    seen: Counter = Counter()
    out = []
    for kind in kinds:
        out.append((kind, seen[kind]))
        seen[kind] += 1
    return out


def conv_flops(model) -> dict[tuple[str, int], int]:
    """FLOPs of each convolution of a static-shape ov.Model, by (type, its place among the
    model's nodes of that type): 2 per multiply-add, every weight once per output pixel (per
    input pixel for a transposed convolution, whose stride spreads its taps over the output:
    its padded input, the work done, as benchmarks.cost counts it). Not by name: the CPU
    plugin renames some nodes it rebuilds (a transposed convolution at some sizes)."""
    convs = [op for op in model.get_ordered_ops() if op.get_type_name() in CONVOLUTIONS]
    flops = {}
    for op, place in zip(convs, places([op.get_type_name() for op in convs])):
        weights = int(np.prod(list(op.input(1).get_shape())))
        pixels = op.input(0) if op.get_type_name() == "ConvolutionBackpropData" else op.output(0)
        n, _, *spatial = pixels.get_shape()
        flops[place] = 2 * n * int(np.prod(list(spatial))) * weights
    return flops


def profile_model(onnx: Path, sizes: list[tuple[int, int]], runs: int, precision: str = "auto") -> list[Profile]:
    """The vst ONNX model at `onnx` profiled at each (width, height), on the reference frame
    resized to it, in `precision` (openvino_runner.PRECISIONS)."""
    runner, _ = openvino_on_onnx(onnx, precision=precision)  # as vst-run opens it
    profiles = []
    for width, height in sizes:
        frames = reference_frame((height, width))
        flops = conv_flops(runner.graph(frames.shape))
        runs_seen = runner.profile(frames, runs)
        per_node: dict[str, list] = {}
        for _, infos in runs_seen:
            for info in infos:
                if info.status == info.Status.EXECUTED:
                    per_node.setdefault(info.node_name, []).append(info)
        # in the order the nodes ran, which is the model's
        ran = places([infos[0].node_type for infos in per_node.values()])
        compiled = Counter(kind for kind, _ in ran if kind in CONVOLUTIONS)
        if compiled != Counter(kind for kind, _ in flops):
            raise CommandError(f"OpenVINO ran the convolutions as {dict(compiled)}, not as the model has "
                               "them: their FLOPs cannot be matched")
        layers = [LayerTime(name, kind, infos[0].exec_type, median(i.real_time.total_seconds() * 1e3 for i in infos),
                            flops.get((kind, place)))
                  for (name, infos), (kind, place) in zip(per_node.items(), ran)]
        profiles.append(Profile(width, height, runner.precision,
                                median(seconds for seconds, _ in runs_seen) * 1e3, layers))
    return profiles


def profile_tables(profiles: list[Profile], peak_flops: float) -> str:
    """Per size: the time by kind of layer, then the convolutions against the peak."""
    out = []
    for p in profiles:
        convs = [l for l in p.layers if l.flops]
        if not convs or not p.counted_ms:
            raise CommandError("OpenVINO's counters named no convolution of the model: nothing to profile")
        conv_ms = sum(l.ms for l in convs)
        floor_ms = 1e3 * sum(l.flops for l in convs) / peak_flops
        out.append(f"{p.width}x{p.height}, {p.precision.upper()}: {p.wall_ms:.1f} ms per frame (median, counters on); "
                   f"nodes {p.counted_ms:.1f} ms\n")
        out.append("| kind | nodes | ms | share |\n|---|---|---|---|")
        out += [f"| {KINDS.get(kind, kind)} | {nodes} | {ms:.2f} | {100 * ms / p.counted_ms:.0f} % |"
                for kind, ms, nodes in p.by_kind()]
        out.append(f"\nconvolutions: {conv_ms:.1f} ms for {sum(l.flops for l in convs) / 1e9:.2f} GFLOP = "
                   f"{sum(l.flops for l in convs) / conv_ms / 1e6:.0f} GFLOP/s; at the measured peak "
                   f"{floor_ms:.1f} ms\n")
        out.append("| convolution | kernel | ms | GFLOP | GFLOP/s | ms at peak |\n|---|---|---|---|---|---|")
        out += [f"| {l.name.split('/')[0]} | {l.implementation} | {l.ms:.2f} | {l.flops / 1e9:.3f} | "
                f"{l.flops / l.ms / 1e6:.0f} | {1e3 * l.flops / peak_flops:.2f} |"
                for l in sorted(convs, key=lambda l: -l.ms)]
        out.append("")
    return "\n".join(out)
