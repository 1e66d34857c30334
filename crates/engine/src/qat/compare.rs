//! The summary table "PTQ vs QAT at 2/3/4/8 bits", computed in chunks like the trainer.
//!
//! One float network is trained (or given); then for each bit width b, in the order given:
//! PTQ at WbAb (calibrated as in [`PtqConfig`](super::ptq::PtqConfig)), and QAT at WbAb
//! fine-tuned from that same float network with `cfg.qat` (its bit widths replaced by b). Every
//! QAT run starts from the same float weights and the same shuffle seed, so a row does not depend
//! on which rows came before it.

use std::sync::Arc;

use super::digits::Split;
use super::mlp::Mlp;
use super::train::{TrainConfig, Trainer};
use crate::error::{QuantError, Result};
use crate::scheme::{MAX_BITS, MIN_BITS};

/// One row of the table (accuracies on the test split, 0..=1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComparisonRow {
    pub bits: u8,
    pub fp32_accuracy: f32,
    pub ptq_accuracy: f32,
    pub qat_accuracy: f32,
}

/// Where the comparison stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComparisonProgress {
    /// The bit width being fine-tuned (None while the float network trains, or when done).
    pub current_bits: Option<u8>,
    pub rows_done: usize,
    pub done: bool,
    /// 0..=1, by training epochs.
    pub fraction: f32,
}

#[derive(Debug, Clone)]
enum Stage {
    Fp32(Box<Trainer>),
    Qat { idx: usize, trainer: Box<Trainer> },
    Done,
}

/// The resumable PTQ-vs-QAT comparison (see the module docs).
#[derive(Debug, Clone)]
pub struct Comparison {
    cfg: TrainConfig,
    data: Arc<Split>,
    bits: Vec<u8>,
    stage: Stage,
    rows: Vec<ComparisonRow>,
    fp32_model: Option<Mlp>,
    fp32_weight: f64,
}

fn check_bits(bits: &[u8]) -> Result<()> {
    if bits.is_empty() {
        return Err(QuantError::Empty {
            what: "list of bit widths",
        });
    }
    if bits.len() > 16 {
        return Err(QuantError::TooLarge {
            what: "list of bit widths",
            got: bits.len() as u128,
            limit: 16,
        });
    }
    if let Some(&b) = bits.iter().find(|b| !(MIN_BITS..=MAX_BITS).contains(b)) {
        return Err(QuantError::InvalidBits { bits: b });
    }
    Ok(())
}

impl Comparison {
    /// Trains the float network with `cfg.fp32` first, then runs each bit width.
    pub fn new(cfg: TrainConfig, data: impl Into<Arc<Split>>, bits: &[u8]) -> Result<Self> {
        check_bits(bits)?;
        let data = data.into();
        let mut fcfg = cfg;
        fcfg.qat.phase.epochs = 0;
        let trainer = Trainer::new(fcfg, data.clone())?;
        Ok(Comparison {
            fp32_weight: cfg.fp32.epochs as f64,
            cfg,
            data,
            bits: bits.to_vec(),
            stage: Stage::Fp32(Box::new(trainer)),
            rows: Vec::new(),
            fp32_model: None,
        })
    }

    /// Uses an already trained float network.
    pub fn from_fp32(
        cfg: TrainConfig,
        data: impl Into<Arc<Split>>,
        model: Mlp,
        bits: &[u8],
    ) -> Result<Self> {
        check_bits(bits)?;
        let mut c = Comparison {
            fp32_weight: 0.0,
            cfg,
            data: data.into(),
            bits: bits.to_vec(),
            stage: Stage::Done,
            rows: Vec::new(),
            fp32_model: Some(model),
        };
        c.stage = c.qat_stage(0)?;
        Ok(c)
    }

