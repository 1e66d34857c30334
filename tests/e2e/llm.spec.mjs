// The language-model chapter: nothing fetched until asked, the model's download, the numbers
// against the CLI's (perplexity, continuation, massive activation), the story (per-tensor
// loses to per-token, W4A4 breaks and Hadamard mends it, the outliers matter), junk links and a
// foreign .gguf.
import fs from "node:fs";
import { test, assert, assertEq, PHONE, repo } from "./harness.mjs";

/** What `quantlab llm` gives natively (tests/fixtures/gen_llm_page.py). */
const FIXTURE = JSON.parse(fs.readFileSync(`${repo}/tests/fixtures/llm_page.json`, "utf8"));
const setting = (query) => FIXTURE.settings.find((s) => s.query === query);

const runs = (page) => page.evaluate(() => Number(document.querySelector("[data-testid=llm-ppl-quant]")?.dataset.run || 0));
/** Waits for a run newer than `before`; the perplexities, KL and top-1 it shows. */
async function after(page, before) {
  await page.waitForFunction((b) => {
    const el = document.querySelector("[data-testid=llm-ppl-quant]");
    return Number(el?.dataset.run || 0) > b && !el.closest(".updating") && /\d/.test(el.textContent);
  }, before, { timeout: 120000 });
  return page.evaluate(() => {
    const n = (id) => parseFloat(document.querySelector(`[data-testid=${id}]`).textContent);
    const exact = (id) => parseFloat(document.querySelector(`[data-testid=${id}]`).dataset.value);
    return { full: exact("llm-ppl-full"), quant: exact("llm-ppl-quant"), kl: n("llm-kl"), top1: n("llm-top1") };
  });
}
const load = async (page) => {
  await page.click("[data-testid=llm-load]");
  await page.waitForSelector("[data-testid=llm-progress][data-state=ready]", { timeout: 120000 });
};
const close = (a, b, rel) => Math.abs(a - b) <= rel * Math.abs(b);

test("llm: loads only when asked; full precision writes and scores as the CLI; the massive activation is the CLI's", async ({ page, open, shot }) => {
  const asked = [];
  page.on("request", (r) => { if (r.url().endsWith(".gguf")) asked.push(r.url()); });
  await open("?ch=llm");
  await page.waitForSelector("[data-testid=llm-load]");
  await page.waitForTimeout(300);
  assertEq(asked.length, 0, "no model request before the reader asks");
  await load(page);
  const got = await after(page, 0);
  const cli = setting("");
  assert(close(got.full, FIXTURE.full_precision_ppl, 2e-4), `full precision ppl ${got.full} vs CLI ${FIXTURE.full_precision_ppl}`);
  assert(close(got.quant, cli.ppl, 0.02), `W8A8 per-token ppl ${got.quant} vs CLI ${cli.ppl}`);
  assert(got.top1 > 80 && got.kl < 0.2, `W8A8 per-token agrees: top-1 ${got.top1} %, KL ${got.kl}`);
  // The continuations, streamed: full precision is the CLI's greedy text.
  await page.waitForSelector("[data-testid=llm-gen-full][data-done=true]", { timeout: 120000 });
  await page.waitForSelector("[data-testid=llm-gen-quant][data-done=true]", { timeout: 120000 });
  const written = await page.$eval("[data-testid=llm-gen-full]", (el) => [...el.querySelectorAll(".lt:not(.special)")].map((t) => t.textContent).join(""));
  assertEq(written, FIXTURE.generate.full.new_text, "full precision continues as the CLI does");
  const quantWritten = await page.$eval("[data-testid=llm-gen-quant]", (el) => [...el.querySelectorAll(".lt:not(.special)")].map((t) => t.textContent).join(""));
  assertEq(quantWritten, FIXTURE.generate.w8a8.new_text, "W8A8 per-token continues as the CLI does");
  const tps = await page.textContent("[data-testid=llm-tps]");
  assert(/wasm-(relaxed-simd|simd128)/.test(tps) && /\d+\.\d tokens\/s/.test(tps), "speed with the kernel path: " + tps);
  // The massive activation: the layer it appears at, its token and channel as `llm capture`.
  const layer = Number(await page.getAttribute("[data-testid=llm-massive]", "data-layer"));
  const cap = FIXTURE.residual[layer];
  const readout = await page.textContent("[data-testid=llm-massive]");
  assert(new RegExp(`layer ${layer}: token ${cap.token} .*channel ${cap.channel}, \\|x\\| = ${cap.max_abs.toFixed(1)}`).test(readout),
    `massive activation ${readout} vs capture ${JSON.stringify(cap)}`);
  assert(layer >= 2 && cap.max_abs > 1000, `a massive activation (layer ${layer}, ${cap.max_abs})`);
  // Sun et al.'s intervention there: 0 ruins the model, its mean over other texts does not.
  await page.click("[data-testid=llm-massive-intervene]");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=llm-massive-intervention] li[data-ppl]").length === 2, null, { timeout: 120000 });
  const edits = await page.$$eval("[data-testid=llm-massive-intervention] li[data-ppl]", (lis) => Object.fromEntries(lis.map((li) => [li.dataset.kind, Number(li.dataset.ppl)])));
  assert(edits.Zero > 100 * got.full && close(edits.Mean, got.full, 0.05), `set to 0: ${edits.Zero}; to its mean: ${edits.Mean} (as it is: ${got.full})`);
  // Every method on the paragraph, filled in as each finishes.
  await page.click("[data-testid=llm-methods-run]");
  await page.waitForFunction(() => document.querySelectorAll("[data-testid=llm-methods-table] tbody tr").length === 9, null, { timeout: 180000 });
  const table = await page.$$eval("[data-testid=llm-methods-table] tbody tr", (trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.method || "Full", Number(tr.children[1].textContent)])));
  assert(close(table.W8A8Token, got.quant, 0.005) && close(table.Full, got.full, 0.005), `the table's W8A8 per-token and full precision are the readouts: ${JSON.stringify(table)}`);
  assert(table.W8A8Tensor > table.W8A8Token && table.W4A4 > 10 * table.W4A4Hadamard && table.W8A8Drop > 1000, `the table tells the story: ${JSON.stringify(table)}`);
  // The table built its copies in place of the reader's; a new prompt still gets both columns.
  await page.fill("[data-testid=llm-prompt]", "Once upon a time, in a small village,");
  await page.press("[data-testid=llm-prompt]", "Enter");
  await page.waitForFunction(() => /Once upon/.test(document.querySelector("[data-testid=llm-gen-quant]")?.textContent || "")
    && document.querySelector("[data-testid=llm-gen-quant]").dataset.done === "true", null, { timeout: 120000 });
  await shot("llm-desktop-en");
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `no horizontal scrolling at 375 px (overflow ${overflow}px)`);
  await shot("llm-phone-en");
});

