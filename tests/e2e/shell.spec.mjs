// The app shell: chapters, navigation, languages, themes, presenter mode, URL state, crash banner.
import fs from "node:fs";
import { test, assert, assertEq, PHONE, DESKTOP } from "./harness.mjs";

/** Chapters and their link keys, generated from the Rust control declarations. */
export const VOCABULARY = JSON.parse(fs.readFileSync(new URL("./vocabulary.json", import.meta.url), "utf8"));
export const SLUGS = VOCABULARY.chapters.map((c) => c.slug);

const chapterSlug = (page) =>
  page.$eval("article[data-testid^=chapter-]", (el) => el.dataset.testid.replace("chapter-", ""));
const query = (page) => new URL(page.url()).searchParams;

test("first render and every chapter from the contents (desktop + 375 px screenshots)", async ({ page, open, shot, base }) => {
  const t0 = Date.now();
  await open("");
  const firstRenderMs = Date.now() - t0;
  const nav = await page.evaluate(() => {
    const e = performance.getEntriesByType("navigation")[0];
    return { domContentLoaded: Math.round(e.domContentLoadedEventEnd), load: Math.round(e.loadEventEnd) };
  });
  console.log(`    first render: ${firstRenderMs} ms from goto (DOMContentLoaded ${nav.domContentLoaded} ms)`);
  assertEq(await chapterSlug(page), "why", "default chapter");
  assert(!(await page.$("#boot")), "the boot message is removed once the app runs");

  for (const slug of SLUGS) {
    await page.setViewportSize(DESKTOP);
    await page.click(`[data-testid=nav-${slug}]`);
    await page.waitForSelector(`[data-testid=chapter-${slug}]`);
    assertEq(query(page).get("ch"), slug, "URL follows the chapter");
    assert((await page.title()).endsWith("· quantlab"), "title names the chapter");
    await page.waitForTimeout(120); // charts draw after layout
    await shot(`desktop-${String(SLUGS.indexOf(slug) + 1).padStart(2, "0")}-${slug}`);
    await page.setViewportSize(PHONE);
    await page.waitForTimeout(150);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `no horizontal scrolling at 375 px on ${slug} (overflow ${overflow}px)`);
    // No word of a table cell or a segmented control is split across lines ("granu / larity"):
    // a word laid out on one line has one client rect.
    const split = await page.evaluate(() => {
      const out = [];
      for (const el of document.querySelectorAll("table.data th, table.data td, .segment")) {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          for (const m of n.data.matchAll(/[^\s\-–—/]+/g)) { // a break after a dash or slash is fine
            const r = document.createRange();
            r.setStart(n, m.index);
            r.setEnd(n, m.index + m[0].length);
            const lines = new Set([...r.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top)));
            if (lines.size > 1) out.push(m[0]);
          }
        }
      }
      return out;
    });
    assert(split.length === 0, `words split across lines at 375 px on ${slug}: ${split.slice(0, 8).join(", ")}`);
    await shot(`phone-${String(SLUGS.indexOf(slug) + 1).padStart(2, "0")}-${slug}`);
  }
});

test("phone menu opens the contents and picks a chapter", async ({ page, open }) => {
  await page.setViewportSize(PHONE);
  await open("?ch=why");
  assert(!(await page.isVisible("[data-testid=nav-qat]")), "contents hidden on a phone until the menu opens");
  await page.click(".menu-button");
  await page.click("[data-testid=nav-qat]");
  await page.waitForSelector("[data-testid=chapter-qat]");
  assert(!(await page.isVisible("[data-testid=nav-qat]")), "menu closes after choosing");
});

test("language toggle switches every string without reload and survives a reload", async ({ page, open, shot }) => {
  await open("?ch=function");
  const enTitle = await page.textContent("#chapter-title");
  await page.evaluate(() => (window.__noReload = true));
  await page.click("[data-testid=lang-toggle]");
  await page.waitForFunction(() => document.documentElement.lang === "ko");
  assert(await page.evaluate(() => window.__noReload === true), "no page reload");
  const koTitle = await page.textContent("#chapter-title");
  assert(koTitle !== enTitle && /[\uac00-\ud7a3]/.test(koTitle), `Korean title (${koTitle})`);
  const navText = await page.textContent("[data-testid=nav-why]");
  assert(/[\uac00-\ud7a3]/.test(navText), "contents translated");
  await page.waitForTimeout(600); // URL writes are debounced (400 ms) // URL writes are debounced
  assertEq(query(page).get("lang"), "ko", "language in the URL");
  await shot("lang-ko-function");
  await page.reload();
  await page.waitForSelector("[data-testid=chapter-function]");
  assertEq(await page.evaluate(() => document.documentElement.lang), "ko", "language restored from the URL");
  await page.click("[data-testid=lang-toggle]");
  await page.waitForFunction(() => document.documentElement.lang === "en");
  assertEq(await page.textContent("#chapter-title"), enTitle, "back to English");
});

