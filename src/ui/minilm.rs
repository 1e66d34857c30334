//! all-MiniLM-L6-v2 in the page: its download (progress in MB, cancellable, the SHA-256 computed
//! as the bytes arrive), the model and tokenizer once ready, and what the chapters derive from
//! it and keep: the full-precision run of each sentence, the calibration set's activations and
//! the last quantized copies.
//!
//! The model is fetched only by the chapters that run it, from the site's own `models/`; the
//! service worker keeps the response, so the second visit and offline use read it from the
//! cache.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use quantlab_engine::model::compare::relative_error;
use quantlab_engine::model::{
    Bert, Calibration, Encoding, Linears, ModelQuant, QuantizedBert, WordPiece,
};
use quantlab_weights::{Check, SHIPPED_BYTES, SHIPPED_NAME};

use super::dom;
use super::fetch::{self, Fetch};
use super::Shared;

/// The model and its tokenizer.
pub struct Minilm {
    pub bert: Bert,
    pub tokenizer: WordPiece,
    pub sha256: String,
}

impl std::fmt::Debug for Minilm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Minilm({})", self.bert.storage())
    }
}

/// MiniLM on its way into the page.
pub type ModelState = super::fetch::Loading<Minilm>;

/// One sentence through the full-precision model.
#[derive(Debug)]
pub struct FpSentence {
    pub encoding: Encoding,
    pub embedding: Vec<f32>,
    /// The hidden state after each of the 6 layers (T × 384).
    pub layers: Vec<Vec<f32>>,
    /// Wall time of the forward pass.
    pub ms: f64,
}

/// How many quantized copies of the model are kept (each ~11 MB of int8 weights).
const QUANT_CACHE: usize = 3;

#[derive(Clone, Copy)]
pub struct ModelStore {
    pub state: RwSignal<ModelState>,
    abort: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
    fp: StoredValue<HashMap<String, Arc<FpSentence>>>,
    calibration: StoredValue<Option<Arc<Calibration>>>,
    quant: StoredValue<Vec<(ModelQuant, Arc<QuantizedBert>)>>,
}

impl ModelStore {
    pub fn new() -> Self {
        ModelStore {
            state: RwSignal::new(ModelState::Idle),
            abort: StoredValue::new_local(None),
            fp: StoredValue::new(HashMap::new()),
            calibration: StoredValue::new(None),
            quant: StoredValue::new(Vec::new()),
        }
    }

    /// Starts the download unless the model is loaded or on its way.
    pub fn ensure(&self) {
        let start = self
            .state
            .with_untracked(|s| matches!(s, ModelState::Idle | ModelState::Failed(_)));
        if start {
            self.load();
        }
    }

    /// (Re)starts the download (after a failure or a cancel).
    pub fn load(&self) {
        if self
            .state
            .with_untracked(|s| s.busy() || s.model().is_some())
        {
            return;
        }
        let store = *self;
        store.state.set(ModelState::Downloading {
            received: 0,
            total: SHIPPED_BYTES,
        });
        spawn_local(async move {
            let path = model_path();
            let req = fetch::Request {
                path: &path,
                expected: SHIPPED_BYTES,
                limit: quantlab_weights::MAX_FILE_BYTES,
                hash: true,
            };
            let progress = move |received, total| {
                store
                    .state
                    .try_set(ModelState::Downloading { received, total });
            };
            let next = match fetch::download(req, store.abort, progress).await {
                Ok((bytes, sha)) => {
                    store.state.try_set(ModelState::Preparing);
                    // Let the page draw "preparing" before the weights are unpacked.
                    fetch::pause_ms(30).await;
                    match prepare(&bytes, sha.unwrap_or_default()) {
                        Ok(m) => ModelState::Ready(Shared::new(m)),
                        Err(e) => ModelState::Failed(e),
                    }
                }
                Err(Fetch::Cancelled) => ModelState::Cancelled,
                Err(Fetch::Failed(e)) => ModelState::Failed(e),
            };
            if !matches!(next, ModelState::Ready(_)) {
                fetch::forget_offline(&path);
            }
            store.abort.try_update_value(|a| *a = None);
            store.state.try_set(next);
        });
    }

    /// Stops a download under way.
    pub fn cancel(&self) {
        fetch::cancel(self.abort);
    }

    /// The full-precision run of `text`, if it was computed before.
    pub fn fp(&self, text: &str) -> Option<Arc<FpSentence>> {
        self.fp.with_value(|m| m.get(text).cloned())
    }

    pub fn keep_fp(&self, text: String, run: Arc<FpSentence>) {
        self.fp.update_value(|m| {
            // Every text typed while editing lands here; a bound keeps that from growing.
            if m.len() > 256 {
                m.clear();
            }
            m.insert(text, run);
        });
    }

    pub fn calibration(&self) -> Option<Arc<Calibration>> {
        self.calibration.get_value()
    }

    pub fn keep_calibration(&self, c: Arc<Calibration>) {
        self.calibration.set_value(Some(c));
    }

    /// A quantized copy built before for exactly `cfg`.
    pub fn quantized(&self, cfg: &ModelQuant) -> Option<Arc<QuantizedBert>> {
        self.quant
            .with_value(|v| v.iter().find(|(c, _)| c == cfg).map(|(_, q)| q.clone()))
    }