test("llm: per-tensor loses to per-token, SmoothQuant mends it, W4A4 breaks and Hadamard mends it, two channels ruin it", async ({ page, open }) => {
  const seen = {};
  for (const s of FIXTURE.settings) {
    await open(`?ch=llm&${s.query}`);
    await load(page);
    const got = await after(page, 0);
    seen[s.query] = got.quant;
    // Quantized settings of this model are chaotic (a rounding tie moves everything after it),
    // so the page equals the CLI to a few per cent, and their order exactly.
    assert(close(got.quant, s.ppl, 0.05), `${s.query || "(default)"}: ppl ${got.quant} vs CLI ${s.ppl}`);
  }
  assert(seen["act=tensor"] > 1.3 * seen[""], `per-tensor ${seen["act=tensor"]} ≫ per-token ${seen[""]}`);
  assert(seen["act=tensor&alpha=0.5"] < seen["act=tensor"], "SmoothQuant takes some of it back");
  assert(seen["bits=w4a4"] > 10 * seen[""] && seen["bits=w4a4&rot=hadamard"] < seen["bits=w4a4"] / 3, `W4A4 ${seen["bits=w4a4"]}, + Hadamard ${seen["bits=w4a4&rot=hadamard"]}`);
  assert(seen["drop=2"] > 100 * seen[""], `two outlier channels set to 0: ${seen["drop=2"]}`);
});

