//! SmoothQuant (Xiao et al., ICML 2023): migrate part of the activations' range into the
//! weights with a per-input-channel scale s, X′ = X·diag(s)⁻¹ and W′ = diag(s)·W, so that
//! X′·W′ = X·W ("변동성 이전 전후 동일") while X′ is easier to quantize.
//!
//! Matches the authors' `smoothquant/smooth.py` (`smooth_ln_fcs`), with W stored C_in×C_out
//! here (torch's `fc.weight` is C_out×C_in, so its `abs().max(dim=0)` is our per-row max):
//! * act_scale_c = max_t |X_tc| (their calibrated `act_scales`; here from the given X);
//! * weight_scale_c = max(max_j |W_cj|, 1e−5)  (`.max(dim=0)[0].clamp(min=1e-5)`);
//! * s_c = max(act_scale_c^α / weight_scale_c^(1−α), 1e−5)
//!   (`(act_scales.pow(alpha) / weight_scales.pow(1-alpha)).clamp(min=1e-5)`), computed in f64
//!   and rounded to f32 (torch computes it in the weight dtype; the difference is ≤ 1 ulp);
//! * X′ = X / s per column (their LayerNorm `weight.div_(scales)`, `bias.div_(scales)`),
//!   W′ = s·W per row (`fc.weight.mul_(scales.view(1, -1))`), both in f32.
//!
//! α = 0 is *not* "no smoothing": s_c = 1 / weight_scale_c then, which moves the weights'
//! range into the activations. The unsmoothed baseline is the plain [`LayerCase::error`].
//! Quantization and the error measure are those of [`crate::linear`].

use ndarray::ArrayView2;

use super::error::{QuantError, Result};
use super::linear::{check_len, FloatDeviation, LayerCase, LayerError, LayerQuant};
use super::outliers::{column_absmax, row_absmax};

/// Most points a sweep may have.
pub const MAX_SWEEP_POINTS: usize = 10_001;

/// SmoothQuant's per-channel scales from the activation absmax (max_t |X_tc|) and the weight
/// absmax per input channel (max_j |W_cj|, unclamped: the 1e−5 floor is applied here).
pub fn smooth_scales(act_absmax: &[f32], w_absmax: &[f32], alpha: f32) -> Result<Vec<f32>> {
    check_alpha(alpha)?;
    check_len(
        "weight absmax (one per input channel)",
        act_absmax.len(),
        w_absmax.len(),
    )?;
    if let Some(&bad) = act_absmax
        .iter()
        .chain(w_absmax)
        .find(|v| !(v.is_finite() && **v >= 0.0))
    {
        return Err(QuantError::InvalidParameter {
            name: "channel absmax",
            value: bad.to_string(),
            allowed: "finite values ≥ 0 (a maximum of |x|)",
        });
    }
    let a = f64::from(alpha);
    Ok(act_absmax
        .iter()
        .zip(w_absmax)
        .map(|(&x, &w)| {
            let ws = f64::from(w.max(1e-5));
            let s = (f64::from(x).powf(a) / ws.powf(1.0 - a)) as f32;
            s.max(1e-5)
        })
        .collect())
}

fn check_alpha(alpha: f32) -> Result<()> {
    if alpha.is_finite() && (0.0..=1.0).contains(&alpha) {
        Ok(())
    } else {
        Err(QuantError::InvalidParameter {
            name: "migration strength α",
            value: alpha.to_string(),
            allowed: "a number from 0 to 1",
        })
    }
}

