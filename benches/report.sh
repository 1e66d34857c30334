#!/usr/bin/env bash
# Markdown report of one harness run: benches/report.sh benches/results/<stamp> [harness] [args]
# (reads <stamp>.jsonl and <stamp>.log, writes <stamp>.md). Called by run-bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
src=${2:-/work/shared/bench/peers}
dst=target/bench-peers
cpu="$(sed -n 's/^model name\s*:\s*//p' /proc/cpuinfo | head -1) (family $(lscpu | sed -n 's/^CPU family:\s*//p'), model $(lscpu | sed -n 's/^Model:\s*//p'))"
{
  echo "# quantlab kernels vs WASM peers, run $(basename "$out")"
  echo
  echo "- CPU: $cpu, $(nproc) cores, L2 $(lscpu | sed -n 's/^L2 cache:\s*//p'), shared machine."
  echo "- $(grep -m1 '^# node' "$out.log" | sed 's/^# //') (load average at the start)."
  echo "- Load average at the end: $(grep -m1 '^# total' "$out.log" >/dev/null && grep '^# shape' "$out.log" | tail -1 | sed 's/.*loadavg //;s/)//')."
  echo "- $(grep -m1 '^# runs=' "$out.log" | sed 's/^# //'); Node 22 from npm, relaxed SIMD on by default (LiteRT.js uses its relaxed-SIMD build; quantlab-relaxed is our relaxed-SIMD build)."
  echo "- Harness: $src, copied to $dst; command: benches/run-bench.sh ${3:-}"
  echo
  echo "Correctness checks of the harness (5x64x24 against its JS reference):"
  echo
  grep '^# check' "$out.log" | sed 's/^# /    /' || true
  echo
  node "$dst/table.mjs" --ratio ort-web "$out.jsonl"
  echo
  echo "Goals (benches/goals.mjs):"
  echo
  node benches/goals.mjs "$out.jsonl" "$out.peak.jsonl"
} > "$out.md"
