//! WebAssembly SIMD128 kernels. Same signatures and same results as [`super::scalar`].
//!
//! Why the int8 GEMM looks the way it does (numbers: Node 20 / V8 11.3 on a Zen 3 EPYC, see
//! `benches/README.md`):
//! * SIMD128 has no int8 dot product; `i32x4.dot_i16x8_s` (x86 `vpmaddwd`, 8 multiply-adds) is
//!   the widest exact multiply-accumulate, so both operands are brought to i16.
//! * Weights stay int8 in memory (half the bytes to stream) and are widened by the load itself:
//!   `i16x8.load8x8_s` is one `vpmovsxbw xmm, [mem]`. A pre-widened i16 copy was measured: no
//!   faster, twice the memory.
//! * Activations are widened (or quantized) to i16 once per call, O(M·K), and interleaved by
//!   blocks of 4 rows, so a k-pair of the 4 rows is 16 contiguous bytes: four
//!   `v128.load32_splat` from one pointer, and a splat load costs no vector ALU slot.
//! * A 4×8 register tile: per k-pair 2 widening loads + 4 splat loads + 8 dots + 8 adds for 64
//!   multiply-adds; 8 i32x4 accumulators + 2 weight vectors + temporaries fit the 15 xmm
//!   registers V8 allocates (a 6×8 tile would spill). TurboFan compiles the loop to exactly that
//!   (plus 4 `lea`: V8 11.3 does not fold a load-splat's offset into the address), and it runs
//!   at the rate of a bare `dot_i16x8_s` + `i32x4.add` loop on this machine (~70 GOPS): the
//!   vector pipes, not the memory system, are the limit.
//! * Panels are visited in blocks that fit L2 (`L2_BLOCK_BYTES`), each reused by every 4-row
//!   block of A, which stays in L1 across the panels of a block.
//! * M = 1 (matrix-vector) is bound by streaming the weights once: four panels per pass (four
//!   sequential streams, one A splat feeding eight dots).
//! * Relaxed SIMD's `i32x4.relaxed_dot_i8x16_i7x16_add_s` is the relaxed build's (`relaxed.rs`):
//!   a module containing it does not load where the engine lacks it, so this build stays the
//!   default and the fallback. A Winograd-style variant (half the dots, more adds) was slower.
//! * This crate builds at opt-level 3 (`[profile.release.package.quantlab-kernels]`) while the
//!   rest of the app stays at "z": the tiles are plain loops over their rows with accumulator
//!   arrays, which LLVM unrolls and keeps in registers at 3 (measured equal to the hand-written
//!   tiles they replaced; at "z" a generic f32 kernel had run 2.5× slower).

use core::arch::wasm32::*;

use super::pack::{PackedF32, PackedI8};
use super::scalar::quantize_one;
use super::{
    check_dequant, check_gemm, check_len, check_qgemm, check_quantize_rows, checked_len,
    non_finite_error, widen_rows, NR,
};
use crate::error::Result;

/// Weight bytes per block of panels: a block is reused by every row block of A, so it should
/// stay in the 512 KiB L2 next to A's rows and C.
pub(crate) const L2_BLOCK_BYTES: usize = 192 * 1024;

// ------------------------------------------------------------------------------------------
// Public twins

/// C = A·B, int8 × int8 → i32 (see [`super::gemm_i8`]).
pub fn gemm_i8(a: &[i8], m: usize, k: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    let n = check_gemm(a.len(), m, k, b.k, b.n, c.len())?;
    let mut sink = StoreSink {
        c: c.as_mut_ptr(),
        n,
    };
    if m == 1 {
        let a16 = widen_rows(a, m, k, 2 * b.kp);
        // SAFETY: a16 is 1×2kp, b.data is panels×panel_len, c is 1×n (checked above).
        unsafe { gemv_i16(a16.as_ptr(), b, &mut sink) };
    } else {
        let ap = pack_a_rows_i8(a, m, k, b.kp);
        // SAFETY: ap holds ceil(m/4) row blocks of kp k-pairs, c is m×n (checked above).
        unsafe { drive_packed(&ap, m, b, &mut sink) };
    }
    Ok(())
}

/// Accumulators for i16 activation codes (see [`super::scalar::qgemm_i32`]).
pub fn qgemm_i32(a16: &[i16], m: usize, lda: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    let n = check_qgemm(a16, m, lda, b, c.len())?;
    let mut sink = StoreSink {
        c: c.as_mut_ptr(),
        n,
    };
    // SAFETY: lengths checked by check_qgemm.
    unsafe { drive_i16(a16, m, lda, b, &mut sink) };
    Ok(())
}

