//! The Llama architecture (SmolLM2, TinyLlama, …) in f32 over the weights as its GGUF file
//! stores them: the family's decoder member.
//!
//! The computation is llama.cpp's `llm_build_llama` for GGUF weights, written out in
//! `shared/data/smollm2/reference.py`: token embedding → L × [RMSNorm · attn_norm, Q|K|V,
//! RoPE, causal grouped-query attention, O, residual, RMSNorm · ffn_norm, gate|up,
//! SiLU(gate)·up, down, residual] → RMSNorm · output_norm → logits against the output matrix
//! (the token embedding when the file ties them, as SmolLM2 does). No bias anywhere.
//!
//! * **RMSNorm**: x / √(mean(x²) + ε) · w; the mean in f64, the rest in f32.
//! * **RoPE**: llama.cpp's "normal" mode, the one its conversion script prepares GGUF Llama
//!   weights for: it permutes the rows of W_q and W_k so that rotating *adjacent* pairs
//!   (x₂ᵢ, x₂ᵢ₊₁) by pos·θ^(−2i/d) is right (a rotate-half RoPE on these weights is wrong).
//!   The angles' cosines and sines are computed in f64 and rounded to f32, as reference.py does.
//! * **Attention**: the family's [`super::attention`], causal, each group of heads / kv_heads
//!   query heads sharing one key/value head; keys and values of earlier calls come from a
//!   [`KvCache`].
//!
//! The four products of a layer go through [`Linears`] like MiniLM's, as one product each:
//! Q|K|V (its three matrices stacked: they read the same input, so per-channel weight scales
//! and per-token or per-tensor activation scales are those of three separate linears), O,
//! gate|up (stacked likewise) and down: 4 × 30 products for SmolLM2's 210 linears. The output
//! head is not one of them: it stays as the file stores it (SmolLM2: Q8_0), decoded exactly,
//! as SmoothQuant and QuaRot keep the head in high precision.

use std::borrow::Cow;

use super::attention::{attention, HeadRows};
use super::bert::Dense;
use super::blocks::{BlockMatrix, Stacked};
use super::family::{Family, FloatLinear, LinearId, LinearKind, Linears, Shapes};
use crate::error::{QuantError, Result};
use crate::rotate::hadamard::Hadamard;

/// The sizes and constants of one Llama model, from its file's metadata.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LlamaConfig {
    pub layers: usize,
    pub hidden: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub ffn: usize,
    pub vocab: usize,
    pub rope_theta: f64,
    pub rms_eps: f64,
    /// Positions the model was trained for.
    pub context: usize,
}

/// Block size of the Hadamard rotation of every product's input (576 = 9 × 64 and 1536 = 24 ×
/// 64 are not of QuaRot's power-of-two-times-12 form; 64 is the head size, so on the O input a
/// block is exactly one head).
pub const HADAMARD_BLOCK: usize = 64;

impl LlamaConfig {
    /// SmolLM2-135M's configuration (for tests and messages).
    pub const SMOLLM2_135M: LlamaConfig = LlamaConfig {
        layers: 30,
        hidden: 576,
        heads: 9,
        kv_heads: 3,
        head_dim: 64,
        ffn: 1536,
        vocab: 49_152,
        rope_theta: 100_000.0,
        rms_eps: 1e-5,
        context: 8192,
    };

    pub fn q_dim(&self) -> usize {
        self.heads * self.head_dim
    }

    pub fn kv_dim(&self) -> usize {
        self.kv_heads * self.head_dim
    }

    pub fn shapes(&self) -> Shapes {
        Shapes::llama(
            self.layers,
            self.hidden,
            self.q_dim(),
            self.kv_dim(),
            self.ffn,
        )
    }

