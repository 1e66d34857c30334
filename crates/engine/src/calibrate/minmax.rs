//! Min-max calibration: PyTorch `torch.ao.quantization.MinMaxObserver`.
//!
//! The observer keeps the running minimum and maximum of everything it has seen
//! (`torch.aminmax`), and the scale comes from `_calculate_qparams` on [min, max]. On one
//! tensor that is simply [min(x), max(x)]. Nothing is clipped, so all the error is rounding
//! error, and a single outlier stretches s for every other value.

/// The raw range: the observed extremes.
pub fn range(min: f32, max: f32) -> (f32, f32) {
    (min, max)
}
