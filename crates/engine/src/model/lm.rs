//! How a language model is measured: perplexity (the papers' number), the KL divergence of its
//! next-token distribution from full precision and how often its top choice agrees
//! (llama.cpp's `perplexity --kl-divergence`), the words it writes (greedy decoding), and its
//! massive activations (Sun et al., "Massive Activations in Large Language Models", COLM 2024).
//!
//! * Perplexity of a text of N tokens: exp of the mean negative log-likelihood (natural log)
//!   of tokens 2…N given their prefix, the whole text in one forward pass.
//! * KL(P_fp ‖ P_q) at each of those positions, averaged; top-1 agreement: the fraction of
//!   positions where both pick the same token (ties: the lowest id, as NumPy's argmax).
//!
//! The logits of a 2,048-token text are 2,048 × 49,152 floats (400 MB), so they never exist
//! whole: the output head is decoded a slice of the vocabulary at a time ([`VOCAB_CHUNK`]
//! rows), the slice's logits come out of one GEMM, and every position keeps running sums
//! (log-sum-exp with a running maximum) in f64. The reference's one scoring pass also keeps
//! the p-weighted mean of the head's rows ([`Reference`]), so comparing any model with it
//! needs no second pass over the head.

use super::family::{FloatLinear, LinearId, Linears};
use super::llama::{KvCache, Llama};
use crate::error::{QuantError, Result};
use quantlab_kernels::PackedF32;

/// Other texts for the intervention's "mean" (Sun et al. average the massive activation over
/// many sequences; its value at token 0 barely depends on the text).
pub const MEAN_TEXTS: [&str; 4] = [
    "Rain is expected in the afternoon, so take an umbrella.",
    "She opened the window and listened to the birds outside.",
    "Our train leaves at seven, and the tickets are in my bag.",
    "The recipe needs two eggs, a cup of flour and some butter.",
];

/// Vocabulary rows of the output head decoded at a time.
pub const VOCAB_CHUNK: usize = 1024;

/// What a text's next-token predictions score.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    /// Tokens of the text (N); N − 1 predictions are scored.
    pub tokens: usize,
    /// Mean negative log-likelihood (nats).
    pub nll: f64,
    pub ppl: f64,
    /// −log p(token t + 1 | tokens ≤ t) for t = 0 … N − 2.
    pub token_nll: Vec<f64>,
    /// The most likely next token at each scored position.
    pub argmax: Vec<u32>,
    /// Mean KL(P_reference ‖ P) when a reference was given.
    pub kl: Option<f64>,
    /// Per-position KL when a reference was given.
    pub token_kl: Option<Vec<f64>>,
    /// Fraction of positions where the reference's top token is this model's.
    pub top1: Option<f64>,
}

#[derive(Clone, Copy, Debug)]
struct Running {
    max: f64,
    sum: f64,
    best: f64,
    arg: u32,
}

impl Running {
    const START: Running = Running {
        max: f64::NEG_INFINITY,
        sum: 0.0,
        best: f64::NEG_INFINITY,
        arg: 0,
    };

    fn lse(&self) -> f64 {
        self.max + self.sum.ln()
    }
}

/// The normed final hidden states (N × hidden) of `ids` in one pass through `lin`.
pub fn final_hidden(model: &Llama, ids: &[u32], lin: &mut dyn Linears) -> Result<Vec<f32>> {
    let mut h = model.forward(ids, None, lin)?;
    model.final_norm(&mut h);
    Ok(h)
}

/// Scores the predictions of the normed hidden states `hidden` (N × hidden, from
/// [`final_hidden`]) of `ids`, and compares them with the full-precision model's
/// ([`score_reference`]) when given.
pub fn score(
    model: &Llama,
    ids: &[u32],
    hidden: &[f32],
    reference: Option<&Reference>,
) -> Result<Scores> {
    let mut s = Scorer::new(model, ids, hidden, reference)?;
    while !s.is_done() {
        s.step(model)?;
    }
    s.finish()
}

/// [`score`] for the reference model itself, keeping what every later comparison with it
/// needs ([`Reference`]).
pub fn score_reference(model: &Llama, ids: &[u32], hidden: &[f32]) -> Result<(Scores, Reference)> {
    let mut s = Scorer::reference(model, ids, hidden)?;
    while !s.is_done() {
        s.step(model)?;
    }
    s.finish_reference()
}

