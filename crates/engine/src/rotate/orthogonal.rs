//! Dense orthogonal matrices: seeded Haar-random rotations, and applying a dense R.
//!
//! [`random_orthogonal`] draws G with i.i.d. N(0, 1) entries (the engine's PCG32 + Box–Muller,
//! [`crate::synth::Pcg32`], filled row by row), factors G = QR with Householder
//! reflections (in f64), and returns Q·diag(sign(diag R)). The sign correction makes the
//! factorisation unique (R with a positive diagonal), which is what makes Q Haar-distributed
//! (Mezzadri, "How to generate random matrices from the classical compact groups", 2007); it
//! also means any QR routine gives the same Q for the same G, e.g. NumPy's
//! `q, r = np.linalg.qr(G); q * np.sign(np.diag(r))` (the fixture script does exactly that).

use crate::error::{QuantError, Result};
use crate::linear::{check_len, checked_len, matmul_f64_32_64, matmul_f64_64_32, transpose};
use crate::synth::Pcg32;

/// Largest C for which a dense rotation is built (C×C f64 QR is (4/3)·C³ flops).
pub const MAX_DENSE_CHANNELS: usize = 4096;

fn check_dense(c: usize) -> Result<()> {
    if c == 0 {
        return Err(QuantError::Empty {
            what: "rotation (0 channels)",
        });
    }
    if c > MAX_DENSE_CHANNELS {
        return Err(QuantError::TooLarge {
            what: "number of channels for a dense rotation",
            got: c as u128,
            limit: MAX_DENSE_CHANNELS as u128,
        });
    }
    Ok(())
}

/// The Gaussian matrix `random_orthogonal` starts from: C×C, row-major, PCG32(seed) normals.
pub fn gaussian_matrix(c: usize, seed: u64) -> Result<Vec<f64>> {
    check_dense(c)?;
    let mut rng = Pcg32::new(seed);
    Ok((0..c * c).map(|_| rng.normal()).collect())
}

/// Householder QR of a square n×n matrix (row-major): returns (Q row-major, diag(R)).
/// Works on the transpose so that every column of A is a contiguous row.
pub fn householder_qr(a: &[f64], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    check_len(
        "square matrix (n×n, row-major)",
        checked_len(n, n)?,
        a.len(),
    )?;
    // at[j*n + i] = A[i][j]: row j of `at` is column j of A.
    let mut at = vec![0f64; n * n];
    for i in 0..n {
        for j in 0..n {
            if let (Some(d), Some(&v)) = (at.get_mut(j * n + i), a.get(i * n + j)) {
                *d = v;
            }
        }
    }
    let mut vs: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n);
    let mut diag = vec![0f64; n];
    for k in 0..n {
        let (head, tail) = at.split_at_mut((k + 1) * n);
        let Some(colk) = head.get_mut(k * n + k..(k + 1) * n) else {
            break;
        };
        let norm = colk.iter().map(|v| v * v).sum::<f64>().sqrt();
        let x0 = colk.first().copied().unwrap_or(0.0);
        let alpha = if x0 >= 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = colk.to_vec();
        if let Some(v0) = v.first_mut() {
            *v0 -= alpha;
        }
        let vn2: f64 = v.iter().map(|x| x * x).sum();
        let beta = if vn2 > 0.0 { 2.0 / vn2 } else { 0.0 };
        if let Some(d) = diag.get_mut(k) {
            *d = if vn2 > 0.0 { alpha } else { x0 };
        }
        if beta != 0.0 {
            for col in tail.chunks_exact_mut(n) {
                let Some(seg) = col.get_mut(k..) else {
                    continue;
                };
                let dot: f64 = v.iter().zip(seg.iter()).map(|(a, b)| a * b).sum();
                let f = beta * dot;
                seg.iter_mut().zip(&v).for_each(|(s, &vi)| *s -= f * vi);
            }
        }
        vs.push((v, beta));
    }
    // Q = H_0 H_1 ⋯ H_{n−1}, built as Qᵀ (rows = columns of Q) by applying H_k from the left
    // to I for k = n−1 … 0.
    let mut qt = vec![0f64; n * n];
    for i in 0..n {
        if let Some(d) = qt.get_mut(i * n + i) {
            *d = 1.0;
        }
    }
    for (k, (v, beta)) in vs.iter().enumerate().rev() {
        if *beta == 0.0 {
            continue;
        }
        for col in qt.chunks_exact_mut(n) {
            let Some(seg) = col.get_mut(k..) else {
                continue;
            };
            let dot: f64 = v.iter().zip(seg.iter()).map(|(a, b)| a * b).sum();
            let f = beta * dot;
            seg.iter_mut().zip(v).for_each(|(s, &vi)| *s -= f * vi);
        }
    }
    // Back to row-major Q: Q[i][j] = qt[j][i].
    let mut q = vec![0f64; n * n];
    for j in 0..n {
        for i in 0..n {
            if let (Some(d), Some(&v)) = (q.get_mut(i * n + j), qt.get(j * n + i)) {
                *d = v;
            }
        }
    }
    Ok((q, diag))
}