/// GEMM + dequantization (see [`super::scalar::qgemm_f32`]); the scaling is fused into the
/// tile's store so the i32 accumulators never go to memory.
#[allow(clippy::too_many_arguments)]
pub fn qgemm_f32(
    a16: &[i16],
    m: usize,
    lda: usize,
    b: &PackedI8,
    row_scales: &[f32],
    col_scales: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
) -> Result<()> {
    let n = check_qgemm(a16, m, lda, b, out.len())?;
    check_dequant(m, n, row_scales, col_scales, bias)?;
    let cs = super::pad_to_panels(col_scales, b.panels);
    let bias = bias.map(|v| super::pad_to_panels(v, b.panels));
    let mut sink = DequantSink {
        out: out.as_mut_ptr(),
        n,
        row_scales: row_scales.as_ptr(),
        col_scales: cs.as_ptr(),
        bias: bias.as_ref().map(|v| v.as_ptr()),
    };
    // SAFETY: lengths checked; cs/bias hold panels·NR values.
    unsafe { drive_i16(a16, m, lda, b, &mut sink) };
    Ok(())
}

/// C = A·B in f32 (see [`super::gemm_f32`]).
pub fn gemm_f32(a: &[f32], m: usize, k: usize, b: &PackedF32, c: &mut [f32]) -> Result<()> {
    let n = check_gemm(a.len(), m, k, b.k, b.n, c.len())?;
    let mut sink = StoreSink {
        c: c.as_mut_ptr(),
        n,
    };
    // SAFETY: a is m×k, b.data is panels×k×NR, c is m×n (checked above).
    unsafe { drive_f32(a, m, k, b, &mut sink) };
    Ok(())
}

/// Symmetric per-row quantization to i16 codes (see [`super::quantize_rows_i16`]).
pub fn quantize_rows_i16(
    x: &[f32],
    m: usize,
    k: usize,
    scales: &[f32],
    q_max: i32,
    out: &mut [i16],
    lda: usize,
) -> Result<()> {
    check_quantize_rows(x.len(), m, k, scales, q_max, out.len(), lda)?;
    if k == 0 {
        return Ok(());
    }
    let qm = q_max as f32;
    let (lo, hi) = (f32x4_splat(-qm), f32x4_splat(qm));
    let k8 = k - k % 8;
    for ((xr, or), &s) in x.chunks_exact(k).zip(out.chunks_exact_mut(lda)).zip(scales) {
        let sv = f32x4_splat(s);
        for (xs, os) in xr.chunks_exact(8).zip(or.chunks_exact_mut(8)) {
            // SAFETY: xs has 8 f32 and os 8 i16 (chunks_exact); v128 loads/stores are 1-aligned.
            unsafe {
                let v0 = quantize4(v128_load(xs.as_ptr().cast()), sv, lo, hi);
                let v1 = quantize4(v128_load(xs.as_ptr().add(4).cast()), sv, lo, hi);
                v128_store(os.as_mut_ptr().cast(), i16x8_narrow_i32x4(v0, v1));
            }
        }
        if let (Some(xt), Some(ot)) = (xr.get(k8..), or.get_mut(k8..k)) {
            for (o, &v) in ot.iter_mut().zip(xt) {
                *o = quantize_one(v, s, qm);
            }
        }
    }
    Ok(())
}

/// clamp(round_half_even(v / s), lo, hi) → i32 lanes. pmax/pmin are `q < lo ? lo : q` and
/// `hi < q ? hi : q`: the comparisons of f32::clamp, so NaN stays NaN and truncates to 0 like
/// the scalar `as i16`.
#[inline(always)]
fn quantize4(v: v128, s: v128, lo: v128, hi: v128) -> v128 {
    i32x4_trunc_sat_f32x4(f32x4_pmin(
        f32x4_pmax(f32x4_nearest(f32x4_div(v, s)), lo),
        hi,
    ))
}

/// Per-row max |x| (see [`super::row_absmax`]).
pub fn row_absmax(x: &[f32], m: usize, k: usize, out: &mut [f32]) -> Result<()> {
    check_len("X (M×K, row-major)", checked_len("X (M×K)", m, k)?, x.len())?;
    check_len("row maxima (one per row)", m, out.len())?;
    if k == 0 {
        out.fill(0.0);
        return Ok(());
    }
    let mut finite = true;
    let k4 = k - k % 4;
    for (xr, o) in x.chunks_exact(k).zip(out.iter_mut()) {
        // f32x4.max propagates NaN (and keeps Inf), so one test at the end catches both.
        let mut mv = f32x4_splat(0.0);
        for xs in xr.chunks_exact(4) {
            // SAFETY: xs has 4 f32.
            mv = f32x4_max(mv, f32x4_abs(unsafe { v128_load(xs.as_ptr().cast()) }));
        }
        let lanes = [
            f32x4_extract_lane::<0>(mv),
            f32x4_extract_lane::<1>(mv),
            f32x4_extract_lane::<2>(mv),
            f32x4_extract_lane::<3>(mv),
        ];
        let mut mx = 0f32;
        for v in lanes
            .into_iter()
            .chain(xr.get(k4..).unwrap_or(&[]).iter().map(|v| v.abs()))
        {
            finite &= v.is_finite();
            mx = mx.max(v);
        }
        *o = mx;
    }
    if finite {
        Ok(())
    } else {
        Err(non_finite_error(x, k))
    }
}

