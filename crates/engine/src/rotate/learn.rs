//! A learned rotation (SpinQuant, Liu et al., ICLR 2025): R is optimised on the orthogonal
//! group O(C) to minimise this layer's quantized output error,
//!
//!   L(R) = ‖Q(X·R)·Q(Rᵀ·W) − X·W‖²_F / ‖X·W‖²_F,
//!
//! with Q the fake quantization of [`crate::linear`] (the same numbers as
//! [`LayerCase::error_with`]: L = rel_err²).
//!
//! # Gradient (straight-through estimator)
//! Write A = X·R (T×C), B = Rᵀ·W (C×N), Â = Q(A), B̂ = Q(B), Ŷ = Â·B̂, E = Ŷ − Y. Then
//! ∂L/∂Ŷ = 2E/‖Y‖², ∂L/∂Â = (∂L/∂Ŷ)·B̂ᵀ and ∂L/∂B̂ = Âᵀ·(∂L/∂Ŷ). The STE treats round() as
//! the identity and the absmax scales as constants (they are detached; with absmax scales
//! nothing is clipped, so "identity inside the range" is identity everywhere): G_A = ∂L/∂Â,
//! G_B = ∂L/∂B̂. Both paths depend on R:
//! * A = X·R gives dL = ⟨G_A, X·dR⟩ = ⟨Xᵀ·G_A, dR⟩;
//! * B = Rᵀ·W gives dL = ⟨G_B, dRᵀ·W⟩ = tr(G_Bᵀ·dRᵀ·W) = ⟨W·G_Bᵀ, dR⟩;
//!
//! so ∂L/∂R = Xᵀ·G_A + W·G_Bᵀ. On O(C) only the skew part matters: with the right-trivialised
//! gradient G = Rᵀ·∂L/∂R = Aᵀ·G_A + B·G_Bᵀ (no product with R needed, since Rᵀ·Xᵀ = Aᵀ and
//! Rᵀ·W = B), the Riemannian gradient is R·Ω with Ω = ½(G − Gᵀ), and a step R ← R·(I − εΩ)
//! changes L by −ε‖Ω‖².
//!
//! # Optimiser: Cayley SGD with momentum
//! As SpinQuant's `train_utils/optimizer.py` (`SGDG`, after Li, Li & Todorovic, "Efficient
//! Riemannian optimization on the Stiefel manifold via the Cayley transform", ICLR 2020,
//! Algorithm 1): momentum M ← β·M + Ω (kept in the Lie algebra of skew matrices, i.e. in the
//! rotated frame), step α = min(lr, 1/(‖M‖₁ + 10⁻⁸)) (their `t = 0.5·2/(‖W‖₁ + ε)`,
//! `alpha = min(t, lr)`), and the Cayley retraction R ← R·Cay(−α·M),
//! Cay(S) = (I − S/2)⁻¹(I + S/2), which is exactly orthogonal for a skew S. Differences, all
//! deliberate:
//! * the Cayley transform is solved exactly (Gaussian elimination in f64) instead of SGDG's 5
//!   fixed-point iterations, so R stays orthogonal to f32 rounding (no QR re-orthogonalisation);
//!   A and B are updated with the same factor and recomputed from R every `refresh_every` steps;
//! * the momentum really accumulates: in SGDG as published, `V = momentum * V - g.t()` rebinds
//!   V and the final `V.copy_(V_new)` writes into that temporary, so the stored buffer stays 0
//!   and SpinQuant effectively runs without momentum; `momentum = 0` reproduces that;
//! * the gradient is divided by the loss at the start (L₀), so `lr` means the same for W8A8
//!   (L ~ 10⁻⁴) and W4A4 (L ~ 10⁻²).
//!
//! # What is cheaper than the full method, and why it is still faithful
//! The full gradient and a full Cayley step cost ~0.7 GMAC per step on C = 384, N = 1536
//! (three T·C·N products, C²·N for W's path and for updating Rᵀ·W, C³ for the update), far
//! beyond the 30 ms a browser frame budget allows. Two reductions, both unbiased or
//! descent-preserving, and both switchable off:
//! * **Column minibatch** (`grad_cols`): each step the gradient uses a fresh random subset J of
//!   the output columns, scaled by N/|J| (an unbiased estimate of the full gradient, like
//!   SpinQuant's minibatches of calibration text). The *loss* is always the exact full L(R)
//!   (all columns, exact integer GEMM), so the curve is the true objective. `grad_cols` = 0
//!   uses all columns.
//! * **Blocks** (`block`): each step draws a random partition of the channels into blocks of
//!   `block` and keeps only the block-diagonal part of Ω (in that permuted basis); each block
//!   gets its own small exact Cayley factor, a rotation inside the span of those channels of the
//!   current rotated frame. This is a randomised-subspace Riemannian descent: the step is still
//!   a descent direction (⟨Ω_blocks, Ω⟩ = ‖Ω_blocks‖² ≥ 0) and every pair of channels is
//!   visited over the steps, but one step moves fewer degrees of freedom. The momentum of a
//!   pair of channels only changes when they share a block. `block` ≥ C is plain full Cayley SGD.
//!
//! Defaults (C = 384, T = 126, N = 1536): blocks of 32, 256 gradient columns; per step one
//! exact int8 GEMM for the loss (T·C·N = 74 M int8 MAC) and ~60 M f32 MAC (gradients 25 M,
//! block gradients 5 M, updates of R, X·R and Rᵀ·W 25 M), about 20 ms in V8 with SIMD128.
//! `lr` = 0.2 and `momentum` = 0.5 suit a Hadamard start (already close to a good rotation:
//! on L5_fc1 at W4A4 the loss goes 0.0266 → 0.0252 in 100 steps); from the identity much larger
//! steps pay off (`lr` ≈ 20 to 1000, where the 1/‖M‖₁ cap takes over: 0.138 → 0.031 in 60 steps).
//! The loss is piecewise constant in R (rounding), so the curve is not monotone.
//! For C = 1536 (L0_fc2) a step costs ~4× more and the periodic refresh of Rᵀ·W ~0.9 GMAC.