test("theme toggle cycles system → light → dark and follows the system scheme", async ({ page, open, shot }) => {
  await page.emulateMedia({ colorScheme: "dark" });
  await open("?ch=why");
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const systemDark = await bg();
  await page.click("[data-testid=theme-toggle]");
  assertEq(await page.evaluate(() => document.documentElement.dataset.theme), "light", "light chosen");
  const light = await bg();
  assert(light !== systemDark, "light differs from the system's dark");
  await page.click("[data-testid=theme-toggle]");
  assertEq(await page.evaluate(() => document.documentElement.dataset.theme), "dark", "dark chosen");
  assertEq(await bg(), systemDark, "dark equals system dark");
  await page.waitForTimeout(600); // URL writes are debounced (400 ms)
  assertEq(query(page).get("theme"), "dark", "theme in the URL");
  await shot("theme-dark-why");
  await page.click("[data-testid=theme-toggle]");
  assertEq(await page.evaluate(() => document.documentElement.dataset.theme ?? null), null, "back to system");
  await page.emulateMedia({ colorScheme: "light" });
  assertEq(await bg(), light, "system light is followed live");
});

test("arrow keys move between chapters; history Back returns", async ({ page, open }) => {
  await open("?ch=why");
  await page.keyboard.press("ArrowRight");
  await page.waitForSelector("[data-testid=chapter-function]");
  await page.keyboard.press("ArrowRight");
  await page.waitForSelector("[data-testid=chapter-error]");
  await page.keyboard.press("ArrowLeft");
  await page.waitForSelector("[data-testid=chapter-function]");
  await page.goBack();
  await page.waitForSelector("[data-testid=chapter-error]");
  // At the ends nothing happens.
  await open("?ch=playground");
  await page.keyboard.press("ArrowRight");
  assertEq(await chapterSlug(page), "playground", "no chapter after the last");
  await page.click("[data-testid=prev-chapter]");
  await page.waitForSelector("[data-testid=chapter-summary]");
});

test("presenter mode: key P and button, navigation hidden, slide counter, arrows still move", async ({ page, open, shot }) => {
  await open("?ch=function");
  await page.keyboard.press("p");
  await page.waitForSelector(".app.presenter");
  assert(!(await page.isVisible("[data-testid=nav-why]")), "contents hidden");
  assertEq((await page.textContent("[data-testid=slide-counter]")).replace(/[‹›\s]/g, ""), `2/${SLUGS.length}`, "slide counter");
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement.querySelector(".app")).fontSize));
  assert(size >= 19, `larger type in presenter mode (${size}px)`);
  await shot("presenter-function");
  await page.keyboard.press("ArrowRight");
  await page.waitForSelector("[data-testid=chapter-error]");
  assertEq((await page.textContent("[data-testid=slide-counter]")).replace(/[‹›\s]/g, ""), `3/${SLUGS.length}`, "counter follows");
  await page.waitForTimeout(600); // URL writes are debounced (400 ms)
  assertEq(query(page).get("present"), "1", "presenter mode in the URL");
  await page.click("[data-testid=presenter-toggle]");
  await page.waitForSelector(".app:not(.presenter)");
  assert(await page.isVisible("[data-testid=nav-why]"), "contents back");
});

test("a copied link reopens the exact view", async ({ page, open, context }) => {
  await open("?ch=smoothquant&lang=ko&theme=dark&present=1");
  await page.waitForSelector("[data-testid=chapter-smoothquant]");
  assertEq(await page.evaluate(() => document.documentElement.lang), "ko", "lang");
  assertEq(await page.evaluate(() => document.documentElement.dataset.theme), "dark", "theme");
  assert(await page.$(".app.presenter"), "presenter");
  const url = page.url();
  const second = await context.newPage();
  await second.goto(url);
  await second.waitForSelector("[data-testid=chapter-smoothquant]");
  assertEq(await second.evaluate(() => document.documentElement.lang), "ko", "lang in a fresh tab");
  await second.close();
});