    /// Sizes a model of this family can have here: every width positive, heads grouping
    /// evenly, an even head size (RoPE pairs), and nothing so large that a forward's buffers
    /// could not be counted.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| QuantError::BadModel {
            part: "the model's configuration".into(),
            reason,
        };
        let dims = [
            self.layers,
            self.hidden,
            self.heads,
            self.kv_heads,
            self.head_dim,
            self.ffn,
            self.vocab,
        ];
        if dims.contains(&0) {
            return Err(bad(format!("a size is zero: {self:?}")));
        }
        if dims.iter().any(|&d| d > 1 << 20) || self.layers > 1024 {
            return Err(bad(format!(
                "a size is beyond any model this page can run: {self:?}"
            )));
        }
        if !self.heads.is_multiple_of(self.kv_heads) {
            return Err(bad(format!(
                "{} query heads cannot share {} key/value heads evenly",
                self.heads, self.kv_heads
            )));
        }
        if !self.head_dim.is_multiple_of(2) {
            return Err(bad(format!(
                "head size {} is odd (RoPE rotates pairs)",
                self.head_dim
            )));
        }
        if !(self.rope_theta.is_finite() && self.rope_theta > 1.0) {
            return Err(bad(format!(
                "RoPE base {} is not a number above 1",
                self.rope_theta
            )));
        }
        if !(self.rms_eps.is_finite() && self.rms_eps > 0.0 && self.rms_eps < 1.0) {
            return Err(bad(format!("RMSNorm ε {} is not in (0, 1)", self.rms_eps)));
        }
        Ok(())
    }
}

/// One decoder layer.
#[derive(Clone, Debug)]
pub struct LlamaLayer {
    pub attn_norm: Vec<f32>,
    pub qkv: Stacked,
    pub o: Stacked,
    pub ffn_norm: Vec<f32>,
    pub gate_up: Stacked,
    pub down: Stacked,
}

impl LlamaLayer {
    pub fn product(&self, kind: LinearKind) -> &Stacked {
        match kind {
            LinearKind::Qkv => &self.qkv,
            LinearKind::Out => &self.o,
            LinearKind::Fc1 => &self.gate_up,
            LinearKind::Fc2 => &self.down,
        }
    }
}

impl FloatLinear for Stacked {
    fn k(&self) -> usize {
        Stacked::k(self)
    }

    fn n(&self) -> usize {
        Stacked::n(self)
    }

    fn forward(&self, x: &[f32], m: usize, out: &mut [f32]) -> Result<()> {
        Stacked::forward(self, x, m, out)
    }

    fn weights(&self) -> Result<Cow<'_, Dense>> {
        Ok(Cow::Owned(Dense::from_packed(
            self.decode_packed()?,
            Vec::new(),
        )?))
    }
}

/// The whole model.
#[derive(Clone, Debug)]
pub struct Llama {
    cfg: LlamaConfig,
    embed: BlockMatrix,
    layers: Vec<LlamaLayer>,
    out_norm: Vec<f32>,
    /// `None`: tied to the token embedding.
    head: Option<BlockMatrix>,
    storage: String,
}

/// Keys and values of the positions already run, per layer (what lets generation run one new
/// token at a time).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KvCache {
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    len: usize,
}

impl KvCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A forward pass under way ([`Llama::begin`], [`Llama::next_layer`]): the residual stream.
#[derive(Clone, Debug, PartialEq)]
pub struct LlamaPass {
    hidden: Vec<f32>,
    tokens: usize,
    /// Position of the first row.
    start: usize,
    layers_done: usize,
    /// (cos, sin) of every row's RoPE angles (T × head_dim/2), the same in every layer.
    rope: Vec<[f32; 2]>,
}

impl LlamaPass {
    /// The residual stream (T × hidden) after [`LlamaPass::layers_done`] layers.
    pub fn hidden(&self) -> &[f32] {
        &self.hidden
    }

    pub fn tokens(&self) -> usize {
        self.tokens
    }

    pub fn layers_done(&self) -> usize {
        self.layers_done
    }

    pub fn into_hidden(self) -> Vec<f32> {
        self.hidden
    }
}

fn norm_vector(m: &BlockMatrix, name: &str, len: usize) -> Result<Vec<f32>> {
    if m.rows() * m.cols() != len {
        return Err(QuantError::BadModel {
            part: format!("tensor `{name}`"),
            reason: format!("has {} values, the model needs {len}", m.rows() * m.cols()),
        });
    }
    let mut out = vec![0f32; len];
    for (r, chunk) in out.chunks_exact_mut(m.cols().max(1)).enumerate() {
        m.decode_row(r, chunk)?;
    }
    if let Some(i) = out.iter().position(|v| !v.is_finite()) {
        return Err(QuantError::BadModel {
            part: format!("tensor `{name}`"),
            reason: format!("holds NaN or Inf (value {i})"),
        });
    }
    Ok(out)
}

