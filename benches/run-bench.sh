#!/usr/bin/env bash
# `make bench`: the WASM matmul harness (read-only at $1, default /work/shared/bench/peers) is
# copied to target/bench-peers, its npm dependencies are installed there once (without the
# optional onnxruntime-node native reference), and it runs with quantlab as an extra peer.
# Writes benches/results/<UTC date-time>.{jsonl,log,md}; further arguments go to run.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-/work/shared/bench/peers}
shift || true
dst=target/bench-peers
wasm=target/bench-peer/kernels_wasm.wasm
[ -f "$wasm" ] || { echo "missing $wasm: run 'make bench-peer' first" >&2; exit 1; }
if ! cmp -s "$src/run.mjs" "$dst/run.mjs" || ! cmp -s "$src/package-lock.json" "$dst/package-lock.json"; then
  rm -rf "$dst"
  mkdir -p "$dst"
  (cd "$src" && tar --exclude=node_modules -cf - .) | (cd "$dst" && tar -xf -)
  chmod -R u+w "$dst"
fi
[ -d "$dst/node_modules" ] || (cd "$dst" && npm ci --omit=optional --no-audit --no-fund)

stamp=$(date -u +%Y-%m-%dT%H%MZ)
out=benches/results/$stamp
mkdir -p benches/results
export QUANTLAB_HARNESS_DIR=$dst QUANTLAB_KERNELS_WASM=$wasm
node --experimental-wasm-relaxed-simd "$dst/run.mjs" --extra-peer benches/quantlab-peer.mjs \
  --peers ort-web,tfjs-wasm,litert-wasm \
  --ops matmul_f32,matmulinteger_u8s8,matmulinteger_s8s8,qlinear_dynamic,qs8_fc_qdq \
  --out "$out.jsonl" "$@" 2> >(tee "$out.log" >&2)

benches/report.sh "$out" "$src" "$*"
echo "wrote $out.jsonl, $out.log and $out.md"
