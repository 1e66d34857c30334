//! The integer format: how many bits, signed or not, symmetric or affine, narrow or full range.
//!
//! Integer grids [qmin, qmax] (b = bits):
//!
//! | signed | narrow | grid                    | int8 example  | qmax − qmin |
//! |--------|--------|-------------------------|---------------|-------------|
//! | yes    | no     | [−2^(b−1), 2^(b−1) − 1] | [−128, 127]   | 255         |
//! | yes    | yes    | [−2^(b−1) + 1, 2^(b−1) − 1] | [−127, 127] | 254       |
//! | no     | no     | [0, 2^b − 1]            | [0, 255]      | 255         |
//! | no     | yes    | [0, 2^b − 2]            | [0, 254]      | 254         |
//!
//! "Narrow" drops one code so the grid has an odd number (2^b − 1) of levels. For signed
//! integers that makes the grid symmetric around 0 (the seminar's int8 grid, where
//! s = (β − α)/254). For unsigned integers we drop the top code, so an unsigned narrow grid
//! also has qmax − qmin = 2^b − 2 and the same scale as the signed narrow grid for the same
//! range. This is *not* PyTorch's `reduce_range`, which drops a whole bit ([0, 127] for quint8,
//! [−64, 63] for qint8) to avoid overflow in some x86 kernels.

use super::error::{QuantError, Result};
pub use super::round::Rounding;

/// Smallest and largest supported bit widths.
pub const MIN_BITS: u8 = 2;
pub const MAX_BITS: u8 = 8;

/// The integer format of a quantizer. The fields are public for convenience; every engine
/// function re-validates them (`Scheme::validate`) so a hand-built invalid scheme gives
/// `QuantError::InvalidBits` instead of a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    /// Bit width, 2..=8.
    pub bits: u8,
    /// Signed (int8-like) or unsigned (uint8-like) codes.
    pub signed: bool,
    /// Symmetric (scale from max|x|, fixed zero-point) or asymmetric/affine (scale from β − α,
    /// zero-point fitted).
    pub symmetric: bool,
    /// Narrow grid with 2^b − 1 levels (see the module table) instead of the full 2^b.
    pub narrow: bool,
    /// Tie-breaking rule of `round(x/s)`.
    pub rounding: Rounding,
}

impl Scheme {
    /// A validated scheme with round-half-to-even.
    pub fn new(bits: u8, signed: bool, symmetric: bool, narrow: bool) -> Result<Self> {
        let s = Scheme {
            bits,
            signed,
            symmetric,
            narrow,
            rounding: Rounding::HalfEven,
        };
        s.validate()?;
        Ok(s)
    }

    /// The seminar's format: signed int8, narrow [−127, 127] (s = (β − α)/254), asymmetric.
    pub fn seminar_int8() -> Self {
        Scheme {
            bits: 8,
            signed: true,
            symmetric: false,
            narrow: true,
            rounding: Rounding::HalfEven,
        }
    }

    /// Same scheme with another rounding rule.
    pub fn with_rounding(mut self, rounding: Rounding) -> Self {
        self.rounding = rounding;
        self
    }

    /// Checks the bit width (2..=8).
    pub fn validate(&self) -> Result<()> {
        if (MIN_BITS..=MAX_BITS).contains(&self.bits) {
            Ok(())
        } else {
            Err(QuantError::InvalidBits { bits: self.bits })
        }
    }

    // Clamped so that an invalid hand-built scheme cannot overflow a shift; callers validate.
    fn b(&self) -> u32 {
        u32::from(self.bits.clamp(1, 16))
    }

    /// Smallest integer code.
    pub fn qmin(&self) -> i32 {
        let b = self.b();
        match (self.signed, self.narrow) {
            (true, false) => -(1i32 << (b - 1)),
            (true, true) => -(1i32 << (b - 1)) + 1,
            (false, _) => 0,
        }
    }

    /// Largest integer code.
    pub fn qmax(&self) -> i32 {
        let b = self.b();
        match (self.signed, self.narrow) {
            (true, _) => (1i32 << (b - 1)) - 1,
            (false, false) => (1i32 << b) - 1,
            (false, true) => (1i32 << b) - 2,
        }
    }

    /// Number of integer levels, qmax − qmin + 1.
    pub fn levels(&self) -> u32 {
        (self.qmax() - self.qmin() + 1).unsigned_abs()
    }

    /// The symmetric zero-point: 0 for signed grids, the upper middle code
    /// ⌊(qmin + qmax + 1)/2⌋ for unsigned ones, so an unsigned symmetric grid is the signed
    /// one shifted by 2^(b−1). For the default uint8 grid [0, 255] this is 128, as in PyTorch's
    /// `_calculate_qparams` for quint8; for the narrow [0, 254] grid it is the exact middle,
    /// 127. (PyTorch uses the lower middle `(quant_min + quant_max) // 2` when a custom range is
    /// set, e.g. 7 instead of our 8 for [0, 15].)
    pub fn symmetric_zero_point(&self) -> i32 {
        (self.qmin() + self.qmax() + 1).div_euclid(2)
    }

    /// A short human-readable name, e.g. "int8 asymmetric narrow [-127, 127]".
    pub fn describe(&self) -> String {
        format!(
            "{}{} {} {} [{}, {}]",
            if self.signed { "int" } else { "uint" },
            self.bits,
            if self.symmetric {
                "symmetric"
            } else {
                "asymmetric"
            },
            if self.narrow { "narrow" } else { "full" },
            self.qmin(),
            self.qmax()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids() {
        let s = Scheme::new(8, true, false, true).unwrap();
        assert_eq!((s.qmin(), s.qmax()), (-127, 127));
        let s = Scheme::new(8, true, false, false).unwrap();
        assert_eq!((s.qmin(), s.qmax()), (-128, 127));
        let s = Scheme::new(8, false, false, false).unwrap();
        assert_eq!(
            (s.qmin(), s.qmax(), s.symmetric_zero_point()),
            (0, 255, 128)
        );
        let s = Scheme::new(8, false, false, true).unwrap();
        assert_eq!(
            (s.qmin(), s.qmax(), s.symmetric_zero_point()),
            (0, 254, 127)
        );
        let s = Scheme::new(2, true, true, true).unwrap();
        assert_eq!((s.qmin(), s.qmax(), s.levels()), (-1, 1, 3));
        let s = Scheme::new(4, true, true, false).unwrap();
        assert_eq!((s.qmin(), s.qmax(), s.symmetric_zero_point()), (-8, 7, 0));
        assert_eq!(
            Scheme::new(1, true, true, true),
            Err(QuantError::InvalidBits { bits: 1 })
        );
        assert_eq!(
            Scheme::new(9, true, true, true),
            Err(QuantError::InvalidBits { bits: 9 })
        );
        // An invalid hand-built scheme must not panic in qmin/qmax.
        let bad = Scheme {
            bits: 0,
            ..Scheme::seminar_int8()
        };
        let _ = (bad.qmin(), bad.qmax(), bad.levels());
        let bad = Scheme {
            bits: 255,
            ..Scheme::seminar_int8()
        };
        let _ = (bad.qmin(), bad.qmax(), bad.levels());
    }
}
