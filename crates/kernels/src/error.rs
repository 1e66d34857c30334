//! The kernels' error type: only what a matrix kernel can be handed wrongly (lengths, shapes,
//! scales, bit widths, non-finite values, sizes that could overflow).
//!
//! The engine's `QuantError` has a variant of the same name and fields for each of these and
//! converts with `From`, so an error raised deep in a kernel reaches the page as the engine's
//! error with this text; the texts live here, once.

use std::fmt;

/// Everything a kernel refuses, one variant per kind of bad input.
#[derive(Debug, Clone, PartialEq)]
pub enum KernelError {
    /// A buffer (or a group of one) with no values at all.
    Empty { what: &'static str },
    /// NaN or ±Inf values in an input that must be finite. `first_index` is the flat
    /// (row-major) position; `first_row_col` is set for 2-D data.
    NonFinite {
        count: usize,
        first_index: usize,
        first_row_col: Option<(usize, usize)>,
    },
    /// Bit width outside 2..=8.
    InvalidBits { bits: u8 },
    /// A scale that is zero, negative, NaN or infinite.
    InvalidScale { scale: f32 },
    /// An integer code outside [qmin, qmax].
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
    /// Any other numeric parameter outside its allowed range.
    InvalidParameter {
        name: &'static str,
        value: String,
        allowed: &'static str,
    },
    /// More than the kernels can hold or sum exactly.
    TooLarge {
        what: &'static str,
        got: u128,
        limit: u128,
    },
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use KernelError::*;
        match self {
            Empty { what } => write!(f, "the {what} is empty: there are no values to quantize"),
            NonFinite {
                count,
                first_index,
                first_row_col,
            } => {
                let plural = if *count == 1 { "value" } else { "values" };
                write!(
                    f,
                    "the data contains {count} NaN/Inf {plural}; the first is at index {first_index}"
                )?;
                if let Some((r, c)) = first_row_col {
                    write!(f, " (row {r}, column {c})")?;
                }
                write!(f, ". Remove them, or ask to skip them")
            }
            InvalidBits { bits } => {
                write!(
                    f,
                    "{bits} bits is not supported: choose a bit width from 2 to 8"
                )
            }
            InvalidScale { scale } => write!(
                f,
                "the scale s = {scale} is not usable: it must be a finite number greater than 0"
            ),
            CodeOutOfRange {
                code,
                index,
                qmin,
                qmax,
            } => write!(
                f,
                "the integer code {code} at index {index} is outside the grid [{qmin}, {qmax}]"
            ),
            LengthMismatch {
                what,
                expected,
                got,
            } => {
                write!(f, "{what}: expected {expected} values but got {got}")
            }
            ShapeMismatch { expected, got } => {
                write!(f, "the shapes do not match: expected {expected}, got {got}")
            }
            InvalidParameter {
                name,
                value,
                allowed,
            } => {
                write!(f, "{name} = {value} is not allowed: {allowed}")
            }
            TooLarge { what, got, limit } => {
                write!(f, "the {what} is too large: {got} (the limit is {limit})")
            }
        }
    }
}

impl std::error::Error for KernelError {}

/// Shorthand used across the kernels.
pub type Result<T> = std::result::Result<T, KernelError>;
