#!/usr/bin/env bash
# Train one model on one data set (resumable), evaluate it on the test set and write samples: the step every
# run script shares.
#
#   bash scripts/run_model.sh DATASET MODEL RUN_DIR RESULTS_DIR [lf_train options] [-- lf_evaluate options]
#
# With no lf_train options this is the paper's full schedule (lf_train's preset for the pair), evaluated with the
# paper's K, e.g.  bash scripts/run_model.sh jsb AF/AF runs/paper/jsb/AF-AF results/music/experiments/paper
# Rerun the same command to continue a stopped or killed run (on another device too; --auto_resume); a finished run is only
# re-evaluated. Results go to RESULTS_DIR/<DATASET>_<MODEL>_test.json, samples to RESULTS_DIR/samples/ (none with
# LF_SAMPLES=0: a machine without music21 cannot write MIDI).
set -euo pipefail
ds=${1:?dataset}; model=${2:?model}; run=${3:?run folder}; res=${4:?results folder}; shift 4
train_opts=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do train_opts+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
name=${model//\//-}
lf_train --dataset "$ds" --model "$model" --out "$run" --quiet --auto_resume "${train_opts[@]}"
lf_evaluate "$run" --split test --out "$res/${ds}_${name}_test.json" "$@"
[ "${LF_SAMPLES:-1}" = 0 ] && exit 0
if [ "$ds" = ptb ]; then
  mkdir -p "$res/samples" && lf_sample "$run" --batch 5 --out "$res/samples/${name}.txt"
else
  lf_sample "$run" --batch 2 --length 64 --out "$res/samples/${ds}_${name}"
fi
