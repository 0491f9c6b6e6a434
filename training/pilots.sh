#!/usr/bin/env bash
# Recipe pilots (README, "Choosing the recipe"): candy at 256x144, 1000 BF16 iterations each,
# the held-out clips excluded. Resumable: a finished pilot leaves NAME.done, an unfinished one
# continues from its checkpoint (flows are recomputed into the cache on a fresh machine).
# Arguments name the pilots to run (default: all, in the order below).
set -u
cd "$(dirname "$0")/.."
. .venv/bin/activate
S=../shared/data
COMMON=(--style $S/styles/jcjohnson_fast-neural-style/candy.jpg --size 256x144 --iters 1000
        --max-pairs-per-video 200 --checkpoint-every 250
        --exclude '*paragliding-launch*' --exclude '*flipping_a_pancake*' --exclude '*03_blocks*' --exclude '*/bikes.mp4')
PHOTOS=(--data $S/photos --photo-motion 4)
run() { name=$1; shift; [ -f training/pilots/$name.done ] && return
  [ ${#ONLY[@]} -gt 0 ] && [[ " ${ONLY[*]} " != *" $name "* ]] && return
  resume=(); [ -f training/pilots/$name.pt ] && resume=(--resume)
  vst-train "${COMMON[@]}" --data $S/videos --out training/pilots/$name.pt "$@" "${resume[@]}" > training/pilots/$name.out 2>&1 && touch training/pilots/$name.done; }
ONLY=("$@")
mkdir -p training/pilots
run base
run notemp --no-temporal
run photo4 "${PHOTOS[@]}"
run lam300 "${PHOTOS[@]}" --temporal-weight 300
run beta1 "${PHOTOS[@]}" --style-weight 1.0
run resize "${PHOTOS[@]}" --upsample resize
run long "${PHOTOS[@]}" --long-term
run style512 "${PHOTOS[@]}" --style-size 512
# the long runs' recipe (photo4, resize, style512) with a larger lambda, for the fast scenes
run lam1000 "${PHOTOS[@]}" --upsample resize --style-size 512 --temporal-weight 1000
