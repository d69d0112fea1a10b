#!/usr/bin/env bash
# Train, evaluate and sample every model on one data set with ONE equal wall-clock budget per model:
# the fair comparison we can always rerun on the same machine.
#
#   bash scripts/equal_budget.sh DATASET MINUTES [K] [KL_WARMUP_EPOCHS] [KL_ANNEAL_EPOCHS] [-- lf_evaluate options]
#
# Sizes and optimiser settings are the paper's (lf_train's preset); only the budget, and with it the KL
# schedule, is shortened: the paper warms up for 4 (text) or 20 (music) epochs and then anneals over 10 / 15,
# more than a short budget reaches, so the schedule is compressed to what the budget can reach. Both are
# stored in every results file. Resumable: rerun the same command to continue killed runs (a run that used
# up its budget is only re-evaluated). Runs go to runs/equal-<MINUTES>min/<DATASET>/, results to
# results/<music|ptb>/<DATASET>_<MODEL>_test.json, samples to results/<music|ptb>/samples/.
# For the paper's full schedule, call lf_train without --minutes and --set.
set -euo pipefail
ds=${1:?dataset}; minutes=${2:?minutes}; K=${3:-30}; warm=${4:-1}; anneal=${5:-2}
shift $(( $# < 5 ? $# : 5 )); [ "${1:-}" = "--" ] && shift
group=music; [ "$ds" = ptb ] && group=ptb
for model in lstm AF/SCF independent AF/AF IAF/SCF; do
  name=${model//\//-}
  run=runs/equal-${minutes}min/$ds/$name
  lf_train --dataset "$ds" --model "$model" --out "$run" --minutes "$minutes" --quiet --resume \
           --set "kl_warmup_epochs=$warm,kl_anneal_epochs=$anneal"
  lf_evaluate "$run" --split test --K "$K" --out "results/$group/${ds}_${name}_test.json" "$@"
  if [ "$group" = ptb ]; then
    mkdir -p results/ptb/samples && lf_sample "$run" --batch 5 --out "results/ptb/samples/${name}.txt"
  else
    lf_sample "$run" --batch 2 --length 64 --out "results/music/samples/${ds}_${name}"
  fi
done
