//! Scale and zero-point from a real range [α, β].
//!
//! Two rules are provided:
//!
//! * [`QParams::from_range`]: PyTorch's observer rule, `torch.ao.quantization.observer.
//!   UniformQuantizationObserverBase._calculate_qparams` (per-tensor affine / symmetric),
//!   computed in f32 like PyTorch:
//!   - the range is first extended to contain 0: α' = min(α, 0), β' = max(β, 0), so that the
//!     real value 0.0 (padding, ReLU zeros) is exactly representable;
//!   - asymmetric: s = (β' − α') / (qmax − qmin), z = qmin − round(α'/s) (round half to even,
//!     like `torch.round`), clamped to [qmin, qmax];
//!   - symmetric: s = max(−α', β') / ((qmax − qmin)/2), z = 0 for signed grids and the middle
//!     code for unsigned ones (see [`Scheme::symmetric_zero_point`]);
//!   - s is floored at f32 machine epsilon (2^−23 ≈ 1.19e−7, PyTorch's `eps` default,
//!     `torch.finfo(torch.float32).eps`), which only matters for (near-)all-zero data.
//!
//!   Because z must be an integer, the grid actually covers the *effective* range
//!   [s(qmin − z), s(qmax − z)] ([`QParams::effective_range`]): for the asymmetric rule it is
//!   [α', β'] shifted by less than s/2 ("nudged") so that 0 sits exactly on a grid point. For
//!   the symmetric full-range rule with signed ints the top is s·qmax = β'·(2^(b−1)−1)/(2^(b−1)−½),
//!   slightly below β' (PyTorch's choice of dividing by (qmax − qmin)/2 = 127.5 for int8).
//!
//! * [`QParams::from_range_seminar`]: the seminar's general affine form for a manual [α, β]:
//!   s = (β − α)/(qmax − qmin) exactly (s = (β − α)/254 for int8 narrow), z = qmin − round(α/s)
//!   clamped to the grid, with no extension to 0 and no epsilon. If 0 ∉ [α, β] the zero-point
//!   is clamped and 0.0 is then *not* exactly representable; that is the price of this form.

use super::error::{QuantError, Result};
use super::scheme::Scheme;

/// PyTorch's minimum scale: `torch.finfo(torch.float32).eps`.
pub const SCALE_EPS: f32 = f32::EPSILON;

/// Quantization parameters: x ≈ s·(q − z).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QParams {
    /// Scale s: the real-valued width of one integer step.
    pub scale: f32,
    /// Zero-point z: the integer code of the real value 0.0.
    pub zero_point: i32,
}

impl QParams {
    /// Hand-made parameters, validated against the scheme (s finite and > 0, z on the grid).
    pub fn new(scale: f32, zero_point: i32, scheme: &Scheme) -> Result<Self> {
        let p = QParams { scale, zero_point };
        p.validate(scheme)?;
        Ok(p)
    }

