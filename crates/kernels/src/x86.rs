//! x86-64 SSE2 twins of the GEMM kernels, for the native builds (the CLI, `cargo test`): the
//! same 4×8 register tiles as `simd128.rs`, on the instructions SIMD128's lower to there
//! (`pmaddwd` for `i32x4.dot_i16x8_s`, `mulps` + `addps`). SSE2 is part of x86-64 itself, so
//! no CPU check is needed and every x86-64 machine runs the same code.
//!
//! Same signatures and same results as [`super::scalar`], bit for bit: integer sums are exact,
//! and every f32 output is summed in k order with a separate multiply and add (no FMA), as the
//! scalar twin does. `tests/kernels.rs` compares them on ragged shapes and extreme values.
//! Only the pair layout ([`super::Layout::Pairs`]) comes here; the quad layouts of the
//! relaxed-SIMD build stay on the scalar twin natively.

use core::arch::x86_64::*;

use super::pack::{PackedF32, PackedI8};
use super::{check_dequant, check_gemm, check_qgemm, widen_rows, NR};
use crate::error::Result;

pub use super::scalar::{
    absmax_per_col, add_assign_f64, axpy4_f64_f32, butterfly_f64, quantize_per_col,
    quantize_row_per_col, quantize_rows_i16, row_absmax, sub_assign_f64,
};

/// Rows per register tile.
const MR: usize = 4;

/// Where a finished 1×8 strip goes.
trait Sink {
    /// # Safety
    /// Row `r` < M and panel `p` < panels of the call that made the sink.
    unsafe fn put(&mut self, r: usize, p: usize, lo: __m128i, hi: __m128i);
}

struct I32Sink {
    c: *mut i32,
    n: usize,
}

impl Sink for I32Sink {
    #[inline(always)]
    unsafe fn put(&mut self, r: usize, p: usize, lo: __m128i, hi: __m128i) {
        let mut v = [0i32; NR];
        _mm_storeu_si128(v.as_mut_ptr().cast(), lo);
        _mm_storeu_si128(v.as_mut_ptr().add(4).cast(), hi);
        store(self.c, self.n, r, p, &v);
    }
}

/// y = f32(acc) · (s_row · s_col) (+ bias), the scalar twin's order.
struct DequantSink<'a> {
    out: *mut f32,
    n: usize,
    row_scales: &'a [f32],
    col_scales: &'a [f32],
    bias: Option<&'a [f32]>,
}

impl Sink for DequantSink<'_> {
    #[inline(always)]
    unsafe fn put(&mut self, r: usize, p: usize, lo: __m128i, hi: __m128i) {
        let col0 = p * NR;
        let rs = _mm_set1_ps(*self.row_scales.get_unchecked(r));
        let cs = self.col_scales.as_ptr().add(col0);
        let mut y0 = _mm_mul_ps(_mm_cvtepi32_ps(lo), _mm_mul_ps(rs, _mm_loadu_ps(cs)));
        let mut y1 = _mm_mul_ps(_mm_cvtepi32_ps(hi), _mm_mul_ps(rs, _mm_loadu_ps(cs.add(4))));
        if let Some(b) = self.bias {
            y0 = _mm_add_ps(y0, _mm_loadu_ps(b.as_ptr().add(col0)));
            y1 = _mm_add_ps(y1, _mm_loadu_ps(b.as_ptr().add(col0 + 4)));
        }
        let mut v = [0f32; NR];
        _mm_storeu_ps(v.as_mut_ptr(), y0);
        _mm_storeu_ps(v.as_mut_ptr().add(4), y1);
        store(self.out, self.n, r, p, &v);
    }
}

/// The valid columns of one strip into row `r` of an M×N matrix.
#[inline(always)]
unsafe fn store<T: Copy>(c: *mut T, n: usize, r: usize, p: usize, v: &[T; NR]) {
    let col0 = p * NR;
    let cols = NR.min(n - col0);
    core::ptr::copy_nonoverlapping(v.as_ptr(), c.add(r * n + col0), cols);
}

