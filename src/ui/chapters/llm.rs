//! Chapter 10, "A language model": the seminar's own subject. SmolLM2-135M (the Llama
//! architecture) runs in the page in full precision (its shipped Q4_1 weights decoded, f32
//! activations) and with all 210 linears on the int8 kernels; the chapter shows the words each
//! writes, the perplexity, KL and top-1 agreement of the reader's setting on a paragraph, its
//! massive activations, and every method side by side.

use std::sync::Arc;

use leptos::prelude::*;

use quantlab_app::controls::{LlmActChoice, LlmBitsChoice, ModelRotChoice};
use quantlab_app::i18n::Msg;
use quantlab_app::llm::texts::{MAX_NEW, MAX_TOKENS, PROMPTS};
use quantlab_app::sentences::Method;
use quantlab_engine::model::{ModelQuant, QuantizedModel};

use super::llm_run::{Event, QuantScores, TextRun, Writer};
use super::llm_views::{MassiveSection, MethodsSection, PerplexitySection};
use super::quant_common::SmoothDropControls;
use crate::lens;
use crate::ui::job::Job;
use crate::ui::llm::{pieces, use_lm, FpText, Lm, LmState, LmStore};
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::Segmented;
use crate::ui::Shared;

/// Token ids of a text, cut to what one pass reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Ids {
    pub ids: Vec<u32>,
    /// Tokens left out.
    pub cut: usize,
}

/// A continuation as the page shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Written {
    pub ids: Vec<u32>,
    pub tokens_per_s: Option<f64>,
    pub prefill_ms: Option<f64>,
    pub done: bool,
    pub error: Option<Msg>,
    /// The engine's error, shown as it is.
    pub failure: Option<String>,
}

/// Everything the chapter derives from the controls and the model, shared by its sections.
#[derive(Clone, Copy)]
pub struct Lab {
    pub store: LmStore,
    pub model: Memo<Option<Shared<Lm>>>,
    pub text: Memo<Option<Ids>>,
    pub prompt: Memo<Option<Ids>>,
    pub cfg: Memo<ModelQuant>,
    pub fp: RwSignal<Option<Arc<FpText>>>,
    pub quant: RwSignal<Option<Result<QuantScores, String>>>,
    pub job: Job,
    /// Completed runs of the reader's setting (a counter the browser tests wait on).
    pub runs: RwSignal<u32>,
    /// Asks for the reader's setting again when its kept copy was dropped (the methods table
    /// and the summary build theirs in its place) and the prompt then changes.
    rebuild: RwSignal<u32>,
    pub gen_full: RwSignal<Written>,
    pub gen_quant: RwSignal<Written>,
    pub gen_full_job: Job,
    pub gen_quant_job: Job,
    pub methods: RwSignal<Vec<(Method, Result<QuantScores, String>)>>,
    pub methods_job: Job,
}

fn ids_of(m: &Lm, text: &str) -> Ids {
    let mut ids = m.file.tokenizer.encode(text).ids;
    let cut = ids.len().saturating_sub(MAX_TOKENS);
    ids.truncate(MAX_TOKENS);
    Ids { ids, cut }
}

impl Lab {
    fn new(app: AppState) -> Self {
        let store = use_lm();
        let model = Memo::new(move |_| store.state.with(LmState::model));
        let text = Memo::new(move |_| {
            let m = model.get()?;
            Some(app.ctl(|c| ids_of(&m, &c.llm.text)))
        });
        let prompt = Memo::new(move |_| {
            let m = model.get()?;
            Some(app.ctl(|c| ids_of(&m, &c.llm.prompt)))
        });
        let job = Job::new();
        let lab = Lab {
            store,
            model,
            text,
            prompt,
            cfg: Memo::new(move |_| app.ctl(|c| c.llm.quant())),
            fp: RwSignal::new(None),
            quant: RwSignal::new(None),
            job,
            runs: RwSignal::new(0),
            rebuild: RwSignal::new(0),
            gen_full: RwSignal::new(Written::default()),
            gen_quant: RwSignal::new(Written::default()),
            gen_full_job: Job::new(),
            gen_quant_job: Job::new(),
            methods: RwSignal::new(Vec::new()),
            methods_job: Job::yielding_to(job),
        };
        Effect::new(move |_| lab.start_run());
        Effect::new(move |_| lab.start_writing_full());
        Effect::new(move |_| lab.start_writing_quant());
        lab
    }

