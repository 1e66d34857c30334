// quantlab's relaxed-SIMD kernels as a second peer of the WASM matmul harness: the same ops and
// semantics as quantlab-peer.mjs ('quantlab'), over target/bench-peer/kernels_wasm_relaxed.wasm
// (`make bench-peer`), so one harness run measures both paths side by side:
//
//   node <harness>/run.mjs --extra-peer benches/quantlab-peer.mjs --extra-peer benches/quantlab-relaxed-peer.mjs
//
// The module needs an engine whose relaxed 8-bit dot product is exact: Chromium ≥ 114, Node ≥ 22
// (`make bench` runs the harness with the Node 22 that `make setup` installs from npm). Node 20's
// flagged V8 11.3 returns twice every dot product, which the harness's output check catches.
//
// Which kernel reads the weights is the app's run-time choice: weights of up to 7 bits take the
// 8-bit dot product; 8-bit weights (all three ops here) take it only if, timed at start-up on a
// 64×384×384 GEMM, it beats the 16-bit SIMD128 kernel by 5 % (src/ui/kernels.rs). The timing is
// reported in the peer's init info as `w8_kernel`. QUANTLAB_RELAXED_W8=quads|pairs overrides it.
import { makePeer } from './quantlab-peer.mjs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const wasm = process.env.QUANTLAB_RELAXED_WASM ?? join(here, '../target/bench-peer/kernels_wasm_relaxed.wasm');
const LAYOUTS = ['pairs', 'quads', 'offset64'];

/** Median per-run ms of each of `runs`, alternating, in batches of ≥ 5 ms (as the app's probe). */
function timeBatches(runs, samples) {
  let fastest = Infinity;
  for (let i = 0; i < 4; i++) {
    for (const run of runs) {
      const t = performance.now();
      run();
      fastest = Math.min(fastest, performance.now() - t);
    }
  }
  const batch = Math.min(2000, Math.max(1, Math.ceil(5 / Math.max(fastest, 1e-3))));
  const times = runs.map(() => []);
  for (let s = 0; s < samples; s++) {
    runs.forEach((run, i) => {
      const t = performance.now();
      for (let j = 0; j < batch; j++) run();
      times[i].push((performance.now() - t) / batch);
    });
  }
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  return times.map(median);
}

function chooseW8(ex, put) {
  const forced = process.env.QUANTLAB_RELAXED_W8;
  if (forced === 'quads' || forced === 'pairs') {
    ex.ql_set_prefer_relaxed_w8(forced === 'quads' ? 1 : 0);
    return { forced };
  }
  const [M, K, N] = [64, 384, 384];
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 255) - 127;
  const a = put(Int8Array.from({ length: M * K }, rnd));
  const b = put(Int8Array.from({ length: K * N }, rnd));
  const y = ex.ql_alloc(M * N * 4);
  const handles = [0, 1].map((on) => {
    ex.ql_set_prefer_relaxed_w8(on);
    return ex.ql_i8_new(b, K, N);
  });
  const [pairsMs, quadsMs] = timeBatches(handles.map((h) => () => ex.ql_i8_gemm(h, a, M, K, y)), 3);
  const layouts = handles.map((h) => LAYOUTS[ex.ql_i8_layout(h)]);
  handles.forEach((h) => ex.ql_i8_drop(h));
  ex.ql_free(a, M * K);
  ex.ql_free(b, K * N);
  ex.ql_free(y, M * N * 4);
  const relaxed = quadsMs < 0.95 * pairsMs;
  ex.ql_set_prefer_relaxed_w8(relaxed ? 1 : 0);
  return {
    chosen: relaxed ? 'quads (8-bit dot)' : 'pairs (SIMD128 16-bit dot)',
    probe: `64x384x384 int8 GEMM: ${layouts[0]} ${pairsMs.toFixed(3)} ms, ${layouts[1]} ${quadsMs.toFixed(3)} ms`,
  };
}

export default makePeer({ name: 'quantlab-relaxed', wasm, chooseW8 });