use crate::error::{at, QuantError, Result};
use crate::linear::{
    gemm_f32, quantize_symmetric, quantized_matmul, transpose, ActGranularity, LayerCase,
    LayerError, LayerQuant, Operand, Quantized, ScaleAxis, WeightGranularity,
};
use crate::synth::Pcg32;

use super::{Rotated, Rotation};

/// Most steps one [`Learner::step`] call runs.
pub const MAX_STEPS_PER_CALL: usize = 100_000;

/// Settings of the learned rotation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearnConfig {
    /// The quantization whose error is minimised (per-token or per-tensor activations).
    pub quant: LayerQuant,
    /// Learning rate (relative: the gradient is divided by the loss at the start).
    pub lr: f32,
    /// Heavy-ball momentum β in [0, 1).
    pub momentum: f32,
    /// Channels per Cayley block (≥ 2); ≥ C means full Cayley SGD.
    pub block: usize,
    /// Output columns in each step's gradient (a fresh random subset); 0 = all.
    pub grad_cols: usize,
    /// Seed of the column subsets and the block partitions.
    pub seed: u64,
    /// Recompute X·R and Rᵀ·W from R every this many steps (0 = never).
    pub refresh_every: usize,
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig {
            quant: LayerQuant::new(4, 4, ActGranularity::PerToken),
            lr: 0.2,
            momentum: 0.5,
            block: 32,
            grad_cols: 256,
            seed: 0,
            refresh_every: 64,
        }
    }
}

impl LearnConfig {
    fn check(&self) -> Result<()> {
        let bad = |name: &'static str, value: String, allowed: &'static str| {
            Err(QuantError::InvalidParameter {
                name,
                value,
                allowed,
            })
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("learning rate", self.lr.to_string(), "a finite number > 0");
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return bad("momentum", self.momentum.to_string(), "a number in [0, 1)");
        }
        if self.block < 2 {
            return bad(
                "Cayley block size",
                self.block.to_string(),
                "at least 2 channels",
            );
        }
        if self.quant.act == ActGranularity::PerChannel {
            return bad(
                "activation granularity of the objective",
                "per-channel".into(),
                "per-token, per-tensor or float",
            );
        }
        if self.quant.weights != WeightGranularity::Float {
            crate::linear::q_max(self.quant.w_bits)?;
        }
        if self.quant.act != ActGranularity::Float {
            crate::linear::q_max(self.quant.a_bits)?;
        }
        Ok(())
    }
}

