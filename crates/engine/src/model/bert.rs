//! all-MiniLM-L6-v2's encoder in f32: the float model every quantized variant is measured
//! against, and the skeleton those variants run in.
//!
//! The computation is Hugging Face `BertModel` + sentence-transformers' mean pooling, as
//! `shared/data/minilm/extract.py` writes it in float64: embeddings (word + position + token
//! type 0) → LayerNorm → 6 × [Q|K|V projection, scaled dot-product attention with a softmax per
//! head, output projection, residual + LayerNorm, fc1, erf-GELU, fc2, residual + LayerNorm] →
//! mean over all tokens → L2 normalisation. LayerNorm is post-residual with ε = 1e-12.
//!
//! One sequence is encoded at a time, unpadded, so the attention mask is all ones and a batch of
//! sentences of different lengths has no padding to leak into the result. The four linears of
//! a layer go through [`Linears`], so the same forward runs the float weights ([`Float`]), the
//! int8 ones (`model::quant`), or a recorder of each linear's input (capture).
//!
//! Q, K and V are one 384 × 1152 product here: they read the same input, so per-channel
//! weight scales and per-token or per-tensor activation scales are the same as for three
//! separate linears, and one GEMM is faster than three. The model still has 36 linears
//! (Q, K, V, O, fc1, fc2 × 6); [`LinearKind::linears`] counts them.

use std::borrow::Cow;

use quantlab_kernels::{gemm_f32, PackedF32};

use super::attention::HeadRows;
use super::family::{Family, Shapes, MINILM};
use crate::rotate::hadamard::Hadamard;

use crate::error::{QuantError, Result};

pub const LAYERS: usize = 6;
pub const HIDDEN: usize = 384;
pub const HEADS: usize = 12;
pub const HEAD_DIM: usize = HIDDEN / HEADS;
pub const FFN: usize = 1536;
pub const VOCAB: usize = 30_522;
pub const MAX_POSITIONS: usize = 512;
/// BERT's `layer_norm_eps`.
pub const LN_EPS: f64 = 1e-12;

pub use super::family::{Float, FloatLinear, LinearId, LinearKind, Linears};

/// Y = X·W + b with W kept packed for the f32 GEMM (K × N: column j is output j).
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    w: PackedF32,
    bias: Vec<f32>,
}

impl Dense {
    /// From W in K × N row-major (torch's weight transposed) and N biases (or none: an empty
    /// vector, as Llama's linears have).
    pub fn new(w: &[f32], k: usize, n: usize, bias: Vec<f32>) -> Result<Self> {
        Self::from_packed(PackedF32::pack(w, k, n)?, bias)
    }

    /// From W already packed (K × N) and N biases or none.
    pub fn from_packed(w: PackedF32, bias: Vec<f32>) -> Result<Self> {
        let n = w.n();
        if !bias.is_empty() && bias.len() != n {
            return Err(QuantError::LengthMismatch {
                what: "bias (one per output)",
                expected: n,
                got: bias.len(),
            });
        }
        Ok(Dense { w, bias })
    }

    pub fn k(&self) -> usize {
        self.w.k()
    }

    pub fn n(&self) -> usize {
        self.w.n()
    }

    /// W as packed for the f32 GEMM (the quantized copies read it from here).
    pub fn packed(&self) -> &PackedF32 {
        &self.w
    }

    /// W, K × N row-major (a copy: the model keeps only the packed form).
    pub fn weight(&self) -> Vec<f32> {
        self.w.to_row_major()
    }

    /// The N biases (empty: none).
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// The biases, or `None` when the layer has none.
    pub fn bias_opt(&self) -> Option<&[f32]> {
        (!self.bias.is_empty()).then_some(self.bias.as_slice())
    }

    /// `out` (M × N) = X (M × K)·W + b.
    pub fn forward(&self, x: &[f32], m: usize, out: &mut [f32]) -> Result<()> {
        gemm_f32(x, m, self.k(), &self.w, out)?;
        add_bias(out, &self.bias);
        Ok(())
    }
}

pub(crate) fn add_bias(out: &mut [f32], bias: &[f32]) {
    if bias.is_empty() {
        return;
    }
    for row in out.chunks_exact_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(y, &b)| *y += b);
    }
}

/// γ, β of one LayerNorm over the 384 hidden channels.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm {
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

