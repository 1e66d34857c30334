//! Entropy (KL-divergence) calibration: TensorRT's INT8 entropy calibrator, as published by
//! NVIDIA (S. Migacz, "8-bit Inference with TensorRT", GTC 2017) and implemented in NVIDIA's
//! `pytorch-quantization` (`calib/histogram.py`, `_compute_amax_entropy`).
//!
//! The idea: choose the threshold t so that quantizing to [−t, t] loses the least
//! *information*, measured as the KL divergence between the distribution of |x| with
//! everything above t folded into the last bin (what clipping does) and the same
//! distribution after it has been squeezed into the integer levels.
//!
//! Steps, re-derived from the description and the reference code:
//! 1. H = histogram of |x| with 2048 equal bins over [0, max|x|] (NumPy binning).
//! 2. Number of quantized levels on one side: n_q = 2^(b−1) (128 for int8, as in TensorRT),
//!    or 2^b when the scheme is unsigned and the data are non-negative (the reference's
//!    `1 << (num_bits − 1 + int(unsigned))`).
//! 3. For every candidate i = n_q, …, 2048 (threshold t_i = right edge of bin i − 1):
//!    * P = H[0..i] with the outliers Σ H[i..] added to P[i − 1];
//!    * the i bins are split into n_q consecutive groups, group j = bins
//!      [⌈j·i/n_q⌉, ⌈(j+1)·i/n_q⌉) (exactly the reference's `np.digitize` on
//!      `np.linspace(0, i, n_q + 1)`; when i is not a multiple of n_q the groups differ in
//!      size by one bin);
//!    * Q spreads each group's count (of H, without the outliers) evenly over the group's
//!      bins that are non-zero in H, and is 0 on empty bins ("expansion", GTC slide 32);
//!    * D_i = KL(P‖Q) = Σ p_k ln(p_k/q_k) after normalising both to sum 1 (natural log, as
//!      `scipy.stats.entropy`), with no smoothing: if some p_k > 0 has q_k = 0 (an empty last
//!      bin receiving outliers) D_i = +∞.
//! 4. t = t_i of the smallest D_i; among ties (within 1e-12) the largest threshold wins
//!    (the reference takes the last argmin).
//!
//! Differences from the reference, on purpose: candidates start at i = n_q (the reference
//! always starts at 128, which for n_q = 256 gives empty groups), i = 2048 (no clipping) is a
//! candidate as in the reference code (the GTC pseudo-code stops at 2047), and bin 0 is kept
//! as measured (the reference overwrites it with bin 1 to hide a spike of exact zeros).
//!
//! For asymmetric schemes (TensorRT is symmetric only) the observed [min, max] is clipped to
//! [−t, t].
//!
//! Speed: D_i is evaluated per group, not per bin, with prefix sums of H, of the non-zero
//! indicator and of H·ln H:
//!   N·D_i = Σ_k P_k ln P_k − Σ_j S_j ln(S_j/c_j) − O·ln(S_last/c_last) + N·ln(Q_tot/N)
//! (S_j = group count, c_j = its non-zero bins, O = outliers, Q_tot = Σ H[0..i]), which is
//! O(n_q) per candidate, about 250k logarithms for int8.

use super::SearchPoint;
use crate::error::Result;
use crate::scheme::Scheme;
use crate::stats::Binner;

/// Bins of the |x| histogram.
pub const HIST_BINS: usize = 2048;

/// Quantized levels on one side, n_q (see step 2).
pub fn target_bins(scheme: &Scheme, min: f32) -> usize {
    let extra = u32::from(!scheme.signed && min >= 0.0);
    1usize << (u32::from(scheme.bits.clamp(2, 8)) - 1 + extra)
}

/// The 2048-bin |x| histogram (counts as f64) and its bin edges' binner.
pub fn abs_histogram(x: &[f32], amax: f32) -> (Vec<f64>, Binner) {
    let binner = Binner::new(0.0, f64::from(amax), HIST_BINS);
    let mut h = vec![0.0f64; HIST_BINS];
    for &v in x {
        let a = f64::from(v.abs());
        if a <= f64::from(amax) {
            if let Some(c) = h.get_mut(binner.index(a)) {
                *c += 1.0;
            }
        }
    }
    (h, binner)
}

#[inline(always)]
fn xlnx(v: f64) -> f64 {
    if v > 0.0 {
        v * v.ln()
    } else {
        0.0
    }
}

/// ln k for whole numbers k, each computed once. The candidates' groups hold whole counts, and
/// the same counts recur thousands of times over the ~250k (group, candidate) pairs, so this
/// turns most logarithms (a library call in wasm) into a load.
struct WholeLn {
    table: Vec<f64>,
}

impl WholeLn {
    /// Largest table, 2 MB: larger counts (tensors over 256 Ki values) take the plain ln.
    const MAX: usize = 1 << 18;

    fn new(n: f64) -> Self {
        let len = if n.is_finite() && n >= 0.0 {
            (n as usize).saturating_add(1).min(Self::MAX)
        } else {
            0
        };
        WholeLn {
            table: vec![f64::NAN; len],
        }
    }

    #[inline(always)]
    fn ln(&mut self, v: f64) -> f64 {
        if v.fract() == 0.0 && v >= 0.0 {
            if let Some(slot) = self.table.get_mut(v as usize) {
                if slot.is_nan() {
                    *slot = v.ln();
                }
                return *slot;
            }
        }
        v.ln()
    }
}