    /// Full precision for a new text, then the reader's setting on it: re-run on every change,
    /// newest input first.
    fn start_run(self) {
        let _ = self.rebuild.get();
        let (Some(m), Some(text), cfg) = (self.model.get(), self.text.get(), self.cfg.get()) else {
            // The model is being replaced: its runs end with it.
            self.job.cancel();
            self.methods_job.cancel();
            return;
        };
        self.methods_job.cancel();
        self.methods.set(Vec::new());
        if text.ids.len() < 2 {
            self.job.cancel();
            self.quant.set(None);
            return;
        }
        let run = match TextRun::new(m, self.store, text.ids, Some(cfg), true) {
            Ok(r) => r,
            Err(e) => {
                self.quant.set(Some(Err(e)));
                return;
            }
        };
        let (fp, quant, runs) = (self.fp, self.quant, self.runs);
        let total = run.units();
        // Not a signal: one made here is disposed when this effect runs again, while the run
        // it belongs to may still have a slice queued.
        let failed = std::rc::Rc::new(std::cell::Cell::new(false));
        self.job.fold_deferred(
            run,
            total,
            move |r, _| {
                if failed.get() || r.is_done() {
                    return;
                }
                match r.advance() {
                    Ok(Event::Fp(f)) => fp.set(Some(f)),
                    Ok(Event::Quant(q)) => quant.set(Some(Ok(q))),
                    Ok(Event::None) => {}
                    Err(e) => {
                        failed.set(true);
                        quant.set(Some(Err(e)));
                    }
                }
            },
            move |_| runs.update(|n| *n += 1),
        );
    }

    /// Full precision's continuation of the prompt: starts as soon as the model is there,
    /// beside the perplexity run.
    fn start_writing_full(self) {
        let (Some(m), Some(prompt)) = (self.model.get(), self.prompt.get()) else {
            self.gen_full_job.cancel();
            return;
        };
        write(m, &prompt.ids, None, self.gen_full, self.gen_full_job);
    }

    /// The reader's setting's continuation, once its quantized copy is built (by the run of
    /// the perplexity, which counts `runs` when it finishes).
    fn start_writing_quant(self) {
        let _ = self.runs.get();
        let (Some(m), Some(prompt), cfg) = (self.model.get(), self.prompt.get(), self.cfg.get())
        else {
            self.gen_quant_job.cancel();
            return;
        };
        let text = self
            .text
            .with_untracked(|t| t.as_ref().map(|t| t.ids.clone()));
        match self.store.quantized(&cfg, &text.unwrap_or_default()) {
            Some(q) => write(m, &prompt.ids, Some(q), self.gen_quant, self.gen_quant_job),
            None => {
                // Built by the run under way, which runs this effect again when it finishes;
                // with none under way (another table dropped the copy), one is started. Not
                // after a failed run: its error is shown instead of being retried forever.
                self.gen_quant_job.cancel();
                self.gen_quant.set(Written::default());
                let succeeded = self.quant.with_untracked(|q| matches!(q, Some(Ok(_))));
                let idle = self.job.progress.with_untracked(Option::is_none);
                if idle && succeeded {
                    self.rebuild.update(|n| *n += 1);
                }
            }
        }
    }
}

