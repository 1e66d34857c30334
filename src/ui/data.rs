//! Where chapters get their tensors: a cache of loaded/generated tensors (shared by all
//! chapters), the fetch of the shipped `.npy` files, the reader's upload, and the data picker.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::ui::state::{use_app, Lens};
use quantlab_app::controls::{
    codec, Choice, Controls, DataChoice, DataControls, LayerChoice, OwnControls, OwnLinear,
    MINILM_LAYERS, OWN_LAYER, SEED,
};
use quantlab_app::datasets::{self, RealLayer, Source, Tensor, REAL, UPLOAD_LIMITS};
use quantlab_app::i18n::Msg;
use quantlab_engine::linear::LayerCase;
use quantlab_engine::model::compare::capture_input;
use quantlab_engine::model::{Family, LinearId, LinearKind};

use crate::ui::llm::{use_lm, LmState};
use crate::ui::minilm::{use_model, ModelState};
use quantlab_engine::smooth::SmoothCase;
use quantlab_engine::NpyLimits;

/// The state of one data source.
#[derive(Clone, Debug)]
pub enum Loaded {
    Loading,
    Ready(Arc<Tensor>),
    Failed(String),
}

impl PartialEq for Loaded {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Loaded::Loading, Loaded::Loading) => true,
            (Loaded::Ready(a), Loaded::Ready(b)) => Arc::ptr_eq(a, b),
            (Loaded::Failed(a), Loaded::Failed(b)) => a == b,
            _ => false,
        }
    }
}

impl Loaded {
    pub fn tensor(&self) -> Option<Arc<Tensor>> {
        match self {
            Loaded::Ready(t) => Some(t.clone()),
            _ => None,
        }
    }
}

/// Shipped files are trusted but still go through the same checked reader.
const SHIPPED_LIMITS: NpyLimits = NpyLimits {
    max_bytes: 8 << 20,
    max_elements: 1 << 21,
    max_header_len: 4096,
};

/// A real MiniLM layer with what the second-half chapters derive from it once: the float
/// reference product Y = X·W and SmoothQuant's per-channel maxima (in [`SmoothCase`]).
pub struct LayerData {
    /// What it is: a shipped layer's slug, or the reader's sentence's layer and linear.
    pub label: String,
    pub tokens: Vec<String>,
    pub case: SmoothCase,
}

impl std::fmt::Debug for LayerData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LayerData({})", self.label)
    }
}

#[derive(Clone, Debug)]
pub enum LayerLoaded {
    Loading,
    Ready(Arc<LayerData>),
    Failed(String),
}

impl PartialEq for LayerLoaded {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (LayerLoaded::Loading, LayerLoaded::Loading) => true,
            (LayerLoaded::Ready(a), LayerLoaded::Ready(b)) => Arc::ptr_eq(a, b),
            (LayerLoaded::Failed(a), LayerLoaded::Failed(b)) => a == b,
            _ => false,
        }
    }
}

impl LayerLoaded {
    pub fn data(&self) -> Option<Arc<LayerData>> {
        match self {
            LayerLoaded::Ready(d) => Some(d.clone()),
            _ => None,
        }
    }
}

async fn load_layer(layer: RealLayer) -> Result<LayerData, String> {
    let x = datasets::tensor_from_npy("X", &fetch_bytes(layer.x_path).await?, &SHIPPED_LIMITS)?;
    let w = datasets::tensor_from_npy("W", &fetch_bytes(layer.w_path).await?, &SHIPPED_LIMITS)?;
    let tokens_text = String::from_utf8(fetch_bytes(datasets::TOKENS_PATH).await?)
        .map_err(|_| format!("{} is not UTF-8 text", datasets::TOKENS_PATH))?;
    let tokens = datasets::parse_tokens(&tokens_text);
    let ((t, cin), (win, cout)) = (x.rows_cols(), w.rows_cols());
    if cin != win {
        return Err(format!("X has {cin} channels but W has {win} rows"));
    }
    let case = LayerCase::from_vecs(x.data, t, cin, w.data, cout)
        .and_then(SmoothCase::new)
        .map_err(|e| e.to_string())?;
    Ok(LayerData {
        label: layer.choice.slug().to_string(),
        tokens,
        case,
    })
}

