//! The network: a 2-layer MLP inputs → hidden (ReLU) → classes, trained with softmax
//! cross-entropy, optionally with fake quantization on its weights and activations.
//!
//! Convention (as elsewhere in the engine): Y = X·W + b with W stored inputs × outputs,
//! row-major. With a [`QuantizerSet`] the forward pass is
//!
//! x̃ = FQ_in(x), W̃1 = FQ_W1(W1), h = ReLU(x̃·W̃1 + b1), h̃ = FQ_hid(h), W̃2 = FQ_W2(W2),
//! logits = h̃·W̃2 + b2, L = mean over the batch of −log softmax(logits)_y,
//!
//! and the backward pass goes through each FQ with the STE/LSQ rules of
//! [`fake_quant`](super::fake_quant). The matrix loops are plain row-major "axpy" loops
//! (out_row += x_i · W_row_i) that LLVM vectorises for both x86-64 and wasm SIMD128; products with
//! an exact zero input (half the pixels, every inactive ReLU) are skipped, which changes no bit
//! of the result. Every sum runs in a fixed order, so results are bit-identical across runs and
//! between native and wasm32 (no fused multiply-add, no libm: see [`math`] for exp and ln).

use super::fake_quant::QuantizerSet;
use super::lanes;
use super::math;
use crate::error::{QuantError, Result};
use crate::synth::Pcg32;

/// Largest hidden layer the trainer accepts (keeps the browser responsive).
pub const MAX_HIDDEN: usize = 1024;

/// Weights and biases of the MLP.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    inputs: usize,
    hidden: usize,
    classes: usize,
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

/// Which weight matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// W1: inputs × hidden.
    Hidden,
    /// W2: hidden × classes.
    Output,
}

fn check_dims(inputs: usize, hidden: usize, classes: usize) -> Result<()> {
    if inputs == 0 || inputs > 4096 {
        return Err(QuantError::InvalidParameter {
            name: "inputs",
            value: inputs.to_string(),
            allowed: "between 1 and 4096",
        });
    }
    if hidden == 0 || hidden > MAX_HIDDEN {
        return Err(QuantError::InvalidParameter {
            name: "hidden size",
            value: hidden.to_string(),
            allowed: "between 1 and 1024 units",
        });
    }
    if !(2..=256).contains(&classes) {
        return Err(QuantError::InvalidParameter {
            name: "classes",
            value: classes.to_string(),
            allowed: "between 2 and 256",
        });
    }
    Ok(())
}

impl Mlp {
    /// PyTorch's default `nn.Linear` initialisation (Kaiming-uniform with a = √5), which for
    /// both W and b is U(−1/√fan_in, 1/√fan_in). Drawn from PCG32(`seed`) in the order W1
    /// (row-major), b1, W2, b2, as (2u − 1)·bound in f64 with u = `next_f64()`.
    pub fn new(inputs: usize, hidden: usize, classes: usize, seed: u64) -> Result<Self> {
        check_dims(inputs, hidden, classes)?;
        let mut rng = Pcg32::new(seed);
        let mut draw = |n: usize, fan_in: usize| -> Vec<f32> {
            let bound = 1.0 / (fan_in as f64).sqrt();
            (0..n)
                .map(|_| ((2.0 * rng.next_f64() - 1.0) * bound) as f32)
                .collect()
        };
        let w1 = draw(inputs * hidden, inputs);
        let b1 = draw(hidden, inputs);
        let w2 = draw(hidden * classes, hidden);
        let b2 = draw(classes, hidden);
        Ok(Mlp {
            inputs,
            hidden,
            classes,
            w1,
            b1,
            w2,
            b2,
        })
    }

