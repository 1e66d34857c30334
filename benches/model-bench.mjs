// The whole model, quantlab against onnxruntime-web 1.30 (1 thread, SIMD128) in one Node process:
// all-MiniLM-L6-v2 at 16, 64 and 128 tokens, fp32 against fp32 and our W8A8 (per-token) against
// the web's default int8 model (onnxruntime quantize_dynamic: per-tensor uint8 activations, int8
// weights), and that same int8 recipe run on our kernels. Every round runs the five forwards in a
// rotating order; the table has medians.
//
//   make bench-model                 # installs what it needs, runs this, writes benches/results/model-*.{json,md}
//   node benches/model-bench.mjs --rounds 21 [--onnx DIR] [--out PREFIX]
//
// Inputs: target/minilm-onnx/{model,model_quantized}.onnx (written by
// shared/bench/minilm-onnx/make_onnx.py from the same safetensors), onnxruntime-web from
// target/bench-model/node_modules (benches/model/package-lock.json), token ids from the
// 162-token sentence of tests/fixtures/minilm_forward.json cut to length with [SEP] kept.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const rounds = +arg('rounds', 21);
const onnxDir = resolve(arg('onnx', join(root, 'target/minilm-onnx')));
const stamp = new Date().toISOString().replace(/:\d\d\.\d+Z$/, 'Z').replace(':', '');
const outPrefix = resolve(arg('out', join(root, `benches/results/model-${stamp}`)));
const LENGTHS = [16, 64, 128];

const req = createRequire(join(root, 'target/bench-model/package.json'));
const ort = await import(pathToFileURL(req.resolve('onnxruntime-web')).href);
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
ort.env.logLevel = 'error';
const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
const ortFp32 = await ort.InferenceSession.create(readFileSync(join(onnxDir, 'model.onnx')), opts);
const ortInt8 = await ort.InferenceSession.create(readFileSync(join(onnxDir, 'model_quantized.onnx')), opts);
const ortRun = async (s, ids) => {
  const t = new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]);
  return (await s.run({ input_ids: t })).sentence_embedding.data;
};

const peer = (await import(pathToFileURL(join(root, 'benches/quantlab-model-peer.mjs')).href)).default;
const info = await peer.init();

const fixture = JSON.parse(readFileSync(join(root, 'tests/fixtures/minilm_forward.json'), 'utf8'));
const long = fixture.sentences.map((s) => s.ids).sort((a, b) => b.length - a.length)[0];
const seq = (n) => Int32Array.from([...long.slice(0, n - 1), 102]);

const contestants = {
  'quantlab fp32': (ids) => peer.forward(ids, 'fp32'),
  'ort-web fp32': (ids) => ortRun(ortFp32, ids),
  'quantlab w8a8': (ids) => peer.forward(ids, 'w8a8'),
  'ort-web int8': (ids) => ortRun(ortInt8, ids),
  'quantlab ort-int8': (ids) => peer.forward(ids, 'ort-int8'),
};
const names = Object.keys(contestants);

const cos = (a, b) => {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
};
// Same model? Every contestant against onnxruntime's fp32 graph, per length.
const agreement = {};
for (const n of LENGTHS) {
  const ids = seq(n);
  const ref = await contestants['ort-web fp32'](ids);
  for (const name of names) agreement[`${name} @${n}`] = +cos(await contestants[name](ids), ref).toFixed(6);
}
for (let w = 0; w < 3; w++) for (const n of LENGTHS) for (const name of names) await contestants[name](seq(n));

const times = Object.fromEntries(LENGTHS.flatMap((n) => names.map((name) => [`${name} @${n}`, []])));
for (let r = 0; r < rounds; r++) {
  for (const n of LENGTHS) {
    const ids = seq(n);
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + r) % names.length];
      const t0 = performance.now();
      await contestants[name](ids);
      times[`${name} @${n}`].push(performance.now() - t0);
    }
  }
}
const median = (v) => { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1]; };
const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, +median(v).toFixed(2)]));

const rows = LENGTHS.map((n) => {
  const m = (name) => med[`${name} @${n}`];
  const r = (a, b) => (m(a) / m(b)).toFixed(2);
  return `| ${n} | ${m('quantlab fp32')} | ${m('ort-web fp32')} | **${r('ort-web fp32', 'quantlab fp32')}×** | ${m('quantlab w8a8')} | ${m('ort-web int8')} | **${r('ort-web int8', 'quantlab w8a8')}×** | ${m('quantlab ort-int8')} | ${r('ort-web int8', 'quantlab ort-int8')}× |`;
});
const load = os.loadavg().map((v) => v.toFixed(2)).join(' ');
const md = [
  `# all-MiniLM-L6-v2, whole forward: quantlab vs onnxruntime-web ${ort.env.versions?.web ?? ''}`,
  '',
  `${new Date().toISOString()} · Node ${process.version} · ${os.cpus()[0]?.model} · load average ${load} · ${rounds} rounds, medians in ms, 1 thread`,
  `quantlab: ${info.kernel}, model file ${info.model.replace(root + '/', '')} (load ${info.loadMs} ms), wasm memory after the run ${(peer.memoryBytes() / 2 ** 20).toFixed(1)} MiB`,
  '',
  '| tokens | quantlab fp32 | ort-web fp32 | speed-up | quantlab W8A8 | ort-web int8 | speed-up | quantlab, ORT\'s int8 recipe | speed-up |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
  '',
  'Cosine of each output to onnxruntime-web\'s fp32 graph (same input):',
  '',
  ...Object.entries(agreement).map(([k, v]) => `- ${k}: ${v}`),
  '',
].join('\n');
mkdirSync(resolve(outPrefix, '..'), { recursive: true });
writeFileSync(`${outPrefix}.json`, JSON.stringify({ info, rounds, medians: med, times, agreement, load }, null, 1));
writeFileSync(`${outPrefix}.md`, md);
console.log(md);
console.log(`wrote ${outPrefix}.{json,md}`);
