//! SmolLM2-135M in the page: its GGUF from the site's own `models/` (progress in MB,
//! cancellable, the SHA-256 computed as the bytes arrive) or the reader's own `.gguf`, and what
//! the language-model chapter keeps: the full-precision run of the current text, its
//! calibration, and the last quantized copy (one: each is ~110 MB of int8 weights).
//!
//! Nothing is fetched until the reader asks; the service worker keeps the file for the second
//! visit and offline use.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use quantlab_engine::model::lm::Scores;
use quantlab_engine::model::{Calibration, ModelQuant, QuantizedModel};
use quantlab_weights::llm::{self as llmfile, LlmFile};

use super::fetch::{self, Fetch};
use super::Shared;

/// The language model and where it came from.
pub struct Lm {
    pub file: LlmFile,
    /// `None` for the shipped SmolLM2 (its SHA-256 checked); the reader's file name otherwise.
    pub own: Option<String>,
}

impl std::fmt::Debug for Lm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lm({})", self.file.name)
    }
}

/// The language model on its way into the page.
pub type LmState = super::fetch::Loading<Lm>;

/// A text through the full-precision model: what the chapter compares every method with.
#[derive(Debug)]
pub struct FpText {
    pub ids: Vec<u32>,
    /// What every method's KL and top-1 against this run need.
    pub reference: quantlab_engine::model::lm::Reference,
    pub scores: Scores,
    /// Per layer: the residual stream's largest |x| and where it sits.
    pub peaks: Vec<quantlab_engine::model::lm::Peak>,
    /// Per layer: |x| of the residual stream's first [`HEAT_TOKENS`] tokens (T' × hidden).
    pub heat: Vec<Vec<f32>>,
    /// Wall time of the forward and the scoring.
    pub ms: f64,
}

/// Tokens of the residual stream kept per layer for the token × channel view.
pub const HEAT_TOKENS: usize = 48;

#[derive(Clone, Copy)]
pub struct LmStore {
    pub state: RwSignal<LmState>,
    /// The reader's file being read while a model is loaded (that model stays until it is
    /// replaced), and why the last such file was refused.
    pub reading: RwSignal<bool>,
    pub refused: RwSignal<Option<String>>,
    abort: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
    fp: StoredValue<Option<Arc<FpText>>>,
    calibration: StoredValue<Option<(Vec<u32>, Arc<Calibration>)>>,
    quant: StoredValue<Option<Kept>>,
}

/// A quantized copy, its setting and the text it was calibrated on.
type Kept = (ModelQuant, Vec<u32>, Arc<QuantizedModel>);

/// Where the site serves the model (relative: any sub-path).
fn model_path() -> String {
    format!("models/{}", llmfile::SMOLLM2_NAME)
}

impl LmStore {
    pub fn new() -> Self {
        LmStore {
            state: RwSignal::new(LmState::Idle),
            reading: RwSignal::new(false),
            refused: RwSignal::new(None),
            abort: StoredValue::new_local(None),
            fp: StoredValue::new(None),
            calibration: StoredValue::new(None),
            quant: StoredValue::new(None),
        }
    }

    /// (Re)starts the download of the shipped model, unless one is on its way.
    pub fn load(&self) {
        if self.busy_untracked() {
            return;
        }
        let store = *self;
        store.refused.set(None);
        store.state.set(LmState::Downloading {
            received: 0,
            total: llmfile::SMOLLM2_BYTES,
        });
        spawn_local(async move {
            let path = model_path();
            let req = fetch::Request {
                path: &path,
                expected: llmfile::SMOLLM2_BYTES,
                limit: llmfile::SMOLLM2_BYTES,
                hash: true,
            };
            let progress = move |received, total| {
                store
                    .state
                    .try_set(LmState::Downloading { received, total });
            };
            let next = match fetch::download(req, store.abort, progress).await {
                Ok((bytes, sha)) => {
                    store.state.try_set(LmState::Preparing);
                    fetch::pause_ms(30).await;
                    let sha = sha.unwrap_or_default();
                    if sha == llmfile::SMOLLM2_SHA256 {
                        prepare(bytes, None)
                    } else {
                        LmState::Failed(format!(
                            "{path}: SHA-256 {sha}, not the pip wheel's {}: the file on this \
                             site is damaged",
                            llmfile::SMOLLM2_SHA256
                        ))
                    }
                }
                Err(Fetch::Cancelled) => LmState::Cancelled,
                Err(Fetch::Failed(e)) => LmState::Failed(e),
            };
            if !matches!(next, LmState::Ready(_)) {
                fetch::forget_offline(&path);
            }
            store.abort.try_update_value(|a| *a = None);
            store.adopt(next);
        });
    }