/// `m` if it is `rows` × `cols` and every value (block scales included) is finite.
fn checked(m: BlockMatrix, name: &str, rows: usize, cols: usize) -> Result<BlockMatrix> {
    if m.rows() != rows || m.cols() != cols {
        return Err(QuantError::BadModel {
            part: format!("tensor `{name}`"),
            reason: format!(
                "is {} × {}, the model needs {rows} × {cols}",
                m.rows(),
                m.cols()
            ),
        });
    }
    m.check_finite(name)?;
    Ok(m)
}

impl Llama {
    /// Builds the model from GGUF tensor names (`token_embd.weight`, `blk.3.attn_q.weight`, …;
    /// each matrix with one row per output). `get` returns `Ok(None)` for a missing tensor.
    /// Shapes are checked against `cfg`, and every weight's values (block scales included) for
    /// finiteness. `storage` says how the weights are stored ("Q4_1 linears, Q8_0 embedding").
    pub fn from_tensors(
        cfg: LlamaConfig,
        mut get: impl FnMut(&str) -> Result<Option<BlockMatrix>>,
        storage: &str,
    ) -> Result<Llama> {
        cfg.validate()?;
        let mut matrix = |name: &str, rows: usize, cols: usize| -> Result<BlockMatrix> {
            let m = get(name)?.ok_or_else(|| QuantError::BadModel {
                part: format!("tensor `{name}`"),
                reason: "is missing from the file".into(),
            })?;
            checked(m, name, rows, cols)
        };
        let (h, q, kv, f) = (cfg.hidden, cfg.q_dim(), cfg.kv_dim(), cfg.ffn);
        let embed = matrix("token_embd.weight", cfg.vocab, h)?;
        let mut layers = Vec::with_capacity(cfg.layers);
        for l in 0..cfg.layers {
            let n = |s: &str| format!("blk.{l}.{s}.weight");
            let attn_norm = matrix(&n("attn_norm"), 1, h);
            let attn_norm = norm_vector(&attn_norm?, &n("attn_norm"), h)?;
            let ffn_norm = matrix(&n("ffn_norm"), 1, h);
            let ffn_norm = norm_vector(&ffn_norm?, &n("ffn_norm"), h)?;
            layers.push(LlamaLayer {
                attn_norm,
                qkv: Stacked::new(vec![
                    matrix(&n("attn_q"), q, h)?,
                    matrix(&n("attn_k"), kv, h)?,
                    matrix(&n("attn_v"), kv, h)?,
                ])?,
                o: Stacked::new(vec![matrix(&n("attn_output"), h, q)?])?,
                ffn_norm,
                gate_up: Stacked::new(vec![
                    matrix(&n("ffn_gate"), f, h)?,
                    matrix(&n("ffn_up"), f, h)?,
                ])?,
                down: Stacked::new(vec![matrix(&n("ffn_down"), h, f)?])?,
            });
        }
        let out_norm = matrix("output_norm.weight", 1, h);
        let out_norm = norm_vector(&out_norm?, "output_norm.weight", h)?;
        // An untied output matrix, when the file has one (SmolLM2 ties it to the embedding).
        let head = get("output.weight")?
            .map(|m| checked(m, "output.weight", cfg.vocab, h))
            .transpose()?;
        Ok(Llama {
            cfg,
            embed,
            layers,
            out_norm,
            head,
            storage: storage.to_string(),
        })
    }

    pub fn config(&self) -> &LlamaConfig {
        &self.cfg
    }

    /// How the weights are stored, e.g. "Q4_1 linears, Q8_0 token embedding".
    pub fn storage(&self) -> &str {
        &self.storage
    }

    pub fn layers(&self) -> &[LlamaLayer] {
        &self.layers
    }

