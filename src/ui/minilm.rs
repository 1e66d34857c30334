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
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use quantlab_engine::model::compare::relative_error;
use quantlab_engine::model::{
    Bert, Calibration, Encoding, Linears, ModelQuant, QuantizedBert, WordPiece,
};
use quantlab_weights::{Check, Sha256Stream, SHIPPED_BYTES, SHIPPED_NAME};

use super::dom;
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

#[derive(Clone, Debug, PartialEq)]
pub enum ModelState {
    /// Not asked for yet.
    Idle,
    Downloading {
        received: usize,
        total: usize,
    },
    /// Downloaded; checking and unpacking the weights.
    Preparing,
    Ready(Shared<Minilm>),
    Failed(String),
    /// Stopped by the reader.
    Cancelled,
}

impl ModelState {
    pub fn model(&self) -> Option<Shared<Minilm>> {
        match self {
            ModelState::Ready(m) => Some(m.clone()),
            _ => None,
        }
    }

    pub fn busy(&self) -> bool {
        matches!(self, ModelState::Downloading { .. } | ModelState::Preparing)
    }
}

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
            let next = match download(store).await {
                Ok((bytes, sha)) => {
                    store.state.try_set(ModelState::Preparing);
                    // Let the page draw "preparing" before the weights are unpacked.
                    pause_ms(30).await;
                    match prepare(&bytes, sha) {
                        Ok(m) => ModelState::Ready(Shared::new(m)),
                        Err(e) => ModelState::Failed(e),
                    }
                }
                Err(Fetch::Cancelled) => ModelState::Cancelled,
                Err(Fetch::Failed(e)) => ModelState::Failed(e),
            };
            if !matches!(next, ModelState::Ready(_)) {
                forget_offline(&model_path());
            }
            store.abort.try_update_value(|a| *a = None);
            store.state.try_set(next);
        });
    }

    /// Stops a download under way.
    pub fn cancel(&self) {
        if let Some(Some(c)) = self.abort.try_get_value() {
            c.abort();
        }
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

    pub fn keep_quantized(&self, q: Arc<QuantizedBert>) {
        self.quant.update_value(|v| {
            v.retain(|(c, _)| c != q.config());
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

enum Fetch {
    Cancelled,
    Failed(String),
}

/// The shipped file, streamed: progress after every piece, SHA-256 as it arrives.
async fn download(store: ModelStore) -> Result<(Vec<u8>, String), Fetch> {
    let path = model_path();
    let failed = |what: &str| Fetch::Failed(format!("{path}: {what}"));
    let window = dom::window().ok_or_else(|| failed("no window"))?;
    let controller = web_sys::AbortController::new().map_err(|_| failed("no AbortController"))?;
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    store.abort.set_value(Some(controller));
    let cancelled = move || {
        store
            .abort
            .try_with_value(|a| a.as_ref().is_some_and(|c| c.signal().aborted()))
            .unwrap_or(true)
    };
    let resp = JsFuture::from(window.fetch_with_str_and_init(&path, &init))
        .await
        .map_err(|_| {
            if cancelled() {
                Fetch::Cancelled
            } else {
                failed("could not be downloaded (offline, and not loaded before?)")
            }
        })?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|_| failed("unexpected response"))?;
    if !resp.ok() {
        return Err(failed(&format!("HTTP {}", resp.status())));
    }
    keep_for_offline(&path, &resp);
    let total = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0 && n <= quantlab_weights::MAX_FILE_BYTES)
        .unwrap_or(SHIPPED_BYTES);
    let body = resp.body().ok_or_else(|| failed("empty response"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total);
    let mut sha = Sha256Stream::new();
    let mut shown = 0usize;
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|_| {
            if cancelled() {
                Fetch::Cancelled
            } else {
                failed("the download was interrupted")
            }
        })?;
        let chunk: web_sys::ReadableStreamReadResult = chunk.unchecked_into();
        if chunk.get_done().unwrap_or(true) {
            break;
        }
        let piece = js_sys::Uint8Array::new(&chunk.get_value()).to_vec();
        if bytes.len() + piece.len() > quantlab_weights::MAX_FILE_BYTES {
            return Err(failed("is larger than any model file quantlab knows"));
        }
        sha.update(&piece);
        bytes.extend_from_slice(&piece);
        // One progress update per ~1 % keeps the bar smooth without a render per piece.
        if bytes.len() - shown >= total / 100 {
            shown = bytes.len();
            store.state.try_set(ModelState::Downloading {
                received: shown,
                total: total.max(shown),
            });
        }
    }
    Ok((bytes, sha.finish()))
}

/// Where the site serves the model (relative: any sub-path).
fn model_path() -> String {
    format!("models/{SHIPPED_NAME}")
}

/// The service worker's cache (`assets/sw.js`).
const OFFLINE_CACHE: &str = "quantlab-v1";

/// Puts a copy of the response into the offline cache as it streams in. The service worker
/// keeps every response it fetches, but the very first visit's requests can run before it
/// controls the page; this makes "kept for offline use" true from the first load. A failed
/// or cancelled load removes the entry again ([`forget_offline`]).
fn keep_for_offline(path: &str, resp: &web_sys::Response) {
    let (Some(window), Ok(copy)) = (dom::window(), resp.clone()) else {
        return;
    };
    let Ok(caches) = window.caches() else { return };
    let path = path.to_string();
    spawn_local(async move {
        let Ok(cache) = JsFuture::from(caches.open(OFFLINE_CACHE)).await else {
            return;
        };
        let cache: web_sys::Cache = cache.unchecked_into();
        // A cancelled download rejects here; there is nothing to keep then.
        let _ = JsFuture::from(cache.put_with_str(&path, &copy)).await;
    });
}

fn forget_offline(path: &str) {
    let Some(window) = dom::window() else { return };
    let Ok(caches) = window.caches() else { return };
    let path = path.to_string();
    spawn_local(async move {
        if let Ok(cache) = JsFuture::from(caches.open(OFFLINE_CACHE)).await {
            let cache: web_sys::Cache = cache.unchecked_into();
            let _ = JsFuture::from(cache.delete_with_str(&path)).await;
        }
    });
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

/// A promise that resolves after `ms` (lets the browser paint between two steps of an async
/// task).
async fn pause_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = dom::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        } else {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
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
