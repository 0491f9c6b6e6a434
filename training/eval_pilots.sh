#!/usr/bin/env bash
# Score the pilots (and the shipped candy pair, "before") with vst-eval on data no model was
# trained on: MPI Sintel with ground-truth flow, and held-out clips with DIS flow.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
S=../shared/data
models=()
for pt in training/pilots/*.pt; do [ -f "${pt%.pt}.done" ] && models+=(--engine "$pt"); done
models+=(--style candy_no_temporal --style candy)
style=(--style-image $S/styles/jcjohnson_fast-neural-style/candy.jpg --backend onnxruntime)
T=$S/flow/sintel/training
vst-eval $T/final/alley_1 $T/final/cave_2 $T/clean/alley_1 $T/clean/cave_2 --gt-flow "${models[@]}" "${style[@]}" \
  --json benchmarks/results/pilots-sintel-gt.json
V=$S/videos
# flicker only (no distances, which the Sintel run gives): the fast held-out clips, 16 frames
vst-eval $S/frames/raft_demo_frames_sintel $V/co-tracker/paragliding-launch.mp4 $V/decord/flipping_a_pancake.mkv \
  --height 270 --max-frames 16 --no-distances "${models[@]}" --backend onnxruntime \
  --json benchmarks/results/pilots-held-out.json
