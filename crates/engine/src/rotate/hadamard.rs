//! Hadamard rotations applied with the fast Walsh–Hadamard transform (O(C log C) per row).
//!
//! * Sylvester matrix S_n (n a power of two): S_n[i, j] = (−1)^popcount(i & j), the natural
//!   ("Hadamard") ordering that the in-place butterfly [`fwht`] computes.
//! * **Block-diagonal** rotation with blocks of b channels: R = diag(S_b, …, S_b)/√b.
//! * **Full** rotation, as in QuaRot/SpinQuant (`utils/hadamard_utils.py`): for C a power of
//!   two R = S_C/√C; for C = 12·2^k, R = kron(H12ᵀ, S_{C/12})/√C with H12 [`HADAMARD12`].
//!
//! # The convention, checked against `matmul_hadU`
//! QuaRot's `matmul_hadU(X)` (the rotation X ↦ X·R; `hadamard_matrix(n) = matmul_hadU(I)`)
//! reshapes each row of X (length C = K·m, K = 12, m = 2^k) and runs log2(m) butterfly passes
//! on the *lowest* log2(m) bits of the channel index, i.e. an unnormalised Sylvester transform
//! of each contiguous block of m channels; the K×K matrix `hadK` (= `get_had12()` when
//! `transpose=False`) then multiplies the K-axis of the (K, m) view, and everything is divided
//! by √C. Writing a row as the K×m matrix X_m, that is X_m ↦ H12·X_m·S_m/√C, which is
//! x ↦ x·kron(H12ᵀ, S_m)/√C (the identity checked numerically in
//! `tests/fixtures/gen_smooth_rotate.py`). This module follows exactly that convention:
//! [`Hadamard::rotate_rows`] does the m-point FWHT of each of the 12 blocks, then the 12×12 mix
//! `out_k = Σ_k′ H12[k][k′]·block_k′`, then the division by √C; all of it in f64, rounded to
//! f32 once (QuaRot rotates weights in float64 too). It is orthogonal either way: H12·H12ᵀ = 12·I and
//! S_m·S_mᵀ = m·I, so kron(H12ᵀ, S_m)·kron(H12ᵀ, S_m)ᵀ = kron(H12ᵀH12, S_m S_m) = 12m·I = C·I,
//! and the same holds for kron(H12, S_m) (the `transpose=True` variant QuaRot uses for Rᵀ).
//!
//! The weights get W′ = Rᵀ·W (W is C×C_out): column by column that is again "the same
//! transform" because Rᵀw = (wᵀR)ᵀ, so [`Hadamard::rotate_weights`] runs the same butterflies
//! and the same H12 mix over *rows* of W (whole rows of C_out values at a time, which is
//! contiguous and vectorises). No random sign flips: these are the plain Hadamard matrices,
//! not QuaRot's randomized ones.

use crate::error::{QuantError, Result};
use crate::linear::{check_len, checked_len};

/// The 12×12 Hadamard matrix, rows exactly as `get_had12()` in QuaRot/SpinQuant's
/// `utils/hadamard_utils.py` (whose comment credits N. J. A. Sloane's library of Hadamard
/// matrices, <http://www.neilsloane.com/hadamard/index.html>). Copied from the project's shared
/// data set, `shared/data/hadamard12.json` (its `description` field states the get_had12()
/// origin and the kron(H12ᵀ, S_{C/12})/√C convention; the shared README has no further
/// provenance for it), shipped as `assets/data/hadamard12.json`, which a test compares with
/// this constant. H12·H12ᵀ = 12·I.
pub const HADAMARD12: [[i8; 12]; 12] = [
    [1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1],
    [1, 1, -1, 1, -1, -1, -1, 1, 1, 1, -1, 1],
    [1, 1, 1, -1, 1, -1, -1, -1, 1, 1, 1, -1],
    [1, -1, 1, 1, -1, 1, -1, -1, -1, 1, 1, 1],
    [1, 1, -1, 1, 1, -1, 1, -1, -1, -1, 1, 1],
    [1, 1, 1, -1, 1, 1, -1, 1, -1, -1, -1, 1],
    [1, 1, 1, 1, -1, 1, 1, -1, 1, -1, -1, -1],
    [1, -1, 1, 1, 1, -1, 1, 1, -1, 1, -1, -1],
    [1, -1, -1, 1, 1, 1, -1, 1, 1, -1, 1, -1],
    [1, -1, -1, -1, 1, 1, 1, -1, 1, 1, -1, 1],
    [1, 1, -1, -1, -1, 1, 1, 1, -1, 1, 1, -1],
    [1, -1, 1, -1, -1, -1, 1, 1, 1, -1, 1, 1],
];

/// n > 0 and a power of two.
pub fn is_pow2(n: usize) -> bool {
    n.is_power_of_two()
}

