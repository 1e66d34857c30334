// Chapters "Quantization error", "Range calibration (PTQ)" and the playground.
import { test, assert, assertEq, repo } from "./harness.mjs";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";

const readout = async (page, id) => Number(await page.getAttribute(`[data-testid=${id}]`, "data-value"));
const q = (page) => new URL(page.url()).searchParams;

test("error: the U-curve, its split, and the slider move the readouts", async ({ page, open, shot }) => {
  await open("?ch=error&data=laplace&outliers=1&bits=4");
  await page.waitForSelector("[data-testid=data-info]");
  await page.waitForFunction(() => /t = /.test(document.querySelector("[data-testid=best-t]")?.textContent || ""), null, { timeout: 20000 });
  const best = Number((await page.textContent("[data-testid=best-t]")).match(/t = ([\d.]+)/)[1]);
  assert(best < 0.8, `with outliers the optimum sits well inside min–max (t = ${best})`);
  const at1 = { r: await readout(page, "rounding-mse"), c: await readout(page, "clipping-mse"), m: await readout(page, "mse-readout") };
  assertEq(at1.c, 0, "t = 1 (min–max) clips nothing");
  assert(Math.abs(at1.r + at1.c - at1.m) <= 1e-12 * at1.m, "rounding + clipping = total");
  await page.fill("[data-testid=clip-slider-input]", "0.3");
  await page.press("[data-testid=clip-slider-input]", "Enter");
  await page.waitForFunction(() => Number(document.querySelector("[data-testid=clipping-mse]").dataset.value) > 0);
  const r2 = await readout(page, "rounding-mse");
  assert(r2 < at1.r, "a tighter range means a smaller s and less rounding error");
  await page.waitForTimeout(600);
  assertEq(q(page).get("clip"), "0.3", "clip in the URL");
  await shot("error-outliers-4bit");
});

test("calibration: five calibrators in a table, percentile slider, stream play/pause", async ({ page, open, shot }) => {
  await open("?ch=calibration");
  await page.waitForSelector("[data-testid=data-info]");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=calibrators-table] tbody tr").length === 5, null, { timeout: 20000 });
  const rows = await page.$$eval("[data-testid=calibrators-table] tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const minmax = rows.find((r) => r[0] === "min-max");
  assert(Math.abs(Number(minmax[1]) + 10.58) < 0.01 && Math.abs(Number(minmax[2]) - 12.357) < 0.01, "min-max is the data's range: " + minmax);
  await page.fill("[data-testid=percentile-slider-input]", "99.5");
  await page.press("[data-testid=percentile-slider-input]", "Enter");
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=calibrators-table] td")].some((td) => td.textContent === "percentile 99.5"), null, { timeout: 20000 });
  await page.click("[data-testid=stream-play]");
  await page.waitForFunction(() => /batch [1-9] of 16|배치 [1-9] \//.test(document.querySelector("[data-testid=stream-step]").textContent));
  await page.click("[data-testid=stream-play]"); // pause
  const summary = await page.textContent("[data-testid=stream-summary]");
  assert(/static/.test(summary) && /dynamic/.test(summary), summary);
  assert(/µs/.test(await page.textContent("[data-testid=dynamic-cost]")), "dynamic's extra work is measured");
  await page.fill("[data-testid=calib-batches-input]", "16");
  await page.press("[data-testid=calib-batches-input]", "Enter");
  await page.waitForTimeout(600);
  assertEq(q(page).get("calib"), "16", "calibration batches in the URL");
  // The stream's speed is a typed control: in the link, and the link reopens it.
  await page.click("[data-testid=stream-speed] [data-value='4']");
  await page.waitForTimeout(600);
  assertEq(q(page).get("speed"), "4", "stream speed in the URL");
  await page.reload();
  await page.waitForSelector("[data-testid=stream-speed] [data-value='4'].selected");
  await shot("calibration");
});

