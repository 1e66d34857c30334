//! The whole model with every linear on the int8 kernels: weights quantized once, activations
//! quantized on each call, the product an int8 × int8 → i32 GEMM ([`QLinear`]), then
//! dequantized. Attention products, softmax, LayerNorm and GELU stay in f32 (as in the
//! SmoothQuant authors' `fake_quant.py`, which quantizes only the linears).
//!
//! Semantics of W·A (those of `fake_quant.py`, shared with the layer chapters): weights per
//! output channel (or per group of input channels), activations per token or per tensor (one
//! sentence is one tensor), s = max(absmax, 1e-5)/q_max, round half to even, clamp to ±q_max.
//!
//! Transforms, applied to a linear's input in this order and folded into its weights offline:
//! * **drop outliers**: the k channels with the largest max |x| of *this* input are set to 0
//!   (an ablation: what the model loses without them), weights unchanged;
//! * **SmoothQuant** (the authors' `smooth.py`): s_c = max(max|X_c|^α / max|W_c|^(1−α), 1e-5) from
//!   calibration activations of the float model, X ← X/s, W ← diag(s)·W, on the Q|K|V and fc1
//!   inputs only. The authors fold 1/s into the LayerNorm before those two linears; the output
//!   projection and fc2 read softmax·V and GELU(fc1), which have no LayerNorm to fold into, so
//!   they stay unsmoothed here as there. In this post-LN BERT the LayerNorm's output also feeds
//!   the residual, so folding would scale the residual too: the division is done on the
//!   linear's input instead (the same numbers reach the linear, one multiply per value);
//! * **Hadamard**: X ← X·R online, W ← Rᵀ·W offline, R = QuaRot's kron(H12ᵀ, S_m)/√C
//!   ([`Hadamard::full`]) on each of the four inputs (384 and 1536 channels).

use quantlab_kernels::{ActGranularity, ActScales, QLinear, QuantizedActs, SCALE_FLOOR};

use super::bert::{Bert, Dense, WordEmbeddings};
use super::family::{Family, Float, FloatLinear, LinearId, LinearKind, Linears, Shapes, MINILM};
use crate::calibrate::{calibrate, Calibrator};
use crate::error::{QuantError, Result};
use crate::format::{quantize_format, Format};
use crate::granularity::Granularity;
use crate::quantize::NonFinitePolicy;
use crate::rotate::hadamard::Hadamard;
use crate::scheme::Scheme;

/// How activation scales are found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ActMode {
    /// From each input on every call (one scale per token, or one per sentence).
    Dynamic(ActGranularity),
    /// One scale per linear, fixed beforehand by the engine's calibrator on every value that
    /// linear read (after its transforms) over the calibration sentences, in the float model;
    /// symmetric narrow grid, so s = max(|α|, |β|)/q_max. Values beyond the range are clipped.
    Static(Calibrator),
    /// ONNX `DynamicQuantizeLinear`: uint8 with a scale and zero point per tensor, from each
    /// input (what onnxruntime's `quantize_dynamic` inserts before every MatMulInteger).
    DynamicUint8,
    /// Weights only: the activations stay in float and meet the dequantized weights in an f32
    /// GEMM (what a weight-only format such as W4A16 computes).
    Float,
}

impl ActMode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Dynamic(ActGranularity::PerToken) => "per-token",
            Self::Dynamic(ActGranularity::PerTensor) => "per-tensor",
            Self::Static(_) => "static per-tensor",
            Self::DynamicUint8 => "per-tensor asymmetric uint8",
            Self::Float => "float activations",
        }
    }
}

/// Weight scales: one per output channel, or one per output channel and group of `g` inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightScales {
    PerChannel,
    Group(usize),
    /// One scale per torch linear (Q, K and V each have their own), onnxruntime's symmetric
    /// int8: s = 2·max|W|/(2·q_max) in f64, then f32; q = clamp(round(w/s), ±q_max).
    PerTensor,
    /// A float number format (`crate::format`), applied to each output channel's row of
    /// weights: MX/NVFP4 blocks run along the input dimension, scaled FP8/FP4 has one scale per
    /// output channel, NVFP4's tensor scale covers the whole linear (Q|K|V fused, as the
    /// engine runs it). Simulated: the weights are rounded to the format and kept in f32, and
    /// the linear is an f32 GEMM (after fake-quantized activations unless they stay float).
    /// `w_bits` does not apply.
    Format(Format),
}

/// Every setting of the quantized model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelQuant {
    pub w_bits: u8,
    pub a_bits: u8,
    pub weights: WeightScales,
    pub act: ActMode,
    /// SmoothQuant's migration strength α in [0, 1]; `None`: off.
    pub smooth_alpha: Option<f32>,
    pub hadamard: bool,
    /// Channels of every linear's input set to 0 (0: none).
    pub drop_outliers: usize,
    /// Word and position embeddings as uint8 per tensor (onnxruntime's quantized Gather).
    pub quantize_embeddings: bool,
}

