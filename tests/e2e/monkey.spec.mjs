// Reliability in the real browser: a seeded monkey (random clicks, sliders to extremes, selects,
// keys, junk typed into number boxes, chapter jumps, language/theme/presenter toggles, rapid
// repeated clicks on long-running actions), bounded memory under 1,000 slider moves per chapter,
// and cancellation of long work. The harness fails a test on any console error, page error or
// failed request; these tests also fail on a visible [data-testid=error-banner].
//
//   MONKEY_SEED=7 MONKEY_STEPS=2000 node tests/e2e/run.mjs --grep monkey
//   MEMORY_MOVES=1000 node tests/e2e/run.mjs --grep memory
// Every monkey action is logged to target/e2e-monkey.log (seed, step, action), so a failing run
// is replayed by rerunning with the same seed against the same build.
import fs from "node:fs";
import path from "node:path";
import { test, assert, repo, PHONE, DESKTOP } from "./harness.mjs";
import { SLUGS, VOCABULARY } from "./shell.spec.mjs";

const SEED = Number(process.env.MONKEY_SEED ?? 1) >>> 0;
const STEPS = Number(process.env.MONKEY_STEPS ?? 300);
const MEMORY_MOVES = Number(process.env.MEMORY_MOVES ?? 200);

/** mulberry32: a tiny seeded PRNG, identical on every machine. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

/** Text that a reader (or a cat on the keyboard) might put in a number box. */
const JUNK = [
  "", " ", "abc", "-", "+", ".", "e", "1e309", "-1e309", "1e-320", "NaN", "Infinity", "-0", "0", "1", "-1",
  "99999999999999999999", "-99999999999999999999", "0x10", "1,5", "٣", "１２", "1e3", "2.5", "-2.5", "1e-7",
  "<script>alert(1)</script>", "'; DROP TABLE x; --", "9".repeat(400), "%00", "\u202e123",
];
const KEYS = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "p", "P", "Escape", "d", "Tab", "Home", "End", " ", "Enter", "PageDown"];
/** Buttons whose work runs over many frames: clicked in bursts. */
const LONG_ACTIONS = ["bench-run", "stream-play", "train-fp32", "train-qat", "train-reset", "qat-compare", "range-auto", "preset-seminar"];

/** A link a reader could have copied: a chapter and a few of its controls at allowed values. */
function validQuery(r) {
  const ch = r.pick(VOCABULARY.chapters);
  const parts = [`ch=${ch.slug}`];
  for (const c of ch.controls) {
    if (!r.chance(0.5)) continue;
    let v;
    if (c.options) v = r.pick(c.options.filter((o) => o !== "upload"));
    else if (c.kind === "int") v = String(c.min + r.int(c.max - c.min + 1));
    else {
      // Within the range on the control's step (the huge α/β limits: near the data instead).
      const [lo, hi] = c.max - c.min > 1e3 ? [-10, 10] : [c.min, c.max];
      const steps = Math.round((hi - lo) / c.step);
      v = String(+(lo + c.step * r.int(steps + 1)).toFixed(6));
    }
    parts.push(`${c.key}=${encodeURIComponent(v)}`);
  }
  return "?" + parts.join("&");
}

/**
 * One action inside the page. `r` is a list of random numbers drawn in Node (so the sequence
 * depends only on the seed and the DOM), `kind` the action. Returns a description, or null if
 * there was nothing to act on.
 */