/// The input of one linear of a model for the reader's sentence (the float model's, as
/// `compare::capture_input` records it) with that linear's real weights: what the layer
/// chapters show for "your sentence" (all-MiniLM-L6-v2) and "SmolLM2: your text".
fn own_layer(
    model: &dyn Family,
    ids: &[u32],
    tokens: Vec<String>,
    own: &OwnControls,
) -> Result<LayerData, String> {
    let kind = match own.olin {
        OwnLinear::Qkv => LinearKind::Qkv,
        OwnLinear::O => LinearKind::Out,
        OwnLinear::Fc1 => LinearKind::Fc1,
        OwnLinear::Fc2 => LinearKind::Fc2,
    };
    let id = LinearId {
        layer: usize::from(own.olayer),
        kind,
    };
    let text = |e: quantlab_engine::QuantError| e.to_string();
    let x = capture_input(model, ids, id).map_err(text)?;
    let dense = model.float_weights(id).map_err(text)?;
    let (k, n) = (dense.k(), dense.n());
    let t = x.len() / k.max(1);
    let case = LayerCase::from_vecs(x, t, k, dense.weight(), n)
        .and_then(SmoothCase::new)
        .map_err(text)?;
    Ok(LayerData {
        label: id.label(),
        tokens,
        case,
    })
}

/// Longest text SmolLM2 reads for a layer chapter (a sentence or a paragraph, not a book: the
/// forward runs at once when the text changes).
const OWN_LLM_TOKENS: usize = 256;

/// Which model computed a layer of the reader's text, and from what.
type OwnKey = (LayerChoice, OwnControls);

#[derive(Clone, Copy)]
pub struct DataStore {
    cache: RwSignal<HashMap<String, Loaded>>,
    layers: RwSignal<HashMap<LayerChoice, LayerLoaded>>,
    /// The reader's sentences' layers, by (text, layer, linear); the last few.
    own: StoredValue<Vec<(OwnKey, Arc<LayerData>)>>,
    upload: RwSignal<Option<Arc<Tensor>>>,
    /// The last upload problem (the previous data stays selected).
    pub upload_error: RwSignal<Option<String>>,
}

impl DataStore {
    pub fn new() -> Self {
        DataStore {
            cache: RwSignal::new(HashMap::new()),
            layers: RwSignal::new(HashMap::new()),
            own: StoredValue::new(Vec::new()),
            upload: RwSignal::new(None),
            upload_error: RwSignal::new(None),
        }
    }

    /// The state of `src` (tracked).
    pub fn get(&self, src: &Source) -> Loaded {
        if *src == Source::Upload {
            return match self.upload.get() {
                Some(t) => Loaded::Ready(t),
                None => Loaded::Failed(String::new()),
            };
        }
        self.cache
            .with(|c| c.get(&src.cache_key()).cloned())
            .unwrap_or(Loaded::Loading)
    }

    /// Starts loading or generating `src` if nothing is known about it yet.
    pub fn ensure(&self, src: &Source) {
        let key = src.cache_key();
        if self.cache.with_untracked(|c| c.contains_key(&key)) {
            return;
        }
        match src.clone() {
            Source::Upload => {}
            Source::Synthetic {
                kind,
                seed,
                outliers,
            } => {
                let loaded = match datasets::synthesize(kind, seed, outliers) {
                    Ok(t) => Loaded::Ready(Arc::new(t)),
                    Err(e) => Loaded::Failed(e),
                };
                self.cache.update(|c| {
                    c.insert(key, loaded);
                });
            }
            Source::Real(r) => {
                self.cache.update(|c| {
                    c.insert(key.clone(), Loaded::Loading);
                });
                let cache = self.cache;
                spawn_local(async move {
                    let loaded = match fetch_bytes(r.path).await {
                        Ok(bytes) => match datasets::tensor_from_npy(
                            r.choice.slug(),
                            &bytes,
                            &SHIPPED_LIMITS,
                        ) {
                            Ok(t) => Loaded::Ready(Arc::new(t)),
                            Err(e) => Loaded::Failed(e),
                        },
                        Err(e) => Loaded::Failed(e),
                    };
                    cache.try_update(|c| {
                        c.insert(key, loaded);
                    });
                });
            }
        }
    }

