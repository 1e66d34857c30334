#!/usr/bin/env node
// The issue's performance goals, checked on one harness run (ratios of medians within the run;
// the ratio of the fastest runs is shown next to it because the machine is shared and noisy):
//   node benches/goals.mjs benches/results/<run>.jsonl
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const find = (peer, op, shape) => rows.find((r) => r.peer === peer && r.op === op && `${r.M}x${r.K}x${r.N}` === shape && r.gops);
const med = (r) => r?.gops ?? null;
const best = (r) => (r?.min_ms ? (2 * r.M * r.N * r.K) / r.min_ms / 1e6 : null);
const litert = rows.some((r) => r.peer === 'litert-wasm-relaxed') ? 'litert-wasm-relaxed' : 'litert-wasm';
const GEMM = ['128x384x1536', '256x768x768', '512x1024x1024'];
const goals = [];
const ratio = (name, shape, a, b, min) => goals.push({ name, shape, a, b, min });
for (const s of GEMM) {
  const q = find('quantlab', 'qlinear_dynamic', s), i8 = find('quantlab', 'matmulinteger_s8s8', s), f = find('quantlab', 'matmul_f32', s);
  ratio('qlinear_dynamic vs onnxruntime-web qlinear_dynamic', s, q, find('ort-web', 'qlinear_dynamic', s), 1.5);
  ratio(`qlinear_dynamic vs LiteRT.js (${litert}) qlinear_dynamic`, s, q, find(litert, 'qlinear_dynamic', s), 1.5);
  // onnxruntime-web's best int8 MatMulInteger of the run (u8s8; its s8s8 misses the fast path).
  const ort = ['matmulinteger_u8s8', 'matmulinteger_u8u8', 'matmulinteger_s8s8'].map((o) => find('ort-web', o, s)).filter(Boolean)
    .sort((x, y) => y.gops - x.gops)[0];
  ratio(`matmulinteger_s8s8 vs onnxruntime-web ${ort?.op ?? 'MatMulInteger'}`, s, i8, ort, 1.5);
  ratio('our int8 (matmulinteger_s8s8) vs our matmul_f32', s, i8, f, 2);
  ratio('our matmul_f32 vs tfjs-wasm matmul_f32', s, f, find('tfjs-wasm', 'matmul_f32', s), 1);
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
  const r = find('quantlab', op, '1x4096x4096');
  const met = r ? (r.gops >= 25 ? 'yes' : '**no**') : 'n/a';
  console.log(`| ${op} matrix-vector | 1x4096x4096 | ${r ? `${r.gops.toFixed(1)} GOPS` : 'n/a'} | ${r ? `${best(r).toFixed(1)} GOPS` : 'n/a'} | ≥ 25 GOPS | ${met} |`);
}
