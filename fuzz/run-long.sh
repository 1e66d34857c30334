#!/usr/bin/env bash
# The long fuzz runs behind the numbers in README.md: each target for RUNS executions (default
# 10 million), one after the other, at the lowest priority. Needs `cargo +nightly fuzz build -s none`
# first (optimised, with debug assertions and overflow checks). Logs go to fuzz/logs/<target>.log, crashes to fuzz/artifacts/<target>/.
#   fuzz/run-long.sh [target ...]
set -uo pipefail
cd "$(dirname "$0")"
RUNS=${RUNS:-10000000}
B=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in "${@:-urlstate npy tensor_from_npy cli_args gguf}"; do
  for tt in $t; do
    mkdir -p "corpus-work/$tt" "artifacts/$tt"
    t0=$SECONDS
    nice -n 19 "$B/$tt" "corpus-work/$tt" "corpus/$tt" -runs="$RUNS" -max_len="$([ "$tt" = gguf ] && echo 65536 || echo 8192)" \
      -artifact_prefix="artifacts/$tt/" -print_final_stats=1 > "logs/$tt.log" 2>&1
    rc=$?
    echo "$tt rc=$rc $((SECONDS - t0))s $(grep -E 'number_of_executed_units' "logs/$tt.log")" | tee -a logs/summary.txt
  done
done