    /// A network from given parameters (W1 inputs × hidden, W2 hidden × classes, row-major).
    pub fn from_parts(
        inputs: usize,
        hidden: usize,
        classes: usize,
        w1: Vec<f32>,
        b1: Vec<f32>,
        w2: Vec<f32>,
        b2: Vec<f32>,
    ) -> Result<Self> {
        check_dims(inputs, hidden, classes)?;
        for (what, v, n) in [
            ("W1", &w1, inputs * hidden),
            ("b1", &b1, hidden),
            ("W2", &w2, hidden * classes),
            ("b2", &b2, classes),
        ] {
            if v.len() != n {
                return Err(QuantError::LengthMismatch {
                    what,
                    expected: n,
                    got: v.len(),
                });
            }
            crate::quantize::check_finite(v)?;
        }
        Ok(Mlp {
            inputs,
            hidden,
            classes,
            w1,
            b1,
            w2,
            b2,
        })
    }

    pub fn inputs(&self) -> usize {
        self.inputs
    }
    pub fn hidden(&self) -> usize {
        self.hidden
    }
    pub fn classes(&self) -> usize {
        self.classes
    }
    /// W1, inputs × hidden, row-major.
    pub fn w1(&self) -> &[f32] {
        &self.w1
    }
    pub fn b1(&self) -> &[f32] {
        &self.b1
    }
    /// W2, hidden × classes, row-major.
    pub fn w2(&self) -> &[f32] {
        &self.w2
    }
    pub fn b2(&self) -> &[f32] {
        &self.b2
    }

    /// A weight matrix with its (rows, cols).
    pub fn weights(&self, layer: Layer) -> (&[f32], usize, usize) {
        match layer {
            Layer::Hidden => (&self.w1, self.inputs, self.hidden),
            Layer::Output => (&self.w2, self.hidden, self.classes),
        }
    }

    /// Number of trainable weights and biases.
    pub fn param_count(&self) -> usize {
        self.w1.len() + self.b1.len() + self.w2.len() + self.b2.len()
    }

    /// Mutable views in the fixed order W1, b1, W2, b2 (for the optimizer).
    pub(crate) fn tensors_mut(&mut self) -> [&mut Vec<f32>; 4] {
        [&mut self.w1, &mut self.b1, &mut self.w2, &mut self.b2]
    }

