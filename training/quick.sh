#!/usr/bin/env bash
# The quick recipe measured on styles no shipped model was trained on (docs/training.md, "Your
# own style"): for each STYLE, `vst-train --recipe quick` from ../shared/data/photos alone, its
# wall time, and its per-frame twin (the same run at lambda 0, what its flicker is measured
# against), into runs/quick/; then both scored by vst-eval on MPI Sintel (ground-truth flow) and
# the held-out clips, into benchmarks/results/quick/subpixel/ (runs from the shipped
# composition_vii, whose network is the sub-pixel one; benchmarks/results/quick/ keeps the
# scores of runs from the resize stage composition_vii_ft, from-scratch ones among them).
# With --scratch, each STYLE also gets its from-scratch run: the same loss weights and photos,
# no start model, the length of the recipe every shipped style began with ("video", 6,000
# iterations: ~1.5 h here). Resumable: a finished
# run leaves runs/quick/NAME.done; the scores are made again when a run finished after them. A
# run not finished may be kept in git as training/in_progress/NAME.{pt,csv}: it continues from
# there, and those files go when it is done.
# Needs `pip install torch==2.13.0 -e '.[train,export]'`.
#   bash training/quick.sh the_scream wave udnie la_muse
#   bash training/quick.sh --scratch the_scream
set -euo pipefail
cd "$(dirname "$0")/.."
. training/eval_data.sh
scratch=; [ "${1:-}" = --scratch ] && { scratch=1; shift; }
[ $# -ge 1 ] || { echo "usage: bash training/quick.sh [--scratch] STYLE..." >&2; exit 2; }
J=../shared/data/styles/jcjohnson_fast-neural-style
R=benchmarks/results/quick/subpixel
mkdir -p runs/quick $R
for style in "$@"; do
  [ -f $J/$style.jpg ] || { echo "quick.sh: $J/$style.jpg does not exist" >&2; exit 2; }
done
train() {  # NAME, RECIPE, then vst-train's options
  local name=$1 recipe=$2; shift 2
  [ -f runs/quick/$name.done ] && return
  if [ ! -f runs/quick/$name.pt ] && [ -f training/in_progress/$name.pt ]; then
    cp training/in_progress/$name.* runs/quick/
  fi
  local resume=(); [ -f runs/quick/$name.pt ] && resume=(--resume)
  local began=$SECONDS
  vst-train --recipe $recipe --data ../shared/data/photos --out runs/quick/$name.pt "${resume[@]}" "$@"
  echo $((SECONDS - began)) > runs/quick/$name.seconds  # wall time, start-up and card included
  touch runs/quick/$name.done
  rm -f training/in_progress/$name.pt training/in_progress/$name.csv
}
for style in "$@"; do
  train $style quick --style-image $J/$style.jpg
done
for style in "$@"; do
  train ${style}_no_temporal quick --style-image $J/$style.jpg --no-temporal
done
for style in "$@"; do  # the quick recipe's weights from scratch
  [ $scratch ] && train ${style}_scratch video --style-image $J/$style.jpg \
    --style-weight 2 --grid-weight 2 --temporal-weight 2000
done
scored() {  # JSON: made after every finished run of its style
  local done; for done in runs/quick/$2{,_no_temporal,_scratch}.done; do
    [ -f $done ] && ! [ $1 -nt $done ] && return 1
  done; [ -f $1 ]
}
for style in "$@"; do
  engines=(); for name in $style ${style}_no_temporal ${style}_scratch; do
    [ -f runs/quick/$name.done ] && engines+=(--engine runs/quick/$name.pt)
  done
  scored $R/sintel-$style.json $style ||
    vst-eval "${SINTEL[@]}" "${engines[@]}" --backend onnxruntime --json $R/sintel-$style.json
  scored $R/held-out-$style.json $style ||
    vst-eval "${HELD_OUT[@]}" "${engines[@]}" --backend onnxruntime --json $R/held-out-$style.json
done
for style in "$@"; do  # the shipped model it started from | the quick model, at 270 lines
  gallery=benchmarks/results/gallery/quick-$style.jpg
  [ $gallery -nt runs/quick/$style.pt ] ||
    python -m vst.release.gallery $gallery --before composition_vii --after runs/quick/$style.pt --heights 270
done
