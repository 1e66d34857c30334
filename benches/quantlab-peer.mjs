// quantlab's kernels as a peer of the WASM matmul harness (/work/shared/bench/peers, copied to
// target/bench-peers by `make bench`), measured in the same process and the same interleaved
// rounds as onnxruntime-web, LiteRT.js and tfjs-wasm:
//
//   make bench                  # builds the wasm, copies the harness, npm ci once, runs, writes benches/results/
//   node --experimental-wasm-relaxed-simd <harness>/run.mjs --extra-peer benches/quantlab-peer.mjs
//
// Environment:
//   QUANTLAB_KERNELS_WASM  the module from `make bench-peer` (default: target/bench-peer/kernels_wasm.wasm)
//   (quantlab-relaxed-peer.mjs: QUANTLAB_RELAXED_WASM, default target/bench-peer/kernels_wasm_relaxed.wasm)
//   QUANTLAB_HARNESS_DIR   the harness whose lib/models.mjs gives the shared inputs (default: the
//                          folder above this file's, i.e. when the file sits in <harness>/peers/)
//   QUANTLAB_ACT           per-tensor (default) or per-token activation scales for qlinear_dynamic
//
// Ops and their semantics (the harness checks them against lib/models.mjs on a 5x64x24 problem):
//   matmul_f32          Y = A·B in f32 (B packed once in prepare()).
//   matmulinteger_s8s8  int8 A × int8 B → exact int32 (ONNX MatMulInteger without zero points).
//   qlinear_dynamic     f32 A → dynamic *symmetric* int8 quantization of A (one scale per tensor by
//                       default: s = max|A|/127, q = round_half_even(a/s)) → int8 GEMM (exact i32) →
//                       Y = s · B_SCALE · acc. The int8 B and its per-tensor scale B_SCALE are the
//                       harness's. ORT's graph quantizes A *asymmetrically* to uint8 instead
//                       (DynamicQuantizeLinear); both have ~1/255 of A's range as step, and the
//                       harness's check is |Y − A·(B·B_SCALE)| ≤ 2% of max|Y| for every peer.
// Like ORT-web, every run copies A into wasm memory and Y out of it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const harness = process.env.QUANTLAB_HARNESS_DIR ? resolve(process.env.QUANTLAB_HARNESS_DIR) : join(here, '..');
const { ORT_OPS, weightBytes, B_SCALE } = await import(pathToFileURL(join(harness, 'lib/models.mjs')).href);
const perToken = (process.env.QUANTLAB_ACT ?? 'per-tensor') === 'per-token';
const defaultWasm = process.env.QUANTLAB_KERNELS_WASM ?? join(here, '../target/bench-peer/kernels_wasm.wasm');

/**
 * A peer over one build of the kernels module: `quantlab` here, and `quantlab-relaxed`
 * (quantlab-relaxed-peer.mjs) over the relaxed-SIMD build, with the same ops and semantics.
 * `chooseW8(exports, put)` runs before anything is packed (the app's start-up choice of kernel
 * for 8-bit weights) and its result is reported with the peer's init info.
 */