/// What the KL divergence and the top-1 agreement of any model against the reference need,
/// kept from the reference's one scoring pass, so that a comparison costs one pass over the
/// output head instead of two.
///
/// The head is linear (z = W·h, no bias), so with p the reference's next-token distribution
///
///   KL(p ‖ q) = Σ_j p_j (z_p,j − z_q,j) − lse_p + lse_q = u·(h_p − h_q) − lse_p + lse_q,
///
/// u = Σ_j p_j W_j (one `hidden`-wide row per position). This is the same quantity as
/// llama.cpp's `--kl-divergence` sum over the vocabulary, regrouped: the two differ by the f32
/// rounding of the logits z_p − z_q they would otherwise subtract (≲ 1e-6 · Σ|W||h| per
/// position), never by the method. u·(h_p − h_q) is summed in f64 from the rows themselves, so
/// a model equal to the reference gets exactly 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Reference {
    width: usize,
    /// The normed hidden rows that predict (M × width, M = N − 1).
    hidden: Vec<f32>,
    /// u per position (M × width).
    mean_row: Vec<f64>,
    lse: Vec<f64>,
    argmax: Vec<u32>,
}

impl Reference {
    /// Positions scored (N − 1).
    pub fn positions(&self) -> usize {
        self.lse.len()
    }
}

/// The reference's side, accumulated while it is scored: Σ_j e^(z_j − max)·W_j per position
/// (rescaled with the running maximum, as the log-sum-exp), from one GEMM per slice.
#[derive(Clone, Debug)]
struct Collect {
    mean_row: Vec<f64>,
    /// e^(z − max) of the slice, all positions (M × slice).
    e: Vec<f32>,
    /// The slice's decoded head rows, row-major (slice × width).
    rows: Vec<f32>,
    /// e · rows (M × width).
    prod: Vec<f32>,
}

/// A comparison's per-position parts known before any logit: u·(h_p − h_q), lse_p, the
/// reference's argmax.
#[derive(Clone, Debug)]
struct Against {
    dot: Vec<f64>,
    lse: Vec<f64>,
    argmax: Vec<u32>,
}

/// [`score`] one slice of the vocabulary ([`VOCAB_CHUNK`] rows of the output head) per
/// [`Scorer::step`], so a page can answer input between slices.
#[derive(Clone, Debug)]
pub struct Scorer {
    ids: Vec<u32>,
    /// Tokens whose next token is predicted (N − 1).
    m: usize,
    width: usize,
    vocab: usize,
    /// The next vocabulary id to score.
    v0: usize,
    hq: Vec<f32>,
    q: Vec<Running>,
    target: Vec<f64>,
    zq: Vec<f32>,
    e: Vec<f32>,
    against: Option<Against>,
    collect: Option<Collect>,
}

impl Scorer {
    /// Checks the sizes and takes the rows that predict a next token.
    pub fn new(
        model: &Llama,
        ids: &[u32],
        hidden: &[f32],
        reference: Option<&Reference>,
    ) -> Result<Self> {
        let mut s = Self::plain(model, ids, hidden)?;
        if let Some(r) = reference {
            if r.width != s.width || r.positions() != s.m {
                return Err(QuantError::LengthMismatch {
                    what: "reference positions × hidden",
                    expected: s.m * s.width,
                    got: r.positions() * r.width,
                });
            }
            let dot = r
                .mean_row
                .chunks_exact(s.width)
                .zip(
                    r.hidden
                        .chunks_exact(s.width)
                        .zip(s.hq.chunks_exact(s.width)),
                )
                .map(|(u, (hp, hq))| {
                    u.iter()
                        .zip(hp.iter().zip(hq))
                        .map(|(&u, (&a, &b))| u * (f64::from(a) - f64::from(b)))
                        .sum()
                })
                .collect();
            s.against = Some(Against {
                dot,
                lse: r.lse.clone(),
                argmax: r.argmax.clone(),
            });
        }
        Ok(s)
    }

    /// A scorer of the reference model itself, collecting its [`Reference`] (one more GEMM
    /// per slice); finish it with [`Scorer::finish_reference`].
    pub fn reference(model: &Llama, ids: &[u32], hidden: &[f32]) -> Result<Self> {
        let mut s = Self::plain(model, ids, hidden)?;
        s.collect = Some(Collect {
            mean_row: vec![0f64; s.m * s.width],
            e: vec![0f32; s.m * VOCAB_CHUNK],
            rows: vec![0f32; VOCAB_CHUNK * s.width],
            prod: vec![0f32; s.m * s.width],
        });
        Ok(s)
    }

