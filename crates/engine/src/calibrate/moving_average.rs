//! Moving-average min-max: PyTorch `torch.ao.quantization.MovingAverageMinMaxObserver`.
//!
//! PyTorch's `forward` on each batch x (in f32):
//! ```text
//! if first batch: min, max = aminmax(x)
//! else:           min = min + c·(min(x) − min);  max = max + c·(max(x) − max)
//! ```
//! with `averaging_constant` c = 0.01 by default. Here the tensor is cut into consecutive
//! batches of `batch_size` values in row-major order (the last one may be shorter), e.g.
//! one token (row) per batch, and fed in that order. With a small c the range stays close to
//! the first batch's, which is why PyTorch uses this observer for activations seen over many
//! batches during QAT, not for a one-shot calibration.

use crate::error::{QuantError, Result};

/// The raw range after feeding all batches (finite, non-empty data).
pub fn range(x: &[f32], momentum: f32, batch_size: usize) -> Result<(f32, f32)> {
    if batch_size == 0 {
        return Err(QuantError::InvalidParameter {
            name: "batch size",
            value: "0".into(),
            allowed: "a batch must hold at least 1 value",
        });
    }
    let mut state: Option<(f32, f32)> = None;
    for batch in x.chunks(batch_size) {
        let (bmin, bmax) = super::min_max(batch);
        state = Some(match state {
            None => (bmin, bmax),
            Some((lo, hi)) => (lo + momentum * (bmin - lo), hi + momentum * (bmax - hi)),
        });
    }
    state.ok_or(QuantError::Empty { what: "tensor" })
}
