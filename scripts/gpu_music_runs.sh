#!/usr/bin/env bash
# The music runs a lent GPU can add to the table in minutes (issue: finish the music table), side by side on one GPU:
#   bash scripts/gpu_music_runs.sh MINUTES OUT_DIR          # e.g. 6 "$OUT" on the device machine
# Each run trains for MINUTES of wall time (or to its end), is evaluated on the test split with its preset's K, and
# its results file, metrics.csv and log land in OUT_DIR; nvidia-smi's readings every 10 s go to OUT_DIR/gpu.csv.
# The checkpoints stay in $LF_GPU_RUNS (default /tmp/lf_gpu_runs): a MuseData model is 100 MB, more than the device
# tool brings back. Runs (all at the paper's settings under today's defaults, seed 0):
#   MuseData AF/AF and AF/SCF with the text schedule's KL warm-up (4 epochs at 1e-5, then a 10-epoch ramp): the paper's
#     music schedule (20 + 15 epochs) would spend a few minutes wholly inside its warm-up;
#   the MuseData LSTM baseline at its preset (SGD, no KL schedule).
# IAF/SCF is left to the CPU: its density steps through time, so a GPU trains it only about 4x faster than one CPU
# thread, against about 50x for AF/AF (results/bench_training_{cpu,cuda}.json, JSB): a few GPU minutes buy it little.
# The runs share the GPU through MPS where the machine has it (their small kernels then overlap), else by time slices.
# Needs python3 with a CUDA build of PyTorch, the package's other needs (carry fastcore where it is missing) and the
# data under $LATENT_FLOWS_DATA.
set -uo pipefail
minutes=${1:?minutes of training per run}; out=${2:?folder for the results}
cd "$(dirname "$0")/.."
runs=${LF_GPU_RUNS:-/tmp/lf_gpu_runs}; mkdir -p "$out" "$runs"
export LATENT_FLOWS_GIT_COMMIT=${LATENT_FLOWS_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
export LF_SAMPLES=0 TQDM_DISABLE=1 PYTHONUNBUFFERED=1
# the package from this tree, its commands as small wrappers: nothing to install on a machine that cannot fetch
bin=$runs/bin; mkdir -p "$bin"; export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PATH=$bin:$PATH
for c in lf_train lf_evaluate lf_sample; do   # a file, not python3 -c: fastcore's call_parse reads argv only in a module
  printf '#!/usr/bin/env python3\nfrom latent_flows.cli import %s\n%s()\n' $c $c >"$bin/$c"; chmod +x "$bin/$c"
done

smoke() {   # fail in seconds, not after the budget: CUDA, the package and the data
  timeout 120 python3 -c "
import torch, latent_flows.cli
from latent_flows.data import load_dataset
assert torch.cuda.is_available(), 'no CUDA device'
x = torch.randn(256, 256, device='cuda'); torch.cuda.synchronize()
print(torch.cuda.get_device_name(0), '| musedata train:', len(load_dataset('musedata', 'train')), 'pieces')"
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

short=(--batch_size 8 --set grad_accum=1,loss_average=sequences,kl_warmup_epochs=4,kl_anneal_epochs=10)
one() {   # DATASET MODEL [lf_train options]: train, then evaluate into OUT_DIR; the log stays with the run
  local ds=$1 model=$2; shift 2; local name=${ds}_${model//\//-}
  bash scripts/run_model.sh "$ds" "$model" "$runs/$name" "$out" --minutes "$minutes" "$@" >"$runs/$name.log" 2>&1
  echo "$name: status $? after $SECONDS s"; tail -n 3 "$runs/$name.log"
}
one musedata AF/AF "${short[@]}" & p1=$!
one musedata AF/SCF "${short[@]}" & p2=$!
one musedata lstm & p3=$!
wait $p1 $p2 $p3
kill $smi 2>/dev/null; [ $mps = 1 ] && echo quit | nvidia-cuda-mps-control
# at most 8 files come back: the three results files, gpu.csv, and the logs and metrics in one archive
tar -czf "$out/logs.tar.gz" -C "$runs" $(cd "$runs" && ls *.log */metrics.csv */train_summary.json 2>/dev/null)
ls -l "$out"