/// The state of a learned-rotation run; call [`step`](Self::step) a few times per animation
/// frame, change `lr`/`momentum` in between, read [`rotation`](Self::rotation) at any time.
#[derive(Clone, Debug)]
pub struct Learner {
    t: usize,
    c: usize,
    n: usize,
    cfg: LearnConfig,
    init: String,
    x: Vec<f32>,
    w: Vec<f32>,
    y: Vec<f64>,
    y_norm2: f64,
    r: Vec<f32>,
    a: Vec<f32>,
    b: Vec<f32>,
    mom: Vec<f32>,
    col_perm: Vec<usize>,
    rng: Pcg32,
    grad_scale: f64,
    steps: usize,
    losses: Vec<f32>,
    /// The best R evaluated so far and its loss: a step can overshoot, and the learned
    /// rotation must never end worse than where it started.
    best_r: Vec<f32>,
    best_loss: f32,
    best_step: usize,
}

/// The quantized sides of the current forward pass.
struct Forward {
    loss: f64,
    /// Ŷ − Y (T×N).
    e: Vec<f64>,
    qa: Option<Quantized>,
    qb: Option<Quantized>,
}

impl Learner {
    /// Starts from `init` (identity, Hadamard, random or a given orthogonal R) on `case`.
    pub fn new(case: &LayerCase, init: &Rotation, cfg: LearnConfig) -> Result<Self> {
        cfg.check()?;
        let (t, c, n) = (case.tokens(), case.in_channels(), case.out_channels());
        let r = init.matrix(c)?;
        let mut l = Learner {
            t,
            c,
            n,
            cfg,
            init: init.name(),
            x: case.x().to_vec(),
            w: case.w().to_vec(),
            y: case.reference().to_vec(),
            y_norm2: case.reference_norm() * case.reference_norm(),
            a: Vec::new(),
            b: Vec::new(),
            mom: vec![0f32; c * c],
            col_perm: (0..n).collect(),
            r,
            rng: Pcg32::new(cfg.seed),
            grad_scale: 1.0,
            steps: 0,
            losses: Vec::new(),
            best_r: Vec::new(),
            best_loss: f32::INFINITY,
            best_step: 0,
        };
        l.refresh()?;
        let l0 = l.forward()?.loss;
        l.grad_scale = if l0 > 0.0 { 1.0 / l0 } else { 1.0 };
        l.best_r = l.r.clone();
        l.best_loss = l0 as f32;
        Ok(l)
    }

    /// Runs `n_steps` steps; returns the loss L(R) (all columns, exact) at the start of each.
    pub fn step(&mut self, n_steps: usize) -> Result<Vec<f32>> {
        if n_steps > MAX_STEPS_PER_CALL {
            return Err(QuantError::TooLarge {
                what: "number of steps in one call",
                got: n_steps as u128,
                limit: MAX_STEPS_PER_CALL as u128,
            });
        }
        let mut out = Vec::with_capacity(n_steps);
        for _ in 0..n_steps {
            // The loss a step returns is that of R before its update: keep that R if it is the
            // best so far.
            let (before, at) = (self.r.clone(), self.steps);
            let l = self.one_step()?;
            if l < self.best_loss {
                (self.best_r, self.best_loss, self.best_step) = (before, l, at);
            }
            out.push(l);
            self.losses.push(l);
        }
        Ok(out)
    }

    /// The objective at the current R (one forward pass; rel_err = √loss).
    pub fn loss(&self) -> Result<f32> {
        Ok(self.forward()?.loss as f32)
    }

    /// The current rotation R (C×C row-major).
    pub fn rotation(&self) -> &[f32] {
        &self.r
    }

    /// X·R as maintained by the learner (T×C).
    pub fn rotated_x(&self) -> &[f32] {
        &self.a
    }

