// The two builds of the engine: relaxed SIMD (chosen in this Chromium) and SIMD128 (the default
// and the fallback). Which one loads, what "Why quantize?" says and measures, the fallback when a
// link asks for it and when the engine lacks relaxed SIMD, and the same numbers from both.
import { test, assert, assertEq } from "./harness.mjs";

/** The wasm files the page fetched. */
const wasmFetched = (page) =>
  page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name).filter((n) => n.endsWith(".wasm")).map((n) => n.split("/").pop()));

/** Makes WebAssembly.validate refuse the relaxed 8-bit dot product, as an engine without
 *  relaxed SIMD does (then the module with it would not load either). */
function withoutRelaxedSimd() {
  const validate = WebAssembly.validate;
  WebAssembly.validate = (bytes) => {
    const u = new Uint8Array(bytes.buffer ? bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) : bytes);
    for (let i = 0; i + 2 < u.length; i++) if (u[i] === 0xfd && u[i + 1] === 0x93 && u[i + 2] === 0x02) return false;
    return validate(bytes);
  };
}

async function kernelPath(page) {
  const el = await page.waitForSelector("[data-testid=why-kernel-path]");
  return { path: await el.getAttribute("data-path"), text: await el.textContent() };
}

/** Runs the benchmark and returns its rows as cell texts. */
async function bench(page) {
  await page.click("[data-testid=bench-run]");
  await page.waitForSelector("[data-testid=bench-progress]");
  await page.waitForFunction(() => !document.querySelector("[data-testid=bench-progress]"), null, { timeout: 180000 });
  return page.$$eval("[data-testid=bench-table] tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
}

test("kernels: this Chromium runs the relaxed-SIMD build, and the benchmark times both paths", async ({ page, open, shot }) => {
  await open("?ch=why");
  const k = await kernelPath(page);
  assertEq(k.path, "relaxed", "the path attribute");
  assert(/relaxed SIMD: 8-bit dot product/.test(k.text) && !/simd128/i.test(k.text), "the path says relaxed and only relaxed: " + k.text);
  assertEq(await page.evaluate(() => window.quantlabBuild.loaded), "relaxed", "the loader's choice");
  const wasm = await wasmFetched(page);
  assert(wasm.length === 1 && /^quantlab-web-relaxed-[0-9a-f]{16}_bg\.wasm$/.test(wasm[0]), "only the relaxed module is fetched: " + wasm.join(", "));
  // The start-up timing of the two kernels for 8-bit weights shows up once done.
  await page.waitForFunction(() => /\d\.\d{3} ms/.test(document.querySelector("[data-testid=kernel-reason]").textContent), null, { timeout: 10000 });
  const reason = await page.textContent("[data-testid=kernel-reason]");
  console.log("    " + reason);
  const link = await page.getAttribute("[data-testid=kernel-switch]", "href");
  assert(/kernels=simd128/.test(link) && /ch=why/.test(link), "a link to the same view on SIMD128: " + link);

  const heads = await page.$$eval("[data-testid=bench-table] thead th", (ths) => ths.map((t) => t.textContent)).catch(() => []);
  assertEq(heads.length, 0, "no table before the run");
  const rows = await bench(page);
  assertEq(rows.length, 12, "3 shapes × (f32, int8 GEMM, W8A8, W4A8)");
  const gops = (cell) => parseFloat(cell);
  for (const r of rows) {
    assertEq(r.length, 6, "shape, op, SIMD128, relaxed, ratio, vs f32: " + r.join(" | "));
    assert(gops(r[2]) > 0, "SIMD128 GOPS: " + r.join(" | "));
    if (/f32 GEMM/.test(r[1])) assert(r[3].trim() === "—", "no relaxed f32 kernel: " + r[3]);
    else {
      assert(gops(r[3]) > 0 && /^\d+\.\d\d×$/.test(r[4]), "relaxed GOPS and the ratio: " + r.join(" | "));
      assert(/±\d+ %/.test(r[2]) && / ms$/.test(r[3]), "median ± spread and ms: " + r.join(" | "));
    }
  }
  const w4gemv = rows.find((r) => /GEMV/.test(r[0]) && /W4A8/.test(r[1]));
  console.log(`    W4A8 GEMV: SIMD128 ${gops(w4gemv[2])} GOPS, relaxed ${gops(w4gemv[3])} GOPS (${w4gemv[4]})`);
  const timer = await page.textContent("[data-testid=bench-timer]");
  assert(/Timer resolution here: \d\.\d{3} ms/.test(timer), "the timer's resolution is shown: " + timer);
  // Exactly one path per row is bold: the one the page uses.
  const used = await page.$$eval("[data-testid=bench-table] tbody tr", (trs) => trs.map((tr) => tr.querySelectorAll("td.used").length));
  assert(used.every((n) => n === 1), "one used kernel per row: " + used.join(","));
  await shot("why-kernels-relaxed");
});

test("kernels: kernels=simd128 and an engine without relaxed SIMD get the SIMD128 build; both builds give the same numbers", async ({ page, open, browser, base }) => {
  // The link's choice.
  await open("?ch=model&bits=w4a8&kernels=simd128");
  await page.waitForSelector("[data-testid=model-cos-6]", { timeout: 90000 });
  await page.waitForFunction(() => Number(document.querySelector("[data-testid=model-mean-cos]")?.dataset.run || 0) > 0 && !document.querySelector(".updating"), null, { timeout: 90000 });
  const simd = await page.$$eval("[data-testid^=model-cos-]", (els) => els.map((e) => e.textContent));
  assertEq(await page.evaluate(() => window.quantlabBuild.loaded), "simd128", "the loader's choice");
  assert((await wasmFetched(page)).every((w) => !/relaxed/.test(w)), "the relaxed module is not fetched");
  await page.click("[data-testid=nav-why]");
  const k = await kernelPath(page);
  assertEq(k.path, "simd128", "the path attribute");
  assert(/SIMD128: widened to 16 bits/.test(k.text) && !/relaxed/i.test(k.text), "the path says SIMD128 and only SIMD128: " + k.text);
  assert(/kernels=simd128/.test(await page.textContent("[data-testid=kernel-reason]")), "why: the link asks for it");
  const back = await page.getAttribute("[data-testid=kernel-switch]", "href");
  assert(!/kernels=/.test(back), "the link back to relaxed SIMD drops the key: " + back);
  assert(/kernels=simd128/.test(new URL(page.url()).search), "the key stays in the page's own link");
  const rows = await bench(page);
  assertEq(rows.length, 12, "every op on every shape");
  assert(rows.every((r) => r.length === 4 && parseFloat(r[2]) > 0), "one kernel column: " + rows[0].join(" | "));

  // The relaxed build on the same sentences: the same integers, so the same cosines, digit for digit.
  await open("?ch=model&bits=w4a8");
  await page.waitForSelector("[data-testid=model-cos-6]", { timeout: 90000 });
  await page.waitForFunction(() => Number(document.querySelector("[data-testid=model-mean-cos]")?.dataset.run || 0) > 0 && !document.querySelector(".updating"), null, { timeout: 90000 });
  assertEq(await page.evaluate(() => window.quantlabBuild.loaded), "relaxed", "the loader's choice");
  const relaxed = await page.$$eval("[data-testid^=model-cos-]", (els) => els.map((e) => e.textContent));
  assertEq(JSON.stringify(relaxed), JSON.stringify(simd), "W4A8 cosines, relaxed vs SIMD128 build");

  // An engine without relaxed SIMD: no link asks, and still SIMD128.
  const bare = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const p2 = await bare.newPage();
  const errors = [];
  p2.on("pageerror", (e) => errors.push(String(e)));
  p2.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await p2.addInitScript(withoutRelaxedSimd);
  await p2.goto(base + "?ch=why");
  const k2 = await kernelPath(p2);
  assertEq(k2.path, "simd128", "fallback without relaxed SIMD");
  assertEq(await p2.evaluate(() => JSON.stringify([window.quantlabBuild.relaxed, window.quantlabBuild.loaded])), '[false,"simd128"]', "the probe");
  assert(/no relaxed SIMD/.test(await p2.textContent("[data-testid=kernel-reason]")), "why: the engine lacks it");
  assert(!(await p2.$("[data-testid=kernel-switch]")), "no link to a path this browser cannot run");
  assertEq(errors.length, 0, "no errors: " + errors.join("; "));
  await bare.close();
});