/// Streams a greedy continuation of `prompt` into `out`, one token per step of `job`.
fn write(
    m: Shared<Lm>,
    prompt: &[u32],
    q: Option<Arc<QuantizedModel>>,
    out: RwSignal<Written>,
    job: Job,
) {
    let writer = match Writer::new(prompt, MAX_NEW, &m.file.stop) {
        Ok(w) => w,
        Err(_) => {
            job.cancel();
            out.set(Written {
                error: Some(Msg::LlmEmptyPrompt),
                ..Written::default()
            });
            return;
        }
    };
    out.set(Written::default());
    let show = |w: &Writer| Written {
        ids: w.greedy.produced().to_vec(),
        tokens_per_s: w.tokens_per_s(),
        prefill_ms: w.prefill_ms,
        done: w.is_done(),
        error: None,
        failure: w.error.clone(),
    };
    job.fold(
        writer,
        MAX_NEW,
        move |w, _| {
            w.step(&m, q.as_deref());
            out.set(show(w));
        },
        move |w| out.set(show(&w)),
    );
}

#[component]
pub fn LlmChapter() -> impl IntoView {
    let app = use_app();
    let lab = Lab::new(app);
    view! {
        <section class="card intro">
            <p class="big-question">"괜찮은 걸까? — " {move || app.t(Msg::LlmQuestion)}</p>
            <ul class="bullets">
                <li>{move || app.t(Msg::LlmIntroModel)}</li>
                <li>{move || app.t(Msg::LlmIntroReference)}</li>
                <li>{move || app.t(Msg::LlmIntroEnglish)}</li>
            </ul>
        </section>
        <LoadSection store=lab.store/>
        <Show when=move || lab.model.with(Option::is_some)>
            <SettingsSection/>
            <WriteSection lab/>
            <PerplexitySection lab/>
            <MassiveSection lab/>
            <MethodsSection lab/>
        </Show>
    }
}

/// The card before anything is fetched, the download, or what is loaded; and the reader's own
/// `.gguf`.
#[component]
fn LoadSection(store: LmStore) -> impl IntoView {
    let app = use_app();
    let mb = |b: usize| format!("{:.1}", b as f64 / 1e6);
    let shipped = quantlab_weights::llm::SMOLLM2_BYTES;
    let status = move || {
        match store.state.get() {
        LmState::Idle => view! {
            <p class="muted" data-testid="llm-progress" data-state="idle">{app.t(Msg::LlmNotLoaded)}</p>
        }
        .into_any(),
        LmState::Downloading { received, total } => view! {
            <div class="model-progress" data-testid="llm-progress" data-state="loading" role="status">
                <progress max=total.to_string() value=received.to_string()></progress>
                <span>{Msg::LlmDownloading.fill(app.lang(), &[&mb(received), &mb(total)])}</span>
                <button type="button" class="tool small" data-testid="llm-cancel" on:click=move |_| store.cancel()>
                    {app.t(Msg::ModelCancel)}
                </button>
            </div>
        }
        .into_any(),
        LmState::Preparing => view! {
            <p class="model-progress muted" data-testid="llm-progress" data-state="preparing" role="status">
                {app.t(Msg::LlmPreparing)}
            </p>
        }
        .into_any(),
        LmState::Ready(m) => {
            let f = &m.file;
            let c = f.model.config();
            let what = Msg::LlmReady.fill(app.lang(), &[&f.name, &c.layers.to_string(), &c.hidden.to_string(),
                &c.vocab.to_string(), &f.storage, &mb(f.model.stored_bytes())]);
            let origin = match &m.own {
                Some(name) => Msg::LlmOwnFile.fill(app.lang(), &[name]),
                None => app.t(Msg::LlmShippedChecked).to_string(),
            };
            view! {
                <p class="model-progress muted small" data-testid="llm-progress" data-state="ready">{what}" "{origin}</p>
            }
            .into_any()
        }
        LmState::Failed(e) => view! {
            <div class="model-progress" data-testid="llm-progress" data-state="failed">
                <p class="control-error" role="alert" data-testid="llm-error">{e}</p>
            </div>
        }
        .into_any(),
        LmState::Cancelled => view! {
            <p class="muted" data-testid="llm-progress" data-state="cancelled">{app.t(Msg::ModelCancelled)}</p>
        }
        .into_any(),
    }
    };
    let busy = move || store.busy();
    // The shipped model loaded and checked: loading it again would only drop what is built.
    let shipped_ready = move || {
        store
            .state
            .with(|s| matches!(s, LmState::Ready(m) if m.own.is_none()))
    };
    let label = move || match store.state.get() {
        LmState::Failed(_) | LmState::Cancelled => app.t(Msg::ModelRetry).to_string(),
        _ => Msg::LlmLoad.fill(app.lang(), &[&format!("{:.0}", shipped as f64 / 1e6)]),
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::LlmLoadTitle)}</h2>
            <p>{move || app.t(Msg::LlmLoadCard)}</p>
            <div class="controls">
                <button type="button" class="tool primary" data-testid="llm-load"
                    disabled=move || busy() || shipped_ready()
                    on:click=move |_| store.load()>{label}</button>
                <label class="tool file-pick">
                    <span>{move || app.t(Msg::LlmOpenOwn)}</span>
                    <input type="file" accept=".gguf" data-testid="llm-file" disabled=busy
                        on:change=move |e| {
                            let input: web_sys::HtmlInputElement = event_target(&e);
                            if let Some(f) = input.files().and_then(|l| l.get(0)) {
                                store.open(f);
                            }
                            input.set_value("");
                        }/>
                </label>
            </div>
            {status}
            {move || store.reading.get().then(|| view! {
                <p class="model-progress muted" role="status" data-testid="llm-reading">{app.t(Msg::LlmPreparing)}</p>
            })}
            {move || store.refused.get().map(|e| view! {
                <p class="control-error" role="alert" data-testid="llm-error">{e}" "{app.t(Msg::LlmKeptPrevious)}</p>
            })}
        </section>
    }
}