    /// The output matrix (vocab × hidden): the token embedding when tied.
    pub fn head(&self) -> &BlockMatrix {
        self.head.as_ref().unwrap_or(&self.embed)
    }

    pub fn tied(&self) -> bool {
        self.head.is_none()
    }

    /// Bytes the weights occupy as stored.
    pub fn stored_bytes(&self) -> usize {
        let layers: usize = self
            .layers
            .iter()
            .flat_map(|l| LinearKind::ALL.map(|k| l.product(k)))
            .flat_map(Stacked::parts)
            .map(BlockMatrix::stored_bytes)
            .sum();
        layers + self.embed.stored_bytes() + self.head.as_ref().map_or(0, BlockMatrix::stored_bytes)
    }

    fn product(&self, id: LinearId) -> Result<&Stacked> {
        self.layers
            .get(id.layer)
            .map(|l| l.product(id.kind))
            .ok_or(QuantError::InvalidParameter {
                name: "layer",
                value: id.layer.to_string(),
                allowed: "one of the model's layers",
            })
    }

    /// Starts a pass over `ids` at positions `start..`: their embeddings, before layer 0.
    pub fn begin(&self, ids: &[u32], start: usize) -> Result<LlamaPass> {
        if ids.is_empty() {
            return Err(QuantError::Empty {
                what: "token sequence",
            });
        }
        if start + ids.len() > self.cfg.context {
            return Err(QuantError::TooLarge {
                what: "positions (the model's context length)",
                got: (start + ids.len()) as u128,
                limit: self.cfg.context as u128,
            });
        }
        let h = self.cfg.hidden;
        let mut hidden = vec![0f32; ids.len() * h];
        for (row, &id) in hidden.chunks_exact_mut(h).zip(ids) {
            if id as usize >= self.cfg.vocab {
                return Err(QuantError::InvalidParameter {
                    name: "token id",
                    value: id.to_string(),
                    allowed: "below the vocabulary size",
                });
            }
            self.embed.decode_row(id as usize, row)?;
        }
        let half = self.cfg.head_dim / 2;
        let mut rope = Vec::with_capacity(ids.len() * half);
        for pos in start..start + ids.len() {
            rope.extend(rope_angles(half, pos, self.cfg.rope_theta));
        }
        Ok(LlamaPass {
            hidden,
            tokens: ids.len(),
            start,
            layers_done: 0,
            rope,
        })
    }

