// SmolLM2-135M-Instruct in headless Chromium: llama.cpp in WebAssembly (@wllama/wllama, one
// thread, CPU) against quantlab (full precision, W8A8, W4A8) on the same GGUF, in one page
// (benches/llm-bench.html), interleaved rounds, medians.
//
//   node benches/llm-bench-chromium.mjs [--rounds N]
//
// Needs the README's set-up (.tools/smollm2, playwright-core in tests/e2e) and `make
// bench-llm-peer` (target/bench-peer/llm_wasm*.wasm); installs the peer with npm ci under
// target/bench-llm the first time. Prints a Markdown table, writes it to benches/results/, and
// prints as its last line one JSON object {cpu, cpu_flags, browser, prompt_tokens, rows: [{engine,
// prompt_tokens_per_s, gen_tokens_per_s}], …} (a contract: checks outside the project read it).
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const rounds = +arg('--rounds', 5);

for (const f of ['target/bench-peer/llm_wasm.wasm', '.tools/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', 'tests/e2e/node_modules/playwright-core']) {
  if (!existsSync(join(root, f))) {
    console.error(`llm-bench: ${f} is missing: run \`make setup\` and \`make bench-llm-peer\` first`);
    process.exit(2);
  }
}
const peer = join(root, 'target/bench-llm');
if (!existsSync(join(peer, 'node_modules/@wllama/wllama/esm/wasm/wllama.wasm'))) {
  await mkdir(peer, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) await copyFile(join(root, 'benches/llm', f), join(peer, f));
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: peer, stdio: 'inherit' });
}

const { chromium } = await import(join(root, 'tests/e2e/node_modules/playwright-core/index.mjs'));
const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
// Only what the page reads, under the clone.
const allowed = ['/benches/', '/target/bench-llm/', '/target/bench-peer/', '/.tools/smollm2/', '/tests/fixtures/', '/assets/kernels.js'];
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!allowed.some((a) => path.startsWith(a))) { res.writeHead(404).end(); return; }
  try {
    const body = await readFile(join(root, path));
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch { res.writeHead(404).end(); }
}).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const url = `http://127.0.0.1:${server.address().port}/benches/llm-bench.html?rounds=${rounds}`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
const page = await browser.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
page.on('pageerror', (e) => console.error('page error:', e.message));
await page.goto(url);
await page.waitForFunction(() => window.__result, null, { timeout: 60 * 60_000 });
const result = await page.evaluate(() => window.__result);
const browserVersion = browser.version();
await browser.close();
server.close();
if (result.error) { console.error(result.error); process.exit(1); }

const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
const cpu = cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
const flags = new Set((cpuinfo.match(/^(flags|Features)\s*:\s*(.*)$/m)?.[2] ?? '').split(/\s+/));
const cpuFlags = ['avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'asimddp', 'i8mm'].filter((f) => flags.has(f));
const row = (e) => result.rows.find((r) => r.engine === e);
const cpp = row('llama.cpp-wasm');
const ratio = (v, base) => (v / base).toFixed(1);
const md = [
  '# SmolLM2-135M-Instruct in headless Chromium: quantlab vs llama.cpp-wasm',
  '',
  `${new Date().toISOString()} · Chromium ${browserVersion} · ${cpu} (${cpuFlags.join(', ') || 'no VNNI/dot flags'}) · ${os.cpus().length} cores · load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`,
  `${result.prompt_tokens}-token prompt, ${result.gen_tokens} generated tokens, ${rounds} rounds, medians · quantlab build: ${result.build}, 8-bit weights on the ${result.w8} dot · llama.cpp: @wllama/wllama 3.8.1, n_threads 1, CPU · quantlab wasm memory ${(result.memory / 2 ** 20).toFixed(1)} MiB`,
  '',
  '| engine | prompt tokens/s | vs llama.cpp | generation tokens/s | vs llama.cpp |',
  '|---|---:|---:|---:|---:|',
  ...result.rows.map((r) => `| ${r.engine} | ${r.prompt_tokens_per_s} | ${ratio(r.prompt_tokens_per_s, cpp.prompt_tokens_per_s)}× | ${r.gen_tokens_per_s} | ${ratio(r.gen_tokens_per_s, cpp.gen_tokens_per_s)}× |`),
  '',
  `Perplexity of the ${Math.min(result.prompt_tokens, 256)}-token prompt in one pass: ${Object.entries(result.ppl).map(([k, v]) => `${k} ${v.ppl.toFixed(2)} in ${(v.ms / 1000).toFixed(2)} s`).join(', ')}.`,
  `llama.cpp's greedy text: ${JSON.stringify(result.texts['llama.cpp-wasm'])}`,
  '',
].join('\n');
const stamp = new Date().toISOString().replace(/:\d\d\.\d+Z$/, 'Z').replace(':', '');
await mkdir(join(root, 'benches/results'), { recursive: true });
await writeFile(join(root, `benches/results/llm-chromium-${stamp}.md`), md);
console.log(md);
console.log(JSON.stringify({
  cpu, cpu_flags: cpuFlags, browser: `Chromium ${browserVersion}`, prompt_tokens: result.prompt_tokens,
  gen_tokens: result.gen_tokens, rounds, build: result.build, w8_dot: result.w8,
  rows: result.rows, perplexity: result.ppl, wasm_memory_bytes: result.memory,
}));