impl ModelQuant {
    /// Whether `other` quantizes the weights exactly as this does: it differs at most in the
    /// activation settings (their bits, dynamic or static scales, the outlier ablation).
    pub fn same_weights(&self, other: &ModelQuant) -> bool {
        ModelQuant {
            a_bits: self.a_bits,
            act: self.act,
            drop_outliers: self.drop_outliers,
            ..other.clone()
        } == *self
    }

    /// W{w}A{a}, per-channel weights, per-token dynamic activations, no transform.
    pub fn new(w_bits: u8, a_bits: u8) -> Self {
        ModelQuant {
            w_bits,
            a_bits,
            weights: WeightScales::PerChannel,
            act: ActMode::Dynamic(ActGranularity::PerToken),
            smooth_alpha: None,
            hadamard: false,
            drop_outliers: 0,
            quantize_embeddings: false,
        }
    }

    /// The recipe of the web's default int8 model: onnxruntime's
    /// `quantize_dynamic(weight_type=QInt8)`, as transformers.js ships `model_quantized.onnx`
    /// (per-tensor symmetric int8 weights, per-tensor asymmetric uint8 activations from each
    /// input, uint8 word and position embeddings).
    pub fn onnx_quantize_dynamic() -> Self {
        ModelQuant {
            weights: WeightScales::PerTensor,
            act: ActMode::DynamicUint8,
            quantize_embeddings: true,
            ..ModelQuant::new(8, 8)
        }
    }

    pub fn is_onnx_quantize_dynamic(&self) -> bool {
        *self == Self::onnx_quantize_dynamic()
    }

    /// "W8A8 per-token + SmoothQuant α=0.5 + Hadamard".
    pub fn label(&self) -> String {
        if self.is_onnx_quantize_dynamic() {
            return "onnxruntime quantize_dynamic int8 (transformers.js)".to_string();
        }
        let mut s = match (self.weights, self.act) {
            (WeightScales::Format(f), ActMode::Float) => {
                format!(
                    "{} weights only (float activations)",
                    f.slug().to_uppercase()
                )
            }
            (WeightScales::Format(f), act) => {
                format!(
                    "{} weights, A{} {}",
                    f.slug().to_uppercase(),
                    self.a_bits,
                    act.name()
                )
            }
            (_, ActMode::Float) => format!("W{} weights only (float activations)", self.w_bits),
            (_, act) => format!("W{}A{} {}", self.w_bits, self.a_bits, act.name()),
        };
        match self.weights {
            WeightScales::Group(g) => s += &format!(", weight groups of {g}"),
            WeightScales::PerTensor => s += ", per-tensor weights",
            WeightScales::PerChannel | WeightScales::Format(_) => {}
        }
        if self.quantize_embeddings {
            s += ", uint8 embeddings";
        }
        if let Some(a) = self.smooth_alpha {
            s += &format!(" + SmoothQuant α={a}");
        }
        if self.hadamard {
            s += " + Hadamard";
        }
        if self.drop_outliers > 0 {
            s += &format!(" − top {} outlier channels", self.drop_outliers);
        }
        s
    }

    /// Whether building this model needs calibration sentences (SmoothQuant, static scales).
    pub fn needs_calibration(&self) -> bool {
        self.smooth_alpha.is_some() || matches!(self.act, ActMode::Static(_))
    }

    fn validate(&self, shapes: &Shapes) -> Result<()> {
        for bits in [self.w_bits, self.a_bits] {
            quantlab_kernels::q_max(bits)?;
        }
        if let Some(a) = self.smooth_alpha {
            if !(0.0..=1.0).contains(&a) {
                return Err(QuantError::InvalidParameter {
                    name: "SmoothQuant α",
                    value: a.to_string(),
                    allowed: "0 to 1",
                });
            }
        }
        if self.drop_outliers >= shapes.min_k() {
            return Err(QuantError::InvalidParameter {
                name: "outlier channels to drop",
                value: self.drop_outliers.to_string(),
                allowed: "fewer than the narrowest linear's input channels (MiniLM: 0 to 383)",
            });
        }
        if let WeightScales::Group(g) = self.weights {
            if self.act == ActMode::DynamicUint8 {
                return Err(QuantError::InvalidParameter {
                    name: "weight groups",
                    value: g.to_string(),
                    allowed: "per-channel or per-tensor weights with uint8 activations",
                });
            }
            // A divisor of every input width, or whole blocks of 32 with a shorter last group
            // (SmolLM2's 576 inputs in groups of 128: 4 × 128 + 64), as MX blocks do.
            let divides = shapes.dims.iter().all(|&(k, _)| k.is_multiple_of(g.max(1)));
            if g == 0 || g > shapes.min_k() || !(divides || g.is_multiple_of(32)) {
                return Err(QuantError::InvalidParameter {
                    name: "weight group size",
                    value: g.to_string(),
                    allowed: "a divisor of every linear's input width (MiniLM: of 384 and 1536), \
                              or a multiple of 32 (the last group then takes what is left)",
                });
            }
        }
        if let WeightScales::Format(f) = self.weights {
            if f == Format::Int || self.act == ActMode::DynamicUint8 {
                return Err(QuantError::InvalidParameter {
                    name: "weight format",
                    value: f.slug().into(),
                    allowed: "a float format (fp16, bf16, e4m3, e5m2, e2m1, mxfp8, mxfp4, nvfp4), \
                              with int8 or float activations",
                });
            }
        }
        if self.act == ActMode::DynamicUint8 && self.a_bits != 8 {
            return Err(QuantError::InvalidParameter {
                name: "activation bits with uint8 activations",
                value: self.a_bits.to_string(),
                allowed: "8",
            });
        }
        Ok(())
    }
}

