//! Fake quantization with learned step sizes (LSQ, Esser et al. 2020) and the
//! straight-through estimator.
//!
//! ## Forward
//! For a step size s > 0 and an integer grid [qmin, qmax] with zero-point 0:
//!
//! x̂ = s · clamp(round(x/s), qmin, qmax)
//!
//! computed exactly like the engine's [`fake_quantize`](crate::fake_quantize) (true f32
//! division x/s, round half to even, z = 0), so the values are bit-identical to it. The range the
//! grid covers is [α, β] = [s·qmin, s·qmax]. Two grids are used ([`QuantKind`]):
//! * **weights**: signed, symmetric, narrow: [−Q, Q] with Q = 2^(b−1) − 1 (the seminar's
//!   [−127, 127] at 8 bits; {−1, 0, 1}·s at 2 bits), α = −β, z = 0;
//! * **activations** (the [0, 1] pixels and the post-ReLU hidden units, both ≥ 0): unsigned,
//!   full: [0, 2^b − 1], α = 0, z = 0. The real 0 is the code 0, so ReLU's exact zeros stay
//!   exact, and learning β = s·(2^b − 1) moves only the scale: there is no zero-point to
//!   differentiate. (An affine range with α < 0 would need z = round(−α/s), which has no
//!   useful gradient; LSQ+ learns a separate offset for that case. Post-ReLU it is not needed.)
//!
//! ## Backward (what the chapter calls STE + learned α/β)
//! With v = x/s (unrounded) the LSQ paper's gradients (its eq. 3, clip-then-round form) are
//!
//! | where | ∂x̂/∂x | ∂x̂/∂s |
//! |---|---|---|
//! | qmin ≤ v ≤ qmax (inside [α, β]) | 1 (straight-through: round's zero/undefined derivative replaced by identity) | round(v) − v |
//! | v < qmin (clipped at α) | 0 | qmin |
//! | v > qmax (clipped at β) | 0 | qmax |
//!
//! So a clipped value sends **no** gradient to its input, and sends its gradient to the bound
//! it hit (β = s·qmax, or α = s·qmin): the "saturated values" pitfall is to pass their gradient
//! to the input as if nothing were clipped, or to drop it from the bound. These are the exact
//! derivatives of the *surrogate* x̃(x, s) = s·clamp(x/s, qmin, qmax) + s·r, where
//! r = round(c₀) − c₀ with c₀ = clamp(x₀/s₀, qmin, qmax) is the rounding residual at the current
//! point, held constant (PyTorch idiom `v + (round(v) − v).detach()`); the gradient checks in
//! `tests/qat.rs` differentiate exactly that surrogate by finite differences.
//!
//! Relation to PACT (Choi et al. 2018), the other learned-clip method: PACT's ∂x̂/∂β is the same
//! clipped-values term (1 for each value clipped at β, −1 at α = −β) but 0 inside, i.e. it
//! ignores the rounding error; LSQ's round(v) − v term lets the step also trade rounding error
//! against clipping error, which matters most at 2–3 bits. We implement LSQ only.
//!
//! The optimizer multiplies ∂L/∂s by LSQ's gradient scale g = 1/√(N·Q_p) (Q_p = qmax; N the
//! number of weights sharing the step — a column of W for per-channel, all of W for
//! per-tensor — or, for activations, the features per sample; our loss is a batch mean, so
//! counting the batch in N as well would scale by 1/√B twice). [`Quantizer::lsq_grad_scale`]
//! gives g; the backward pass returns the raw ∂L/∂s. With SGD (the LSQ paper's optimizer and
//! our QAT default) g is what keeps step sizes and weights on comparable update scales; with
//! Adam it hardly matters, since Adam normalises each parameter's gradient.

use crate::error::{QuantError, Result};
use crate::round::round_half_even;
use crate::scale::SCALE_EPS;
use crate::scheme::Scheme;

/// Which grid a quantizer uses (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantKind {
    /// Signed symmetric narrow [−(2^(b−1) − 1), 2^(b−1) − 1], zero-point 0.
    Weights,
    /// Unsigned full [0, 2^b − 1], zero-point 0 (for non-negative activations).
    Activations,
}

/// One step size for the whole weight matrix, or one per output channel (column of the
/// in × out matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightGranularity {
    PerTensor,
    #[default]
    PerChannel,
}

/// The bits and layout of the quantized network (shared by PTQ and QAT).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantSpec {
    /// Weight bits, 2..=8.
    pub bits_w: u8,
    /// Activation bits, 2..=8.
    pub bits_a: u8,
    pub weight_granularity: WeightGranularity,
    /// Also quantize the input pixels (the activations entering the first layer). The logits are
    /// never quantized and the biases stay in float (they would be int32 with scale s_w·s_a in
    /// an integer kernel, which adds no visible error).
    pub quantize_input: bool,
}