    /// Checks s and z (every engine function calls this, since the fields are public).
    pub fn validate(&self, scheme: &Scheme) -> Result<()> {
        scheme.validate()?;
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(QuantError::InvalidScale { scale: self.scale });
        }
        let (qmin, qmax) = (scheme.qmin(), scheme.qmax());
        if self.zero_point < qmin || self.zero_point > qmax {
            return Err(QuantError::InvalidZeroPoint {
                zero_point: self.zero_point,
                qmin,
                qmax,
            });
        }
        let (lo, hi) = self.effective_range(scheme);
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(QuantError::RangeOverflow {
                scale: self.scale,
                zero_point: self.zero_point,
            });
        }
        Ok(())
    }

    /// PyTorch's rule (see the module docs) for a user-given range; requires α < β, both finite.
    pub fn from_range(alpha: f32, beta: f32, scheme: &Scheme) -> Result<Self> {
        check_range(alpha, beta)?;
        Self::from_observed(alpha, beta, scheme)
    }

    /// PyTorch's `_calculate_qparams` for an observed [min, max] (min ≤ max, α = β allowed:
    /// a constant or all-zero channel still gets usable parameters, as in PyTorch).
    pub fn from_observed(min: f32, max: f32, scheme: &Scheme) -> Result<Self> {
        scheme.validate()?;
        if !(min.is_finite() && max.is_finite()) || min > max {
            return Err(QuantError::InvalidRange {
                alpha: min,
                beta: max,
            });
        }
        let (qmin, qmax) = (scheme.qmin(), scheme.qmax());
        let span = (qmax - qmin) as f32;
        let min_neg = min.min(0.0);
        let max_pos = max.max(0.0);
        let (scale, zero_point) = if scheme.symmetric {
            let m = (-min_neg).max(max_pos);
            let s = (m / (span / 2.0)).max(SCALE_EPS);
            (s, scheme.symmetric_zero_point())
        } else {
            let s = ((max_pos - min_neg) / span).max(SCALE_EPS);
            let z = zero_point_for(min_neg, s, qmin, qmax);
            (s, z)
        };
        let p = QParams { scale, zero_point };
        p.validate(scheme)?;
        Ok(p)
    }

    /// The seminar's form: s = (β − α)/(qmax − qmin), z = clamp(qmin − round(α/s)).
    /// The scheme's `symmetric` flag is ignored (this form is affine by definition).
    pub fn from_range_seminar(alpha: f32, beta: f32, scheme: &Scheme) -> Result<Self> {
        scheme.validate()?;
        check_range(alpha, beta)?;
        let (qmin, qmax) = (scheme.qmin(), scheme.qmax());
        let s = (beta - alpha) / (qmax - qmin) as f32;
        if !(s.is_finite() && s > 0.0) {
            return Err(QuantError::InvalidScale { scale: s });
        }
        let p = QParams {
            scale: s,
            zero_point: zero_point_for(alpha, s, qmin, qmax),
        };
        p.validate(scheme)?;
        Ok(p)
    }

    /// The real range the integer grid covers: [s(qmin − z), s(qmax − z)], i.e. the values
    /// that dequantize from qmin and qmax. Values outside it are clipped.
    pub fn effective_range(&self, scheme: &Scheme) -> (f32, f32) {
        let lo = (scheme.qmin() as f32 - self.zero_point as f32) * self.scale;
        let hi = (scheme.qmax() as f32 - self.zero_point as f32) * self.scale;
        (lo, hi)
    }
}

/// α < β, both finite.
pub(crate) fn check_range(alpha: f32, beta: f32) -> Result<()> {
    if alpha.is_finite() && beta.is_finite() && alpha < beta {
        Ok(())
    } else {
        Err(QuantError::InvalidRange { alpha, beta })
    }
}

// z = qmin − round(α/s) clamped, rounded half-to-even like torch.round, in f32 like PyTorch.
fn zero_point_for(alpha: f32, s: f32, qmin: i32, qmax: i32) -> i32 {
    let r = (alpha / s).round_ties_even();
    // Clamp in float first: α/s can be huge when the range is far from 0 (seminar form).
    let z = (qmin as f32 - r).max(qmin as f32).min(qmax as f32);
    z as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seminar_example() {
        let sch = Scheme::seminar_int8();
        let p = QParams::from_range_seminar(-1.577, 192.344, &sch).unwrap();
        assert!((p.scale - 0.763).abs() < 0.0005, "{}", p.scale);
        assert_eq!(p.zero_point, -125);
        // PyTorch's rule agrees here because 0 is inside the range.
        let q = QParams::from_range(-1.577, 192.344, &sch).unwrap();
        assert_eq!(p, q);
    }

    #[test]
    fn zero_is_on_grid() {
        let sch = Scheme::new(8, false, false, false).unwrap();
        let p = QParams::from_range(0.3, 5.0, &sch).unwrap();
        assert_eq!(p.zero_point, 0);
        let (lo, _) = p.effective_range(&sch);
        assert_eq!(lo, 0.0);
    }

    #[test]
    fn errors() {
        let sch = Scheme::seminar_int8();
        assert!(matches!(
            QParams::from_range(2.0, 1.0, &sch),
            Err(QuantError::InvalidRange { .. })
        ));
        assert!(matches!(
            QParams::from_range(1.0, 1.0, &sch),
            Err(QuantError::InvalidRange { .. })
        ));
        assert!(matches!(
            QParams::from_range(f32::NAN, 1.0, &sch),
            Err(QuantError::InvalidRange { .. })
        ));
        assert!(matches!(
            QParams::from_range_seminar(-3e38, 3e38, &sch),
            Err(QuantError::InvalidScale { .. })
        ));
        assert!(matches!(
            QParams::from_range(-3e38, 3e38, &sch),
            Err(QuantError::InvalidScale { .. })
        ));
        // All-zero data: PyTorch's eps floor.
        let p = QParams::from_observed(0.0, 0.0, &sch).unwrap();
        assert_eq!(p.scale, SCALE_EPS);
        assert_eq!(
            QParams::new(1.0, 200, &sch),
            Err(QuantError::InvalidZeroPoint {
                zero_point: 200,
                qmin: -127,
                qmax: 127
            })
        );
    }
}
