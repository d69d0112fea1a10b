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
# the serial directions: reference path (every pass in full) against today's, same seed, on CUDA
step 90 python - "$OUT" <<'PY'
import json, sys, time, torch
from latent_flows.flows import build_prior, eager_serial
from latent_flows.core import hardware_info, git_commit
rows = []
for name in ('AF/AF', 'AF/SCF'):
    torch.manual_seed(0); prior = build_prior(name, zsize=50, max_len=64).cuda().eval()
    with torch.no_grad():
        for p in prior.parameters(): p.add_(0.02 * torch.randn_like(p))
    def run():
        torch.manual_seed(1); torch.cuda.synchronize(); t = time.perf_counter()
        with torch.no_grad(): z = prior.sample([32])[0]
        torch.cuda.synchronize(); return z, time.perf_counter() - t
    run()
    with eager_serial(): ref, t_ref = run()
    fast, t_fast = run()
    rows.append(dict(prior=name, T=32, batch=1, eager_s=t_ref, fast_s=t_fast, speedup=t_ref / t_fast, max_abs_diff=(ref - fast).abs().max().item()))
    print(rows[-1])
json.dump(dict(suite='serial_check', device='cuda', hardware=hardware_info(), git_commit=git_commit(), rows=rows),
          open(f'{sys.argv[1]}/bench_serial_check_cuda.json', 'w'), indent=1)
PY
step 150 lf_bench --suite sampling --device cuda --lengths 32,128,512 --batches 1,64 --time_limit 20 --out_dir "$OUT"
step 90 lf_bench --suite training --device cuda --out_dir "$OUT"
step 100 lf_bench --suite projection --dataset ptb --device cuda --out_dir "$OUT"
step 100 lf_bench --suite projection --dataset musedata --device cuda --out_dir "$OUT"
ls -l "$OUT"