impl QuantSpec {
    /// W`bits`A`bits`, per-channel weights, quantized input.
    pub fn new(bits_w: u8, bits_a: u8) -> Self {
        QuantSpec {
            bits_w,
            bits_a,
            weight_granularity: WeightGranularity::PerChannel,
            quantize_input: true,
        }
    }

    pub fn validate(&self) -> Result<()> {
        for b in [self.bits_w, self.bits_a] {
            Scheme::new(b, true, true, true)?;
        }
        Ok(())
    }
}

impl Default for QuantSpec {
    fn default() -> Self {
        QuantSpec::new(4, 4)
    }
}

/// (qmin, qmax) of a grid.
pub fn grid(kind: QuantKind, bits: u8) -> Result<(i32, i32)> {
    let sch = scheme(kind, bits)?;
    Ok((sch.qmin(), sch.qmax()))
}

/// The engine [`Scheme`] equivalent to a grid: weights → signed symmetric narrow; activations →
/// unsigned asymmetric full (whose zero-point is 0 for any range starting at 0).
pub fn scheme(kind: QuantKind, bits: u8) -> Result<Scheme> {
    match kind {
        QuantKind::Weights => Scheme::new(bits, true, true, true),
        QuantKind::Activations => Scheme::new(bits, false, false, false),
    }
}

/// One fake-quantized value with what the backward pass needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SteValue {
    /// x̂ = s·clamp(round(x/s), qmin, qmax).
    pub value: f32,
    /// ∂x̂/∂x under the STE: 1 inside [α, β], 0 where clipped.
    pub pass: f32,
    /// ∂x̂/∂s (LSQ): round(v) − v inside, qmin or qmax where clipped.
    pub d_step: f32,
}

/// Fake-quantizes one value with step `s` on [qmin, qmax] (zero-point 0), with its STE/LSQ
/// derivatives (see the module docs). NaN x gives NaN value and derivatives.
#[inline(always)]
pub fn fake_quant_ste(x: f32, s: f32, qmin: f32, qmax: f32) -> SteValue {
    let v = x / s;
    if v < qmin {
        SteValue {
            value: qmin * s,
            pass: 0.0,
            d_step: qmin,
        }
    } else if v > qmax {
        SteValue {
            value: qmax * s,
            pass: 0.0,
            d_step: qmax,
        }
    } else {
        // "+ 0.0" is the engine's "+ z" with z = 0: it turns round's −0.0 into +0.0, so the
        // values match `fake_quantize` bit for bit (and a histogram sees one zero, not two).
        let q = round_half_even(v) + 0.0;
        SteValue {
            value: q * s,
            pass: 1.0,
            d_step: q - v,
        }
    }
}

/// A fake quantizer with learned step size(s).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantizer {
    name: &'static str,
    kind: QuantKind,
    bits: u8,
    qmin: f32,
    qmax: f32,
    /// One per channel (per-channel weights) or a single one.
    steps: Vec<f32>,
    /// Values sharing one step (N of LSQ's gradient scale).
    elems_per_step: usize,
}

/// The smallest step size the optimizer may reach (keeps s > 0).
pub const MIN_STEP: f32 = SCALE_EPS;