impl LayerNorm {
    /// Every row of `x` normalised in place; mean and variance in f64 (384 terms), so the only
    /// f32 rounding is the result's.
    pub fn apply(&self, x: &mut [f32]) {
        let c = self.gamma.len();
        if c == 0 {
            return;
        }
        for row in x.chunks_exact_mut(c) {
            let mean = row.iter().map(|&v| f64::from(v)).sum::<f64>() / c as f64;
            let var = row
                .iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / c as f64;
            let inv = 1.0 / (var + LN_EPS).sqrt();
            for ((v, &g), &b) in row.iter_mut().zip(&self.gamma).zip(&self.beta) {
                *v = ((f64::from(*v) - mean) * inv * f64::from(g) + f64::from(b)) as f32;
            }
        }
    }
}

/// One encoder layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub qkv: Dense,
    pub out: Dense,
    pub ln_attn: LayerNorm,
    pub fc1: Dense,
    pub fc2: Dense,
    pub ln_out: LayerNorm,
}

impl Layer {
    pub fn dense(&self, kind: LinearKind) -> &Dense {
        match kind {
            LinearKind::Qkv => &self.qkv,
            LinearKind::Out => &self.out,
            LinearKind::Fc1 => &self.fc1,
            LinearKind::Fc2 => &self.fc2,
        }
    }
}

/// The word-embedding table: f32, int8 codes with one scale per row (the shipped form), or
/// uint8 codes with one scale and zero point (onnxruntime's quantized Gather).
#[derive(Clone, Debug, PartialEq)]
pub enum WordEmbeddings {
    F32(Vec<f32>),
    Int8 {
        codes: Vec<i8>,
        scales: Vec<f32>,
    },
    Uint8 {
        codes: Vec<u8>,
        scale: f32,
        zero_point: i32,
    },
}