    fn plain(model: &Llama, ids: &[u32], hidden: &[f32]) -> Result<Self> {
        let head = model.head();
        let (vocab, width) = (head.rows(), head.cols());
        let n = ids.len();
        if n < 2 {
            return Err(QuantError::Empty {
                what: "text to score (perplexity needs at least 2 tokens)",
            });
        }
        if hidden.len() != n * width {
            return Err(QuantError::LengthMismatch {
                what: "hidden states (tokens × hidden)",
                expected: n * width,
                got: hidden.len(),
            });
        }
        let m = n - 1;
        Ok(Scorer {
            ids: ids.to_vec(),
            m,
            width,
            vocab,
            v0: 0,
            hq: hidden.get(..m * width).unwrap_or_default().to_vec(),
            q: vec![Running::START; m],
            target: vec![f64::NAN; m],
            zq: vec![0f32; m * VOCAB_CHUNK],
            e: vec![0f32; VOCAB_CHUNK],
            against: None,
            collect: None,
        })
    }

    /// Steps in all.
    pub fn steps(&self) -> usize {
        self.vocab.div_ceil(VOCAB_CHUNK)
    }

    pub fn is_done(&self) -> bool {
        self.v0 >= self.vocab
    }

    /// Scores the next slice of the vocabulary; nothing once done.
    pub fn step(&mut self, model: &Llama) -> Result<()> {
        if self.is_done() {
            return Ok(());
        }
        let head = model.head();
        if (head.rows(), head.cols()) != (self.vocab, self.width) {
            return Err(QuantError::ShapeMismatch {
                expected: "the model the scorer was made for".into(),
                got: "another model".into(),
            });
        }
        let (m, width, v0) = (self.m, self.width, self.v0);
        let w = VOCAB_CHUNK.min(self.vocab - v0);
        let packed = head.decode_packed_rows(v0, w)?;
        let zq = self.zq.get_mut(..m * w).unwrap_or_default();
        quantlab_kernels::gemm_f32(&self.hq, m, width, &packed, zq)?;
        for t in 0..m {
            let (Some(rq), Some(st)) = (zq.get(t * w..(t + 1) * w), self.q.get_mut(t)) else {
                continue;
            };
            let e = match self.collect.as_mut() {
                Some(c) => c.e.get_mut(t * w..(t + 1) * w).unwrap_or_default(),
                None => &mut self.e,
            };
            let f = fold(st, rq, v0, e);
            if let Some(u) = self
                .collect
                .as_mut()
                .and_then(|c| c.mean_row.get_mut(t * width..(t + 1) * width))
            {
                if f != 1.0 {
                    u.iter_mut().for_each(|v| *v *= f);
                }
            }
            let want = self.ids.get(t + 1).map_or(usize::MAX, |&i| i as usize);
            if (v0..v0 + w).contains(&want) {
                if let (Some(tg), Some(&z)) = (self.target.get_mut(t), rq.get(want - v0)) {
                    *tg = f64::from(z);
                }
            }
        }
        if let Some(c) = self.collect.as_mut() {
            let rows = c.rows.get_mut(..w * width).unwrap_or_default();
            for (j, row) in rows.chunks_exact_mut(width).enumerate() {
                head.decode_row(v0 + j, row)?;
            }
            let packed = PackedF32::pack(rows, w, width)?;
            let e = c.e.get(..m * w).unwrap_or_default();
            quantlab_kernels::gemm_f32(e, m, w, &packed, &mut c.prod)?;
            for (u, &v) in c.mean_row.iter_mut().zip(&c.prod) {
                *u += f64::from(v);
            }
        }
        self.v0 += w;
        Ok(())
    }