    fn qat_stage(&self, idx: usize) -> Result<Stage> {
        let (Some(&b), Some(m)) = (self.bits.get(idx), self.fp32_model.as_ref()) else {
            return Ok(Stage::Done);
        };
        let mut cfg = self.cfg;
        cfg.qat.spec.bits_w = b;
        cfg.qat.spec.bits_a = b;
        let t = Trainer::from_fp32(cfg, self.data.clone(), m.clone())?;
        Ok(Stage::Qat {
            idx,
            trainer: Box::new(t),
        })
    }

    /// Does up to `n` units of work (as [`Trainer::run_batches`]).
    pub fn run_units(&mut self, n: usize) -> Result<ComparisonProgress> {
        for _ in 0..n {
            if !self.unit()? {
                break;
            }
        }
        Ok(self.progress())
    }

    /// Works until `now()` (ms) has advanced by `budget_ms` (at least one unit), or until done.
    pub fn run_for(
        &mut self,
        budget_ms: f64,
        now: &mut dyn FnMut() -> f64,
    ) -> Result<ComparisonProgress> {
        let start = now();
        while self.unit()? {
            if now() - start >= budget_ms {
                break;
            }
        }
        Ok(self.progress())
    }

    /// Runs to the end (blocking).
    pub fn run_to_end(&mut self) -> Result<&[ComparisonRow]> {
        while self.unit()? {}
        Ok(&self.rows)
    }

    fn unit(&mut self) -> Result<bool> {
        match &mut self.stage {
            Stage::Done => Ok(false),
            Stage::Fp32(t) => {
                let p = t.run_batches(1)?;
                if p.done {
                    self.fp32_model =
                        Some(t.fp32_model().cloned().unwrap_or_else(|| t.model().clone()));
                    self.stage = self.qat_stage(0)?;
                }
                Ok(true)
            }
            Stage::Qat { idx, trainer } => {
                let p = trainer.run_batches(1)?;
                if p.done {
                    let idx = *idx;
                    let nan = f32::NAN;
                    self.rows.push(ComparisonRow {
                        bits: self.bits.get(idx).copied().unwrap_or(0),
                        fp32_accuracy: trainer.fp32_reference().map(|e| e.accuracy).unwrap_or(nan),
                        ptq_accuracy: trainer.ptq_reference().map(|e| e.accuracy).unwrap_or(nan),
                        qat_accuracy: trainer.evaluate()?.accuracy,
                    });
                    self.stage = self.qat_stage(idx + 1)?;
                }
                Ok(true)
            }
        }
    }

    pub fn progress(&self) -> ComparisonProgress {
        let q = self.cfg.qat.phase.epochs.max(1) as f64;
        let total = self.fp32_weight + q * self.bits.len() as f64;
        let (done_w, current_bits) = match &self.stage {
            Stage::Fp32(t) => (f64::from(t.progress().fraction) * self.fp32_weight, None),
            Stage::Qat { idx, trainer } => (
                self.fp32_weight + q * (*idx as f64 + f64::from(trainer.progress().fraction)),
                self.bits.get(*idx).copied(),
            ),
            Stage::Done => (total, None),
        };
        ComparisonProgress {
            current_bits,
            rows_done: self.rows.len(),
            done: matches!(self.stage, Stage::Done),
            fraction: if total > 0.0 {
                (done_w / total).min(1.0) as f32
            } else {
                1.0
            },
        }
    }

    /// The finished rows, in the order of the bit widths given.
    pub fn rows(&self) -> &[ComparisonRow] {
        &self.rows
    }

    /// The float network (None while it trains).
    pub fn fp32_model(&self) -> Option<&Mlp> {
        self.fp32_model.as_ref()
    }
}

/// The whole comparison in one blocking call: train the float network, then PTQ and QAT at each
/// bit width.
pub fn final_comparison(
    cfg: TrainConfig,
    data: impl Into<Arc<Split>>,
    bits: &[u8],
) -> Result<Vec<ComparisonRow>> {
    let mut c = Comparison::new(cfg, data, bits)?;
    Ok(c.run_to_end()?.to_vec())
}
