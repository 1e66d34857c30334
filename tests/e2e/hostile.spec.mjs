// Hostile and huge inputs in the real browser: .npy uploads that are empty, lie, are huge, have
// 3-D/4-D shapes, are big-endian, hold only NaN/Inf, subnormals or ±f32::MAX; links with every
// parameter garbled or 10 kB long. Each gets a specific message, the page keeps working, and the
// wasm memory stays bounded (the upload limit, datasets::UPLOAD_LIMITS: 64 MiB and 4,194,304
// values, is checked on the file size before a byte is read).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test, assert, assertEq } from "./harness.mjs";
import { npyBytes } from "./function.spec.mjs";
import { SLUGS } from "./shell.spec.mjs";

const hdr = (descr, shape) => `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
const f32 = (vals) => new Float32Array(vals);
function bigEndianF32(vals) {
  const b = new DataView(new ArrayBuffer(vals.length * 4));
  vals.forEach((v, i) => b.setFloat32(i * 4, v, false));
  return new Uint8Array(b.buffer);
}

/** [name, bytes or a function giving a file path, what must happen]. */
const UPLOADS = [
  ["empty-0-bytes.npy", new Uint8Array(0), { error: /NUMPY|npy|magic|empty|truncat|short/i }],
  ["text-file.npy", new TextEncoder().encode("hello, this is not a numpy file"), { error: /NUMPY|npy|magic/i }],
  ["preamble-only.npy", new Uint8Array([0x93, 78, 85, 77, 80, 89, 1, 0]), { error: /truncat|short|end|preamble/i }],
  ["lying-header-too-few.npy", npyBytes(hdr("<f4", "(1000, 1000)"), f32(new Array(10).fill(1))), { error: /truncat|short|expected|1000000|4000000/i }],
  ["lying-header-too-many.npy", npyBytes(hdr("<f4", "(2,)"), f32(new Array(10).fill(1))), { error: /announces|disagree|trailing|extra|expected/i }],
  ["lying-header-len.npy", (() => { const b = npyBytes(hdr("<f4", "(4,)"), f32([1, 2, 3, 4])); b[8] = 255; b[9] = 255; return b; })(), { error: /truncat|header|large|short/i }],
  ["declares-16M.npy", npyBytes(hdr("<f4", "(4096, 4096)"), f32([1, 2])), { error: /16777216|4194304|large|limit/i }],
  ["shape-3d.npy", npyBytes(hdr("<f4", "(2, 2, 2)"), f32(new Array(8).fill(1))), { error: /3/ }],
  ["shape-4d.npy", npyBytes(hdr("<f4", "(1, 2, 2, 2)"), f32(new Array(8).fill(1))), { error: /4/ }],
  ["unicode-dtype.npy", npyBytes(hdr("<U4", "(2,)"), new Uint8Array(32)), { error: /dtype|type|U4|support/i }],
  ["empty-array.npy", npyBytes(hdr("<f4", "(0, 4)"), new Uint8Array(0)), { error: /empty|0 values/i }],
  ["big-endian.npy", npyBytes(hdr(">f4", "(3, 4)"), bigEndianF32([1, -2, 3.5, 0, 5, -6, 7, 8, 9, -10, 11, 12])), { loads: /3 × 4/ }],
  ["big-endian-f64.npy", (() => { const d = new DataView(new ArrayBuffer(6 * 8)); [1, 2, 3, -4, 5, 6].forEach((v, i) => d.setFloat64(i * 8, v, false)); return npyBytes(hdr(">f8", "(2, 3)"), new Uint8Array(d.buffer)); })(), { loads: /2 × 3/ }],
  ["nan-inf-only.npy", npyBytes(hdr("<f4", "(6,)"), f32([NaN, Infinity, -Infinity, NaN, NaN, Infinity])), { any: true }],
  ["subnormals.npy", npyBytes(hdr("<f4", "(2, 4)"), f32([1e-45, -1e-45, 1e-40, -1e-39, 0, 1.4e-45, -2e-44, 3e-42])), { loads: /2 × 4/ }],
  ["f32-max.npy", npyBytes(hdr("<f4", "(4,)"), f32([3.4028234663852886e38, -3.4028234663852886e38, 0, 1])), { loads: /4/ }],
  ["f32-max-and-subnormal.npy", npyBytes(hdr("<f4", "(2, 2)"), f32([3.4028234663852886e38, 1e-45, -3.4028234663852886e38, -1e-45])), { loads: /2 × 2/ }],
  ["f64-beyond-f32.npy", (() => { const d = new Float64Array([1e300, -1e300, 1, 2]); return npyBytes(hdr("<f8", "(4,)"), d); })(), { any: true }],
  // The largest accepted upload: 2048 × 2048 float32 = 4,194,304 values (16 MiB). It loads, and
  // the wasm memory stays well under the bound below.
  ["largest-accepted-4M.npy", () => {
    const file = path.join(os.tmpdir(), "quantlab-e2e-largest-accepted-4M.npy");
    if (!fs.existsSync(file)) {
      const vals = new Float32Array(2048 * 2048);
      let s = 1;
      for (let i = 0; i < vals.length; i++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        vals[i] = (s / 4294967296 - 0.5) * 4 * (i % 97 === 0 ? 20 : 1);
      }
      fs.writeFileSync(file, npyBytes(hdr("<f4", "(2048, 2048)"), vals));
    }
    return file;
  }, { loads: /2048 × 2048/, stem: "quantlab-e2e-largest-accepted-4M" }],
  // A real file of 16,777,216 float32 values (64 MiB + header): refused on its size, unread.
  ["real-16M-values.npy", () => {
    const file = path.join(os.tmpdir(), "quantlab-e2e-16M.npy");
    if (!fs.existsSync(file)) {
      const header = npyBytes(hdr("<f4", "(4096, 4096)"), new Uint8Array(0));
      const fd = fs.openSync(file, "w");
      fs.writeSync(fd, header);
      fs.ftruncateSync(fd, header.length + 4096 * 4096 * 4); // zeros, no 64 MiB buffer in Node
      fs.closeSync(fd);
    }
    return file;
  }, { error: /MB|limit|large/i }],
];

const wasmBytes = (page) => page.evaluate(() => window.__wasmMemory?.buffer.byteLength ?? -1);

test("hostile: .npy uploads that are empty, lie, are huge, 3-D/4-D, big-endian, NaN/Inf-only, subnormal or ±f32::MAX", async ({ page, open, context, shot }) => {
  await context.addInitScript(() => addEventListener("TrunkApplicationStarted", (e) => (window.__wasmMemory = e.detail?.wasm?.memory)));
  await open("?ch=function&data=gauss");
  await page.waitForSelector("[data-testid=data-info]");
  const wasm0 = await wasmBytes(page);
  const results = [];
  let peak = wasm0;
  for (const [name, content, want] of UPLOADS) {
    const t0 = Date.now();
    const file = typeof content === "function" ? content() : { name, mimeType: "application/octet-stream", buffer: Buffer.from(content) };
    await page.setInputFiles("[data-testid=npy-input]", file);
    let outcome;
    if (want.error) {
      await page.waitForFunction(() => (document.querySelector("[data-testid=data-error]")?.textContent || "").length > 0, null, { timeout: 15000 });
      const msg = (await page.textContent("[data-testid=data-error]")).trim();
      assert(want.error.test(msg), `${name}: a specific message (${want.error}), got: ${msg}`);
      assert(msg.length > 15 && msg.length < 600, `${name}: a readable message: ${msg}`);
      outcome = "refused: " + msg;
    } else {
      const stem = want.stem ?? name.replace(/\.npy$/, "");
      await page.waitForFunction(
        (stem) => (document.querySelector("[data-testid=data-info]")?.textContent || "").includes(stem) || (document.querySelector("[data-testid=data-error]")?.textContent || "").length > 0,
        stem,
        { timeout: 15000 },
      );
      const info = (await page.textContent("[data-testid=data-info]").catch(() => "")) || "";
      const err = (await page.$("[data-testid=data-error]")) ? (await page.textContent("[data-testid=data-error]")).trim() : "";
      if (want.loads) {
        assert(info.includes(stem) && want.loads.test(info), `${name}: loads (${want.loads}); info: ${info}; error: ${err}`);
        outcome = "loaded: " + info.trim().slice(0, 80);
      } else {
        outcome = err ? "refused: " + err : "loaded: " + info.trim().slice(0, 80);
      }
      await page.waitForTimeout(300); // charts and readouts over the new data
    }
    // The page keeps working: no banner, a chapter, and the controls still respond.
    peak = Math.max(peak, await wasmBytes(page));
    const banner = await page.$("[data-testid=error-banner]");
    assert(!banner, `${name}: no crash banner`);
    await page.selectOption("[data-testid=bits-select]", String(2 + (results.length % 7)));
    await page.waitForTimeout(50);
    assert(await page.$("[data-testid=chapter-function]"), `${name}: chapter still rendered`);
    results.push(`${name}: ${outcome} (${Date.now() - t0} ms)`);
  }
  // Back to a normal data set: everything works again.
  await page.selectOption("[data-testid=data-select]", "laplace");
  await page.waitForFunction(() => /Laplace/.test(document.querySelector("[data-testid=data-info]")?.textContent || ""));
  const wasm1 = await wasmBytes(page);
  const memLine = `wasm memory ${(wasm0 / 1048576).toFixed(1)} MB at start, peak ${(peak / 1048576).toFixed(1)} MB (with the 16 MiB upload), ${(wasm1 / 1048576).toFixed(1)} MB at the end, after ${UPLOADS.length} uploads`;
  console.log("    " + results.join("\n    ") + "\n    " + memLine);
  // Bounded: the largest accepted tensor plus the chapter's working copies, far below a tab's limit.
  assert(wasm0 < 0 || peak < 160 * 1048576, "memory bounded: " + memLine);
  fs.mkdirSync("target", { recursive: true });
  fs.writeFileSync(path.join("target", "e2e-hostile.txt"), results.join("\n") + "\n" + memLine + "\n");
  await shot("hostile-after-uploads");
});

/** Junk for every kind of parameter. */
const GARBLE = ["", "%", "%ZZ", "%C3", "NaN", "-Infinity", "1e309", "-1e309", "99999999999999999999", "<script>x</script>", "💥", "０", "a".repeat(300), "1,2", "true", "-0"];
/** Every parameter of every chapter (chapters.rs, datasets::PARAMS) plus the globals. */
const PARAMS = ["ch", "lang", "theme", "present", "data", "seed", "outliers", "bits", "scheme", "range", "int", "round", "alpha", "beta", "logy", "clip", "pct", "calib", "drift", "gran", "group", "model"];

test("hostile: links with every parameter garbled, or 10 kB long, open a working page with a notice", async ({ page, open }) => {
  let n = 0;
  for (const slug of SLUGS) {
    for (let k = 0; k < 3; k++) {
      const q = "?" + [`ch=${slug}`, ...PARAMS.filter((p) => p !== "ch").map((p, i) => `${p}=${encodeURI(GARBLE[(i + k * 5 + n) % GARBLE.length]).replace(/%25/g, "%")}`)].join("&");
      await open(q);
      assertEq(await page.$eval("article[data-testid^=chapter-]", (el) => el.dataset.testid), `chapter-${slug}`, "the chapter survives garbled parameters: " + q.slice(0, 200));
      await page.waitForSelector("[data-testid=url-notice]", { state: "attached" }); // hidden in presenter mode (present=true)
      const items = await page.$$eval("[data-testid=url-notice] li", (lis) => lis.map((li) => li.textContent));
      assert(items.length >= 1 && items.length <= 10, `a few notices, not a flood (${items.length})`);
      assert(items.every((t) => t.length < 400), "notices are clipped");
      assert(!(await page.$("[data-testid=error-banner]")), "no crash banner: " + q.slice(0, 200));
      n++;
    }
  }
  // ~10 kB: one huge value, thousands of pairs, thousands of distinct unknown keys.
  for (const q of [
    "?ch=function&alpha=" + "9".repeat(10000),
    "?ch=playground&" + "bits=3&".repeat(1500),
    "?ch=error&" + Array.from({ length: 1500 }, (_, i) => `k${i}=${i}`).join("&"),
    "?" + "%".repeat(10000),
    "?ch=calibration&pct=" + "가".repeat(1100), // 9.9 kB encoded (the test server takes ≤ 16 kB)
  ]) {
    const t0 = Date.now();
    await open(q);
    const ms = Date.now() - t0;
    const items = await page.$$eval("[data-testid=url-notice] li", (lis) => lis.map((li) => li.textContent));
    assert(items.length >= 1 && items.length <= 10, `${q.length} B link: a few notices (${items.length})`);
    assert(/8192|too long|너무/.test(items.join(" ")), "names the cut: " + items[0]);
    assert(ms < 10000, `opens in reasonable time (${ms} ms)`);
    assert(!(await page.$("[data-testid=error-banner]")), "no crash banner");
  }
  // And the page still works: a chapter change and a control.
  await page.click("[data-testid=nav-function]");
  await page.waitForSelector("[data-testid=chapter-function]");
  await page.selectOption("[data-testid=bits-select]", "4");
});