test("playground: granularities, group size, downloads of .npy and .csv", async ({ page, open, context }) => {
  await open("?ch=playground");
  await page.waitForSelector("[data-testid=data-info]");
  await page.waitForSelector("[data-testid=groups-line]");
  assert(/384 groups/.test(await page.textContent("[data-testid=groups-line]")), "default: one pair per column of 126 × 384");
  const perColumn = await readout(page, "mse-readout");
  await page.click("[data-testid=granularity-toggle] [data-value=tensor]");
  await page.waitForFunction(() => /^1 groups/.test(document.querySelector("[data-testid=groups-line]").textContent));
  const perTensor = await readout(page, "mse-readout");
  assert(perTensor > perColumn, `finer granularity, smaller error (${perTensor} > ${perColumn})`);
  await page.click("[data-testid=granularity-toggle] [data-value=group]");
  await page.selectOption("[data-testid=group-size]", "128");
  await page.waitForFunction(() => /378 groups/.test(document.querySelector("[data-testid=groups-line]").textContent));
  const [npy] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=download-npy]")]);
  const bytes = fs.readFileSync(await npy.path());
  assertEq(bytes.subarray(1, 6).toString(), "NUMPY", "a .npy file");
  assert(/\(126, 384\)/.test(bytes.subarray(10, 128).toString()), "same shape as the input");
  assertEq(bytes.length, 128 + 126 * 384 * 4, "f32 payload");
  const [csv] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=download-csv]")]);
  const lines = fs.readFileSync(await csv.path(), "utf8").trim().split("\n");
  assertEq(lines.length, 1 + 378 + 1, "header, one line per group, overall");
  // Group size that does not divide the row: a clear message.
  await page.goto(page.url().replace(/group=\d+/, "") + "&data=gauss&gran=group&group=100");
  await page.waitForSelector("[data-testid=playground-error]");
});

test("playground: every number format on the tensor, the same numbers as the CLI", async ({ page, open, shot }) => {
  await open("?ch=playground");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=formats-table] tbody tr").length === 10, null, { timeout: 30000 });
  const rows = await page.$$eval("[data-testid=formats-table] tbody tr", (trs) => trs.map((tr) => [tr.dataset.format, ...[...tr.children].map((td) => td.textContent)]));
  assertEq(rows.map((r) => r[0]).join(","), "int8,int4-g32,e4m3,e5m2,mxfp8,e2m1,mxfp4,nvfp4,bf16,fp16", "every format, in order");
  const row = Object.fromEntries(rows.map((r) => [r[0], { mse: Number(r[2]), sqnr: Number(r[3]), bpv: Number(r[5]) }]));
  for (const [k, v] of Object.entries(row)) assert(v.mse >= 0 && v.bpv > 0, `${k}: numbers ${JSON.stringify(v)}`);
  assertEq(row.mxfp4.bpv, 4.25, "MXFP4 costs 4.25 bits");
  assertEq(row.mxfp8.bpv, 8.25, "MXFP8 costs 8.25 bits");
  assert(row.fp16.sqnr > row.bf16.sqnr && row.bf16.sqnr > row.e4m3.sqnr, "more mantissa bits, less error");
  // The page's wasm engine and the native CLI agree on the same file (4 significant digits shown).
  const cli = path.join(repo, "target/debug/quantlab");
  assert(fs.existsSync(cli), "target/debug/quantlab: make test builds it (cargo test) before the browser tests");
  for (const f of ["e4m3", "mxfp4", "nvfp4", "bf16"]) {
    const j = JSON.parse(execFileSync(cli, ["quantize", "--input", path.join(repo, "assets/data/minilm/L5_fc1_X.npy"), "--format", f]));
    assert(Math.abs(j.mse - row[f].mse) <= 5e-4 * j.mse, `${f}: page MSE ${row[f].mse}, CLI ${j.mse}`);
    assertEq(Number(j.bits_per_value.toFixed(3)), row[f].bpv, `${f}: bits per value`);
  }
  const verdict = await page.textContent("[data-testid=formats-verdict]");
  assert(/at 8 bits .* beats .* dB/.test(verdict), "the verdict is measured: " + verdict);
  // Data without outliers turns it: INT8 beats FP8 E4M3 on a Gaussian.
  await open("?ch=playground&data=gauss");
  await page.waitForFunction(() => /INT8 beats FP8 E4M3/.test(document.querySelector("[data-testid=formats-verdict]")?.textContent || ""), null, { timeout: 30000 });
  await page.locator("[data-testid=formats-section]").scrollIntoViewIfNeeded();
  await shot("playground-formats");
});

