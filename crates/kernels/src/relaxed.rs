//! Relaxed-SIMD int8 kernels: the 8-bit dot product SIMD128 lacks. Same signatures and the same
//! results, bit for bit, as [`super::scalar`] walking the same packings ([`Layout::Quads`],
//! [`Layout::Offset64`]).
//!
//! `i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c)` adds to each i32 lane of `c` the sum of four
//! byte products `a[t]·b[t]`, `a` signed, `b` in 7 bits. It is *relaxed*: engines lower it
//! differently (x86 with AVX-VNNI: one `vpdpbusd`; AVX2 as on this project's Zen 3: `pmaddubsw` +
//! `pmaddwd` + `paddd`; ARM: `sdot`-family instructions), and the lowerings disagree once `b`
//! has its top bit set (unsigned on x86, signed on ARM) or a pair of products leaves i16
//! (`pmaddubsw` saturates). With `b` in [0, 127] and `a` in [−127, 127] every lowering gives the
//! exact sum: |a·b| ≤ 16 129, a pair ≤ 32 258 < 2^15.
//!
//! So one operand must fit in 7 bits. Which one, and how:
//! * **Weights of up to 7 bits** ([`Layout::Offset64`]: W4, W2, any |w| ≤ 63) are stored plus 64,
//!   in [1, 127]: they are the 7-bit operand, the activation code the signed one, and
//!   Σ a·w = Σ a·(w + 64) − 64·Σ a, with Σ a once per row. One dot per 16 multiply-adds, nothing
//!   else: on this machine's AVX2 the fastest int8 path of the app.
//! * **8-bit weights** ([`Layout::Quads`]): the activation goes in as **magnitude and sign**: |a| ∈ [0, 127] is the 7-bit operand
//!   (splat over the lanes, one row's four k), and its sign moves onto the weights:
//!   Σ a·w = Σ |a|·(±w), with ±w = `i8x16.relaxed_laneselect(−w, w, sign mask)`. The mask is
//!   all-ones or all-zeros per byte, where every lowering of the relaxed select agrees. One
//!   select and one dot per 16 multiply-adds; −w is made once per weight vector and shared by
//!   the tile's four rows. Weights are symmetric int8 codes in [−127, 127] (the layer refuses
//!   −128), so −w fits.
//! * **8-bit weights where the dot reads `b` as unsigned** (x86 with AVX-VNNI, where V8 emits
//!   `vpdpbusd`; [`unsigned_dot`] probes it once): the weights are the signed operand as they
//!   are packed for the sign kernel, and each activation row goes in as the unsigned one,
//!   offset by o = −min of its codes (128 for symmetric int8 codes; ONNX's uint8 activations
//!   minus their zero point fit too): Σ a·w = Σ (a + o)·w − o·Σ_k w, with the column sums of
//!   the weights made once per packing — onnxruntime MLAS's u8·s8 scheme. One dot per 16
//!   multiply-adds and no select: measured in Chromium 156 on this project's Zen 5, 3.7× the
//!   sign kernel on the start-up case. Wrong on every other lowering (ARM's `sdot` reads `b` as
//!   signed, AVX2's `pmaddubsw` saturates pairs), which the probe's constants expose, so the
//!   sign kernel stays there.
//! * Codes beyond 127 in magnitude (ONNX's uint8 activations minus their zero point, up to 255;
//!   an arbitrary int8 A with −128) are split into two 7-bit planes, |a| = lo + 128·hi, each
//!   run through the same tile: Σ a·w = Σ lo·(±w) + 128·Σ hi·(±w). The common case (int8
//!   codes from a symmetric quantizer, |a| ≤ 127) runs one plane.
//! * A weight of −128 (never produced by the symmetric quantizer, possible in [`gemm_i8`]'s
//!   general int8 B) has no int8 negation: such a packing takes the scalar twin.
//! * Why not offset the activations into u7 and fold the zero point into the weights' column
//!   sums: an int8 code offset by 127 needs 8 bits, and 7-bit activations would not be the
//!   W8A8 the other paths compute.
//!
//! The tiles are the SIMD128 kernel's 4×8 (see `simd128.rs`). Per k-quad (128 multiply-adds)
//! the offset tile issues 2 weight loads, 4 splats and 8 dots; the sign tile adds 2 negations
//! and 8 selects. The dot is the fused `i32x4.relaxed_dot_i8x16_i7x16_add_s`, which V8 lowers
//! to one `vpdpbusd` on x86 with AVX-VNNI and to `sdot`-family instructions on ARM: one
//! instruction for 16 multiply-adds where SIMD128 needs two for 8, what V8's lowering implies
//! for the audience's laptops (the unsigned kernel above is what VNNI machines run). On
//! AVX2 it becomes `pmaddubsw` + `pmaddwd` + `paddd` plus two instructions that rebuild a
//! constant of ones at every use; writing it as `i16x8.relaxed_dot_i8x16_i7x16_s` +
//! `i32x4.dot_i16x8_s` against ones kept in a register measured 4–5 % faster for the offset
//! tile and ~15 % for the sign tile here, but would cost the VNNI and ARM machines their single
//! instruction, so the fused form stays. On AVX2 the sign tile is slower than SIMD128's
//! widening path: 8-bit weights use it only where the page measured it faster
//! ([`super::prefer_relaxed_w8`]).

