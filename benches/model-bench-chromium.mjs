// benches/model-bench.html in Debian's headless Chromium (playwright-core from tests/e2e): the
// same forwards as benches/model-bench.mjs, measured in a browser page. Needs what
// `make bench-model` installs; run as `node benches/model-bench-chromium.mjs [--rounds 15]`.
import { createServer } from 'node:http';
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
const allowed = ['/benches/', '/target/bench-model/', '/target/minilm-onnx/', '/target/bench-peer/', '/.tools/models/', '/tests/fixtures/'];
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
await browser.close();
server.close();
if (result.error) { console.error(result.error); process.exit(1); }
const m = (k, n) => result.medians[`${k} @${n}`];
const r = (a, b, n) => (m(a, n) / m(b, n)).toFixed(2);
const md = [
  `# all-MiniLM-L6-v2 in headless Chromium: quantlab vs onnxruntime-web`,
  '',
  `${new Date().toISOString()} · ${result.ua.match(/Chrome\/[\d.]+/)?.[0]} · load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')} · ${rounds} rounds, medians in ms, 1 thread · quantlab wasm memory ${(result.memory / 2 ** 20).toFixed(1)} MiB`,
  '',
  '| tokens | quantlab fp32 | ort-web fp32 | speed-up | quantlab W8A8 | ort-web int8 | speed-up | quantlab, ORT\'s int8 recipe | speed-up |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...[16, 64, 128].map((n) => `| ${n} | ${m('quantlab fp32', n)} | ${m('ort-web fp32', n)} | **${r('ort-web fp32', 'quantlab fp32', n)}×** | ${m('quantlab w8a8', n)} | ${m('ort-web int8', n)} | **${r('ort-web int8', 'quantlab w8a8', n)}×** | ${m('quantlab ort-int8', n)} | ${r('ort-web int8', 'quantlab ort-int8', n)}× |`),
  '',
].join('\n');
const stamp = new Date().toISOString().replace(/:\d\d\.\d+Z$/, 'Z').replace(':', '');
await mkdir(join(root, 'benches/results'), { recursive: true });
await writeFile(join(root, `benches/results/model-chromium-${stamp}.md`), md);
console.log(md);