/// A Haar-random orthogonal C×C matrix (row-major f64), reproducible from `seed`.
pub fn random_orthogonal_f64(c: usize, seed: u64) -> Result<Vec<f64>> {
    let g = gaussian_matrix(c, seed)?;
    let (mut q, d) = householder_qr(&g, c)?;
    for row in q.chunks_exact_mut(c) {
        for (v, &dj) in row.iter_mut().zip(&d) {
            if dj < 0.0 {
                *v = -*v;
            }
        }
    }
    Ok(q)
}

/// [`random_orthogonal_f64`] rounded to f32.
pub fn random_orthogonal(c: usize, seed: u64) -> Result<Vec<f32>> {
    Ok(random_orthogonal_f64(c, seed)?
        .iter()
        .map(|&v| v as f32)
        .collect())
}

/// ‖RᵀR − I‖_F computed in f64.
pub fn orthogonality_error(r: &[f32], c: usize) -> Result<f64> {
    check_len("R (C×C, row-major)", checked_len(c, c)?, r.len())?;
    if c == 0 {
        return Ok(0.0);
    }
    // (RᵀR)_ij = Σ_k R_ki R_kj: accumulate over the rows of R.
    let mut g = vec![0f64; c * c];
    for row in r.chunks_exact(c) {
        for (i, &ri) in row.iter().enumerate() {
            if let Some(grow) = g.get_mut(i * c..(i + 1) * c) {
                let ri = f64::from(ri);
                grow.iter_mut()
                    .zip(row)
                    .for_each(|(o, &rj)| *o += ri * f64::from(rj));
            }
        }
    }
    let mut e2 = 0f64;
    for (idx, v) in g.iter().enumerate() {
        let d = if idx / c == idx % c { v - 1.0 } else { *v };
        e2 += d * d;
    }
    Ok(e2.sqrt())
}

/// X·R for X with `rows` rows of C values and a dense f64 R (C×C), computed in f64 and
/// rounded to f32 once.
pub fn rotate_rows_dense(x: &[f32], rows: usize, r: &[f64], c: usize) -> Result<Vec<f32>> {
    check_len("R (C×C, row-major)", checked_len(c, c)?, r.len())?;
    check_len("X (rows×C, row-major)", checked_len(rows, c)?, x.len())?;
    Ok(matmul_f64_32_64(x, rows, c, r, c)
        .iter()
        .map(|&v| v as f32)
        .collect())
}

/// Rᵀ·W for W with C rows of `n` values and a dense f64 R (C×C), computed in f64 and rounded
/// to f32 once.
pub fn rotate_weights_dense(r: &[f64], c: usize, w: &[f32], n: usize) -> Result<Vec<f32>> {
    check_len("R (C×C, row-major)", checked_len(c, c)?, r.len())?;
    check_len("W (C×C_out, row-major)", checked_len(c, n)?, w.len())?;
    Ok(matmul_f64_64_32(&transpose(r, c, c), c, c, w, n)
        .iter()
        .map(|&v| v as f32)
        .collect())
}