    /// The current R as a [`Rotation::Dense`] named `learned:STEPS`.
    pub fn to_rotation(&self) -> Rotation {
        Rotation::Dense {
            name: format!("learned:{}", self.steps),
            r: self.r.clone(),
        }
    }

    /// The result of the run: the R with the lowest loss among the start, every step's and the
    /// current one (never worse than the starting rotation), its loss and the step it came from
    /// (`steps()` for the current R).
    pub fn best(&self) -> Result<(Rotation, f32, usize)> {
        let now = self.loss()?;
        let (r, loss, step) = if now <= self.best_loss {
            (self.r.clone(), now, self.steps)
        } else {
            (self.best_r.clone(), self.best_loss, self.best_step)
        };
        let name = format!("learned:{}", self.steps);
        Ok((Rotation::Dense { name, r }, loss, step))
    }

    /// X′ = X·R and W′ = Rᵀ·W for the run's best R ([`best`](Self::best)).
    pub fn rotated(&self, case: &LayerCase) -> Result<Rotated> {
        Rotated::new(case, &self.best()?.0)
    }

    /// The error of the run's best R with another quantization setting.
    pub fn error(&self, case: &LayerCase, cfg: &LayerQuant) -> Result<LayerError> {
        self.rotated(case)?.error(case, cfg)
    }

    /// Every loss returned so far.
    pub fn losses(&self) -> &[f32] {
        &self.losses
    }

    /// Steps done.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The starting rotation's name.
    pub fn init_name(&self) -> &str {
        &self.init
    }

    pub fn config(&self) -> &LearnConfig {
        &self.cfg
    }

    /// Changes the learning rate (takes effect at the next step).
    pub fn set_lr(&mut self, lr: f32) -> Result<()> {
        let cfg = LearnConfig { lr, ..self.cfg };
        cfg.check()?;
        self.cfg = cfg;
        Ok(())
    }

    /// Changes the momentum (takes effect at the next step).
    pub fn set_momentum(&mut self, momentum: f32) -> Result<()> {
        let cfg = LearnConfig {
            momentum,
            ..self.cfg
        };
        cfg.check()?;
        self.cfg = cfg;
        Ok(())
    }

    /// ‖RᵀR − I‖_F (f64).
    pub fn orthogonality_error(&self) -> Result<f64> {
        super::orthogonal::orthogonality_error(&self.r, self.c)
    }

    /// A = X·R and B = Rᵀ·W from R.
    fn refresh(&mut self) -> Result<()> {
        self.a = gemm_f32(&self.x, self.t, self.c, &self.r, self.c)?;
        self.b = gemm_f32(
            &transpose(&self.r, self.c, self.c),
            self.c,
            self.c,
            &self.w,
            self.n,
        )?;
        Ok(())
    }

    fn forward(&self) -> Result<Forward> {
        let (t, c, n) = (self.t, self.c, self.n);
        let q = self.cfg.quant;
        let qa = match q.act {
            ActGranularity::PerToken => Some(quantize_symmetric(
                &self.a,
                t,
                c,
                q.a_bits,
                ScaleAxis::Rows,
            )?),
            ActGranularity::PerTensor => Some(quantize_symmetric(
                &self.a,
                t,
                c,
                q.a_bits,
                ScaleAxis::Tensor,
            )?),
            _ => None,
        };
        let qb = match q.weights {
            WeightGranularity::PerOutputChannel => Some(quantize_symmetric(
                &self.b,
                c,
                n,
                q.w_bits,
                ScaleAxis::Cols,
            )?),
            WeightGranularity::PerTensor => Some(quantize_symmetric(
                &self.b,
                c,
                n,
                q.w_bits,
                ScaleAxis::Tensor,
            )?),
            WeightGranularity::Float => None,
        };
        let opa = qa
            .as_ref()
            .map_or(Operand::Float(&self.a), Operand::Quantized);
        let opb = qb
            .as_ref()
            .map_or(Operand::Float(&self.b), Operand::Quantized);
        let mut e = quantized_matmul(opa, opb, t, c, n)?;
        let mut e2 = 0f64;
        for (v, &y) in e.iter_mut().zip(&self.y) {
            *v -= y;
            e2 += *v * *v;
        }
        let loss = if self.y_norm2 > 0.0 {
            e2 / self.y_norm2
        } else {
            0.0
        };
        Ok(Forward { loss, e, qa, qb })
    }

