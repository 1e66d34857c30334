// Renders the Open Graph preview (assets/og-preview.png, 1200×630) from a real chart of the
// built site: the quantization-function chapter on the seminar's worked example.
//   node scripts/og-image.mjs   (after `trunk build --release`)
import path from "node:path";
import { launch, serve, repo } from "../tests/e2e/harness.mjs";

const srv = await serve(path.join(repo, "dist"));
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1200, height: 630 }, deviceScaleFactor: 1 });
await page.goto(srv.base + "?ch=function&data=seminar&alpha=-1.577&beta=192.344&bits=4");
await page.waitForSelector("[data-testid=data-info]");
await page.addStyleTag({ content: ".topbar,.toc,.footer,.prevnext,.intro,.card:not(:has([data-testid=histogram-chart])){display:none!important} .layout{display:block} .main{padding:18px 40px} .card{margin:0}" });
await page.waitForTimeout(800);
await page.evaluate(() => {
  const h = document.createElement("div");
  h.innerHTML = "<div style='font:700 40px system-ui;color:#0b5cad;margin:0 0 6px'>quantlab</div><div style='font:22px system-ui;color:#5d6778;margin-bottom:12px'>Neural-network quantization, computed live in your browser · 신경망 양자화</div>";
  document.querySelector(".main").prepend(h);
});
await page.waitForTimeout(300);
await page.screenshot({ path: path.join(repo, "assets/og-preview.png") });
await browser.close();
srv.close();
console.log("wrote assets/og-preview.png");
