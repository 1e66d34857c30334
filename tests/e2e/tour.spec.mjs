// Seminar mode: the guided tour in both languages, deep links, and the presenter notes window.
import fs from "node:fs";
import path from "node:path";
import { test, assert, assertEq, repo } from "./harness.mjs";

/** The tour's structure, read from the same file the app compiles in. */
export function tourSteps() {
  return fs
    .readFileSync(path.join(repo, "crates/app/src/tour/steps.txt"), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.trim().startsWith("#"))
    .map((l) => {
      const [id, chapter, query, focus] = l.split("|").map((s) => s.trim());
      return { id, chapter, query: new URLSearchParams(query), focus: focus ? focus.split(",") : [] };
    });
}

for (const lang of ["en", "ko"]) {
  test(`tour: walk every step in ${lang}; each opens its chapter with its prepared controls`, async ({ page, open, shot }) => {
    const steps = tourSteps();
    await open(`?ch=why&lang=${lang}`);
    await page.click("[data-testid=tour-start]");
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      await page.waitForFunction((t) => document.querySelector("[data-testid=tour-step]")?.textContent.trim() === t, `${i + 1} / ${steps.length}`);
      await page.waitForSelector(`[data-testid=chapter-${s.chapter}]`);
      const narration = await page.textContent("[data-testid=tour-narration]");
      assert(narration.length > 40, `step ${i + 1} narrates`);
      if (lang === "ko") assert(/[\uac00-\ud7a3]/.test(narration), `step ${i + 1} is in Korean`);
      // The URL is written at most every 400 ms (later if the page is busy computing).
      await page.waitForFunction((t) => new URL(location.href).searchParams.get("tour") === t, String(i + 1), { timeout: 8000 });
      const url = new URL(page.url()).searchParams;
      // Links leave out values equal to a control's default, so an absent key means the default.
      for (const [k, v] of s.query) {
        if (url.get(k) !== null) assertEq(url.get(k), v, `step ${i + 1} (${s.id}) sets ${k}`);
      }
      if (s.focus.length) {
        await page.waitForSelector(`[data-testid="${s.focus[0]}"].tour-focus`, { timeout: 8000 });
      }
      if (i === 4) await shot(`tour-${lang}-step5`);
      if (i + 1 < steps.length) {
        // Alternate the button and the arrow key.
        if (i % 2) await page.click("[data-testid=tour-next]");
        else await page.keyboard.press("ArrowRight");
      }
    }
    assert(await page.isDisabled("[data-testid=tour-next]"), "no step after the last");
    await page.click("[data-testid=tour-prev]");
    await page.waitForFunction((t) => document.querySelector("[data-testid=tour-step]").textContent.trim() === t, `${steps.length - 1} / ${steps.length}`);
  });
}

test("tour: a deep link opens step N with its state; junk step numbers fall back with a notice", async ({ page, open }) => {
  const steps = tourSteps();
  const n = steps.findIndex((s) => s.id === "worked-example") + 1;
  await open(`?tour=${n}`);
  await page.waitForSelector("[data-testid=chapter-function]");
  assertEq((await page.textContent("[data-testid=tour-step]")).trim(), `${n} / ${steps.length}`, "deep link step");
  await page.waitForFunction(() => document.querySelector("[data-testid=alpha-input]")?.value === "-1.577");
  await page.click("[data-testid=tour-reveal]");
  assert(/0\.763/.test(await page.textContent("[data-testid=tour-predict]")), "the reveal gives the slide's answer");
  await open("?tour=99");
  assert(/tour/.test(await page.textContent("[data-testid=url-notice]")), "bad step number noticed");
  assert(!(await page.$("[data-testid=tour-panel]")), "no tour panel");
});

test("tour: the presenter notes window follows the main window and drives it", async ({ page, open, context, base }) => {
  await open("?tour=3&lang=ko");
  await page.waitForSelector("[data-testid=tour-panel]");
  const notes = await context.newPage();
  const errors = [];
  notes.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await notes.goto(base + "?ch=why&tour=3&notes=1&lang=ko");
  await notes.waitForSelector("[data-testid=tour-notes]");
  assert(/[\uac00-\ud7a3]/.test(await notes.textContent("[data-testid=tour-notes]")), "Korean notes");
  await page.click("[data-testid=tour-next]");
  await notes.waitForFunction(() => document.querySelector("[data-testid=notes-step]").textContent.startsWith("4 /"));
  const steps = tourSteps();
  await notes.click(".notes-foot .accent"); // "next" from the notes window
  await page.waitForFunction((t) => document.querySelector("[data-testid=tour-step]").textContent.trim() === t, `5 / ${steps.length}`);
  await notes.waitForFunction(() => document.querySelector("[data-testid=notes-step]").textContent.startsWith("5 /"));
  assertEq(errors.length, 0, "notes window without console errors: " + errors.join("; "));
  await notes.screenshot({ path: path.join(repo, "target/e2e-screenshots/tour-notes-window.png") });
  await notes.close();
});
