#!/usr/bin/env bash
# The quick recipe measured on styles no shipped model was trained on (docs/training.md, "Your
# own style"): for each STYLE, `vst-train --recipe quick` from ../shared/data/photos alone, its
# wall time, and its per-frame twin (the same run at lambda 0, what its flicker is measured
# against), into runs/quick/; then both scored by vst-eval on MPI Sintel (ground-truth flow) and
# the held-out clips, into benchmarks/results/quick/. Resumable: a finished run leaves
# runs/quick/NAME.done, a scored one its JSON. Needs `pip install torch==2.13.0 -e '.[train,export]'`.
#   bash training/quick.sh the_scream wave udnie la_muse
set -euo pipefail
cd "$(dirname "$0")/.."
. training/eval_data.sh
[ $# -ge 1 ] || { echo "usage: bash training/quick.sh STYLE..." >&2; exit 2; }
J=../shared/data/styles/jcjohnson_fast-neural-style
R=benchmarks/results/quick
mkdir -p runs/quick $R
for style in "$@"; do
  [ -f $J/$style.jpg ] || { echo "quick.sh: $J/$style.jpg does not exist" >&2; exit 2; }
done
train() {  # NAME, then vst-train's options
  local name=$1; shift
  [ -f runs/quick/$name.done ] && return
  local resume=(); [ -f runs/quick/$name.pt ] && resume=(--resume)
  local began=$SECONDS
  vst-train --recipe quick --data ../shared/data/photos --out runs/quick/$name.pt "${resume[@]}" "$@"
  echo $((SECONDS - began)) > runs/quick/$name.seconds  # wall time, start-up and card included
  touch runs/quick/$name.done
}
for style in "$@"; do
  train $style --style $J/$style.jpg
done
for style in "$@"; do
  train ${style}_no_temporal --style $J/$style.jpg --no-temporal
done
for style in "$@"; do
  engines=(--engine runs/quick/$style.pt --engine runs/quick/${style}_no_temporal.pt)
  [ -f $R/sintel-$style.json ] || vst-eval "${SINTEL[@]}" "${engines[@]}" --backend onnxruntime --json $R/sintel-$style.json
  [ -f $R/held-out-$style.json ] || vst-eval "${HELD_OUT[@]}" "${engines[@]}" --backend onnxruntime --json $R/held-out-$style.json
done
for style in "$@"; do  # the shipped model it started from | the quick model, at 270 lines
  gallery=benchmarks/results/gallery/quick-$style.jpg
  [ $gallery -nt runs/quick/$style.pt ] ||
    python -m vst.release.gallery $gallery --before composition_vii --after runs/quick/$style.pt --heights 270
done
