// The whole all-MiniLM-L6-v2 forward on both kernel paths, in one Node process, interleaved:
// target/bench-peer/model_wasm.wasm (SIMD128) and model_wasm_relaxed.wasm (relaxed SIMD), both
// from `make bench-model-peer`, each loading the shipped model file.
//
//   make bench-model-paths               # Node 22 (relaxed SIMD on by default and exact)
//   node benches/model-paths.mjs [--rounds 21] [--lengths 16,64,128]
//
// Modes: fp32 (same float code in both builds), w8a8 and w4a8 (per-output-channel weights,
// per-token dynamic activations, all 36 linears on the int8 kernels). The relaxed build packs
// W4 weights for the 8-bit dot product and 8-bit ones for whichever kernel it is told
// (QUANTLAB_RELAXED_W8=quads|pairs, default pairs: what the app's start-up timing picks on an
// AVX2 machine); both builds' outputs are compared, and must be equal bit for bit.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const rounds = Number(arg('rounds', 21));
const lengths = arg('lengths', '16,64,128').split(',').map(Number);
const modelFile = readFileSync(join(root, '.tools/models/minilm-l6-v2.q8f16.safetensors'));
const MODES = { fp32: 0, w8a8: 1, w4a8: 3 };

async function load(file) {
  const { instance } = await WebAssembly.instantiate(readFileSync(join(root, file)), {});
  const ex = instance.exports;
  const u8 = () => new Uint8Array(ex.memory.buffer);
  const err = () => new TextDecoder().decode(u8().slice(ex.qm_error_ptr(), ex.qm_error_ptr() + ex.qm_error_len()));
  const kernel = new TextDecoder().decode(u8().slice(ex.qm_kernel_name_ptr(), ex.qm_kernel_name_ptr() + ex.qm_kernel_name_len()));
  const w8 = process.env.QUANTLAB_RELAXED_W8 ?? 'pairs';
  ex.qm_set_prefer_relaxed_w8(w8 === 'quads' ? 1 : 0);
  const buf = ex.qm_alloc(modelFile.length);
  u8().set(modelFile, buf);
  const t0 = performance.now();
  const model = ex.qm_load(buf, modelFile.length);
  if (!model) throw new Error(`${file}: ${err()}`);
  const loadMs = performance.now() - t0;
  ex.qm_free(buf, modelFile.length);
  const ids = ex.qm_alloc(512 * 4);
  const out = ex.qm_alloc(384 * 4);
  return {
    file,
    kernel: kernel.includes('relaxed') ? `${kernel}, 8-bit weights as ${w8}` : kernel,
    loadMs,
    forward(tokens, mode) {
      new Int32Array(ex.memory.buffer, ids, tokens.length).set(tokens);
      if (ex.qm_forward(model, ids, tokens.length, MODES[mode], out) !== 0) throw new Error(`${file} ${mode}: ${err()}`);
      return new Float32Array(ex.memory.buffer.slice(out, out + 384 * 4));
    },
  };
}

const builds = [await load('target/bench-peer/model_wasm.wasm'), await load('target/bench-peer/model_wasm_relaxed.wasm')];
let seed = 1;
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
const sentence = (n) => Int32Array.from({ length: n }, (_, i) => (i === 0 ? 101 : i === n - 1 ? 102 : 1000 + (rnd() % 28000)));

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const rows = [];
for (const n of lengths) {
  const ids = sentence(n);
  for (const mode of Object.keys(MODES)) {
    // Same output from both builds (the same integers; the float parts are the same code).
    const [a, b] = builds.map((bd) => bd.forward(ids, mode));
    const same = a.every((v, i) => Object.is(v, b[i]));
    for (const bd of builds) for (let w = 0; w < 3; w++) bd.forward(ids, mode); // warm-up
    const times = builds.map(() => []);
    for (let r = 0; r < rounds; r++) {
      builds.forEach((bd, i) => {
        const t = performance.now();
        bd.forward(ids, mode);
        times[i].push(performance.now() - t);
      });
    }
    const [s, x] = times.map(median);
    rows.push({ n, mode, simd128: s, relaxed: x, same });
  }
}

console.log(`# whole model on both paths · ${new Date().toISOString()} · Node ${process.version} · ${os.cpus()[0]?.model} · load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} · ${rounds} rounds, interleaved, medians`);
console.log(`# ${builds.map((b) => `${b.file.split('/').pop()}: ${b.kernel}, load ${b.loadMs.toFixed(0)} ms`).join('; ')}`);
console.log('| tokens | mode | SIMD128 build | relaxed-SIMD build | SIMD128 ÷ relaxed | same output |');
console.log('|---:|---|---:|---:|---:|---|');
for (const r of rows) {
  console.log(`| ${r.n} | ${r.mode} | ${r.simd128.toFixed(2)} ms | ${r.relaxed.toFixed(2)} ms | ${(r.simd128 / r.relaxed).toFixed(2)}× | ${r.same ? 'yes' : '**no**'} |`);
}
if (rows.some((r) => !r.same)) process.exitCode = 1;
