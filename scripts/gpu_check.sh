#!/usr/bin/env bash
# The one prepared GPU check (issue: the serial directions at hardware speed on the GPU), for the device machine:
#   bash scripts/gpu_check.sh            # results files in $OUT (the device tool's folder), else results/gpu_check
# Under 8 minutes on one H100/H200: each step has its own timeout, so a slow one cannot eat the others' time.
# Needs a Python with a CUDA build of PyTorch; the project is installed into it without dependencies.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/gpu_check}; mkdir -p "$OUT"
export LATENT_FLOWS_GIT_COMMIT=${LATENT_FLOWS_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
python -m pip install -q --no-deps -e . >/dev/null
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name(0))" || exit 1
step() { local t=$1; shift; echo "== $*"; timeout "$t" "$@" || echo "!! $* ended with status $?"; }
# the serial directions: the reference path (every MADE pass in full, one per dimension) against the library's
# fixed-point passes, same seed, on CUDA (the reference takes about 14 s at T=32 there); with RUN=<a run folder
# carried along> and LATENT_FLOWS_DATA set, on that trained model
step 120 lf_bench --suite serial --device cuda --lengths 32 --batches 1,64 ${RUN:+--run "$RUN"} --out_dir "$OUT"
step 150 lf_bench --suite sampling --device cuda --lengths 32,128,512 --batches 1,64 --time_limit 20 --out_dir "$OUT"
step 90 lf_bench --suite training --device cuda --out_dir "$OUT"
step 100 lf_bench --suite projection --dataset ptb --device cuda --out_dir "$OUT"
step 100 lf_bench --suite projection --dataset musedata --device cuda --out_dir "$OUT"
ls -l "$OUT"
