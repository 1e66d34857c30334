//! Calibration (range finding): choose the clipping range [α, β] of a tensor, then the scale
//! and zero-point from it, and measure the error this choice gives on the same data.
//!
//! Every calibrator produces a raw range (lo, hi). The range *used* (reported as `alpha`,
//! `beta`) is the one the scale is computed from with PyTorch's rule
//! ([`QParams::from_observed`]):
//! * asymmetric schemes: [α, β] = [min(lo, 0), max(hi, 0)], s = (β − α)/(qmax − qmin);
//! * symmetric schemes: β = max(−min(lo, 0), max(hi, 0)), α = −β, s = β/((qmax − qmin)/2).
//!
//! So `alpha`/`beta` are always the numbers a student can plug into the scale formula. The
//! grid actually reaches [`QParams::effective_range`] (nudged so 0 is a grid point).
//!
//! The calibrators and the references they follow:
//! * [`Calibrator::MinMax`]: PyTorch `MinMaxObserver` (running min and max of the data).
//! * [`Calibrator::MovingAverage`]: PyTorch `MovingAverageMinMaxObserver`.
//! * [`Calibrator::Percentile`]: percentiles with NumPy's default (`method="linear"`).
//! * [`Calibrator::Mse`]: MQBench's `MSEObserver` grid search.
//! * [`Calibrator::Entropy`]: TensorRT's entropy (KL-divergence) calibration.
//! * [`Calibrator::Manual`]: a range the user typed.
//!
//! See each submodule for the exact semantics.

pub mod entropy;
pub mod minmax;
pub mod moving_average;
pub mod mse;
pub mod percentile;

use std::borrow::Cow;

use super::error::{QuantError, Result};
use super::metrics::RoundTripMetrics;
use super::quantize::{round_trip_metrics, NonFinitePolicy};
use super::scale::{check_range, QParams};
use super::scheme::Scheme;

/// PyTorch's default `averaging_constant` of `MovingAverageMinMaxObserver`.
pub const DEFAULT_MOMENTUM: f32 = 0.01;

/// A range-finding method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calibrator {
    /// [min(x), max(x)].
    MinMax,
    /// Exponential moving average of per-batch min/max over consecutive batches of
    /// `batch_size` values: m ← m + momentum·(batch_min − m) (first batch initialises).
    MovingAverage { momentum: f32, batch_size: usize },
    /// The p-th percentile of |x| (symmetric) or the (100 − p)-th and p-th percentiles of x
    /// (asymmetric); 50 < p ≤ 100.
    Percentile { p: f64 },
    /// The range among 100 shrunken min-max ranges that minimises the round-trip MSE.
    Mse,
    /// TensorRT's KL-divergence threshold on a 2048-bin |x| histogram.
    Entropy,
    /// A given [α, β] (α < β).
    Manual { alpha: f32, beta: f32 },
}

impl Calibrator {
    /// Short name ("minmax", "moving", "percentile", "mse", "entropy", "manual").
    pub fn name(&self) -> &'static str {
        match self {
            Calibrator::MinMax => "minmax",
            Calibrator::MovingAverage { .. } => "moving",
            Calibrator::Percentile { .. } => "percentile",
            Calibrator::Mse => "mse",
            Calibrator::Entropy => "entropy",
            Calibrator::Manual { .. } => "manual",
        }
    }

    /// Checks the calibrator's own parameters.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Calibrator::MovingAverage {
                momentum,
                batch_size,
            } => {
                if !(momentum > 0.0 && momentum <= 1.0) {
                    return Err(QuantError::InvalidParameter {
                        name: "momentum",
                        value: momentum.to_string(),
                        allowed:
                            "the averaging constant must be in (0, 1] (PyTorch's default is 0.01)",
                    });
                }
                if batch_size == 0 {
                    return Err(QuantError::InvalidParameter {
                        name: "batch size",
                        value: "0".into(),
                        allowed: "a batch must hold at least 1 value",
                    });
                }
                Ok(())
            }
            Calibrator::Percentile { p } => {
                if p > 50.0 && p <= 100.0 {
                    Ok(())
                } else {
                    Err(QuantError::InvalidParameter {
                        name: "percentile",
                        value: p.to_string(),
                        allowed:
                            "the percentile must be above 50 and at most 100 (e.g. 99.9 or 99.99)",
                    })
                }
            }
            Calibrator::Manual { alpha, beta } => check_range(alpha, beta),
            _ => Ok(()),
        }
    }
}

/// One candidate of a search (MSE or entropy): the range it would use and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchPoint {
    pub alpha: f32,
    pub beta: f32,
    /// MSE of the round trip (MSE search) or KL divergence in nats (entropy).
    pub score: f64,
}

