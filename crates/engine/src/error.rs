//! The one error type of the engine.
//!
//! Every engine function that can receive bad input returns `Result<_, QuantError>`. The
//! `Display` text is written for a student reading it in the app or in the CLI: it says what
//! was wrong with the input and, where it helps, what to do instead.

use std::fmt;

use quantlab_kernels::KernelError;

/// Everything that can go wrong in the engine, one variant per kind of bad input.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantError {
    /// A tensor (or a group of one) had no values at all.
    Empty { what: &'static str },
    /// NaN or ±Inf values were found and the caller asked to reject them.
    /// `first_index` is the flat (row-major) position; `first_row_col` is set for 2-D data.
    NonFinite {
        count: usize,
        first_index: usize,
        first_row_col: Option<(usize, usize)>,
    },
    /// Every value was skipped as NaN/Inf, so nothing is left to work on.
    AllNonFinite { count: usize },
    /// A clipping range with α ≥ β (or a non-finite end).
    InvalidRange { alpha: f32, beta: f32 },
    /// All (finite) values are the same number: min = max, so no range can be calibrated.
    ConstantData { value: f32, count: usize },
    /// Bit width outside 2..=8.
    InvalidBits { bits: u8 },
    /// A scale that is zero, negative, NaN or infinite (e.g. from a range too wide for f32).
    InvalidScale { scale: f32 },
    /// s·(qmin − z) or s·(qmax − z) does not fit in an f32: the grid would dequantize to ±Inf.
    RangeOverflow { scale: f32, zero_point: i32 },
    /// A zero-point outside the integer grid [qmin, qmax].
    InvalidZeroPoint {
        zero_point: i32,
        qmin: i32,
        qmax: i32,
    },
    /// An integer code outside [qmin, qmax] given to `dequantize`.
    CodeOutOfRange {
        code: i32,
        index: usize,
        qmin: i32,
        qmax: i32,
    },
    /// Two buffers that must have the same length do not.
    LengthMismatch {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    /// A shape that does not fit the data or the operation.
    ShapeMismatch { expected: String, got: String },
    /// An axis that the tensor does not have.
    InvalidAxis { axis: usize, ndim: usize },
    /// Group quantization with a group size that does not divide the axis length.
    GroupSizeMismatch {
        len: usize,
        group: usize,
        axis: usize,
    },
    /// Any other numeric parameter outside its allowed range (percentile, momentum, bins, ...).
    InvalidParameter {
        name: &'static str,
        value: String,
        allowed: &'static str,
    },
    /// More values than the configured limit (protects the browser from huge allocations).
    TooLarge {
        what: &'static str,
        got: u128,
        limit: u128,
    },

    // ---- .npy reading ----
    /// The file does not start with the 6 bytes `\x93NUMPY`.
    NpyBadMagic,
    /// A format version other than 1.0, 2.0 or 3.0.
    NpyUnsupportedVersion { major: u8, minor: u8 },
    /// The file ends before the header or the data it announces.
    NpyTruncated {
        what: &'static str,
        expected: u128,
        got: usize,
    },
    /// The header text is not the dictionary NumPy writes.
    NpyBadHeader { reason: String },
    /// A dtype other than f32, f64, f16, i8, u8, i16, i32, i64.
    NpyUnsupportedDtype { descr: String },
    /// More than 2 dimensions, or 0 (a scalar).
    NpyUnsupportedDims { ndim: usize },
    /// There are bytes after the data the header describes: the header lies about the shape.
    NpyTrailingBytes { expected: u128, got: usize },

    // ---- training (QAT chapter) ----
    /// A data file (e.g. the shipped digits set) that does not have the expected layout.
    BadDataFile { what: &'static str, reason: String },
    /// The loss became NaN or ±Inf during training (usually a learning rate that is too high).
    TrainingDiverged { phase: &'static str, step: u64 },

    // ---- the whole model ----
    /// A model file (or a tensor in it) that cannot be the model: missing, wrong shape, wrong
    /// type, NaN, a failed checksum.
    BadModel { part: String, reason: String },
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use QuantError::*;
        if let Some(k) = self.as_kernel_error() {
            return k.fmt(f);
        }
        match self {
            AllNonFinite { count } => {
                write!(f, "all {count} values are NaN or Inf, so nothing is left to quantize")
            }
            InvalidRange { alpha, beta } => {
                if !alpha.is_finite() || !beta.is_finite() {
                    write!(f, "the range [α, β] = [{alpha}, {beta}] must have finite ends")
                } else {
                    write!(f, "α ({alpha}) must be smaller than β ({beta})")
                }
            }
            ConstantData { value, count } => write!(
                f,
                "all {count} values are equal to {value}: the range has zero width, so there is no scale to compute"
            ),
            RangeOverflow { scale, zero_point } => write!(
                f,
                "with s = {scale:e} and z = {zero_point} the integer grid reaches beyond the largest float32 (about ±3.4e38); use a smaller range"
            ),
            InvalidZeroPoint { zero_point, qmin, qmax } => write!(
                f,
                "the zero-point {zero_point} is outside the integer grid [{qmin}, {qmax}]"
            ),
            InvalidAxis { axis, ndim } => write!(
                f,
                "axis {axis} does not exist: the tensor has {ndim} dimension(s), so the axis must be below {ndim}"
            ),
            GroupSizeMismatch { len, group, axis } => write!(
                f,
                "a group size of {group} does not divide the {len} values along axis {axis}; choose a divisor of {len}"
            ),
            NpyBadMagic => write!(
                f,
                "this is not a .npy file: it must start with the bytes \\x93NUMPY"
            ),
            NpyUnsupportedVersion { major, minor } => write!(
                f,
                ".npy format version {major}.{minor} is not supported (only 1.0, 2.0 and 3.0)"
            ),
            NpyTruncated { what, expected, got } => write!(
                f,
                "the .npy file is cut short: the {what} needs {expected} bytes but only {got} are there"
            ),
            NpyBadHeader { reason } => write!(f, "the .npy header is malformed: {reason}"),
            NpyUnsupportedDtype { descr } => write!(
                f,
                "the .npy dtype '{descr}' is not supported (use float32, float64, float16, int8, uint8, int16, int32 or int64)"
            ),
            NpyUnsupportedDims { ndim } => write!(
                f,
                "the .npy array has {ndim} dimension(s); only 1-D vectors and 2-D matrices are supported"
            ),
            NpyTrailingBytes { expected, got } => write!(
                f,
                "the .npy header announces {expected} bytes of data but the file has {got}: the header and the data disagree"
            ),
            // The variants shared with the kernels, written by `KernelError`'s Display above.
            Empty { .. } | NonFinite { .. } | InvalidBits { .. } | InvalidScale { .. }
            | CodeOutOfRange { .. } | LengthMismatch { .. } | ShapeMismatch { .. }
            | InvalidParameter { .. } | TooLarge { .. } => Ok(()),
            BadDataFile { what, reason } => write!(f, "the {what} is not in the expected format: {reason}"),
            BadModel { part, reason } => {
                write!(f, "the model cannot be used: {part}: {reason}")
            }
            TrainingDiverged { phase, step } => write!(
                f,
                "{phase} training diverged at step {step}: the loss became NaN or infinite; use a smaller learning rate"
            ),
        }
    }
}

impl std::error::Error for QuantError {}

impl QuantError {
    /// The kernels' view of a variant both types share (their text is defined there, once).
    fn as_kernel_error(&self) -> Option<KernelError> {
        use QuantError as Q;
        Some(match self.clone() {
            Q::Empty { what } => KernelError::Empty { what },
            Q::NonFinite {
                count,
                first_index,
                first_row_col,
            } => KernelError::NonFinite {
                count,
                first_index,
                first_row_col,
            },
            Q::InvalidBits { bits } => KernelError::InvalidBits { bits },
            Q::InvalidScale { scale } => KernelError::InvalidScale { scale },
            Q::CodeOutOfRange {
                code,
                index,
                qmin,
                qmax,
            } => KernelError::CodeOutOfRange {
                code,
                index,
                qmin,
                qmax,
            },
            Q::LengthMismatch {
                what,
                expected,
                got,
            } => KernelError::LengthMismatch {
                what,
                expected,
                got,
            },
            Q::ShapeMismatch { expected, got } => KernelError::ShapeMismatch { expected, got },
            Q::InvalidParameter {
                name,
                value,
                allowed,
            } => KernelError::InvalidParameter {
                name,
                value,
                allowed,
            },
            Q::TooLarge { what, got, limit } => KernelError::TooLarge { what, got, limit },
            _ => return None,
        })
    }
}

/// A kernel's error becomes the engine's variant of the same name, so callers match one type.
impl From<KernelError> for QuantError {
    fn from(e: KernelError) -> Self {
        use KernelError as K;
        match e {
            K::Empty { what } => QuantError::Empty { what },
            K::NonFinite {
                count,
                first_index,
                first_row_col,
            } => QuantError::NonFinite {
                count,
                first_index,
                first_row_col,
            },
            K::InvalidBits { bits } => QuantError::InvalidBits { bits },
            K::InvalidScale { scale } => QuantError::InvalidScale { scale },
            K::CodeOutOfRange {
                code,
                index,
                qmin,
                qmax,
            } => QuantError::CodeOutOfRange {
                code,
                index,
                qmin,
                qmax,
            },
            K::LengthMismatch {
                what,
                expected,
                got,
            } => QuantError::LengthMismatch {
                what,
                expected,
                got,
            },
            K::ShapeMismatch { expected, got } => QuantError::ShapeMismatch { expected, got },
            K::InvalidParameter {
                name,
                value,
                allowed,
            } => QuantError::InvalidParameter {
                name,
                value,
                allowed,
            },
            K::TooLarge { what, got, limit } => QuantError::TooLarge { what, got, limit },
        }
    }
}

/// Shorthand used across the engine.
pub type Result<T> = std::result::Result<T, QuantError>;

/// `v[i]`, or a [`QuantError::LengthMismatch`] naming the buffer if it is too short. For index
/// arithmetic that is in range by construction: if that ever breaks, the page shows an error
/// instead of computing on a made-up 0.
pub(crate) fn at<T: Copy>(v: &[T], i: usize, what: &'static str) -> Result<T> {
    v.get(i).copied().ok_or(QuantError::LengthMismatch {
        what,
        expected: i + 1,
        got: v.len(),
    })
}