/// One linear, ready to run: its int8 weights (one part per group) and its input transforms.
#[derive(Clone, Debug)]
struct Slot {
    /// Per-channel: one part with all K inputs; per group: one part per group of inputs.
    /// Shared: a copy with other activation settings (`with_activations`) re-uses the int8
    /// weights (110 MB for SmolLM2) instead of cloning them.
    parts: std::sync::Arc<[QLinear]>,
    smooth: Option<Vec<f32>>,
    rotation: Option<Hadamard>,
    static_scale: Option<f32>,
    /// The dequantized weights as an f32 layer, for [`ActMode::Float`].
    float: Option<Dense>,
}

/// The parts' int8 weights dequantized (code · scale) into one f32 layer, rows in order.
fn dequantized(parts: &[QLinear]) -> Result<Dense> {
    let (k, n) = (
        parts.iter().map(QLinear::k).sum::<usize>(),
        parts.first().map_or(0, QLinear::n),
    );
    let mut w = Vec::with_capacity(k * n);
    for p in parts {
        let scales = p.weight_scales();
        for row in p.weight_codes().chunks_exact(n.max(1)) {
            w.extend(row.iter().zip(scales).map(|(&q, &s)| f32::from(q) * s));
        }
    }
    let bias = parts
        .first()
        .and_then(QLinear::bias)
        .map_or_else(|| vec![0f32; n], <[f32]>::to_vec);
    Dense::new(&w, k, n, bias)
}

/// What the float model's linears read on the calibration sentences: every input (one T × K
/// matrix per sentence and linear) and its per-channel max |x|. Recorded once; SmoothQuant's
/// scales and static activation ranges are derived from it for any setting.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Calibration {
    /// `[linear index][sentence]` → T × K, row-major.
    inputs: Vec<Vec<Vec<f32>>>,
    /// `[linear index]` → max |x| per input channel.
    act_max: Vec<Vec<f32>>,
}

impl Calibration {
    /// Runs the float model over `sentences` (token ids as the model takes them) and keeps
    /// what each linear reads.
    pub fn record(model: &dyn Family, sentences: &[Vec<u32>]) -> Result<Self> {
        let mut c = Calibration::default();
        for ids in sentences {
            c.add(model, ids)?;
        }
        Ok(c)
    }

    /// Adds one sentence (a page records the set one sentence per slice of work).
    pub fn add(&mut self, model: &dyn Family, ids: &[u32]) -> Result<()> {
        model.run_float(ids, &mut self.recorder(model))
    }

    /// A float forward that records one more sentence as it runs: what [`Calibration::add`]
    /// does in one call, for a page that runs the forward a layer at a time (the forward must
    /// run in one pass over the sentence, not token by token).
    pub fn recorder(&mut self, model: &dyn Family) -> Recorder<'_> {
        let shapes = model.shapes();
        if self.inputs.is_empty() {
            self.inputs = shapes.ids().map(|_| Vec::new()).collect();
            self.act_max = shapes
                .ids()
                .map(|id| vec![0f32; shapes.k(id.kind)])
                .collect();
        }
        Recorder {
            calibration: self,
            shapes,
        }
    }

    /// No sentences recorded.
    pub fn is_empty(&self) -> bool {
        self.inputs.iter().all(Vec::is_empty)
    }

    /// How many sentences were recorded.
    pub fn sentences(&self) -> usize {
        self.inputs.first().map_or(0, Vec::len)
    }
}

/// The float model's linears, recording each input into a [`Calibration`].
pub struct Recorder<'a> {
    calibration: &'a mut Calibration,
    shapes: Shapes,
}