/// In-place unnormalised Walsh–Hadamard transform v ↦ v·S_n (= S_n·v, S_n is symmetric) for
/// a length that is a power of two.
pub fn fwht(v: &mut [f32]) -> Result<()> {
    if !is_pow2(v.len()) {
        return Err(QuantError::InvalidParameter {
            name: "Walsh–Hadamard length",
            value: v.len().to_string(),
            allowed: "a power of two",
        });
    }
    let n = v.len();
    butterflies(v, n, 1);
    Ok(())
}

/// Butterflies over `nrows` rows of `n` values each (nrows a power of two): row i and row i+h
/// become (row_i + row_{i+h}, row_i − row_{i+h}) for h = 1, 2, 4, … With n = 1 this is the FWHT
/// of a vector; with whole rows it applies S_nrows from the left to a matrix.
fn butterflies<T: Copy + core::ops::Add<Output = T> + core::ops::Sub<Output = T>>(
    m: &mut [T],
    nrows: usize,
    n: usize,
) {
    let mut h = 1;
    while h < nrows {
        for chunk in m.chunks_exact_mut(2 * h * n) {
            let (lo, hi) = chunk.split_at_mut(h * n);
            for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
                let (x, y) = (*a, *b);
                *a = x + y;
                *b = x - y;
            }
        }
        h *= 2;
    }
}

/// [`butterflies`] on f64 rows through the SIMD128 kernels (scalar twins natively): each pass
/// is one `butterfly_f64` over the h·n values of a half.
fn butterflies_f64(m: &mut [f64], nrows: usize, n: usize) {
    let mut h = 1;
    while h < nrows {
        for chunk in m.chunks_exact_mut(2 * h * n) {
            let (lo, hi) = chunk.split_at_mut(h * n);
            quantlab_kernels::butterfly_f64(lo, hi);
        }
        h *= 2;
    }
}

/// The Sylvester matrix S_n as ±1 values (n×n row-major), for tests and dense references.
pub fn sylvester(n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            out.push(if (i & j).count_ones() % 2 == 0 {
                1.0
            } else {
                -1.0
            });
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// R = S_C/√C.
    Pow2,
    /// R = kron(H12ᵀ, S_m)/√C, C = 12m.
    Twelve { m: usize },
    /// R = diag(S_b, …)/√b.
    Block { b: usize },
}

/// A Hadamard rotation of C channels, applied without forming R.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hadamard {
    c: usize,
    plan: Plan,
}

impl Hadamard {
    /// The full (QuaRot) rotation: C a power of two, or 12 times a power of two.
    pub fn full(c: usize) -> Result<Self> {
        let plan = if is_pow2(c) {
            Plan::Pow2
        } else if c.is_multiple_of(12) && is_pow2(c / 12) {
            Plan::Twelve { m: c / 12 }
        } else {
            return Err(QuantError::InvalidParameter {
                name: "channels for a full Hadamard rotation",
                value: c.to_string(),
                allowed: "a power of two or 12 times a power of two (384 = 12·32, 1536 = 12·128); use hadamard-block:B otherwise",
            });
        };
        Ok(Hadamard { c, plan })
    }

    /// Block-diagonal rotation with blocks of `b` channels (b a power of two dividing C).
    pub fn block(c: usize, b: usize) -> Result<Self> {
        if !is_pow2(b) || c == 0 || !c.is_multiple_of(b) {
            return Err(QuantError::InvalidParameter {
                name: "Hadamard block size",
                value: format!("{b} (for {c} channels)"),
                allowed: "a power of two that divides the number of channels",
            });
        }
        Ok(Hadamard {
            c,
            plan: Plan::Block { b },
        })
    }

    /// C.
    pub fn channels(&self) -> usize {
        self.c
    }

    fn norm(&self) -> f64 {
        let n = match self.plan {
            Plan::Pow2 | Plan::Twelve { .. } => self.c,
            Plan::Block { b } => b,
        };
        (n as f64).sqrt()
    }