// ------------------------------------------------------------------------------------------
// Tile stores

/// Where a finished 1×8 strip of a tile goes: row `r`, columns `8p..8p+8` (`lo`, `hi`).
pub(crate) trait Sink {
    unsafe fn put(&mut self, r: usize, p: usize, lo: v128, hi: v128);
}

/// Plain store of i32 or f32 lanes into a row-major M×N matrix.
pub(crate) struct StoreSink<T> {
    pub(crate) c: *mut T,
    pub(crate) n: usize,
}

impl<T: Copy> Sink for StoreSink<T> {
    #[inline(always)]
    unsafe fn put(&mut self, r: usize, p: usize, lo: v128, hi: v128) {
        store_strip(self.c, self.n, r, p, lo, hi);
    }
}

/// Stores 8 lanes of 4-byte values, or only the columns that exist at the right edge.
#[inline(always)]
unsafe fn store_strip<T: Copy>(c: *mut T, n: usize, r: usize, p: usize, lo: v128, hi: v128) {
    let col0 = p * NR;
    let dst = c.add(r * n + col0);
    if col0 + NR <= n {
        v128_store(dst.cast(), lo);
        v128_store(dst.add(4).cast(), hi);
    } else {
        let tmp = [lo, hi];
        core::ptr::copy_nonoverlapping(tmp.as_ptr().cast::<T>(), dst, n - col0);
    }
}

/// Dequantizing store: y = f32(acc) · (s_row · s_col) (+ bias), the scalar twin's order.
pub(crate) struct DequantSink {
    pub(crate) out: *mut f32,
    pub(crate) n: usize,
    pub(crate) row_scales: *const f32,
    pub(crate) col_scales: *const f32,
    pub(crate) bias: Option<*const f32>,
}

impl Sink for DequantSink {
    #[inline(always)]
    unsafe fn put(&mut self, r: usize, p: usize, lo: v128, hi: v128) {
        let col0 = p * NR;
        let rs = f32x4_splat(*self.row_scales.add(r));
        let cs = self.col_scales.add(col0);
        let mut y0 = f32x4_mul(f32x4_convert_i32x4(lo), f32x4_mul(rs, v128_load(cs.cast())));
        let mut y1 = f32x4_mul(
            f32x4_convert_i32x4(hi),
            f32x4_mul(rs, v128_load(cs.add(4).cast())),
        );
        if let Some(b) = self.bias {
            y0 = f32x4_add(y0, v128_load(b.add(col0).cast()));
            y1 = f32x4_add(y1, v128_load(b.add(col0 + 4).cast()));
        }
        store_strip(self.out, self.n, r, p, y0, y1);
    }
}

// ------------------------------------------------------------------------------------------
// Int8 (as i16 × i8) kernels

/// Rows per register tile.
pub(crate) const MR: usize = 4;

/// A's rows, interleaved by blocks of 4: for row block `t` and k-pair `q`, the 8 i16 at
/// `(t·kp + q)·8` are the pairs `(A[4t+r][2q], A[4t+r][2q+1])` of rows r = 0..4 (rows past M are
/// zero). Why: the tile then reads its four A splats at constant offsets 0/4/8/12 from a single
/// pointer; with one pointer per row, V8 spends an address computation (`lea`) per load, and
/// the loop is bound by instruction issue, not by the multipliers.
fn pack_a_rows(a16: &[i16], m: usize, lda: usize, kp: usize) -> Vec<i16> {
    let mut out = vec![0i16; m.div_ceil(MR) * kp * 2 * MR];
    if kp == 0 {
        return out;
    }
    for (row, src) in a16.chunks_exact(lda).take(m).enumerate() {
        let (t, r) = (row / MR, row % MR);
        let dst = out.get_mut(t * kp * 2 * MR..).unwrap_or(&mut []);
        for (d, pair) in dst.chunks_exact_mut(2 * MR).zip(src.chunks_exact(2)) {
            if let (Some([d0, d1]), [x, y]) = (d.get_mut(2 * r..2 * r + 2), pair) {
                *d0 = *x;
                *d1 = *y;
            }
        }
    }
    out
}