/// Bits, activation scales, SmoothQuant, rotation and the outlier ablation.
#[component]
fn SettingsSection() -> impl IntoView {
    let app = use_app();
    let bits = Memo::new(move |_| app.ctl(|c| c.llm.bits));
    let weights_only = move || bits.get().weights_only();
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::LlmSettingsTitle)}</h2>
            <div class="controls">
                <Segmented label=Signal::derive(move || app.t(Msg::ModelBitsLabel).to_string())
                    value=bits testid="llm-bits"
                    on_change=Callback::new(move |v: LlmBitsChoice| app.set_ctl(|c| c.llm.bits = v))/>
                <Show when=move || !weights_only() fallback=move || view! {
                    <p class="muted small">{move || app.t(Msg::LlmWeightsOnlyNote)}</p>
                }>
                    <Segmented label=Signal::derive(move || app.t(Msg::ModelActLabel).to_string())
                        value=Signal::derive(move || app.ctl(|c| c.llm.act)) testid="llm-act"
                        on_change=Callback::new(move |v: LlmActChoice| app.set_ctl(|c| c.llm.act = v))/>
                </Show>
                <Segmented label=Signal::derive(move || app.t(Msg::ModelRotLabel).to_string())
                    value=Signal::derive(move || app.ctl(|c| c.llm.rot)) testid="llm-rotate"
                    on_change=Callback::new(move |v: ModelRotChoice| app.set_ctl(|c| c.llm.rot = v))/>
            </div>
            <SmoothDropControls alpha=lens!(llm.alpha) drop=lens!(llm.drop) prefix="llm"/>
            <ul class="muted small notes-list">
                <li>{move || app.t(Msg::LlmCalibNote)}</li>
                <Show when=move || bits.get().weight_format().is_some()>
                    <li>{move || app.t(Msg::ModelFormatNote)}</li>
                </Show>
                <Show when=move || app.ctl(|c| c.llm.rot) == ModelRotChoice::Hadamard>
                    <li>{move || app.t(Msg::LlmHadamardNote)}</li>
                </Show>
                <li>{move || app.t(Msg::LlmHeadNote)}</li>
            </ul>
        </section>
    }
}