    /// Checks that a quantizer set fits this network (steps per channel match the columns).
    pub fn check_quantizers(&self, q: &QuantizerSet) -> Result<()> {
        let chk = |name: &'static str, len: usize, ok: &[usize]| -> Result<()> {
            if ok.contains(&len) {
                Ok(())
            } else {
                Err(QuantError::LengthMismatch {
                    what: name,
                    expected: ok.last().copied().unwrap_or(1),
                    got: len,
                })
            }
        };
        if let Some(qi) = &q.input {
            chk("input quantizer steps", qi.steps().len(), &[1])?;
        }
        chk("hidden quantizer steps", q.hidden.steps().len(), &[1])?;
        chk("W1 quantizer steps", q.w1.steps().len(), &[1, self.hidden])?;
        chk("W2 quantizer steps", q.w2.steps().len(), &[1, self.classes])?;
        Ok(())
    }

    /// The fake-quantized copy of a weight matrix (what the quantized network computes with).
    pub fn quantized_weights(&self, layer: Layer, q: &QuantizerSet) -> Result<Vec<f32>> {
        self.check_quantizers(q)?;
        let mut out = Vec::new();
        let (w, _, cols) = self.weights(layer);
        let quant = match layer {
            Layer::Hidden => &q.w1,
            Layer::Output => &q.w2,
        };
        quant.apply(w, cols, &mut out);
        Ok(out)
    }

    /// The float post-ReLU hidden activations of `n` samples (n × hidden).
    pub fn hidden_activations(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        if x.len() != n * self.inputs {
            return Err(QuantError::LengthMismatch {
                what: "features",
                expected: n * self.inputs,
                got: x.len(),
            });
        }
        let mut out = Vec::new();
        linear(x, &self.w1, &self.b1, self.inputs, self.hidden, n, &mut out);
        for v in out.iter_mut() {
            if *v < 0.0 {
                *v = 0.0;
            }
        }
        Ok(out)
    }

    /// Class probabilities for one sample (float, or fake-quantized with `quant`).
    pub fn predict_proba(&self, x: &[f32], quant: Option<&QuantizerSet>) -> Result<Vec<f32>> {
        if x.len() != self.inputs {
            return Err(QuantError::LengthMismatch {
                what: "the input sample",
                expected: self.inputs,
                got: x.len(),
            });
        }
        crate::quantize::check_finite(x)?;
        if let Some(q) = quant {
            self.check_quantizers(q)?;
        }
        let mut ws = Workspace::default();
        self.forward(quant, x, 1, &mut ws);
        let z = &ws.z2;
        let m = z.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let e: Vec<f64> = z.iter().map(|&v| math::exp(f64::from(v - m))).collect();
        let s: f64 = e.iter().sum();
        Ok(e.iter().map(|&v| (v / s) as f32).collect())
    }

    /// Forward pass of `n` samples into `ws.z2` (logits, n × classes). `quant` must have been
    /// checked with [`check_quantizers`](Self::check_quantizers).
    pub(crate) fn forward(
        &self,
        quant: Option<&QuantizerSet>,
        x: &[f32],
        n: usize,
        ws: &mut Workspace,
    ) {
        let (i, h, c) = (self.inputs, self.hidden, self.classes);
        let Workspace {
            xq,
            w1q,
            w2q,
            z1,
            hq,
            z2,
            ..
        } = ws;
        let x_used: &[f32] = match quant.and_then(|q| q.input.as_ref()) {
            Some(qi) => {
                qi.apply(x, i, xq);
                xq
            }
            None => x,
        };
        let (w1u, w2u): (&[f32], &[f32]) = match quant {
            Some(q) => {
                q.w1.apply(&self.w1, h, w1q);
                q.w2.apply(&self.w2, c, w2q);
                (w1q, w2q)
            }
            None => (&self.w1, &self.w2),
        };
        linear(x_used, w1u, &self.b1, i, h, n, z1);
        for v in z1.iter_mut() {
            // ReLU (written so that NaN stays NaN and the loss check sees it).
            if *v < 0.0 {
                *v = 0.0;
            }
        }
        let h_used: &[f32] = match quant {
            Some(q) => {
                q.hidden.apply(z1, h, hq);
                hq
            }
            None => z1,
        };
        linear(h_used, w2u, &self.b2, h, c, n, z2);
    }

    /// Loss and accuracy on a data set (float, or fake-quantized with `quant`), in chunks of 256.
    pub fn evaluate(&self, x: &[f32], y: &[u8], quant: Option<&QuantizerSet>) -> Result<Eval> {
        if let Some(q) = quant {
            self.check_quantizers(q)?;
        }
        let n = y.len();
        if n == 0 {
            return Err(QuantError::Empty { what: "data set" });
        }
        if x.len() != n * self.inputs {
            return Err(QuantError::LengthMismatch {
                what: "evaluation features",
                expected: n * self.inputs,
                got: x.len(),
            });
        }
        check_labels(y, self.classes)?;
        let mut ws = Workspace::default();
        let mut loss = 0.0f64;
        let mut correct = 0usize;
        const CHUNK: usize = 256;
        for (xc, yc) in x.chunks(CHUNK * self.inputs).zip(y.chunks(CHUNK)) {
            self.forward(quant, xc, yc.len(), &mut ws);
            let (l, k) = softmax_ce(&mut ws.z2, yc, self.classes, &mut ws.probs, false);
            loss += l;
            correct += k;
        }
        Ok(Eval {
            loss: (loss / n as f64) as f32,
            accuracy: correct as f32 / n as f32,
            correct,
            n,
        })
    }

    /// Forward and backward on one batch. Gradients (of the *mean* loss) are **added** to
    /// `g`; step-size gradients are the raw ∂L/∂s (no LSQ scale). Returns the summed loss
    /// and the number of correct predictions.
    pub(crate) fn forward_backward(
        &self,
        quant: Option<&QuantizerSet>,
        x: &[f32],
        y: &[u8],
        ws: &mut Workspace,
        g: &mut Grads,
    ) -> (f64, usize) {
        let (i, h, c) = (self.inputs, self.hidden, self.classes);
        let n = y.len();
        let Workspace {
            xq,
            x_pass,
            x_ds,
            w1q,
            w1_pass,
            w1_ds,
            w2q,
            w2_pass,
            w2_ds,
            z1,
            hq,
            h_pass,
            h_ds,
            z2,
            probs,
            dh,
            dx,
            dw1,
            dw2,
        } = ws;
        // ---- forward, keeping the STE masks and ∂x̂/∂s ----
        let qin = quant.and_then(|q| q.input.as_ref());
        let x_used: &[f32] = match qin {
            Some(qi) => {
                qi.forward_train(x, i, xq, x_pass, x_ds);
                xq
            }
            None => x,
        };
        let (w1u, w2u): (&[f32], &[f32]) = match quant {
            Some(q) => {
                q.w1.forward_train(&self.w1, h, w1q, w1_pass, w1_ds);
                q.w2.forward_train(&self.w2, c, w2q, w2_pass, w2_ds);
                (w1q, w2q)
            }
            None => (&self.w1, &self.w2),
        };
        linear(x_used, w1u, &self.b1, i, h, n, z1);
        for v in z1.iter_mut() {
            if *v < 0.0 {
                *v = 0.0;
            }
        }
        let h_used: &[f32] = match quant {
            Some(q) => {
                q.hidden.forward_train(z1, h, hq, h_pass, h_ds);
                hq
            }
            None => z1,
        };
        linear(h_used, w2u, &self.b2, h, c, n, z2);
        let (loss, correct) = softmax_ce(z2, y, c, probs, true);
        let dz2: &[f32] = z2; // now (p − onehot)/n

        // ---- backward ----
        // Layer 2: ∂L/∂W̃2 = h̃ᵀ·dz2, ∂L/∂b2 = Σ dz2, ∂L/∂h̃ = dz2·W̃2ᵀ.
        fit(dw2, h * c);
        dw2.fill(0.0);
        outer_acc(h_used, dz2, h, c, dw2);
        col_sums(dz2, c, &mut g.b2);
        back_input(dz2, w2u, h, c, dh);
        // Hidden quantizer, then ReLU: dz1 = (∂L/∂h)·[z1 > 0]. z1 holds ReLU(z), so z > 0 ⇔ z1 > 0.
        if let Some(q) = quant {
            q.hidden
                .backward_in_place(dh, h_pass, h_ds, h, &mut g.s_hidden);
        }
        for (d, &a) in dh.iter_mut().zip(z1.iter()) {
            if a <= 0.0 {
                *d = 0.0;
            }
        }
        let dz1: &[f32] = dh;
        // Layer 1.
        fit(dw1, i * h);
        dw1.fill(0.0);
        outer_acc(x_used, dz1, i, h, dw1);
        col_sums(dz1, h, &mut g.b1);
        if let Some(qi) = qin {
            // Only the input step size needs ∂L/∂x̃ (the pixels themselves are not trained).
            back_input(dz1, w1u, i, h, dx);
            qi.backward_in_place(dx, x_pass, x_ds, i, &mut g.s_input);
        }
        if let Some(q) = quant {
            q.w1.backward_in_place(dw1, w1_pass, w1_ds, h, &mut g.s_w1);
            q.w2.backward_in_place(dw2, w2_pass, w2_ds, c, &mut g.s_w2);
        }
        lanes::add_assign(&mut g.w1, dw1);
        lanes::add_assign(&mut g.w2, dw2);
        (loss, correct)
    }
}

