//! The model chapter's sliced work: the full-precision run of each sentence, the calibration
//! set's activations, quantized copies of the model and their runs, one unit of work per step of
//! a [`Job`](crate::ui::job::Job) (a layer of one sentence, one calibration sentence, one
//! quantization of all 36 linears). Each unit is a few milliseconds for everyday sentences, so
//! the page answers between them, and a newer input cancels an older run between two units.

use std::sync::Arc;

use quantlab_app::sentences::{calibration_ids, Outcome};
use quantlab_engine::model::{
    Calibration, Encoding, ModelQuant, QuantBuilder, QuantizedBert, LAYERS,
};

use crate::ui::minilm::{FpSentence, Minilm, ModelStore, SentenceRun};
use crate::ui::Shared;

/// The sentences, tokenized, and their full-precision runs once complete.
#[derive(Clone, Debug)]
pub struct FpSet {
    pub texts: Vec<String>,
    pub runs: Vec<Arc<FpSentence>>,
}

impl PartialEq for FpSet {
    fn eq(&self, other: &Self) -> bool {
        self.texts == other.texts
            && self.runs.len() == other.runs.len()
            && self
                .runs
                .iter()
                .zip(&other.runs)
                .all(|(a, b)| Arc::ptr_eq(a, b))
    }
}

impl FpSet {
    pub fn embeddings(&self) -> Vec<Vec<f32>> {
        self.runs.iter().map(|r| r.embedding.clone()).collect()
    }

    /// Mean wall time of one full-precision forward, and the mean number of tokens.
    pub fn speed(&self) -> (f64, f64) {
        let n = self.runs.len().max(1) as f64;
        (
            self.runs.iter().map(|r| r.ms).sum::<f64>() / n,
            self.runs
                .iter()
                .map(|r| r.encoding.ids.len() as f64)
                .sum::<f64>()
                / n,
        )
    }
}

/// Full-precision runs of the sentences that have none in the store yet.
pub struct FpStage {
    m: Shared<Minilm>,
    store: ModelStore,
    texts: Vec<String>,
    encodings: Vec<Encoding>,
    runs: Vec<Option<Arc<FpSentence>>>,
    current: Option<(usize, SentenceRun)>,
}

impl FpStage {
    pub fn new(m: Shared<Minilm>, store: ModelStore, texts: Vec<String>) -> Self {
        let encodings: Vec<Encoding> = texts.iter().map(|t| m.tokenizer.encode(t)).collect();
        let runs = texts.iter().map(|t| store.fp(t)).collect();
        FpStage {
            m,
            store,
            texts,
            encodings,
            runs,
            current: None,
        }
    }

    /// Units of work left: one per layer of each sentence not yet run.
    pub fn units(&self) -> usize {
        self.runs.iter().filter(|r| r.is_none()).count() * LAYERS
    }

    pub fn is_done(&self) -> bool {
        self.runs.iter().all(Option::is_some)
    }

    /// One layer of the next sentence without a full-precision run.
    pub fn advance(&mut self) -> Result<(), String> {
        let (i, mut run) = match self.current.take() {
            Some(c) => c,
            None => {
                let Some(i) = self.runs.iter().position(Option::is_none) else {
                    return Ok(());
                };
                let ids = self.encodings.get(i).map(|e| e.ids.as_slice());
                let run = SentenceRun::begin(
                    &self.m.bert,
                    ids.unwrap_or_default(),
                    &quantlab_engine::model::Float,
                    true,
                )?;
                (i, run)
            }
        };
        run.step(&self.m.bert, &mut quantlab_engine::model::Float, None)?;
        if run.is_done() {
            let enc = self.encodings.get(i).cloned().ok_or("no such sentence")?;
            let fp = Arc::new(run.into_fp(enc)?);
            if let Some(text) = self.texts.get(i) {
                self.store.keep_fp(text.clone(), fp.clone());
            }
            if let Some(slot) = self.runs.get_mut(i) {
                *slot = Some(fp);
            }
        } else {
            self.current = Some((i, run));
        }
        Ok(())
    }

    pub fn finish(self) -> Option<FpSet> {
        let runs: Option<Vec<_>> = self.runs.into_iter().collect();
        Some(FpSet {
            texts: self.texts,
            runs: runs?,
        })
    }
}

/// One quantized setting's run over every sentence.
#[derive(Clone, Debug)]
pub struct QuantRun {
    pub cfg: ModelQuant,
    /// `[sentence][layer]`: ‖h_q − h‖/‖h‖ after each layer.
    pub drift: Vec<Vec<f64>>,
    /// Mean wall time of one forward.
    pub ms: f64,
    pub outcome: Outcome,
}