/// C = A·B, int8 × int8 → i32 (see [`super::gemm_i8`]).
pub fn gemm_i8(a: &[i8], m: usize, k: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    let n = check_gemm(a.len(), m, k, b.k, b.n, c.len())?;
    let lda = 2 * b.kp;
    let a16 = widen_rows(a, m, k, lda);
    let mut sink = I32Sink {
        c: c.as_mut_ptr(),
        n,
    };
    // SAFETY: a16 is m×lda, c is m×n (checked), b's panels hold kp k-pairs of NR columns.
    unsafe { drive_i16(&a16, m, lda, b, &mut sink) };
    Ok(())
}

/// Accumulators for i16 activation codes (see [`super::scalar::qgemm_i32`]).
pub fn qgemm_i32(a16: &[i16], m: usize, lda: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    let n = check_qgemm(a16, m, lda, b, c.len())?;
    let mut sink = I32Sink {
        c: c.as_mut_ptr(),
        n,
    };
    // SAFETY: lengths checked by check_qgemm.
    unsafe { drive_i16(a16, m, lda, b, &mut sink) };
    Ok(())
}

/// GEMM + dequantization (see [`super::scalar::qgemm_f32`]).
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
    let cs = pad(col_scales, b.panels);
    let bias = bias.map(|v| pad(v, b.panels));
    let mut sink = DequantSink {
        out: out.as_mut_ptr(),
        n,
        row_scales,
        col_scales: &cs,
        bias: bias.as_deref(),
    };
    // SAFETY: lengths checked; cs and bias hold panels·NR values.
    unsafe { drive_i16(a16, m, lda, b, &mut sink) };
    Ok(())
}

fn pad(v: &[f32], panels: usize) -> Vec<f32> {
    let mut p = vec![0f32; panels * NR];
    p.iter_mut().zip(v).for_each(|(d, &s)| *d = s);
    p
}

