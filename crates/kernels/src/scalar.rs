//! Scalar twins of the SIMD128 kernels: same signatures, same results (bit for bit), no
//! `unsafe`. Native builds (CLI, `cargo test`) run these; on wasm32 they are the oracle the
//! SIMD kernels are tested against.
//!
//! They walk the same packed panels as the SIMD code, so the f32 sums happen in the same order,
//! and the integer ones use wrapping arithmetic, which is what `i32x4.add` does (with K ≤ MAX_K
//! nothing wraps for int8 codes, but out-of-range codes must not panic either).

use super::pack::{PackedF32, PackedI8};
use super::{
    act_stride, check_gemm, check_len, check_quantize_rows, checked_len, non_finite_error,
    widen_rows, NR,
};
use crate::error::Result;
use crate::round::round_half_even;

/// C = A·B, int8 × int8 → i32 (see [`super::gemm_i8`]).
pub fn gemm_i8(a: &[i8], m: usize, k: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    let n = check_gemm(a.len(), m, k, b.k, b.n, c.len())?;
    let lda = act_stride(k);
    let a16 = widen_rows(a, m, k, lda);
    core_i16(&a16, m, lda, b, |r, p, acc| store_row(c, n, r, p, acc));
    Ok(())
}

/// Accumulators C = A·B for activation codes already widened to i16 (M rows of stride
/// `lda` = [`act_stride`](super::act_stride)(K), codes in [−128, 127]), as produced by
/// [`quantize_rows_i16`].
pub fn qgemm_i32(a16: &[i16], m: usize, lda: usize, b: &PackedI8, c: &mut [i32]) -> Result<()> {
    let n = super::check_qgemm(a16, m, lda, b, c.len())?;
    core_i16(a16, m, lda, b, |r, p, acc| store_row(c, n, r, p, acc));
    Ok(())
}

/// The quantized linear layer's GEMM + dequantization:
/// `out[r][j] = f32(acc[r][j]) · (row_scales[r] · col_scales[j]) (+ bias[j])`, rounding in
/// exactly that order (the SIMD twin does the same operations, so the results are identical).
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
    let n = super::check_qgemm(a16, m, lda, b, out.len())?;
    super::check_dequant(m, n, row_scales, col_scales, bias)?;
    core_i16(a16, m, lda, b, |r, p, acc| {
        let rs = row_scales.get(r).copied().unwrap_or(0.0);
        let col0 = p * NR;
        let mut y = [0f32; NR];
        for (c, (yc, &a)) in y.iter_mut().zip(acc).enumerate() {
            let cs = col_scales.get(col0 + c).copied().unwrap_or(0.0);
            *yc = a as f32 * (rs * cs);
            if let Some(bias) = bias {
                *yc += bias.get(col0 + c).copied().unwrap_or(0.0);
            }
        }
        store_row(out, n, r, p, &y);
    });
    Ok(())
}

/// C = A·B in f32 (see [`super::gemm_f32`]): for each output, `acc = acc + a·b` over k in order.
pub fn gemm_f32(a: &[f32], m: usize, k: usize, b: &PackedF32, c: &mut [f32]) -> Result<()> {
    let n = check_gemm(a.len(), m, k, b.k, b.n, c.len())?;
    if k == 0 {
        c.fill(0.0);
        return Ok(());
    }
    for (r, arow) in a.chunks_exact(k).take(m).enumerate() {
        for (p, panel) in b.data.chunks_exact(b.panel_len()).enumerate() {
            let mut acc = [0f32; NR];
            for (&av, bk) in arow.iter().zip(panel.chunks_exact(NR)) {
                for (s, &bv) in acc.iter_mut().zip(bk) {
                    *s += av * bv;
                }
            }
            store_row(c, n, r, p, &acc);
        }
    }
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
    for ((xr, or), &s) in x.chunks_exact(k).zip(out.chunks_exact_mut(lda)).zip(scales) {
        for (o, &v) in or.iter_mut().zip(xr) {
            *o = quantize_one(v, s, qm);
        }
    }
    Ok(())
}

/// q = clamp(round_half_even(v / s), −q_max, q_max). NaN gives 0 (Rust's saturating cast),
/// ±Inf gives ±q_max, like the SIMD version.
#[inline(always)]
pub(crate) fn quantize_one(v: f32, s: f32, q_max: f32) -> i16 {
    round_half_even(v / s).clamp(-q_max, q_max) as i16
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
    for (xr, o) in x.chunks_exact(k).zip(out.iter_mut()) {
        let mut mx = 0f32;
        for &v in xr {
            finite &= v.is_finite();
            mx = mx.max(v.abs());
        }
        *o = mx;
    }
    if finite {
        Ok(())
    } else {
        Err(non_finite_error(x, k))
    }
}