impl Linears for Recorder<'_> {
    fn linear(
        &mut self,
        id: LinearId,
        float: &dyn FloatLinear,
        x: &[f32],
        m: usize,
        out: &mut [f32],
    ) -> Result<()> {
        let c = &mut *self.calibration;
        if let Some(mx) = c.act_max.get_mut(id.index()) {
            for row in x.chunks_exact(self.shapes.k(id.kind).max(1)) {
                mx.iter_mut()
                    .zip(row)
                    .for_each(|(a, v)| *a = a.max(v.abs()));
            }
        }
        if let Some(list) = c.inputs.get_mut(id.index()) {
            list.push(x.to_vec());
        }
        Float.linear(id, float, x, m, out)
    }
}

/// A model's quantized products (MiniLM: 24 products, 36 linears; SmolLM2: 120 products, 210
/// linears), built from its float weights.
#[derive(Clone, Debug)]
pub struct QuantizedModel {
    cfg: ModelQuant,
    shapes: Shapes,
    slots: Vec<Slot>,
    /// Quantized word and position tables, when `quantize_embeddings` (shared: they depend
    /// on the float model only).
    embeddings: Option<std::sync::Arc<(WordEmbeddings, Vec<f32>)>>,
}

/// The name the MiniLM code has always used.
pub type QuantizedBert = QuantizedModel;

impl QuantizedModel {
    /// Quantizes every linear of `model` with `cfg`. `calibration` (token ids of sentences)
    /// is run through the float model when SmoothQuant or static scales need activation
    /// statistics; otherwise it is not used.
    pub fn new(model: &dyn Family, cfg: ModelQuant, calibration: &[Vec<u32>]) -> Result<Self> {
        cfg.validate(&model.shapes())?;
        let stats = if cfg.needs_calibration() {
            Calibration::record(model, calibration)?
        } else {
            Calibration::default()
        };
        Self::calibrated(model, cfg, &stats)
    }

    /// As [`QuantizedBert::new`], with the calibration sentences' activations recorded once
    /// beforehand ([`Calibration::record`]), so a page that re-quantizes on every slider move
    /// does not run the float model over the calibration set each time.
    pub fn calibrated(
        model: &dyn Family,
        cfg: ModelQuant,
        calibration: &Calibration,
    ) -> Result<Self> {
        let mut b = QuantBuilder::for_model(model, cfg, calibration)?;
        while !b.is_done() {
            b.step(model, calibration)?;
        }
        b.finish()
    }

    /// The same int8 weights with other activation settings (bits, dynamic/static scales, the
    /// outlier ablation): `None` when `cfg` differs from this model in anything that changes
    /// the weights (their bits, scales, SmoothQuant's α, the rotation, the embeddings). A page
    /// switching per-token ↔ per-tensor or moving the ablation's k then re-uses the 36
    /// quantized matrices instead of re-quantizing them.
    pub fn with_activations(
        &self,
        cfg: &ModelQuant,
        calibration: &Calibration,
    ) -> Result<Option<QuantizedModel>> {
        cfg.validate(&self.shapes)?;
        if !self.cfg.same_weights(cfg) {
            return Ok(None);
        }
        if cfg.needs_calibration() && calibration.is_empty() {
            return Err(QuantError::Empty {
                what: "calibration sentences (SmoothQuant and static scales need some)",
            });
        }
        let mut model = QuantizedModel {
            cfg: cfg.clone(),
            shapes: self.shapes,
            slots: self.slots.clone(),
            embeddings: self.embeddings.clone(),
        };
        for slot in &mut model.slots {
            slot.static_scale = None;
            slot.float = match (cfg.act, slot.float.take()) {
                // Format weights live only as their f32 layer, whatever the activations.
                (_, Some(f)) if matches!(cfg.weights, WeightScales::Format(_)) => Some(f),
                (ActMode::Float, Some(f)) => Some(f),
                (ActMode::Float, None) => Some(dequantized(&slot.parts)?),
                _ => None,
            };
        }
        model.calibrate_static(calibration)?;
        Ok(Some(model))
    }

    /// Static activation scales for every linear (see [`static_scale`]).
    fn calibrate_static(&mut self, calibration: &Calibration) -> Result<()> {
        let ActMode::Static(calibrator) = self.cfg.act else {
            return Ok(());
        };
        let mut scales = Vec::with_capacity(self.slots.len());
        for (id, slot) in self.shapes.ids().zip(&self.slots) {
            let k = self.shapes.k(id.kind);
            scales.push(static_scale(
                &self.cfg,
                slot,
                id,
                k,
                calibration,
                &calibrator,
            )?);
        }
        for (slot, s) in self.slots.iter_mut().zip(scales) {
            slot.static_scale = Some(s);
        }
        Ok(())
    }

    pub fn config(&self) -> &ModelQuant {
        &self.cfg
    }

