//! The language-model chapter's sliced work, one unit per step of a [`Job`]: a layer of a
//! forward pass, a slice of the vocabulary when scoring, one product when quantizing, one token
//! when writing. Each unit is a few to a few tens of milliseconds, so the page answers between
//! them and a newer input cancels an older run between two units.
//!
//! [`Job`]: crate::ui::job::Job

use std::sync::Arc;

use quantlab_engine::model::llama::LlamaPass;
use quantlab_engine::model::lm::{self, Greedy, Peak, Scorer, Scores};
use quantlab_engine::model::{Calibration, Float, ModelQuant, QuantBuilder, QuantizedModel};

use crate::ui::dom;
use crate::ui::llm::{FpText, Lm, LmStore, HEAT_TOKENS};
use crate::ui::Shared;

/// One quantized setting on the current text: perplexity, KL and top-1 against full
/// precision.
#[derive(Clone, Debug)]
pub struct QuantScores {
    pub cfg: ModelQuant,
    pub scores: Scores,
    /// Wall time of its forward and scoring (not of building the copy).
    pub ms: f64,
    pub build_ms: f64,
}

/// What a step did, for the chapter to show.
pub enum Event {
    None,
    Fp(Arc<FpText>),
    Quant(QuantScores),
}

enum Stage {
    /// The full-precision forward, recording the calibration set when `calib` is there.
    Fp {
        pass: LlamaPass,
        calib: Option<Calibration>,
        peaks: Vec<Peak>,
        heat: Vec<Vec<f32>>,
        ms: f64,
    },
    FpScore {
        scorer: Scorer,
        peaks: Vec<Peak>,
        heat: Vec<Vec<f32>>,
        ms: f64,
    },
    /// A float forward that only records the calibration set (the full-precision run was kept).
    Calib {
        pass: LlamaPass,
        calib: Calibration,
    },
    Build {
        builder: QuantBuilder,
        calib: Arc<Calibration>,
        ms: f64,
    },
    Quant {
        q: Arc<QuantizedModel>,
        pass: LlamaPass,
        ms: f64,
        build_ms: f64,
    },
    QuantScore {
        scorer: Scorer,
        ms: f64,
        build_ms: f64,
    },
    Done,
}

/// The full-precision run of a text (unless kept) and one quantized setting on it.
pub struct TextRun {
    m: Shared<Lm>,
    store: LmStore,
    ids: Vec<u32>,
    cfg: Option<ModelQuant>,
    /// Keep the built copy in the store (the reader's setting; not the table's sweep).
    keep: bool,
    stage: Stage,
}

fn layers(m: &Lm) -> usize {
    m.file.model.layers().len()
}

impl TextRun {
    /// `cfg`: `None` for the full-precision run alone.
    pub fn new(
        m: Shared<Lm>,
        store: LmStore,
        ids: Vec<u32>,
        cfg: Option<ModelQuant>,
        keep: bool,
    ) -> Result<Self, String> {
        let mut run = TextRun {
            m,
            store,
            ids,
            cfg,
            keep,
            stage: Stage::Done,
        };
        run.stage = match run.store.fp(&run.ids) {
            Some(_) => run.after_fp()?,
            None => Stage::Fp {
                pass: run.begin()?,
                calib: run.needs_calibration().then(Calibration::default),
                peaks: Vec::new(),
                heat: Vec::new(),
                ms: 0.0,
            },
        };
        Ok(run)
    }

    fn begin(&self) -> Result<LlamaPass, String> {
        self.m
            .file
            .model
            .begin(&self.ids, 0)
            .map_err(|e| e.to_string())
    }

    fn needs_calibration(&self) -> bool {
        self.cfg.as_ref().is_some_and(ModelQuant::needs_calibration)
            && self.store.calibration(&self.ids).is_none()
    }

    /// At most the units of one quantized setting on a text (the full-precision run and the
    /// calibration pass if not kept yet, quantizing, the forward, the scoring, and the step
    /// that starts it): a job running many settings counts this many per setting, without
    /// building anything; its spare steps do nothing.
    pub fn setting_units(m: &Lm) -> usize {
        let model = &m.file.model;
        let scoring = model.config().vocab.div_ceil(lm::VOCAB_CHUNK);
        let l = layers(m);
        (l + scoring) + l + (model.config().shapes().count() + 1) + (l + scoring) + 1
    }