/// Test-set loss (mean cross-entropy, nats) and accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eval {
    pub loss: f32,
    /// Fraction correct, 0..=1.
    pub accuracy: f32,
    pub correct: usize,
    pub n: usize,
}

/// Reusable buffers of the forward/backward pass (resized as needed, never shrunk).
#[derive(Debug, Default, Clone)]
pub(crate) struct Workspace {
    xq: Vec<f32>,
    x_pass: Vec<f32>,
    x_ds: Vec<f32>,
    w1q: Vec<f32>,
    w1_pass: Vec<f32>,
    w1_ds: Vec<f32>,
    w2q: Vec<f32>,
    w2_pass: Vec<f32>,
    w2_ds: Vec<f32>,
    z1: Vec<f32>,
    hq: Vec<f32>,
    h_pass: Vec<f32>,
    h_ds: Vec<f32>,
    z2: Vec<f32>,
    probs: Vec<f64>,
    dh: Vec<f32>,
    dx: Vec<f32>,
    dw1: Vec<f32>,
    dw2: Vec<f32>,
}

/// Gradients of the mean loss: weights and biases, then the raw ∂L/∂s of each quantizer.
#[derive(Debug, Clone, PartialEq)]
pub struct Grads {
    pub w1: Vec<f32>,
    pub b1: Vec<f32>,
    pub w2: Vec<f32>,
    pub b2: Vec<f32>,
    /// Raw ∂L/∂s of each quantizer (empty vector when the quantizer is absent).
    pub s_input: Vec<f32>,
    pub s_w1: Vec<f32>,
    pub s_hidden: Vec<f32>,
    pub s_w2: Vec<f32>,
}