    /// The sizes of the model it was built from.
    pub fn shapes(&self) -> &Shapes {
        &self.shapes
    }

    fn slot(&self, id: LinearId) -> Result<&Slot> {
        self.shapes.check(id)?;
        self.slots
            .get(id.index())
            .ok_or(QuantError::InvalidParameter {
                name: "linear",
                value: self.shapes.label(id),
                allowed: "one of the model's linears",
            })
    }

    /// The int8 layer(s) of one linear (one per weight group).
    pub fn qlinears(&self, id: LinearId) -> Result<&[QLinear]> {
        Ok(&self.slot(id)?.parts)
    }

    /// SmoothQuant's per-channel divisors s of `id`'s input (`None`: not smoothed).
    pub fn smooth_scales(&self, id: LinearId) -> Result<Option<&[f32]>> {
        Ok(self.slot(id)?.smooth.as_deref())
    }

    /// What the int8 GEMM of `id` reads before quantization: its input after the transforms
    /// (outliers dropped, divided by the smoothing scales, rotated).
    pub fn transformed_input(&self, id: LinearId, x: &[f32], m: usize) -> Result<Vec<f32>> {
        transform(&self.cfg, self.slot(id)?, self.shapes.k(id.kind), x, m)
    }

    /// The activation scales of one call: one per row of `xs` (the transformed input).
    pub fn act_scales(&self, id: LinearId, xs: &[f32], m: usize) -> Result<Vec<f32>> {
        let k = self.shapes.k(id.kind);
        let act = match (self.cfg.act, self.slot(id)?.static_scale) {
            (ActMode::Dynamic(g), _) => ActScales::Dynamic(g),
            (ActMode::DynamicUint8, _) => {
                let (qa, _) = QuantizedActs::quantize_uint8_dynamic(xs, m, k)?;
                return Ok(qa.scales().to_vec());
            }
            (ActMode::Static(_), Some(s)) => return Ok(vec![s; m]),
            (ActMode::Static(_), None) => {
                return Err(QuantError::Empty {
                    what: "static activation scales (the model was not calibrated)",
                })
            }
            (ActMode::Float, _) => return Ok(Vec::new()),
        };
        Ok(quantlab_kernels::activation_scales(
            xs,
            m,
            k,
            act,
            self.cfg.a_bits,
        )?)
    }

    /// Runs linear `id` on the int8 kernels: transform, quantize X, i32 GEMM, dequantize.
    pub fn run_linear(&self, id: LinearId, x: &[f32], m: usize, out: &mut [f32]) -> Result<()> {
        let slot = self.slot(id)?;
        let mut xs = self.transformed_input(id, x, m)?;
        if let Some(f) = &slot.float {
            if self.cfg.act != ActMode::Float {
                // Format weights with quantized activations: fake-quantize X (the same scales
                // and rounding as the int8 path), then the f32 GEMM.
                let scales = self.act_scales(id, &xs, m)?;
                let q = ((1i32 << (self.cfg.a_bits - 1)) - 1) as f32;
                let k = self.shapes.k(id.kind);
                for (row, &s) in xs.chunks_exact_mut(k).zip(&scales) {
                    for v in row.iter_mut() {
                        *v = (*v / s).round_ties_even().clamp(-q, q) * s;
                    }
                }
            }
            return f.forward(&xs, m, out);
        }
        if self.cfg.act == ActMode::DynamicUint8 {
            let (qa, _) = QuantizedActs::quantize_uint8_dynamic(&xs, m, self.shapes.k(id.kind))?;
            for part in slot.parts.iter() {
                part.forward_quantized(&qa, out)?;
            }
            return Ok(());
        }
        let scales = self.act_scales(id, &xs, m)?;
        let a_bits = self.cfg.a_bits;
        match &*slot.parts {
            [one] => one.forward_with(&xs, m, ActScales::Static(&scales), a_bits, out)?,
            parts => {
                // Groups of input channels, the last one possibly shorter: each group's
                // columns of X times its rows of W, summed (the bias comes with the first).
                let k = self.shapes.k(id.kind);
                out.fill(0.0);
                let mut yg = vec![0f32; out.len()];
                let mut start = 0;
                for part in parts {
                    let g = part.k();
                    let mut xg = Vec::with_capacity(m * g);
                    for row in xs.chunks_exact(k.max(1)) {
                        xg.extend_from_slice(row.get(start..start + g).unwrap_or_default());
                    }
                    part.forward_with(&xg, m, ActScales::Static(&scales), a_bits, &mut yg)?;
                    out.iter_mut().zip(&yg).for_each(|(o, &y)| *o += y);
                    start += g;
                }
            }
        }
        Ok(())
    }