/// The α grid START, START+STEP, …, END (inclusive when END is on the grid, within 1e−6·STEP):
/// α_i = START + i·STEP computed in f64 and rounded to f32 once, so there is no drift
/// (0:1:0.05 gives 21 points, the 10th exactly 0.45f32).
pub fn alpha_grid(start: f64, end: f64, step: f64) -> Result<Vec<f32>> {
    let bad = || QuantError::InvalidParameter {
        name: "α grid",
        value: format!("{start}:{end}:{step}"),
        allowed: "0 ≤ START ≤ END ≤ 1 and STEP > 0",
    };
    if !(start.is_finite()
        && end.is_finite()
        && (0.0..=1.0).contains(&start)
        && (0.0..=1.0).contains(&end))
    {
        return Err(bad());
    }
    if !(step.is_finite() && step > 0.0) || end < start {
        return Err(bad());
    }
    let n = ((end - start) / step + 1e-6).floor() + 1.0;
    if n > MAX_SWEEP_POINTS as f64 {
        return Err(QuantError::TooLarge {
            what: "number of α points",
            got: n as u128,
            limit: MAX_SWEEP_POINTS as u128,
        });
    }
    Ok((0..n as usize)
        .map(|i| (start + i as f64 * step).min(end) as f32)
        .collect())
}

/// One α of a sweep.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SmoothPoint {
    pub alpha: f32,
    pub error: LayerError,
}

/// A sweep over α for one quantization setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub cfg: LayerQuant,
    /// The unsmoothed layer with the same bits.
    pub baseline: LayerError,
    pub points: Vec<SmoothPoint>,
    /// The α with the smallest rel_err (the first one on ties).
    pub best_alpha: f32,
    pub best_rel_err: f64,
}

/// One layer prepared for SmoothQuant: the [`LayerCase`] (X, W and the f64 X·W) plus the
/// per-channel maxima the scales are made of, so that [`error_at`](Self::error_at) only
/// scales, quantizes and multiplies.
#[derive(Clone, Debug, PartialEq)]
pub struct SmoothCase {
    case: LayerCase,
    act_absmax: Vec<f32>,
    w_absmax: Vec<f32>,
}

impl Sweep {
    /// A sweep from points computed one at a time (the page computes them in slices between
    /// frames); the best α is found exactly as [`SmoothCase::sweep`] finds it.
    pub fn from_points(cfg: LayerQuant, baseline: LayerError, points: Vec<SmoothPoint>) -> Self {
        let (best_alpha, best_rel_err) =
            points
                .iter()
                .fold((f32::NAN, f64::INFINITY), |(ba, be), p| {
                    if p.error.rel_err < be {
                        (p.alpha, p.error.rel_err)
                    } else {
                        (ba, be)
                    }
                });
        Sweep {
            cfg,
            baseline,
            points,
            best_alpha,
            best_rel_err,
        }
    }
}

impl SmoothCase {
    /// Wraps a layer.
    pub fn new(case: LayerCase) -> Result<Self> {
        let act_absmax = column_absmax(case.x(), case.tokens(), case.in_channels())?;
        let w_absmax = row_absmax(case.w(), case.in_channels(), case.out_channels())?;
        Ok(SmoothCase {
            case,
            act_absmax,
            w_absmax,
        })
    }

    /// From X (T×C_in) and W (C_in×C_out).
    pub fn from_views(x: ArrayView2<'_, f32>, w: ArrayView2<'_, f32>) -> Result<Self> {
        Self::new(LayerCase::new(x, w)?)
    }

    pub fn case(&self) -> &LayerCase {
        &self.case
    }

    pub fn into_case(self) -> LayerCase {
        self.case
    }

    /// max_t |X_tc|, one per input channel.
    pub fn act_absmax(&self) -> &[f32] {
        &self.act_absmax
    }

    /// max_j |W_cj|, one per input channel.
    pub fn weight_absmax(&self) -> &[f32] {
        &self.w_absmax
    }

    /// s(α), one per input channel.
    pub fn scales(&self, alpha: f32) -> Result<Vec<f32>> {
        smooth_scales(&self.act_absmax, &self.w_absmax, alpha)
    }