test("llm: controls follow the link; junk falls back with a notice; a foreign .gguf is refused and the page keeps working", async ({ page, open, shot }) => {
  await open("?ch=llm&bits=w9a9&drop=99&act=sideways&lang=ko");
  const notices = await page.textContent("body");
  assert(/w9a9/.test(notices) && /sideways/.test(notices), "junk values are named in a notice");
  await page.setInputFiles("[data-testid=llm-file]", { name: "foreign.gguf", mimeType: "application/octet-stream", buffer: Buffer.from("GGUF\x03\x00\x00\x00 this is not a model") });
  await page.waitForSelector("[data-testid=llm-error]", { timeout: 20000 });
  const err = await page.textContent("[data-testid=llm-error]");
  assert(/foreign\.gguf/.test(err), "the message names the file: " + err);
  // Cancel stops the download; Load starts it again.
  await page.evaluate(async () => {
    document.querySelector("[data-testid=llm-load]").click();
    await new Promise((r) => setTimeout(r, 60));
    document.querySelector("[data-testid=llm-cancel]").click();
  });
  await page.waitForSelector("[data-testid=llm-progress][data-state=cancelled]", { timeout: 20000 });
  await page.click("[data-testid=llm-load]");
  await page.waitForSelector("[data-testid=llm-progress][data-state=ready]", { timeout: 120000 });
  await after(page, 0);
  await page.click("[data-testid=llm-bits] [data-value=w4a8]");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("bits") === "w4a8");
  await page.fill("[data-testid=llm-prompt]", "The largest planet in our solar system is");
  await page.press("[data-testid=llm-prompt]", "Enter");
  await page.waitForFunction(() => new URL(location.href).searchParams.get("prompt")?.startsWith("The largest"));
  await page.waitForSelector("[data-testid=llm-gen-full][data-done=true]", { timeout: 120000 });
  const written = await page.textContent("[data-testid=llm-gen-full]");
  assert(/Jupiter/.test(written), "full precision knows its planets: " + written);
  await page.waitForSelector("[data-testid=llm-gen-quant][data-done=true]", { timeout: 120000 });
  await shot("llm-desktop-ko");
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `no horizontal scrolling at 375 px (overflow ${overflow}px)`);
  await shot("llm-phone-ko");
  // Offline after the first load: the model comes from the cache.
  await page.waitForTimeout(3000); // the cache write of 98 MB
  await page.context().setOffline(true);
  await page.reload();
  await page.waitForSelector("[data-testid=llm-load]", { timeout: 30000 });
  await page.click("[data-testid=llm-load]");
  await page.waitForSelector("[data-testid=llm-progress][data-state=ready]", { timeout: 60000 });
  await page.context().setOffline(false);
});

test("llm: a model replaced while its runs are under way: a refused file keeps it; your own .gguf, then Load again, leave no error", async ({ page, open }) => {
  await open("?ch=llm");
  await load(page);
  assert(await page.isDisabled("[data-testid=llm-load]"), "the shipped model loaded: Load again would only drop the work");
  // A foreign file while the first run is under way: refused, the loaded model stays.
  await page.setInputFiles("[data-testid=llm-file]", { name: "foreign.gguf", mimeType: "application/octet-stream", buffer: Buffer.from("GGUF\x03\x00\x00\x00 this is not a model") });
  await page.waitForSelector("[data-testid=llm-error]", { timeout: 20000 });
  const err = await page.textContent("[data-testid=llm-error]");
  assert(/foreign\.gguf/.test(err) && /still in use/.test(err), "named, and the model kept: " + err);
  assertEq(await page.getAttribute("[data-testid=llm-progress]", "data-state"), "ready", "the loaded model stays");
  const first = await after(page, 0);
  assert(close(first.full, FIXTURE.full_precision_ppl, 2e-4), `the kept model still scores: ${first.full}`);
  // The reader's own copy of the model replaces it while the runs are going…
  await page.click("[data-testid=llm-bits] [data-value=w4a4]");
  await page.setInputFiles("[data-testid=llm-file]", `${repo}/.tools/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`);
  await page.waitForFunction(() => /Your file/.test(document.querySelector("[data-testid=llm-progress][data-state=ready]")?.textContent || ""), null, { timeout: 60000 });
  assert(!(await page.$("[data-testid=llm-error]")), "a good file clears the refusal");
  // …and Load takes the shipped one back in the middle of them (the runs of the old model end
  // with it: this once panicked on a disposed signal).
  await page.waitForTimeout(150);
  const before = await runs(page);
  await page.click("[data-testid=llm-load]");
  await page.waitForTimeout(400);
  await page.click("[data-testid=llm-bits] [data-value=w8a8]").catch(() => {});
  await page.waitForSelector("[data-testid=llm-progress][data-state=ready]", { timeout: 120000 });
  const again = await after(page, before);
  assert(close(again.full, FIXTURE.full_precision_ppl, 2e-4), `the shipped model scores again: ${again.full}`);
  assert(!(await page.isVisible("[data-testid=error-banner]").catch(() => false)), "no error banner");
});