export function makePeer({ name, wasm = defaultWasm, chooseW8 = null }) {
  const wasmPath = resolve(wasm);
  let ex = null;
  const u8 = () => new Uint8Array(ex.memory.buffer);
  const str = (ptr, len) => new TextDecoder().decode(u8().slice(ptr, ptr + len));
  const ok = (rc, what) => {
    if (rc !== 0) throw new Error(`${what}: ${str(ex.ql_error_ptr(), ex.ql_error_len())}`);
  };
  const handle = (h, what) => {
    if (h === 0) throw new Error(`${what}: ${str(ex.ql_error_ptr(), ex.ql_error_len())}`);
    return h;
  };
  // Copies a typed array into a fresh wasm allocation; returns the pointer.
  function put(arr) {
    const p = ex.ql_alloc(arr.byteLength);
    if (p === 0) throw new Error('ql_alloc failed');
    u8().set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), p);
    return p;
  }

  // V8 runs a wasm function in its baseline compiler (Liftoff) until it is hot, and swaps in the
  // optimized (TurboFan) code only for later calls. Running every kernel path on small problems
  // here ("session creation", untimed) makes the timed runs use the code a warmed-up app would.
  function warmUp() {
    const t0 = performance.now();
    const [K, N] = [64, 40];
    const b = ex.ql_alloc(K * N * 4), a = ex.ql_alloc(8 * K * 4), y = ex.ql_alloc(8 * N * 4), s = put(new Float32Array(N).fill(0.01));
    u8().fill(0, b, b + K * N * 4);
    u8().fill(0, a, a + 8 * K * 4);
    const hi = ex.ql_i8_new(b, K, N), hf = ex.ql_f32_new(b, K, N), hq = ex.ql_qlinear_from_codes(b, K, N, s, 0, 8);
    for (let i = 0; i < 300; i++) {
      for (const m of [1, 3, 4, 7]) {
        ex.ql_i8_gemm(hi, a, m, K, y);
        ex.ql_f32_gemm(hf, a, m, K, y);
        ex.ql_qlinear_forward(hq, a, m, i & 1, 8, y);
      }
    }
    ex.ql_i8_drop(hi); ex.ql_f32_drop(hf); ex.ql_qlinear_drop(hq);
    for (const [p, n] of [[b, K * N * 4], [a, 8 * K * 4], [y, 8 * N * 4], [s, N * 4]]) ex.ql_free(p, n);
    return +(performance.now() - t0).toFixed(1);
  }

  return {
    name,
    ops: ['matmul_f32', 'matmulinteger_s8s8', 'qlinear_dynamic'],
    async init() {
      const bytes = readFileSync(wasmPath);
      const { instance } = await WebAssembly.instantiate(bytes, {});
      ex = instance.exports;
      const warm = warmUp();
      const w8 = chooseW8 ? chooseW8(ex, put) : null;
      return {
        warmup_ms: warm,
        ...(w8 ? { w8_kernel: w8 } : {}),
        kernel: str(ex.ql_kernel_name_ptr(), ex.ql_kernel_name_len()),
        wasm: wasmPath,
        bytes: bytes.length,
        qlinear_act: perToken ? 'per-token symmetric int8' : 'per-tensor symmetric int8',
      };
    },
    async prepare(op, M, K, N) {
      const def = ORT_OPS[op];
      if (!def || !this.ops.includes(op)) throw new Error(`unsupported op ${op}`);
      const A = def.input(M, K).A.data;
      const Bb = weightBytes(def.bType, K, N);
      const bPtr = put(Bb);
      const aPtr = ex.ql_alloc(A.byteLength);
      const yBytes = M * N * 4;
      const yPtr = ex.ql_alloc(yBytes);
      let h, run, drop, Y;
      const copyIn = () => u8().set(new Uint8Array(A.buffer, A.byteOffset, A.byteLength), aPtr);
      if (op === 'matmul_f32') {
        h = handle(ex.ql_f32_new(bPtr, K, N), 'pack f32');
        Y = new Float32Array(M * N);
        run = () => {
          copyIn();
          ok(ex.ql_f32_gemm(h, aPtr, M, K, yPtr), op);
          Y.set(new Float32Array(ex.memory.buffer, yPtr, M * N));
        };
        drop = () => ex.ql_f32_drop(h);
      } else if (op === 'matmulinteger_s8s8') {
        h = handle(ex.ql_i8_new(bPtr, K, N), 'pack i8');
        Y = new Int32Array(M * N);
        run = () => {
          copyIn();
          ok(ex.ql_i8_gemm(h, aPtr, M, K, yPtr), op);
          Y.set(new Int32Array(ex.memory.buffer, yPtr, M * N));
        };
        drop = () => ex.ql_i8_drop(h);
      } else {
        const sPtr = put(new Float32Array(N).fill(B_SCALE));
        h = handle(ex.ql_qlinear_from_codes(bPtr, K, N, sPtr, 0, 8), 'qlinear');
        ex.ql_free(sPtr, N * 4);
        Y = new Float32Array(M * N);
        run = () => {
          copyIn();
          ok(ex.ql_qlinear_forward(h, aPtr, M, perToken ? 1 : 0, 8, yPtr), op);
          Y.set(new Float32Array(ex.memory.buffer, yPtr, M * N));
        };
        drop = () => ex.ql_qlinear_drop(h);
      }
      ex.ql_free(bPtr, Bb.byteLength);
      return {
        run: async () => run(),
        output: () => Y,
        dispose: async () => {
          drop();
          ex.ql_free(aPtr, A.byteLength);
          ex.ql_free(yPtr, yBytes);
        },
      };
    },
  };
}

export default makePeer({ name: 'quantlab' });
