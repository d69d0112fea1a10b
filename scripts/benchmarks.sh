#!/usr/bin/env bash
# Every benchmark of the project on this machine's default device (cuda when present), each writing
# results/bench_<suite>_<device>.json. Pass --device cpu to force the CPU.
#   bash scripts/benchmarks.sh [--device cpu|cuda]
set -euo pipefail
for suite in nlsq flows lstm_steps training positions sampling; do
  lf_bench --suite "$suite" "$@"
done