/// Quantized copies of the model for `configs`, one after the other, each run over every
/// sentence of `fp`; the calibration set is recorded first if a setting needs it and the store
/// has none.
pub struct QuantStage {
    m: Shared<Minilm>,
    store: ModelStore,
    fp: FpSet,
    configs: Vec<ModelQuant>,
    calib_ids: Vec<Vec<u32>>,
    calib: Option<Calibration>,
    /// Index into `configs` of the setting being built or run.
    cfg_i: usize,
    quant: Option<Arc<QuantizedBert>>,
    /// The copy being quantized, one linear per unit.
    building: Option<QuantBuilder>,
    build_ms: f64,
    current: Option<(usize, SentenceRun)>,
    embeddings: Vec<Vec<f32>>,
    drift: Vec<Vec<f64>>,
    ms: f64,
    /// Keep the built copies in the store (the chapter's own setting; not the table's sweep).
    keep: bool,
    pub done: Vec<QuantRun>,
}

impl QuantStage {
    pub fn new(
        m: Shared<Minilm>,
        store: ModelStore,
        fp: FpSet,
        configs: Vec<ModelQuant>,
        keep: bool,
    ) -> Self {
        let needs = configs.iter().any(ModelQuant::needs_calibration);
        let calib_ids = if needs && store.calibration().is_none() {
            calibration_ids(&m.tokenizer)
        } else {
            Vec::new()
        };
        QuantStage {
            m,
            store,
            fp,
            configs,
            calib_ids,
            calib: None,
            cfg_i: 0,
            quant: None,
            building: None,
            build_ms: 0.0,
            current: None,
            embeddings: Vec::new(),
            drift: Vec::new(),
            ms: 0.0,
            keep,
            done: Vec::new(),
        }
    }

    /// Units of work (at most): the calibration sentences, then per setting a look in the
    /// store, one unit per linear quantized, and one per layer of each sentence.
    pub fn units(&self) -> usize {
        self.calib_ids.len()
            + self.configs.len() * (1 + QuantBuilder::STEPS + self.fp.runs.len() * LAYERS)
    }

    pub fn is_done(&self) -> bool {
        self.cfg_i >= self.configs.len()
    }

    pub fn advance(&mut self) -> Result<(), String> {
        let bert = &self.m.bert;
        // Calibration: one sentence per unit.
        if let Some(ids) = self.calib_ids.first() {
            let c = self.calib.get_or_insert_with(Calibration::default);
            c.add(bert, ids).map_err(|e| e.to_string())?;
            self.calib_ids.remove(0);
            if self.calib_ids.is_empty() {
                if let Some(c) = self.calib.take() {
                    self.store.keep_calibration(Arc::new(c));
                }
            }
            return Ok(());
        }
        let Some(cfg) = self.configs.get(self.cfg_i).cloned() else {
            return Ok(());
        };
        // Build: a kept copy, one re-using kept weights, or one linear per unit.
        let Some(q) = self.quant.clone() else {
            let calib = self.store.calibration().unwrap_or_default();
            let builder = match self.building.as_mut() {
                Some(b) => b,
                None => {
                    let found = match self.store.quantized(&cfg) {
                        Some(q) => Some(q),
                        None => self.store.reuse_weights(&cfg, &calib)?,
                    };
                    if let Some(q) = found {
                        if self.keep {
                            self.store.keep_quantized(q.clone());
                        }
                        self.quant = Some(q);
                        return Ok(());
                    }
                    self.build_ms = 0.0;
                    self.building
                        .insert(QuantBuilder::new(cfg, &calib).map_err(|e| e.to_string())?)
                }
            };
            let t0 = crate::ui::dom::now_ms();
            builder.step(bert, &calib).map_err(|e| e.to_string())?;
            self.build_ms += crate::ui::dom::now_ms() - t0;
            if builder.is_done() {
                if let Some(b) = self.building.take() {
                    let q = Arc::new(b.finish().map_err(|e| e.to_string())?);
                    crate::ui::perf::record_engine("model: quantize 36 linears", self.build_ms);
                    if self.keep {
                        self.store.keep_quantized(q.clone());
                    }
                    self.quant = Some(q);
                }
            }
            return Ok(());
        };
        // Run: one layer of one sentence per unit.
        let (i, mut run) = match self.current.take() {
            Some(c) => c,
            None => {
                let i = self.embeddings.len();
                let ids = self
                    .fp
                    .runs
                    .get(i)
                    .map(|r| r.encoding.ids.clone())
                    .unwrap_or_default();
                (i, SentenceRun::begin(bert, &ids, &q.runner(), false)?)
            }
        };
        let reference = self.fp.runs.get(i).map(Arc::as_ref);
        run.step(bert, &mut q.runner(), reference)?;
        if !run.is_done() {
            self.current = Some((i, run));
            return Ok(());
        }
        self.embeddings.push(run.embedding()?);
        self.ms += run.ms();
        self.drift.push(std::mem::take(&mut run.drift));
        if self.embeddings.len() >= self.fp.runs.len() {
            let n = self.embeddings.len().max(1) as f64;
            let embeddings = std::mem::take(&mut self.embeddings);
            let outcome = Outcome::new(&self.fp.embeddings(), &embeddings);
            self.done.push(QuantRun {
                cfg,
                drift: std::mem::take(&mut self.drift),
                ms: self.ms / n,
                outcome,
            });
            self.ms = 0.0;
            self.quant = None;
            self.cfg_i += 1;
        }
        Ok(())
    }
}

