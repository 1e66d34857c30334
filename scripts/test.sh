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
  cargo test --target wasm32-unknown-unknown -p quantlab-kernels -p quantlab-engine \
  --test kernels --test engine_basics --test qat --test rotate --test smooth
step "release build (trunk)" trunk build --release
step "end-to-end tests in headless Chromium" node tests/e2e/run.mjs
