#!/usr/bin/env bash
# Score the pilots NAME... (README, "Choosing the recipe") with vst-eval on data no pilot was
# trained on (eval_data.sh), each against candy's style image, into
# benchmarks/results/pilots/{sintel-gt,held-out}-NAME.json; `python -m vst.release.compare
# benchmarks/results/pilots/sintel-gt-*.json --baseline notemp` puts them in one table.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
. training/eval_data.sh
[ $# -gt 0 ] || { echo "usage: training/eval_pilots.sh NAME..." >&2; exit 2; }
for name in "$@"; do
  [ -f training/pilots/$name.done ] || { echo "eval_pilots.sh: training/pilots/$name.pt is not finished" >&2; exit 2; }
  run=(--engine training/pilots/$name.pt --backend onnxruntime)
  vst-eval "${SINTEL[@]}" "${run[@]}" --style-image $S/styles/jcjohnson_fast-neural-style/candy.jpg \
    --json benchmarks/results/pilots/sintel-gt-$name.json
  # flicker only on the held-out clips: the Sintel run gives the distances
  vst-eval "${HELD_OUT[@]}" "${run[@]}" --no-distances --json benchmarks/results/pilots/held-out-$name.json
done