/// A's rows interleaved by blocks of 4: for row block t and k-pair q, the 8 i16 at
/// `(t·kp + q)·8` are the pairs of rows 4t..4t+4 (rows past M are zero), so one 16-byte load
/// holds the pair of all four rows.
fn pack_a_rows(a16: &[i16], m: usize, lda: usize, kp: usize) -> Vec<i16> {
    let mut out = vec![0i16; m.div_ceil(MR) * kp * 2 * MR];
    if kp == 0 || lda == 0 {
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

/// The sign-extended halves of 16 int8 weights: columns 0–3 and 4–7 of one k-pair.
#[inline(always)]
unsafe fn widen(b: *const i8) -> (__m128i, __m128i) {
    let v = _mm_loadu_si128(b.cast());
    let sign = _mm_cmpgt_epi8(_mm_setzero_si128(), v);
    (_mm_unpacklo_epi8(v, sign), _mm_unpackhi_epi8(v, sign))
}

/// One 4×8 tile over all k-pairs of a panel.
#[inline(always)]
unsafe fn tile_i16(a: *const i16, b: *const i8, kp: usize) -> [[__m128i; 2]; MR] {
    let z = _mm_setzero_si128();
    let mut acc = [[z; 2]; MR];
    for q in 0..kp {
        let (b0, b1) = widen(b.add(q * 2 * NR));
        let av = _mm_loadu_si128(a.add(q * 2 * MR).cast());
        let rows = [
            _mm_shuffle_epi32::<0x00>(av),
            _mm_shuffle_epi32::<0x55>(av),
            _mm_shuffle_epi32::<0xAA>(av),
            _mm_shuffle_epi32::<0xFF>(av),
        ];
        for ([lo, hi], ar) in acc.iter_mut().zip(rows) {
            *lo = _mm_add_epi32(*lo, _mm_madd_epi16(ar, b0));
            *hi = _mm_add_epi32(*hi, _mm_madd_epi16(ar, b1));
        }
    }
    acc
}

/// # Safety
/// `a16` holds m rows of `lda` = 2·kp codes; the sink takes m × n.
unsafe fn drive_i16<S: Sink>(a16: &[i16], m: usize, lda: usize, b: &PackedI8, sink: &mut S) {
    let kp = b.kp;
    let plen = b.panel_len();
    let bdata = b.data.as_ptr();
    if m == 1 {
        // One row: every weight byte is used once; one broadcast pair feeds two dots.
        for p in 0..b.panels {
            let (mut lo, mut hi) = (_mm_setzero_si128(), _mm_setzero_si128());
            let panel = bdata.add(p * plen);
            for q in 0..kp {
                let (b0, b1) = widen(panel.add(q * 2 * NR));
                let pair = a16.as_ptr().add(2 * q).cast::<i32>().read_unaligned();
                let ar = _mm_set1_epi32(pair);
                lo = _mm_add_epi32(lo, _mm_madd_epi16(ar, b0));
                hi = _mm_add_epi32(hi, _mm_madd_epi16(ar, b1));
            }
            sink.put(0, p, lo, hi);
        }
        return;
    }
    let ap = pack_a_rows(a16, m, lda, kp);
    for t in 0..m.div_ceil(MR) {
        let a = ap.as_ptr().add(t * kp * 2 * MR);
        let rows = MR.min(m - t * MR);
        for p in 0..b.panels {
            let acc = tile_i16(a, bdata.add(p * plen), kp);
            for (i, [lo, hi]) in acc.into_iter().take(rows).enumerate() {
                sink.put(t * MR + i, p, lo, hi);
            }
        }
    }
}

/// C = A·B in f32 (see [`super::gemm_f32`]): per output, `acc + a·b` in k order.
pub fn gemm_f32(a: &[f32], m: usize, k: usize, b: &PackedF32, c: &mut [f32]) -> Result<()> {
    let n = check_gemm(a.len(), m, k, b.k, b.n, c.len())?;
    if k == 0 {
        c.fill(0.0);
        return Ok(());
    }
    let plen = b.panel_len();
    let bdata = b.data.as_ptr();
    // A in blocks of 4 rows interleaved per k (rows past M zero).
    let mut ap = vec![0f32; m.div_ceil(MR) * k * MR];
    for (row, src) in a.chunks_exact(k).take(m).enumerate() {
        let (t, r) = (row / MR, row % MR);
        let dst = ap.get_mut(t * k * MR..).unwrap_or(&mut []);
        for (d, &v) in dst.chunks_exact_mut(MR).zip(src) {
            if let Some(d) = d.get_mut(r) {
                *d = v;
            }
        }
    }
    // SAFETY: ap holds ceil(m/4)·k·4 values, b's panels k·NR, c is m×n (checked above).
    unsafe {
        for t in 0..m.div_ceil(MR) {
            let at = ap.as_ptr().add(t * k * MR);
            let rows = MR.min(m - t * MR);
            for p in 0..b.panels {
                let bp = bdata.add(p * plen);
                let z = _mm_setzero_ps();
                let mut acc = [[z; 2]; MR];
                for kk in 0..k {
                    let b0 = _mm_loadu_ps(bp.add(kk * NR));
                    let b1 = _mm_loadu_ps(bp.add(kk * NR + 4));
                    for (i, [lo, hi]) in acc.iter_mut().enumerate() {
                        let ai = _mm_set1_ps(*at.add(kk * MR + i));
                        *lo = _mm_add_ps(*lo, _mm_mul_ps(ai, b0));
                        *hi = _mm_add_ps(*hi, _mm_mul_ps(ai, b1));
                    }
                }
                for (i, [lo, hi]) in acc.into_iter().take(rows).enumerate() {
                    let mut v = [0f32; NR];
                    _mm_storeu_ps(v.as_mut_ptr(), lo);
                    _mm_storeu_ps(v.as_mut_ptr().add(4), hi);
                    store(c.as_mut_ptr(), n, t * MR + i, p, &v);
                }
            }
        }
    }
    Ok(())
}

/// SSE2 twin of [`super::ggml::dot_blocks_scalar`] (Q8_0, Q4_0, Q4_1): the same lanes, the same
/// order, bit for bit.
pub fn dot_blocks(
    ty: super::ggml::BlockType,
    bytes: &[u8],
    x: &[f32],
    x_block_sums: &[f32],
) -> f32 {
    use super::ggml::{f16_to_f32, BlockType, QK};
    let bb = ty.block_bytes();
    let blocks = (bytes.len() / bb).min(x.len() / QK);
    // SAFETY: loads stay inside block b of `bytes` (16-byte loads from offset 2 or 4 end at
    // 18/34 ≤ bb) and inside x[32b..32b+32].
    unsafe {
        let z = _mm_setzero_si128();
        // i16 lanes → two f32x4.
        let f = |w: __m128i| {
            let sign = _mm_srai_epi16(w, 15);
            [
                _mm_cvtepi32_ps(_mm_unpacklo_epi16(w, sign)),
                _mm_cvtepi32_ps(_mm_unpackhi_epi16(w, sign)),
            ]
        };
        let mut acc = _mm_setzero_ps();
        let mut macc = 0f32;
        for b in 0..blocks {
            let blk = bytes.as_ptr().add(b * bb);
            let xp = x.as_ptr().add(b * QK);
            let d = f16_to_f32(u16::from_le_bytes([*blk, *blk.add(1)]));
            let halves: [__m128i; 4] = if ty == BlockType::Q8_0 {
                let v0 = _mm_loadu_si128(blk.add(2).cast());
                let v1 = _mm_loadu_si128(blk.add(18).cast());
                let (s0, s1) = (_mm_cmpgt_epi8(z, v0), _mm_cmpgt_epi8(z, v1));
                [
                    _mm_unpacklo_epi8(v0, s0),
                    _mm_unpackhi_epi8(v0, s0),
                    _mm_unpacklo_epi8(v1, s1),
                    _mm_unpackhi_epi8(v1, s1),
                ]
            } else {
                let head = if ty == BlockType::Q4_1 { 4 } else { 2 };
                let qs = _mm_loadu_si128(blk.add(head).cast());
                let mask = _mm_set1_epi8(0x0f);
                let lo = _mm_and_si128(qs, mask);
                let hi = _mm_and_si128(_mm_srli_epi16(qs, 4), mask);
                let off = _mm_set1_epi16(if ty == BlockType::Q4_0 { 8 } else { 0 });
                [
                    _mm_sub_epi16(_mm_unpacklo_epi8(lo, z), off),
                    _mm_sub_epi16(_mm_unpackhi_epi8(lo, z), off),
                    _mm_sub_epi16(_mm_unpacklo_epi8(hi, z), off),
                    _mm_sub_epi16(_mm_unpackhi_epi8(hi, z), off),
                ]
            };
            let mut s = _mm_setzero_ps();
            for (h, w) in halves.into_iter().enumerate() {
                for (i, q) in f(w).into_iter().enumerate() {
                    s = _mm_add_ps(s, _mm_mul_ps(q, _mm_loadu_ps(xp.add(8 * h + 4 * i))));
                }
            }
            acc = _mm_add_ps(acc, _mm_mul_ps(s, _mm_set1_ps(d)));
            if ty == BlockType::Q4_1 {
                let m = f16_to_f32(u16::from_le_bytes([*blk.add(2), *blk.add(3)]));
                macc += m * x_block_sums.get(b).copied().unwrap_or(0.0);
            }
        }
        let mut l = [0f32; 4];
        _mm_storeu_ps(l.as_mut_ptr(), acc);
        (l[0] + l[1]) + (l[2] + l[3]) + macc
    }
}