/// Widening variant of [`pack_a_rows`] straight from int8 rows of length `k`.
fn pack_a_rows_i8(a: &[i8], m: usize, k: usize, kp: usize) -> Vec<i16> {
    let mut out = vec![0i16; m.div_ceil(MR) * kp * 2 * MR];
    if k == 0 {
        return out;
    }
    for (row, src) in a.chunks(k).take(m).enumerate() {
        let (t, r) = (row / MR, row % MR);
        let dst = out.get_mut(t * kp * 2 * MR..).unwrap_or(&mut []);
        for (q, d) in dst.chunks_exact_mut(2 * MR).take(kp).enumerate() {
            if let Some([d0, d1]) = d.get_mut(2 * r..2 * r + 2) {
                *d0 = src.get(2 * q).map_or(0, |&v| v.into());
                *d1 = src.get(2 * q + 1).map_or(0, |&v| v.into());
            }
        }
    }
    out
}

/// One 4×8 tile over all k-pairs of a panel: `a` is a packed row block, `b` a packed panel.
/// Per k-pair: 2 widening loads of B, 4 splat loads of A, 8 dots, 8 adds; two pointers move.
/// A plain loop over the rows: at the kernels' opt-level 3 LLVM unrolls it and keeps the
/// accumulators in registers (measured equal to the hand-written version).
#[inline(always)]
unsafe fn tile(a: *const i16, b: *const i8, kp: usize) -> [[v128; 2]; MR] {
    let mut acc = [[i32x4_splat(0); 2]; MR];
    let (mut aq, mut bq) = (a, b);
    let end = b.add(kp * 2 * NR);
    while bq < end {
        let (b0, b1) = (
            i16x8_load_extend_i8x8(bq),
            i16x8_load_extend_i8x8(bq.add(8)),
        );
        for (i, [lo, hi]) in acc.iter_mut().enumerate() {
            let ai = v128_load32_splat(aq.add(2 * i).cast());
            *lo = i32x4_add(*lo, i32x4_dot_i16x8(ai, b0));
            *hi = i32x4_add(*hi, i32x4_dot_i16x8(ai, b1));
        }
        bq = bq.add(2 * NR);
        aq = aq.add(2 * MR);
    }
    acc
}

/// Caller guarantees: `a16` holds m×lda i16 with lda = 2·b.kp, and the sink can take m×n.
unsafe fn drive_i16<S: Sink>(a16: &[i16], m: usize, lda: usize, b: &PackedI8, sink: &mut S) {
    if m == 1 {
        gemv_i16(a16.as_ptr(), b, sink);
        return;
    }
    let ap = pack_a_rows(a16, m, lda, b.kp);
    drive_packed(&ap, m, b, sink);
}

/// The blocked GEMM over packed A (see [`pack_a_rows`]) and packed B.
unsafe fn drive_packed<S: Sink>(ap: &[i16], m: usize, b: &PackedI8, sink: &mut S) {
    let kp = b.kp;
    let (bdata, plen) = (b.data.as_ptr(), b.panel_len());
    let block = (L2_BLOCK_BYTES / plen.max(1)).max(1);
    let blocks = m.div_ceil(MR);
    let mut p0 = 0;
    while p0 < b.panels {
        let p1 = (p0 + block).min(b.panels);
        for t in 0..blocks {
            let a = ap.as_ptr().add(t * kp * 2 * MR);
            let rows = MR.min(m - t * MR);
            for p in p0..p1 {
                let acc = tile(a, bdata.add(p * plen), kp);
                for (i, [lo, hi]) in acc.into_iter().take(rows).enumerate() {
                    sink.put(t * MR + i, p, lo, hi);
                }
            }
        }
        p0 = p1;
    }
}

/// M = 1: memory-bound (every weight byte is used once), so the kernel's job is to keep the
/// memory system busy: four panels per pass are four sequential streams, which a wasm read loop
/// here pulls at ~20 GB/s against ~14 GB/s for one stream (cold caches, `benches/README.md`).
/// One A splat feeds eight dots.
#[inline(always)]
unsafe fn gemv_i16<S: Sink>(a: *const i16, b: &PackedI8, sink: &mut S) {
    let plen = b.panel_len();
    let base = b.data.as_ptr();
    let mut p = 0;
    while p + 4 <= b.panels {
        let mut x0 = base.add(p * plen);
        let (mut x1, mut x2, mut x3) = (x0.add(plen), x0.add(2 * plen), x0.add(3 * plen));
        let end = x1;
        let mut aq = a;
        let z = i32x4_splat(0);
        let (mut c0, mut c1, mut c2, mut c3) = (z, z, z, z);
        let (mut c4, mut c5, mut c6, mut c7) = (z, z, z, z);
        while x0 < end {
            let av = v128_load32_splat(aq.cast());
            c0 = i32x4_add(c0, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x0)));
            c1 = i32x4_add(c1, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x0.add(8))));
            c2 = i32x4_add(c2, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x1)));
            c3 = i32x4_add(c3, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x1.add(8))));
            c4 = i32x4_add(c4, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x2)));
            c5 = i32x4_add(c5, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x2.add(8))));
            c6 = i32x4_add(c6, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x3)));
            c7 = i32x4_add(c7, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x3.add(8))));
            x0 = x0.add(2 * NR);
            x1 = x1.add(2 * NR);
            x2 = x2.add(2 * NR);
            x3 = x3.add(2 * NR);
            aq = aq.add(2);
        }
        sink.put(0, p, c0, c1);
        sink.put(0, p + 1, c2, c3);
        sink.put(0, p + 2, c4, c5);
        sink.put(0, p + 3, c6, c7);
        p += 4;
    }
    while p < b.panels {
        let mut x0 = base.add(p * plen);
        let end = x0.add(plen);
        let mut aq = a;
        let (mut c0, mut c1) = (i32x4_splat(0), i32x4_splat(0));
        while x0 < end {
            let av = v128_load32_splat(aq.cast());
            c0 = i32x4_add(c0, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x0)));
            c1 = i32x4_add(c1, i32x4_dot_i16x8(av, i16x8_load_extend_i8x8(x0.add(8))));
            x0 = x0.add(2 * NR);
            aq = aq.add(2);
        }
        sink.put(0, p, c0, c1);
        p += 1;
    }
}