    /// The [`Linears`] that runs this model inside a forward pass ([`Bert::embed`], the Llama
    /// forward).
    pub fn runner(&self) -> Runner<'_> {
        Runner(self)
    }

    /// The sentence embedding of the quantized model.
    pub fn embed(&self, bert: &Bert, ids: &[u32]) -> Result<Vec<f32>> {
        bert.embed(ids, &mut self.runner())
    }
}

/// [`QuantizedBert::calibrated`] one linear at a time: a page quantizes the 36 linears over
/// several slices of work (about 2 ms each in the browser), so a newer slider position can stop
/// a build halfway. Each step quantizes one of the 24 products (Q|K|V counts once) with its
/// static scale; a last step adds the embeddings' tables when the recipe quantizes them.
pub struct QuantBuilder {
    cfg: ModelQuant,
    shapes: Shapes,
    slots: Vec<Slot>,
    embeddings: Option<std::sync::Arc<(WordEmbeddings, Vec<f32>)>>,
    embeddings_done: bool,
}

impl QuantBuilder {
    /// A builder for all-MiniLM-L6-v2 (what the model chapter steps through).
    pub fn new(cfg: ModelQuant, calibration: &Calibration) -> Result<Self> {
        Self::with_shapes(MINILM, cfg, calibration)
    }

    /// A builder for any model of the family.
    pub fn for_model(
        model: &dyn Family,
        cfg: ModelQuant,
        calibration: &Calibration,
    ) -> Result<Self> {
        Self::with_shapes(model.shapes(), cfg, calibration)
    }

    fn with_shapes(shapes: Shapes, cfg: ModelQuant, calibration: &Calibration) -> Result<Self> {
        cfg.validate(&shapes)?;
        if cfg.needs_calibration() && calibration.is_empty() {
            return Err(QuantError::Empty {
                what: "calibration sentences (SmoothQuant and static scales need some)",
            });
        }
        Ok(QuantBuilder {
            embeddings_done: !cfg.quantize_embeddings,
            cfg,
            shapes,
            slots: Vec::with_capacity(shapes.count()),
            embeddings: None,
        })
    }

    /// MiniLM's steps in all: one per product, one for the embeddings.
    pub const STEPS: usize = 4 * super::bert::LAYERS + 1;

    /// Steps in all for this builder's model.
    pub fn steps(&self) -> usize {
        self.shapes.count() + 1
    }

    pub fn is_done(&self) -> bool {
        self.slots.len() >= self.shapes.count() && self.embeddings_done
    }

    /// Quantizes the next linear (or, last, the embeddings); nothing once done.
    pub fn step(&mut self, model: &dyn Family, calibration: &Calibration) -> Result<()> {
        if model.shapes() != self.shapes {
            return Err(QuantError::ShapeMismatch {
                expected: "the model the builder was made for".into(),
                got: "another model".into(),
            });
        }
        let Some(id) = self.shapes.ids().nth(self.slots.len()) else {
            if !self.embeddings_done {
                self.embeddings = Some(model.uint8_embeddings()?);
                self.embeddings_done = true;
            }
            return Ok(());
        };
        let cfg = &self.cfg;
        let act_max = cfg.smooth_alpha.map(|_| &calibration.act_max);
        let dense = model.float_weights(id)?;
        let dense: &Dense = &dense;
        let (k, n) = (dense.k(), dense.n());
        let smooth = match (cfg.smooth_alpha, act_max) {
            (Some(alpha), Some(am)) if smoothable(id) => {
                let am = am.get(id.index()).map_or(&[][..], Vec::as_slice);
                Some(smooth_scales(am, &dense.packed().row_absmax(), alpha)?)
            }
            _ => None,
        };
        let rotation = cfg.hadamard.then(|| model.hadamard(k)).transpose()?;
        if let WeightScales::Format(f) = cfg.weights {
            let float = format_weights(dense, smooth.as_deref(), rotation.as_ref(), f)?;
            let mut slot = Slot {
                parts: std::sync::Arc::from(Vec::new()),
                smooth,
                rotation,
                static_scale: None,
                float: Some(float),
            };
            if let ActMode::Static(calibrator) = cfg.act {
                slot.static_scale =
                    Some(static_scale(cfg, &slot, id, k, calibration, &calibrator)?);
            }
            self.slots.push(slot);
            return Ok(());
        }
        let parts = match cfg.weights {
            WeightScales::Group(g) => {
                // Groups split W's rows: built from a row-major copy.
                let mut w = dense.weight();
                if let Some(s) = &smooth {
                    for (row, &sc) in w.chunks_exact_mut(n).zip(s) {
                        row.iter_mut().for_each(|v| *v *= sc);
                    }
                }
                if let Some(h) = &rotation {
                    h.rotate_weights(&mut w, n)?;
                }
                w.chunks(g * n)
                    .enumerate()
                    .map(|(i, wg)| {
                        // The bias is added once, by the first group.
                        let bias = dense.bias_opt().filter(|_| i == 0);
                        QLinear::new(wg, wg.len() / n.max(1), n, bias, cfg.w_bits)
                    })
                    .collect::<std::result::Result<_, _>>()?
            }
            WeightScales::PerChannel | WeightScales::PerTensor | WeightScales::Format(_) => {
                // Read from the packed f32 weights without a row-major copy (a page
                // re-quantizes on every slider move); rotated in blocks of columns.
                let rotated = match &rotation {
                    Some(h) => Some(h.rotate_packed_weights(dense.packed(), smooth.as_deref())?),
                    None => None,
                };
                let (w, scale) = match &rotated {
                    Some(r) => (r, None),
                    None => (dense.packed(), smooth.as_deref()),
                };
                if cfg.weights == WeightScales::PerChannel {
                    vec![QLinear::from_packed_f32(
                        w,
                        scale,
                        dense.bias_opt(),
                        cfg.w_bits,
                    )?]
                } else {
                    let scaled;
                    let w = match scale {
                        Some(s) => {
                            scaled = w.map_column_blocks(16, |block, width| {
                                for (row, &si) in block.chunks_exact_mut(width.max(1)).zip(s) {
                                    row.iter_mut().for_each(|v| *v *= si);
                                }
                                Ok::<(), QuantError>(())
                            })?;
                            &scaled
                        }
                        None => w,
                    };
                    let parts = self.shapes.parts(id.kind);
                    let scales = per_tensor_scales(&w.col_absmax(), parts, cfg.w_bits)?;
                    vec![QLinear::from_packed_f32_with_scales(
                        w,
                        &scales,
                        dense.bias_opt(),
                        cfg.w_bits,
                    )?]
                }
            }
        };
        let float = if cfg.act == ActMode::Float {
            Some(dequantized(&parts)?)
        } else {
            None
        };
        let mut slot = Slot {
            parts: parts.into(),
            smooth,
            rotation,
            static_scale: None,
            float,
        };
        if let ActMode::Static(calibrator) = cfg.act {
            slot.static_scale = Some(static_scale(cfg, &slot, id, k, calibration, &calibrator)?);
        }
        self.slots.push(slot);
        Ok(())
    }

