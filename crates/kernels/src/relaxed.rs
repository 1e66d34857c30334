//! Relaxed-SIMD int8 kernels: the 8-bit dot product SIMD128 lacks. Same signatures and the same
//! results, bit for bit, as [`super::scalar`] (walking the same packing with [`KG`] = 4).
//!
//! `i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, c)` adds to each i32 lane of `c` the sum of four
//! byte products `a[t]·b[t]`, `a` signed, `b` in 7 bits. It is *relaxed*: engines lower it
//! differently (x86 with AVX-VNNI: one `vpdpbusd`; AVX2 as on this project's Zen 3: `pmaddubsw` +
//! `pmaddwd` + `paddd`; ARM: `sdot`-family instructions), and the lowerings disagree once `b`
//! has its top bit set (unsigned on x86, signed on ARM) or a pair of products leaves i16
//! (`pmaddubsw` saturates). With `b` in [0, 127] and `a` in [−127, 127] every lowering gives the
//! exact sum: |a·b| ≤ 16 129, a pair ≤ 32 258 < 2^15.
//!
//! So neither operand may be a plain int8 code. Which one gives, and how:
//! * The activation goes in as **magnitude and sign**: |a| ∈ [0, 127] is the 7-bit operand
//!   (splat over the lanes, one row's four k), and its sign moves onto the weights:
//!   Σ a·w = Σ |a|·(±w), with ±w = `i8x16.relaxed_laneselect(−w, w, sign mask)`. The mask is
//!   all-ones or all-zeros per byte, where every lowering of the relaxed select agrees. One
//!   select and one dot per 16 multiply-adds; −w is made once per weight vector and shared by
//!   the tile's four rows. Weights are symmetric int8 codes in [−127, 127] (the layer refuses
//!   −128), so −w fits.
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
//! The tile is the SIMD128 kernel's 4×8 (see `simd128.rs`): per k-quad 2 weight loads, 2
//! negations, 4 magnitude and 4 sign splats (one pointer, constant offsets), 8 selects and 8
//! dots for 128 multiply-adds. On AVX2 that is about as many instructions as SIMD128's widening
//! path, so the two run at about the same rate here; on AVX-VNNI and ARM the dot is one
//! instruction for 16 multiply-adds instead of two for 8 (what V8's lowering implies; not
//! measured on this machine).

use core::arch::wasm32::*;

use super::pack::PackedI8;
use super::simd128::{DequantSink, Sink, StoreSink, L2_BLOCK_BYTES, MR};
use super::{check_dequant, check_gemm, check_qgemm, widen_rows, KG, NR};
use crate::error::Result;

/// C = A·B, int8 × int8 → i32 (see [`super::gemm_i8`]).
pub fn gemm_i8(a: &[i8], m: usize, k: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    if b.has_min {
        return super::scalar::gemm_i8(a, m, k, b, c);
    }
    let n = check_gemm(a.len(), m, k, b.k, b.n, c.len())?;
    let lda = KG * b.kp;
    let a16 = widen_rows(a, m, k, lda);
    let mut sink = StoreSink {
        c: c.as_mut_ptr(),
        n,
    };
    // SAFETY: a16 is m×lda with lda = KG·b.kp, c is m×n (checked above).
    unsafe { drive(&a16, m, lda, b, &mut sink) };
    Ok(())
}