/// The full-precision runs of the sentences (from the store where it has them), then every
/// setting of `configs` over them: the model chapter's own setting, its methods table and the
/// summary's whole-model columns all run as one of these, a unit per step of a job.
pub enum ModelRun {
    Fp {
        fp: FpStage,
        configs: Vec<ModelQuant>,
        keep: bool,
    },
    /// Boxed: a stage holds a model builder, far larger than the other variants.
    Quant(Box<QuantStage>),
    Failed(String),
    /// Only while a stage is being replaced.
    Moving,
}

impl ModelRun {
    pub fn new(
        m: Shared<Minilm>,
        store: ModelStore,
        texts: Vec<String>,
        configs: Vec<ModelQuant>,
        keep: bool,
    ) -> Self {
        ModelRun::Fp {
            fp: FpStage::new(m, store, texts),
            configs,
            keep,
        }
    }

    /// Units of work at most (what the job's progress counts).
    pub fn units(&self) -> usize {
        match self {
            ModelRun::Fp { fp, configs, .. } => {
                let n = fp.texts.len();
                let calib = if configs.iter().any(ModelQuant::needs_calibration)
                    && fp.store.calibration().is_none()
                {
                    quantlab_app::sentences::calibration_len()
                } else {
                    0
                };
                fp.units() + calib + configs.len() * (1 + QuantBuilder::STEPS + n * LAYERS)
            }
            ModelRun::Quant(q) => q.units(),
            _ => 0,
        }
    }

    /// Settings finished so far.
    pub fn done(&self) -> &[QuantRun] {
        match self {
            ModelRun::Quant(q) => &q.done,
            _ => &[],
        }
    }

    /// One unit of work; returns the full-precision runs on the step that completes them.
    pub fn advance(&mut self) -> Option<FpSet> {
        match std::mem::replace(self, ModelRun::Moving) {
            ModelRun::Fp {
                mut fp,
                configs,
                keep,
            } => match fp.advance() {
                Err(e) => *self = ModelRun::Failed(e),
                Ok(()) if fp.is_done() => {
                    let (m, store) = (fp.m.clone(), fp.store);
                    match fp.finish() {
                        Some(set) => {
                            *self = ModelRun::Quant(Box::new(QuantStage::new(
                                m,
                                store,
                                set.clone(),
                                configs,
                                keep,
                            )));
                            return Some(set);
                        }
                        None => *self = ModelRun::Failed("a sentence did not run".to_string()),
                    }
                }
                Ok(()) => *self = ModelRun::Fp { fp, configs, keep },
            },
            ModelRun::Quant(mut q) => {
                if !q.is_done() {
                    if let Err(e) = q.advance() {
                        *self = ModelRun::Failed(e);
                        return None;
                    }
                }
                *self = ModelRun::Quant(q);
            }
            other => *self = other,
        }
        None
    }

    /// The finished settings, or why the run stopped.
    pub fn finish(self) -> Result<Vec<QuantRun>, String> {
        match self {
            ModelRun::Quant(q) if q.is_done() => Ok(q.done),
            ModelRun::Failed(e) => Err(e),
            _ => Err("the run did not finish".to_string()),
        }
    }
}

impl ModelRun {
    /// Runs this on `job`: `progress` with the settings finished so far whenever one more
    /// finishes, `finish` with all of them (or why the run stopped) at the end.
    pub fn start(
        self,
        job: crate::ui::job::Job,
        progress: impl Fn(&[QuantRun]) + 'static,
        finish: impl FnOnce(Result<Vec<QuantRun>, String>) + 'static,
    ) {
        let total = self.units();
        job.fold_deferred(
            self,
            total,
            move |r, _| {
                let before = r.done().len();
                r.advance();
                if r.done().len() != before {
                    progress(r.done());
                }
            },
            move |r| finish(r.finish()),
        );
    }
}