    /// The gradient's columns for this step (sorted).
    fn sample_columns(&mut self) -> Vec<usize> {
        let (n, k) = (self.n, self.cfg.grad_cols);
        if k == 0 || k >= n {
            return (0..n).collect();
        }
        for i in 0..k {
            let j = i + below(&mut self.rng, n - i);
            self.col_perm.swap(i, j);
        }
        let mut cols: Vec<usize> = self.col_perm.iter().take(k).copied().collect();
        cols.sort_unstable();
        cols
    }

    fn one_step(&mut self) -> Result<f32> {
        let (t, c, n) = (self.t, self.c, self.n);
        let fw = self.forward()?;
        let cols = self.sample_columns();
        let ns = cols.len();
        // ∂L/∂Ŷ on the sampled columns, scaled by N/|J| (unbiased) and by 1/L₀.
        let f = if self.y_norm2 > 0.0 {
            2.0 * self.grad_scale / self.y_norm2 * (n as f64 / ns.max(1) as f64)
        } else {
            0.0
        };
        let mut gy = Vec::with_capacity(t * ns);
        for erow in fw.e.chunks_exact(n) {
            for &j in &cols {
                gy.push((f * at(erow, j, "output error row")?) as f32);
            }
        }
        // B̂ on the sampled columns, transposed (|J|×C), and Â (T×C).
        let bhat_t: Vec<f32> = match &fw.qb {
            Some(qb) => {
                let mut v = vec![0f32; ns * c];
                for (i, crow) in qb.codes.chunks_exact(n).enumerate() {
                    for (p, &j) in cols.iter().enumerate() {
                        if let (Some(o), Some(&code)) = (v.get_mut(p * c + i), crow.get(j)) {
                            *o = f32::from(code) * qb.scale_at(i, j);
                        }
                    }
                }
                v
            }
            None => {
                let mut v = vec![0f32; ns * c];
                for (i, brow) in self.b.chunks_exact(n).enumerate() {
                    for (p, &j) in cols.iter().enumerate() {
                        if let (Some(o), Some(&bv)) = (v.get_mut(p * c + i), brow.get(j)) {
                            *o = bv;
                        }
                    }
                }
                v
            }
        };
        let ahat = match &fw.qa {
            Some(qa) => qa.dequantize(),
            None => self.a.clone(),
        };
        let loss = fw.loss;
        drop(fw);
        // G_A = ∂L/∂Ŷ_J·B̂_Jᵀ (T×C), G_B,J = Âᵀ·∂L/∂Ŷ_J (C×|J|).
        let ga = gemm_f32(&gy, t, ns, &bhat_t, c)?;
        let gb = gemm_f32(&transpose(&ahat, t, c), c, t, &gy, ns)?;
        drop((ahat, bhat_t, gy));
        for set in self.partition() {
            self.block_step(&set, &cols, &ga, &gb)?;
        }
        self.steps += 1;
        if self.cfg.refresh_every > 0 && self.steps.is_multiple_of(self.cfg.refresh_every) {
            self.refresh()?;
        }
        Ok(loss as f32)
    }