    /// Reads the reader's own `.gguf`: its size is checked before a byte is read, its header
    /// and tensors before anything large is allocated.
    pub fn open(&self, file: web_sys::File) {
        if self.busy_untracked() {
            return;
        }
        self.refused.set(None);
        // With a model loaded, a refused file leaves it in place (as a refused .npy does).
        let keep = self
            .state
            .with_untracked(|s| matches!(s, LmState::Ready(_)));
        let name = file.name();
        let size = file.size();
        // NaN (a size the browser does not know) is refused too.
        if size.partial_cmp(&(llmfile::MAX_GGUF_BYTES as f64)) != Some(std::cmp::Ordering::Less) {
            let e = format!(
                "{name}: {:.0} MB, more than a model file can be here ({} MB)",
                size / 1e6,
                llmfile::MAX_GGUF_BYTES >> 20
            );
            self.refuse(e, keep);
            return;
        }
        let store = *self;
        if keep {
            store.reading.set(true);
        } else {
            store.state.set(LmState::Preparing);
        }
        spawn_local(async move {
            let next = match JsFuture::from(file.array_buffer()).await {
                Ok(buf) => {
                    let bytes = js_sys::Uint8Array::new(&buf.unchecked_into()).to_vec();
                    prepare(bytes, Some(name))
                }
                Err(_) => LmState::Failed(format!("{name}: the browser could not read it")),
            };
            store.reading.try_set(false);
            match next {
                LmState::Failed(e) => store.refuse(e, keep),
                next => store.adopt(next),
            }
        });
    }

    fn refuse(&self, e: String, keep: bool) {
        if keep {
            self.refused.try_set(Some(e));
        } else {
            self.adopt(LmState::Failed(e));
        }
    }

    /// A download, or a file being read: the load controls wait for it.
    pub fn busy(&self) -> bool {
        self.state.with(LmState::busy) || self.reading.get()
    }

    fn busy_untracked(&self) -> bool {
        self.state.with_untracked(LmState::busy) || self.reading.get_untracked()
    }

    /// Stops a download under way.
    pub fn cancel(&self) {
        fetch::cancel(self.abort);
    }

    /// A new state; a new model drops everything derived from the old one.
    fn adopt(&self, next: LmState) {
        if matches!(next, LmState::Ready(_)) {
            self.fp.try_set_value(None);
            self.calibration.try_set_value(None);
            self.quant.try_set_value(None);
        }
        self.state.try_set(next);
    }

    /// The full-precision run of `ids`, if it is the one kept.
    pub fn fp(&self, ids: &[u32]) -> Option<Arc<FpText>> {
        self.fp
            .with_value(|f| f.as_ref().filter(|f| f.ids == ids).cloned())
    }

    pub fn keep_fp(&self, fp: Arc<FpText>) {
        self.fp.set_value(Some(fp));
    }

    pub fn calibration(&self, ids: &[u32]) -> Option<Arc<Calibration>> {
        self.calibration.with_value(|c| {
            c.as_ref()
                .filter(|(i, _)| i.as_slice() == ids)
                .map(|(_, c)| c.clone())
        })
    }

    pub fn keep_calibration(&self, ids: Vec<u32>, c: Arc<Calibration>) {
        self.calibration.set_value(Some((ids, c)));
    }

    /// The kept quantized copy, if it was built for `cfg` (and, when `cfg` is calibrated, on
    /// `ids`).
    pub fn quantized(&self, cfg: &ModelQuant, ids: &[u32]) -> Option<Arc<QuantizedModel>> {
        self.quant.with_value(|q| {
            q.as_ref()
                .filter(|(c, i, _)| c == cfg && (!cfg.needs_calibration() || i.as_slice() == ids))
                .map(|(_, _, m)| m.clone())
        })
    }

    /// A copy for `cfg` on the kept copy's int8 weights when only the activation settings
    /// differ (weights that depend on calibration, SmoothQuant's, only on the same text).
    pub fn reuse_weights(
        &self,
        cfg: &ModelQuant,
        ids: &[u32],
        calibration: &Calibration,
    ) -> Result<Option<Arc<QuantizedModel>>, String> {
        let kept = self.quant.with_value(|q| {
            q.as_ref()
                .filter(|(c, i, _)| !c.needs_calibration() || i.as_slice() == ids)
                .map(|(_, _, m)| m.clone())
        });
        let Some(kept) = kept else {
            return Ok(None);
        };
        let derived = crate::ui::perf::time("llm: re-use int8 weights", || {
            kept.with_activations(cfg, calibration)
        })
        .map_err(|e| e.to_string())?;
        Ok(derived.map(Arc::new))
    }

    pub fn keep_quantized(&self, cfg: ModelQuant, ids: Vec<u32>, q: Arc<QuantizedModel>) {
        self.quant.set_value(Some((cfg, ids, q)));
    }

    /// Frees the kept copy before another is built (two at once would double the memory).
    pub fn drop_quantized(&self) {
        self.quant.set_value(None);
    }
}

impl Default for LmStore {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_lm() -> LmStore {
    expect_context::<LmStore>()
}

fn prepare(bytes: Vec<u8>, own: Option<String>) -> LmState {
    let label = own.clone().unwrap_or_else(model_path);
    match llmfile::load_gguf(bytes) {
        Ok(file) => LmState::Ready(Shared::new(Lm { file, own })),
        Err(e) => LmState::Failed(format!("{label}: {e}")),
    }
}

/// The text of `ids`, one piece per token (bytes that are not whole UTF-8 characters shown as
/// U+FFFD).
pub fn pieces(m: &Lm, ids: &[u32]) -> Vec<String> {
    ids.iter()
        .map(|&i| String::from_utf8_lossy(&m.file.tokenizer.piece(i, true)).into_owned())
        .collect()
}
