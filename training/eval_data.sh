# The data every shipped model is scored on, none of it in any training set (sourced by
# release.sh): MPI Sintel with ground-truth flow, and held-out real clips (DIS flow, 270
# lines, the first 16 frames).
S=../shared/data
T=$S/flow/sintel/training
V=$S/videos
SINTEL=("$T/final/alley_1" "$T/final/cave_2" "$T/clean/alley_1" "$T/clean/cave_2" --gt-flow)
HELD_OUT=("$S/frames/raft_demo_frames_sintel" "$V/co-tracker/paragliding-launch.mp4"
          "$V/decord/flipping_a_pancake.mkv" --height 270 --max-frames 16)
