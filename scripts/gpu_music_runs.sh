#!/usr/bin/env bash
# The music runs a lent GPU can add to the table in minutes (issue: finish the music table), side by side on one GPU:
#   bash scripts/gpu_music_runs.sh MINUTES OUT_DIR          # e.g. 6 "$OUT" on the device machine
# Each run trains for MINUTES of wall time (or to its end), is evaluated on the test split with its preset's K, and its
# results file lands in OUT_DIR/SCHEDULE/ (seed N > 0: OUT_DIR/SCHEDULE/seedN/), the way results/music/headline/ is laid
# out; nvidia-smi's readings every 10 s go to OUT_DIR/gpu.csv and the logs and metrics to OUT_DIR/logs.tar.gz.
# The checkpoints stay in $LF_GPU_RUNS (default /tmp/lf_gpu_runs): a MuseData model is 100 MB, more than the device
# tool brings back (8 files of at most 16 MB: so at most 5 runs a call).
# The runs: GPU_RUNS, entries DATASET:MODEL:SCHEDULE[:SEED], SCHEDULE `paper` (the preset's KL schedule) or `short`
# (the text schedule's KL warm-up, 4 epochs at 1e-5 then a 10-epoch ramp); Piano-midi.de and MuseData flows use one
# padded batch of 8 (the same objective as the preset's 8 accumulated pieces, faster). The default, the MuseData runs
# of 2026-12-04: AF/AF and AF/SCF with the short warm-up (the music schedule would spend minutes inside its warm-up)
# and the LSTM at its preset (SGD, no KL schedule).
# IAF/SCF is left to the CPU: its density steps through time, so a GPU trains it only about 4x faster than one CPU
# thread, against about 50x for AF/AF (results/bench_training_{cpu,cuda}.json, JSB): a few GPU minutes buy it little.
# The runs share the GPU through MPS where the machine has it (their small kernels then overlap), else by time slices.
# Needs python3 with a CUDA build of PyTorch, the package's other needs (carry fastcore where it is missing) and the
# data under $LATENT_FLOWS_DATA.
set -uo pipefail
minutes=${1:?minutes of training per run}; out=${2:?folder for the results}
cd "$(dirname "$0")/.."
runs=${LF_GPU_RUNS:-/tmp/lf_gpu_runs}; mkdir -p "$out" "$runs"
run_list=${GPU_RUNS:-musedata:AF/AF:short musedata:AF/SCF:short musedata:lstm:paper}
datasets=$(for r in $run_list; do echo "${r%%:*}"; done | sort -u | tr '\n' ' ')
export LATENT_FLOWS_GIT_COMMIT=${LATENT_FLOWS_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
export LF_SAMPLES=0 TQDM_DISABLE=1 PYTHONUNBUFFERED=1
# the package from this tree, its commands as small wrappers: nothing to install on a machine that cannot fetch
bin=$runs/bin; mkdir -p "$bin"; export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PATH=$bin:$PATH
for c in lf_train lf_evaluate; do   # files, not python3 -c: fastcore's call_parse reads argv only in a module
  printf '#!/usr/bin/env python3\nfrom latent_flows.cli import %s\n%s()\n' $c $c >"$bin/$c"; chmod +x "$bin/$c"
done

smoke() {   # fail in seconds, not after the budget: CUDA, the package and the data
  timeout 120 python3 -c "
import torch, latent_flows.cli
from latent_flows.data import load_dataset
assert torch.cuda.is_available(), 'no CUDA device'
x = torch.randn(256, 256, device='cuda'); torch.cuda.synchronize()
print(torch.cuda.get_device_name(0), *(f'| {ds} train: {len(load_dataset(ds, \"train\"))} pieces' for ds in '$datasets'.split()))"
}
mps=0
if command -v nvidia-cuda-mps-control >/dev/null; then
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps CUDA_MPS_LOG_DIRECTORY=/tmp/mps-log
  mkdir -p /tmp/mps /tmp/mps-log && nvidia-cuda-mps-control -d && mps=1
fi
if ! smoke; then
  [ $mps = 1 ] || exit 1
  echo "!! the smoke test failed under MPS: again without it"; echo quit | nvidia-cuda-mps-control; mps=0
  unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY; smoke || exit 1
fi
echo "MPS: $mps"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 10 >"$out/gpu.csv" 2>/dev/null & smi=$!

options() {   # DATASET MODEL SCHEDULE SEED -> lf_train options for that run
  local sets=()
  if [ "$2" != lstm ] && { [ "$1" = piano ] || [ "$1" = musedata ]; }; then echo --batch_size 8; sets+=(grad_accum=1 loss_average=sequences); fi
  [ "$3" = short ] && sets+=(kl_warmup_epochs=4 kl_anneal_epochs=10)
  [ ${#sets[@]} -gt 0 ] && (IFS=,; echo --set "${sets[*]}")
  echo --seed "$4"
}
one() {   # DATASET:MODEL:SCHEDULE[:SEED]: train, then evaluate into OUT_DIR/SCHEDULE[/seedN]; the log stays with the run
  local ds model schedule seed; IFS=: read -r ds model schedule seed <<<"$1"; seed=${seed:-0}
  case $schedule in paper|short) ;; *) echo "$1: the schedule must be paper or short"; return 1;; esac
  local name=${ds}_${model//\//-}_${schedule}_seed${seed} res=$out/$schedule
  [ "$seed" = 0 ] || res+=/seed$seed
  bash scripts/run_model.sh "$ds" "$model" "$runs/$name" "$res" --minutes "$minutes" $(options "$ds" "$model" "$schedule" "$seed") \
    >"$runs/$name.log" 2>&1
  echo "$name: status $? after $SECONDS s"; tail -n 3 "$runs/$name.log"
}
pids=()
for r in $run_list; do one "$r" & pids+=($!); done
wait "${pids[@]}"
kill $smi 2>/dev/null; [ $mps = 1 ] && echo quit | nvidia-cuda-mps-control
# at most 8 files come back: the results files, gpu.csv, and the logs and metrics in one archive
tar -czf "$out/logs.tar.gz" -C "$runs" $(cd "$runs" && ls *.log */metrics.csv */train_summary.json 2>/dev/null)
ls -l "$out"