/// The prompt box and the two continuations.
#[component]
fn WriteSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let prompt = Memo::new(move |_| app.ctl(|c| c.llm.prompt.clone()));
    let first_diff = Memo::new(move |_| {
        let (a, b) = (
            lab.gen_full.with(|w| w.ids.clone()),
            lab.gen_quant.with(|w| w.ids.clone()),
        );
        a.iter().zip(&b).position(|(x, y)| x != y)
    });
    let column = move |w: RwSignal<Written>, testid: &'static str, quantized: bool| {
        move || {
            let m = lab.model.get()?;
            let written = w.get();
            let diff = first_diff.get().filter(|_| quantized);
            let toks = pieces(&m, &written.ids)
                .into_iter()
                .zip(&written.ids)
                .enumerate()
                .map(|(i, (p, id))| {
                    let class = match diff {
                        // The end-of-text token that stopped it: shown, but not as words.
                        _ if m.file.stop.contains(id) => "lt special",
                        Some(d) if i == d => "lt first-diff",
                        Some(d) if i > d => "lt after-diff",
                        _ => "lt",
                    };
                    view! { <span class=class>{p}</span> }
                })
                .collect_view();
            Some(view! {
                <p class="llm-written" data-testid=testid data-done=written.done.to_string()>
                    <span class="prompt-echo">{prompt.get()}</span>{toks}
                </p>
                {written.error.map(|e| view! { <p class="control-error" role="alert">{app.t(e)}</p> })}
                {written.failure.map(|e| view! { <p class="control-error" role="alert">{e}</p> })}
            })
        }
    };
    let prompt_len = move || lab.prompt.with(|p| p.as_ref().map_or(0, |p| p.ids.len()));
    let speed = move |w: RwSignal<Written>| {
        move || {
            let w = w.get();
            let pp = w
                .prefill_ms
                .map(|ms| prompt_len() as f64 / (ms / 1e3).max(1e-6));
            let f = |v: Option<f64>| v.map_or("…".to_string(), |v| format!("{v:.1}"));
            Msg::LlmTps.fill(app.lang(), &[&f(pp), &f(w.tokens_per_s)])
        }
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::LlmWriteTitle)}</h2>
            <label class="sentences">
                <span class="control-label">{move || app.t(Msg::LlmPromptLabel)}</span>
                <input type="text" class="prompt-input" data-testid="llm-prompt" spellcheck="false"
                    prop:value=move || prompt.get()
                    on:change=move |e| {
                        let v = event_target_value(&e);
                        app.set_ctl(|c| c.llm.prompt = v);
                    }/>
            </label>
            <div class="segments prompt-picks">
                {PROMPTS.iter().map(|&p| view! {
                    <button type="button" class="segment" class:selected=move || prompt.get() == p
                        on:click=move |_| app.set_ctl(|c| c.llm.prompt = p.to_string())>{p}</button>
                }).collect_view()}
            </div>
            <div class="grid-2 llm-columns">
                <div>
                    <h3>{move || app.t(Msg::MethodFull)}</h3>
                    {column(lab.gen_full, "llm-gen-full", false)}
                    <p class="muted small" data-testid="llm-tps-full">{speed(lab.gen_full)}</p>
                </div>
                <div>
                    <h3>{move || lab.cfg.get().label()}</h3>
                    {column(lab.gen_quant, "llm-gen-quant", true)}
                    <p class="muted small" data-testid="llm-tps-quant">{speed(lab.gen_quant)}</p>
                </div>
            </div>
            <p class="muted small" data-testid="llm-first-diff">{move || match (first_diff.get(), lab.gen_quant.with(|w| w.done)) {
                (Some(d), _) => Msg::LlmFirstDiff.fill(app.lang(), &[&(d + 1).to_string()]),
                (None, true) => app.t(Msg::LlmSameWords).to_string(),
                (None, false) => String::new(),
            }}</p>
            <p class="muted small" data-testid="llm-tps">{move || Msg::LlmSpeed.fill(app.lang(), &[
                &speed(lab.gen_full)(), &lab.cfg.get().label(), &speed(lab.gen_quant)(),
                &quantlab_engine::kernels::path_label()])}</p>
        </section>
    }
}