    /// Runs the next layer of `pass`. With a cache, this call's keys and values are appended
    /// to it and attention reads every cached position; without, only this call's.
    pub fn next_layer(
        &self,
        pass: &mut LlamaPass,
        cache: Option<&mut KvCache>,
        lin: &mut dyn Linears,
    ) -> Result<()> {
        let l = pass.layers_done;
        let layer = self.layers.get(l).ok_or(QuantError::InvalidParameter {
            name: "layer",
            value: l.to_string(),
            allowed: "below the layer count (the forward pass is complete)",
        })?;
        let c = &self.cfg;
        let (t, h, qd, kvd) = (pass.tokens, c.hidden, c.q_dim(), c.kv_dim());
        let id = |kind| LinearId { layer: l, kind };
        let x = &mut pass.hidden;

        // Attention block.
        let mut normed = x.clone();
        rms_norm(&mut normed, &layer.attn_norm, c.rms_eps);
        let width = qd + 2 * kvd;
        let mut qkv = vec![0f32; t * width];
        lin.linear(id(LinearKind::Qkv), &layer.qkv, &normed, t, &mut qkv)?;
        check_finite(&qkv, width, "Q|K|V")?;
        let half = c.head_dim / 2;
        for (r, row) in qkv.chunks_exact_mut(width).enumerate() {
            let angles = pass.rope.get(r * half..(r + 1) * half).unwrap_or_default();
            let (q, kv) = row.split_at_mut(qd);
            rotate_pairs(q, c.head_dim, angles);
            rotate_pairs(kv.get_mut(..kvd).unwrap_or_default(), c.head_dim, angles);
        }
        let mut k_new = Vec::with_capacity(t * kvd);
        let mut v_new = Vec::with_capacity(t * kvd);
        for row in qkv.chunks_exact(width) {
            k_new.extend_from_slice(row.get(qd..qd + kvd).unwrap_or_default());
            v_new.extend_from_slice(row.get(qd + kvd..).unwrap_or_default());
        }
        let (keys, values, offset) = match cache {
            Some(cache) => {
                if cache.k.len() < self.layers.len() {
                    cache.k.resize(self.layers.len(), Vec::new());
                    cache.v.resize(self.layers.len(), Vec::new());
                }
                let (Some(ck), Some(cv)) = (cache.k.get_mut(l), cache.v.get_mut(l)) else {
                    return Err(QuantError::Empty { what: "KV cache" });
                };
                if ck.len() != pass.start * kvd {
                    return Err(QuantError::ShapeMismatch {
                        expected: format!("a KV cache of {} positions at layer {l}", pass.start),
                        got: format!("{} positions", ck.len() / kvd.max(1)),
                    });
                }
                ck.extend_from_slice(&k_new);
                cv.extend_from_slice(&v_new);
                if l + 1 == self.layers.len() {
                    cache.len = pass.start + t;
                }
                (
                    Cow::Borrowed(ck.as_slice()),
                    Cow::Borrowed(cv.as_slice()),
                    pass.start,
                )
            }
            None => (Cow::Owned(k_new), Cow::Owned(v_new), 0),
        };
        let s = keys.len() / kvd.max(1);
        fn kv_rows<'d>(data: &'d [f32], rows: usize, c: &LlamaConfig) -> HeadRows<'d> {
            HeadRows {
                data,
                rows,
                stride: c.kv_dim(),
                offset: 0,
                heads: c.kv_heads,
                dim: c.head_dim,
            }
        }
        let q_rows = HeadRows {
            data: &qkv,
            rows: t,
            stride: width,
            offset: 0,
            heads: c.heads,
            dim: c.head_dim,
        };
        let mut ctx = vec![0f32; t * qd];
        attention(
            q_rows,
            kv_rows(&keys, s, c),
            kv_rows(&values, s, c),
            Some(offset),
            &mut ctx,
        )?;
        let mut o = vec![0f32; t * h];
        lin.linear(id(LinearKind::Out), &layer.o, &ctx, t, &mut o)?;
        x.iter_mut().zip(&o).for_each(|(v, &d)| *v += d);

        // FFN block.
        let mut normed = x.clone();
        rms_norm(&mut normed, &layer.ffn_norm, c.rms_eps);
        let mut gu = vec![0f32; t * 2 * c.ffn];
        lin.linear(id(LinearKind::Fc1), &layer.gate_up, &normed, t, &mut gu)?;
        let mut act = vec![0f32; t * c.ffn];
        for (a, row) in act.chunks_exact_mut(c.ffn).zip(gu.chunks_exact(2 * c.ffn)) {
            let (g, u) = row.split_at(c.ffn);
            for ((a, &g), &u) in a.iter_mut().zip(g).zip(u) {
                *a = silu(g) * u;
            }
        }
        let mut d = vec![0f32; t * h];
        lin.linear(id(LinearKind::Fc2), &layer.down, &act, t, &mut d)?;
        x.iter_mut().zip(&d).for_each(|(v, &dv)| *v += dv);
        lin.edit_residual(l, x, pass.start)?;
        check_finite(x, h, "the residual stream")?;
        pass.layers_done += 1;
        lin.after_layer(l, x)
    }

    /// Every layer over `ids` at the cache's next positions (position 0 without a cache): the
    /// residual stream after the last layer (T × hidden).
    pub fn forward(
        &self,
        ids: &[u32],
        mut cache: Option<&mut KvCache>,
        lin: &mut dyn Linears,
    ) -> Result<Vec<f32>> {
        let start = cache.as_ref().map_or(0, |c| c.len());
        let mut pass = self.begin(ids, start)?;
        while pass.layers_done < self.layers.len() {
            self.next_layer(&mut pass, cache.as_deref_mut(), lin)?;
        }
        Ok(pass.hidden)
    }

    /// The final RMSNorm · output_norm of residual rows (T × hidden), in place.
    pub fn final_norm(&self, hidden: &mut [f32]) {
        rms_norm(hidden, &self.out_norm, self.cfg.rms_eps);
    }

    /// Logits of one normed hidden row against the whole vocabulary (the fused decode-and-dot
    /// over the head's rows: what one generated token costs).
    pub fn logits_row(&self, h: &[f32]) -> Result<Vec<f32>> {
        let head = self.head();
        if h.len() != head.cols() {
            return Err(QuantError::LengthMismatch {
                what: "hidden row",
                expected: head.cols(),
                got: h.len(),
            });
        }
        let mut sums = Vec::new();
        quantlab_kernels::ggml::block_sums(h, &mut sums);
        let mut out = vec![0f32; head.rows()];
        head.dot_rows(0, h, &sums, &mut out)?;
        Ok(out)
    }
}

