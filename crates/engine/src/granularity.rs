//! Granularity: how many (s, z) pairs a tensor gets.
//!
//! For a 2-D tensor X of shape (R, C) (e.g. tokens × channels):
//! * per-tensor: one pair for all values;
//! * per-channel along `axis`: one pair per index along `axis` (PyTorch's `ch_axis`): axis 1
//!   gives one pair per column (per input channel of an activation, or per output channel of
//!   a C_out × C_in weight with axis 0);
//! * per-token: one pair per row (= per-channel along axis 0), as in dynamic per-token
//!   activation quantization;
//! * per-group: groups of G consecutive values along `axis` (G must divide that length),
//!   for every index of the other axis, as in GPTQ/AWQ-style group quantization.
//!
//! Parameter order (`GranularResult::param_shape`, row-major):
//! per-channel axis a → (len along a); per-group axis 1 → (R, C/G), group (r, g) covers
//! X[r, g·G..(g+1)·G]; per-group axis 0 → (R/G, C), group (g, c) covers X[g·G..(g+1)·G, c].
//!
//! A 1-D tensor is handled by the caller as one row (shape (1, n)).
//!
//! Each group is calibrated on its own values. Unlike the per-tensor path, a constant group
//! (e.g. a dead ReLU channel that is all 0) is not an error: it gets PyTorch's parameters for
//! a zero-width range (extended to 0, scale floored at eps), which reproduce it exactly.

use ndarray::{Array2, ArrayView2, Axis};

use super::calibrate::{calibrate_impl, Calibrator};
use super::error::{QuantError, Result};
use super::metrics::{ErrorAccumulator, RoundTripMetrics};
use super::quantize::{fake_quantize_accumulate, NonFinitePolicy};
use super::scale::QParams;
use super::scheme::Scheme;
use super::stats::check_finite_2d;

/// How the tensor is split into groups that share (s, z).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    PerTensor,
    PerChannel { axis: usize },
    PerToken,
    PerGroup { axis: usize, size: usize },
}

impl Granularity {
    /// "tensor", "channel:A", "token", "group:G" (axis 1) or "group:G,A".
    pub fn describe(&self) -> String {
        match *self {
            Granularity::PerTensor => "tensor".into(),
            Granularity::PerChannel { axis } => format!("channel:{axis}"),
            Granularity::PerToken => "token".into(),
            Granularity::PerGroup { axis: 1, size } => format!("group:{size}"),
            Granularity::PerGroup { axis, size } => format!("group:{size},{axis}"),
        }
    }
}

/// The calibration and round-trip error of one group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupResult {
    /// The range used for this group's scale (see `calibrate`).
    pub alpha: f32,
    pub beta: f32,
    pub params: QParams,
    pub metrics: RoundTripMetrics,
}

/// The result of quantizing a tensor group by group.
#[derive(Debug, Clone, PartialEq)]
pub struct GranularResult {
    pub granularity: Granularity,
    /// Shape of the parameter grid (see the module docs); product = `groups.len()`.
    pub param_shape: Vec<usize>,
    pub groups: Vec<GroupResult>,
    /// Metrics over all values (sums of the groups' squared errors / total N).
    pub overall: RoundTripMetrics,
    /// The fake-quantized tensor (NaN/Inf passed through when skipped).
    pub dequantized: Array2<f32>,
}

struct Work<'a> {
    scheme: &'a Scheme,
    calibrator: &'a Calibrator,
    policy: NonFinitePolicy,
    strict: bool,
    out: Vec<f32>,
    groups: Vec<GroupResult>,
    total: ErrorAccumulator,
}

impl Work<'_> {
    /// Calibrates and fake-quantizes one group in `buf`, replacing it by its round trip.
    fn group(&mut self, buf: &mut [f32]) -> Result<()> {
        let (alpha, beta, params) =
            match calibrate_impl(buf, self.scheme, self.calibrator, self.policy, !self.strict) {
                Ok(cal) => (cal.alpha, cal.beta, cal.params),
                // NaN/Inf skipped and a channel/token/group with no finite value at all: pass it
                // through like every other NaN/Inf, with a zero-width range's parameters (as for
                // a constant group), instead of failing the whole tensor. Found by the
                // reliability tests: one all-NaN column made per-channel fail while per-tensor
                // and per-token worked. A tensor with no finite value is still an error
                // (checked in `quantize_granular`).
                Err(QuantError::AllNonFinite { .. })
                    if !self.strict && self.policy == NonFinitePolicy::Skip =>
                {
                    (0.0, 0.0, QParams::from_observed(0.0, 0.0, self.scheme)?)
                }
                Err(e) => return Err(e),
            };
        self.out.clear();
        self.out.resize(buf.len(), 0.0);
        let acc = fake_quantize_accumulate(buf, &params, self.scheme, &mut self.out)?;
        buf.copy_from_slice(&self.out);
        self.total.merge(&acc);
        self.groups.push(GroupResult {
            alpha,
            beta,
            params,
            metrics: acc.finish(),
        });
        Ok(())
    }
}