test("SmolLM2: your text in the outliers, SmoothQuant and rotation chapters: the LLM's own activations", async ({ page, open, shot }) => {
  const down11 = FIXTURE.down11;
  for (const [slug, ready] of [["outliers", "[data-testid=outlier-stats]"], ["smoothquant", "[data-testid=smooth-error-readout][data-value]"], ["rotation", "[data-testid=rotation-error-readout][data-value]"]]) {
    await open(`?ch=${slug}`);
    await page.waitForSelector("[data-testid=layer-info]", { timeout: 60000 });
    assert(await page.$("[data-testid=layer-select] [data-testid=data-llm-text]"), `${slug}: the option is there`);
    await page.selectOption("[data-testid=layer-select]", "llm");
    await page.fill("[data-testid=own-text]", FIXTURE.text);
    await page.press("[data-testid=own-text]", "Enter");
    await page.selectOption("[data-testid=own-layer]", "11");
    await page.selectOption("[data-testid=own-linear]", "fc2");
    await page.waitForFunction(() => /Layer 11, fc2 input.*X \d+ tokens × 1536 channels/.test(document.querySelector("[data-testid=layer-info]")?.textContent || ""), null, { timeout: 120000 });
    await page.waitForSelector(ready, { timeout: 60000 });
    if (slug === "outliers") {
      // Layer 11's down-projection input: token 0's spike in the channel `llm capture` names.
      const stats = await page.textContent("[data-testid=outlier-stats]");
      assert(new RegExp(`#${down11.channel}\\b`).test(stats), `the spike's channel ${down11.channel}: ${stats}`);
    }
    await page.waitForTimeout(500);
    const params = new URL(page.url()).searchParams;
    assert(params.get("layer") === "llm" && params.get("olayer") === "11" && params.get("olin") === "fc2", `${slug}: the link holds the layer: ${page.url()}`);
  }
  // SmolLM2's 576 channels have no full Hadamard here: refused, with a message and no readout
  // left waiting; its own construction (blocks of 64) does, and the note says which.
  await page.selectOption("[data-testid=own-linear]", "qkv");
  await page.waitForFunction(() => /576 channels/.test(document.querySelector("[data-testid=layer-info]")?.textContent || ""), null, { timeout: 60000 });
  await page.selectOption("[data-testid=rotation-select]", "hadamard");
  await page.waitForSelector("[data-testid=rotation-error]", { timeout: 60000 });
  assertEq(await page.textContent("[data-testid=rotation-error-readout]"), "—", "a refused rotation's readout says so");
  await page.selectOption("[data-testid=rotation-select]", "hadamard64");
  await page.waitForSelector("[data-testid=rotation-error-readout][data-value]", { timeout: 60000 });
  const note = await page.textContent("[data-testid=rotation-note]");
  assert(/576 channels are cut into blocks of 64/.test(note), "the note explains the block Hadamard: " + note);
  assert(!(await page.$("[data-testid=rotation-error]")), "the refusal is gone");
  // The learned rotation starts from the Hadamard these 576 channels have (blocks of 64) and
  // learns from there, never ending worse than its start.
  await page.click("[data-testid=learn-start]");
  await page.waitForFunction(() => parseInt(document.querySelector("[data-testid=learn-steps]").textContent) >= 5, null, { timeout: 60000 });
  await page.click("[data-testid=learn-start]");
  await page.waitForFunction(() => /%.*%/.test(document.querySelector("[data-testid=learn-gain]").textContent), null, { timeout: 60000 });
  const gain = await page.textContent("[data-testid=learn-gain]");
  assert(/hadamard-block:64/.test(gain), "the learned rotation starts from blocks of 64: " + gain);
  assert(parseFloat(gain.match(/[-+]\d+\.\d+ %/)[0]) <= 0, "never worse than its start: " + gain);
  await shot("llm-text-rotation");
});

test("summary: the SmolLM2 column gives each method's perplexity on the language model", async ({ page, open }) => {
  await open("?ch=summary");
  await page.waitForSelector("[data-testid=summary-llm-note]");
  await page.click("[data-testid=summary-llm-load]");
  await page.waitForFunction(() => [0, 1, 3, 4].every((i) => document.querySelector(`[data-testid=summary-llm-${i}]`)?.dataset.ppl), null, { timeout: 180000 });
  const ppl = await page.$$eval("[data-testid^=summary-llm-]:not([data-testid$=note]):not([data-testid$=load])", (tds) => tds.map((td) => Number(td.dataset.ppl || NaN)));
  assert(close(ppl[1], setting("").ppl, 0.02), `per-token W8A8 ${ppl[1]} is the CLI's ${setting("").ppl}`);
  assert(close(ppl[0], setting("act=tensor").ppl, 0.05), `per-tensor W8A8 ${ppl[0]} is the CLI's ${setting("act=tensor").ppl}`);
  assert(Number.isNaN(ppl[2]) && Number.isNaN(ppl[5]) && Number.isNaN(ppl[6]), `no LLM number for weights-only and the random and learned rotations: ${ppl}`);
  assert(ppl[0] > ppl[1] && ppl[3] < ppl[0], `per-tensor loses, SmoothQuant per token does not: ${ppl}`);
});
