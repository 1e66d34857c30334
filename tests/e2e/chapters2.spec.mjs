// Chapters on real MiniLM layers: outliers, SmoothQuant, rotations, summary.
import { test, assert, assertEq } from "./harness.mjs";

const value = async (page, id) => Number(await page.getAttribute(`[data-testid=${id}]`, "data-value"));
const q = (page) => new URL(page.url()).searchParams;
const layerReady = (page) => page.waitForSelector("[data-testid=layer-info]", { timeout: 60000 });

test("outliers: heat map with token labels, granularity table, ablation slider", async ({ page, open, shot }) => {
  await open("?ch=outliers");
  await layerReady(page);
  const stats = await page.textContent("[data-testid=outlier-stats]");
  assert(/12\.36/.test(stats) && /\[CLS\]/.test(stats) && /#223/.test(stats), "layer 5's known outliers: " + stats);
  const box = await page.locator("[data-testid=heatmap-chart]").boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 2 });
  await page.waitForFunction(() => /token “/.test(document.querySelector("[data-testid=heat-hover]").textContent));
  const rows = await page.$$eval("[data-testid=granularity-table] tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  assertEq(rows.length, 6, "3 granularities × 2 bit widths");
  const y = (r) => parseFloat(r[3]);
  assert(y(rows[2]) < y(rows[1]) && y(rows[1]) < y(rows[0]), "channel < token < tensor at 8 bits");
  // Zeroing the top 4 channels moves Y more than zeroing the top 1 (layer 5: #223 dominates).
  await page.waitForFunction(() => document.querySelector("[data-testid=ablation-readout]").dataset.value);
  const top4 = await value(page, "ablation-readout");
  await page.fill("[data-testid=ablation-slider-input]", "1");
  await page.press("[data-testid=ablation-slider-input]", "Enter");
  await page.waitForFunction((b) => Number(document.querySelector("[data-testid=ablation-readout]").dataset.value) !== b, top4);
  const top1 = await value(page, "ablation-readout");
  assert(top1 > 0 && top1 < top4, `zeroing 1 channel changes Y less than zeroing 4 (${top1} < ${top4})`);
  await page.selectOption("[data-testid=layer-select]", "l0fc2");
  await page.waitForFunction(() => /1536 channels|채널 1536/.test(document.querySelector("[data-testid=layer-info]")?.textContent || ""), null, { timeout: 60000 });
  await page.waitForTimeout(600);
  assertEq(q(page).get("layer"), "l0fc2", "layer in the URL");
  await shot("outliers-l0fc2");
});

test("smoothquant: α moves the error, the sweep finds the best α, numbers match the reference", async ({ page, open, shot }) => {
  await open("?ch=smoothquant");
  await layerReady(page);
  await page.waitForFunction(() => document.querySelector("[data-testid=best-alpha-readout]").dataset.value, null, { timeout: 60000 });
  // Fixtures from the NumPy reference (tests/fixtures/smooth_layers.json): L5 fc1, W8A8 per token.
  const base = await value(page, "baseline-error-readout");
  assert(Math.abs(base - 0.02232) < 2e-4 * 0.02232 + 5e-6, `baseline ${base} ≈ 0.02232`);
  assertEq((await value(page, "best-alpha-readout")).toFixed(2), "0.55", "best α on L5 fc1, per token");
  const at05 = await value(page, "smooth-error-readout");
  await page.fill("[data-testid=alpha-slider-input]", "0.9");
  await page.press("[data-testid=alpha-slider-input]", "Enter");
  await page.waitForFunction((v) => Number(document.querySelector("[data-testid=smooth-error-readout]").dataset.value) !== v, at05);
  const at09 = await value(page, "smooth-error-readout");
  assert(at09 > at05, `α = 0.9 is worse than 0.5 here (${at09} > ${at05})`);
  const identity = await value(page, "identity-check");
  assert(identity >= 0 && identity < 1e-4, `the float identity (X/s)·(s·W) = X·W holds to rounding: ${identity}`);
  await page.click("[data-testid=sq-act] [data-value=tensor]");
  await page.waitForFunction(() => document.querySelector("[data-testid=best-alpha-readout]").dataset.value === "0.7", null, { timeout: 60000 });
  await shot("smoothquant-per-tensor");
});