// ------------------------------------------------------------------------------------------
// f32 kernels

/// A (M×K f32) in blocks of 4 rows interleaved per k: `[A[4t][k], A[4t+1][k], A[4t+2][k],
/// A[4t+3][k]]` at `(t·K + k)·4` (rows past M are zero), for the same reason as
/// [`pack_a_rows`]: one pointer, four splat loads at constant offsets.
fn pack_a_f32(a: &[f32], m: usize, k: usize) -> Vec<f32> {
    let mut out = vec![0f32; m.div_ceil(MR) * k * MR];
    if k == 0 {
        return out;
    }
    for (row, src) in a.chunks_exact(k).take(m).enumerate() {
        let (t, r) = (row / MR, row % MR);
        let dst = out.get_mut(t * k * MR..).unwrap_or(&mut []);
        for (d, &v) in dst.chunks_exact_mut(MR).zip(src) {
            if let Some(d) = d.get_mut(r) {
                *d = v;
            }
        }
    }
    out
}

/// 4×8 tile of f32 over all k of one panel: `acc += a · b` with separate mul and add (SIMD128 has
/// no FMA), in k order like the scalar twin. A plain loop over the rows, as in [`tile`].
#[inline(always)]
unsafe fn tile_f32(a: *const f32, b: *const f32, k: usize) -> [[v128; 2]; MR] {
    let mut acc = [[f32x4_splat(0.0); 2]; MR];
    let (mut aq, mut bq) = (a, b);
    let end = b.add(k * NR);
    while bq < end {
        let (b0, b1) = (v128_load(bq.cast()), v128_load(bq.add(4).cast()));
        for (i, [lo, hi]) in acc.iter_mut().enumerate() {
            let ai = v128_load32_splat(aq.add(i).cast());
            *lo = f32x4_add(*lo, f32x4_mul(ai, b0));
            *hi = f32x4_add(*hi, f32x4_mul(ai, b1));
        }
        bq = bq.add(NR);
        aq = aq.add(MR);
    }
    acc
}

/// Caller guarantees: `a` holds m×k f32 and the sink can take m×n.
unsafe fn drive_f32<S: Sink>(a: &[f32], m: usize, k: usize, b: &PackedF32, sink: &mut S) {
    let plen = b.panel_len();
    if m == 1 {
        let mut p = 0;
        while p + 4 <= b.panels {
            gemv_f32_4(a.as_ptr(), b.data.as_ptr().add(p * plen), plen, k, p, sink);
            p += 4;
        }
        while p < b.panels {
            gemv_f32_1(a.as_ptr(), b.data.as_ptr().add(p * plen), k, p, sink);
            p += 1;
        }
        return;
    }
    let ap = pack_a_f32(a, m, k);
    let block = (L2_BLOCK_BYTES / (plen * 4).max(1)).max(1);
    let blocks = m.div_ceil(MR);
    let mut p0 = 0;
    while p0 < b.panels {
        let p1 = (p0 + block).min(b.panels);
        for t in 0..blocks {
            let at = ap.as_ptr().add(t * k * MR);
            let rows = MR.min(m - t * MR);
            for p in p0..p1 {
                let acc = tile_f32(at, b.data.as_ptr().add(p * plen), k);
                for (i, [lo, hi]) in acc.into_iter().take(rows).enumerate() {
                    sink.put(t * MR + i, p, lo, hi);
                }
            }
        }
        p0 = p1;
    }
}

