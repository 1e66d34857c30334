// Chapter "The quantization function": handles, readouts against an independent computation,
// .npy upload (valid and malformed), URL state, and the update time per drag step.
import { test, assert, assertEq } from "./harness.mjs";

const f = Math.fround;
/** round half to even, like torch.round / np.round */
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}
/** The seminar's affine rule in f32: s = (β − α)/(qmax − qmin), z = clamp(qmin − round(α/s)). */
export function seminarParams(alpha, beta, qmin, qmax) {
  const a = f(alpha), b = f(beta);
  const s = f(f(b - a) / (qmax - qmin));
  const z = Math.min(qmax, Math.max(qmin, qmin - roundHalfEven(f(a / s))));
  return { s, z };
}

const readout = async (page, id) => Number(await page.getAttribute(`[data-testid=${id}]`, "data-value"));
const q = (page) => new URL(page.url()).searchParams;

/** A little-endian .npy v1.0 file with the given header dict text and payload. */
export function npyBytes(header, payload) {
  let h = header;
  const total = 10 + h.length + 1;
  h = h + " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + h.length + payload.byteLength);
  out.set([0x93, 78, 85, 77, 80, 89, 1, 0, h.length & 255, h.length >> 8]);
  out.set(new TextEncoder().encode(h), 10);
  out.set(new Uint8Array(payload.buffer ?? payload), 10 + h.length);
  return out;
}

test("function: the seminar preset gives s = 0.763 and readouts equal an independent f32 computation", async ({ page, open, shot }) => {
  await open("?ch=function");
  await page.waitForSelector("[data-testid=data-info]");
  await page.click("[data-testid=preset-seminar]");
  await page.waitForFunction(() => document.querySelector("[data-testid=alpha-input]").value === "-1.577");
  const s = await readout(page, "scale-readout");
  const z = await readout(page, "zero-point-readout");
  const want = seminarParams(-1.577, 192.344, -127, 127);
  assertEq(s, want.s, "s");
  assertEq(z, want.z, "z");
  assert(Math.abs(s - 0.763) < 0.0005, "s ≈ 0.763 as on the slide");
  assert(/0\.7635/.test(await page.textContent("[data-testid=live-formula]")), "the formula shows the live s");
  await page.waitForTimeout(600); // URL writes are debounced (400 ms)
  assertEq(q(page).get("alpha"), "-1.577", "α in the URL");
  assertEq(q(page).get("data"), "seminar", "data in the URL");
  await shot("function-seminar-preset");
});

test("function: α/β move by keyboard and by pointer; s and z follow the engine rule", async ({ page, open }) => {
  await open("?ch=function&data=gauss&bits=4");
  await page.waitForSelector("[data-testid=data-info]");
  const before = await readout(page, "scale-readout");
  await page.focus("[data-testid=beta-handle]");
  for (let i = 0; i < 40; i++) await page.keyboard.press("ArrowLeft");
  await page.waitForTimeout(50);
  assertEq(await page.getAttribute("article[data-testid^=chapter-]", "data-testid"), "chapter-function", "arrow keys on a handle do not change chapter");
  const alpha = Number(await page.getAttribute("[data-testid=alpha-handle]", "aria-valuenow"));
  const beta = Number(await page.getAttribute("[data-testid=beta-handle]", "aria-valuenow"));
  const after = await readout(page, "scale-readout");
  assert(after < before, `moving β in shrinks s (${before} → ${after})`);
  const want = seminarParams(alpha, beta, -7, 7);
  assertEq(after, want.s, "s after keyboard");
  assertEq(await readout(page, "zero-point-readout"), want.z, "z after keyboard");

  // Pointer: drag α to the right by 80 px.
  const box = await page.locator("[data-testid=alpha-handle] .grip").boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) await page.mouse.move(box.x + box.width / 2 + i * 10, box.y + box.height / 2);
  await page.mouse.up();
  await page.waitForTimeout(50);
  const a2 = Number(await page.getAttribute("[data-testid=alpha-handle]", "aria-valuenow"));
  assert(a2 > alpha, `dragging α right raises it (${alpha} → ${a2})`);
  const w2 = seminarParams(a2, beta, -7, 7);
  assertEq(await readout(page, "scale-readout"), w2.s, "s after pointer drag");
  const clipped = await readout(page, "clipped-readout");
  assert(clipped > 0, "a range inside the data clips values");
});