/// The shared loop: for each row and panel, 8 accumulators summed over the k-groups of the
/// packing (pairs or quads), handed to `sink(row, panel, acc)`. Integer sums are exact, so the
/// order does not matter; wrapping adds mirror `i32x4.add`.
fn core_i16(
    a16: &[i16],
    m: usize,
    lda: usize,
    b: &PackedI8,
    mut sink: impl FnMut(usize, usize, &[i32; NR]),
) {
    let plen = b.panel_len();
    let (kg, off) = (b.layout.kg(), b.layout.offset());
    if plen == 0 || lda == 0 {
        // K = 0: every sum is empty.
        for r in 0..m {
            for p in 0..b.panels {
                sink(r, p, &[0; NR]);
            }
        }
        return;
    }
    for (r, arow) in a16.chunks_exact(lda).take(m).enumerate() {
        for (p, panel) in b.data.chunks_exact(plen).enumerate() {
            let mut acc = [0i32; NR];
            for (ag, bg) in arow.chunks_exact(kg).zip(panel.chunks_exact(kg * NR)) {
                for (s, bc) in acc.iter_mut().zip(bg.chunks_exact(kg)) {
                    let group = ag.iter().zip(bc).fold(0i32, |g, (&a, &b)| {
                        let w = i32::from(b.wrapping_sub(off));
                        g.wrapping_add(i32::from(a).wrapping_mul(w))
                    });
                    *s = s.wrapping_add(group);
                }
            }
            sink(r, p, &acc);
        }
    }
}

/// Writes the valid columns of one row of a tile into C (M×N, row-major).
fn store_row<T: Copy>(c: &mut [T], n: usize, r: usize, p: usize, vals: &[T; NR]) {
    let col0 = p * NR;
    let cols = NR.min(n.saturating_sub(col0));
    let start = r * n + col0;
    if let (Some(dst), Some(src)) = (c.get_mut(start..start + cols), vals.get(..cols)) {
        dst.copy_from_slice(src);
    }
}

/// dst ← dst + src, element by element over the common length (see [`super::add_assign_f64`]).
pub fn add_assign_f64(dst: &mut [f64], src: &[f64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

/// dst ← dst − src (see [`super::sub_assign_f64`]).
pub fn sub_assign_f64(dst: &mut [f64], src: &[f64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d -= s;
    }
}

/// (lo, hi) ← (lo + hi, lo − hi) (see [`super::butterfly_f64`]).
pub fn butterfly_f64(lo: &mut [f64], hi: &mut [f64]) {
    for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
        let (x, y) = (*a, *b);
        *a = x + y;
        *b = x - y;
    }
}

/// One row of a matrix quantized with one scale per column (weights per output channel),
/// after multiplying the row by `mul` (SmoothQuant's s_c; 1 for none): codes into `codes`,
/// and (Σ (x̂ − x)², Σ x²) of the row in f64, summed left to right
/// (see [`super::quantize_row_per_col`]).
pub fn quantize_row_per_col(
    row: &[f32],
    mul: f32,
    scales: &[f32],
    q_max: f32,
    codes: &mut [i8],
) -> (f64, f64) {
    quantize_row_per_col_from(row, mul, scales, q_max, codes, (0.0, 0.0))
}

/// codes[j] = clamp(round_half_even(mul·row[j] / scales[j]), ±q_max) over the common length
/// (see [`super::quantize_per_col`]).
pub fn quantize_per_col(row: &[f32], mul: f32, scales: &[f32], q_max: f32, codes: &mut [i8]) {
    for ((&v, &s), c) in row.iter().zip(scales).zip(codes.iter_mut()) {
        *c = clamp_code(round_half_even(mul * v / s), q_max) as i32 as i8;
    }
}

/// [`quantize_row_per_col`] continuing sums already started (the SIMD twin's tail).
pub(crate) fn quantize_row_per_col_from(
    row: &[f32],
    mul: f32,
    scales: &[f32],
    q_max: f32,
    codes: &mut [i8],
    (mut e, mut x): (f64, f64),
) -> (f64, f64) {
    for ((&v0, &s), c) in row.iter().zip(scales).zip(codes.iter_mut()) {
        let v = mul * v0;
        let q = clamp_code(round_half_even(v / s), q_max);
        *c = q as i32 as i8;
        let (xh, xv) = (f64::from(q * s), f64::from(v));
        e += (xh - xv) * (xh - xv);
        x += xv * xv;
    }
    (e, x)
}

/// min(max(q, −q_max), q_max) written out (NaN stays NaN and casts to 0): `f32::clamp` is not
/// inlined at opt-level "z", where the engine (which calls this too) is built, and made the
/// quantization loop 2–3× slower there.
#[inline(always)]
pub fn clamp_code(q: f32, qm: f32) -> f32 {
    let q = if q < -qm { -qm } else { q };
    if q > qm {
        qm
    } else {
        q
    }
}

/// absmax[j] ← max(absmax[j], |mul·row[j]|) (NaN ignored, as `f32::max` does; see
/// [`super::absmax_per_col`]).
pub fn absmax_per_col(row: &[f32], mul: f32, absmax: &mut [f32]) {
    for (m, &v) in absmax.iter_mut().zip(row) {
        *m = m.max((mul * v).abs());
    }
}

/// y_r ← y_r + v_r·b for four rows (f64 products of f32 values, exact; one rounding per add;
/// see [`super::axpy4_f64_f32`]).
pub fn axpy4_f64_f32(y: [&mut [f64]; 4], v: [f64; 4], b: &[f32]) {
    let [y0, y1, y2, y3] = y;
    let [v0, v1, v2, v3] = v;
    for ((((&bv, o0), o1), o2), o3) in b
        .iter()
        .zip(y0.iter_mut())
        .zip(y1.iter_mut())
        .zip(y2.iter_mut())
        .zip(y3.iter_mut())
    {
        let bv = f64::from(bv);
        *o0 += v0 * bv;
        *o1 += v1 * bv;
        *o2 += v2 * bv;
        *o3 += v3 * bv;
    }
}