/// KL divergence D_i for i = n_q ..= H.len() (index 0 is i = n_q); +∞ where undefined.
pub fn kl_curve(h: &[f64], nq: usize) -> Vec<f64> {
    let nb = h.len();
    if nq == 0 || nq > nb {
        return Vec::new();
    }
    let mut cum = Vec::with_capacity(nb + 1);
    let mut nz = Vec::with_capacity(nb + 1);
    let mut hl = Vec::with_capacity(nb + 1);
    let (mut c, mut z, mut l) = (0.0f64, 0.0f64, 0.0f64);
    cum.push(c);
    nz.push(z);
    hl.push(l);
    for &v in h {
        c += v;
        z += if v > 0.0 { 1.0 } else { 0.0 };
        l += xlnx(v);
        cum.push(c);
        nz.push(z);
        hl.push(l);
    }
    let n = c;
    let mut whole_ln = WholeLn::new(n);
    let get = |v: &Vec<f64>, k: usize| v.get(k).copied().unwrap_or(0.0);
    let mut out = Vec::with_capacity(nb - nq + 1);
    for i in nq..=nb {
        let q_tot = get(&cum, i);
        let outliers = n - q_tot;
        let h_last = h.get(i - 1).copied().unwrap_or(0.0);
        if q_tot <= 0.0 || (h_last == 0.0 && outliers > 0.0) {
            out.push(f64::INFINITY);
            continue;
        }
        let sum_plogp = get(&hl, i - 1) + xlnx(h_last + outliers);
        let mut sum_plogq = 0.0f64;
        for j in 0..nq {
            let b0 = (j * i).div_ceil(nq);
            let b1 = ((j + 1) * i).div_ceil(nq);
            let s = get(&cum, b1) - get(&cum, b0);
            if s > 0.0 {
                let cnt = get(&nz, b1) - get(&nz, b0);
                // ln(s/c) as ln s − ln c: both whole numbers for a histogram of counts.
                let lq = whole_ln.ln(s) - whole_ln.ln(cnt);
                sum_plogq += s * lq;
                if j == nq - 1 && h_last > 0.0 {
                    sum_plogq += outliers * lq;
                }
            }
        }
        out.push((sum_plogp - sum_plogq) / n + (q_tot / n).ln());
    }
    out
}

/// Index into a KL curve: smallest value, ties within 1e-12 resolved to the last.
pub fn pick(curve: &[f64]) -> Option<usize> {
    let best = curve
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    if !best.is_finite() {
        return None;
    }
    curve.iter().rposition(|&v| v <= best + 1e-12)
}

/// Runs the calibration on finite, non-empty data with observed [min, max].
pub fn search(
    x: &[f32],
    min: f32,
    max: f32,
    scheme: &Scheme,
) -> Result<(f32, f32, Vec<SearchPoint>)> {
    let amax = min.abs().max(max.abs());
    if amax == 0.0 {
        return Ok((0.0, 0.0, Vec::new()));
    }
    let nq = target_bins(scheme, min);
    let (h, binner) = abs_histogram(x, amax);
    let curve = kl_curve(&h, nq);
    let k = pick(&curve).unwrap_or(curve.len().saturating_sub(1));
    let t = binner.edge(nq + k) as f32;
    let raw = |t: f32| {
        if scheme.symmetric {
            (-t, t)
        } else {
            (min.max(-t), max.min(t))
        }
    };
    let points = curve
        .iter()
        .enumerate()
        .map(|(j, &score)| {
            let (lo, hi) = raw(binner.edge(nq + j) as f32);
            let (alpha, beta) = super::used_range(lo, hi, scheme);
            SearchPoint { alpha, beta, score }
        })
        .collect();
    let (lo, hi) = raw(t);
    Ok((lo, hi, points))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Direct per-bin KL, as the reference computes it, to check the prefix-sum algebra.
    fn direct(h: &[f64], nq: usize, i: usize) -> f64 {
        let n: f64 = h.iter().sum();
        let mut p: Vec<f64> = h[..i].to_vec();
        p[i - 1] += h[i..].iter().sum::<f64>();
        let mut q = vec![0.0; i];
        for j in 0..nq {
            let (b0, b1) = ((j * i).div_ceil(nq), ((j + 1) * i).div_ceil(nq));
            let s: f64 = h[b0..b1].iter().sum();
            let c = h[b0..b1].iter().filter(|&&v| v > 0.0).count() as f64;
            for k in b0..b1 {
                if h[k] > 0.0 {
                    q[k] = s / c;
                }
            }
        }
        let qt: f64 = q.iter().sum();
        let mut kl = 0.0;
        for k in 0..i {
            if p[k] > 0.0 {
                if q[k] == 0.0 {
                    return f64::INFINITY;
                }
                kl += p[k] / n * ((p[k] / n) / (q[k] / qt)).ln();
            }
        }
        kl
    }

    #[test]
    fn prefix_sums_match_direct() {
        let mut h = vec![0.0f64; 64];
        for (k, v) in h.iter_mut().enumerate() {
            *v = ((k * 37 + 11) % 13) as f64 * if k % 7 == 3 { 0.0 } else { 1.0 };
        }
        h[63] = 1.0;
        let curve = kl_curve(&h, 8);
        for (j, &v) in curve.iter().enumerate() {
            let d = direct(&h, 8, 8 + j);
            if d.is_infinite() {
                assert!(v.is_infinite());
            } else {
                assert!((v - d).abs() < 1e-12, "i={} {v} {d}", 8 + j);
            }
        }
    }
}