/// onnxruntime's asymmetric uint8 quantization of a whole table (`quantize_data` with
/// `symmetric=False`, what `quantize_dynamic` does to a Gather's data): rmin = min(0, min w),
/// rmax = max(0, max w), s = (rmax − rmin)/255 and z = round(−rmin/s) in f64, then s in f32
/// and q = clamp(round(w/s) + z, 0, 255), rounding half to even. `rows` walks the table's
/// rows (twice), so a table stored as int8 rows is never expanded to f32 whole.
pub fn quantize_table_uint8(
    rows: impl Fn(&mut dyn FnMut(&[f32])) -> Result<()>,
) -> Result<(Vec<u8>, f32, i32)> {
    let (mut lo, mut hi) = (0f32, 0f32);
    rows(&mut |r| {
        for &v in r {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    })?;
    let s64 = (f64::from(hi) - f64::from(lo)) / 255.0;
    let s64 = if s64 > 0.0 { s64 } else { 1.0 };
    let zp = (-f64::from(lo) / s64).round_ties_even().clamp(0.0, 255.0) as i32;
    let s = s64 as f32;
    let mut codes = Vec::new();
    rows(&mut |r| {
        codes.extend(r.iter().map(|&v| {
            (quantlab_kernels::round_half_even(v / s) + zp as f32).clamp(0.0, 255.0) as u8
        }))
    })?;
    Ok((codes, s, zp))
}

impl WordEmbeddings {
    /// Calls `f` with every row in order, dequantized.
    pub fn for_each_row(&self, f: &mut dyn FnMut(&[f32])) -> Result<()> {
        let mut row = vec![0f32; HIDDEN];
        for id in 0..VOCAB {
            self.row_into(id, &mut row)?;
            f(&row);
        }
        Ok(())
    }

    fn row_into(&self, id: usize, out: &mut [f32]) -> Result<()> {
        let range = id * HIDDEN..(id + 1) * HIDDEN;
        let bad = || QuantError::InvalidParameter {
            name: "token id",
            value: id.to_string(),
            allowed: "below the vocabulary size (30522)",
        };
        match self {
            Self::F32(t) => out.copy_from_slice(t.get(range).ok_or_else(bad)?),
            Self::Int8 { codes, scales } => {
                let s = *scales.get(id).ok_or_else(bad)?;
                let row = codes.get(range).ok_or_else(bad)?;
                out.iter_mut()
                    .zip(row)
                    .for_each(|(o, &q)| *o = f32::from(q) * s);
            }
            Self::Uint8 {
                codes,
                scale,
                zero_point,
            } => {
                let row = codes.get(range).ok_or_else(bad)?;
                out.iter_mut()
                    .zip(row)
                    .for_each(|(o, &q)| *o = (i32::from(q) - zero_point) as f32 * scale);
            }
        }
        Ok(())
    }
}

/// A tensor as a model file holds it, handed to [`Bert::from_tensors`].
#[derive(Clone, Debug, PartialEq)]
pub enum Tensor {
    F32 {
        shape: Vec<usize>,
        data: Vec<f32>,
    },
    /// Symmetric int8 codes with one f32 scale per row (value = code · scale).
    RowInt8 {
        shape: Vec<usize>,
        codes: Vec<i8>,
        scales: Vec<f32>,
    },
}

/// The whole float model.
#[derive(Clone, Debug, PartialEq)]
pub struct Bert {
    word: WordEmbeddings,
    position: Vec<f32>,
    token_type0: Vec<f32>,
    ln_emb: LayerNorm,
    layers: Vec<Layer>,
    storage: String,
    uint8: Uint8Tables,
}

/// onnxruntime's uint8 word and position tables of this model, made on first use and kept:
/// 11.7 M values take two passes to quantize, and every quantized copy with the ORT recipe
/// needs the same tables.
#[derive(Clone, Debug, Default)]
struct Uint8Tables(std::sync::OnceLock<std::sync::Arc<(WordEmbeddings, Vec<f32>)>>);

/// A cache, not part of what the model is.
impl PartialEq for Uint8Tables {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// A forward pass under way ([`Bert::begin`], [`Bert::next_layer`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Pass {
    hidden: Vec<f32>,
    tokens: usize,
    layers_done: usize,
}

impl Pass {
    /// The hidden state (T × 384) after [`Pass::layers_done`] layers.
    pub fn hidden(&self) -> &[f32] {
        &self.hidden
    }

    pub fn tokens(&self) -> usize {
        self.tokens
    }

    pub fn layers_done(&self) -> usize {
        self.layers_done
    }

    pub fn is_done(&self) -> bool {
        self.layers_done >= LAYERS
    }

    /// The sentence embedding once all layers have run (mean pooling, L2 normalisation).
    pub fn embedding(&self) -> Result<Vec<f32>> {
        if !self.is_done() {
            return Err(QuantError::InvalidParameter {
                name: "forward pass",
                value: format!("{} of {LAYERS} layers", self.layers_done),
                allowed: "complete before pooling",
            });
        }
        Ok(mean_pool_normalized(&self.hidden, self.tokens))
    }
}

impl Bert {
    /// Builds the model from Hugging Face's tensor names (`embeddings.word_embeddings.weight`,
    /// `encoder.layer.3.attention.self.query.weight`, …; torch layout, weights out × in).
    /// `storage` says how the weights were stored ("fp32", "fp16 + int8 word embeddings"), so a
    /// page can call its reference what it is. Every tensor is checked for shape and finiteness.
    pub fn from_tensors(
        mut get: impl FnMut(&str) -> Result<Tensor>,
        storage: &str,
    ) -> Result<Bert> {
        let mut f32s = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            match get(name)? {
                Tensor::F32 { shape: s, data } => {
                    check_shape(name, &s, shape)?;
                    check_finite(name, &data)?;
                    Ok(data)
                }
                Tensor::RowInt8 { .. } => Err(bad(name, "is int8 where float is expected")),
            }
        };
        let mut ln = |p: &str| -> Result<LayerNorm> {
            Ok(LayerNorm {
                gamma: f32s(&format!("{p}.weight"), &[HIDDEN])?,
                beta: f32s(&format!("{p}.bias"), &[HIDDEN])?,
            })
        };
        let ln_emb = ln("embeddings.LayerNorm")?;
        let mut lns = Vec::new();
        for l in 0..LAYERS {
            let p = format!("encoder.layer.{l}");
            lns.push((
                ln(&format!("{p}.attention.output.LayerNorm"))?,
                ln(&format!("{p}.output.LayerNorm"))?,
            ));
        }
        let mut layers = Vec::with_capacity(LAYERS);
        for (l, (ln_attn, ln_out)) in lns.into_iter().enumerate() {
            let p = format!("encoder.layer.{l}");
            let mut dense = |names: &[&str], k: usize, n_each: usize| -> Result<Dense> {
                let n = n_each * names.len();
                let mut w = vec![0f32; k * n];
                let mut bias = Vec::with_capacity(n);
                for (part, name) in names.iter().enumerate() {
                    let wt = f32s(&format!("{p}.{name}.weight"), &[n_each, k])?;
                    // torch stores out × in; the GEMM wants in × out.
                    for (o, row) in wt.chunks_exact(k).enumerate() {
                        for (i, &v) in row.iter().enumerate() {
                            if let Some(d) = w.get_mut(i * n + part * n_each + o) {
                                *d = v;
                            }
                        }
                    }
                    bias.extend(f32s(&format!("{p}.{name}.bias"), &[n_each])?);
                }
                Dense::new(&w, k, n, bias)
            };
            layers.push(Layer {
                qkv: dense(
                    &[
                        "attention.self.query",
                        "attention.self.key",
                        "attention.self.value",
                    ],
                    HIDDEN,
                    HIDDEN,
                )?,
                out: dense(&["attention.output.dense"], HIDDEN, HIDDEN)?,
                ln_attn,
                fc1: dense(&["intermediate.dense"], HIDDEN, FFN)?,
                fc2: dense(&["output.dense"], FFN, HIDDEN)?,
                ln_out,
            });
        }
        let position = f32s(
            "embeddings.position_embeddings.weight",
            &[MAX_POSITIONS, HIDDEN],
        )?;
        let mut token_type0 = f32s("embeddings.token_type_embeddings.weight", &[2, HIDDEN])?;
        token_type0.truncate(HIDDEN);
        let name = "embeddings.word_embeddings.weight";
        let word = match get(name)? {
            Tensor::F32 { shape, data } => {
                check_shape(name, &shape, &[VOCAB, HIDDEN])?;
                check_finite(name, &data)?;
                WordEmbeddings::F32(data)
            }
            Tensor::RowInt8 {
                shape,
                codes,
                scales,
            } => {
                check_shape(name, &shape, &[VOCAB, HIDDEN])?;
                if codes.len() != VOCAB * HIDDEN || scales.len() != VOCAB {
                    return Err(bad(name, "has the wrong number of codes or scales"));
                }
                if codes.contains(&i8::MIN) {
                    return Err(bad(name, "holds the code −128 (the grid is ±127)"));
                }
                if scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                    return Err(bad(name, "has a scale that is not a positive number"));
                }
                WordEmbeddings::Int8 { codes, scales }
            }
        };
        Ok(Bert {
            word,
            position,
            token_type0,
            ln_emb,
            layers,
            storage: storage.to_string(),
            uint8: Uint8Tables::default(),
        })
    }

    /// The word and position tables as onnxruntime's `quantize_dynamic` stores them (uint8,
    /// one scale and zero point per table; positions returned dequantized), made once.
    pub fn uint8_embeddings(&self) -> Result<std::sync::Arc<(WordEmbeddings, Vec<f32>)>> {
        if let Some(t) = self.uint8.0.get() {
            return Ok(t.clone());
        }
        let word = &self.word;
        let (codes, scale, zero_point) = quantize_table_uint8(|f| word.for_each_row(f))?;
        let (pc, ps, pz) = quantize_table_uint8(|f| {
            self.position.chunks_exact(HIDDEN).for_each(&mut *f);
            Ok(())
        })?;
        let position = pc
            .iter()
            .map(|&q| (i32::from(q) - pz) as f32 * ps)
            .collect();
        let tables = std::sync::Arc::new((
            WordEmbeddings::Uint8 {
                codes,
                scale,
                zero_point,
            },
            position,
        ));
        Ok(self.uint8.0.get_or_init(|| tables).clone())
    }

    /// How the weights were stored, e.g. "fp32".
    pub fn storage(&self) -> &str {
        &self.storage
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    pub fn dense(&self, id: LinearId) -> Result<&Dense> {
        self.layers
            .get(id.layer)
            .map(|l| l.dense(id.kind))
            .ok_or(QuantError::InvalidParameter {
                name: "layer",
                value: id.layer.to_string(),
                allowed: "0 to 5",
            })
    }

    /// The word embeddings as stored.
    pub fn word_embeddings(&self) -> &WordEmbeddings {
        &self.word
    }

    /// The position embeddings (512 × 384).
    pub fn position_embeddings(&self) -> &[f32] {
        &self.position
    }

    /// The last hidden state (T × 384) of one sequence of token ids ([CLS] … [SEP]).
    pub fn hidden(&self, ids: &[u32], lin: &mut dyn Linears) -> Result<Vec<f32>> {
        let mut pass = self.begin(ids, lin)?;
        while !pass.is_done() {
            self.next_layer(&mut pass, lin)?;
        }
        Ok(pass.hidden)
    }

    /// Starts a forward pass: the embeddings of `ids` after their LayerNorm, before layer 0.
    /// With [`Bert::next_layer`] a page runs the model one layer per slice of work, so a long
    /// text never blocks it for a whole forward.
    pub fn begin(&self, ids: &[u32], lin: &dyn Linears) -> Result<Pass> {
        let t = ids.len();
        if t == 0 {
            return Err(QuantError::Empty {
                what: "token sequence",
            });
        }
        if t > MAX_POSITIONS {
            return Err(QuantError::TooLarge {
                what: "tokens in one sequence (the model has 512 positions)",
                got: t as u128,
                limit: MAX_POSITIONS as u128,
            });
        }
        let mut h = vec![0f32; t * HIDDEN];
        let (word, position) = lin
            .embeddings()
            .unwrap_or((&self.word, self.position.as_slice()));
        // t ≤ MAX_POSITIONS (checked above), so every row has its position row.
        let rows = h
            .chunks_exact_mut(HIDDEN)
            .zip(position.chunks_exact(HIDDEN));
        for ((row, p), &id) in rows.zip(ids) {
            word.row_into(id as usize, row)?;
            for ((v, &pv), &tv) in row.iter_mut().zip(p).zip(&self.token_type0) {
                *v += pv + tv;
            }
        }
        self.ln_emb.apply(&mut h);
        Ok(Pass {
            hidden: h,
            tokens: t,
            layers_done: 0,
        })
    }

    /// Runs the next encoder layer of `pass`; an error once all six have run.
    pub fn next_layer(&self, pass: &mut Pass, lin: &mut dyn Linears) -> Result<()> {
        let l = pass.layers_done;
        let layer = self.layers.get(l).ok_or(QuantError::InvalidParameter {
            name: "layer",
            value: l.to_string(),
            allowed: "0 to 5 (the forward pass is complete)",
        })?;
        let t = pass.tokens;
        let h = &mut pass.hidden;
        let mut qkv = vec![0f32; t * 3 * HIDDEN];
        let mut ctx = vec![0f32; t * HIDDEN];
        let mut a = vec![0f32; t * HIDDEN];
        let mut f = vec![0f32; t * FFN];
        let id = |kind| LinearId { layer: l, kind };
        lin.linear(id(LinearKind::Qkv), &layer.qkv, h, t, &mut qkv)?;
        attention(&qkv, t, &mut ctx)?;
        lin.linear(id(LinearKind::Out), &layer.out, &ctx, t, &mut a)?;
        a.iter_mut().zip(h.iter()).for_each(|(v, &r)| *v += r);
        layer.ln_attn.apply(&mut a);
        lin.linear(id(LinearKind::Fc1), &layer.fc1, &a, t, &mut f)?;
        f.iter_mut().for_each(|v| *v = gelu(*v));
        lin.linear(id(LinearKind::Fc2), &layer.fc2, &f, t, h)?;
        h.iter_mut().zip(&a).for_each(|(v, &r)| *v += r);
        layer.ln_out.apply(h);
        if let Some(i) = h.iter().position(|v| !v.is_finite()) {
            return Err(QuantError::NonFinite {
                count: h.iter().filter(|v| !v.is_finite()).count(),
                first_index: i,
                first_row_col: Some((i / HIDDEN, i % HIDDEN)),
            });
        }
        pass.layers_done += 1;
        lin.after_layer(l, h)
    }

    /// The sentence embedding: mean of the last hidden state over all tokens, L2-normalised.
    pub fn embed(&self, ids: &[u32], lin: &mut dyn Linears) -> Result<Vec<f32>> {
        let h = self.hidden(ids, lin)?;
        Ok(mean_pool_normalized(&h, ids.len()))
    }
}