/// f32 matrix-vector, four panels (32 columns) per pass: memory-bound, so four weight streams
/// (see [`gemv_i16`]).
#[inline(always)]
unsafe fn gemv_f32_4<S: Sink>(
    a: *const f32,
    b: *const f32,
    plen: usize,
    k: usize,
    p: usize,
    sink: &mut S,
) {
    let z = f32x4_splat(0.0);
    let (mut c0, mut c1, mut c2, mut c3) = (z, z, z, z);
    let (mut c4, mut c5, mut c6, mut c7) = (z, z, z, z);
    let (mut x0, mut x1, mut x2, mut x3) = (b, b.add(plen), b.add(2 * plen), b.add(3 * plen));
    let end = b.add(k * NR);
    let mut aq = a;
    while x0 < end {
        let av = v128_load32_splat(aq.cast());
        c0 = f32x4_add(c0, f32x4_mul(av, v128_load(x0.cast())));
        c1 = f32x4_add(c1, f32x4_mul(av, v128_load(x0.add(4).cast())));
        c2 = f32x4_add(c2, f32x4_mul(av, v128_load(x1.cast())));
        c3 = f32x4_add(c3, f32x4_mul(av, v128_load(x1.add(4).cast())));
        c4 = f32x4_add(c4, f32x4_mul(av, v128_load(x2.cast())));
        c5 = f32x4_add(c5, f32x4_mul(av, v128_load(x2.add(4).cast())));
        c6 = f32x4_add(c6, f32x4_mul(av, v128_load(x3.cast())));
        c7 = f32x4_add(c7, f32x4_mul(av, v128_load(x3.add(4).cast())));
        x0 = x0.add(NR);
        x1 = x1.add(NR);
        x2 = x2.add(NR);
        x3 = x3.add(NR);
        aq = aq.add(1);
    }
    sink.put(0, p, c0, c1);
    sink.put(0, p + 1, c2, c3);
    sink.put(0, p + 2, c4, c5);
    sink.put(0, p + 3, c6, c7);
}

#[inline(always)]
unsafe fn gemv_f32_1<S: Sink>(a: *const f32, b: *const f32, k: usize, p: usize, sink: &mut S) {
    let (mut c0, mut c1) = (f32x4_splat(0.0), f32x4_splat(0.0));
    let mut x0 = b;
    let end = b.add(k * NR);
    let mut aq = a;
    while x0 < end {
        let av = v128_load32_splat(aq.cast());
        c0 = f32x4_add(c0, f32x4_mul(av, v128_load(x0.cast())));
        c1 = f32x4_add(c1, f32x4_mul(av, v128_load(x0.add(4).cast())));
        x0 = x0.add(NR);
        aq = aq.add(1);
    }
    sink.put(0, p, c0, c1);
}

// ------------------------------------------------------------------------------------------
// f64 vector steps of the Walsh–Hadamard transforms (two lanes per op). Written when the whole
// app built at "z" (no loop vectoriser, one f64 at a time); kept explicit at the kernels'
// opt-level 3 so the SIMD path does not depend on what the vectoriser decides.
// IEEE add and sub per lane: bit-identical to the scalar twins.

/// dst ← dst + src (see [`super::add_assign_f64`]).
pub fn add_assign_f64(dst: &mut [f64], src: &[f64]) {
    let n = dst.len().min(src.len());
    let n2 = n - n % 2;
    let (d2, dt) = dst.split_at_mut(n2);
    let s2 = src.get(..n2).unwrap_or(&[]);
    for (d, s) in d2.chunks_exact_mut(2).zip(s2.chunks_exact(2)) {
        // SAFETY: d and s hold 2 f64 each (16 bytes); v128 loads/stores need no alignment.
        unsafe {
            let v = f64x2_add(v128_load(d.as_ptr().cast()), v128_load(s.as_ptr().cast()));
            v128_store(d.as_mut_ptr().cast(), v);
        }
    }
    super::scalar::add_assign_f64(dt, src.get(n2..n).unwrap_or(&[]));
}

/// dst ← dst − src (see [`super::sub_assign_f64`]).
pub fn sub_assign_f64(dst: &mut [f64], src: &[f64]) {
    let n = dst.len().min(src.len());
    let n2 = n - n % 2;
    let (d2, dt) = dst.split_at_mut(n2);
    let s2 = src.get(..n2).unwrap_or(&[]);
    for (d, s) in d2.chunks_exact_mut(2).zip(s2.chunks_exact(2)) {
        // SAFETY: as in add_assign_f64.
        unsafe {
            let v = f64x2_sub(v128_load(d.as_ptr().cast()), v128_load(s.as_ptr().cast()));
            v128_store(d.as_mut_ptr().cast(), v);
        }
    }
    super::scalar::sub_assign_f64(dt, src.get(n2..n).unwrap_or(&[]));
}

