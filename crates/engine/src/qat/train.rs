//! The live trainer: FP32 training, then PTQ, then QAT fine-tuning, as a state machine that does
//! a bounded amount of work per call so the page never freezes.
//!
//! Work comes in **units**: one mini-batch (forward + backward + update), or one piece of
//! bookkeeping (test evaluation; PTQ calibration; PTQ evaluation; the input calibration; the
//! start of QAT). Measured with the default 64-unit network in Node (V8, the release profile):
//! a mini-batch ≈ 0.2–0.5 ms, a bookkeeping unit ≈ 1–2 ms once V8 has optimised the code and up
//! to ~5–8 ms the first time each runs. [`Trainer::run_for`] checks the clock after every unit,
//! so a budget of ~6 ms keeps a frame under ~8 ms.
//!
//! The schedule for a [`TrainConfig`]:
//! 1. evaluate the random initialisation (FP32 epoch 0);
//! 2. `fp32.epochs` epochs of float training; after each, the test evaluation and the PTQ
//!    evaluation (at the QAT bit widths) of the current float model;
//! 3. snapshot the float model, calibrate PTQ ranges on it: these are QAT's initial step sizes,
//!    so QAT epoch 0 *is* PTQ;
//! 4. `qat.phase.epochs` epochs of QAT (fake quantization, STE, LSQ step sizes learned with the
//!    weights), each followed by the test evaluation of the fake-quantized network. The step
//!    sizes start from the PTQ calibration (not from LSQ's 2·mean|x|/√Q_p), are updated with the
//!    gradient scale g at `lr · step_lr_factor`, and are kept ≥ [`MIN_STEP`](super::fake_quant::MIN_STEP) after each update.
//!
//! Determinism: initialisation and the per-epoch shuffles come from PCG32 seeded with `seed`;
//! every sum runs in a fixed order; no libm function touches the numbers (exp, ln and cos are
//! [`math`](super::math)'s; sqrt is IEEE-exact). Same config and seed ⇒ bit-identical
//! weights, step sizes and history, natively and in wasm32.

use std::collections::VecDeque;
use std::sync::Arc;

use super::digits::{row, Split};
use super::fake_quant::{QuantSpec, Quantizer, QuantizerSet};
use super::mlp::{Eval, Grads, Layer, Mlp, Workspace, MAX_HIDDEN};
use super::optim::{LrSchedule, OptState, Optimizer};
use super::ptq::{calibrate_with_input, input_quantizer, PtqConfig};
use crate::error::{QuantError, Result};
use crate::synth::Pcg32;

/// Most epochs a phase may ask for.
pub const MAX_EPOCHS: usize = 10_000;

/// Settings of one training phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseConfig {
    pub epochs: usize,
    pub optimizer: Optimizer,
    /// Peak learning rate.
    pub lr: f32,
    pub schedule: LrSchedule,
    /// L2 weight decay on W1 and W2 (0 for none).
    pub weight_decay: f32,
}

impl PhaseConfig {
    fn validate(&self, name: &'static str) -> Result<()> {
        self.optimizer.validate()?;
        if self.epochs > MAX_EPOCHS {
            return Err(QuantError::InvalidParameter {
                name,
                value: format!("{} epochs", self.epochs),
                allowed: "at most 10000 epochs",
            });
        }
        for (what, v) in [
            ("learning rate", self.lr),
            ("weight decay", self.weight_decay),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(QuantError::InvalidParameter {
                    name: what,
                    value: v.to_string(),
                    allowed: "a finite number ≥ 0",
                });
            }
        }
        Ok(())
    }
}

/// QAT settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QatConfig {
    /// Bit widths and layout (shared with the PTQ baseline).
    pub spec: QuantSpec,
    pub phase: PhaseConfig,
    /// The step sizes' learning rate is `phase.lr · step_lr_factor` (on top of LSQ's g).
    pub step_lr_factor: f32,
}

/// Everything the trainer needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    pub seed: u64,
    /// Hidden units (1..=1024).
    pub hidden: usize,
    pub batch_size: usize,
    pub fp32: PhaseConfig,
    pub qat: QatConfig,
    /// PTQ calibration (the PTQ baseline and QAT's initial ranges).
    pub ptq: PtqConfig,
}

