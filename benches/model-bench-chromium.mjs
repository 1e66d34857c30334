// benches/model-bench.html in Debian's headless Chromium (playwright-core from tests/e2e): the
// same forwards as benches/model-bench.mjs, measured in a browser page. Needs what
// `make bench-model` installs; run as `node benches/model-bench-chromium.mjs [--rounds 15]`.
// quantlab runs in the build and on the kernel path the page itself would choose on this machine
// (assets/kernels.js, then the app's start-up timing of where 8-bit weights go). Prints a
// Markdown table (also written to benches/results/) and, as its last line, one JSON object
// {cpu, cpu_flags, browser, path, rows: [{engine, T, median_ms}]} — a contract: checks outside
// the project read it.
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const { chromium } = await import(join(root, 'tests/e2e/node_modules/playwright-core/index.mjs'));
const i = process.argv.indexOf('--rounds');
const rounds = i > 0 ? +process.argv[i + 1] : 15;
const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
// Only what the page reads, under the clone.
const allowed = ['/benches/', '/target/bench-model/', '/target/minilm-onnx/', '/target/bench-peer/', '/.tools/models/', '/tests/fixtures/', '/assets/kernels.js'];
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!allowed.some((a) => path.startsWith(a))) { res.writeHead(404).end(); return; }
  try {
    const body = await readFile(join(root, path));
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch { res.writeHead(404).end(); }
}).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const url = `http://127.0.0.1:${server.address().port}/benches/model-bench.html?rounds=${rounds}`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
await page.goto(url);
await page.waitForFunction(() => window.__result, null, { timeout: 30 * 60_000 });
const result = await page.evaluate(() => window.__result);
const browserVersion = browser.version();
await browser.close();
server.close();
if (result.error) { console.error(result.error); process.exit(1); }
const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
const cpu = cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
const flags = new Set((cpuinfo.match(/^(flags|Features)\s*:\s*(.*)$/m)?.[2] ?? '').split(/\s+/));
const cpuFlags = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'asimddp', 'i8mm'].filter((f) => flags.has(f));
const m = (k, n) => result.medians[`${k} @${n}`];
const r = (a, b, n) => (m(a, n) / m(b, n)).toFixed(2);
const md = [
  `# all-MiniLM-L6-v2 in headless Chromium: quantlab vs onnxruntime-web`,
  '',
  `${new Date().toISOString()} · Chromium ${browserVersion} · ${cpu} (${cpuFlags.join(', ') || 'no VNNI/dot flags'}) · ${os.cpus().length} cores · load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')} · ${rounds} rounds, medians in ms, 1 thread`,
  `quantlab: the ${result.build} build, ${result.path} (start-up timing of the 8-bit case: SIMD128 ${result.w8.simd128_ms ?? '–'} ms, relaxed ${result.w8.relaxed_ms ?? '–'} ms) · wasm memory ${(result.memory / 2 ** 20).toFixed(1)} MiB`,
  '',
  '| tokens | quantlab fp32 | ort-web fp32 | speed-up | quantlab W8A8 | ort-web int8 | speed-up | quantlab W4A8 | speed-up | quantlab, ORT\'s int8 recipe | speed-up | our int8 over our fp32 |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...[16, 64, 128].map((n) => `| ${n} | ${m('quantlab fp32', n)} | ${m('ort-web fp32', n)} | **${r('ort-web fp32', 'quantlab fp32', n)}×** | ${m('quantlab w8a8', n)} | ${m('ort-web int8', n)} | **${r('ort-web int8', 'quantlab w8a8', n)}×** | ${m('quantlab w4a8', n)} | **${r('ort-web int8', 'quantlab w4a8', n)}×** | ${m('quantlab ort-int8', n)} | ${r('ort-web int8', 'quantlab ort-int8', n)}× | ${r('quantlab fp32', 'quantlab w8a8', n)}× |`),
  '',
].join('\n');
const stamp = new Date().toISOString().replace(/:\d\d\.\d+Z$/, 'Z').replace(':', '');
await mkdir(join(root, 'benches/results'), { recursive: true });
await writeFile(join(root, `benches/results/model-chromium-${stamp}.md`), md);
console.log(md);
const engines = ['ort-web fp32', 'ort-web int8', 'quantlab fp32', 'quantlab w8a8', 'quantlab w4a8'];
console.log(JSON.stringify({
  cpu, cpu_flags: cpuFlags, browser: `Chromium ${browserVersion}`, path: `${result.build}: ${result.path}`,
  rounds, rows: engines.flatMap((engine) => [16, 64, 128].map((T) => ({ engine, T, median_ms: m(engine, T) }))),
}));