use core::arch::wasm32::*;

use super::pack::{Layout, PackedI8};
use super::simd128::{DequantSink, Sink, StoreSink, L2_BLOCK_BYTES, MR};
use super::{act_stride, check_dequant, check_gemm, check_qgemm, widen_rows, NR};
use crate::error::Result;

/// C = A·B, int8 × int8 → i32 (see [`super::gemm_i8`]).
pub fn gemm_i8(a: &[i8], m: usize, k: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    let n = check_gemm(a.len(), m, k, b.k, b.n, c.len())?;
    let lda = act_stride(k);
    let a16 = widen_rows(a, m, k, lda);
    let mut sink = StoreSink {
        c: c.as_mut_ptr(),
        n,
    };
    dispatch(&a16, m, lda, b, &mut sink)
}

/// Accumulators for i16 activation codes (see [`super::scalar::qgemm_i32`]).
pub fn qgemm_i32(a16: &[i16], m: usize, lda: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    let n = check_qgemm(a16, m, lda, b, c.len())?;
    let mut sink = StoreSink {
        c: c.as_mut_ptr(),
        n,
    };
    dispatch(a16, m, lda, b, &mut sink)
}

/// GEMM + dequantization (see [`super::scalar::qgemm_f32`]), fused into the tile's store.
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
    dispatch(a16, m, lda, b, &mut sink)
}