test("junk URLs fall back to defaults with a notice, never a blank page", async ({ page, open, shot }) => {
  await open("?ch=%3Cscript%3E&lang=fr&theme=plaid&present=maybe&bits=999&zzz=1&%ZZ=1");
  assertEq(await chapterSlug(page), "why", "unknown chapter → first chapter");
  const notice = await page.textContent("[data-testid=url-notice]");
  assert(/<script>/.test(notice) && /fr/.test(notice) && /zzz/.test(notice), "the notice names what was ignored: " + notice);
  assert(!(await page.$("script[data-injected]")), "nothing injected");
  await shot("junk-url-notice");
  await page.click("[data-testid=url-notice] button");
  assert(!(await page.$("[data-testid=url-notice]")), "notice dismissible");
  await open("?" + "x=" + "y".repeat(10000));
  assert(/10002/.test(await page.textContent("[data-testid=url-notice]")), "an overlong link is cut with a notice");
  await page.click("[data-testid=nav-error]");
  await page.waitForSelector("[data-testid=chapter-error]");
});

test("a panic shows the error banner instead of a dead page", async ({ page, open, shot }) => {
  await open("?ch=why&lang=ko");
  await page.evaluate(() => {
    try { window.wasmBindings.quantlabDebugPanic(); } catch (e) { /* the trap after the hook */ }
  });
  await page.waitForSelector("[data-testid=error-banner]");
  const text = await page.textContent("[data-testid=error-banner]");
  assert(/오류/.test(text), "banner in the page's language: " + text);
  await shot("error-banner");
}, { allowErrors: /panicked|debug panic|unreachable|RuntimeError/ });

test("works offline once loaded: every chapter, its data and the math font come from the service worker", async ({ page, open, context }) => {
  await open("?ch=why");
  const cached = await page.evaluate(async () => {
    await navigator.serviceWorker.ready; // resolves after install, i.e. after the precache
    const keys = await (await caches.open("quantlab-v1")).keys();
    return keys.map((r) => new URL(r.url).pathname);
  });
  assert(cached.some((p) => p.endsWith(".wasm")), "the wasm is cached");
  assert(cached.some((p) => p.endsWith("L0_fc2_X.npy")), "chapter data is cached");
  await context.setOffline(true);
  for (const slug of ["function", "smoothquant", "playground"]) {
    await page.click(`[data-testid=nav-${slug}]`);
    await page.waitForSelector(`[data-testid=chapter-${slug}]`);
  }
  await page.click("[data-testid=nav-function]");
  await page.waitForSelector("[data-testid=data-info]");
  await page.selectOption("[data-testid=data-select]", "l0fc2-x");
  await page.waitForFunction(() => /1536/.test(document.querySelector("[data-testid=data-info]")?.textContent || ""));
  await page.click("[data-testid=lang-toggle]");
  await page.waitForFunction(() => document.documentElement.lang === "ko");
  await page.reload(); // even a reload works offline
  await page.waitForSelector("[data-testid=chapter-function]");
  await page.waitForSelector("[data-testid=data-info]");
  await context.setOffline(false);
});

test("charts are crisp on HiDPI screens and download as PNG", async ({ browser, base }) => {
  const ctx = await browser.newContext({ viewport: { width: 1000, height: 800 }, deviceScaleFactor: 2 });
  const page = await ctx.newPage();
  const errors = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(base + "?ch=function");
  await page.waitForSelector("[data-testid=data-info]");
  await page.waitForTimeout(300);
  const dims = await page.$eval("[data-testid=histogram-chart]", (c) => ({ w: c.width, css: c.getBoundingClientRect().width, h: c.height, cssH: c.getBoundingClientRect().height }));
  assert(Math.abs(dims.w - 2 * dims.css) <= 2 && Math.abs(dims.h - 2 * dims.cssH) <= 2, `backing store is 2× the CSS size: ${JSON.stringify(dims)}`);
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=histogram-chart-png]")]);
  assertEq(dl.suggestedFilename(), "histogram-chart.png", "file name");
  const fs = await import("node:fs");
  const png = fs.readFileSync(await dl.path());
  assertEq(png.subarray(1, 4).toString(), "PNG", "a PNG image");
  assertEq(png.readUInt32BE(16), dims.w, "at full resolution");
  assertEq(errors.length, 0, "no console errors: " + errors.join("; "));
  await ctx.close();
});