impl Default for TrainConfig {
    /// The chapter's defaults: 64 hidden units, batches of 32, seed 42; FP32: 30 epochs of Adam,
    /// lr 3e-3, cosine decay; QAT W4A4 (per-channel weights, quantized input): 10 epochs of SGD
    /// with momentum 0.9, lr 0.01, cosine decay, as in the LSQ paper (with Adam, LSQ's gradient
    /// scale g would be normalised away and the step sizes of wide grids drift); PTQ: activation
    /// β at the 99.99th percentile of 256 training images.
    fn default() -> Self {
        TrainConfig {
            seed: 42,
            hidden: 64,
            batch_size: 32,
            fp32: PhaseConfig {
                epochs: 30,
                optimizer: Optimizer::adam(),
                lr: 3e-3,
                schedule: LrSchedule::Cosine,
                weight_decay: 0.0,
            },
            qat: QatConfig {
                spec: QuantSpec::new(4, 4),
                phase: PhaseConfig {
                    epochs: 10,
                    optimizer: Optimizer::sgd_momentum(),
                    lr: 1e-2,
                    schedule: LrSchedule::Cosine,
                    weight_decay: 0.0,
                },
                step_lr_factor: 1.0,
            },
            ptq: PtqConfig::default(),
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<()> {
        if self.hidden == 0 || self.hidden > MAX_HIDDEN {
            return Err(QuantError::InvalidParameter {
                name: "hidden size",
                value: self.hidden.to_string(),
                allowed: "between 1 and 1024 units",
            });
        }
        if self.batch_size == 0 || self.batch_size > 4096 {
            return Err(QuantError::InvalidParameter {
                name: "batch size",
                value: self.batch_size.to_string(),
                allowed: "between 1 and 4096",
            });
        }
        self.fp32.validate("FP32 epochs")?;
        self.qat.phase.validate("QAT epochs")?;
        self.qat.spec.validate()?;
        self.ptq.validate()?;
        let f = self.qat.step_lr_factor;
        if !(f.is_finite() && f >= 0.0) {
            return Err(QuantError::InvalidParameter {
                name: "step-size learning-rate factor",
                value: f.to_string(),
                allowed: "a finite number ≥ 0",
            });
        }
        Ok(())
    }
}

/// Where the trainer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Fp32,
    Qat,
    Done,
}

impl Phase {
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Fp32 => "FP32",
            Phase::Qat => "QAT",
            Phase::Done => "done",
        }
    }
}

/// Where training stands after a call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub phase: Phase,
    /// Completed epochs of the current phase.
    pub epoch: usize,
    /// Epochs of the current phase.
    pub epochs: usize,
    /// Mini-batches done in the current epoch.
    pub batch_in_epoch: usize,
    pub batches_per_epoch: usize,
    /// Everything (including the final evaluation) is done.
    pub done: bool,
    /// Mini-batches done over all phases / all mini-batches, 0..=1.
    pub fraction: f32,
}

/// A snapshot of the learned ranges: β of the activation quantizers, mean β of the weights'.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RangeSnapshot {
    pub input_beta: Option<f32>,
    pub hidden_beta: f32,
    pub w1_mean_beta: f32,
    pub w2_mean_beta: f32,
}

impl RangeSnapshot {
    fn of(q: &QuantizerSet) -> Self {
        RangeSnapshot {
            input_beta: q.input.as_ref().map(|x| x.mean_beta()),
            hidden_beta: q.hidden.mean_beta(),
            w1_mean_beta: q.w1.mean_beta(),
            w2_mean_beta: q.w2.mean_beta(),
        }
    }
}

/// One point of the training curves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    pub phase: Phase,
    /// Epochs completed in this phase when recorded (0 = before the first one).
    pub epoch: usize,
    /// Mean training loss and running accuracy over the epoch's batches (None for epoch 0).
    pub train_loss: Option<f32>,
    pub train_accuracy: Option<f32>,
    /// The network as trained in this phase (float in FP32, fake-quantized in QAT) on the test split.
    pub test: Eval,
    /// FP32 phase: PTQ (at the QAT bit widths) of the current float model, on the test split.
    pub ptq: Option<Eval>,
    /// QAT phase: the learned ranges.
    pub ranges: Option<RangeSnapshot>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Task {
    /// Evaluate the test split and push an [`EpochRecord`].
    EvalEpoch,
    /// Calibrate the (data-only) input quantizer once, in a unit of its own.
    InputCalibrate,
    /// Calibrate PTQ ranges on the current float model (FP32 phase).
    PtqCalibrate,
    /// Evaluate them and fill in the PTQ evaluation of the last record.
    PtqEval,
    /// Snapshot the float model and calibrate the PTQ ranges (QAT's start).
    StartQat,
    /// Evaluate the PTQ reference and push QAT epoch 0.
    QatEpochZero,
    /// Mark the end.
    Finish,
}

