#!/usr/bin/env bash
# Train a shipped style (or one stage) from scratch, stage by stage, as train/recipes.py has
# them: `bash training/reproduce.sh gothic` trains gothic then gothic_g2l2000 into runs/ (each
# stage from the one before). Resumable: a stage continues from runs/STAGE.pt and leaves
# runs/STAGE.done when finished. Needs `pip install torch==2.13.0 -e '.[train]'` and ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash training/reproduce.sh STYLE_OR_STAGE..." >&2; exit 2; }
stages=$(python -m vst.train.recipes "$@")
mkdir -p runs
for stage in $stages; do
  [ -f runs/$stage.done ] && continue
  resume=(); [ -f runs/$stage.pt ] && resume=(--resume)
  vst-train --recipe "$stage" --out runs/$stage.pt "${resume[@]}"
  touch runs/$stage.done
done