    /// The scores, once every slice is done.
    pub fn finish(self) -> Result<Scores> {
        if !self.is_done() {
            return Err(QuantError::Empty {
                what: "scores (the vocabulary is not scored to its end)",
            });
        }
        let (m, q) = (self.m, &self.q);
        let mut token_nll = Vec::with_capacity(m);
        for (t, (st, &tg)) in q.iter().zip(&self.target).enumerate() {
            if !tg.is_finite() {
                return Err(QuantError::InvalidParameter {
                    name: "token id",
                    value: self.ids.get(t + 1).map_or(String::new(), u32::to_string),
                    allowed: "below the vocabulary size",
                });
            }
            token_nll.push(st.lse() - tg);
        }
        let nll = token_nll.iter().sum::<f64>() / m as f64;
        let argmax: Vec<u32> = q.iter().map(|s| s.arg).collect();
        let (kl, token_kl, top1) = match &self.against {
            Some(r) => {
                let tkl: Vec<f64> = q
                    .iter()
                    .zip(r.dot.iter().zip(&r.lse))
                    .map(|(sq, (&dot, &lse_p))| (dot - lse_p + sq.lse()).max(0.0))
                    .collect();
                let agree = r.argmax.iter().zip(&argmax).filter(|(a, b)| a == b).count();
                (
                    Some(tkl.iter().sum::<f64>() / m as f64),
                    Some(tkl),
                    Some(agree as f64 / m as f64),
                )
            }
            None => (None, None, None),
        };
        Ok(Scores {
            tokens: self.ids.len(),
            nll,
            ppl: nll.exp(),
            token_nll,
            argmax,
            kl,
            token_kl,
            top1,
        })
    }

    /// The reference's scores and its [`Reference`] (a scorer made by [`Scorer::reference`]).
    pub fn finish_reference(mut self) -> Result<(Scores, Reference)> {
        let Some(c) = self.collect.take() else {
            return Err(QuantError::InvalidParameter {
                name: "scorer",
                value: "a plain one".into(),
                allowed: "one made by Scorer::reference",
            });
        };
        let width = self.width;
        let mut mean_row = c.mean_row;
        for (u, st) in mean_row.chunks_exact_mut(width).zip(&self.q) {
            let inv = if st.sum > 0.0 { 1.0 / st.sum } else { 0.0 };
            u.iter_mut().for_each(|v| *v *= inv);
        }
        let lse = self.q.iter().map(Running::lse).collect();
        let hidden = std::mem::take(&mut self.hq);
        let scores = self.finish()?;
        let r = Reference {
            width,
            hidden,
            mean_row,
            lse,
            argmax: scores.argmax.clone(),
        };
        Ok((scores, r))
    }
}

/// Raises a row's running maximum to that of a new chunk of logits; the factor its sums are
/// multiplied by (they are sums of e^(z − max)).
fn rescale(st: &mut Running, z: &[f32]) -> f64 {
    let mut chunk_max = f32::NEG_INFINITY;
    for &v in z {
        if v > chunk_max {
            chunk_max = v;
        }
    }
    let chunk_max = f64::from(chunk_max);
    if chunk_max > st.max {
        let f = (st.max - chunk_max).exp();
        st.sum *= f;
        st.max = chunk_max;
        f
    } else {
        1.0
    }
}

/// e^(z − max) of a chunk (z ≤ max), with the models' branch-free exponential (2 ulp): one
/// pass the compiler vectorizes, instead of 49,152 calls of f64 `exp` per position. Summed in
/// f64, the log-sum-exp is within ~1e-7 of an all-f64 one.
fn exps(z: &[f32], max: f32, out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(z) {
        *o = super::bert::exp_nonpositive(v - max);
    }
}

/// Adds one chunk of logits (starting at vocabulary id `v0`) to a row's running log-sum-exp
/// and argmax.
fn fold(st: &mut Running, z: &[f32], v0: usize, e: &mut [f32]) -> f64 {
    let f = rescale(st, z);
    exps(z, st.max as f32, e);
    st.sum += e.iter().take(z.len()).map(|&v| f64::from(v)).sum::<f64>();
    for (j, &v) in z.iter().enumerate() {
        if f64::from(v) > st.best {
            st.best = f64::from(v);
            st.arg = (v0 + j) as u32;
        }
    }
    f
}

/// Greedy decoding with a KV cache, one token per [`Greedy::step`]: the prompt runs as one
/// forward call, then every new token as its own call of one row (so per-tensor activation
/// scales and the outlier ablation's channels are those of each call, as in any engine that
/// caches keys and values).
#[derive(Clone, Debug)]
pub struct Greedy {
    cache: KvCache,
    pending: Vec<u32>,
    produced: Vec<u32>,
    max_new: usize,
    stop: Vec<u32>,
    done: bool,
}