/// The live trainer (see the module docs).
#[derive(Debug, Clone)]
pub struct Trainer {
    cfg: TrainConfig,
    data: Arc<Split>,
    model: Mlp,
    quant: Option<QuantizerSet>,
    phase: Phase,
    epoch: usize,
    batch_in_epoch: usize,
    batches_per_epoch: usize,
    batches_done: u64,
    phase_step: u64,
    order: Vec<u32>,
    rng: Pcg32,
    wopt: OptState,
    sopt: Option<OptState>,
    ws: Workspace,
    grads: Grads,
    bx: Vec<f32>,
    by: Vec<u8>,
    epoch_loss: f64,
    epoch_correct: usize,
    epoch_seen: usize,
    pending: VecDeque<Task>,
    history: Vec<EpochRecord>,
    fp32_model: Option<Mlp>,
    fp32_reference: Option<Eval>,
    ptq_reference: Option<Eval>,
    failed: Option<QuantError>,
    /// PTQ ranges between the calibration and evaluation units of an epoch's end.
    ptq_probe: Option<QuantizerSet>,
    /// The (data-only) input quantizer, once calibrated.
    input_cal: Option<Option<Quantizer>>,
}

/// XORed into the seed for the shuffle generator, so it is a different stream from the
/// initialisation's (an arbitrary fixed constant, the first 64 bits of π's fraction).
const SHUFFLE_SALT: u64 = 0x243f_6a88_85a3_08d3;

impl Trainer {
    /// A trainer that starts from a seeded random network: FP32 training, then QAT.
    pub fn new(cfg: TrainConfig, data: impl Into<Arc<Split>>) -> Result<Self> {
        cfg.validate()?;
        let data = data.into();
        let model = Mlp::new(
            data.train.features(),
            cfg.hidden,
            data.train.classes(),
            cfg.seed,
        )?;
        let mut t = Trainer::build(cfg, data, model)?;
        t.pending.push_back(Task::EvalEpoch);
        t.pending.push_back(Task::InputCalibrate);
        Ok(t)
    }

    /// A trainer that skips FP32 training: QAT (W`cfg.qat.spec`) starting from a trained float
    /// `model` (whose hidden size replaces `cfg.hidden`).
    pub fn from_fp32(cfg: TrainConfig, data: impl Into<Arc<Split>>, model: Mlp) -> Result<Self> {
        let cfg = TrainConfig {
            hidden: model.hidden(),
            ..cfg
        };
        cfg.validate()?;
        let data = data.into();
        if model.inputs() != data.train.features() || model.classes() != data.train.classes() {
            return Err(QuantError::ShapeMismatch {
                expected: format!(
                    "a network with {} inputs and {} classes",
                    data.train.features(),
                    data.train.classes()
                ),
                got: format!("{} inputs and {} classes", model.inputs(), model.classes()),
            });
        }
        let mut t = Trainer::build(cfg, data, model)?;
        t.phase = Phase::Qat;
        t.pending.push_back(Task::InputCalibrate);
        t.pending.push_back(Task::StartQat);
        Ok(t)
    }

    fn build(cfg: TrainConfig, data: Arc<Split>, model: Mlp) -> Result<Self> {
        let n = data.train.len();
        let batches_per_epoch = n.div_ceil(cfg.batch_size);
        let lens = [
            model.w1().len(),
            model.b1().len(),
            model.w2().len(),
            model.b2().len(),
        ];
        let grads = Grads::zeros(&model, None);
        Ok(Trainer {
            wopt: OptState::new(cfg.fp32.optimizer, &lens),
            cfg,
            model,
            quant: None,
            phase: Phase::Fp32,
            epoch: 0,
            batch_in_epoch: 0,
            batches_per_epoch,
            batches_done: 0,
            phase_step: 0,
            order: (0..n as u32).collect(),
            rng: Pcg32::new(cfg.seed ^ SHUFFLE_SALT),
            sopt: None,
            ws: Workspace::default(),
            grads,
            bx: Vec::new(),
            by: Vec::new(),
            epoch_loss: 0.0,
            epoch_correct: 0,
            epoch_seen: 0,
            pending: VecDeque::new(),
            history: Vec::new(),
            fp32_model: None,
            fp32_reference: None,
            ptq_reference: None,
            failed: None,
            ptq_probe: None,
            input_cal: None,
            data,
        })
    }