/// The outcome of a calibration.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub calibrator: Calibrator,
    /// min and max of the (finite) data.
    pub observed_min: f32,
    pub observed_max: f32,
    /// The range the scale was computed from (see the module docs).
    pub alpha: f32,
    pub beta: f32,
    pub params: QParams,
    /// Round-trip error of `params` on the same data.
    pub metrics: RoundTripMetrics,
    /// The candidates scored by the MSE and entropy searches (empty for the others).
    pub search: Vec<SearchPoint>,
}

/// Calibrates `data` (NaN/Inf rejected). See [`calibrate_with`].
pub fn calibrate(data: &[f32], scheme: &Scheme, calibrator: &Calibrator) -> Result<Calibration> {
    calibrate_with(data, scheme, calibrator, NonFinitePolicy::Reject)
}

/// Calibrates `data` with a NaN/Inf policy. Constant data (min = max) is an error here; the
/// per-channel/group path accepts constant groups (see `granularity`).
pub fn calibrate_with(
    data: &[f32],
    scheme: &Scheme,
    calibrator: &Calibrator,
    policy: NonFinitePolicy,
) -> Result<Calibration> {
    calibrate_impl(data, scheme, calibrator, policy, false)
}

/// The used range for a raw (lo, hi) under the scheme (see the module docs).
pub fn used_range(lo: f32, hi: f32, scheme: &Scheme) -> (f32, f32) {
    let a = lo.min(0.0);
    let b = hi.max(0.0);
    if scheme.symmetric {
        let m = (-a).max(b);
        (-m, m)
    } else {
        (a, b)
    }
}

/// Borrow the data if it is all finite, otherwise copy the finite values (or reject).
pub(crate) fn finite_view(x: &[f32], policy: NonFinitePolicy) -> Result<(Cow<'_, [f32]>, usize)> {
    if x.is_empty() {
        return Err(QuantError::Empty { what: "tensor" });
    }
    let mut bad = 0usize;
    let mut first = None;
    for (i, v) in x.iter().enumerate() {
        if !v.is_finite() {
            bad += 1;
            first.get_or_insert(i);
        }
    }
    match (first, policy) {
        (None, _) => Ok((Cow::Borrowed(x), 0)),
        (Some(first_index), NonFinitePolicy::Reject) => Err(QuantError::NonFinite {
            count: bad,
            first_index,
            first_row_col: None,
        }),
        (Some(_), NonFinitePolicy::Skip) => {
            let v: Vec<f32> = x.iter().copied().filter(|v| v.is_finite()).collect();
            if v.is_empty() {
                Err(QuantError::AllNonFinite { count: bad })
            } else {
                Ok((Cow::Owned(v), bad))
            }
        }
    }
}

pub(crate) fn min_max(x: &[f32]) -> (f32, f32) {
    x.iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// The raw range a calibrator picks on finite, non-empty data, plus its search curve.
pub(crate) fn raw_range(
    x: &[f32],
    min: f32,
    max: f32,
    scheme: &Scheme,
    calibrator: &Calibrator,
) -> Result<(f32, f32, Vec<SearchPoint>)> {
    Ok(match *calibrator {
        Calibrator::MinMax => {
            let (lo, hi) = minmax::range(min, max);
            (lo, hi, Vec::new())
        }
        Calibrator::MovingAverage {
            momentum,
            batch_size,
        } => {
            let (lo, hi) = moving_average::range(x, momentum, batch_size)?;
            (lo, hi, Vec::new())
        }
        Calibrator::Percentile { p } => {
            let (lo, hi) = percentile::range(x, p, scheme)?;
            (lo, hi, Vec::new())
        }
        Calibrator::Mse => mse::search(x, min, max, scheme)?,
        Calibrator::Entropy => entropy::search(x, min, max, scheme)?,
        Calibrator::Manual { alpha, beta } => (alpha, beta, Vec::new()),
    })
}

pub(crate) fn calibrate_impl(
    data: &[f32],
    scheme: &Scheme,
    calibrator: &Calibrator,
    policy: NonFinitePolicy,
    allow_constant: bool,
) -> Result<Calibration> {
    scheme.validate()?;
    calibrator.validate()?;
    let (x, skipped) = finite_view(data, policy)?;
    let (min, max) = min_max(&x);
    if min == max && !allow_constant && !matches!(calibrator, Calibrator::Manual { .. }) {
        return Err(QuantError::ConstantData {
            value: min,
            count: x.len(),
        });
    }
    let (lo, hi, search) = raw_range(&x, min, max, scheme, calibrator)?;
    let params = QParams::from_observed(lo, hi, scheme)?;
    let (alpha, beta) = used_range(lo, hi, scheme);
    let mut metrics = round_trip_metrics(&x, &params, scheme, NonFinitePolicy::Reject)?;
    metrics.skipped = skipped;
    Ok(Calibration {
        calibrator: *calibrator,
        observed_min: min,
        observed_max: max,
        alpha,
        beta,
        params,
        metrics,
        search,
    })
}
