//! Rounding rules for `round(x / s)`.
//!
//! The default is round-half-to-even, which is what `torch.round`, `np.round` and the
//! IEEE 754 default rounding do: a tie like 2.5 goes to the even neighbour 2, so ties do not
//! push the mean error in one direction. Round-half-away-from-zero (2.5 → 3, −2.5 → −3, C's
//! `round`) is there so the explainer can show the difference.

pub use quantlab_kernels::round_half_even;

/// How `round(x/s)` breaks ties (values exactly halfway between two integers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    /// Ties to the even integer (IEEE 754 `roundTiesToEven`; `torch.round`, `np.round`).
    #[default]
    HalfEven,
    /// Ties away from zero (`f32::round`, C `roundf`).
    HalfAway,
}

impl Rounding {
    /// Round one value with this rule. Never panics; NaN stays NaN, ±Inf stays ±Inf.
    #[inline(always)]
    pub fn apply(self, v: f32) -> f32 {
        match self {
            Rounding::HalfEven => round_half_even(v),
            Rounding::HalfAway => v.round(),
        }
    }

    /// Short name used by the CLI and the UI ("even" / "away").
    pub fn name(self) -> &'static str {
        match self {
            Rounding::HalfEven => "even",
            Rounding::HalfAway => "away",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties() {
        let e = Rounding::HalfEven;
        let a = Rounding::HalfAway;
        assert_eq!(e.apply(0.5), 0.0);
        assert_eq!(e.apply(1.5), 2.0);
        assert_eq!(e.apply(2.5), 2.0);
        assert_eq!(e.apply(-2.5), -2.0);
        assert_eq!(a.apply(2.5), 3.0);
        assert_eq!(a.apply(-2.5), -3.0);
        assert_eq!(a.apply(0.5), 1.0);
        assert_eq!(e.apply(2.4999998), 2.0);
        assert!(e.apply(f32::NAN).is_nan());
    }
}