impl Quantizer {
    /// A quantizer with the given step sizes (one, or one per channel), each finite and > 0.
    /// `elems_per_step` is N in LSQ's g = 1/√(N·Q_p).
    pub fn new(
        name: &'static str,
        kind: QuantKind,
        bits: u8,
        steps: Vec<f32>,
        elems_per_step: usize,
    ) -> Result<Self> {
        let (qmin, qmax) = grid(kind, bits)?;
        if steps.is_empty() {
            return Err(QuantError::Empty {
                what: "list of step sizes",
            });
        }
        if let Some(&s) = steps.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(QuantError::InvalidScale { scale: s });
        }
        Ok(Quantizer {
            name,
            kind,
            bits,
            qmin: qmin as f32,
            qmax: qmax as f32,
            steps,
            elems_per_step: elems_per_step.max(1),
        })
    }

    /// "input", "hidden", "W1" or "W2" for the network's quantizers.
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn kind(&self) -> QuantKind {
        self.kind
    }

    pub fn bits(&self) -> u8 {
        self.bits
    }

    pub fn qmin(&self) -> i32 {
        self.qmin as i32
    }

    pub fn qmax(&self) -> i32 {
        self.qmax as i32
    }

    /// The step sizes s (one per channel, or one).
    pub fn steps(&self) -> &[f32] {
        &self.steps
    }

    pub fn is_per_channel(&self) -> bool {
        self.steps.len() > 1
    }

    /// The clipping ranges [α, β] = [s·qmin, s·qmax], one per step.
    pub fn ranges(&self) -> Vec<(f32, f32)> {
        self.steps
            .iter()
            .map(|&s| (self.qmin * s, self.qmax * s))
            .collect()
    }

    /// Mean β over the channels (β itself for a per-tensor quantizer).
    pub fn mean_beta(&self) -> f32 {
        let n = self.steps.len().max(1) as f64;
        (self.steps.iter().map(|&s| f64::from(s)).sum::<f64>() / n * f64::from(self.qmax)) as f32
    }

    /// The engine scheme of this grid.
    pub fn scheme(&self) -> Result<Scheme> {
        scheme(self.kind, self.bits)
    }

    /// LSQ's gradient scale g = 1/√(N·Q_p).
    pub fn lsq_grad_scale(&self) -> f32 {
        (1.0 / ((self.elems_per_step as f64) * f64::from(self.qmax.max(1.0))).sqrt()) as f32
    }

    pub(crate) fn steps_mut(&mut self) -> &mut [f32] {
        &mut self.steps
    }

    /// Keeps every step ≥ [`MIN_STEP`] (and finite) after an optimizer update.
    pub(crate) fn project(&mut self) {
        for s in &mut self.steps {
            if s.is_nan() || *s < MIN_STEP {
                *s = MIN_STEP;
            }
        }
    }

    /// Fake-quantizes a row-major buffer with `cols` columns (channel = column for per-channel
    /// steps) into `out`; values only. Buffers of other lengths are resized.
    pub fn apply(&self, x: &[f32], cols: usize, out: &mut Vec<f32>) {
        if out.len() != x.len() {
            out.resize(x.len(), 0.0);
        }
        let (qmin, qmax) = (self.qmin, self.qmax);
        match self.steps.as_slice() {
            [s] => {
                let s = *s;
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = fake_quant_ste(v, s, qmin, qmax).value;
                }
            }
            steps => {
                for (orow, xrow) in out.chunks_mut(cols.max(1)).zip(x.chunks(cols.max(1))) {
                    for ((o, &v), &s) in orow.iter_mut().zip(xrow).zip(steps) {
                        *o = fake_quant_ste(v, s, qmin, qmax).value;
                    }
                }
            }
        }
    }

    /// Like [`apply`](Self::apply) and also records ∂x̂/∂x (`pass`) and ∂x̂/∂s (`dstep`) per value.
    pub(crate) fn forward_train(
        &self,
        x: &[f32],
        cols: usize,
        out: &mut Vec<f32>,
        pass: &mut Vec<f32>,
        dstep: &mut Vec<f32>,
    ) {
        for b in [&mut *out, &mut *pass, &mut *dstep] {
            if b.len() != x.len() {
                b.resize(x.len(), 0.0);
            }
        }
        let (qmin, qmax) = (self.qmin, self.qmax);
        match self.steps.as_slice() {
            [s] => {
                let s = *s;
                for (((o, p), d), &v) in out
                    .iter_mut()
                    .zip(pass.iter_mut())
                    .zip(dstep.iter_mut())
                    .zip(x)
                {
                    let r = fake_quant_ste(v, s, qmin, qmax);
                    *o = r.value;
                    *p = r.pass;
                    *d = r.d_step;
                }
            }
            steps => {
                let c = cols.max(1);
                for (((orow, prow), drow), xrow) in out
                    .chunks_mut(c)
                    .zip(pass.chunks_mut(c))
                    .zip(dstep.chunks_mut(c))
                    .zip(x.chunks(c))
                {
                    for ((((o, p), d), &v), &s) in
                        orow.iter_mut().zip(prow).zip(drow).zip(xrow).zip(steps)
                    {
                        let r = fake_quant_ste(v, s, qmin, qmax);
                        *o = r.value;
                        *p = r.pass;
                        *d = r.d_step;
                    }
                }
            }
        }
    }

    /// Backward through the quantizer, in place: adds Σ g·∂x̂/∂s to `gsteps` (per channel or
    /// one) and turns `g` (= ∂L/∂x̂) into ∂L/∂x = g·pass.
    pub(crate) fn backward_in_place(
        &self,
        g: &mut [f32],
        pass: &[f32],
        dstep: &[f32],
        cols: usize,
        gsteps: &mut [f32],
    ) {
        if self.steps.len() > 1 {
            let c = cols.max(1);
            for ((grow, prow), drow) in g.chunks_mut(c).zip(pass.chunks(c)).zip(dstep.chunks(c)) {
                for (((gv, &p), &d), gs) in
                    grow.iter_mut().zip(prow).zip(drow).zip(gsteps.iter_mut())
                {
                    *gs += *gv * d;
                    *gv *= p;
                }
            }
        } else {
            let mut acc = 0.0f64;
            for ((gv, &p), &d) in g.iter_mut().zip(pass).zip(dstep) {
                acc += f64::from(*gv * d);
                *gv *= p;
            }
            if let Some(gs) = gsteps.first_mut() {
                *gs += acc as f32;
            }
        }
    }
}

