//! Quantize, dequantize and fake-quantize, following the seminar's formulas:
//!
//! * quantize:   q = f_q(x, s, z) = Clip(round(x/s) + z) to [qmin, qmax]
//! * dequantize: x̂ = s·(q − z)
//! * fake-quantize: x̂ = s·(Clip(round(x/s) + z) − z), the round trip used in
//!   quantization-aware training (`torch.fake_quantize_per_tensor_affine`).
//!
//! x/s is a true f32 division, as written in the seminar. (PyTorch's kernels multiply by a
//! precomputed 1/s, which can land on the other side of a rounding tie for some x; we keep the
//! division so the numbers match the formula the student reads.) Rounding follows
//! `Scheme::rounding` (half-to-even by default, like `torch.round`). The clamp and the
//! dequantization are done in f32 on integer-valued floats, which is exact for |q| < 2^24.
//!
//! The slice functions are single fused passes with no allocation inside the loop, so the UI
//! can call them on 65,536 values every frame.

use super::error::{QuantError, Result};
use super::metrics::{ErrorAccumulator, RoundTripMetrics};
use super::round::round_half_even;
use super::scale::QParams;
use super::scheme::{Rounding, Scheme};

/// What to do with NaN and ±Inf inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NonFinitePolicy {
    /// Fail with `QuantError::NonFinite` (count and first position).
    #[default]
    Reject,
    /// Leave them out of calibration and metrics; fake-quantize passes them through unchanged.
    Skip,
}

/// Counts NaN/Inf values; `Err(NonFinite)` with the count and first index if there are any.
pub fn check_finite(x: &[f32]) -> Result<()> {
    let mut count = 0usize;
    let mut first = None;
    for (i, v) in x.iter().enumerate() {
        if !v.is_finite() {
            count += 1;
            first.get_or_insert(i);
        }
    }
    match first {
        None => Ok(()),
        Some(first_index) => Err(QuantError::NonFinite {
            count,
            first_index,
            first_row_col: None,
        }),
    }
}

/// The quantizer for one (s, z) with its grid limits as floats; built once per call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kernel {
    s: f32,
    z: f32,
    qmin: f32,
    qmax: f32,
}

impl Kernel {
    pub(crate) fn new(p: &QParams, scheme: &Scheme) -> Result<Self> {
        p.validate(scheme)?;
        Ok(Kernel {
            s: p.scale,
            z: p.zero_point as f32,
            qmin: scheme.qmin() as f32,
            qmax: scheme.qmax() as f32,
        })
    }

    /// (clamped code as f32, clipped?) with a compile-time rounding rule. Written with plain
    /// comparisons so it compiles to selects (no branches, no NaN-aware min/max): v is never
    /// NaN for finite x, because s is finite and > 0.
    #[inline(always)]
    fn code<const EVEN: bool>(&self, x: f32) -> (f32, bool) {
        let t = x / self.s;
        let r = if EVEN { round_half_even(t) } else { t.round() };
        let v = r + self.z;
        let below = v < self.qmin;
        let above = v > self.qmax;
        let q = if below {
            self.qmin
        } else if above {
            self.qmax
        } else {
            v
        };
        (q, below | above)
    }

    #[inline(always)]
    fn dequant(&self, q: f32) -> f32 {
        (q - self.z) * self.s
    }
}

// Output sinks let one loop serve both "write x̂" and "metrics only" without index checks.
trait Sink {
    fn put(&mut self, v: f32);
}
struct NoSink;
impl Sink for NoSink {
    #[inline(always)]
    fn put(&mut self, _: f32) {}
}
struct SliceSink<'a>(std::slice::IterMut<'a, f32>);
impl Sink for SliceSink<'_> {
    #[inline(always)]
    fn put(&mut self, v: f32) {
        if let Some(o) = self.0.next() {
            *o = v;
        }
    }
}

fn fused<const EVEN: bool, S: Sink>(
    x: &[f32],
    k: &Kernel,
    sink: &mut S,
) -> (ErrorAccumulator, usize, Option<usize>) {
    let mut acc = ErrorAccumulator::default();
    let mut bad = 0usize;
    let mut first_bad = None;
    for (i, &v) in x.iter().enumerate() {
        if !v.is_finite() {
            bad += 1;
            first_bad.get_or_insert(i);
            sink.put(v);
            continue;
        }
        let (q, clipped) = k.code::<EVEN>(v);
        let y = k.dequant(q);
        sink.put(y);
        acc.add(v, y, clipped);
    }
    (acc, bad, first_bad)
}

