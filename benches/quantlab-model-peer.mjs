// quantlab's whole all-MiniLM-L6-v2 forward as a peer for scripts that time it beside
// onnxruntime-web in the same Node process (the bench contract of the whole-model issue):
//
//   const peer = (await import('./benches/quantlab-model-peer.mjs')).default;
//   await peer.init();                              // loads the model the README's set-up installed
//   const e = peer.forward(Int32Array.of(101, 7592, 2088, 102), 'w8a8');   // Float32Array(384)
//
// forward(ids, mode): `ids` are token ids with [CLS] and [SEP]; `mode` is 'fp32' (the float
// model) or 'w8a8' (all 36 linears on the int8 GEMM, per-output-channel weights, per-token
// dynamic activations); also 'ort-int8', onnxruntime's quantize_dynamic recipe (per-tensor
// weights, uint8 activations and embeddings) on our kernels, and 'w4a8' (4-bit weights per
// output channel, per-token activations). It returns the L2-normalised
// sentence embedding, synchronously.
//
// The module is crates/weights/examples/model_wasm.rs: the engine, the model-file reader and
// the SIMD128 kernels with the app's release profile (`make bench-model-peer`; init() runs it
// when the file is missing). Environment:
//   QUANTLAB_MODEL_WASM  the module (default target/bench-peer/model_wasm.wasm)
//   QUANTLAB_MODEL_FILE  the model file (default .tools/models/minilm-l6-v2.q8f16.safetensors, the
//                        file the site serves; .tools/minilm/model.safetensors is the fp32 original)
import { readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const wasmPath = resolve(process.env.QUANTLAB_MODEL_WASM ?? join(root, 'target/bench-peer/model_wasm.wasm'));
const modelPath = resolve(process.env.QUANTLAB_MODEL_FILE ?? join(root, '.tools/models/minilm-l6-v2.q8f16.safetensors'));
const MODES = { fp32: 0, w8a8: 1, 'ort-int8': 2, w4a8: 3 };

let ex = null;
let model = 0;
let idsPtr = 0;
let idsCap = 0;
let outPtr = 0;

const u8 = () => new Uint8Array(ex.memory.buffer);
const str = (ptr, len) => new TextDecoder().decode(u8().slice(ptr, ptr + len));
const lastError = () => str(ex.qm_error_ptr(), ex.qm_error_len());

function forward(ids, mode) {
  const m = MODES[mode];
  if (m === undefined) throw new Error(`mode must be 'fp32', 'w8a8', 'ort-int8' or 'w4a8', got ${mode}`);
  const n = ids.length;
  if (n > idsCap) {
    if (idsPtr) ex.qm_free(idsPtr, idsCap * 4);
    idsCap = Math.max(n, 512);
    idsPtr = ex.qm_alloc(idsCap * 4);
  }
  new Int32Array(ex.memory.buffer, idsPtr, n).set(ids);
  if (ex.qm_forward(model, idsPtr, n, m, outPtr) !== 0) throw new Error(`quantlab forward: ${lastError()}`);
  return new Float32Array(ex.memory.buffer.slice(outPtr, outPtr + 384 * 4));
}

export default {
  name: 'quantlab',
  async init() {
    if (!existsSync(wasmPath)) execFileSync('make', ['-C', root, 'bench-model-peer'], { stdio: 'inherit' });
    if (!existsSync(modelPath)) throw new Error(`${modelPath} is missing: run \`make setup\` (the README's set-up)`);
    const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
    ex = instance.exports;
    const bytes = readFileSync(modelPath);
    const p = ex.qm_alloc(bytes.length);
    if (p === 0) throw new Error('qm_alloc failed for the model file');
    u8().set(bytes, p);
    const t0 = performance.now();
    model = ex.qm_load(p, bytes.length);
    const loadMs = performance.now() - t0;
    ex.qm_free(p, bytes.length);
    if (model === 0) throw new Error(`quantlab load: ${lastError()}`);
    outPtr = ex.qm_alloc(384 * 4);
    // Untimed warm-up so V8 has tiered the hot functions up to optimized code (TurboFan).
    const warm = Int32Array.from({ length: 24 }, (_, i) => (i === 0 ? 101 : i === 23 ? 102 : 2000 + i));
    for (let i = 0; i < 6; i++) for (const mode of Object.keys(MODES)) forward(warm, mode);
    return {
      kernel: str(ex.qm_kernel_name_ptr(), ex.qm_kernel_name_len()),
      model: modelPath,
      loadMs: +loadMs.toFixed(1),
      wasmMemoryBytes: ex.memory.buffer.byteLength,
    };
  },
  forward,
  /** The module's linear memory now (wasm memory never shrinks: this is its peak so far). */
  memoryBytes: () => ex.memory.buffer.byteLength,
};
