#!/usr/bin/env bash
# Trunk's post_build hook (Trunk.toml): the relaxed-SIMD build of the same app, next to the
# SIMD128 build Trunk just made.
#
# WebAssembly validates a whole module before it runs, so the int8 kernels on relaxed SIMD's
# 8-bit dot product cannot sit in the default module: one relaxed opcode and the app would not
# load where relaxed SIMD is missing. This builds the app again with the `relaxed` cargo feature
# (the same target directory, so only the crates above the kernels recompile), runs the same
# wasm-bindgen and wasm-opt as Trunk, writes quantlab-web-relaxed-<hash>.{js,_bg.wasm} into the
# staging dir, and names them in the loader (Trunk.toml's pattern_script) where it says
# @@RELAXED_JS@@ / @@RELAXED_WASM@@. The page then picks one build with assets/kernels.js.
set -euo pipefail
: "${TRUNK_STAGING_DIR:?run by trunk (a post_build hook)}" "${TRUNK_PROFILE:?}" "${TRUNK_SOURCE_DIR:?}"
cd "$TRUNK_SOURCE_DIR"

target_dir=${CARGO_TARGET_DIR:-target}
profile_flag=()
[ "$TRUNK_PROFILE" = release ] && profile_flag=(--release)
cargo build --quiet --target wasm32-unknown-unknown --bin quantlab-web --features relaxed "${profile_flag[@]}"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name quantlab-web-relaxed \
  "$target_dir/wasm32-unknown-unknown/$TRUNK_PROFILE/quantlab-web.wasm"
if [ "$TRUNK_PROFILE" = release ]; then
  # What Trunk runs for the SIMD128 build (-O, features read from the module), with relaxed SIMD
  # named explicitly so an older binaryen fails loudly instead of guessing.
  wasm-opt -O --enable-relaxed-simd "$out/quantlab-web-relaxed_bg.wasm" -o "$out/opt.wasm"
  mv "$out/opt.wasm" "$out/quantlab-web-relaxed_bg.wasm"
fi

hash=$(cat "$out/quantlab-web-relaxed.js" "$out/quantlab-web-relaxed_bg.wasm" | sha256sum | cut -c1-16)
js=quantlab-web-relaxed-$hash.js
wasm=quantlab-web-relaxed-${hash}_bg.wasm
cp "$out/quantlab-web-relaxed.js" "$TRUNK_STAGING_DIR/$js"
cp "$out/quantlab-web-relaxed_bg.wasm" "$TRUNK_STAGING_DIR/$wasm"

html=$TRUNK_STAGING_DIR/index.html
grep -q '@@RELAXED_JS@@' "$html" || { echo "relaxed-build: no @@RELAXED_JS@@ in $html (Trunk.toml pattern_script)" >&2; exit 1; }
sed -i -e "s/@@RELAXED_JS@@/$js/g" -e "s/@@RELAXED_WASM@@/$wasm/g" "$html"
echo "relaxed-build: $js, $wasm ($(stat -c %s "$TRUNK_STAGING_DIR/$wasm") bytes)"
