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
# For the paper's full schedule, use scripts/run_model.sh with no lf_train options.
# PARALLEL=1 trains the five models at the same time (on a GPU machine with cores to spare: same wall time,
# same hardware, shared by all five), each writing its log to <run>.log. MODELS="lstm AF/AF" trains only those.
# RESULTS=folder writes the results and samples there instead of results/<music|ptb> (e.g. results/music/experiments/gpu
# for runs on a GPU machine).
set -euo pipefail
ds=${1:?dataset}; minutes=${2:?minutes}; K=${3:-30}; warm=${4:-1}; anneal=${5:-2}
shift $(( $# < 5 ? $# : 5 )); [ "${1:-}" = "--" ] && shift
group=music; [ "$ds" = ptb ] && group=ptb
res=${RESULTS:-results/$group}
one_model() {
  local model=$1; shift
  bash "$(dirname "$0")/run_model.sh" "$ds" "$model" "runs/equal-${minutes}min/$ds/${model//\//-}" "$res" \
       --minutes "$minutes" --set "kl_warmup_epochs=$warm,kl_anneal_epochs=$anneal" -- --K "$K" "$@"
}
for model in ${MODELS:-lstm AF/SCF independent AF/AF IAF/SCF}; do
  if [ "${PARALLEL:-0}" = 1 ]; then
    mkdir -p "runs/equal-${minutes}min/$ds"
    one_model "$model" "$@" > "runs/equal-${minutes}min/$ds/${model//\//-}.log" 2>&1 &
  else one_model "$model" "$@"; fi
done
wait