function pageAction({ kind, r, junk }) {
  const visible = (el) => {
    if (!el.isConnected || el.disabled) return false;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return false;
    const st = getComputedStyle(el);
    return st.visibility !== "hidden" && st.display !== "none";
  };
  const name = (el) => {
    const id = el.dataset.testid || el.closest("[data-testid]")?.dataset.testid || "";
    const txt = (el.getAttribute("aria-label") || el.textContent || el.value || "").trim().slice(0, 24);
    return `${el.tagName.toLowerCase()}${id ? "[" + id + "]" : ""}${el.dataset.value ? "{" + el.dataset.value + "}" : ""} "${txt}"`;
  };
  const pick = (els, x) => els[Math.floor(x * els.length)];
  const fire = (el, type) => el.dispatchEvent(new Event(type, { bubbles: true }));
  const setValue = (el, v) => {
    const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, "value").set.call(el, v);
  };
  // Never: file inputs (no file dialog in a monkey run), downloads, links that leave the app,
  // the crash banner's reload button.
  const clickable = () =>
    [...document.querySelectorAll("button, [role=radio], [role=tab], a[href], summary, input[type=checkbox]")]
      .filter(visible)
      .filter((el) => !el.closest("[data-testid=error-banner]"))
      .filter((el) => !/^download-|^bench-copy$|png$/.test(el.dataset.testid || ""))
      // Links: only the app's own (?ch=… and #…); anything else would leave the app.
      .filter((el) => !(el.tagName === "A" && (el.hasAttribute("download") || el.target === "_blank" || !/^[?#]/.test(el.getAttribute("href")))));
  switch (kind) {
    case "click": {
      const el = pick(clickable(), r[0]);
      if (!el) return null;
      const d = name(el);
      el.click();
      return "click " + d;
    }
    case "burst": {
      const els = clickable().filter((el) => junk.long.includes(el.dataset.testid));
      const el = pick(els, r[0]);
      if (!el) return null;
      const n = 2 + Math.floor(r[1] * 5);
      for (let i = 0; i < n; i++) el.click();
      return `burst ×${n} ${name(el)}`;
    }
    case "slider": {
      const el = pick([...document.querySelectorAll("input[type=range]")].filter(visible), r[0]);
      if (!el) return null;
      const min = Number(el.min || 0), max = Number(el.max || 100);
      const where = r[1] < 0.3 ? min : r[1] < 0.6 ? max : min + (max - min) * r[2];
      setValue(el, String(where));
      fire(el, "input");
      if (r[3] < 0.5) fire(el, "change");
      return `slider ${name(el)} = ${where}`;
    }
    case "sweep": {
      // Drag a slider end to end in many small steps, as a hand would.
      const el = pick([...document.querySelectorAll("input[type=range]")].filter(visible), r[0]);
      if (!el) return null;
      const min = Number(el.min || 0), max = Number(el.max || 100);
      const n = 10 + Math.floor(r[1] * 30);
      for (let i = 0; i <= n; i++) {
        setValue(el, String(min + ((max - min) * i) / n));
        fire(el, "input");
      }
      fire(el, "change");
      return `sweep ${name(el)} ${n} steps`;
    }
    case "type": {
      const el = pick([...document.querySelectorAll("input[type=number], input[type=text], input:not([type])")].filter(visible), r[0]);
      if (!el) return null;
      const v = junk.values[Math.floor(r[1] * junk.values.length)];
      el.focus();
      setValue(el, v);
      fire(el, "input");
      fire(el, "change");
      el.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      return `type ${name(el)} ← ${JSON.stringify(v.slice(0, 30))}`;
    }
    case "select": {
      const el = pick([...document.querySelectorAll("select")].filter(visible), r[0]);
      if (!el || !el.options.length) return null;
      const opt = el.options[Math.floor(r[1] * el.options.length)];
      setValue(el, opt.value);
      fire(el, "input");
      fire(el, "change");
      return `select ${name(el)} = ${opt.value}`;
    }
    case "focus": {
      // Focus something (so the next key goes to a handle, a slider or the page).
      const els = [...document.querySelectorAll("[tabindex], input, button, select")].filter(visible).filter((el) => el.type !== "file");
      const el = pick(els, r[0]);
      if (!el) return null;
      el.focus();
      return "focus " + name(el);
    }
  }
  return null;
}

/** Fails if the crash banner is visible; returns whether a chapter is rendered. */
async function alive(page) {
  await page.waitForSelector("article[data-testid^=chapter-]", { timeout: 15000 }).catch(() => {});
  return page.evaluate(() => {
    const b = document.querySelector("[data-testid=error-banner]");
    if (b && b.getBoundingClientRect().height > 0) throw new Error("error banner: " + b.textContent.slice(0, 1500));
    return !!document.querySelector("article[data-testid^=chapter-]");
  });
}

test(`monkey: ${STEPS} random interactions (seed ${SEED}) leave no error and a live page`, async ({ page, open }) => {
  const r = rng(SEED);
  const logFile = path.join(repo, "target", "e2e-monkey.log");
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = [`monkey seed=${SEED} steps=${STEPS} started ${new Date().toISOString()}`];
  const t0 = Date.now();
  const junk = { values: JUNK, long: LONG_ACTIONS };
  const counts = {};
  const slow = [];
  // The harness collects console errors too, but only reports them when the test body returns;
  // keep them here so a failure shows the panic message next to the actions that caused it.
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text().slice(0, 2000)));
  fs.writeFileSync(logFile + ".partial", log[0] + "\n"); // grows step by step, for a run that is killed
  await open("?ch=" + r.pick(SLUGS));
  try {
    for (let step = 1; step <= STEPS; step++) {
      const stepStart = Date.now();
      const roll = r.next();
      let what = null;
      // A step that never returns (a wait on something that never comes) would stall the run
      // silently: fail it after a minute, naming the step.
      let hangTimer;
      const hang = new Promise((_, reject) => {
        hangTimer = setTimeout(() => reject(new Error(`step ${step} did not finish in 60 s (roll ${roll.toFixed(3)})`)), 60000);
      });
      const act = async () => {
      let what = null;
      try {
      const rs = [r.next(), r.next(), r.next(), r.next()];
      if (roll < 0.3) what = await page.evaluate(pageAction, { kind: "click", r: rs, junk });
      else if (roll < 0.42) what = await page.evaluate(pageAction, { kind: "slider", r: rs, junk });
      else if (roll < 0.47) what = await page.evaluate(pageAction, { kind: "sweep", r: rs, junk });
      else if (roll < 0.57) what = await page.evaluate(pageAction, { kind: "type", r: rs, junk });
      else if (roll < 0.64) what = await page.evaluate(pageAction, { kind: "select", r: rs, junk });
      else if (roll < 0.69) what = await page.evaluate(pageAction, { kind: "burst", r: rs, junk });
      else if (roll < 0.72) what = await page.evaluate(pageAction, { kind: "focus", r: rs, junk });
      else if (roll < 0.8) {
        const key = r.pick(KEYS);
        await page.keyboard.press(key);
        what = "key " + key;
      } else if (roll < 0.87) {
        const slug = r.pick(SLUGS);
        const nav = await page.$(`[data-testid=nav-${slug}]`);
        if (nav && (await nav.isVisible())) {
          await nav.click({ timeout: 30000 });
          what = "chapter " + slug;
        } else {
          // Contents hidden (presenter mode, phone width): jump with the keyboard instead.
          await page.keyboard.press(r.chance(0.5) ? "ArrowRight" : "ArrowLeft");
          what = "chapter (key) " + slug;
        }
      } else if (roll < 0.93) {
        const id = r.pick(["lang-toggle", "theme-toggle", "presenter-toggle"]);
        const el = await page.$(`[data-testid=${id}]`);
        if (el && (await el.isVisible())) {
          await el.click({ timeout: 30000 });
          what = "toggle " + id;
        } else {
          await page.keyboard.press("Escape");
          what = "toggle (hidden) → Escape";
        }
      } else if (roll < 0.96) {
        // Drag a range handle or a slider with the real pointer.
        const handles = await page.$$("[data-testid$=-handle] .grip, input[type=range]");
        const vis = [];
        for (const h of handles) if (await h.isVisible()) vis.push(h);
        const h = vis.length ? vis[r.int(vis.length)] : null;
        const box = h && (await h.boundingBox());
        if (box) {
          const dx = (r.next() - 0.5) * 900;
          await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
          await page.mouse.down();
          for (let i = 1; i <= 6; i++) await page.mouse.move(box.x + box.width / 2 + (dx * i) / 6, box.y + box.height / 2 + (r.next() - 0.5) * 20);
          await page.mouse.up();
          what = `drag ${Math.round(dx)} px`;
        }
      } else if (roll < 0.98) {
        const size = r.chance(0.5) ? PHONE : DESKTOP;
        await page.setViewportSize(size);
        what = `viewport ${size.width}`;
      } else if (r.chance(0.5)) {
        // A valid link (from the controls' own vocabulary) opens without a notice.
        const q = validQuery(r);
        await open(q);
        const notice = await page.$("[data-testid=url-notice]");
        assert(!notice, `valid link ${q} gave a notice: ${notice && (await notice.textContent())}`);
        what = "open valid " + q.slice(0, 120);
      } else {
        // A junk link typed into the address bar.
        const junkQuery = `?ch=${r.pick([...SLUGS, "nope", "%ZZ"])}&bits=${r.pick(JUNK).slice(0, 40)}&alpha=${encodeURIComponent(r.pick(JUNK))}&lang=${r.pick(["en", "ko", "xx"])}`;
        await open(junkQuery);
        what = "open " + junkQuery.slice(0, 120);
      }
      // Nothing of that kind on this chapter (no slider, no select): click something instead.
      if (what === null) what = await page.evaluate(pageAction, { kind: "click", r: [r.next()], junk });
      } catch (e) {
        // An in-app link that really navigates (e.g. a tour step's "link to this step") reloads
        // the page under the monkey's feet: wait for the app and go on. Anything else fails.
        if (!/Execution context was destroyed|navigat/i.test(String(e.message))) throw e;
        await page.waitForSelector("article[data-testid^=chapter-]", { timeout: 15000 });
        what = `${what ?? "action"} → page navigated to ${page.url().replace(/^.*\?/, "?").slice(0, 80)}`;
      }
      return what;
      };
      try {
        what = await Promise.race([act(), hang]);
      } finally {
        clearTimeout(hangTimer);
      }
      if (!page.url().includes("/quantlab/")) {
        await open("");
        what = `${what} → left the app; reopened`;
      }
      const kind = (what || "nothing").split(" ")[0];
      counts[kind] = (counts[kind] || 0) + 1;
      // A step that blocks the page for long is not an error, but it is reported (the slowest
      // ones are printed at the end): a frozen page is a reliability problem too.
      const stepMs = Date.now() - stepStart;
      if (stepMs > 1000) slow.push(`${step} (${stepMs} ms): ${what}`);
      log.push(`${step}\t${stepMs}ms\t${what ?? "(nothing to act on)"}`);
      fs.appendFileSync(logFile + ".partial", log[log.length - 1] + "\n");
      // Mostly give the app a frame; sometimes hammer it with no pause at all.
      if (r.chance(0.7)) await page.waitForTimeout(r.int(25));
      if (step % 10 === 0 || r.chance(0.2)) {
        if (!(await alive(page))) throw new Error(`no chapter rendered after step ${step}: ${what}`);
      }
      if (step % 500 === 0) console.log(`    monkey: ${step}/${STEPS} steps, ${Math.round((Date.now() - t0) / 1000)} s`);
    }
    await page.waitForTimeout(500); // let running jobs and debounced URL writes finish
    assert(await alive(page), "a chapter is rendered at the end");
  } catch (e) {
    log.push("FAILED: " + e.message);
    if (consoleErrors.length) log.push("console errors:\n" + consoleErrors.join("\n"));
    fs.writeFileSync(logFile, log.join("\n") + "\n");
    throw new Error(`${e.message}\n    console errors: ${consoleErrors.slice(0, 3).join("\n      ") || "none"}\n    last actions:\n      ${log.slice(-12).join("\n      ")}\n    full log: ${logFile}`);
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  log.push(`done in ${secs} s: ${JSON.stringify(counts)}`);
  log.push(`steps over 1 s: ${slow.length ? "\n  " + slow.join("\n  ") : "none"}`);
  if (slow.length) console.log(`    monkey: ${slow.length} step(s) over 1 s (page busy), slowest: ${slow.sort((a, b) => Number(b.match(/\((\d+) ms/)[1]) - Number(a.match(/\((\d+) ms/)[1])).slice(0, 3).join(" | ")}`);
  fs.writeFileSync(logFile, log.join("\n") + "\n");
  console.log(`    monkey: seed ${SEED}, ${STEPS} steps in ${secs} s, 0 errors; ${JSON.stringify(counts)}; log ${path.relative(repo, logFile)}`);
});

// ---- Memory ---------------------------------------------------------------------------------

/** Keeps the wasm instance's memory reachable: Trunk's loader passes it in this event. */
const CAPTURE_WASM_MEMORY = () => {
  addEventListener("TrunkApplicationStarted", (e) => {
    window.__wasmMemory = e.detail?.wasm?.memory;
  });
};

/** JS heap after a full GC (CDP, no --expose-gc needed) and the wasm linear memory size. */
async function memory(page, cdp) {
  await cdp.send("HeapProfiler.collectGarbage");
  await cdp.send("HeapProfiler.collectGarbage");
  const heap = await cdp.send("Runtime.getHeapUsage");
  const wasm = await page.evaluate(() => window.__wasmMemory?.buffer.byteLength ?? -1);
  const dom = await page.evaluate(() => document.getElementsByTagName("*").length);
  return { js: heap.usedSize, wasm, dom };
}

const MB = (b) => (b / 1048576).toFixed(1) + " MB";

test(`memory: ${MEMORY_MOVES} slider moves on each chapter with sliders stay bounded (JS heap, wasm memory, DOM)`, async ({ page, open, context }) => {
  await context.addInitScript(CAPTURE_WASM_MEMORY);
  const cdp = await context.newCDPSession(page);
  const report = [];
  for (const slug of SLUGS) {
    await open(`?ch=${slug}`);
    await page.waitForTimeout(1500); // data loads, first computations
    // The whole model: loaded and its first result shown before the warm-up, so the warm-up
    // fills its caches (the last quantized copies) and the measured moves show growth, if any.
    if (slug === "model") await page.waitForSelector("[data-testid=model-cos-0]", { timeout: 90000 });
    // Range inputs, and the α/β handles of the function chapter (role=slider, moved by keys).
    const n = await page.$$eval("input[type=range], [role=slider]", (els) => els.length);
    if (!n) continue;
    const move = (i) =>
      page.evaluate(
        ({ i }) => {
          const handles = [...document.querySelectorAll("[role=slider]")].filter((e) => e.getBoundingClientRect().width > 0);
          if (handles.length && i % 2 === 0) {
            // PageUp/PageDown in runs of 20: α and β sweep back and forth (and cross each other).
            const h = handles[(i >> 1) % handles.length];
            const key = Math.floor(i / 40) % 2 ? "PageDown" : "PageUp";
            h.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
            return;
          }
          const els = [...document.querySelectorAll("input[type=range]")].filter((e) => e.getBoundingClientRect().width > 0);
          const el = els[i % els.length];
          if (!el) return;
          const min = Number(el.min || 0), max = Number(el.max || 100);
          const t = (Math.sin(i * 0.7) + 1) / 2; // back and forth over the whole range
          Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(el, String(min + (max - min) * t));
          el.dispatchEvent(new Event("input", { bubbles: true }));
        },
        { i },
      );
    // Warm-up: caches and lazily built tables fill, the wasm memory reaches its working size.
    for (let i = 0; i < Math.min(100, MEMORY_MOVES); i++) {
      await move(i);
      // The model chapter computes only the newest position of a quick drag; pauses let some
      // runs finish, so its kept quantized copies are there before the measurement.
      if (slug === "model" && i % 5 === 4) await page.waitForTimeout(300);
    }
    await page.waitForTimeout(800);
    const before = await memory(page, cdp);
    const t0 = Date.now();
    for (let i = 0; i < MEMORY_MOVES; i++) {
      await move(i);
      if (i % 50 === 0) await page.waitForTimeout(16); // a frame now and then, as a hand gives
    }
    await page.waitForTimeout(1200); // let sliced jobs finish
    const after = await memory(page, cdp);
    const line = `${slug}: ${n} sliders/handles, ${MEMORY_MOVES} moves in ${((Date.now() - t0) / 1000).toFixed(1)} s; JS heap ${MB(before.js)} → ${MB(after.js)}, wasm ${MB(before.wasm)} → ${MB(after.wasm)}, DOM ${before.dom} → ${after.dom} elements`;
    console.log("    " + line);
    report.push(line);
    assert(await alive(page), "page alive on " + slug);
    // Bounded: the heap may wobble (caches, JIT) but must not grow with the number of moves.
    assert(after.js - before.js < 8 * 1048576, `JS heap grew by ${MB(after.js - before.js)} on ${slug}`);
    assert(after.wasm < 0 || after.wasm - before.wasm <= 16 * 1048576, `wasm memory grew by ${MB(after.wasm - before.wasm)} on ${slug}`);
    assert(after.dom - before.dom < 200, `DOM grew by ${after.dom - before.dom} elements on ${slug}`);
  }
  assert(report.length > 0, "some chapter has sliders");
  fs.writeFileSync(path.join(repo, "target", "e2e-memory.txt"), report.join("\n") + "\n");
}, { serial: true }); // measures memory: alone on the machine

// ---- Cancellation ---------------------------------------------------------------------------

/** Main-thread script time (ms) spent during `ms` of idle waiting: ~0 when nothing runs. */
async function busyMs(page, cdp, ms) {
  const get = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const a = await get();
  await page.waitForTimeout(ms);
  const b = await get();
  return (b.TaskDuration - a.TaskDuration) * 1000;
}

test("long work is cancellable: leaving 'why' stops the benchmark; a double click does not run it twice", async ({ page, open, context }) => {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  await open("?ch=why");
  await page.waitForTimeout(300);
  const idle = await busyMs(page, cdp, 1000);

  // Start, leave at once, measure: the slices must stop with the chapter.
  await page.click("[data-testid=bench-run]");
  await page.waitForSelector("[data-testid=bench-progress]");
  const running = await busyMs(page, cdp, 600);
  await page.click("[data-testid=nav-function]");
  await page.waitForSelector("[data-testid=chapter-function]");
  await page.waitForTimeout(1500); // the function chapter's own first render
  const after = await busyMs(page, cdp, 1000);
  console.log(`    main-thread busy per second: idle ${idle.toFixed(0)} ms, benchmark running ${((running * 1000) / 600).toFixed(0)} ms, after leaving ${after.toFixed(0)} ms`);
  assert(running > 200, `the benchmark keeps the main thread busy while it runs (${running.toFixed(0)} ms of 600)`);
  assert(after < Math.max(150, idle * 3), `after leaving, the benchmark no longer runs (${after.toFixed(0)} ms busy of 1000)`);

  // Back: a fresh chapter, nothing running, no half-finished table.
  await page.click("[data-testid=nav-why]");
  await page.waitForSelector("[data-testid=chapter-why]");
  assert(!(await page.$("[data-testid=bench-progress]")), "no benchmark running after coming back");
  assert(!(await page.$("[data-testid=bench-table]")), "no stale results");

  // Clicks that land while it runs toggle it: two clicks in one task are start + stop.
  const clickTimes = (n) => page.$eval("[data-testid=bench-run]", (b, n) => { for (let i = 0; i < n; i++) b.click(); }, n);
  await clickTimes(2);
  await page.waitForTimeout(100);
  assert(!(await page.$("[data-testid=bench-progress]")), "two clicks: started then stopped");
  const afterTwo = await busyMs(page, cdp, 800);
  assert(afterTwo < Math.max(150, idle * 3), `nothing runs after start + stop (${afterTwo.toFixed(0)} ms busy)`);
  await clickTimes(3);
  await page.waitForSelector("[data-testid=bench-progress]");
  await page.$eval("[data-testid=bench-run]", (b) => b.click());
  await page.waitForTimeout(100);
  assert(!(await page.$("[data-testid=bench-progress]")), "four clicks: stopped");

  // A real double click (the button narrows to "Stop", so the second click may miss it): never
  // two runs at once. Whatever runs finishes with exactly one set of rows, progress monotonic.
  await page.dblclick("[data-testid=bench-run]");
  const progress = [];
  const t0 = Date.now();
  while (await page.$("[data-testid=bench-progress]")) {
    const v = await page.getAttribute("[data-testid=bench-progress]", "value").catch(() => null);
    if (v !== null) progress.push(Number(v));
    await page.waitForTimeout(50);
    assert(Date.now() - t0 < 120000, "the benchmark finishes");
  }
  for (let i = 1; i < progress.length; i++) assert(progress[i] >= progress[i - 1], `progress never goes back (one run): ${progress.join(",")}`);
  const rows = await page.$$eval("[data-testid=bench-table] tbody tr", (trs) => trs.length);
  if (progress.length) assert(rows === 12, `one complete run: 3 shapes × 4 operations = 12 rows (got ${rows})`);
  console.log(`    double click: ${progress.length ? `one run, ${rows} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s` : "start + stop"}`);
  assert(await alive(page), "page alive");
});

test("long work is cancellable: QAT training, the learned rotation and the α sweep stop on Pause and when their chapter is left", async ({ page, open, context }) => {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  await open("?ch=why");
  await page.waitForTimeout(300);
  const idle = await busyMs(page, cdp, 1000);
  const quiet = Math.max(150, idle * 3);
  const rows = [];

  // QAT: Pause stops the slices; a start + pause in one task runs nothing; leaving stops it.
  // 150 epochs (≈ 10 s of training), so that it is still running when paused or left.
  await open("?ch=qat&epochs=100&qepochs=50");
  await page.waitForSelector("[data-testid=train-qat]:not([disabled])");
  const progressOf = () => page.$eval("[data-testid=qat-progress]", (p) => Number(p.value || 0));
  await page.click("[data-testid=train-qat]");
  await page.waitForFunction(() => Number(document.querySelector("[data-testid=qat-progress]").value) > 0);
  const training = await busyMs(page, cdp, 600);
  await page.click("[data-testid=train-qat]"); // Pause
  const paused = await progressOf();
  const afterPause = await busyMs(page, cdp, 800);
  assert((await progressOf()) === paused, "no training step after Pause");
  const twice = () => page.$eval("[data-testid=train-qat]", (b) => { b.click(); b.click(); });
  await twice(); // the start runs its first slice inside the click; the pause stops the rest
  const afterTwo = await progressOf();
  const afterTwice = await busyMs(page, cdp, 800);
  assert((await progressOf()) === afterTwo, "start + pause in one task: nothing trains after it");
  await page.click("[data-testid=train-qat]"); // resume, then leave
  await page.waitForFunction((p) => Number(document.querySelector("[data-testid=qat-progress]").value) > p, afterTwo);
  await page.click("[data-testid=nav-why]");
  await page.waitForSelector("[data-testid=chapter-why]");
  await page.waitForTimeout(200);
  const afterLeave = await busyMs(page, cdp, 1000);
  rows.push(`QAT training ${((training * 1000) / 600).toFixed(0)} ms/s → after Pause ${afterPause.toFixed(0)}, after start+pause ${afterTwice.toFixed(0)}, after leaving ${afterLeave.toFixed(0)}`);
  assert(training > 200, `training keeps the main thread busy (${training.toFixed(0)} ms of 600)`);
  for (const [what, v] of [["Pause", afterPause], ["start + pause", afterTwice], ["leaving", afterLeave]]) assert(v < quiet, `after ${what} training no longer runs (${v.toFixed(0)} ms busy)`);

  // Learned rotation: Pause, then leaving while it runs.
  await page.click("[data-testid=nav-rotation]");
  await page.waitForSelector("[data-testid=rotation-table]", { timeout: 60000 });
  await page.waitForTimeout(500);
  const stepsOf = () => page.$eval("[data-testid=learn-steps]", (e) => parseInt(e.textContent.replace(/\D+/g, " ").trim().split(" ")[0] || "0"));
  await page.click("[data-testid=learn-start]");
  await page.waitForFunction(() => parseInt(document.querySelector("[data-testid=learn-steps]").textContent.replace(/\D+/g, " ").trim()) >= 2, null, { timeout: 60000 });
  const learning = await busyMs(page, cdp, 600);
  await page.click("[data-testid=learn-start]"); // Pause
  await page.waitForTimeout(100); // the paused rotation's error is measured once
  const stepsPaused = await stepsOf();
  const afterLearnPause = await busyMs(page, cdp, 800);
  assert((await stepsOf()) === stepsPaused, "no learning step after Pause");
  await page.click("[data-testid=learn-start]"); // resume, then leave
  await page.waitForFunction((s) => parseInt(document.querySelector("[data-testid=learn-steps]").textContent.replace(/\D+/g, " ").trim()) > s, stepsPaused, { timeout: 60000 });
  await page.click("[data-testid=nav-why]");
  await page.waitForSelector("[data-testid=chapter-why]");
  await page.waitForTimeout(200);
  const afterLearnLeave = await busyMs(page, cdp, 1000);
  rows.push(`learned rotation ${((learning * 1000) / 600).toFixed(0)} ms/s → after Pause ${afterLearnPause.toFixed(0)}, after leaving ${afterLearnLeave.toFixed(0)}`);
  assert(learning > 200, `learning keeps the main thread busy (${learning.toFixed(0)} ms of 600)`);
  assert(afterLearnPause < quiet, `after Pause learning no longer runs (${afterLearnPause.toFixed(0)} ms busy)`);
  assert(afterLearnLeave < quiet, `after leaving learning no longer runs (${afterLearnLeave.toFixed(0)} ms busy)`);

  // The α sweep (21 layer evaluations, one per slice) restarts on a bits change: change it
  // and leave at once; what is left of the sweep must not run.
  await page.click("[data-testid=nav-smoothquant]");
  await page.waitForFunction(() => /\d/.test(document.querySelector("[data-testid=best-alpha-readout]")?.dataset.value ?? ""), null, { timeout: 60000 });
  const tSweep = Date.now();
  await page.click("[data-testid=sq-bits] [data-value=w4a4]");
  await page.waitForFunction(() => /\d/.test(document.querySelector("[data-testid=best-alpha-readout]")?.dataset.value ?? ""), null, { timeout: 60000 });
  const sweepMs = Date.now() - tSweep;
  await page.click("[data-testid=sq-bits] [data-value=w8a8]");
  await page.waitForTimeout(30);
  await page.click("[data-testid=nav-why]");
  await page.waitForSelector("[data-testid=chapter-why]");
  const afterSweepLeave = await busyMs(page, cdp, 800);
  rows.push(`α sweep ${sweepMs} ms for 21 points → after leaving mid-sweep ${afterSweepLeave.toFixed(0)}`);
  assert(afterSweepLeave < quiet, `after leaving, the sweep no longer runs (${afterSweepLeave.toFixed(0)} ms busy)`);
  console.log(`    main-thread busy (ms per second; idle ${idle.toFixed(0)}):\n      ${rows.join("\n      ")}`);
  assert(await alive(page), "page alive");
});