/// Mean over the T rows, then divided by its L2 norm (in f64).
pub fn mean_pool_normalized(h: &[f32], t: usize) -> Vec<f32> {
    let mut mean = vec![0f64; HIDDEN];
    for row in h.chunks_exact(HIDDEN) {
        mean.iter_mut()
            .zip(row)
            .for_each(|(m, &v)| *m += f64::from(v));
    }
    mean.iter_mut().for_each(|m| *m /= t.max(1) as f64);
    let norm = mean.iter().map(|m| m * m).sum::<f64>().sqrt().max(1e-12);
    mean.iter().map(|m| (m / norm) as f32).collect()
}

/// Hugging Face's `"gelu"`, 0.5·x·(1 + erf(x/√2)), with [`erf`] below.
#[inline]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf(x) within 3·10⁻⁷ (Abramowitz & Stegun 7.1.28: 1 − (1 + a₁x + … + a₆x⁶)⁻¹⁶), about an
/// f32 ulp of 1; evaluated in f64 because the 16th power multiplies f32's rounding by 16. Why
/// not libm's `erff`: it branches and calls `expf`, so the GELU loop over a 128 × 1536
/// activation stays scalar and took 9 % of a whole W8A8 forward in wasm; this form is
/// multiplications and one division, which the compiler turns into SIMD code. Checked against
/// `libm::erff` in `tests/model_math.rs`.
#[inline]
pub fn erf(x: f32) -> f32 {
    const A: [f64; 6] = [
        0.070_523_078_4,
        0.042_282_012_3,
        0.009_270_527_2,
        0.000_152_014_3,
        0.000_276_567_2,
        0.000_043_063_8,
    ];
    let a = f64::from(x.abs());
    let p = 1.0 + a * (A[0] + a * (A[1] + a * (A[2] + a * (A[3] + a * (A[4] + a * A[5])))));
    let p2 = p * p;
    let p4 = p2 * p2;
    let p8 = p4 * p4;
    ((1.0 - 1.0 / (p8 * p8)) as f32).copysign(x)
}