    /// Does up to `n` units of work (a unit is one mini-batch or one end-of-epoch evaluation)
    /// and reports where training stands. Returns at once when done. After an error (a
    /// diverged loss) every later call returns the same error.
    pub fn run_batches(&mut self, n: usize) -> Result<Progress> {
        for _ in 0..n {
            if !self.unit()? {
                break;
            }
        }
        Ok(self.progress())
    }

    /// Does units of work until `now()` (milliseconds, e.g. `performance.now()`) has advanced by
    /// `budget_ms` since the call started, at least one unit, or until done.
    pub fn run_for(&mut self, budget_ms: f64, now: &mut dyn FnMut() -> f64) -> Result<Progress> {
        let start = now();
        loop {
            if !self.unit()? {
                break;
            }
            if now() - start >= budget_ms {
                break;
            }
        }
        Ok(self.progress())
    }

    /// Runs everything that is left (blocking; for tests, the CLI and benchmarks).
    pub fn run_to_end(&mut self) -> Result<Progress> {
        while self.unit()? {}
        Ok(self.progress())
    }

    /// Where training stands.
    pub fn progress(&self) -> Progress {
        let epochs = self.phase_epochs();
        let fp32_total = if self.fp32_skipped() {
            0
        } else {
            self.cfg.fp32.epochs
        };
        let total = ((fp32_total + self.cfg.qat.phase.epochs) * self.batches_per_epoch).max(1);
        Progress {
            phase: self.phase,
            epoch: self.epoch,
            epochs,
            batch_in_epoch: self.batch_in_epoch,
            batches_per_epoch: self.batches_per_epoch,
            done: self.phase == Phase::Done && self.pending.is_empty(),
            fraction: (self.batches_done as f64 / total as f64).min(1.0) as f32,
        }
    }

    fn fp32_skipped(&self) -> bool {
        // from_fp32 starts in the QAT phase without an FP32 epoch-0 record.
        self.history
            .first()
            .map(|r| r.phase != Phase::Fp32)
            .unwrap_or(self.phase != Phase::Fp32)
    }

    fn phase_epochs(&self) -> usize {
        match self.phase {
            Phase::Fp32 => self.cfg.fp32.epochs,
            Phase::Qat | Phase::Done => self.cfg.qat.phase.epochs,
        }
    }

    fn phase_cfg(&self) -> &PhaseConfig {
        match self.phase {
            Phase::Fp32 => &self.cfg.fp32,
            _ => &self.cfg.qat.phase,
        }
    }

