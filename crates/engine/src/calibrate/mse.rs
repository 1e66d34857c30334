//! MSE-optimal clipping: the grid search of MQBench's `MSEObserver`
//! (`mqbench/observer.py`, used for PTQ in MQBench and BRECQ-style pipelines).
//!
//! For i = 0, 1, …, 99 the candidate range is the min-max range shrunk by the same factor
//! at both ends, f_i = 1 − 0.01·i (1.00, 0.99, …, 0.01):
//!   [α_i, β_i] = [f_i·min(x), f_i·max(x)]   (f_i rounded to f32, products in f32)
//! The scale and zero-point come from PyTorch's rule for the scheme, the tensor is
//! fake-quantized, and the score is the mean squared error over all values (MQBench's
//! `lp_loss(pred, tgt, p=2.0, reduction="all")`). The first candidate with the strictly
//! smallest score wins, so ties keep the wider range.
//!
//! Shrinking trades rounding error (smaller s) for clipping error (more values cut off); the
//! search curve (`Calibration::search`) shows that trade-off.

use super::SearchPoint;
use crate::error::Result;
use crate::quantize::{round_trip_metrics, NonFinitePolicy};
use crate::scale::QParams;
use crate::scheme::Scheme;

/// Number of candidate ranges.
pub const CANDIDATES: usize = 100;

/// The shrink factor of candidate i, as MQBench computes it (1.0 − i·0.01, then f32).
pub fn fraction(i: usize) -> f32 {
    (1.0 - i as f64 * 0.01) as f32
}

/// Runs the search on finite, non-empty data with observed [min, max].
pub fn search(
    x: &[f32],
    min: f32,
    max: f32,
    scheme: &Scheme,
) -> Result<(f32, f32, Vec<SearchPoint>)> {
    let mut best: Option<(f64, f32, f32)> = None;
    let mut curve = Vec::with_capacity(CANDIDATES);
    for i in 0..CANDIDATES {
        let f = fraction(i);
        let (lo, hi) = (min * f, max * f);
        let p = QParams::from_observed(lo, hi, scheme)?;
        let score = round_trip_metrics(x, &p, scheme, NonFinitePolicy::Reject)?.mse;
        let (alpha, beta) = super::used_range(lo, hi, scheme);
        curve.push(SearchPoint { alpha, beta, score });
        if best.is_none_or(|(b, _, _)| score < b) {
            best = Some((score, lo, hi));
        }
    }
    let (_, lo, hi) = best.unwrap_or((0.0, min, max));
    Ok((lo, hi, curve))
}