/// eˣ for x ≤ 0 (softmax after subtracting the row maximum), within 2 ulp: x = n·ln 2 + r,
/// |r| ≤ ln 2 / 2, e^r by its degree-6 Taylor polynomial, 2ⁿ put into the exponent bits.
/// Branch-free for the same reason as [`erf`]; below −87 it returns e⁻⁸⁷ ≈ 1.6·10⁻³⁸.
#[inline]
pub fn exp_nonpositive(x: f32) -> f32 {
    // A select, not f32::max (which is a call to fmaxf in wasm and stops vectorization).
    let x = if x > -87.0 { x } else { -87.0 };
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    // ln 2 in two parts (Cody–Waite): n·LN2_HI is exact in f32 for |n| < 2⁸, so r keeps its bits.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits((((n as i32) + 127).max(0) as u32) << 23);
    p * scale
}

/// softmax(Q_h·K_hᵀ/√d)·V_h for each of the 12 heads, from the Q|K|V product (T × 1152) into
/// `ctx` (T × 384): the family's attention, bidirectional.
fn attention(qkv: &[f32], t: usize, ctx: &mut [f32]) -> Result<()> {
    let part = |offset| HeadRows {
        data: qkv,
        rows: t,
        stride: 3 * HIDDEN,
        offset,
        heads: HEADS,
        dim: HEAD_DIM,
    };
    super::attention::attention(part(0), part(HIDDEN), part(2 * HIDDEN), None, ctx)
}