    /// The layer of the reader's sentence, computed by all-MiniLM-L6-v2 or SmolLM2 (tracked:
    /// waits for the model, and starts loading it).
    pub fn own_layer(&self, source: LayerChoice, own: &OwnControls) -> LayerLoaded {
        let computed = if source == LayerChoice::Llm {
            let lm = use_lm();
            let Some(m) = lm.state.with(LmState::model) else {
                if lm.state.with_untracked(|s| matches!(s, LmState::Idle)) {
                    lm.load();
                }
                return match lm.state.get() {
                    LmState::Failed(e) => LayerLoaded::Failed(e),
                    LmState::Cancelled => {
                        LayerLoaded::Failed(use_app().t(Msg::ModelCancelled).to_string())
                    }
                    _ => LayerLoaded::Loading,
                };
            };
            self.remembered(source, own).map(Ok).unwrap_or_else(|| {
                let mut ids = m.file.tokenizer.encode(&own.text).ids;
                ids.truncate(OWN_LLM_TOKENS);
                let tokens = crate::ui::llm::pieces(&m, &ids);
                own_layer(&m.file.model, &ids, tokens, own).map(Arc::new)
            })
        } else {
            let model = use_model();
            let Some(m) = model.state.with(|s| s.model()) else {
                model.ensure();
                return match model.state.get() {
                    ModelState::Failed(e) => LayerLoaded::Failed(e),
                    _ => LayerLoaded::Loading,
                };
            };
            if usize::from(own.olayer) >= MINILM_LAYERS {
                let msg = Msg::OwnMiniLmLayers.fill(use_app().lang(), &[&own.olayer.to_string()]);
                return LayerLoaded::Failed(msg);
            }
            self.remembered(source, own).map(Ok).unwrap_or_else(|| {
                let enc = m.tokenizer.encode(&own.text);
                own_layer(&m.bert, &enc.ids, enc.tokens, own).map(Arc::new)
            })
        };
        match computed {
            Ok(d) => {
                self.own.update_value(|v| {
                    v.retain(|(k, _)| k != &(source, own.clone()));
                    v.insert(0, ((source, own.clone()), d.clone()));
                    v.truncate(4);
                });
                LayerLoaded::Ready(d)
            }
            Err(e) => LayerLoaded::Failed(e),
        }
    }

    fn remembered(&self, source: LayerChoice, own: &OwnControls) -> Option<Arc<LayerData>> {
        self.own.with_value(|v| {
            v.iter()
                .find(|(k, _)| k.0 == source && &k.1 == own)
                .map(|(_, d)| d.clone())
        })
    }

    /// The state of a real layer (tracked); starts loading it on first request.
    pub fn layer(&self, choice: LayerChoice) -> LayerLoaded {
        let Some(layer) = datasets::layer(choice) else {
            return LayerLoaded::Failed("not a shipped layer".to_string());
        };
        if let Some(l) = self.layers.with(|m| m.get(&choice).cloned()) {
            return l;
        }
        self.layers.update_untracked(|m| {
            m.insert(choice, LayerLoaded::Loading);
        });
        let layers = self.layers;
        spawn_local(async move {
            let loaded = match load_layer(layer).await {
                Ok(d) => LayerLoaded::Ready(Arc::new(d)),
                Err(e) => LayerLoaded::Failed(e),
            };
            layers.try_update(|m| {
                m.insert(choice, loaded);
            });
        });
        LayerLoaded::Loading
    }