    /// Upper bound of the units left (for the progress bar).
    pub fn units(&self) -> usize {
        let l = layers(&self.m);
        let scoring = self.m.file.model.config().vocab.div_ceil(lm::VOCAB_CHUNK);
        let build = self.m.file.model.config().shapes().count() + 1;
        let quant = if self.cfg.is_some() {
            build + l + scoring
        } else {
            0
        };
        let calib = if self.needs_calibration() { l } else { 0 };
        match &self.stage {
            Stage::Fp { .. } => l + scoring + quant,
            Stage::FpScore { .. } | Stage::Calib { .. } => scoring + calib + quant,
            Stage::Build { .. } => quant,
            Stage::Quant { .. } => l + scoring,
            Stage::QuantScore { .. } => scoring,
            Stage::Done => 0,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// What comes once the full-precision run is kept.
    fn after_fp(&self) -> Result<Stage, String> {
        let Some(cfg) = self.cfg.clone() else {
            return Ok(Stage::Done);
        };
        if let Some(q) = self.store.quantized(&cfg, &self.ids) {
            return Ok(Stage::Quant {
                pass: self.begin()?,
                q,
                ms: 0.0,
                build_ms: 0.0,
            });
        }
        if cfg.needs_calibration() {
            match self.store.calibration(&self.ids) {
                Some(calib) => self.build(cfg, calib),
                None => Ok(Stage::Calib {
                    pass: self.begin()?,
                    calib: Calibration::default(),
                }),
            }
        } else {
            self.build(cfg, Arc::new(Calibration::default()))
        }
    }

    fn build(&self, cfg: ModelQuant, calib: Arc<Calibration>) -> Result<Stage, String> {
        // Another activation setting on the kept copy's int8 weights (per token ↔ per tensor
        // ↔ static, W4A8 ↔ W4A4, the ablation's k): no weight is quantized again.
        let t0 = dom::now_ms();
        if let Some(q) = self.store.reuse_weights(&cfg, &self.ids, &calib)? {
            if self.keep {
                self.store.keep_quantized(cfg, self.ids.clone(), q.clone());
            }
            return Ok(Stage::Quant {
                pass: self.begin()?,
                q,
                ms: 0.0,
                build_ms: dom::now_ms() - t0,
            });
        }
        // The kept copy goes before a new one is built: two at once would double the memory.
        self.store.drop_quantized();
        let builder =
            QuantBuilder::for_model(&self.m.file.model, cfg, &calib).map_err(|e| e.to_string())?;
        Ok(Stage::Build {
            builder,
            calib,
            ms: 0.0,
        })
    }

    /// One unit of work.
    pub fn advance(&mut self) -> Result<Event, String> {
        let m = self.m.clone();
        let model = &m.file.model;
        let width = model.config().hidden;
        let t0 = dom::now_ms();
        let e = |e: quantlab_engine::QuantError| e.to_string();
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        let (next, event) = match stage {
            Stage::Fp {
                mut pass,
                mut calib,
                mut peaks,
                mut heat,
                ms,
            } => {
                match calib.as_mut() {
                    Some(c) => model.next_layer(&mut pass, None, &mut c.recorder(model)),
                    None => model.next_layer(&mut pass, None, &mut Float),
                }
                .map_err(e)?;
                let h = pass.hidden();
                peaks.extend(lm::peak(h, width));
                let rows = h.len().min(HEAT_TOKENS * width);
                heat.push(h.iter().take(rows).map(|v| v.abs()).collect());
                let ms = ms + dom::now_ms() - t0;
                if pass.layers_done() < layers(&m) {
                    let stage = Stage::Fp {
                        pass,
                        calib,
                        peaks,
                        heat,
                        ms,
                    };
                    (stage, Event::None)
                } else {
                    if let Some(c) = calib {
                        self.store.keep_calibration(self.ids.clone(), Arc::new(c));
                    }
                    let mut hidden = pass.into_hidden();
                    model.final_norm(&mut hidden);
                    let scorer = Scorer::reference(model, &self.ids, &hidden).map_err(e)?;
                    let stage = Stage::FpScore {
                        scorer,
                        peaks,
                        heat,
                        ms,
                    };
                    (stage, Event::None)
                }
            }
            Stage::FpScore {
                mut scorer,
                peaks,
                heat,
                ms,
            } => {
                scorer.step(model).map_err(e)?;
                let ms = ms + dom::now_ms() - t0;
                if scorer.is_done() {
                    let (scores, reference) = scorer.finish_reference().map_err(e)?;
                    let fp = Arc::new(FpText {
                        ids: self.ids.clone(),
                        reference,
                        scores,
                        peaks,
                        heat,
                        ms,
                    });
                    self.store.keep_fp(fp.clone());
                    (self.after_fp()?, Event::Fp(fp))
                } else {
                    let stage = Stage::FpScore {
                        scorer,
                        peaks,
                        heat,
                        ms,
                    };
                    (stage, Event::None)
                }
            }
            Stage::Calib {
                mut pass,
                mut calib,
            } => {
                model
                    .next_layer(&mut pass, None, &mut calib.recorder(model))
                    .map_err(e)?;
                if pass.layers_done() < layers(&m) {
                    (Stage::Calib { pass, calib }, Event::None)
                } else {
                    let calib = Arc::new(calib);
                    self.store.keep_calibration(self.ids.clone(), calib.clone());
                    let cfg = self.cfg.clone().ok_or("no setting to build")?;
                    (self.build(cfg, calib)?, Event::None)
                }
            }
            Stage::Build {
                mut builder,
                calib,
                ms,
            } => {
                builder.step(model, &calib).map_err(e)?;
                let ms = ms + dom::now_ms() - t0;
                if builder.is_done() {
                    let q = Arc::new(builder.finish().map_err(e)?);
                    if self.keep {
                        self.store
                            .keep_quantized(q.config().clone(), self.ids.clone(), q.clone());
                    }
                    let stage = Stage::Quant {
                        pass: self.begin()?,
                        q,
                        ms: 0.0,
                        build_ms: ms,
                    };
                    (stage, Event::None)
                } else {
                    (Stage::Build { builder, calib, ms }, Event::None)
                }
            }
            Stage::Quant {
                q,
                mut pass,
                ms,
                build_ms,
            } => {
                model
                    .next_layer(&mut pass, None, &mut q.runner())
                    .map_err(e)?;
                let ms = ms + dom::now_ms() - t0;
                if pass.layers_done() < layers(&m) {
                    let stage = Stage::Quant {
                        q,
                        pass,
                        ms,
                        build_ms,
                    };
                    (stage, Event::None)
                } else {
                    let fp = self
                        .store
                        .fp(&self.ids)
                        .ok_or("the full-precision run is gone")?;
                    let mut hidden = pass.into_hidden();
                    model.final_norm(&mut hidden);
                    let scorer =
                        Scorer::new(model, &self.ids, &hidden, Some(&fp.reference)).map_err(e)?;
                    let stage = Stage::QuantScore {
                        scorer,
                        ms,
                        build_ms,
                    };
                    (stage, Event::None)
                }
            }
            Stage::QuantScore {
                mut scorer,
                ms,
                build_ms,
            } => {
                scorer.step(model).map_err(e)?;
                let ms = ms + dom::now_ms() - t0;
                if scorer.is_done() {
                    let cfg = self.cfg.clone().ok_or("no setting")?;
                    let scores = scorer.finish().map_err(e)?;
                    let out = QuantScores {
                        cfg,
                        scores,
                        ms,
                        build_ms,
                    };
                    (Stage::Done, Event::Quant(out))
                } else {
                    let stage = Stage::QuantScore {
                        scorer,
                        ms,
                        build_ms,
                    };
                    (stage, Event::None)
                }
            }
            Stage::Done => (Stage::Done, Event::None),
        };
        self.stage = next;
        Ok(event)
    }
}

/// A greedy continuation streamed one token per step, with its speed.
pub struct Writer {
    pub greedy: Greedy,
    /// The prompt's forward (the first step).
    pub prefill_ms: Option<f64>,
    /// Time spent on the tokens after the first.
    pub gen_ms: f64,
    pub error: Option<String>,
}

impl Writer {
    pub fn new(prompt: &[u32], max_new: usize, stop: &[u32]) -> Result<Self, String> {
        Ok(Writer {
            greedy: Greedy::new(prompt, max_new, stop).map_err(|e| e.to_string())?,
            prefill_ms: None,
            gen_ms: 0.0,
            error: None,
        })
    }

    pub fn is_done(&self) -> bool {
        self.greedy.is_done() || self.error.is_some()
    }

    /// One token, through `q`'s linears or the float ones.
    pub fn step(&mut self, m: &Lm, q: Option<&QuantizedModel>) {
        if self.is_done() {
            return;
        }
        let t0 = dom::now_ms();
        let r = match q {
            Some(q) => self.greedy.step(&m.file.model, &mut q.runner()),
            None => self.greedy.step(&m.file.model, &mut Float),
        };
        let dt = dom::now_ms() - t0;
        if let Err(e) = r {
            self.error = Some(e.to_string());
        }
        match self.prefill_ms {
            None => self.prefill_ms = Some(dt),
            Some(_) => self.gen_ms += dt,
        }
    }

    /// Generation tokens per second (the tokens after the first, each one call).
    pub fn tokens_per_s(&self) -> Option<f64> {
        let n = self.greedy.produced().len().checked_sub(1)?;
        (n > 0 && self.gen_ms > 0.0).then(|| n as f64 / (self.gen_ms / 1e3))
    }
}

/// Sun et al.'s intervention on the full-precision model: token 0's largest residual channel
/// after `layer` set to 0, then to its mean at token 0 over other texts
/// ([`lm::MEAN_TEXTS`]), each scored against the unedited run.
pub struct InterventionRun {
    m: Shared<Lm>,
    fp: Arc<FpText>,
    layer: usize,
    channel: usize,
    /// What is left to try: (what it is set to, its name), the next one last.
    todo: Vec<(f32, Kind)>,
    /// The mean's sum and how many texts went into it.
    mean: (f64, usize),
    current: Option<(Kind, f32, LlamaPass, lm::Intervention)>,
    scoring: Option<(Kind, f32, Scorer)>,
}

/// Which value the massive activation is set to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Zero,
    Mean,
}

/// One intervention's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Intervened {
    pub kind: Kind,
    pub layer: usize,
    pub channel: usize,
    pub value: f32,
    pub ppl: f64,
}

