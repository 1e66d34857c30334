// A small end-to-end harness: serves the release build (dist/) from a sub-path on 127.0.0.1,
// drives Debian's headless Chromium with playwright-core, and fails a test on any console error,
// uncaught page error, failed request or request to another origin.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, "..", "..");
export const SUBPATH = "/quantlab/";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".npy": "application/octet-stream",
  ".gz": "application/gzip",
  ".txt": "text/plain; charset=utf-8",
};

/** Serves `dir` under SUBPATH; anything outside it is a 404 (and is reported). */
export function serve(dir) {
  const misses = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === SUBPATH.slice(0, -1)) {
      res.writeHead(301, { Location: SUBPATH + url.search });
      return res.end();
    }
    if (!url.pathname.startsWith(SUBPATH)) {
      misses.push(url.pathname);
      res.writeHead(404);
      return res.end("not under " + SUBPATH);
    }
    let rel = decodeURIComponent(url.pathname.slice(SUBPATH.length)) || "index.html";
    const file = path.join(dir, rel);
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      misses.push(url.pathname);
      res.writeHead(404);
      return res.end("not found");
    }
    res.writeHead(200, {
      "Content-Type": MIME[path.extname(file)] || "application/octet-stream",
      "Cache-Control": "no-cache",
    });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({ base: `http://127.0.0.1:${port}${SUBPATH}`, origin: `http://127.0.0.1:${port}`, misses, close: () => server.close() });
    });
  });
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

const tests = [];
/** Registers a test. opts.allowErrors: a regex of console errors this test expects; opts.serial:
 * run it alone, after the parallel ones (it measures time or memory). */
export function test(name, fn, opts = {}) {
  tests.push({ name, fn, opts });
}

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 375, height: 740 };

export function assert(cond, msg) {
  if (!cond) throw new Error("assertion failed: " + msg);
}
export function assertEq(a, b, msg) {
  if (a !== b) throw new Error(`assertion failed: ${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}

/** Runs every registered test whose name matches `grep`; returns the number of failures. */
export async function runAll({ grep, shotsDir, workers = 2 }) {
  const dist = path.join(repo, "dist");
  if (!fs.existsSync(path.join(dist, "index.html"))) {
    console.error("dist/index.html is missing: run `trunk build --release` first (make test does).");
    return 1;
  }
  fs.mkdirSync(shotsDir, { recursive: true });
  const srv = await serve(dist);
  const browser = await launch();
  let failures = 0;
  const selected = tests.filter((t) => !grep || t.name.includes(grep));

  const runOne = async (t) => {
    const context = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const problems = [];
    const allow = t.opts.allowErrors;
    page.on("console", (m) => {
      if (m.type() === "error" && !(allow && allow.test(m.text()))) problems.push("console error: " + m.text());
    });
    page.on("pageerror", (e) => {
      if (!(allow && allow.test(String(e)))) problems.push("page error: " + e);
    });
    page.on("requestfailed", (r) => {
      const why = r.failure()?.errorText || "";
      // Navigations interrupted by the test itself (reload, goto) are not failures.
      if (!/ERR_ABORTED/.test(why)) problems.push(`request failed: ${r.url()} ${why}`);
    });
    page.on("request", (r) => {
      const u = r.url();
      if (!u.startsWith(srv.origin) && !u.startsWith("data:") && !u.startsWith("blob:")) problems.push("request to another origin: " + u);
    });
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    const started = Date.now();
    const ctx = {
      page,
      context,
      browser,
      base: srv.base,
      origin: srv.origin,
      problems,
      shot: async (name, opts = {}) => {
        const file = path.join(shotsDir, name + ".png");
        await page.screenshot({ path: file, fullPage: opts.fullPage ?? true });
        return file;
      },
      /** Opens the app at `query` and waits for the chapter to render. */
      open: async (query = "") => {
        await page.goto(srv.base + query);
        await page.waitForSelector("article[data-testid^=chapter-]", { timeout: 15000 });
      },
    };
    try {
      await t.fn(ctx);
      await page.waitForTimeout(50); // let late console messages arrive
      if (problems.length) throw new Error(problems.join("\n    "));
      console.log(`  ok    ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failures++;
      console.log(`  FAIL  ${t.name}\n    ${String(e.message || e).split("\n").join("\n    ")}`);
      try {
        await ctx.shot("FAILED-" + t.name.replace(/[^a-z0-9]+/gi, "_"));
      } catch {}
    }
    await context.close();
  };

  // Independent tests run `workers` at a time, each in its own browser context (own storage,
  // service worker and cache); tests marked { serial: true } (they measure time or memory, or
  // need the machine to themselves) run alone afterwards.
  const parallel = selected.filter((t) => !t.opts.serial);
  const serial = selected.filter((t) => t.opts.serial);
  let next = 0;
  const worker = async () => {
    while (next < parallel.length) await runOne(parallel[next++]);
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, worker));
  for (const t of serial) await runOne(t);

  await browser.close();
  srv.close();
  if (srv.misses.length) {
    console.log("  requests outside the build or not found: " + [...new Set(srv.misses)].join(", "));
  }
  console.log(`\n${selected.length - failures} passed, ${failures} failed; screenshots in ${shotsDir}`);
  return failures;
}