    /// X ← X·R for X with `rows` rows of C values (row-major). Computed in f64 (each value is
    /// rounded to f32 once at the end, like a float64 rotation).
    ///
    /// X·R = (Rᵀ·Xᵀ)ᵀ: X is transposed so that the transform runs over whole rows of `rows`
    /// values (the same code as the weights, long contiguous SIMD loops) instead of per row
    /// with butterflies 1, 2, 4… values apart. Per value it is the same additions in the same
    /// order, so the result is the same bit for bit.
    pub fn rotate_rows(&self, x: &mut [f32], rows: usize) -> Result<()> {
        let c = self.c;
        check_len("X (rows×C, row-major)", checked_len(rows, c)?, x.len())?;
        if rows == 0 {
            return Ok(());
        }
        let mut xt = vec![0f64; x.len()];
        for (r, row) in x.chunks_exact(c).enumerate() {
            for (j, &v) in row.iter().enumerate() {
                if let Some(d) = xt.get_mut(j * rows + r) {
                    *d = f64::from(v);
                }
            }
        }
        self.transform_columns(&mut xt, rows);
        let norm = self.norm();
        for (r, row) in x.chunks_exact_mut(c).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                if let Some(&d) = xt.get(j * rows + r) {
                    *v = (d / norm) as f32;
                }
            }
        }
        Ok(())
    }

    /// W ← Rᵀ·W for W with C rows of `n` values (row-major), computed in f64 and rounded to
    /// f32 once.
    pub fn rotate_weights(&self, w: &mut [f32], n: usize) -> Result<()> {
        let c = self.c;
        check_len("W (C×C_out, row-major)", checked_len(c, n)?, w.len())?;
        if n == 0 {
            return Ok(());
        }
        let mut wd: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
        self.transform_columns(&mut wd, n);
        let norm = self.norm();
        w.iter_mut()
            .zip(&wd)
            .for_each(|(v, &d)| *v = (d / norm) as f32);
        Ok(())
    }

    /// [`Hadamard::rotate_weights`] on weights packed for the f32 GEMM, each row first
    /// multiplied by `row_scale` (SmoothQuant's s, in f32 as the row-major path does): the same
    /// numbers, bit for bit, a panel of 8 columns at a time, without a row-major copy.
    pub fn rotate_packed_weights(
        &self,
        w: &quantlab_kernels::PackedF32,
        row_scale: Option<&[f32]>,
    ) -> Result<quantlab_kernels::PackedF32> {
        let c = self.c;
        if w.k() != c {
            return Err(QuantError::LengthMismatch {
                what: "rows of W (the rotation's size)",
                expected: c,
                got: w.k(),
            });
        }
        if let Some(s) = row_scale {
            check_len("row scales", c, s.len())?;
        }
        let norm = self.norm();
        let mut wd = Vec::new();
        // 16 panels = 128 columns: rows long enough for the f64x2 butterflies, a block of
        // 384 × 128 f64 (384 kB) small enough for the cache.
        w.map_column_blocks(16, |block, width| {
            wd.clear();
            for (i, row) in block.chunks_exact(width.max(1)).enumerate() {
                let s = row_scale.and_then(|s| s.get(i)).copied();
                wd.extend(row.iter().map(|&v| f64::from(s.map_or(v, |s| v * s))));
            }
            self.transform_columns(&mut wd, width);
            block
                .iter_mut()
                .zip(&wd)
                .for_each(|(v, &d)| *v = (d / norm) as f32);
            Ok(())
        })
    }

    /// M ← √C·Rᵀ·M (unnormalised) for M with C rows of `n` values: every column transformed.
    fn transform_columns(&self, wd: &mut [f64], n: usize) {
        let c = self.c;
        match self.plan {
            Plan::Pow2 => butterflies_f64(wd, c, n),
            Plan::Block { b } => wd
                .chunks_exact_mut(b * n)
                .for_each(|blk| butterflies_f64(blk, b, n)),
            Plan::Twelve { m } => {
                wd.chunks_exact_mut(m * n)
                    .for_each(|blk| butterflies_f64(blk, m, n));
                // Rows r, m + r, …, 11m + r form one 12-vector per column: mix them.
                let mut gathered = vec![0f64; 12 * n];
                let mut mixed = vec![0f64; 12 * n];
                for r in 0..m {
                    for (k, dst) in gathered.chunks_exact_mut(n).enumerate() {
                        if let Some(src) = wd.get((k * m + r) * n..(k * m + r + 1) * n) {
                            dst.copy_from_slice(src);
                        }
                    }
                    mix12(&gathered, &mut mixed, n);
                    for (k, src) in mixed.chunks_exact(n).enumerate() {
                        if let Some(dst) = wd.get_mut((k * m + r) * n..(k * m + r + 1) * n) {
                            dst.copy_from_slice(src);
                        }
                    }
                }
            }
        }
    }

    /// The dense R (C×C, row-major) = I·R.
    pub fn matrix(&self) -> Vec<f32> {
        let c = self.c;
        let mut r = vec![0f32; c * c];
        for i in 0..c {
            if let Some(v) = r.get_mut(i * c + i) {
                *v = 1.0;
            }
        }
        // The shape is right by construction, so this cannot fail.
        let _ = self.rotate_rows(&mut r, c);
        r
    }
}

/// out_k = Σ_k′ H12[k][k′]·in_k′ for 12 blocks of `len` values.
fn mix12(input: &[f64], out: &mut [f64], len: usize) {
    out.fill(0.0);
    for (hrow, oblk) in HADAMARD12.iter().zip(out.chunks_exact_mut(len)) {
        for (&h, iblk) in hrow.iter().zip(input.chunks_exact(len)) {
            if h > 0 {
                quantlab_kernels::add_assign_f64(oblk, iblk);
            } else {
                quantlab_kernels::sub_assign_f64(oblk, iblk);
            }
        }
    }
}
