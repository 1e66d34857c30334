//! Optimizers (PyTorch's update rules) and learning-rate schedules.
//!
//! * SGD with momentum μ (`torch.optim.SGD`, dampening 0, not Nesterov): v ← μ·v + g, p ← p − lr·v.
//! * Adam (`torch.optim.Adam`): m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
//!   p ← p − lr·(m/(1 − β1^t)) / (√(v/(1 − β2^t)) + ε).
//!
//! Weight decay, when set, is L2 added to the gradient (g ← g + λ·p, PyTorch's `weight_decay`)
//! of the weight matrices only (not biases, not step sizes).

use super::lanes;
use super::math;
use crate::error::{QuantError, Result};

/// The update rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    Sgd { momentum: f32 },
    Adam { beta1: f32, beta2: f32, eps: f32 },
}

impl Optimizer {
    /// Adam with PyTorch's defaults (0.9, 0.999, 1e-8).
    pub fn adam() -> Self {
        Optimizer::Adam {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }

    /// SGD with momentum 0.9.
    pub fn sgd_momentum() -> Self {
        Optimizer::Sgd { momentum: 0.9 }
    }

    pub fn validate(&self) -> Result<()> {
        let unit = |name: &'static str, v: f32| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(QuantError::InvalidParameter {
                    name,
                    value: v.to_string(),
                    allowed: "it must be in [0, 1)",
                })
            }
        };
        match *self {
            Optimizer::Sgd { momentum } => unit("momentum", momentum),
            Optimizer::Adam { beta1, beta2, eps } => {
                unit("Adam β1", beta1)?;
                unit("Adam β2", beta2)?;
                if eps.is_finite() && eps > 0.0 {
                    Ok(())
                } else {
                    Err(QuantError::InvalidParameter {
                        name: "Adam ε",
                        value: eps.to_string(),
                        allowed: "it must be a finite number above 0",
                    })
                }
            }
        }
    }
}

/// How the learning rate changes over a training phase (t = step / total steps in the phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LrSchedule {
    Constant,
    /// lr·½(1 + cos(π t)) (SGDR without restarts, as in the LSQ paper).
    Cosine,
}

impl LrSchedule {
    /// The factor at step `step` of `total`.
    pub fn factor(&self, step: u64, total: u64) -> f32 {
        match self {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine => {
                let t = if total == 0 {
                    0.0
                } else {
                    step as f64 / total as f64
                };
                (0.5 * (1.0 + math::cos_pi(t))) as f32
            }
        }
    }
}

/// Per-tensor optimizer state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OptState {
    rule: Optimizer,
    /// Steps taken.
    t: u64,
    /// β1^t and β2^t, kept by repeated multiplication (no powf).
    b1t: f64,
    b2t: f64,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl OptState {
    /// State for tensors of the given lengths.
    pub(crate) fn new(rule: Optimizer, lens: &[usize]) -> Self {
        let zeros = |l: &usize| vec![0.0f32; *l];
        let adam = matches!(rule, Optimizer::Adam { .. });
        OptState {
            rule,
            t: 0,
            b1t: 1.0,
            b2t: 1.0,
            m: lens.iter().map(zeros).collect(),
            v: if adam {
                lens.iter().map(zeros).collect()
            } else {
                Vec::new()
            },
        }
    }

    /// Starts a new step (call once before updating the tensors of the step).
    pub(crate) fn begin_step(&mut self) {
        self.t += 1;
        if let Optimizer::Adam { beta1, beta2, .. } = self.rule {
            self.b1t *= f64::from(beta1);
            self.b2t *= f64::from(beta2);
        }
    }

    /// Updates tensor `k` with gradient `g` scaled by `gscale`, plus L2 `wd`·p.
    pub(crate) fn update(
        &mut self,
        k: usize,
        p: &mut [f32],
        g: &[f32],
        gscale: f32,
        lr: f32,
        wd: f32,
    ) {
        match self.rule {
            Optimizer::Sgd { momentum } => {
                if let Some(m) = self.m.get_mut(k) {
                    lanes::sgd(p, g, m, gscale, wd, momentum, lr);
                }
            }
            Optimizer::Adam { beta1, beta2, eps } => {
                if let (Some(m), Some(v)) = (self.m.get_mut(k), self.v.get_mut(k)) {
                    let c = lanes::AdamK {
                        gscale,
                        wd,
                        beta1,
                        beta2,
                        c1: 1.0 - beta1,
                        c2: 1.0 - beta2,
                        bc1: (1.0 - self.b1t) as f32,
                        bc2: (1.0 - self.b2t) as f32,
                        lr,
                        eps,
                    };
                    lanes::adam(p, g, m, v, c);
                }
            }
        }
    }
}