impl Greedy {
    /// `stop`: ids that end the continuation (they are kept as its last token).
    pub fn new(prompt: &[u32], max_new: usize, stop: &[u32]) -> Result<Self> {
        if prompt.is_empty() {
            return Err(QuantError::Empty {
                what: "prompt (greedy decoding needs at least one token)",
            });
        }
        Ok(Greedy {
            cache: KvCache::new(),
            pending: prompt.to_vec(),
            produced: Vec::new(),
            max_new,
            stop: stop.to_vec(),
            done: max_new == 0,
        })
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The tokens produced so far.
    pub fn produced(&self) -> &[u32] {
        &self.produced
    }

    /// Runs the pending tokens and picks the next one; `None` once finished.
    pub fn step(&mut self, model: &Llama, lin: &mut dyn Linears) -> Result<Option<u32>> {
        if self.done {
            return Ok(None);
        }
        if self.cache.len() + self.pending.len() >= model.config().context {
            self.done = true;
            return Ok(None);
        }
        let mut h = model.forward(&self.pending, Some(&mut self.cache), lin)?;
        let width = model.config().hidden;
        let last = h.len().saturating_sub(width);
        let row = h.get_mut(last..).unwrap_or_default();
        model.final_norm(row);
        let logits = model.logits_row(row)?;
        let next = argmax(&logits);
        self.produced.push(next);
        self.pending = vec![next];
        self.done = self.produced.len() >= self.max_new || self.stop.contains(&next);
        Ok(Some(next))
    }

    /// Steps until finished; the new tokens.
    pub fn run(mut self, model: &Llama, lin: &mut dyn Linears) -> Result<Vec<u32>> {
        while self.step(model, lin)?.is_some() {}
        Ok(self.produced)
    }
}

/// Index of the largest value (the first on ties).
pub fn argmax(v: &[f32]) -> u32 {
    let mut best = (f32::NEG_INFINITY, 0usize);
    for (i, &x) in v.iter().enumerate() {
        if x > best.0 {
            best = (x, i);
        }
    }
    best.1 as u32
}

/// Where a T × C matrix has its largest magnitude.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Peak {
    pub max_abs: f32,
    pub token: usize,
    pub channel: usize,
    /// The largest |x| of the same token in any other channel.
    pub runner_up: f32,
    /// The median |x| of the whole matrix.
    pub median_abs: f32,
}

/// The [`Peak`] of `x` (rows of `width`); `None` for an empty matrix.
pub fn peak(x: &[f32], width: usize) -> Option<Peak> {
    if width == 0 || x.len() < width {
        return None;
    }
    let (i, &v) = x
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()).then(b.0.cmp(&a.0)))?;
    let (token, channel) = (i / width, i % width);
    let runner_up = x
        .get(token * width..(token + 1) * width)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(|&(c, _)| c != channel)
        .fold(0f32, |a, (_, v)| a.max(v.abs()));
    let mut mags: Vec<f32> = x.iter().map(|v| v.abs()).collect();
    let mid = mags.len() / 2;
    mags.select_nth_unstable_by(mid, f32::total_cmp);
    Some(Peak {
        max_abs: v.abs(),
        token,
        channel,
        runner_up,
        median_abs: mags.get(mid).copied().unwrap_or(0.0),
    })
}

/// Sun et al.'s intervention: after layer `layer`, the residual stream's `channels` at position
/// `position` are set to the given values (0, or their mean over other texts), once.
#[derive(Clone, Debug, PartialEq)]
pub struct Intervention {
    pub layer: usize,
    pub position: usize,
    /// (channel, value) pairs.
    pub channels: Vec<(usize, f32)>,
    /// The residual stream's width (the model's hidden size).
    pub width: usize,
}

/// A [`Linears`] that applies an [`Intervention`] around another.
pub struct Intervene<L> {
    pub inner: L,
    pub edit: Intervention,
}

impl<L: Linears> Linears for Intervene<L> {
    fn linear(
        &mut self,
        id: LinearId,
        float: &dyn FloatLinear,
        x: &[f32],
        m: usize,
        out: &mut [f32],
    ) -> Result<()> {
        self.inner.linear(id, float, x, m, out)
    }

    fn after_layer(&mut self, layer: usize, hidden: &[f32]) -> Result<()> {
        self.inner.after_layer(layer, hidden)
    }

    fn edit_residual(&mut self, layer: usize, hidden: &mut [f32], start: usize) -> Result<()> {
        self.inner.edit_residual(layer, hidden, start)?;
        let e = &self.edit;
        if layer != e.layer || e.position < start {
            return Ok(());
        }
        let row = (e.position - start) * e.width;
        for &(c, v) in &e.channels {
            if c < e.width {
                if let Some(x) = hidden.get_mut(row + c) {
                    *x = v;
                }
            }
        }
        Ok(())
    }
}