    pub fn set_upload(&self, t: Tensor) {
        self.upload.set(Some(Arc::new(t)));
        self.upload_error.set(None);
    }

    pub fn has_upload(&self) -> bool {
        self.upload.with(|u| u.is_some())
    }
}

impl Default for DataStore {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_data() -> DataStore {
    expect_context::<DataStore>()
}

/// Fetches a file shipped with the site (relative URL, so it works under any sub-path).
pub async fn fetch_bytes(path: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(path))
        .await
        .map_err(|_| format!("could not download {path} (offline?)"))?;
    let resp: web_sys::Response = resp
        .dyn_into()
        .map_err(|_| "unexpected fetch result".to_string())?;
    if !resp.ok() {
        return Err(format!("could not download {path}: HTTP {}", resp.status()));
    }
    let buf = JsFuture::from(resp.array_buffer().map_err(|_| "no body".to_string())?)
        .await
        .map_err(|_| format!("download of {path} was interrupted"))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Reads an uploaded file, refusing oversized ones before reading a byte.
async fn read_file(file: web_sys::File) -> Result<Tensor, String> {
    let size = file.size();
    if size > UPLOAD_LIMITS.max_bytes as f64 {
        return Err(format!(
            "“{}” is {:.1} MB; the limit is {} MB (and {} values).",
            file.name(),
            size / 1e6,
            UPLOAD_LIMITS.max_bytes >> 20,
            UPLOAD_LIMITS.max_elements
        ));
    }
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| "the file could not be read".to_string())?;
    let bytes = js_sys::Uint8Array::new(&buf).to_vec();
    datasets::tensor_from_npy(&file.name(), &bytes, &UPLOAD_LIMITS)
}

/// The current data source of a chapter and its state, tracked. Call once at the top of a
/// chapter; it also starts the load.
pub fn chapter_data(data: Lens<DataControls>) -> (Memo<Source>, Memo<Loaded>) {
    let app = use_app();
    let store = use_data();
    let source = Memo::new(move |_| data.read(app, Source::of));
    Effect::new(move |_| store.ensure(&source.get()));
    let loaded = Memo::new(move |_| store.get(&source.get()));
    (source, loaded)
}

fn human_bytes(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / 1e6)
    } else {
        format!("{} KB", n.div_ceil(1000))
    }
}