test("function: controls, inspector and the clear message for α ≥ β", async ({ page, open, shot }) => {
  await open("?ch=function&data=relu");
  await page.waitForSelector("[data-testid=data-info]");
  await page.selectOption("[data-testid=bits-select]", "3");
  await page.click("[data-testid=scheme-toggle] [data-value=sym]");
  await page.click("[data-testid=rounding-toggle] [data-value=away]");
  await page.waitForTimeout(600); // URL writes are debounced (400 ms)
  assertEq(q(page).get("bits"), "3", "bits in URL");
  assertEq(q(page).get("scheme"), "sym", "scheme in URL");
  assertEq(await readout(page, "zero-point-readout"), 0, "symmetric signed: z = 0");
  await page.hover("[data-testid=inspect-layer]", { position: { x: 200, y: 60 } });
  await page.waitForSelector("[data-testid=journey]");
  assert(/round/.test(await page.textContent("[data-testid=journey]")), "the journey is shown");
  await page.click("[data-testid=scheme-toggle] [data-value=asym]");
  await page.fill("[data-testid=alpha-input]", "2");
  await page.press("[data-testid=alpha-input]", "Enter");
  await page.fill("[data-testid=beta-input]", "2");
  await page.press("[data-testid=beta-input]", "Enter");
  await page.waitForSelector("[data-testid=range-error]");
  assert(/smaller/.test(await page.textContent("[data-testid=range-error]")), "α = β explained");
  await shot("function-alpha-equals-beta");
  await page.fill("[data-testid=alpha-input]", "abc");
  await page.press("[data-testid=alpha-input]", "Enter");
  await page.waitForSelector("[data-testid=range-input-error]");
  await page.click("[data-testid=range-auto]");
  await page.waitForFunction(() => !document.querySelector("[data-testid=range-error]"));
});

test("function: a valid .npy loads, a malformed one is refused and the previous data stays", async ({ page, open, shot }) => {
  await open("?ch=function");
  await page.waitForSelector("[data-testid=data-info]");
  const vals = new Float32Array(600).map((_, i) => Math.sin(i) * (i % 7));
  await page.setInputFiles("[data-testid=npy-input]", {
    name: "mine.npy", mimeType: "application/octet-stream",
    buffer: Buffer.from(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (20, 30), }", vals)),
  });
  await page.waitForFunction(() => /mine\.npy/.test(document.querySelector("[data-testid=data-info]")?.textContent || ""));
  assert(/20 × 30/.test(await page.textContent("[data-testid=data-info]")), "shape shown");
  assert(/float32/.test(await page.textContent("[data-testid=data-info]")), "dtype shown");
  await page.waitForTimeout(600); // URL writes are debounced (400 ms)
  assertEq(q(page).get("data"), "upload", "uploads are named in the URL");

  await page.setInputFiles("[data-testid=npy-input]", {
    name: "broken.npy", mimeType: "application/octet-stream",
    buffer: Buffer.from(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }", new Float32Array(10))),
  });
  await page.waitForSelector("[data-testid=data-error]");
  const msg = await page.textContent("[data-testid=data-error]");
  assert(msg.length > 20, "a specific message: " + msg);
  assert(/mine\.npy/.test(await page.textContent("[data-testid=data-info]")), "previous data still in use");
  await shot("function-malformed-npy");

  // An uploaded file cannot come back from a link: a clear message, page alive.
  await page.reload();
  await page.waitForSelector("[data-testid=data-failed]");
  await page.selectOption("[data-testid=data-select]", "gauss");
  await page.waitForSelector("[data-testid=data-info]");
});

