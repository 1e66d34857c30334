#!/usr/bin/env bash
# Clippy with warnings denied, and the never-panic audit: no unwrap/expect/panic!/unreachable!/todo!/unimplemented!/unchecked
# indexing in shipped code (library + binaries, native and wasm32; tests are not checked).
# Clippy denies the lints below; an exception needs `#[allow(clippy::<lint>)]` on the smallest
# item with a comment saying why the invariant holds (e.g. src/ui/mod.rs's debug panic).
# Reuses the check cache, so it takes seconds after a build. `make test` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

LINTS=(
  -D warnings
  -D clippy::unwrap_used
  -D clippy::expect_used
  -D clippy::panic
  -D clippy::unreachable
  -D clippy::todo
  -D clippy::unimplemented
  -D clippy::indexing_slicing
)

status=0
# wasm32 twice: the SIMD128 build and the relaxed-SIMD one (its kernels are compiled only there).
for target in native wasm32-unknown-unknown wasm32-relaxed; do
  # The CLI is native only; everything else is checked for both targets.
  args=(--workspace --lib --bins --quiet --message-format=short)
  [ "$target" = native ] || args+=(--target wasm32-unknown-unknown --exclude quantlab-cli)
  [ "$target" = wasm32-relaxed ] && args+=(--features quantlab-kernels/relaxed)
  echo "panic audit ($target): cargo clippy ${args[*]}"
  if ! out=$(cargo clippy "${args[@]}" -- "${LINTS[@]}" 2>&1); then
    printf '%s\n' "$out" | grep -E '^(src|crates|build\.rs)/.*(error|warning)|^error' || printf '%s\n' "$out"
    status=1
  fi
done
if [ $status -ne 0 ]; then
  echo "panic audit: code that can panic on user input (see above). Return an error instead, or"
  echo "add #[allow(clippy::<lint>)] with a comment proving the invariant."
fi
exit $status