impl Family for Llama {
    fn shapes(&self) -> Shapes {
        self.cfg.shapes()
    }

    fn float_weights(&self, id: LinearId) -> Result<Cow<'_, Dense>> {
        self.product(id)?.weights()
    }

    fn run_float(&self, ids: &[u32], lin: &mut dyn Linears) -> Result<()> {
        self.forward(ids, None, lin).map(drop)
    }

    /// A block-diagonal Hadamard of [`HADAMARD_BLOCK`] channels.
    fn hadamard(&self, k: usize) -> Result<Hadamard> {
        Hadamard::block(k, HADAMARD_BLOCK)
    }
}

/// x / √(mean(x²) + ε) · w for every row (mean in f64).
pub fn rms_norm(x: &mut [f32], w: &[f32], eps: f64) {
    let c = w.len();
    if c == 0 {
        return;
    }
    for row in x.chunks_exact_mut(c) {
        let ms = row
            .iter()
            .map(|&v| f64::from(v) * f64::from(v))
            .sum::<f64>()
            / c as f64;
        let r = (ms + eps).sqrt() as f32;
        for (v, &g) in row.iter_mut().zip(w) {
            *v = *v / r * g;
        }
    }
}

/// RoPE: (cos, sin) of pos·θ^(−2i/dim) for i < half, in f64 rounded once to f32. A pass computes
/// them once per row for all layers (the f64 `powf` per pair and layer was ~3 % of a forward).
fn rope_angles(half: usize, pos: usize, theta: f64) -> impl Iterator<Item = [f32; 2]> {
    let dim = (2 * half) as f64;
    (0..half).map(move |i| {
        let ang = pos as f64 * theta.powf(-((2 * i) as f64) / dim);
        [ang.cos() as f32, ang.sin() as f32]
    })
}

/// RoPE as llama.cpp applies it to GGUF weights: each head's adjacent pair (2i, 2i + 1)
/// rotated by angle i.
fn rotate_pairs(x: &mut [f32], dim: usize, angles: &[[f32; 2]]) {
    for head in x.chunks_exact_mut(dim) {
        for (p, &[c, s]) in head.chunks_exact_mut(2).zip(angles) {
            if let [a, b] = p {
                let (x0, x1) = (*a, *b);
                *a = x0 * c - x1 * s;
                *b = x0 * s + x1 * c;
            }
        }
    }
}

/// x·σ(x) = x / (1 + e^(−x)), with σ from e^(−|x|) by the models' branch-free exponential
/// (2 ulp; libm's `expf` is a call per value in wasm, ~10 % of a forward): within a few ulp of
/// the reference's x / (1 + exp(−x)).
#[inline]
pub fn silu(x: f32) -> f32 {
    let t = super::bert::exp_nonpositive(-x.abs());
    let sigma = if x >= 0.0 {
        1.0 / (1.0 + t)
    } else {
        t / (1.0 + t)
    };
    x * sigma
}

fn check_finite(x: &[f32], width: usize, what: &'static str) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(QuantError::BadModel {
            part: what.into(),
            reason: format!(
                "became NaN or infinite at token {}, channel {} ({} values): the numbers \
                 overflowed f32",
                i / width.max(1),
                i % width.max(1),
                x.iter().filter(|v| !v.is_finite()).count()
            ),
        }),
    }
}