/// Accumulators for i16 activation codes (see [`super::scalar::qgemm_i32`]).
pub fn qgemm_i32(a16: &[i16], m: usize, lda: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    if b.has_min {
        return super::scalar::qgemm_i32(a16, m, lda, b, c);
    }
    let n = check_qgemm(a16, m, lda, b, c.len())?;
    let mut sink = StoreSink {
        c: c.as_mut_ptr(),
        n,
    };
    // SAFETY: lengths checked by check_qgemm.
    unsafe { drive(a16, m, lda, b, &mut sink) };
    Ok(())
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
    if b.has_min {
        return super::scalar::qgemm_f32(a16, m, lda, b, row_scales, col_scales, bias, out);
    }
    let n = check_qgemm(a16, m, lda, b, out.len())?;
    check_dequant(m, n, row_scales, col_scales, bias)?;
    let padded = |v: &[f32]| {
        let mut p = vec![0f32; b.panels * NR];
        p.iter_mut().zip(v).for_each(|(d, &s)| *d = s);
        p
    };
    let cs = padded(col_scales);
    let bias = bias.map(padded);
    let mut sink = DequantSink {
        out: out.as_mut_ptr(),
        n,
        row_scales: row_scales.as_ptr(),
        col_scales: cs.as_ptr(),
        bias: bias.as_ref().map(|v| v.as_ptr()),
    };
    // SAFETY: lengths checked; cs/bias hold panels·NR values.
    unsafe { drive(a16, m, lda, b, &mut sink) };
    Ok(())
}

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
        for (quad, q) in block.chunks_exact_mut(stride).zip(src.chunks_exact(KG)) {
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

/// Two planes when some code's magnitude needs 8 bits (see the module doc).
fn planes_needed(a16: &[i16]) -> usize {
    if a16.iter().any(|v| v.unsigned_abs() > 127) {
        2
    } else {
        1
    }
}

/// One 4×8 tile over all k-quads of a panel, for the plane at byte `plane_off` of each packed
/// quad (`stride` bytes apart); the signs are at `MR·4`.
#[inline]
#[target_feature(enable = "relaxed-simd")]
unsafe fn tile(
    a: *const u8,
    b: *const i8,
    kp: usize,
    stride: usize,
    plane_off: usize,
) -> [[v128; 2]; MR] {
    let mut acc = [[i32x4_splat(0); 2]; MR];
    let (mut aq, mut bq) = (a, b);
    let end = b.add(kp * KG * NR);
    while bq < end {
        let (w0, w1) = (v128_load(bq.cast()), v128_load(bq.add(16).cast()));
        let (n0, n1) = (i8x16_neg(w0), i8x16_neg(w1));
        for (i, [lo, hi]) in acc.iter_mut().enumerate() {
            let mag = v128_load32_splat(aq.add(plane_off + 4 * i).cast());
            let sign = v128_load32_splat(aq.add(MR * 4 + 4 * i).cast());
            *lo =
                i32x4_relaxed_dot_i8x16_i7x16_add(i8x16_relaxed_laneselect(n0, w0, sign), mag, *lo);
            *hi =
                i32x4_relaxed_dot_i8x16_i7x16_add(i8x16_relaxed_laneselect(n1, w1, sign), mag, *hi);
        }
        bq = bq.add(KG * NR);
        aq = aq.add(stride);
    }
    acc
}

/// Caller guarantees: `a16` holds m×lda i16 codes with |code| ≤ 255 and lda = KG·b.kp, and the
/// sink can take m×n.
#[target_feature(enable = "relaxed-simd")]
unsafe fn drive<S: Sink>(a16: &[i16], m: usize, lda: usize, b: &PackedI8, sink: &mut S) {
    let planes = planes_needed(a16);
    if m == 1 {
        let ap = pack_planes(a16, 1, lda, b.kp, 1, planes);
        gemv(&ap, b, planes, sink);
        return;
    }
    let ap = pack_planes(a16, m, lda, b.kp, MR, planes);
    let kp = b.kp;
    let stride = MR * 4 * (1 + planes);
    let (bdata, plen) = (b.data.as_ptr(), b.panel_len());
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
                let mut acc = tile(a, bp, kp, stride, 0);
                if planes == 2 {
                    let high = tile(a, bp, kp, stride, 2 * MR * 4);
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

/// M = 1, memory-bound: four panels per pass (four sequential streams, as in SIMD128's GEMV),
/// one magnitude and one sign splat per k-quad feeding eight selects and dots; the last
/// panels one at a time.
#[target_feature(enable = "relaxed-simd")]
unsafe fn gemv<S: Sink>(ap: &[u8], b: &PackedI8, planes: usize, sink: &mut S) {
    let mut p = 0;
    while p + 4 <= b.panels {
        gemv_panels::<4, S>(ap, b, planes, p, sink);
        p += 4;
    }
    while p < b.panels {
        gemv_panels::<1, S>(ap, b, planes, p, sink);
        p += 1;
    }
}

/// `P` panels from panel `p0` of the GEMV, every plane, into the sink.
#[inline]
#[target_feature(enable = "relaxed-simd")]
unsafe fn gemv_panels<const P: usize, S: Sink>(
    ap: &[u8],
    b: &PackedI8,
    planes: usize,
    p0: usize,
    sink: &mut S,
) {
    let stride = 4 * (1 + planes);
    let plen = b.panel_len();
    let first = b.data.as_ptr().add(p0 * plen);
    let mut acc = [[i32x4_splat(0); 2]; P];
    for plane in 0..planes {
        let (off, shift) = if plane == 0 { (0, 0) } else { (8, 7) };
        let mut part = [[i32x4_splat(0); 2]; P];
        let mut aq = ap.as_ptr();
        let mut x = first;
        let end = x.add(plen);
        while x < end {
            let mag = v128_load32_splat(aq.add(off).cast());
            let sign = v128_load32_splat(aq.add(4).cast());
            for (j, [lo, hi]) in part.iter_mut().enumerate() {
                let w = x.add(j * plen);
                let (w0, w1) = (v128_load(w.cast()), v128_load(w.add(16).cast()));
                let s0 = i8x16_relaxed_laneselect(i8x16_neg(w0), w0, sign);
                let s1 = i8x16_relaxed_laneselect(i8x16_neg(w1), w1, sign);
                *lo = i32x4_relaxed_dot_i8x16_i7x16_add(s0, mag, *lo);
                *hi = i32x4_relaxed_dot_i8x16_i7x16_add(s1, mag, *hi);
            }
            x = x.add(KG * NR);
            aq = aq.add(stride);
        }
        for (a, q) in acc.iter_mut().zip(part) {
            a[0] = i32x4_add(a[0], i32x4_shl(q[0], shift));
            a[1] = i32x4_add(a[1], i32x4_shl(q[1], shift));
        }
    }
    for (j, [lo, hi]) in acc.into_iter().enumerate() {
        sink.put(0, p0 + j, lo, hi);
    }
}