/// The data picker: shipped real tensors, seeded synthetic ones, or the reader's `.npy`.
/// `on_new_data` runs in the same update as a change of data (the function chapter clears a
/// range chosen for the old data there).
#[component]
pub fn DataPicker(
    data: Lens<DataControls>,
    #[prop(optional)] on_new_data: Option<fn(&mut Controls)>,
) -> impl IntoView {
    let app = use_app();
    let store = use_data();
    let source = Memo::new(move |_| data.read(app, Source::of));
    let state = Memo::new(move |_| store.get(&source.get()));
    let drag_over = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let set_data = move |change: &dyn Fn(&mut DataControls)| {
        app.set_ctl(|c| {
            let before = (data.get)(c).clone();
            change((data.get_mut)(c));
            if *(data.get)(c) != before {
                if let Some(f) = on_new_data {
                    f(c);
                }
            }
        });
    };

    let take_file = move |file: Option<web_sys::File>| {
        let Some(file) = file else { return };
        busy.set(true);
        spawn_local(async move {
            match read_file(file).await {
                Ok(t) => {
                    store.set_upload(t);
                    set_data(&|d| d.data = DataChoice::Upload);
                }
                Err(e) => store.upload_error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let on_select = move |e: leptos::ev::Event| {
        let Some(choice) = DataChoice::from_slug(&event_target_value(&e)) else {
            return;
        };
        if choice == DataChoice::Upload && !store.has_upload() {
            return; // the option only names the loaded file
        }
        store.upload_error.set(None);
        set_data(&|d| d.data = choice);
    };

    let is_synth = move || matches!(source.get(), Source::Synthetic { .. });
    let current = move || data.read(app, |d| d.data);
    let option = move |choice: DataChoice| {
        view! {
            <option value=choice.slug() selected=move || current() == choice>
                {move || choice.label().text(app.lang())}
            </option>
        }
    };
    let synthetic = [
        DataChoice::Gauss,
        DataChoice::Laplace,
        DataChoice::Relu,
        DataChoice::Llm,
        DataChoice::Seminar,
    ];

    view! {
        <div class="data-picker" class:drag-over=move || drag_over.get()
            on:dragover=move |e: leptos::ev::DragEvent| { e.prevent_default(); drag_over.set(true); }
            on:dragleave=move |_| drag_over.set(false)
            on:drop=move |e: leptos::ev::DragEvent| {
                e.prevent_default();
                drag_over.set(false);
                take_file(e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)));
            }>
            <div class="data-row">
                <label class="control">
                    <span class="control-label">{move || app.t(Msg::DataLabel)}</span>
                    <select data-testid="data-select" prop:value=move || current().slug() on:change=on_select>
                        <optgroup label=move || app.t(Msg::DataGroupReal)>
                            {REAL.iter().map(|r| option(r.choice)).collect_view()}
                        </optgroup>
                        <optgroup label=move || app.t(Msg::DataGroupSynthetic)>
                            {synthetic.into_iter().map(option).collect_view()}
                        </optgroup>
                        <optgroup label=move || app.t(Msg::DataGroupYours)>
                            <option value=DataChoice::Upload.slug() disabled=move || !store.has_upload()
                                selected=move || current() == DataChoice::Upload>
                                {move || app.t(Msg::DataUploaded)}
                            </option>
                        </optgroup>
                    </select>
                </label>
                <Show when=is_synth>
                    <label class="control compact">
                        <span class="control-label">{move || app.t(Msg::DataSeed)}</span>
                        <input type="number" class="number" min="0" max="999999" step="1"
                            prop:value=move || data.read(app, |d| d.seed).to_string()
                            on:change=move |e| {
                                // A seed outside the declared range, or junk, is not applied.
                                if let Some(seed) = codec::int::<u32>(&event_target_value(&e), SEED) {
                                    set_data(&|d| d.seed = seed);
                                }
                            }/>
                    </label>
                    <label class="control compact check">
                        <input type="checkbox" data-testid="data-outliers" prop:checked=move || data.read(app, |d| d.outliers)
                            on:change=move |e| {
                                let on = event_target_checked(&e);
                                set_data(&|d| d.outliers = on);
                            }/>
                        <span>{move || app.t(Msg::DataOutliers)}</span>
                    </label>
                </Show>
                <label class="file-button">
                    <input type="file" accept=".npy,application/octet-stream" data-testid="npy-input"
                        on:change=move |e| {
                            let input: Option<web_sys::HtmlInputElement> = e.target().and_then(|t| t.dyn_into().ok());
                            let file = input.as_ref().and_then(|i| i.files()).and_then(|f| f.get(0));
                            take_file(file);
                            if let Some(i) = input { i.set_value(""); }
                        }/>
                    <span>{move || if busy.get() { app.t(Msg::DataReading) } else { app.t(Msg::DataOpen) }}</span>
                </label>
            </div>
            <p class="data-info"><DataInfo source state/></p>
            <Show when=move || store.upload_error.with(|e| e.is_some())>
                <p class="control-error" data-testid="data-error" role="alert">
                    {move || store.upload_error.get().unwrap_or_default()}
                    " "{move || app.t(Msg::DataKeptPrevious)}
                </p>
            </Show>
            <p class="muted small">{move || app.t(Msg::DataHint)}</p>
        </div>
    }
}

/// What is loaded: its name, shape, dtype and size, a loading line, or why it failed.
#[component]
fn DataInfo(source: Memo<Source>, state: Memo<Loaded>) -> impl IntoView {
    let app = use_app();
    move || match state.get() {
        Loaded::Loading => {
            let size = match source.get() {
                Source::Real(r) => human_bytes(r.bytes),
                _ => String::new(),
            };
            view! { <span class="loading" data-testid="data-loading"><span class="spinner" aria-hidden="true"></span>{app.t(Msg::DataLoading)}" "{size}</span> }.into_any()
        }
        Loaded::Ready(t) => {
            let n = t.data.len();
            let name = match source.get() {
                Source::Real(r) => {
                    format!("all-MiniLM-L6-v2 · {}", r.choice.label().text(app.lang()))
                }
                _ => t.name.clone(),
            };
            view! {
                <span data-testid="data-info">
                    <strong>{name}</strong>" · "{t.shape_text()}" · "{t.dtype.clone()}" · "
                    {Msg::DataValues.fill(app.lang(), &[&n.to_string()])}
                </span>
            }
            .into_any()
        }
        Loaded::Failed(e) => {
            let msg = if e.is_empty() {
                app.t(Msg::DataUploadMissing).to_string()
            } else {
                e
            };
            view! { <span class="control-error" data-testid="data-failed" role="alert">{msg}</span> }.into_any()
        }
    }
}

/// The layer a second-half chapter shows (tracked): a shipped one, or the input of a linear of
/// the model for the reader's sentence. Call once at the top of the chapter.
pub fn chapter_layer(layer: Lens<LayerChoice>, own: Lens<OwnControls>) -> Memo<LayerLoaded> {
    let app = use_app();
    let store = use_data();
    let choice = Memo::new(move |_| layer.read(app, |l| *l));
    let own = Memo::new(move |_| own.read(app, |o| o.clone()));
    Memo::new(move |_| match choice.get() {
        c @ (LayerChoice::Own | LayerChoice::Llm) => store.own_layer(c, &own.get()),
        c => store.layer(c),
    })
}

/// The layer selector shared by the second-half chapters (with its download size and a loading
/// indicator while the layer's X and W arrive), and the reader's sentence when that is chosen.
#[component]
pub fn LayerPicker(
    layer: Lens<LayerChoice>,
    own: Lens<OwnControls>,
    state: Memo<LayerLoaded>,
) -> impl IntoView {
    let app = use_app();
    let id = move || layer.read(app, |l| *l);
    let is_own = move || matches!(id(), LayerChoice::Own | LayerChoice::Llm);
    let is_llm = move || id() == LayerChoice::Llm;
    view! {
        <div class="data-row">
            <label class="control">
                <span class="control-label">{move || app.t(Msg::LayerLabel)}</span>
                <select data-testid="layer-select" prop:value=move || id().slug()
                    on:change=move |e| {
                        if let Some(l) = LayerChoice::from_slug(&event_target_value(&e)) {
                            layer.write(app, |v| *v = l);
                        }
                    }>
                    {LayerChoice::ALL.iter().map(|&l| view! {
                        <option value=l.slug() selected=move || id() == l
                            data-testid=match l {
                                LayerChoice::Own => Some("data-own-sentence"),
                                LayerChoice::Llm => Some("data-llm-text"),
                                _ => None,
                            }>
                            {move || l.label().text(app.lang())}
                        </option>
                    }).collect_view()}
                </select>
            </label>
        </div>
        <Show when=is_own>
            <OwnSentence own llm=Signal::derive(is_llm)/>
        </Show>
        <p class="data-info">
            {move || match state.get() {
                LayerLoaded::Loading => {
                    let size = datasets::layer(id()).map(|l| human_bytes(l.bytes)).unwrap_or_default();
                    view! {
                        <span class="loading" data-testid="layer-loading"><span class="spinner" aria-hidden="true"></span>
                            {app.t(Msg::DataLoading)}" "{size}</span>
                        {(is_own() && !is_llm()).then(|| view! { <ModelLoadLine/> })}
                        {is_llm().then(|| view! { <LlmLoadLine/> })}
                    }.into_any()
                }
                LayerLoaded::Ready(d) => {
                    let c = d.case.case();
                    let info = if is_own() {
                        let o = own.read(app, |o| o.clone());
                        Msg::OwnInfo.fill(app.lang(), &[&o.olayer.to_string(), o.olin.label().text(app.lang()),
                            &c.tokens().to_string(), &c.in_channels().to_string(), &c.in_channels().to_string(), &c.out_channels().to_string()])
                    } else {
                        Msg::LayerInfo.fill(app.lang(), &[&c.tokens().to_string(), &c.in_channels().to_string(), &c.in_channels().to_string(), &c.out_channels().to_string()])
                    };
                    view! { <span data-testid="layer-info">{info}</span> }.into_any()
                }
                LayerLoaded::Failed(e) => view! { <span class="control-error" role="alert" data-testid="layer-failed">{e}</span> }.into_any(),
            }}
        </p>
    }
}

/// The reader's sentence and which linear's input of which layer to show.
#[component]
fn OwnSentence(own: Lens<OwnControls>, llm: Signal<bool>) -> impl IntoView {
    let app = use_app();
    let text = move || own.read(app, |o| o.text.clone());
    view! {
        <div class="data-row own-sentence">
            <label class="control own-text">
                <span class="control-label">{move || app.t(Msg::OwnText)}</span>
                // Applied on change (Enter, or leaving the box): each new text runs the model.
                <input type="text" data-testid="own-text" prop:value=text
                    on:change=move |e| {
                        let v = event_target_value(&e);
                        own.write(app, |o| o.text = v);
                    }/>
            </label>
            <label class="control compact">
                <span class="control-label">{move || app.t(Msg::OwnLayer)}</span>
                <select data-testid="own-layer" prop:value=move || own.read(app, |o| o.olayer.to_string())
                    on:change=move |e| {
                        if let Some(l) = codec::int::<u8>(&event_target_value(&e), OWN_LAYER) {
                            own.write(app, |o| o.olayer = l);
                        }
                    }>
                    {move || {
                        let last = if llm.get() { OWN_LAYER.max } else { MINILM_LAYERS as i64 - 1 };
                        (OWN_LAYER.min..=last).map(|l| view! {
                            <option value=l.to_string() selected=move || own.read(app, |o| i64::from(o.olayer) == l)>{l}</option>
                        }).collect_view()
                    }}
                </select>
            </label>
            <label class="control compact">
                <span class="control-label">{move || app.t(Msg::OwnLinearLabel)}</span>
                <select data-testid="own-linear" prop:value=move || own.read(app, |o| o.olin.slug())
                    on:change=move |e| {
                        if let Some(l) = OwnLinear::from_slug(&event_target_value(&e)) {
                            own.write(app, |o| o.olin = l);
                        }
                    }>
                    {OwnLinear::ALL.iter().map(|&l| view! {
                        <option value=l.slug() selected=move || own.read(app, |o| o.olin == l)>{move || l.label().text(app.lang())}</option>
                    }).collect_view()}
                </select>
            </label>
        </div>
    }
}

/// SmolLM2's download progress, where a chapter waits for it.
#[component]
fn LlmLoadLine() -> impl IntoView {
    let app = use_app();
    let lm = use_lm();
    move || match lm.state.get() {
        LmState::Downloading { received, total } => Some(format!(
            " — {} {:.1} / {:.1} MB",
            app.t(Msg::OwnNeedsLlm),
            received as f64 / 1e6,
            total as f64 / 1e6
        )),
        LmState::Preparing => Some(format!(" — {}", app.t(Msg::LlmPreparing))),
        _ => None,
    }
}

/// The model's download progress, where a chapter waits for it.
#[component]
fn ModelLoadLine() -> impl IntoView {
    let app = use_app();
    let model = use_model();
    move || match model.state.get() {
        ModelState::Downloading { received, total } => Some(format!(
            " — {} {:.1} / {:.1} MB",
            app.t(Msg::OwnNeedsModel),
            received as f64 / 1e6,
            total as f64 / 1e6
        )),
        ModelState::Preparing => Some(format!(" — {}", app.t(Msg::ModelPreparing))),
        _ => None,
    }
}