/// (lo, hi) ← (lo + hi, lo − hi) (see [`super::butterfly_f64`]).
pub fn butterfly_f64(lo: &mut [f64], hi: &mut [f64]) {
    let n = lo.len().min(hi.len());
    let n2 = n - n % 2;
    let (l2, lt) = lo.split_at_mut(n2);
    let (h2, ht) = hi.split_at_mut(n2);
    for (a, b) in l2.chunks_exact_mut(2).zip(h2.chunks_exact_mut(2)) {
        // SAFETY: a and b hold 2 f64 each.
        unsafe {
            let (x, y) = (v128_load(a.as_ptr().cast()), v128_load(b.as_ptr().cast()));
            v128_store(a.as_mut_ptr().cast(), f64x2_add(x, y));
            v128_store(b.as_mut_ptr().cast(), f64x2_sub(x, y));
        }
    }
    super::scalar::butterfly_f64(lt, ht);
}

/// Four columns of a row: (mul·x, s, q) with q = clamp(nearest(mul·x / s), lo, hi) as floats.
/// pmax(q, lo) = q < lo ? lo : q and pmin(q, hi) = hi < q ? hi : q are the scalar twin's
/// comparisons exactly: NaN stays NaN (and casts to 0), −0 stays −0. `rs` and `ss` hold four
/// values (the callers' `chunks_exact(4)`); anything else reads as zeros.
#[inline(always)]
fn codes4(mv: v128, lo: v128, hi: v128, rs: &[f32], ss: &[f32]) -> (v128, v128, v128) {
    let four = |x: &[f32]| match <&[f32; 4]>::try_from(x) {
        // SAFETY: 4 f32 are 16 bytes; v128 loads need no alignment.
        Ok(a) => unsafe { v128_load(a.as_ptr().cast()) },
        Err(_) => f32x4_splat(0.0),
    };
    let (v, s) = (f32x4_mul(mv, four(rs)), four(ss));
    let q = f32x4_pmin(f32x4_pmax(f32x4_nearest(f32x4_div(v, s)), lo), hi);
    (v, s, q)
}

/// Codes of one row with per-column scales (see [`super::quantize_per_col`]), four lanes at
/// a time with the scalar twin's comparisons; the tail through the twin.
pub fn quantize_per_col(row: &[f32], mul: f32, scales: &[f32], q_max: f32, codes: &mut [i8]) {
    let n = row.len().min(scales.len()).min(codes.len());
    let n4 = n - n % 4;
    let (mv, lo, hi) = (f32x4_splat(mul), f32x4_splat(-q_max), f32x4_splat(q_max));
    let (r4, rt) = row.split_at(n4.min(row.len()));
    let (s4, st) = scales.split_at(n4.min(scales.len()));
    let (c4, ct) = codes.split_at_mut(n4);
    for ((rs, ss), cs) in r4
        .chunks_exact(4)
        .zip(s4.chunks_exact(4))
        .zip(c4.chunks_exact_mut(4))
    {
        let (_, _, q) = codes4(mv, lo, hi, rs, ss);
        let qi = i32x4_trunc_sat_f32x4(q);
        // i32 → i16 → i8 lanes, saturating: the codes lie in ±q_max ≤ 127 already.
        let b = i8x16_narrow_i16x8(i16x8_narrow_i32x4(qi, qi), i16x8_splat(0));
        if let Ok(c) = <&mut [i8; 4]>::try_from(cs) {
            *c = (i32x4_extract_lane::<0>(b) as u32)
                .to_le_bytes()
                .map(|x| x as i8);
        }
    }
    super::scalar::quantize_per_col(rt, mul, st, q_max, ct);
}

/// One row quantized with per-column scales (see [`super::quantize_row_per_col`]): four
/// columns per step with `f32x4.nearest` (ties to even) and one division per lane, exactly the
/// scalar arithmetic; the f64 error sums stay sequential, lane by lane, so they are the
/// scalar twin's bits too.
pub fn quantize_row_per_col(
    row: &[f32],
    mul: f32,
    scales: &[f32],
    q_max: f32,
    codes: &mut [i8],
) -> (f64, f64) {
    let n = row.len().min(scales.len()).min(codes.len());
    let n4 = n - n % 4;
    let (mut e, mut x) = (0f64, 0f64);
    let (mv, lo, hi) = (f32x4_splat(mul), f32x4_splat(-q_max), f32x4_splat(q_max));
    let (r4, rt) = row.split_at(n4.min(row.len()));
    let (s4, st) = scales.split_at(n4.min(scales.len()));
    let (c4, ct) = codes.split_at_mut(n4);
    for ((rs, ss), cs) in r4
        .chunks_exact(4)
        .zip(s4.chunks_exact(4))
        .zip(c4.chunks_exact_mut(4))
    {
        let (v, s, q) = codes4(mv, lo, hi, rs, ss);
        let qi = i32x4_trunc_sat_f32x4(q);
        let xh = f32x4_mul(q, s);
        if let [c0, c1, c2, c3] = cs {
            *c0 = i32x4_extract_lane::<0>(qi) as i8;
            *c1 = i32x4_extract_lane::<1>(qi) as i8;
            *c2 = i32x4_extract_lane::<2>(qi) as i8;
            *c3 = i32x4_extract_lane::<3>(qi) as i8;
        }
        add_sq(
            &mut e,
            &mut x,
            f32x4_extract_lane::<0>(xh),
            f32x4_extract_lane::<0>(v),
        );
        add_sq(
            &mut e,
            &mut x,
            f32x4_extract_lane::<1>(xh),
            f32x4_extract_lane::<1>(v),
        );
        add_sq(
            &mut e,
            &mut x,
            f32x4_extract_lane::<2>(xh),
            f32x4_extract_lane::<2>(v),
        );
        add_sq(
            &mut e,
            &mut x,
            f32x4_extract_lane::<3>(xh),
            f32x4_extract_lane::<3>(v),
        );
    }
    // The tail continues the same left-to-right sums.
    super::scalar::quantize_row_per_col_from(rt, mul, st, q_max, ct, (e, x))
}

