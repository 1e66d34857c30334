// Ad-hoc look at one view (not part of `make test`):
//   node tests/e2e/look.mjs "?ch=model&lang=ko" out.png [width] [waitSelector] [waitMs]
import { serve, launch, repo } from "./harness.mjs";
import path from "node:path";

const [query = "", out = "/tmp/look.png", width = "1280", wait = "", waitMs = "500"] = process.argv.slice(2);
const srv = await serve(path.join(repo, "dist"));
const browser = await launch();
const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
const logs = [];
page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
page.on("pageerror", (e) => logs.push(`pageerror: ${e}`));
const t0 = Date.now();
await page.goto(srv.base + query);
if (wait) await page.waitForSelector(wait, { timeout: 60000 });
const waited = Date.now() - t0;
await page.waitForTimeout(Number(waitMs));
await page.screenshot({ path: out, fullPage: true });
console.log(`waited ${waited} ms for ${wait || "load"}`);
for (const l of logs) console.log(l);
await browser.close();
srv.close();