    /// One unit of work; false when there is nothing left.
    fn unit(&mut self) -> Result<bool> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if let Some(task) = self.pending.pop_front() {
            if let Err(e) = self.task(task) {
                self.failed = Some(e.clone());
                return Err(e);
            }
            return Ok(true);
        }
        match self.phase {
            Phase::Done => Ok(false),
            Phase::Fp32 | Phase::Qat => {
                if self.epoch >= self.phase_epochs() {
                    // Nothing to train in this phase (0 epochs): move on.
                    self.end_phase();
                    return Ok(true);
                }
                if let Err(e) = self.batch() {
                    self.failed = Some(e.clone());
                    return Err(e);
                }
                Ok(true)
            }
        }
    }

    fn end_phase(&mut self) {
        match self.phase {
            Phase::Fp32 => self.pending.push_back(Task::StartQat),
            _ => {
                self.phase = Phase::Done;
                self.pending.push_back(Task::Finish);
            }
        }
    }

    fn batch(&mut self) -> Result<()> {
        let bs = self.cfg.batch_size;
        if self.batch_in_epoch == 0 {
            shuffle(&mut self.order, &mut self.rng);
        }
        let start = self.batch_in_epoch * bs;
        let idx = self.order.get(start..).unwrap_or(&[]);
        let idx = idx.get(..bs.min(idx.len())).unwrap_or(&[]);
        let f = self.data.train.features();
        self.bx.clear();
        self.by.clear();
        for &i in idx {
            let i = i as usize;
            if let (Some(xr), Some(&yv)) =
                (row(self.data.train.x(), i, f), self.data.train.y().get(i))
            {
                self.bx.extend_from_slice(xr);
                self.by.push(yv);
            }
        }
        if !self.by.is_empty() {
            self.grads.clear();
            let (loss, correct) = self.model.forward_backward(
                self.quant.as_ref(),
                &self.bx,
                &self.by,
                &mut self.ws,
                &mut self.grads,
            );
            if !loss.is_finite() {
                return Err(QuantError::TrainingDiverged {
                    phase: self.phase.name(),
                    step: self.phase_step + 1,
                });
            }
            self.epoch_loss += loss;
            self.epoch_correct += correct;
            self.epoch_seen += self.by.len();
            self.update();
        }
        self.batches_done += 1;
        self.phase_step += 1;
        self.batch_in_epoch += 1;
        if self.batch_in_epoch >= self.batches_per_epoch {
            self.batch_in_epoch = 0;
            self.epoch += 1;
            self.pending.push_back(Task::EvalEpoch);
            if self.phase == Phase::Fp32 {
                self.pending.push_back(Task::PtqCalibrate);
                self.pending.push_back(Task::PtqEval);
            }
            if self.epoch >= self.phase_epochs() {
                self.end_phase();
            }
        }
        Ok(())
    }

    fn update(&mut self) {
        let pc = *self.phase_cfg();
        let total = (pc.epochs * self.batches_per_epoch) as u64;
        let lr = pc.lr * pc.schedule.factor(self.phase_step, total);
        let wd = pc.weight_decay;
        let g = &self.grads;
        self.wopt.begin_step();
        let grads: [&[f32]; 4] = [&g.w1, &g.b1, &g.w2, &g.b2];
        let wds = [wd, 0.0, wd, 0.0];
        for (k, ((p, gr), w)) in self
            .model
            .tensors_mut()
            .into_iter()
            .zip(grads)
            .zip(wds)
            .enumerate()
        {
            self.wopt.update(k, p, gr, 1.0, lr, w);
        }
        if let (Some(q), Some(sopt)) = (self.quant.as_mut(), self.sopt.as_mut()) {
            let slr = lr * self.cfg.qat.step_lr_factor;
            sopt.begin_step();
            let mut sg: Vec<&[f32]> = Vec::with_capacity(4);
            if q.input.is_some() {
                sg.push(&g.s_input);
            }
            sg.extend([&g.s_w1[..], &g.s_hidden[..], &g.s_w2[..]]);
            for (k, (qz, gr)) in q.all_mut().into_iter().zip(sg).enumerate() {
                let gs = qz.lsq_grad_scale();
                sopt.update(k, qz.steps_mut(), gr, gs, slr, 0.0);
                qz.project();
            }
        }
    }

    fn task(&mut self, task: Task) -> Result<()> {
        match task {
            Task::EvalEpoch => {
                let test = self.evaluate()?;
                let (tl, ta) = if self.epoch_seen > 0 {
                    (
                        Some((self.epoch_loss / self.epoch_seen as f64) as f32),
                        Some(self.epoch_correct as f32 / self.epoch_seen as f32),
                    )
                } else {
                    (None, None)
                };
                self.epoch_loss = 0.0;
                self.epoch_correct = 0;
                self.epoch_seen = 0;
                let phase = if self.phase == Phase::Done {
                    Phase::Qat
                } else {
                    self.phase
                };
                self.history.push(EpochRecord {
                    phase,
                    epoch: self.epoch,
                    train_loss: tl,
                    train_accuracy: ta,
                    test,
                    ptq: None,
                    ranges: self.quant.as_ref().map(RangeSnapshot::of),
                });
            }
            Task::InputCalibrate => {
                self.input_cal = None;
                self.input_calibration()?;
            }
            Task::PtqCalibrate => {
                self.ptq_probe = Some(self.calibrate()?);
            }
            Task::PtqEval => {
                if let Some(q) = self.ptq_probe.take() {
                    let ptq =
                        self.model
                            .evaluate(self.data.test.x(), self.data.test.y(), Some(&q))?;
                    if let Some(r) = self.history.last_mut() {
                        r.ptq = Some(ptq);
                    }
                }
            }
            Task::StartQat => {
                if self.phase == Phase::Fp32 {
                    self.fp32_reference = self.history.last().map(|r| r.test);
                }
                if self.fp32_reference.is_none() {
                    self.fp32_reference = Some(self.model.evaluate(
                        self.data.test.x(),
                        self.data.test.y(),
                        None,
                    )?);
                }
                self.fp32_model = Some(self.model.clone());
                let q = self.calibrate()?;
                let slens: Vec<usize> = q.all().iter().map(|z| z.steps().len()).collect();
                let lens = [
                    self.model.w1().len(),
                    self.model.b1().len(),
                    self.model.w2().len(),
                    self.model.b2().len(),
                ];
                self.wopt = OptState::new(self.cfg.qat.phase.optimizer, &lens);
                self.sopt = Some(OptState::new(self.cfg.qat.phase.optimizer, &slens));
                self.grads = Grads::zeros(&self.model, Some(&q));
                self.quant = Some(q);
                self.phase = Phase::Qat;
                self.epoch = 0;
                self.batch_in_epoch = 0;
                self.phase_step = 0;
                self.pending.push_back(Task::QatEpochZero);
            }
            Task::QatEpochZero => {
                let ev = self.evaluate()?;
                self.ptq_reference = Some(ev);
                self.history.push(EpochRecord {
                    phase: Phase::Qat,
                    epoch: 0,
                    train_loss: None,
                    train_accuracy: None,
                    test: ev,
                    ptq: None,
                    ranges: self.quant.as_ref().map(RangeSnapshot::of),
                });
                if self.cfg.qat.phase.epochs == 0 {
                    self.phase = Phase::Done;
                }
            }
            Task::Finish => self.phase = Phase::Done,
        }
        Ok(())
    }

    /// PTQ ranges of the current float model (the input quantizer is computed once and reused:
    /// it depends only on the data).
    fn calibrate(&mut self) -> Result<QuantizerSet> {
        let input = self.input_calibration()?;
        let (cx, _) = self.data.train.head(self.cfg.ptq.samples);
        calibrate_with_input(&self.model, &self.cfg.qat.spec, cx, &self.cfg.ptq, input)
    }

    fn input_calibration(&mut self) -> Result<Option<Quantizer>> {
        if let Some(q) = &self.input_cal {
            return Ok(q.clone());
        }
        let (cx, _) = self.data.train.head(self.cfg.ptq.samples);
        let q = input_quantizer(self.model.inputs(), &self.cfg.qat.spec, cx, &self.cfg.ptq)?;
        self.input_cal = Some(q.clone());
        Ok(q)
    }

    /// Loss and accuracy on the test split of the network as it is being trained: float during
    /// FP32 training, fake-quantized (current learned ranges) during and after QAT.
    pub fn evaluate(&self) -> Result<Eval> {
        self.model
            .evaluate(self.data.test.x(), self.data.test.y(), self.quant.as_ref())
    }

    /// The curves: one record per epoch (FP32 epoch 0 = random initialisation, QAT epoch 0 = PTQ).
    pub fn history(&self) -> &[EpochRecord] {
        &self.history
    }

    /// The network's current weights (the latent float weights during QAT).
    pub fn model(&self) -> &Mlp {
        &self.model
    }

    /// The quantizers with their current learned step sizes / ranges (None before QAT).
    pub fn quantizers(&self) -> Option<&QuantizerSet> {
        self.quant.as_ref()
    }

    /// The fake-quantized copy of a weight matrix (None before QAT), for the histogram overlay.
    pub fn quantized_weights(&self, layer: Layer) -> Option<Vec<f32>> {
        let q = self.quant.as_ref()?;
        self.model.quantized_weights(layer, q).ok()
    }

    /// The trained float network QAT started from (None before QAT).
    pub fn fp32_model(&self) -> Option<&Mlp> {
        self.fp32_model.as_ref()
    }

    /// Test evaluation of that float network.
    pub fn fp32_reference(&self) -> Option<Eval> {
        self.fp32_reference
    }

    /// Test evaluation of PTQ of that float network at the QAT bit widths (= QAT epoch 0).
    pub fn ptq_reference(&self) -> Option<Eval> {
        self.ptq_reference
    }

    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    pub fn data(&self) -> &Split {
        &self.data
    }
}

/// Fisher–Yates with PCG32; the index in [0, k] is ⌊u32·(k+1) / 2^32⌋ (Lemire's multiply, no
/// rejection: a bias below 2^−21 for 1442 images, irrelevant here and platform-independent).
fn shuffle(v: &mut [u32], rng: &mut Pcg32) {
    for k in (1..v.len()).rev() {
        let j = ((u64::from(rng.next_u32()) * (k as u64 + 1)) >> 32) as usize;
        v.swap(k, j.min(k));
    }
}