    pub fn finish(self) -> Result<QuantizedModel> {
        if !self.is_done() {
            return Err(QuantError::InvalidParameter {
                name: "quantized model",
                value: format!("{} of {} linears", self.slots.len(), self.shapes.count()),
                allowed: "complete before use",
            });
        }
        Ok(QuantizedModel {
            cfg: self.cfg,
            shapes: self.shapes,
            slots: self.slots,
            embeddings: self.embeddings,
        })
    }
}

/// A linear's weights rounded to a float format: smoothed and rotated like the integer paths,
/// then each output channel's row of K inputs through `crate::format` (blocks along K), back
/// to an f32 layer.
fn format_weights(
    dense: &Dense,
    smooth: Option<&[f32]>,
    rotation: Option<&Hadamard>,
    f: Format,
) -> Result<Dense> {
    let (k, n) = (dense.k(), dense.n());
    let mut w = dense.weight();
    if let Some(s) = smooth {
        for (row, &sc) in w.chunks_exact_mut(n).zip(s) {
            row.iter_mut().for_each(|v| *v *= sc);
        }
    }
    if let Some(h) = rotation {
        h.rotate_weights(&mut w, n)?;
    }
    // (K, N) row-major → (N, K): one row per output channel.
    let mut wt = vec![0f32; k * n];
    for (i, row) in w.chunks_exact(n).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            if let Some(d) = wt.get_mut(j * k + i) {
                *d = v;
            }
        }
    }
    let view =
        ndarray::ArrayView2::from_shape((n, k), &wt).map_err(|e| QuantError::ShapeMismatch {
            expected: format!("({n}, {k})"),
            got: e.to_string(),
        })?;
    let gran = match f {
        Format::Scaled(_) => Granularity::PerToken,
        _ => Granularity::PerTensor,
    };
    let r = quantize_format(view, f, gran, NonFinitePolicy::Reject)?;
    for ((j, i), &v) in r.dequantized.indexed_iter() {
        if let Some(d) = w.get_mut(i * n + j) {
            *d = v;
        }
    }
    Dense::new(&w, k, n, dense.bias().to_vec())
}

/// One linear's input after its transforms: the top channels dropped, divided by the smoothing
/// scales, rotated.
fn transform(cfg: &ModelQuant, slot: &Slot, k: usize, x: &[f32], m: usize) -> Result<Vec<f32>> {
    let mut xs = x.to_vec();
    if cfg.drop_outliers > 0 {
        drop_top_channels(&mut xs, k, cfg.drop_outliers);
    }
    if let Some(s) = &slot.smooth {
        for row in xs.chunks_exact_mut(k) {
            row.iter_mut().zip(s).for_each(|(v, &sc)| *v /= sc);
        }
    }
    if let Some(r) = &slot.rotation {
        r.rotate_rows(&mut xs, m)?;
    }
    Ok(xs)
}

