#!/usr/bin/env bash
# The long runs of the shipped styles (issue 14), with the recipe the pilots chose (README,
# "Choosing the recipe"): 256x144, the held-out clips excluded, photos as pairs at 4x motion,
# lambda 300, resize upsampling; the four styles after the candy pair also --style-size 512 (the
# style512 pilot: much more style on unseen frames at about the same flicker; candy and its
# twin had started before it was measured and get it in their fine-tuned second stage). Resumable
# across sessions: each run continues from training/NAME.pt (commit it before a session ends)
# and leaves NAME.done when finished.
# Arguments name the runs (default: all, in the order below).
set -u
cd "$(dirname "$0")/.."
. .venv/bin/activate
S=../shared/data
J=$S/styles/jcjohnson_fast-neural-style
COMMON=(--size 256x144 --max-pairs-per-video 200 --checkpoint-every 100
        --data $S/videos --data $S/photos --photo-motion 4 --upsample resize
        --exclude '*paragliding-launch*' --exclude '*flipping_a_pancake*' --exclude '*03_blocks*' --exclude '*/bikes.mp4')
ONLY=("$@")
run() { name=$1; image=$2; iters=$3; shift 3; [ -f training/$name.done ] && return
  [ ${#ONLY[@]} -gt 0 ] && [[ " ${ONLY[*]} " != *" $name "* ]] && return
  resume=(); [ -f training/$name.pt ] && resume=(--resume)
  vst-train "${COMMON[@]}" --style "$image" --iters "$iters" --out training/$name.pt "$@" "${resume[@]}" \
    >> training/$name.out 2>&1 && touch training/$name.done; }
run candy $J/candy.jpg 10000 --temporal-weight 300
run candy_no_temporal $J/candy.jpg 10000 --no-temporal
# The candy pair's second stage (the lam1000 pilot: at lambda 300 the pair missed the flicker
# target on the fast scenes, and the 512-px style image gives bolder strokes): each fine-tuned
# from its own first stage with --style-size 512, candy at lambda 1000; still identical but
# lambda. These ship as candy and candy_no_temporal (release.sh).
run candy_ft $J/candy.jpg 3000 --temporal-weight 1000 --style-size 512 --init training/candy.pt
run candy_no_temporal_ft $J/candy.jpg 3000 --no-temporal --style-size 512 --init training/candy_no_temporal.pt
# The same second stage at the first stage's lambda 300 (candy_ft300), to measure whether it
# balances flicker and style better than candy_ft: it gained little style (1.26-1.41x the twin's
# against 1.40-1.50x) and missed flicker on final/cave_2, so candy_ft ships (README, Long runs).
run candy_ft300 $J/candy.jpg 3000 --temporal-weight 300 --style-size 512 --init training/candy.pt
run mosaic $J/mosaic.jpg 6000 --temporal-weight 300 --style-size 512
run starry_night $J/starry_night.jpg 6000 --temporal-weight 300 --style-size 512
run composition_vii $J/composition_vii.jpg 6000 --temporal-weight 300 --style-size 512
run gothic $S/styles/lambdal_TF2-Fast-Neural-Style/gothic.jpg 6000 --temporal-weight 300 --style-size 512
# starry_night at 6,000 kept the frame's colours (less style than the 300-iteration model it
# would replace): fine-tuned from it at 4x the style weight (shipped until starry_night_grid).
run starry_night_ft $J/starry_night.jpg 2000 --temporal-weight 300 --style-size 512 --style-weight 2 --init training/starry_night.pt
# starry_night_ft left a faint grid (0.56-0.80 levels, over the 0.5 bar) and only 0.92x the old
# model's flicker: a third stage from it at lambda 1000 (as candy_ft) and 3x the TV weight, which
# penalises exactly the pixel-to-pixel steps the stride-2 grid is made of.
run starry_night_ft2 $J/starry_night.jpg 1500 --temporal-weight 1000 --style-size 512 --style-weight 2 --tv-weight 0.15 --init training/starry_night_ft.pt
# composition_vii (1.52x) and mosaic (0.92x) had less style than the 300-iteration models on the
# held-out clips: those sit at a more-style, less-content point (content distance about 2x the
# long runs'). The same 4x-style-weight stage as starry_night_ft moves them there.
run composition_vii_ft $J/composition_vii.jpg 1500 --temporal-weight 300 --style-size 512 --style-weight 2 --init training/composition_vii.pt
run mosaic_ft $J/mosaic.jpg 1500 --temporal-weight 300 --style-size 512 --style-weight 2 --init training/mosaic.pt
# The candy pair missed the held-out style target too (1.24x): the same stage for both, still
# identical but lambda.
run candy_ft2 $J/candy.jpg 1500 --temporal-weight 1000 --style-size 512 --style-weight 2 --init training/candy_ft.pt
run candy_no_temporal_ft2 $J/candy.jpg 1500 --no-temporal --style-size 512 --style-weight 2 --init training/candy_no_temporal_ft.pt
# starry_night's grid survived lambda 1000 and 3x TV (starry_night_ft2): it is locked to the
# output's 4-px phase, which the nearest resize's 2x2 copies can carry. The same weights with
# bilinear upsampling, fine-tuned as starry_night_ft was.
run starry_night_bilinear $J/starry_night.jpg 1500 --temporal-weight 300 --style-size 512 --style-weight 2 --upsample bilinear --init training/starry_night_ft.pt
# mosaic_ft overshot at 4x (paler, Sintel style 1.05x the old model's while held out 0.33x):
# the same stage at 2x the style weight.
run mosaic_ft1 $J/mosaic.jpg 1500 --temporal-weight 300 --style-size 512 --style-weight 1 --init training/mosaic.pt
# starry_night's grid survived bilinear upsampling too (starry_night_bilinear: 0.67-0.70), and
# its Sintel style sat at 0.76x the old model's: a stage from starry_night_ft with the grid
# term (vst.train.losses.grid_loss, which penalises exactly a pattern fixed to the output's
# 4-pixel phase) and 5x the default style weight.
run starry_night_grid $J/starry_night.jpg 1500 --temporal-weight 300 --style-size 512 --style-weight 2.5 --grid-weight 2 --init training/starry_night_ft.pt
# The candy pair at 4x the style weight (candy_ft2 / candy_no_temporal_ft2) met the style-gain
# bar, but the twin draws a dot lattice locked to the 4-pixel phase (grid 0.7-1.2) and candy
# missed flicker on three clips (0.64-0.69): a grid stage for both, candy at lambda 2000. Still
# identical but lambda.
run candy_no_temporal_grid $J/candy.jpg 1500 --no-temporal --style-size 512 --style-weight 2 --grid-weight 2 --init training/candy_no_temporal_ft2.pt
run candy_grid $J/candy.jpg 1500 --temporal-weight 2000 --style-size 512 --style-weight 2 --grid-weight 2 --init training/candy_ft2.pt
# The grid stage removed the twin's dots (grid 0.15-0.26) and kept its style, but candy at
# lambda 2000 still flickered 0.62x the twin on final/cave_2 and paragliding-launch, its
# temporal term flat from iteration 300 on: the same stage at lambda 4000 (its twin is
# candy_no_temporal_grid). candy_grid's checkpoint is not kept; its scores are in
# benchmarks/results/release/after/.
run candy_grid4000 $J/candy.jpg 1500 --temporal-weight 4000 --style-size 512 --style-weight 2 --grid-weight 2 --init training/candy_ft2.pt
# candy_grid4000 met flicker on all 7 clips but not its held-out style gain (1.00x the
# 300-iteration model's; lambda 1000 had 0.74x at 0.69 flicker) nor 1.1x the twin's style
# (1.49x / 2.23x). Pilots of 750 iterations (these stages converge in ~250): the pair at twice
# the style weight, still identical but lambda.
B4=($J/candy.jpg 750 --style-size 512 --style-weight 4 --grid-weight 2)  # the beta-4 stage; its runs differ in lambda and --init
run candy_b4 "${B4[@]}" --temporal-weight 4000 --init training/candy_grid4000.pt
run candy_no_temporal_b4 "${B4[@]}" --no-temporal --init training/candy_no_temporal_grid.pt
# The b4 pair met the held-out style gain (0.71x) and 1.05x the twin's style on Sintel, but
# candy_b4 flickered 0.6006x its twin on final/cave_2: the same stage at lambda 4500 and 5000
# (5000 ships; the checkpoints of candy_b4 and candy_b4l4500 were not kept, their scores are in
# benchmarks/results/release/after/).
run candy_b4l4500 "${B4[@]}" --temporal-weight 4500 --init training/candy_grid4000.pt
run candy_b4l5000 "${B4[@]}" --temporal-weight 5000 --init training/candy_grid4000.pt
# The shipped pair (candy_b4l5000 / candy_no_temporal_b4) misses only the held-out style ratio
# (2.20x). Per VGG layer, the gap is mostly relu2_2 and relu3_2 (stroke-scale texture) at 270
# lines, where the style image is scored at 479-634 px, about the 512 px both were trained at; on
# Sintel (scored at 1024 px) neither model draws those strokes and candy is 1.08x. Pilot: the
# same stage with the style image at 1024 px (larger strokes) for both (the later --style-size wins).
run candy_s1024 "${B4[@]}" --temporal-weight 5000 --init training/candy_b4l5000.pt --style-size 1024
run candy_no_temporal_s1024 "${B4[@]}" --no-temporal --init training/candy_no_temporal_b4.pt --style-size 1024
# Measured, not shipped (README, Long runs): on Sintel, scored at 1024 px, the twin now nails the
# style (0.29) and candy does not (0.80, 2.8x); both lose it held out (gain 1.02x / 1.26x the
# 300-iteration models'): the twin reproduces the strokes at whichever scale it is trained for,
# and there candy, held still, falls 2.2-2.8x behind. Checkpoints not kept.
# The held-out style ratio is the one target left, and both it and the flicker target are ratios
# to the same twin: a lambda sweep of the shipped stage (same init, same twin
# candy_no_temporal_b4) measures the trade-off front between them, so that what the style target
# would cost in flicker is a measured number. Not shipped; checkpoints not kept.
for lambda in 2000 1000 500 200 100; do
  run candy_b4l$lambda "${B4[@]}" --temporal-weight $lambda --init training/candy_grid4000.pt
done
# Measured (README, Long runs): no lambda meets both targets; flicker <= 0.60 needs lambda >= 4500,
# where the held-out style is 2.15-2.20x the twin's; at lambda 100 it is still 1.25x, with candy
# flickering 0.70-0.81x the twin.
# Is the front a property of the path? The same stage from the twin's own weights (its texture
# as the start), at the shipped lambda and at 2000.
run candy_twin_l5000 "${B4[@]}" --temporal-weight 5000 --init training/candy_no_temporal_b4.pt
run candy_twin_l2000 "${B4[@]}" --temporal-weight 2000 --init training/candy_no_temporal_b4.pt
# Measured: the same front (lambda 2000 from the twin sits where lambda 1000 from candy's weights
# does, 1.51x; lambda 5000 at 2.00x with final/cave_2 at 0.597). Not shipped; checkpoints not kept.
# Frame size, the one pilot dimension of issue 14 not yet measured: the held-out clips are scored
# at 270 lines, and every run so far trained at 144, where the same scene moves half as many pixels
# between frames. The shipped stage for both members of the pair at 480x270 (the later --size wins).
run candy_s270 "${B4[@]}" --temporal-weight 5000 --init training/candy_grid4000.pt --size 480x270
run candy_no_temporal_s270 "${B4[@]}" --no-temporal --init training/candy_no_temporal_grid.pt --size 480x270
# Measured (README, Long runs): the same front; against its own twin candy_s270 flickers 0.601 on
# final/cave_2 and 0.64 on paragliding-launch, with the held-out style at 1.88x. Not shipped;
# checkpoints not kept.