impl InterventionRun {
    pub fn new(m: Shared<Lm>, fp: Arc<FpText>, layer: usize) -> Result<Self, String> {
        let peak = fp.peaks.get(layer).ok_or("no such layer")?;
        let width = m.file.model.config().hidden;
        // Token 0's largest channel (the CLI's `--massive` edits the same one).
        let heat = fp.heat.get(layer).ok_or("no such layer")?;
        let row = heat.get(..width).ok_or("the text is empty")?;
        let channel = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(peak.channel, |(c, _)| c);
        Ok(InterventionRun {
            m,
            fp,
            layer,
            channel,
            todo: vec![(f32::NAN, Kind::Mean), (0.0, Kind::Zero)],
            mean: (0.0, 0),
            current: None,
            scoring: None,
        })
    }

    /// Units in all (an upper bound).
    pub fn units(&self) -> usize {
        let l = layers(&self.m);
        let scoring = self.m.file.model.config().vocab.div_ceil(lm::VOCAB_CHUNK);
        lm::MEAN_TEXTS.len() + 2 * (l + scoring) + 2
    }

    pub fn is_done(&self) -> bool {
        self.todo.is_empty() && self.current.is_none() && self.scoring.is_none()
    }

    /// One unit: a text of the mean, a layer of an edited forward, or a slice of scoring.
    pub fn advance(&mut self) -> Result<Option<Intervened>, String> {
        let m = self.m.clone();
        let model = &m.file.model;
        let e = |e: quantlab_engine::QuantError| e.to_string();
        if let Some((kind, value, mut scorer)) = self.scoring.take() {
            scorer.step(model).map_err(e)?;
            if !scorer.is_done() {
                self.scoring = Some((kind, value, scorer));
                return Ok(None);
            }
            let ppl = scorer.finish().map_err(e)?.ppl;
            return Ok(Some(Intervened {
                kind,
                layer: self.layer,
                channel: self.channel,
                value,
                ppl,
            }));
        }
        if let Some((kind, value, mut pass, edit)) = self.current.take() {
            let mut lin = lm::Intervene { inner: Float, edit };
            model.next_layer(&mut pass, None, &mut lin).map_err(e)?;
            if pass.layers_done() < layers(&m) {
                self.current = Some((kind, value, pass, lin.edit));
                return Ok(None);
            }
            let mut hidden = pass.into_hidden();
            model.final_norm(&mut hidden);
            let scorer = Scorer::new(model, &self.fp.ids, &hidden, None).map_err(e)?;
            self.scoring = Some((kind, value, scorer));
            return Ok(None);
        }
        let Some((value, kind)) = self.todo.pop() else {
            return Ok(None);
        };
        let value = match kind {
            Kind::Zero => value,
            Kind::Mean if self.mean.1 < lm::MEAN_TEXTS.len() => {
                // One other text up to the layer; the edit waits for the mean.
                let text = lm::MEAN_TEXTS.get(self.mean.1).copied().unwrap_or_default();
                let ids = m.file.tokenizer.encode(text).ids;
                let mut pass = model.begin(&ids, 0).map_err(e)?;
                while pass.layers_done() <= self.layer {
                    model.next_layer(&mut pass, None, &mut Float).map_err(e)?;
                }
                let x = pass.hidden().get(self.channel).copied().unwrap_or(0.0);
                self.mean = (self.mean.0 + f64::from(x), self.mean.1 + 1);
                self.todo.push((value, kind));
                return Ok(None);
            }
            Kind::Mean => (self.mean.0 / self.mean.1.max(1) as f64) as f32,
        };
        let edit = lm::Intervention {
            layer: self.layer,
            position: 0,
            channels: vec![(self.channel, value)],
            width: model.config().hidden,
        };
        let pass = model.begin(&self.fp.ids, 0).map_err(e)?;
        self.current = Some((kind, value, pass, edit));
        Ok(None)
    }
}