fn bad(name: &str, reason: &str) -> QuantError {
    QuantError::BadModel {
        part: format!("tensor `{name}`"),
        reason: reason.to_string(),
    }
}

fn check_shape(name: &str, got: &[usize], want: &[usize]) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(bad(
            name,
            &format!("has shape {got:?}, the model needs {want:?}"),
        ))
    }
}

fn check_finite(name: &str, data: &[f32]) -> Result<()> {
    match data.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(bad(name, &format!("holds NaN or Inf (value {i})"))),
    }
}

impl Family for Bert {
    fn shapes(&self) -> Shapes {
        MINILM
    }

    fn float_weights(&self, id: LinearId) -> Result<Cow<'_, Dense>> {
        self.dense(id).map(Cow::Borrowed)
    }

    fn run_float(&self, ids: &[u32], lin: &mut dyn Linears) -> Result<()> {
        self.hidden(ids, lin).map(drop)
    }

    /// QuaRot's full Hadamard (384 = 12·32, 1536 = 12·128).
    fn hadamard(&self, k: usize) -> Result<Hadamard> {
        Hadamard::full(k)
    }

    fn uint8_embeddings(&self) -> Result<std::sync::Arc<(WordEmbeddings, Vec<f32>)>> {
        Bert::uint8_embeddings(self)
    }
}