test("function: the link reopens bits, scheme, range and data", async ({ page, open }) => {
  await open("?ch=function&data=laplace&seed=7&outliers=1&bits=5&scheme=sym&range=full&round=away&beta=3.5&logy=0");
  await page.waitForSelector("[data-testid=data-info]");
  assertEq(await page.inputValue("[data-testid=bits-select]"), "5", "bits");
  assert(/seed 7/.test(await page.textContent("[data-testid=data-info]")), "seed");
  assertEq(Number(await page.inputValue("[data-testid=beta-input]")), 3.5, "β");
  assertEq(Number(await page.inputValue("[data-testid=alpha-input]")), -3.5, "α mirrored when symmetric");
  assertEq(await readout(page, "zero-point-readout"), 0, "z");
  // full range, symmetric, signed 5-bit: s = 3.5 / ((15 − (−16)) / 2)
  assertEq(await readout(page, "scale-readout"), f(f(3.5) / f(15.5)), "PyTorch symmetric rule");
  await page.waitForTimeout(600); // URL writes are debounced (400 ms)
  const url = new URL(page.url());
  for (const [k, v] of [["bits", "5"], ["scheme", "sym"], ["range", "full"], ["round", "away"], ["outliers", "1"], ["logy", "0"]]) {
    assertEq(url.searchParams.get(k), v, k + " kept");
  }
});

test("function: update time per handle step (engine + redraw), printed for the README", async ({ page, open }) => {
  for (const data of ["l5fc1-x", "gauss"]) {
    await open(`?ch=function&data=${data}`);
    await page.waitForSelector("[data-testid=data-info]");
    await page.waitForTimeout(600); // URL writes are debounced (400 ms)
    const times = await page.evaluate(async () => {
      const h = document.querySelector("[data-testid=beta-handle]");
      h.focus();
      const out = [];
      for (let i = 0; i < 120; i++) {
        const t0 = performance.now();
        h.dispatchEvent(new KeyboardEvent("keydown", { key: i % 40 < 20 ? "ArrowLeft" : "ArrowRight", bubbles: true }));
        await new Promise((r) => setTimeout(r, 0)); // effects and redraws run before this
        out.push(performance.now() - t0);
      }
      return out;
    });
    times.sort((a, b) => a - b);
    const pct = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
    const n = await page.textContent("[data-testid=data-info]");
    console.log(`    update (${data}, ${n.match(/([\d,]+) values/)?.[1] ?? "?"} values): p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${pct(0.999)} ms`);
  }
});

/** The float32 values of a little-endian .npy (v1/v2) file. */
function npyFloats(buf) {
  const major = buf[6];
  const hlen = major === 1 ? buf[8] | (buf[9] << 8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = buf.subarray(0, start).toString();
  assert(/'<f4'/.test(header), "a float32 file: " + header);
  const shape = header.match(/\((\d+), (\d+)\)/).slice(1).map(Number);
  return { shape, data: new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + buf.length)) };
}

/** Non-negative values of a float grid from its definition (e exponent bits, m mantissa bits). */
function grid(e, m, dropTop) {
  const bias = 2 ** (e - 1) - 1, out = [];
  for (let ex = 0; ex < 2 ** e; ex++)
    for (let mm = 0; mm < 2 ** m; mm++) {
      if (dropTop && ex === 2 ** e - 1 && mm === 2 ** m - 1) continue;
      out.push(ex === 0 ? (mm / 2 ** m) * 2 ** (1 - bias) : (1 + mm / 2 ** m) * 2 ** (ex - bias));
    }
  return out;
}