test("rotation: θ slider, Hadamard on a real layer, learned rotation lowers its loss", async ({ page, open, shot }) => {
  await open("?ch=rotation");
  const toy0 = await page.textContent("[data-testid=toy-readout]");
  await page.fill("[data-testid=theta-slider-input]", "45");
  await page.press("[data-testid=theta-slider-input]", "Enter");
  await page.waitForFunction((t) => document.querySelector("[data-testid=toy-readout]").textContent !== t, toy0);
  const mse = (t) => parseFloat(t.match(/([\d.]+) %\.?$/)[1]);
  assert(mse(await page.textContent("[data-testid=toy-readout]")) < mse(toy0), "45° beats 0° in the toy");
  await layerReady(page);
  await page.waitForFunction(() => document.querySelector("[data-testid=rotation-error-readout]").dataset.value, null, { timeout: 60000 });
  const had = await value(page, "rotation-error-readout");
  assert(Math.abs(had - 0.1631) < 0.001, `Hadamard W4A4 per-token on L5 ≈ 0.1631 (fixture), got ${had}`);
  await page.selectOption("[data-testid=rotation-select]", "none");
  await page.waitForFunction((h) => Number(document.querySelector("[data-testid=rotation-error-readout]").dataset.value) > 2 * h, had, { timeout: 60000 });
  await page.click("[data-testid=learn-start]");
  await page.waitForFunction(() => parseInt(document.querySelector("[data-testid=learn-steps]").textContent) >= 15, null, { timeout: 60000 });
  await page.click("[data-testid=learn-start]");
  await page.waitForFunction(() => /→/.test(document.querySelector("[data-testid=learn-result]").textContent));
  const [first, last] = (await page.textContent("[data-testid=learn-result]")).match(/[\d.]+/g).map(Number);
  assert(last < first, `the learned rotation lowers its loss (${first} → ${last})`);
  // Against its start: the start's error is √(first loss), and the best iterate is never worse.
  await page.waitForFunction(() => /%.*%/.test(document.querySelector("[data-testid=learn-gain]").textContent));
  const gain = await page.textContent("[data-testid=learn-gain]");
  const [startErr, change] = gain.match(/[-+]?\d+\.\d+ %/g).map(parseFloat);
  assert(Math.abs(startErr / 100 - Math.sqrt(first)) < 2e-4, `start error ${startErr} % = √${first}`);
  assert(change <= 0, `learning never ends worse than its start: ${gain}`);
  await shot("rotation-learned");
});

test("summary: one table compares every method on the same layer", async ({ page, open, shot }) => {
  await open("?ch=summary&bits=w4a4");
  await layerReady(page);
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=summary-table] tbody tr td:nth-child(2)")].every((td) => /%/.test(td.textContent)), null, { timeout: 90000 });
  const errs = await page.$$eval("[data-testid=summary-table] tbody tr", (trs) => trs.map((tr) => parseFloat(tr.children[1].textContent)));
  assertEq(errs.length, 7, "seven methods");
  assert(errs[3] < errs[1] / 2 && errs[4] < errs[1] / 2, `SmoothQuant and Hadamard more than halve per-token W4A4 error: ${errs}`);
  // The whole model's column: the same methods on all 36 linears, once the model is loaded.
  await page.click("[data-testid=summary-model-load]");
  await page.waitForFunction(() => [0, 1, 2, 3, 4].every((i) => /^\d\.\d{4} \(/.test(document.querySelector(`[data-testid=summary-model-${i}]`)?.textContent.trim() || "")), null, { timeout: 180000 });
  const cos = await page.$$eval("[data-testid^=summary-model-]:not([data-testid$=note]):not([data-testid$=load])", (tds) => tds.map((td) => parseFloat(td.textContent)));
  assert(cos[0] < cos[1] && cos[4] > cos[1] + 0.05 && cos[2] > cos[1], `whole model at W4A4: per-tensor < per-token < Hadamard, weights only above per-token: ${cos}`);
  assert(Number.isNaN(cos[5]) && Number.isNaN(cos[6]), "no whole-model number for the random and learned rotations");
  await shot("summary-w4a4");
});