impl Grads {
    pub(crate) fn zeros(m: &Mlp, q: Option<&QuantizerSet>) -> Self {
        let z = |n: usize| vec![0.0f32; n];
        let qs = |f: &dyn Fn(&QuantizerSet) -> usize| q.map(f).unwrap_or(0);
        Grads {
            w1: z(m.w1.len()),
            b1: z(m.b1.len()),
            w2: z(m.w2.len()),
            b2: z(m.b2.len()),
            s_input: z(qs(&|q| {
                q.input.as_ref().map(|x| x.steps().len()).unwrap_or(0)
            })),
            s_w1: z(qs(&|q| q.w1.steps().len())),
            s_hidden: z(qs(&|q| q.hidden.steps().len())),
            s_w2: z(qs(&|q| q.w2.steps().len())),
        }
    }

    pub(crate) fn clear(&mut self) {
        for v in [
            &mut self.w1,
            &mut self.b1,
            &mut self.w2,
            &mut self.b2,
            &mut self.s_input,
            &mut self.s_w1,
            &mut self.s_hidden,
            &mut self.s_w2,
        ] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }
}

/// The gradients of the mean loss over a batch (x row-major n × inputs, y labels), for the
/// float network or the fake-quantized one. Step-size gradients are raw ∂L/∂s (before LSQ's g).
/// For tests and the gradient-check chart; the trainer uses the same code path.
pub fn gradients(
    model: &Mlp,
    quant: Option<&QuantizerSet>,
    x: &[f32],
    y: &[u8],
) -> Result<(f32, Grads)> {
    if let Some(q) = quant {
        model.check_quantizers(q)?;
    }
    if y.is_empty() {
        return Err(QuantError::Empty { what: "batch" });
    }
    if x.len() != y.len() * model.inputs {
        return Err(QuantError::LengthMismatch {
            what: "batch features",
            expected: y.len() * model.inputs,
            got: x.len(),
        });
    }
    check_labels(y, model.classes)?;
    let mut ws = Workspace::default();
    let mut g = Grads::zeros(model, quant);
    let (loss, _) = model.forward_backward(quant, x, y, &mut ws, &mut g);
    Ok(((loss / y.len() as f64) as f32, g))
}

fn check_labels(y: &[u8], classes: usize) -> Result<()> {
    match y.iter().find(|&&l| usize::from(l) >= classes) {
        Some(&l) => Err(QuantError::InvalidParameter {
            name: "label",
            value: l.to_string(),
            allowed: "labels must be below the number of classes",
        }),
        None => Ok(()),
    }
}

/// Resizes without clearing (every caller overwrites all values).
fn fit(v: &mut Vec<f32>, n: usize) {
    if v.len() != n {
        v.resize(n, 0.0);
    }
}

/// Row r of a row-major buffer with `w` columns (None when out of range).
#[inline(always)]
fn row(v: &[f32], r: usize, w: usize) -> Option<&[f32]> {
    super::digits::row(v, r, w)
}

#[inline(always)]
fn row_mut(v: &mut [f32], r: usize, w: usize) -> Option<&mut [f32]> {
    let start = r.checked_mul(w)?;
    v.get_mut(start..start.checked_add(w)?)
}