    /// The per-channel maxima after smoothing with scales s: (max_t |X′_tc|, max_j |W′_cj|).
    /// Exact without touching X or W: x ↦ x/s and w ↦ s·w are monotonic in |x|, |w|.
    pub fn smoothed_profiles(&self, s: &[f32]) -> Result<(Vec<f32>, Vec<f32>)> {
        check_len(
            "smoothing scales (one per input channel)",
            self.act_absmax.len(),
            s.len(),
        )?;
        Ok((
            self.act_absmax
                .iter()
                .zip(s)
                .map(|(&a, &s)| a / s)
                .collect(),
            self.w_absmax.iter().zip(s).map(|(&w, &s)| s * w).collect(),
        ))
    }

    /// X′ = X·diag(s)⁻¹ and W′ = diag(s)·W for given scales (f32, as in smooth.py).
    pub fn apply(&self, s: &[f32]) -> Result<(Vec<f32>, Vec<f32>)> {
        let n = self.case.out_channels();
        let x2 = self.smoothed_x(s)?;
        let mut w2 = self.case.w().to_vec();
        for (row, &sc) in w2.chunks_exact_mut(n).zip(s) {
            row.iter_mut().for_each(|v| *v *= sc);
        }
        Ok((x2, w2))
    }

    /// The unsmoothed error with the same bits.
    pub fn baseline(&self, cfg: &LayerQuant) -> Result<LayerError> {
        self.case.error(cfg)
    }

    /// The error after smoothing with α.
    pub fn error_at(&self, alpha: f32, cfg: &LayerQuant) -> Result<LayerError> {
        self.error_with_scales(&self.scales(alpha)?, cfg)
    }

    /// The error after smoothing with given scales (e.g. edited by hand in the UI). W′ = s·W
    /// is quantized on the fly, never stored.
    pub fn error_with_scales(&self, s: &[f32], cfg: &LayerQuant) -> Result<LayerError> {
        let x2 = self.smoothed_x(s)?;
        self.case.error_row_scaled(&x2, s, cfg)
    }

    /// X′ = X·diag(s)⁻¹ alone.
    fn smoothed_x(&self, s: &[f32]) -> Result<Vec<f32>> {
        let c = self.case.in_channels();
        check_len("smoothing scales (one per input channel)", c, s.len())?;
        if let Some(&bad) = s.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
            return Err(QuantError::InvalidScale { scale: bad });
        }
        let mut x2 = self.case.x().to_vec();
        for row in x2.chunks_exact_mut(c) {
            row.iter_mut().zip(s).for_each(|(v, &sc)| *v /= sc);
        }
        Ok(x2)
    }

    /// The error at every α, the baseline and the best α.
    pub fn sweep(&self, alphas: &[f32], cfg: &LayerQuant) -> Result<Sweep> {
        if alphas.is_empty() {
            return Err(QuantError::Empty {
                what: "list of α values",
            });
        }
        if alphas.len() > MAX_SWEEP_POINTS {
            return Err(QuantError::TooLarge {
                what: "number of α points",
                got: alphas.len() as u128,
                limit: MAX_SWEEP_POINTS as u128,
            });
        }
        let baseline = self.baseline(cfg)?;
        let mut points = Vec::with_capacity(alphas.len());
        for &alpha in alphas {
            points.push(SmoothPoint {
                alpha,
                error: self.error_at(alpha, cfg)?,
            });
        }
        Ok(Sweep::from_points(*cfg, baseline, points))
    }

    /// "변동성 이전 전후 동일": (X·diag(s)⁻¹)·(diag(s)·W) computed in f32 against the f64 X·W.
    pub fn identity_check(&self, alpha: f32) -> Result<FloatDeviation> {
        let (x2, w2) = self.apply(&self.scales(alpha)?)?;
        self.case.float_deviation(&x2, &w2)
    }

    /// The same measure for the untransformed X·W in f32: the float rounding floor that the
    /// identity check should be compared with.
    pub fn float_floor(&self) -> Result<FloatDeviation> {
        self.case.float_deviation(self.case.x(), self.case.w())
    }
}