/// e += (x̂ − x)², x2 += x², in f64, as the scalar twin does per value.
#[inline(always)]
fn add_sq(e: &mut f64, x2: &mut f64, xh: f32, v: f32) {
    let (xh, xv) = (f64::from(xh), f64::from(v));
    *e += (xh - xv) * (xh - xv);
    *x2 += xv * xv;
}

/// absmax[j] ← max(absmax[j], |mul·row[j]|) (see [`super::absmax_per_col`]). `f32::max` is
/// not a wasm instruction (its NaN rule differs from `f32.max`), so the scalar loop is a call
/// per value; pmax(m, a) = m < a ? a : m ignores a NaN `a` the same way.
pub fn absmax_per_col(row: &[f32], mul: f32, absmax: &mut [f32]) {
    let n = row.len().min(absmax.len());
    let n4 = n - n % 4;
    let mv = f32x4_splat(mul);
    let (r4, rt) = row.split_at(n4);
    let (m4, mt) = absmax.split_at_mut(n4);
    for (rs, ms) in r4.chunks_exact(4).zip(m4.chunks_exact_mut(4)) {
        // SAFETY: rs and ms hold 4 f32 each.
        unsafe {
            let a = f32x4_abs(f32x4_mul(mv, v128_load(rs.as_ptr().cast())));
            let m = f32x4_pmax(v128_load(ms.as_ptr().cast()), a);
            v128_store(ms.as_mut_ptr().cast(), m);
        }
    }
    super::scalar::absmax_per_col(rt, mul, mt);
}

/// y_r ← y_r + v_r·b for four rows, two f64 lanes per op (see [`super::axpy4_f64_f32`]):
/// separate multiply and add, as the scalar twin, so every output gets the same bits.
pub fn axpy4_f64_f32(y: [&mut [f64]; 4], v: [f64; 4], b: &[f32]) {
    let [y0, y1, y2, y3] = y;
    let n = b
        .len()
        .min(y0.len())
        .min(y1.len())
        .min(y2.len())
        .min(y3.len());
    let n2 = n - n % 2;
    let [v0, v1, v2, v3] = v;
    let (s0, s1, s2, s3) = (
        f64x2_splat(v0),
        f64x2_splat(v1),
        f64x2_splat(v2),
        f64x2_splat(v3),
    );
    let (b2, bt) = b.split_at(n2);
    let (y0a, y0t) = y0.split_at_mut(n2);
    let (y1a, y1t) = y1.split_at_mut(n2);
    let (y2a, y2t) = y2.split_at_mut(n2);
    let (y3a, y3t) = y3.split_at_mut(n2);
    let rows = y0a
        .chunks_exact_mut(2)
        .zip(y1a.chunks_exact_mut(2))
        .zip(y2a.chunks_exact_mut(2))
        .zip(y3a.chunks_exact_mut(2));
    for (bs, (((o0, o1), o2), o3)) in b2.chunks_exact(2).zip(rows) {
        // SAFETY: bs holds 2 f32 (8 bytes, loaded into the low half); each o holds 2 f64.
        unsafe {
            let bv = f64x2_promote_low_f32x4(v128_load64_zero(bs.as_ptr().cast()));
            for (o, s) in [(o0, s0), (o1, s1), (o2, s2), (o3, s3)] {
                let acc = f64x2_add(v128_load(o.as_ptr().cast()), f64x2_mul(s, bv));
                v128_store(o.as_mut_ptr().cast(), acc);
            }
        }
    }
    super::scalar::axpy4_f64_f32([y0t, y1t, y2t, y3t], v, bt);
}