    /// A copy for `cfg` made from a kept one with the same int8 weights (only the activation
    /// settings differ), or `None`.
    pub fn reuse_weights(
        &self,
        cfg: &ModelQuant,
        calibration: &Calibration,
    ) -> Result<Option<Arc<QuantizedBert>>, String> {
        let kept: Vec<Arc<QuantizedBert>> = self
            .quant
            .with_value(|v| v.iter().map(|(_, q)| q.clone()).collect());
        for q in kept {
            let derived = crate::ui::perf::time("model: re-use int8 weights", || {
                q.with_activations(cfg, calibration)
            })
            .map_err(|e| e.to_string())?;
            if let Some(d) = derived {
                return Ok(Some(Arc::new(d)));
            }
        }
        Ok(None)
    }

    /// Whether a kept copy has `cfg`'s int8 weights (whatever its activation settings).
    pub fn has_weights(&self, cfg: &ModelQuant) -> bool {
        self.quant
            .with_value(|v| v.iter().any(|(c, _)| c.same_weights(cfg)))
    }

    /// Keeps a copy built ahead of use behind the ones in use: it never pushes out the copy
    /// the page is showing.
    pub fn keep_spare(&self, q: Arc<QuantizedBert>) {
        if self.has_weights(q.config()) {
            return;
        }
        self.quant.update_value(|v| {
            if v.len() >= QUANT_CACHE {
                v.pop();
            }
            v.push((q.config().clone(), q));
        });
    }

    pub fn keep_quantized(&self, q: Arc<QuantizedBert>) {
        self.quant.update_value(|v| {
            // One slot per weight set: a copy with other activation settings is re-derived
            // from the new one in microseconds (`reuse_weights`).
            v.retain(|(c, _)| !c.same_weights(q.config()));
            v.insert(0, (q.config().clone(), q));
            v.truncate(QUANT_CACHE);
        });
    }
}

impl Default for ModelStore {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_model() -> ModelStore {
    expect_context::<ModelStore>()
}

/// Where the site serves the model (relative: any sub-path).
fn model_path() -> String {
    format!("models/{SHIPPED_NAME}")
}

fn prepare(bytes: &[u8], sha: String) -> Result<Minilm, String> {
    let loaded =
        quantlab_weights::load_hashed(bytes, sha, Check::KnownSha256).map_err(|e| e.to_string())?;
    let vocab = loaded
        .vocab
        .as_deref()
        .ok_or("the model file carries no vocab.txt")?;
    let tokenizer = WordPiece::from_vocab_txt(vocab).map_err(|e| e.to_string())?;
    Ok(Minilm {
        bert: loaded.bert,
        tokenizer,
        sha256: loaded.sha256,
    })
}

/// One sentence's forward pass, run a layer at a time by a sliced job.
pub struct SentenceRun {
    pass: quantlab_engine::model::Pass,
    ms: f64,
    /// Relative error of the hidden state after each layer, against the full-precision run.
    pub drift: Vec<f64>,
    layers: Vec<Vec<f32>>,
    keep_layers: bool,
}

impl SentenceRun {
    /// Starts `ids` through `bert` with `lin`'s embeddings; `keep_layers` keeps every hidden
    /// state (the full-precision run, which the quantized ones are compared with).
    pub fn begin(
        bert: &Bert,
        ids: &[u32],
        lin: &impl Linears,
        keep_layers: bool,
    ) -> Result<Self, String> {
        let t0 = dom::now_ms();
        let pass = bert.begin(ids, lin).map_err(|e| e.to_string())?;
        Ok(SentenceRun {
            pass,
            ms: dom::now_ms() - t0,
            drift: Vec::new(),
            layers: Vec::new(),
            keep_layers,
        })
    }

    pub fn is_done(&self) -> bool {
        self.pass.is_done()
    }

    /// Runs one layer; `reference` (the full-precision run) gives the drift after it.
    pub fn step(
        &mut self,
        bert: &Bert,
        lin: &mut impl Linears,
        reference: Option<&FpSentence>,
    ) -> Result<(), String> {
        let t0 = dom::now_ms();
        bert.next_layer(&mut self.pass, lin)
            .map_err(|e| e.to_string())?;
        self.ms += dom::now_ms() - t0;
        let l = self.pass.layers_done() - 1;
        if let Some(r) = reference.and_then(|r| r.layers.get(l)) {
            self.drift.push(relative_error(r, self.pass.hidden()));
        }
        if self.keep_layers {
            self.layers.push(self.pass.hidden().to_vec());
        }
        Ok(())
    }

    /// Milliseconds spent in this forward so far.
    pub fn ms(&self) -> f64 {
        self.ms
    }

    pub fn embedding(&self) -> Result<Vec<f32>, String> {
        self.pass.embedding().map_err(|e| e.to_string())
    }

    /// The finished full-precision run.
    pub fn into_fp(self, encoding: Encoding) -> Result<FpSentence, String> {
        Ok(FpSentence {
            encoding,
            embedding: self.embedding()?,
            layers: self.layers,
            ms: self.ms,
        })
    }
}