/// A static activation scale: one range over every value linear `id` read (after its
/// transforms) on the calibration sentences; symmetric narrow grid of the activation bits.
fn static_scale(
    cfg: &ModelQuant,
    slot: &Slot,
    id: LinearId,
    k: usize,
    calibration: &Calibration,
    calibrator: &Calibrator,
) -> Result<f32> {
    let scheme = Scheme::new(cfg.a_bits, true, true, true)?;
    let mut pooled = Vec::new();
    for x in calibration.inputs.get(id.index()).into_iter().flatten() {
        pooled.extend(transform(cfg, slot, k, x, x.len() / k.max(1))?);
    }
    let c = calibrate(&pooled, &scheme, calibrator)?;
    Ok(c.params.scale.max(SCALE_FLOOR / 127.0))
}

/// [`QuantizedModel`] as the forward pass's [`Linears`].
pub struct Runner<'a>(&'a QuantizedModel);

impl Linears for Runner<'_> {
    fn linear(
        &mut self,
        id: LinearId,
        _: &dyn FloatLinear,
        x: &[f32],
        m: usize,
        out: &mut [f32],
    ) -> Result<()> {
        self.0.run_linear(id, x, m, out)
    }

    fn embeddings(&self) -> Option<(&WordEmbeddings, &[f32])> {
        self.0.embeddings.as_deref().map(|(w, p)| (w, p.as_slice()))
    }
}

/// Per-tensor symmetric scales of W whose N columns are `parts` torch linears side by side
/// (Q | K | V), from each column's max |w|: onnxruntime's `quantize_data(symmetric=True)` for
/// int8, s = 2·absmax / (2·q_max) in f64 then f32 (1 for an all-zero part), one per column.
/// Codes are then q = clamp(round(w/s), ±q_max).
fn per_tensor_scales(col_absmax: &[f32], parts: usize, bits: u8) -> Result<Vec<f32>> {
    let qm = quantlab_kernels::q_max(bits)?;
    let n = col_absmax.len();
    let width = (n / parts.max(1)).max(1);
    let scales: Vec<f32> = col_absmax
        .chunks(width)
        .map(|part| {
            let a = part.iter().fold(0f32, |m, &v| m.max(v));
            let s = 2.0 * f64::from(a) / f64::from(2 * qm);
            if s > 0.0 {
                s as f32
            } else {
                1.0
            }
        })
        .collect();
    Ok((0..n)
        .map(|j| scales.get(j / width).copied().unwrap_or(1.0))
        .collect())
}

/// The linears SmoothQuant smooths (see the module doc).
fn smoothable(id: LinearId) -> bool {
    matches!(id.kind, LinearKind::Qkv | LinearKind::Fc1)
}

/// s_c = max(act_max_c^α / w_max_c^(1−α), 1e-5), w_max_c = max(max_j |W_cj|, 1e-5) (`smooth.py`),
/// from the weights' row maxima.
fn smooth_scales(act_max: &[f32], w_row_max: &[f32], alpha: f32) -> Result<Vec<f32>> {
    if act_max.len() != w_row_max.len() {
        return Err(QuantError::LengthMismatch {
            what: "calibration maxima (one per input channel)",
            expected: w_row_max.len(),
            got: act_max.len(),
        });
    }
    let alpha = f64::from(alpha);
    Ok(act_max
        .iter()
        .zip(w_row_max)
        .map(|(&a, &wm)| {
            let wm = wm.max(1e-5);
            let s = f64::from(a).powf(alpha) / f64::from(wm).powf(1.0 - alpha);
            (s as f32).max(1e-5)
        })
        .collect())
}

/// Zeroes, in every row, the `k` channels whose max |x| over the rows is largest (ties: lower
/// channel first).
pub fn drop_top_channels(x: &mut [f32], channels: usize, k: usize) {
    let mut max = vec![0f32; channels];
    for row in x.chunks_exact(channels) {
        max.iter_mut()
            .zip(row)
            .for_each(|(m, v)| *m = m.max(v.abs()));
    }
    let mut order: Vec<usize> = (0..channels).collect();
    let at = |c: usize| max.get(c).copied().unwrap_or(0.0);
    order.sort_by(|&a, &b| at(b).total_cmp(&at(a)).then(a.cmp(&b)));
    order.truncate(k);
    for row in x.chunks_exact_mut(channels) {
        for &c in &order {
            if let Some(v) = row.get_mut(c) {
                *v = 0.0;
            }
        }
    }
}