fn run<S: Sink>(
    x: &[f32],
    p: &QParams,
    scheme: &Scheme,
    policy: NonFinitePolicy,
    sink: &mut S,
) -> Result<RoundTripMetrics> {
    let k = Kernel::new(p, scheme)?;
    if x.is_empty() {
        return Err(QuantError::Empty { what: "tensor" });
    }
    let (mut acc, bad, first_bad) = match scheme.rounding {
        Rounding::HalfEven => fused::<true, S>(x, &k, sink),
        Rounding::HalfAway => fused::<false, S>(x, &k, sink),
    };
    if let Some(first_index) = first_bad {
        if policy == NonFinitePolicy::Reject {
            return Err(QuantError::NonFinite {
                count: bad,
                first_index,
                first_row_col: None,
            });
        }
    }
    if acc.n == 0 {
        return Err(QuantError::AllNonFinite { count: bad });
    }
    acc.skipped = bad as u64;
    Ok(acc.finish())
}

/// Fake-quantizes `x` into `out` (same length) and returns the round-trip metrics, in one pass.
/// With `Skip`, NaN/Inf are copied to `out` unchanged and left out of the metrics. On error the
/// contents of `out` are unspecified.
pub fn fake_quantize_into(
    x: &[f32],
    p: &QParams,
    scheme: &Scheme,
    policy: NonFinitePolicy,
    out: &mut [f32],
) -> Result<RoundTripMetrics> {
    if out.len() != x.len() {
        return Err(QuantError::LengthMismatch {
            what: "the output buffer of fake-quantize",
            expected: x.len(),
            got: out.len(),
        });
    }
    run(x, p, scheme, policy, &mut SliceSink(out.iter_mut()))
}

/// Allocating version of [`fake_quantize_into`].
pub fn fake_quantize(
    x: &[f32],
    p: &QParams,
    scheme: &Scheme,
    policy: NonFinitePolicy,
) -> Result<(Vec<f32>, RoundTripMetrics)> {
    let mut out = vec![0.0f32; x.len()];
    let m = fake_quantize_into(x, p, scheme, policy, &mut out)?;
    Ok((out, m))
}

/// The metrics of the round trip without writing the round-tripped values.
pub fn round_trip_metrics(
    x: &[f32],
    p: &QParams,
    scheme: &Scheme,
    policy: NonFinitePolicy,
) -> Result<RoundTripMetrics> {
    run(x, p, scheme, policy, &mut NoSink)
}

/// Fake-quantizes into `out`, passing NaN/Inf through; returns the raw sums (for merging
/// groups). Empty input gives an empty accumulator.
pub(crate) fn fake_quantize_accumulate(
    x: &[f32],
    p: &QParams,
    scheme: &Scheme,
    out: &mut [f32],
) -> Result<ErrorAccumulator> {
    let k = Kernel::new(p, scheme)?;
    if out.len() != x.len() {
        return Err(QuantError::LengthMismatch {
            what: "the output buffer of fake-quantize",
            expected: x.len(),
            got: out.len(),
        });
    }
    let mut sink = SliceSink(out.iter_mut());
    let (mut acc, bad, _) = match scheme.rounding {
        Rounding::HalfEven => fused::<true, _>(x, &k, &mut sink),
        Rounding::HalfAway => fused::<false, _>(x, &k, &mut sink),
    };
    acc.skipped = bad as u64;
    Ok(acc)
}

/// Integer codes q = Clip(round(x/s) + z) into `out`; returns the number of clipped values.
/// NaN/Inf are rejected (an integer code for them would be meaningless).
pub fn quantize_into(x: &[f32], p: &QParams, scheme: &Scheme, out: &mut [i32]) -> Result<usize> {
    let k = Kernel::new(p, scheme)?;
    if x.is_empty() {
        return Err(QuantError::Empty { what: "tensor" });
    }
    if out.len() != x.len() {
        return Err(QuantError::LengthMismatch {
            what: "the output buffer of quantize",
            expected: x.len(),
            got: out.len(),
        });
    }
    check_finite(x)?;
    let even = scheme.rounding == Rounding::HalfEven;
    let mut clipped = 0usize;
    for (o, &v) in out.iter_mut().zip(x) {
        let (q, c) = if even {
            k.code::<true>(v)
        } else {
            k.code::<false>(v)
        };
        *o = q as i32;
        clipped += usize::from(c);
    }
    Ok(clipped)
}

/// Allocating version of [`quantize_into`].
pub fn quantize(x: &[f32], p: &QParams, scheme: &Scheme) -> Result<Vec<i32>> {
    let mut out = vec![0i32; x.len()];
    quantize_into(x, p, scheme, &mut out)?;
    Ok(out)
}

