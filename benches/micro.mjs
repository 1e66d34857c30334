// Micro-benchmark of the kernels alone (no peers), for tuning, not for the record.
//   node benches/micro.mjs [--wasm FILE]... [--ops i8,q,f32,i8w4,q4] [--shapes MxKxN,...] [--runs N] [--relaxed-w8]
// i8w4 / q4: weights within ±7 (W4 codes), which the relaxed build packs in its offset layout.
// --relaxed-w8: 8-bit weights packed for relaxed SIMD too (where the build has it).
// With several --wasm files (e.g. two builds to compare) the runs of all builds are interleaved
// round-robin, like the harness does with peers, so background load hits them alike.
// Prints best and median GOPS (2·M·N·K / time) per build, op and shape.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = { wasm: [], ops: ['i8', 'q', 'f32'], shapes: null, runs: 20, relaxedW8: false };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--wasm') opt.wasm.push(args[++i]);
  else if (a === '--ops') opt.ops = args[++i].split(',');
  else if (a === '--shapes') opt.shapes = args[++i].split(',').map((s) => s.split('x').map(Number));
  else if (a === '--runs') opt.runs = Number(args[++i]);
  else if (a === '--relaxed-w8') opt.relaxedW8 = true;
  else throw new Error(`unknown option ${a}`);
}
if (!opt.wasm.length) opt.wasm.push('target/bench-peer/kernels_wasm.wasm');
const shapes = opt.shapes ?? [[128, 384, 1536], [256, 768, 768], [512, 1024, 1024], [1, 4096, 4096]];

let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function load(file) {
  const ex = (await WebAssembly.instantiate(readFileSync(file), {})).instance.exports;
  const put = (arr) => {
    const p = ex.ql_alloc(arr.byteLength);
    new Uint8Array(ex.memory.buffer).set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), p);
    return p;
  };
  return { file, ex, put };
}
const builds = await Promise.all(opt.wasm.map(load));
for (const b of builds) if (opt.relaxedW8 && b.ex.ql_set_prefer_relaxed_w8) b.ex.ql_set_prefer_relaxed_w8(1);

function prepare({ ex, put }, op, M, K, N, A, B) {
  const aPtr = put(A);
  const yPtr = ex.ql_alloc(M * N * 4);
  const bPtr = put(B);
  if (op === 'f32') {
    const h = ex.ql_f32_new(bPtr, K, N);
    return { run: () => ex.ql_f32_gemm(h, aPtr, M, K, yPtr), drop: () => ex.ql_f32_drop(h) };
  }
  if (op === 'i8' || op === 'i8w4') {
    const h = ex.ql_i8_new(bPtr, K, N);
    return { run: () => ex.ql_i8_gemm(h, aPtr, M, K, yPtr), drop: () => ex.ql_i8_drop(h) };
  }
  const h = ex.ql_qlinear_from_codes(bPtr, K, N, put(new Float32Array(N).fill(0.01)), 0, op === 'q4' ? 4 : 8);
  return { run: () => ex.ql_qlinear_forward(h, aPtr, M, 0, 8, yPtr), drop: () => ex.ql_qlinear_drop(h) };
}

for (const [M, K, N] of shapes) {
  for (const op of opt.ops) {
    const i8a = op === 'i8' || op === 'i8w4';
    const A = i8a ? Int8Array.from({ length: M * K }, () => (rnd() * 255 | 0) - 127) : Float32Array.from({ length: M * K }, () => rnd() * 2 - 1);
    const wmax = op === 'i8w4' || op === 'q4' ? 7 : 127;
    const B = op === 'f32' ? Float32Array.from({ length: K * N }, () => rnd() * 2 - 1) : Int8Array.from({ length: K * N }, () => Math.round((rnd() * 2 - 1) * wmax));
    const cases = builds.map((b) => ({ b, ...prepare(b, op, M, K, N, A, B), ts: [] }));
    for (const c of cases) for (let w = 0; w < 5; w++) c.run();
    for (let r = 0; r < opt.runs; r++) {
      for (const c of cases) {
        const t = performance.now();
        const rc = c.run();
        c.ts.push(performance.now() - t);
        if (rc !== 0) throw new Error(`${op} failed in ${c.b.file}`);
      }
    }
    const g = (t) => (2 * M * N * K / t / 1e6).toFixed(1);
    for (const c of cases) {
      c.drop();
      const name = builds.length > 1 ? `${c.b.file.split('/').pop().padEnd(16)} ` : '';
      console.log(`${name}${op.padEnd(4)} ${`${M}x${K}x${N}`.padEnd(15)} best ${g(Math.min(...c.ts)).padStart(6)}  median ${g(median(c.ts)).padStart(6)} GOPS`);
    }
  }
}