/// Calibrates (one calibration per group) and fake-quantizes a 2-D tensor.
pub fn quantize_granular(
    x: ArrayView2<'_, f32>,
    scheme: &Scheme,
    granularity: Granularity,
    calibrator: &Calibrator,
    policy: NonFinitePolicy,
) -> Result<GranularResult> {
    scheme.validate()?;
    calibrator.validate()?;
    if x.is_empty() {
        return Err(QuantError::Empty { what: "tensor" });
    }
    if policy == NonFinitePolicy::Reject {
        check_finite_2d(x)?;
    }
    let (rows, cols) = x.dim();
    let mut w = Work {
        scheme,
        calibrator,
        policy,
        strict: granularity == Granularity::PerTensor,
        out: Vec::new(),
        groups: Vec::new(),
        total: ErrorAccumulator::default(),
    };
    let mut y = x.to_owned();
    let param_shape = match granularity {
        Granularity::PerTensor => {
            let mut buf: Vec<f32> = y.iter().copied().collect();
            w.group(&mut buf)?;
            y = Array2::from_shape_vec((rows, cols), buf).map_err(|_| {
                QuantError::ShapeMismatch {
                    expected: format!("({rows}, {cols})"),
                    got: "a different number of values".into(),
                }
            })?;
            vec![1]
        }
        Granularity::PerChannel { axis } | Granularity::PerGroup { axis, .. } if axis > 1 => {
            return Err(QuantError::InvalidAxis { axis, ndim: 2 });
        }
        Granularity::PerChannel { axis } => per_lane(&mut w, &mut y, 1 - axis, None)?,
        Granularity::PerToken => per_lane(&mut w, &mut y, 1, None)?,
        Granularity::PerGroup { axis, size } => {
            let len = y.len_of(Axis(axis));
            if size == 0 || !len.is_multiple_of(size) {
                return Err(QuantError::GroupSizeMismatch {
                    len,
                    group: size,
                    axis,
                });
            }
            per_lane(&mut w, &mut y, axis, Some(size))?
        }
    };
    if w.total.n == 0 {
        // Only reachable with NaN/Inf skipped: the same error as per tensor.
        return Err(QuantError::AllNonFinite { count: x.len() });
    }
    let mut overall = w.total.finish();
    overall.skipped = w.total.skipped as usize;
    let (groups, param_shape) = match granularity {
        // Lanes along axis 0 visit columns first; reorder to the documented (R/G, C) grid.
        Granularity::PerGroup { axis: 0, size } => {
            let per_col = rows / size;
            let mut g = Vec::with_capacity(w.groups.len());
            for gi in 0..per_col {
                for c in 0..cols {
                    if let Some(v) = w.groups.get(c * per_col + gi) {
                        g.push(*v);
                    }
                }
            }
            (g, param_shape)
        }
        _ => (w.groups, param_shape),
    };
    Ok(GranularResult {
        granularity,
        param_shape,
        groups,
        overall,
        dequantized: y,
    })
}

// Visits the 1-D lanes of `y` along `lane_axis` (lane_axis 1 = rows, 0 = columns); each lane
// is one group, or is cut into chunks of `size`.
fn per_lane(
    w: &mut Work<'_>,
    y: &mut Array2<f32>,
    lane_axis: usize,
    size: Option<usize>,
) -> Result<Vec<usize>> {
    let lane_len = y.len_of(Axis(lane_axis));
    let n_lanes = y.len_of(Axis(1 - lane_axis));
    let mut buf: Vec<f32> = Vec::with_capacity(lane_len);
    for mut lane in y.lanes_mut(Axis(lane_axis)) {
        buf.clear();
        buf.extend(lane.iter().copied());
        match size {
            None => w.group(&mut buf)?,
            Some(g) => {
                for chunk in buf.chunks_mut(g) {
                    w.group(chunk)?;
                }
            }
        }
        for (d, s) in lane.iter_mut().zip(&buf) {
            *d = *s;
        }
    }
    Ok(match size {
        None => vec![n_lanes],
        Some(g) if lane_axis == 1 => vec![n_lanes, lane_len / g],
        Some(g) => vec![lane_len / g, n_lanes],
    })
}