/** Round to the grid: nearest, ties to the even code, saturating at the largest value. */
function castTo(g, v) {
  const a = Math.abs(v);
  let q;
  if (a >= g[g.length - 1]) q = g[g.length - 1];
  else {
    let i = 0;
    while (g[i + 1] <= a) i++;
    const lo = a - g[i], hi = g[i + 1] - a;
    q = lo < hi ? g[i] : hi < lo ? g[i + 1] : g[i % 2 === 0 ? i : i + 1];
  }
  return v < 0 ? -q : q;
}

test("function: fmt=e4m3 and fmt=mxfp4 show their grid, readouts equal an independent computation, the journey shows the bits", async ({ page, open, shot }) => {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const { repo } = await import("./harness.mjs");
  const { shape, data } = npyFloats(fs.readFileSync(path.join(repo, "assets/data/minilm/L5_fc1_X.npy")));
  const f = Math.fround;
  const mse = (deq) => deq.reduce((acc, d, i) => acc + (d - data[i]) ** 2, 0) / data.length;
  // FP8 E4M3, one scale for the tensor.
  const e4m3 = grid(4, 3, true);
  const absmax = data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const s = f(absmax / 448);
  const wantE4m3 = mse(Array.from(data, (x) => f(castTo(e4m3, f(x / s)) * s)));
  // MXFP4: E2M1, blocks of 32 along each row, X = 2^(floor(log2 amax) − 2).
  const e2m1 = grid(2, 1, false);
  const [rows, cols] = shape;
  const mx = new Float32Array(data.length);
  for (let r = 0; r < rows; r++)
    for (let b = 0; b < cols; b += 32) {
      const blk = data.subarray(r * cols + b, r * cols + Math.min(b + 32, cols));
      const amax = blk.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      let k = Math.floor(Math.log2(amax));
      if (2 ** k > amax) k--;
      if (2 ** (k + 1) <= amax) k++;
      const X = amax === 0 ? 1 : 2 ** Math.max(-127, Math.min(127, k - 2));
      blk.forEach((x, j) => (mx[r * cols + b + j] = f(castTo(e2m1, f(x / X)) * X)));
    }
  const wantMx = mse(mx);
  for (const [fmt, want, bpv, bits] of [["e4m3", wantE4m3, 8 + 32 / data.length, /[01] \| [01]{4} \| [01]{3}/], ["mxfp4", wantMx, 4.25, /[01] \| [01]{2} \| [01]/]]) {
    await open(`?ch=function&fmt=${fmt}`);
    await page.waitForSelector("[data-testid=float-formula]");
    await page.waitForFunction(() => Number(document.querySelector("[data-testid=mse-readout]")?.dataset.value) > 0);
    assertEq(await page.inputValue("[data-testid=format-select]"), fmt, "the select shows the link's format");
    const got = await readout(page, "mse-readout");
    assert(Math.abs(got - want) <= 1e-9 * want, `${fmt}: MSE ${got}, independent ${want}`);
    assertEq(await readout(page, "bpv-readout"), bpv, `${fmt}: bits per value`);
    assert(!(await page.$("[data-testid=bits-select]")), "no integer controls for a float format");
    await page.click("[data-testid=pick-largest]");
    await page.waitForSelector("[data-testid=journey]");
    const j = await page.textContent("[data-testid=journey]");
    assert(bits.test(j), `${fmt}: the journey shows the bit fields: ${j}`);
    await shot(`function-${fmt}`);
  }
  // Back to the integer grid with the select; a junk format falls back with a notice.
  await page.selectOption("[data-testid=format-select]", "int");
  await page.waitForSelector("[data-testid=bits-select]");
  await page.waitForTimeout(600);
  assertEq(q(page).get("fmt"), null, "the default is not written to the link");
  await open("?ch=function&fmt=fp64");
  const notice = await page.textContent("[data-testid=url-notice]");
  assert(notice.includes("“fmt”"), "the notice names fmt: " + notice);
  assertEq(await page.inputValue("[data-testid=format-select]"), "int", "junk falls back to int");
});
