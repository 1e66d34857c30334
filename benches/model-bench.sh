#!/usr/bin/env bash
# `make bench-model`: what benches/model-bench.mjs needs, installed under target/ once, then the run.
#   target/bench-model/node_modules   onnxruntime-web 1.30.0 (npm ci from benches/model/package-lock.json)
#   target/bench-venv                 numpy, safetensors, onnx==1.23.2, onnxruntime==1.31.1 (pip)
#   target/minilm-onnx/*.onnx         shared/bench/minilm-onnx/make_onnx.py on .tools/minilm
set -euo pipefail
cd "$(dirname "$0")/.."
onnx_src=${MINILM_ONNX_DIR:-../shared/bench/minilm-onnx}
if ! cmp -s benches/model/package-lock.json target/bench-model/package-lock.json; then
  rm -rf target/bench-model && mkdir -p target/bench-model
  cp benches/model/package.json benches/model/package-lock.json target/bench-model/
fi
[ -d target/bench-model/node_modules/onnxruntime-web ] ||
  (cd target/bench-model && npm ci --no-audit --no-fund --ignore-scripts)
if [ ! -x target/bench-venv/bin/python ]; then
  python3 -m venv target/bench-venv
  target/bench-venv/bin/pip install --quiet numpy safetensors onnx==1.23.2 onnxruntime==1.31.1
fi
if [ ! -f target/minilm-onnx/model_quantized.onnx ]; then
  mkdir -p target/minilm-onnx
  target/bench-venv/bin/python "$onnx_src/make_onnx.py" .tools/minilm target/minilm-onnx
fi
node benches/model-bench.mjs "$@"