    /// The channel blocks of this step: all channels, or a random partition.
    fn partition(&mut self) -> Vec<Vec<usize>> {
        let c = self.c;
        if self.cfg.block >= c {
            return vec![(0..c).collect()];
        }
        let mut perm: Vec<usize> = (0..c).collect();
        for i in (1..c).rev() {
            let j = below(&mut self.rng, i + 1);
            perm.swap(i, j);
        }
        perm.chunks(self.cfg.block)
            .filter(|s| s.len() >= 2)
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// One Cayley update inside the channels `set` of the rotated frame, from G_A (T×C) and
    /// G_B on the columns `cols` (C×|J|).
    fn block_step(&mut self, set: &[usize], cols: &[usize], ga: &[f32], gb: &[f32]) -> Result<()> {
        let (t, c, n) = (self.t, self.c, self.n);
        let (m, ns) = (set.len(), cols.len());
        let kk = t + ns;
        // G_S = A[:,S]ᵀ·G_A[:,S] + B[S,J]·G_B[S,J]ᵀ as one product [A_Sᵀ | B_SJ]·[G_A,S ; G_B,SJᵀ].
        let mut lmat = vec![0f32; m * kk];
        for (&ch, lrow) in set.iter().zip(lmat.chunks_exact_mut(kk)) {
            let (la, lb) = lrow.split_at_mut(t);
            for (o, arow) in la.iter_mut().zip(self.a.chunks_exact(c)) {
                *o = at(arow, ch, "rotated activation row")?;
            }
            let brow = self
                .b
                .get(ch * n..(ch + 1) * n)
                .ok_or(QuantError::LengthMismatch {
                    what: "rotated weights",
                    expected: (ch + 1) * n,
                    got: self.b.len(),
                })?;
            for (o, &j) in lb.iter_mut().zip(cols) {
                *o = at(brow, j, "rotated weight row")?;
            }
        }
        let mut rmat = vec![0f32; kk * m];
        for (rrow, garow) in rmat.chunks_exact_mut(m).zip(ga.chunks_exact(c)) {
            for (o, &ch) in rrow.iter_mut().zip(set) {
                *o = at(garow, ch, "activation gradient row")?;
            }
        }
        for (p, &ch) in set.iter().enumerate() {
            if let Some(gbrow) = gb.get(ch * ns..(ch + 1) * ns) {
                for (j, &v) in gbrow.iter().enumerate() {
                    if let Some(o) = rmat.get_mut((t + j) * m + p) {
                        *o = v;
                    }
                }
            }
        }
        let g = gemm_f32(&lmat, m, kk, &rmat, m)?;
        // Momentum in the Lie algebra: M_S ← β·M_S + ½(G_S − G_Sᵀ).
        let beta = self.cfg.momentum;
        let mut msub = vec![0f64; m * m];
        for (p, &cp) in set.iter().enumerate() {
            for (q, &cq) in set.iter().enumerate() {
                let gpq = at(&g, p * m + q, "block gradient")?;
                let gqp = at(&g, q * m + p, "block gradient")?;
                let Some(slot) = self.mom.get_mut(cp * c + cq) else {
                    continue;
                };
                *slot = beta * *slot + 0.5 * (gpq - gqp);
                if let Some(o) = msub.get_mut(p * m + q) {
                    *o = f64::from(*slot);
                }
            }
        }
        // α = min(lr, 1/(‖M‖₁ + ε)), ‖·‖₁ = the largest column sum of |M|.
        let mut norm1 = 0f64;
        for q in 0..m {
            let s: f64 = (0..m)
                .map(|p| msub.get(p * m + q).map_or(0.0, |v| v.abs()))
                .sum();
            norm1 = norm1.max(s);
        }
        let alpha = f64::from(self.cfg.lr).min(1.0 / (norm1 + 1e-8));
        let k = cayley(&msub, m, alpha)?;
        // R[:,S] ← R[:,S]·K, A[:,S] ← A[:,S]·K, B[S,:] ← Kᵀ·B[S,:].
        update_cols(&mut self.r, c, c, set, &k)?;
        update_cols(&mut self.a, t, c, set, &k)?;
        update_rows(&mut self.b, n, set, &transpose(&k, m, m))?;
        Ok(())
    }
}

/// Uniform integer in [0, n) (Lemire's multiply-shift; n ≥ 1).
fn below(rng: &mut Pcg32, n: usize) -> usize {
    ((u64::from(rng.next_u32()) * n as u64) >> 32) as usize
}

/// K = (I + (α/2)·M)⁻¹·(I − (α/2)·M) = Cay(−α·M) for a skew m×m M, by Gaussian elimination
/// with partial pivoting in f64 (I + (α/2)M has eigenvalues 1 ± iθ, so it is never singular).
fn cayley(msk: &[f64], m: usize, alpha: f64) -> Result<Vec<f32>> {
    let h = alpha / 2.0;
    let w = 2 * m;
    // Augmented [P | Q], P = I + hM, Q = I − hM.
    let mut aug = vec![0f64; m * w];
    for i in 0..m {
        for j in 0..m {
            let v = h * at(msk, i * m + j, "skew matrix")?;
            let id = if i == j { 1.0 } else { 0.0 };
            if let Some(o) = aug.get_mut(i * w + j) {
                *o = id + v;
            }
            if let Some(o) = aug.get_mut(i * w + m + j) {
                *o = id - v;
            }
        }
    }
    for col in 0..m {
        let piv = (col..m)
            .max_by(|&a, &b| {
                let va = aug.get(a * w + col).map_or(0.0, |v| v.abs());
                let vb = aug.get(b * w + col).map_or(0.0, |v| v.abs());
                va.total_cmp(&vb)
            })
            .unwrap_or(col);
        if piv != col {
            for j in 0..w {
                aug.swap(piv * w + j, col * w + j);
            }
        }
        let d = at(&aug, col * w + col, "Cayley system")?;
        if d.abs() < 1e-300 || !d.is_finite() {
            return Err(QuantError::InvalidParameter {
                name: "Cayley step",
                value: format!("α = {alpha}"),
                allowed: "a step for which I + (α/2)·M is invertible (lower the learning rate)",
            });
        }
        let (upper, lower) = aug.split_at_mut((col + 1) * w);
        let Some(prow) = upper.get(col * w..(col + 1) * w) else {
            continue;
        };
        for row in lower.chunks_exact_mut(w) {
            let f = at(row, col, "Cayley system row")? / d;
            if f != 0.0 {
                row.iter_mut()
                    .zip(prow)
                    .skip(col)
                    .for_each(|(r, &p)| *r -= f * p);
            }
        }
    }
    // Back substitution for the m right-hand sides.
    let mut k = vec![0f64; m * m];
    for i in (0..m).rev() {
        let d = at(&aug, i * w + i, "Cayley system")?;
        for j in 0..m {
            let mut s = at(&aug, i * w + m + j, "Cayley system")?;
            for l in i + 1..m {
                s -= at(&aug, i * w + l, "Cayley system")? * at(&k, l * m + j, "Cayley solution")?;
            }
            if let Some(o) = k.get_mut(i * m + j) {
                *o = s / d;
            }
        }
    }
    Ok(k.iter().map(|&v| v as f32).collect())
}

/// mat[:, set] ← mat[:, set]·K for a rows×cols matrix and an m×m K.
fn update_cols(mat: &mut [f32], rows: usize, cols: usize, set: &[usize], k: &[f32]) -> Result<()> {
    let m = set.len();
    let mut sub = vec![0f32; rows * m];
    for (srow, mrow) in sub.chunks_exact_mut(m).zip(mat.chunks_exact(cols)) {
        for (o, &ch) in srow.iter_mut().zip(set) {
            *o = at(mrow, ch, "matrix row")?;
        }
    }
    let new = gemm_f32(&sub, rows, m, k, m)?;
    for (nrow, mrow) in new.chunks_exact(m).zip(mat.chunks_exact_mut(cols)) {
        for (&v, &ch) in nrow.iter().zip(set) {
            if let Some(o) = mrow.get_mut(ch) {
                *o = v;
            }
        }
    }
    Ok(())
}

/// mat[set, :] ← Kᵀ·mat[set, :] given kt = Kᵀ (m×m), for a matrix with rows of `cols` values.
fn update_rows(mat: &mut [f32], cols: usize, set: &[usize], kt: &[f32]) -> Result<()> {
    let m = set.len();
    let mut sub = Vec::with_capacity(m * cols);
    for &ch in set {
        match mat.get(ch * cols..(ch + 1) * cols) {
            Some(r) => sub.extend_from_slice(r),
            None => sub.extend(std::iter::repeat_n(0.0, cols)),
        }
    }
    let new = gemm_f32(kt, m, m, &sub, cols)?;
    for (&ch, nrow) in set.iter().zip(new.chunks_exact(cols.max(1))) {
        if let Some(dst) = mat.get_mut(ch * cols..(ch + 1) * cols) {
            dst.copy_from_slice(nrow);
        }
    }
    Ok(())
}