/// All quantizers of the 2-layer network: input → W1 → ReLU → hidden → W2 → logits.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizerSet {
    /// The pixels entering layer 1 (None if the spec leaves the input in float).
    pub input: Option<Quantizer>,
    /// W1 (inputs × hidden; channels = hidden units).
    pub w1: Quantizer,
    /// The post-ReLU hidden activations entering layer 2.
    pub hidden: Quantizer,
    /// W2 (hidden × classes; channels = classes).
    pub w2: Quantizer,
}

impl QuantizerSet {
    /// The quantizers in data-flow order (input, W1, hidden, W2).
    pub fn all(&self) -> Vec<&Quantizer> {
        let mut v = Vec::with_capacity(4);
        if let Some(q) = &self.input {
            v.push(q);
        }
        v.extend([&self.w1, &self.hidden, &self.w2]);
        v
    }

    pub(crate) fn all_mut(&mut self) -> Vec<&mut Quantizer> {
        let mut v = Vec::with_capacity(4);
        if let Some(q) = &mut self.input {
            v.push(q);
        }
        v.extend([&mut self.w1, &mut self.hidden, &mut self.w2]);
        v
    }
}

/// One sample of the chart "round() is a step function with zero gradient; the STE uses the
/// identity instead".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StePoint {
    pub x: f32,
    /// The forward value (round(x), or the fake-quantized x̂).
    pub forward: f32,
    /// The function the backward pass pretends was applied (x, or clamp(x, α, β)).
    pub surrogate: f32,
    /// The true derivative of `forward` (0 almost everywhere).
    pub true_grad: f32,
    /// The derivative the STE uses (1, or 1 inside [α, β] and 0 outside).
    pub ste_grad: f32,
}

fn check_curve_args(x_min: f32, x_max: f32, n: usize) -> Result<()> {
    crate::scale::check_range(x_min, x_max)?;
    if !(2..=100_000).contains(&n) {
        return Err(QuantError::InvalidParameter {
            name: "number of samples",
            value: n.to_string(),
            allowed: "between 2 and 100000",
        });
    }
    Ok(())
}

fn linspace(x_min: f32, x_max: f32, n: usize) -> impl Iterator<Item = f32> {
    let (a, b) = (f64::from(x_min), f64::from(x_max));
    let d = (b - a) / (n - 1) as f64;
    (0..n).map(move |i| (a + d * i as f64) as f32)
}

/// n evenly spaced samples of round(x) (half to even) and its STE surrogate x on [x_min, x_max].
pub fn round_ste_curve(x_min: f32, x_max: f32, n: usize) -> Result<Vec<StePoint>> {
    check_curve_args(x_min, x_max, n)?;
    Ok(linspace(x_min, x_max, n)
        .map(|x| StePoint {
            x,
            forward: round_half_even(x),
            surrogate: x,
            true_grad: 0.0,
            ste_grad: 1.0,
        })
        .collect())
}

/// n samples of the fake quantizer x̂ = s·clamp(round(x/s), qmin, qmax) of a grid, and of its STE
/// surrogate clamp(x, α, β) with the STE derivative (1 inside [α, β], 0 outside).
pub fn fake_quant_ste_curve(
    kind: QuantKind,
    bits: u8,
    step: f32,
    x_min: f32,
    x_max: f32,
    n: usize,
) -> Result<Vec<StePoint>> {
    check_curve_args(x_min, x_max, n)?;
    let q = Quantizer::new("curve", kind, bits, vec![step], 1)?;
    let (qmin, qmax) = (q.qmin, q.qmax);
    let (alpha, beta) = (qmin * step, qmax * step);
    Ok(linspace(x_min, x_max, n)
        .map(|x| {
            let r = fake_quant_ste(x, step, qmin, qmax);
            StePoint {
                x,
                forward: r.value,
                surrogate: x.max(alpha).min(beta),
                true_grad: 0.0,
                ste_grad: r.pass,
            }
        })
        .collect())
}
