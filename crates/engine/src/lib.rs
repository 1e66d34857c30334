//! The quantization engine: pure Rust on ndarray, no web dependency, compiled natively (tests,
//! CLI) and to wasm32 (the app).
//!
//! Vocabulary follows the seminar: a real value x is mapped to an integer code
//! q = f_q(x, s, z) = Clip(round(x/s) + z) with scale s and zero-point z, and back with
//! x̂ = s(q − z). The range [α, β] that the grid covers is found by calibration, and the
//! int8 narrow grid [−127, 127] gives the seminar's s = (β − α)/254.
//!
//! Map of the modules:
//! * [`scheme`]: bits, signed/unsigned, symmetric/asymmetric, narrow/full grids; [`round`]: ties.
//! * [`scale`]: s and z from [α, β] ([`QParams`]).
//! * [`quantize`]: quantize / dequantize / fake-quantize, the per-value [`Journey`].
//! * [`metrics`]: MSE, SQNR, clipping vs rounding error.
//! * [`granularity`]: per-tensor / channel / token / group.
//! * [`format`]: float grids: FP16/BF16, scaled FP8/FP4, MXFP8/MXFP4, NVFP4.
//! * [`stats`]: histograms, moments, kurtosis, per-channel ranges.
//! * [`calibrate`]: min-max, moving average, percentile, MSE search, entropy (KL).
//! * [`npy`]: .npy reading and writing; [`synth`]: seeded synthetic data.
//! * [`linear`]: a layer's W·A quantization error; [`outliers`]; [`smooth`]: SmoothQuant; [`rotate`]: Hadamard, random and learned rotations.
//!
//! No function here panics on bad input: every problem is a [`QuantError`].

pub mod calibrate;
pub mod error;
pub mod format;
pub mod granularity;
/// The matrix kernels (their own crate, built for speed; see `quantlab-kernels`).
pub use quantlab_kernels as kernels;
pub mod linear;
pub mod metrics;
pub mod model;
pub mod npy;
pub mod outliers;
pub mod qat;
pub mod quantize;
pub mod rotate;
pub mod round;
pub mod scale;
pub mod scheme;
pub mod smooth;
pub mod stats;
pub mod synth;

pub use calibrate::{calibrate, calibrate_with, Calibration, Calibrator, SearchPoint};
pub use error::{QuantError, Result};
pub use format::{quantize_format, BlockFormat, Element, Format, FormatResult};
pub use granularity::{quantize_granular, GranularResult, Granularity, GroupResult};
pub use metrics::{ErrorAccumulator, RoundTripMetrics};
pub use npy::{read_npy, write_npy_f32, NpyArray, NpyDtype, NpyLimits};
pub use quantize::{
    check_finite, dequantize, dequantize_into, fake_quantize, fake_quantize_into, journey,
    quantize, quantize_into, round_trip_metrics, Journey, NonFinitePolicy,
};
pub use round::Rounding;
pub use scale::QParams;
pub use scheme::Scheme;
pub use stats::{
    channel_stats, histogram, kurtosis, summarize, top_k, ChannelStats, Histogram, Summary,
};
