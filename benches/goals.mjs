#!/usr/bin/env node
// The issues' performance goals, checked on one harness run (ratios of medians within the run;
// the ratio of the fastest runs is shown next to it because the machine is shared and noisy):
//   node benches/goals.mjs benches/results/<run>.jsonl [benches/results/<run>.peak.jsonl]
// Peers: 'quantlab' (SIMD128 build) and, where the run has it, 'quantlab-relaxed' (relaxed-SIMD
// build); "ours" is the faster of the two for each op and shape. The peak file holds the bare
// loop rates the same run measured (the harness's peak/peak-wasm.mjs).
import { existsSync, readFileSync } from 'node:fs';

const jsonl = (file) => readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const rows = jsonl(process.argv[2]);
const peaks = process.argv[3] && existsSync(process.argv[3]) ? jsonl(process.argv[3]) : [];
const find = (peer, op, shape) => rows.find((r) => r.peer === peer && r.op === op && `${r.M}x${r.K}x${r.N}` === shape && r.gops);
const med = (r) => r?.gops ?? null;
const best = (r) => (r?.min_ms ? (2 * r.M * r.N * r.K) / r.min_ms / 1e6 : null);
const litert = rows.some((r) => r.peer === 'litert-wasm-relaxed') ? 'litert-wasm-relaxed' : 'litert-wasm';
const relaxedRun = rows.some((r) => r.peer === 'quantlab-relaxed' && r.gops);
const ours = (op, s) => [find('quantlab', op, s), find('quantlab-relaxed', op, s)].filter(Boolean).sort((x, y) => y.gops - x.gops)[0];
const GEMM = ['128x384x1536', '256x768x768', '512x1024x1024'];
const GEMV = rows.find((r) => r.M === 1 && r.peer === 'quantlab') ? `1x${rows.find((r) => r.M === 1).K}x${rows.find((r) => r.M === 1).N}` : '1x4096x4096';
const goals = [];
const ratio = (name, shape, a, b, min) => goals.push({ name, shape, a, b, min });
for (const s of GEMM) {
  const q = ours('qlinear_dynamic', s), i8 = ours('matmulinteger_s8s8', s), f = find('quantlab', 'matmul_f32', s);
  ratio(`our best qlinear_dynamic (${q?.peer ?? '-'}) vs onnxruntime-web qlinear_dynamic`, s, q, find('ort-web', 'qlinear_dynamic', s), 1.5);
  ratio(`our best qlinear_dynamic vs LiteRT.js (${litert}) qlinear_dynamic`, s, q, find(litert, 'qlinear_dynamic', s), 1.5);
  // onnxruntime-web's best int8 MatMulInteger of the run (u8s8; its s8s8 misses the fast path).
  const ort = ['matmulinteger_u8s8', 'matmulinteger_u8u8', 'matmulinteger_s8s8'].map((o) => find('ort-web', o, s)).filter(Boolean)
    .sort((x, y) => y.gops - x.gops)[0];
  ratio(`our best matmulinteger_s8s8 (${i8?.peer ?? '-'}) vs onnxruntime-web ${ort?.op ?? 'MatMulInteger'}`, s, i8, ort, 1.5);
  ratio('our best int8 (matmulinteger_s8s8) vs our matmul_f32', s, i8, f, 2);
  ratio('our matmul_f32 vs tfjs-wasm matmul_f32', s, f, find('tfjs-wasm', 'matmul_f32', s), 1);
}
if (relaxedRun) {
  for (const s of [...GEMM, GEMV]) {
    for (const op of ['matmulinteger_s8s8', 'qlinear_dynamic']) {
      ratio(`relaxed path vs SIMD128 path, ${op}`, s, find('quantlab-relaxed', op, s), find('quantlab', op, s), 1);
    }
  }
}
const x = (v) => (v == null ? 'n/a' : `${v.toFixed(2)}x`);
console.log('| goal | M x K x N | medians: ratio (GOPS / GOPS) | fastest runs: ratio | target | met (medians) |');
console.log('|---|---|---|---|---|---|');
for (const g of goals) {
  const rm = g.a && g.b ? med(g.a) / med(g.b) : null;
  const rb = g.a && g.b ? best(g.a) / best(g.b) : null;
  const met = rm == null ? 'n/a' : rm >= g.min ? 'yes' : '**no**';
  const detail = rm == null ? '' : ` (${med(g.a).toFixed(1)} / ${med(g.b).toFixed(1)})`;
  console.log(`| ${g.name} | ${g.shape} | ${x(rm)}${detail} | ${x(rb)} (${best(g.a)?.toFixed(1)} / ${best(g.b)?.toFixed(1)}) | ≥ ${g.min}x | ${met} |`);
}
for (const op of ['matmulinteger_s8s8', 'qlinear_dynamic']) {
  const r = ours(op, GEMV);
  const met = r ? (r.gops >= 25 ? 'yes' : '**no**') : 'n/a';
  console.log(`| ${op} matrix-vector (${r?.peer ?? '-'}) | ${GEMV} | ${r ? `${r.gops.toFixed(1)} GOPS` : 'n/a'} | ${r ? `${best(r).toFixed(1)} GOPS` : 'n/a'} | ≥ 25 GOPS | ${met} |`);
}
if (relaxedRun) {
  console.log();
  console.log('The relaxed rows run 8-bit weights (all three ops here are W8) on the kernel the relaxed build picks at');
  console.log('start-up (see `# peer quantlab-relaxed` in the log: `w8_kernel`). Where it keeps the SIMD128 pair kernel,');
  console.log('both peers time the same kernel and their ratio is the run\'s noise; W4 weights take the 8-bit dot');
  console.log('product in any case (benches/micro.mjs --ops i8w4,q4).');
  console.log();
}
// Our best int8 GEMM against the faster of the two bare dot loops measured in this run.
const peak = (name) => peaks.find((p) => p.test === name)?.gops ?? null;
const loops = [['wasm_dot_i16x8_i16', 'i32x4.dot_i16x8_s'], ['wasm_relaxed_dot_i8x16', 'i32x4.relaxed_dot_i8x16_i7x16_add_s']]
  .map(([t, label]) => ({ label, gops: peak(t) })).filter((p) => p.gops);
if (loops.length) {
  const top = loops.sort((a, b) => b.gops - a.gops)[0];
  console.log();
  console.log(`Bare loop peaks in this run: ${loops.map((p) => `${p.label} ${p.gops.toFixed(1)} GOPS`).join(', ')}.`);
  console.log();
  console.log('| goal | M x K x N | our best int8 GEMM: median (fastest run) | share of the faster loop peak: median (fastest run) | target | met (median) |');
  console.log('|---|---|---|---|---|---|');
  for (const s of GEMM) {
    const r = ours('matmulinteger_s8s8', s);
    if (!r) continue;
    const share = best(r) / top.gops; // the fastest run, for reference
    console.log(`| best int8 GEMM (${r.peer}) vs ${top.label} loop | ${s} | ${r.gops.toFixed(1)} (${best(r).toFixed(1)}) GOPS | ${(100 * r.gops / top.gops).toFixed(0)} % (${(100 * share).toFixed(0)} %) | ≥ 85 % | ${r.gops / top.gops >= 0.85 ? 'yes' : '**no**'} |`);
  }
}