test("why: model sizes from the architecture, and a live int8 vs f32 benchmark", async ({ page, open, shot }) => {
  await open("?ch=why");
  assert(/22713216/.test(await page.textContent("figcaption")), "MiniLM's parameter count");
  await page.click("[data-testid=model-toggle] [data-value=llama7b]");
  await page.waitForFunction(() => /6738415616/.test(document.querySelector("figcaption").textContent));
  const scales = await page.$$eval("[data-testid=overhead-table] tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const mx = scales.find((r) => /^MX/.test(r[0])), nv = scales.find((r) => /^NVFP4/.test(r[0]));
  assertEq(mx[1], "0.2500", "MX: one byte per 32 weights");
  assert(/^MXFP8 /.test(mx[2]) && /^MXFP4 /.test(mx[3]), "MXFP8 and MXFP4 sizes: " + mx.join(" | "));
  assert(Number(nv[1]) >= 0.5 && Number(nv[1]) < 0.5001 && /^NVFP4 /.test(nv[3]) && nv[2] === "—", "NVFP4: " + nv.join(" | "));
  await page.click("[data-testid=bench-run]");
  await page.waitForSelector("[data-testid=bench-progress]");
  await page.waitForFunction(() => !document.querySelector("[data-testid=bench-progress]"), null, { timeout: 120000 });
  const rows = await page.$$eval("[data-testid=bench-table] tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  assertEq(rows.length, 12, "3 shapes × 4 operations");
  for (const r of rows) assert(parseFloat(r[2]) > 0 && / ms$/.test(r[2]), "positive GOPS and a time: " + r.join(" | "));
  const speedups = rows.filter((r) => /int8 GEMM/.test(r[1])).map((r) => parseFloat(r[r.length - 1]));
  console.log("    int8 GEMM speed-up over f32 in Chromium: " + speedups.map((s) => s.toFixed(2) + "×").join(", "));
  await shot("why-benchmark");
  // Running twice does not run twice: the button stops a running benchmark.
  await page.click("[data-testid=bench-run]");
  await page.click("[data-testid=bench-run]");
  assert(!(await page.$("[data-testid=bench-progress]")), "stopped");
});

test("qat: train FP32, quantize, fine-tune: accuracies and curves appear, the page stays responsive", async ({ page, open, shot }) => {
  await open("?ch=qat&wbits=2&abits=2&epochs=6&qepochs=3");
  await page.waitForFunction(() => /1442/.test(document.querySelector("[data-testid=digits-info]").textContent));
  await page.click("[data-testid=train-fp32]");
  // While training, the page answers: switching language is immediate.
  await page.click("[data-testid=lang-toggle]");
  await page.waitForFunction(() => document.documentElement.lang === "ko");
  await page.waitForFunction(() => /%/.test(document.querySelector("[data-testid=acc-fp32]").textContent), null, { timeout: 60000 });
  await page.waitForFunction(() => /QAT|done/.test(document.querySelector("[data-testid=qat-status]").textContent), null, { timeout: 60000 });
  const fp32 = parseFloat(await page.textContent("[data-testid=acc-fp32]"));
  const ptq = parseFloat(await page.textContent("[data-testid=acc-ptq]"));
  assert(fp32 > 85, `FP32 trains (${fp32} %)`);
  assert(ptq < fp32, `PTQ at 2 bits loses accuracy (${ptq} % < ${fp32} %)`);
  await page.click("[data-testid=train-qat]");
  await page.waitForFunction(() => /%/.test(document.querySelector("[data-testid=acc-qat]").textContent), null, { timeout: 60000 });
  await page.waitForFunction(() => Number(document.querySelector("[data-testid=qat-progress]").value) >= 0.999, null, { timeout: 60000 });
  const qat = parseFloat(await page.textContent("[data-testid=acc-qat]"));
  console.log(`    digits, W2A2, 6+3 epochs: FP32 ${fp32} %, PTQ ${ptq} %, QAT ${qat} %`);
  assert(qat > ptq, `QAT recovers what PTQ lost at 2 bits (${qat} % > ${ptq} %)`);
  await shot("qat-trained");
});