/// The kernel for the packing and the codes. Codes are checked to lie in [−255, 255]; the
/// offset kernel takes them as signed bytes, so wider ones (ONNX uint8 minus its zero point)
/// with offset weights take the sign kernel's two planes on a re-packed copy… which cannot
/// happen in the app (its offset weights meet symmetric int8 codes), so the scalar twin
/// computes that case instead.
fn dispatch<S: Sink>(a16: &[i16], m: usize, lda: usize, b: &PackedI8, sink: &mut S) -> Result<()> {
    let fits_i8 = a16.iter().all(|&v| (-128..=127).contains(&v));
    match b.layout {
        // SAFETY (both): a16 is m×lda with lda = act_stride(K) ≥ 4·kp, the sink takes m×n.
        Layout::Offset64 if fits_i8 => unsafe { drive_offset(a16, m, lda, b, sink) },
        Layout::Quads => {
            let rows = if m == 1 { 1 } else { MR };
            match unsigned_dot()
                .then(|| pack_unsigned(a16, m, lda, b.kp, rows))
                .flatten()
            {
                Some((ap, offsets)) => unsafe { drive_unsigned(&ap, &offsets, m, b, sink) },
                None => unsafe { drive_sign(a16, m, lda, b, sink) },
            }
        }
        _ => {
            let mut c = vec![0i32; m * b.n];
            super::scalar::qgemm_i32(a16, m, lda, b, &mut c)?;
            for r in 0..m {
                for p in 0..b.panels {
                    let mut lanes = [0i32; NR];
                    for (j, l) in lanes.iter_mut().enumerate() {
                        let col = p * NR + j;
                        if col < b.n {
                            *l = c.get(r * b.n + col).copied().unwrap_or(0);
                        }
                    }
                    let [l0, l1, l2, l3, l4, l5, l6, l7] = lanes;
                    // SAFETY: row r and panel p are inside the sink's m×n.
                    unsafe {
                        sink.put(r, p, i32x4(l0, l1, l2, l3), i32x4(l4, l5, l6, l7));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Σ over each lane's quad of a·b for signed `a` and 7-bit `b`, added to `acc`: the fused
/// instruction, which is one `vpdpbusd` with AVX-VNNI and one `sdot`-family instruction on ARM.
#[inline]
#[target_feature(enable = "relaxed-simd")]
unsafe fn dot_add(a: v128, b: v128, acc: v128) -> v128 {
    i32x4_relaxed_dot_i8x16_i7x16_add(a, b, acc)
}

// ------------------------------------------------------------------------------------------
// Offset weights: activation signed, weight + 64 the 7-bit operand.

/// A's rows for the offset tile: for row block `t` and k-quad `q`, at `(t·kp + q)·4·rows` the
/// quad's four codes of each of the block's rows (rows past M zero); and Σ a of every row.
fn pack_codes(a16: &[i16], m: usize, lda: usize, kp: usize, rows: usize) -> (Vec<i8>, Vec<i32>) {
    let stride = rows * 4;
    let mut out = vec![0i8; m.div_ceil(rows) * kp * stride];
    let mut sums = vec![0i32; m.div_ceil(rows) * rows];
    if lda == 0 {
        return (out, sums);
    }
    for (row, src) in a16.chunks_exact(lda).take(m).enumerate() {
        let (t, r) = (row / rows, row % rows);
        if let Some(s) = sums.get_mut(row) {
            *s = src.iter().map(|&v| i32::from(v)).sum();
        }
        let Some(block) = out.get_mut(t * kp * stride..(t + 1) * kp * stride) else {
            continue;
        };
        for (quad, q) in block.chunks_exact_mut(stride).zip(src.chunks_exact(4)) {
            if let Some(d) = quad.get_mut(r * 4..r * 4 + 4) {
                d.iter_mut().zip(q).for_each(|(d, &v)| *d = v as i8);
            }
        }
    }
    (out, sums)
}

/// One 4×8 tile over all k-quads of a panel, for the offset kernel (`SWAP` false: the row's
/// signed codes are the dot's first operand, the weights + 64 its 7-bit one) and the unsigned
/// kernel (`SWAP` true: the weights are the signed operand, the row's offset codes the
/// unsigned one). `a` holds four bytes per row and k-quad.
#[inline]
#[target_feature(enable = "relaxed-simd")]
unsafe fn tile_quads<const SWAP: bool>(a: *const u8, b: *const i8, kp: usize) -> [[v128; 2]; MR] {
    let mut acc = [[i32x4_splat(0); 2]; MR];
    let (mut aq, mut bq) = (a, b);
    let end = b.add(kp * 4 * NR);
    while bq < end {
        let (w0, w1) = (v128_load(bq.cast()), v128_load(bq.add(16).cast()));
        for (i, [lo, hi]) in acc.iter_mut().enumerate() {
            let av = v128_load32_splat(aq.add(4 * i).cast());
            *lo = dot_either::<SWAP>(av, w0, *lo);
            *hi = dot_either::<SWAP>(av, w1, *hi);
        }
        bq = bq.add(4 * NR);
        aq = aq.add(4 * MR);
    }
    acc
}

/// The dot with the activation first (`SWAP` false) or the weight first (true).
#[inline]
#[target_feature(enable = "relaxed-simd")]
unsafe fn dot_either<const SWAP: bool>(act: v128, w: v128, acc: v128) -> v128 {
    if SWAP {
        dot_add(w, act, acc)
    } else {
        dot_add(act, w, acc)
    }
}

/// The offset kernel: blocked like SIMD128's, −64·Σa per row before the store.
#[target_feature(enable = "relaxed-simd")]
unsafe fn drive_offset<S: Sink>(a16: &[i16], m: usize, lda: usize, b: &PackedI8, sink: &mut S) {
    let rows = if m == 1 { 1 } else { MR };
    let (ap, sums) = pack_codes(a16, m, lda, b.kp, rows);
    let fix = |r: usize| i32x4_splat(-64 * sums.get(r).copied().unwrap_or(0));
    drive_quads::<false>(ap.as_ptr().cast(), m, b, |r, p, lo, hi| {
        let f = fix(r);
        sink.put(r, p, i32x4_add(lo, f), i32x4_add(hi, f));
    });
}

/// The tiles of the offset (`SWAP` false) or unsigned (true) kernel over A's rows packed four
/// bytes per row and k-quad (one row for M = 1, else blocks of [`MR`]), blocked like SIMD128's
/// (panels in L2-sized runs; M = 1 four panels per pass); each row's 8-column strip goes to
/// `put(row, panel, lo, hi)`.
#[target_feature(enable = "relaxed-simd")]
unsafe fn drive_quads<const SWAP: bool>(
    ap: *const u8,
    m: usize,
    b: &PackedI8,
    mut put: impl FnMut(usize, usize, v128, v128),
) {
    let kp = b.kp;
    let (bdata, plen) = (b.data.as_ptr(), b.panel_len());
    if m == 1 {
        let mut p = 0;
        while p < b.panels {
            let count = (b.panels - p).min(4);
            let acc = if count == 4 {
                gemv_quads::<4, SWAP>(ap, bdata.add(p * plen), plen, kp)
            } else {
                let mut one = [[i32x4_splat(0); 2]; 4];
                for (j, slot) in one.iter_mut().take(count).enumerate() {
                    let [x] = gemv_quads::<1, SWAP>(ap, bdata.add((p + j) * plen), plen, kp);
                    *slot = x;
                }
                one
            };
            for (j, [lo, hi]) in acc.into_iter().take(count).enumerate() {
                put(0, p + j, lo, hi);
            }
            p += count;
        }
        return;
    }
    let block = (L2_BLOCK_BYTES / plen.max(1)).max(1);
    let blocks = m.div_ceil(MR);
    let mut p0 = 0;
    while p0 < b.panels {
        let p1 = (p0 + block).min(b.panels);
        for t in 0..blocks {
            let a = ap.add(t * kp * 4 * MR);
            let rows = MR.min(m - t * MR);
            for p in p0..p1 {
                let acc = tile_quads::<SWAP>(a, bdata.add(p * plen), kp);
                for (i, [lo, hi]) in acc.into_iter().take(rows).enumerate() {
                    put(t * MR + i, p, lo, hi);
                }
            }
        }
        p0 = p1;
    }
}

/// `P` panels of the offset or unsigned GEMV (M = 1, see [`tile_quads`]): one activation
/// splat per k-quad feeds 2·P dots.
#[inline]
#[target_feature(enable = "relaxed-simd")]
unsafe fn gemv_quads<const P: usize, const SWAP: bool>(
    a: *const u8,
    first: *const i8,
    plen: usize,
    kp: usize,
) -> [[v128; 2]; P] {
    let mut acc = [[i32x4_splat(0); 2]; P];
    let (mut aq, mut x) = (a, first);
    let end = first.add(kp * 4 * NR);
    while x < end {
        let av = v128_load32_splat(aq.cast());
        for (j, [lo, hi]) in acc.iter_mut().enumerate() {
            let w = x.add(j * plen);
            *lo = dot_either::<SWAP>(av, v128_load(w.cast()), *lo);
            *hi = dot_either::<SWAP>(av, v128_load(w.add(16).cast()), *hi);
        }
        x = x.add(4 * NR);
        aq = aq.add(4);
    }
    acc
}

// ------------------------------------------------------------------------------------------
// 8-bit weights: the activation's 7-bit magnitude, its sign moved onto the weights.

/// A's rows as 7-bit planes for a tile of `rows` rows: for row block `t` and k-quad `q`, at
/// `(t·kp + q)·rows·4·(1 + planes)` come the low planes |a| mod 128 of the block's rows (4
/// bytes each), then their sign masks (0xFF where a < 0), then, with two planes, the high
/// planes |a| div 128. Rows past M are zero. One pointer, constant offsets, as in SIMD128's
/// `pack_a_rows`.
fn pack_planes(
    a16: &[i16],
    m: usize,
    lda: usize,
    kp: usize,
    rows: usize,
    planes: usize,
) -> Vec<u8> {
    let stride = rows * 4 * (1 + planes);
    let mut out = vec![0u8; m.div_ceil(rows) * kp * stride];
    if lda == 0 {
        return out;
    }
    for (row, src) in a16.chunks_exact(lda).take(m).enumerate() {
        let (t, r) = (row / rows, row % rows);
        let Some(block) = out.get_mut(t * kp * stride..(t + 1) * kp * stride) else {
            continue;
        };
        for (quad, q) in block.chunks_exact_mut(stride).zip(src.chunks_exact(4)) {
            for (i, &v) in q.iter().enumerate() {
                let mag = v.unsigned_abs();
                let at = |plane: usize| plane * rows * 4 + r * 4 + i;
                if let Some(d) = quad.get_mut(at(0)) {
                    *d = (mag & 127) as u8;
                }
                if let Some(d) = quad.get_mut(at(1)) {
                    *d = if v < 0 { 0xff } else { 0 };
                }
                if planes == 2 {
                    if let Some(d) = quad.get_mut(at(2)) {
                        *d = (mag >> 7) as u8;
                    }
                }
            }
        }
    }
    out
}

/// Two planes when some code's magnitude needs 8 bits.
fn planes_needed(a16: &[i16]) -> usize {
    if a16.iter().any(|v| v.unsigned_abs() > 127) {
        2
    } else {
        1
    }
}

/// One 4×8 tile of the sign kernel over all k-quads of a panel, for the plane at byte
/// `plane_off` of each packed quad (`stride` bytes apart); the signs are at `MR·4`.
#[inline]
#[target_feature(enable = "relaxed-simd")]
unsafe fn tile_sign(
    a: *const u8,
    b: *const i8,
    kp: usize,
    stride: usize,
    plane_off: usize,
) -> [[v128; 2]; MR] {
    let mut acc = [[i32x4_splat(0); 2]; MR];
    let (mut aq, mut bq) = (a, b);
    let end = b.add(kp * 4 * NR);
    while bq < end {
        let (w0, w1) = (v128_load(bq.cast()), v128_load(bq.add(16).cast()));
        let (n0, n1) = (i8x16_neg(w0), i8x16_neg(w1));
        for (i, [lo, hi]) in acc.iter_mut().enumerate() {
            let mag = v128_load32_splat(aq.add(plane_off + 4 * i).cast());
            let sign = v128_load32_splat(aq.add(MR * 4 + 4 * i).cast());
            *lo = dot_add(i8x16_relaxed_laneselect(n0, w0, sign), mag, *lo);
            *hi = dot_add(i8x16_relaxed_laneselect(n1, w1, sign), mag, *hi);
        }
        bq = bq.add(4 * NR);
        aq = aq.add(stride);
    }
    acc
}

/// The sign kernel: `a16` codes with |code| ≤ 255, one or two planes.
#[target_feature(enable = "relaxed-simd")]
unsafe fn drive_sign<S: Sink>(a16: &[i16], m: usize, lda: usize, b: &PackedI8, sink: &mut S) {
    let planes = planes_needed(a16);
    let rows = if m == 1 { 1 } else { MR };
    let ap = pack_planes(a16, m, lda, b.kp, rows, planes);
    let kp = b.kp;
    let stride = rows * 4 * (1 + planes);
    let (bdata, plen) = (b.data.as_ptr(), b.panel_len());
    if m == 1 {
        for p in 0..b.panels {
            let mut acc = gemv_sign(ap.as_ptr(), bdata.add(p * plen), kp, stride, 0);
            if planes == 2 {
                let [h0, h1] = gemv_sign(ap.as_ptr(), bdata.add(p * plen), kp, stride, 8);
                acc = [
                    i32x4_add(acc[0], i32x4_shl(h0, 7)),
                    i32x4_add(acc[1], i32x4_shl(h1, 7)),
                ];
            }
            sink.put(0, p, acc[0], acc[1]);
        }
        return;
    }
    let block = (L2_BLOCK_BYTES / plen.max(1)).max(1);
    let blocks = m.div_ceil(MR);
    let mut p0 = 0;
    while p0 < b.panels {
        let p1 = (p0 + block).min(b.panels);
        for t in 0..blocks {
            let a = ap.as_ptr().add(t * kp * stride);
            let rows = MR.min(m - t * MR);
            for p in p0..p1 {
                let bp = bdata.add(p * plen);
                let mut acc = tile_sign(a, bp, kp, stride, 0);
                if planes == 2 {
                    let high = tile_sign(a, bp, kp, stride, 2 * MR * 4);
                    for (l, h) in acc.iter_mut().zip(high) {
                        l[0] = i32x4_add(l[0], i32x4_shl(h[0], 7));
                        l[1] = i32x4_add(l[1], i32x4_shl(h[1], 7));
                    }
                }
                for (i, [lo, hi]) in acc.into_iter().take(rows).enumerate() {
                    sink.put(t * MR + i, p, lo, hi);
                }
            }
        }
        p0 = p1;
    }
}

/// One panel of the sign GEMV (M = 1), one plane.
#[inline]
#[target_feature(enable = "relaxed-simd")]
unsafe fn gemv_sign(
    a: *const u8,
    panel: *const i8,
    kp: usize,
    stride: usize,
    plane_off: usize,
) -> [v128; 2] {
    let (mut lo, mut hi) = (i32x4_splat(0), i32x4_splat(0));
    let (mut aq, mut x) = (a, panel);
    let end = panel.add(kp * 4 * NR);
    while x < end {
        let mag = v128_load32_splat(aq.add(plane_off).cast());
        let sign = v128_load32_splat(aq.add(4).cast());
        let (w0, w1) = (v128_load(x.cast()), v128_load(x.add(16).cast()));
        lo = dot_add(i8x16_relaxed_laneselect(i8x16_neg(w0), w0, sign), mag, lo);
        hi = dot_add(i8x16_relaxed_laneselect(i8x16_neg(w1), w1, sign), mag, hi);
        x = x.add(4 * NR);
        aq = aq.add(stride);
    }
    [lo, hi]
}

// ------------------------------------------------------------------------------------------
// 8-bit weights where the dot reads its second operand as unsigned (x86 with AVX-VNNI).

/// Whether this engine's relaxed dot reads its 7-bit operand as an *unsigned* byte and sums
/// the four products without saturating: what one `vpdpbusd` (x86 AVX-VNNI) computes. Then
/// an activation code offset by 128 (a byte in [0, 255]) against a signed weight is exact:
/// Σ w·a = Σ w·(a + 128) − 128·Σ w, onnxruntime MLAS's u8·s8 scheme. ARM's `sdot` (signed),
/// AVX2's `pmaddubsw` (pairs saturated at 32 767) and any other lowering fail the probe, and
/// 8-bit weights keep the sign kernel there. Probed once: lanes of extreme and mixed bytes,
/// compared with the unsigned sum computed here. [`set_unsigned_allowed`] can turn it off.
pub fn unsigned_dot() -> bool {
    if !UNSIGNED_ALLOWED.load(core::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    use core::sync::atomic::{AtomicU8, Ordering};
    static PROBED: AtomicU8 = AtomicU8::new(0);
    match PROBED.load(Ordering::Relaxed) {
        1 => return true,
        2 => return false,
        _ => {}
    }
    // SAFETY: this module is compiled only with relaxed SIMD enabled.
    let ok = unsafe { probe_unsigned() };
    PROBED.store(if ok { 1 } else { 2 }, Ordering::Relaxed);
    ok
}

static UNSIGNED_ALLOWED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// Lets 8-bit weights use the unsigned kernel where the probe allows it (the default), or
/// keeps them on the sign kernel: for tests and benchmarks that compare the two.
pub fn set_unsigned_allowed(on: bool) {
    UNSIGNED_ALLOWED.store(on, core::sync::atomic::Ordering::Relaxed);
}

#[target_feature(enable = "relaxed-simd")]
unsafe fn probe_unsigned() -> bool {
    // Four lanes of 127·255 (a pair of them leaves i16), −128·255, and mixed signs and sizes.
    let cases: [([i8; 16], [u8; 16]); 4] = [
        ([127; 16], [255; 16]),
        ([-128; 16], [255; 16]),
        (
            [
                -100, 127, 3, -1, 90, -128, 127, 127, 0, 1, -7, 64, -127, 55, -128, 100,
            ],
            [
                255, 255, 200, 129, 128, 1, 255, 254, 77, 255, 130, 255, 255, 0, 128, 199,
            ],
        ),
        (
            [
                5, -5, 100, -100, -128, -128, 127, -127, 33, -66, 99, -99, 1, 2, 3, 4,
            ],
            [
                250, 251, 252, 253, 255, 255, 255, 255, 140, 141, 142, 143, 200, 201, 202, 203,
            ],
        ),
    ];
    // Near the ends of i32: the kernel relies on wrapping sums (`vpdpbusd`, not the
    // saturating `vpdpbusds`), exact once its column fix is added.
    let start = [7, -11, i32::MAX - 1000, i32::MIN + 1000];
    cases.iter().all(|(a, b)| {
        let got = dot_add(
            v128_load(a.as_ptr().cast()),
            v128_load(b.as_ptr().cast()),
            i32x4(start[0], start[1], start[2], start[3]),
        );
        let got = [
            i32x4_extract_lane::<0>(got),
            i32x4_extract_lane::<1>(got),
            i32x4_extract_lane::<2>(got),
            i32x4_extract_lane::<3>(got),
        ];
        got.iter().enumerate().all(|(lane, &g)| {
            let want: i32 = (0..4)
                .map(|t| {
                    let i = lane * 4 + t;
                    i32::from(a.get(i).copied().unwrap_or(0))
                        * i32::from(b.get(i).copied().unwrap_or(0))
                })
                .sum();
            g == start.get(lane).copied().unwrap_or(0).wrapping_add(want)
        })
    })
}

/// A's rows for the unsigned tile, laid out as [`pack_codes`] does, each row's codes plus its
/// offset −min (bytes in [0, 255]), and the offsets; `None` when some row's codes span more
/// than 255 (then the sign kernel's planes take them). Int8 codes always fit; so do ONNX's
/// uint8 activations minus their zero point, whose span is at most 255.
fn pack_unsigned(
    a16: &[i16],
    m: usize,
    lda: usize,
    kp: usize,
    rows: usize,
) -> Option<(Vec<u8>, Vec<i32>)> {
    let stride = rows * 4;
    let mut out = vec![0u8; m.div_ceil(rows) * kp * stride];
    let mut offsets = vec![0i32; m];
    if lda == 0 {
        return Some((out, offsets));
    }
    for (row, src) in a16.chunks_exact(lda).take(m).enumerate() {
        let (lo, hi) = src.iter().fold((0i32, 0i32), |(lo, hi), &v| {
            (lo.min(v.into()), hi.max(v.into()))
        });
        if hi - lo > 255 {
            return None;
        }
        if let Some(o) = offsets.get_mut(row) {
            *o = -lo;
        }
        let (t, r) = (row / rows, row % rows);
        let Some(block) = out.get_mut(t * kp * stride..(t + 1) * kp * stride) else {
            continue;
        };
        for (quad, q) in block.chunks_exact_mut(stride).zip(src.chunks_exact(4)) {
            if let Some(d) = quad.get_mut(r * 4..r * 4 + 4) {
                d.iter_mut()
                    .zip(q)
                    .for_each(|(d, &v)| *d = (i32::from(v) - lo).clamp(0, 255) as u8);
            }
        }
    }
    Some((out, offsets))
}

/// The unsigned kernel on rows packed by [`pack_unsigned`]: each row's offset times each
/// column's Σ_k w taken off before the store. [`unsigned_dot`] must hold.
#[target_feature(enable = "relaxed-simd")]
unsafe fn drive_unsigned<S: Sink>(
    ap: &[u8],
    offsets: &[i32],
    m: usize,
    b: &PackedI8,
    sink: &mut S,
) {
    let sums = b.col_sums();
    let sums_at = |p: usize| -> [v128; 2] {
        match sums.get(p * NR..p * NR + NR) {
            Some(f) => [
                v128_load(f.as_ptr().cast()),
                v128_load(f.as_ptr().add(4).cast()),
            ],
            None => [i32x4_splat(0); 2],
        }
    };
    // acc − o·Σw, wrapping as the dot does: exact whenever the true sum fits in i32.
    let fixed = |acc: v128, o: i32, sums: v128| i32x4_sub(acc, i32x4_mul(i32x4_splat(o), sums));
    drive_quads::<true>(ap.as_ptr(), m, b, |r, p, lo, hi| {
        let o = offsets.get(r).copied().unwrap_or(0);
        let [s0, s1] = sums_at(p);
        sink.put(r, p, fixed(lo, o, s0), fixed(hi, o, s1));
    });
}