// The loops below are index loops on purpose: at the app's opt-level "z" iterator adapters like
// `zip` are not inlined and cost a call per element.

/// out = x·W + b for n rows (x: n × i, W: i × o), skipping exact-zero inputs.
fn linear(x: &[f32], w: &[f32], b: &[f32], i: usize, o: usize, n: usize, out: &mut Vec<f32>) {
    fit(out, n * o);
    for r in 0..n {
        let (Some(orow), Some(xr)) = (row_mut(out, r, o), row(x, r, i)) else {
            break;
        };
        lanes::copy(orow, b);
        for (k, &xv) in xr.iter().enumerate() {
            if xv != 0.0 {
                if let Some(wr) = row(w, k, o) {
                    lanes::axpy(orow, xv, wr);
                }
            }
        }
    }
}

/// gw (i × o) += xᵀ·dz for x: n × i, dz: n × o.
fn outer_acc(x: &[f32], dz: &[f32], i: usize, o: usize, gw: &mut [f32]) {
    let n = dz.len() / o.max(1);
    for r in 0..n {
        let (Some(xr), Some(dr)) = (row(x, r, i), row(dz, r, o)) else {
            break;
        };
        for (k, &xv) in xr.iter().enumerate() {
            if xv != 0.0 {
                if let Some(gr) = row_mut(gw, k, o) {
                    lanes::axpy(gr, xv, dr);
                }
            }
        }
    }
}

/// gb (o) += column sums of dz (n × o).
fn col_sums(dz: &[f32], o: usize, gb: &mut [f32]) {
    let n = dz.len() / o.max(1);
    for r in 0..n {
        if let Some(dr) = row(dz, r, o) {
            lanes::add_assign(gb, dr);
        }
    }
}

/// dx (n × i) = dz·Wᵀ for dz: n × o, W: i × o.
fn back_input(dz: &[f32], w: &[f32], i: usize, o: usize, dx: &mut Vec<f32>) {
    let n = dz.len() / o.max(1);
    fit(dx, n * i);
    // W has exactly i rows of o (the layer's shape), so every dx entry gets its dot product.
    for (dr, xr) in dz
        .chunks_exact(o.max(1))
        .zip(dx.chunks_exact_mut(i.max(1)))
        .take(n)
    {
        for (xv, wr) in xr.iter_mut().zip(w.chunks_exact(o.max(1))) {
            *xv = lanes::dot(dr, wr);
        }
    }
}

/// Softmax cross-entropy of logits z (n × c) in f64 with the deterministic exp/ln. Returns the
/// summed loss and the number of correct argmax predictions (ties → lowest class). With `grad`,
/// overwrites z with ∂(mean loss)/∂z = (softmax − onehot)/n.
fn softmax_ce(z: &mut [f32], y: &[u8], c: usize, e: &mut Vec<f64>, grad: bool) -> (f64, usize) {
    let n = y.len().max(1) as f64;
    let mut loss = 0.0f64;
    let mut correct = 0usize;
    e.clear();
    e.resize(c, 0.0);
    for (zr, &label) in z.chunks_exact_mut(c.max(1)).zip(y) {
        let label = usize::from(label);
        let mut m = f32::NEG_INFINITY;
        let mut arg = 0usize;
        for (k, &v) in zr.iter().enumerate() {
            if v > m {
                m = v;
                arg = k;
            }
        }
        if arg == label {
            correct += 1;
        }
        let mut s = 0.0f64;
        for (ek, &v) in e.iter_mut().zip(zr.iter()) {
            *ek = math::exp(f64::from(v) - f64::from(m));
            s += *ek;
        }
        let zy = zr.get(label).copied().unwrap_or(f32::NAN);
        loss += math::ln(s) - (f64::from(zy) - f64::from(m));
        if grad {
            for (k, (zk, &ek)) in zr.iter_mut().zip(e.iter()).enumerate() {
                let t = if k == label { 1.0 } else { 0.0 };
                *zk = ((ek / s - t) / n) as f32;
            }
        }
    }
    (loss, correct)
}