/// x̂ = s·(q − z) into `out`. Codes outside [qmin, qmax] are an error (they cannot come from
/// `quantize`).
pub fn dequantize_into(q: &[i32], p: &QParams, scheme: &Scheme, out: &mut [f32]) -> Result<()> {
    let k = Kernel::new(p, scheme)?;
    if out.len() != q.len() {
        return Err(QuantError::LengthMismatch {
            what: "the output buffer of dequantize",
            expected: q.len(),
            got: out.len(),
        });
    }
    let (qmin, qmax) = (scheme.qmin(), scheme.qmax());
    for (index, (o, &c)) in out.iter_mut().zip(q).enumerate() {
        if c < qmin || c > qmax {
            return Err(QuantError::CodeOutOfRange {
                code: c,
                index,
                qmin,
                qmax,
            });
        }
        *o = k.dequant(c as f32);
    }
    Ok(())
}

/// Allocating version of [`dequantize_into`].
pub fn dequantize(q: &[i32], p: &QParams, scheme: &Scheme) -> Result<Vec<f32>> {
    let mut out = vec![0.0f32; q.len()];
    dequantize_into(q, p, scheme, &mut out)?;
    Ok(out)
}

/// Every step of one value's trip through the quantizer, for the UI's inspector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Journey {
    /// The input x.
    pub x: f32,
    /// x / s.
    pub x_over_s: f32,
    /// round(x / s) with the scheme's rounding rule.
    pub rounded: f32,
    /// round(x / s) + z, before clipping.
    pub shifted: f32,
    /// Whether `shifted` was outside [qmin, qmax].
    pub clipped: bool,
    /// The integer code after Clip.
    pub q: i32,
    /// s·(q − z).
    pub dequantized: f32,
    /// dequantized − x.
    pub error: f32,
}

/// The step-by-step trip of one finite value x (see [`Journey`]).
pub fn journey(x: f32, p: &QParams, scheme: &Scheme) -> Result<Journey> {
    let k = Kernel::new(p, scheme)?;
    if !x.is_finite() {
        return Err(QuantError::NonFinite {
            count: 1,
            first_index: 0,
            first_row_col: None,
        });
    }
    let x_over_s = x / p.scale;
    let rounded = scheme.rounding.apply(x_over_s);
    let shifted = rounded + p.zero_point as f32;
    let (q, clipped) = match scheme.rounding {
        Rounding::HalfEven => k.code::<true>(x),
        Rounding::HalfAway => k.code::<false>(x),
    };
    let dequantized = k.dequant(q);
    Ok(Journey {
        x,
        x_over_s,
        rounded,
        shifted,
        clipped,
        q: q as i32,
        dequantized,
        error: dequantized - x,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seminar_journey() {
        let sch = Scheme::seminar_int8();
        let p = QParams::from_range_seminar(-1.577, 192.344, &sch).unwrap();
        let j = journey(100.0, &p, &sch).unwrap();
        assert_eq!(j.rounded, 131.0);
        assert_eq!(j.shifted, 6.0);
        assert!(!j.clipped);
        assert_eq!(j.q, 6);
        let j = journey(1000.0, &p, &sch).unwrap();
        assert!(j.clipped);
        assert_eq!(j.q, 127);
    }

    #[test]
    fn split_is_exact() {
        let sch = Scheme::new(4, true, true, false).unwrap();
        let p = QParams::new(0.1, 0, &sch).unwrap();
        let x: Vec<f32> = (0..200).map(|i| (i as f32 - 100.0) * 0.013).collect();
        let (_, m) = fake_quantize(&x, &p, &sch, NonFinitePolicy::Reject).unwrap();
        assert!(m.clipped > 0);
        assert_eq!(m.rounding_mse + m.clipping_mse, m.mse);
    }

    #[test]
    fn nonfinite() {
        let sch = Scheme::seminar_int8();
        let p = QParams::new(0.1, 0, &sch).unwrap();
        let x = [1.0, f32::NAN, 2.0, f32::INFINITY];
        let e = fake_quantize(&x, &p, &sch, NonFinitePolicy::Reject).unwrap_err();
        assert_eq!(
            e,
            QuantError::NonFinite {
                count: 2,
                first_index: 1,
                first_row_col: None
            }
        );
        let (y, m) = fake_quantize(&x, &p, &sch, NonFinitePolicy::Skip).unwrap();
        assert_eq!((m.n, m.skipped), (2, 2));
        assert!(y[1].is_nan() && y[3].is_infinite());
        let e = fake_quantize(&[f32::NAN], &p, &sch, NonFinitePolicy::Skip).unwrap_err();
        assert_eq!(e, QuantError::AllNonFinite { count: 1 });
        assert!(matches!(
            quantize(&x, &p, &sch),
            Err(QuantError::NonFinite { .. })
        ));
    }
}
