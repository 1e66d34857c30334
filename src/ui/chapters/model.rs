//! Chapter 9, "The whole model": the seminar's "괜찮은 걸까?" asked of what the model outputs.
//! The reader's sentences go through all-MiniLM-L6-v2 (tokenizer to sentence embedding) in
//! full precision and with every one of its 36 linears on the int8 kernels; the chapter shows
//! the cosine of each sentence's two embeddings, the two similarity matrices, a search over the
//! sentences, where along the 6 layers the error enters, and every method side by side.

use std::sync::Arc;

use leptos::prelude::*;
use plotters::prelude::{Circle, Color};

use quantlab_app::controls::{ModelActChoice, ModelBitsChoice, ModelRotChoice};
use quantlab_app::i18n::Msg;
use quantlab_app::sentences::{Method, Sentences, MAX_SENTENCES, MAX_TEXT_BYTES, SMOOTH_SWEEP};
use quantlab_engine::model::{Encoding, ModelQuant, QuantBuilder, LAYERS};

use super::model_run::{FpSet, ModelRun, QuantRun};
use super::quant_common::SmoothDropControls;
use crate::lens;
use crate::ui::job::Job;
use crate::ui::minilm::{use_model, Minilm, ModelState, ModelStore};
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{de, Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{cartesian, line};
use crate::ui::widgets::{Chart, Segmented};
use crate::ui::Shared;

type Outcome<T> = Option<Result<T, String>>;

/// Everything the chapter derives from the controls and the model, shared by its sections.
#[derive(Clone, Copy)]
pub struct Lab {
    store: ModelStore,
    model: Memo<Option<Shared<Minilm>>>,
    sentences: Memo<Sentences>,
    /// The sentences as the model reads them (tokenized as soon as the model is there).
    encodings: Memo<Option<Shared<Vec<Encoding>>>>,
    cfg: Memo<ModelQuant>,
    /// The full-precision runs of the current sentences, once complete.
    fp: RwSignal<Option<FpSet>>,
    /// The quantized run of the current setting.
    run: RwSignal<Outcome<Shared<QuantRun>>>,
    job: Job,
    /// Completed runs (a counter the browser tests and `scripts/perf.mjs` wait on).
    runs: RwSignal<u32>,
    /// The methods table, filled in as each setting finishes.
    methods: RwSignal<Vec<QuantRun>>,
    methods_error: RwSignal<Option<String>>,
    methods_job: Job,
    /// The weight sets one click away, built while nothing else runs.
    prebuild_job: Job,
}

impl Lab {
    fn new(app: AppState) -> Self {
        let store = use_model();
        let model = Memo::new(move |_| store.state.with(ModelState::model));
        let sentences = Memo::new(move |_| app.ctl(|c| Sentences::of(&c.model.text)));
        let encodings = Memo::new(move |_| {
            let m = model.get()?;
            let s = sentences.get();
            Some(Shared::new(
                s.lines.iter().map(|t| m.tokenizer.encode(t)).collect(),
            ))
        });
        let cfg = Memo::new(move |_| app.ctl(|c| c.model.quant()));
        let job = Job::new();
        let lab = Lab {
            store,
            model,
            sentences,
            encodings,
            cfg,
            fp: RwSignal::new(None),
            run: RwSignal::new(None),
            job,
            runs: RwSignal::new(0),
            methods: RwSignal::new(Vec::new()),
            methods_error: RwSignal::new(None),
            methods_job: Job::yielding_to(job),
            prebuild_job: Job::yielding_to(job),
        };
        // The model loads when the chapter opens (and only here and in the chapters that run it).
        Effect::new(move |_| store.ensure());
        Effect::new(move |_| lab.start_run());
        Effect::new(move |_| lab.start_methods());
        Effect::new(move |_| lab.start_prebuild(app));
        lab
    }

    /// After each finished run, once the page has been idle for [`PREBUILD_AFTER_MS`] (a
    /// reader looking at the result, not one clicking on), the int8 weights of the settings
    /// one click away (the other bit width, the other rotation) are built in slices that give
    /// way to any new run, and kept behind the copy in use: that click then runs forwards
    /// only. Nothing is built that a kept copy already has.
    fn start_prebuild(self, app: AppState) {
        let n = self.runs.get();
        self.prebuild_job.cancel();
        let lab = self;
        set_timeout(
            move || {
                let idle = lab.runs.try_get_untracked() == Some(n)
                    && lab.job.progress.try_with_untracked(Option::is_none) == Some(true);
                if idle {
                    lab.prebuild(app);
                }
            },
            std::time::Duration::from_millis(PREBUILD_AFTER_MS),
        );
    }

    fn prebuild(self, app: AppState) {
        let Some(m) = self.model.get_untracked() else {
            return;
        };
        let store = self.store;
        let calib = store.calibration().unwrap_or_default();
        let todo: Vec<ModelQuant> = app
            .ctl_untracked(|c| c.model.weight_sets_one_click_away())
            .into_iter()
            .filter(|cfg| !store.has_weights(cfg))
            .collect();
        if todo.is_empty() {
            return;
        }
        let total = todo.len() * QuantBuilder::STEPS;
        let mut queue = todo.into_iter();
        let mut builder: Option<QuantBuilder> = None;
        self.prebuild_job.fold_deferred(
            (),
            total,
            move |_, _| {
                if builder.is_none() {
                    builder = queue.next().and_then(|c| QuantBuilder::new(c, &calib).ok());
                }
                let Some(b) = builder.as_mut() else {
                    return;
                };
                // A failure here only means the click builds the set itself.
                if b.step(&m.bert, &calib).is_err() {
                    builder = None;
                    return;
                }
                if b.is_done() {
                    if let Some(q) = builder.take().and_then(|b| b.finish().ok()) {
                        crate::ui::perf::time("model: weights built in idle time", || {
                            store.keep_spare(Arc::new(q))
                        });
                    }
                }
            },
            |_| {},
        );
    }

    /// Full precision for new sentences, then the current setting: re-run on every change of
    /// the sentences or a control, newest input first.
    fn start_run(self) {
        let (Some(m), texts, cfg) = (self.model.get(), self.sentences.get().lines, self.cfg.get())
        else {
            return;
        };
        if texts.is_empty() {
            self.job.cancel();
            self.run.set(None);
            return;
        }
        let run = ModelRun::new(m, self.store, texts, vec![cfg], true);
        let total = run.units();
        let (fp_out, out, runs) = (self.fp, self.run, self.runs);
        let t0 = crate::ui::dom::now_ms();
        self.job.fold_deferred(
            run,
            total,
            move |r, _| {
                if let Some(set) = r.advance() {
                    if fp_out.with_untracked(|f| f.as_ref() != Some(&set)) {
                        fp_out.set(Some(set));
                    }
                }
            },
            move |r| {
                crate::ui::perf::record_engine("model run", crate::ui::dom::now_ms() - t0);
                let result = r
                    .finish()
                    .and_then(|mut d| d.pop().ok_or_else(|| "no result".to_string()));
                out.set(Some(result.map(Shared::new)));
                runs.update(|n| *n += 1);
            },
        );
    }

    /// Every method of the table on the current sentences (after their full-precision runs).
    fn start_methods(self) {
        let (Some(m), Some(fp)) = (self.model.get(), self.fp.get()) else {
            self.methods_job.cancel();
            return;
        };
        let (methods, error) = (self.methods, self.methods_error);
        methods.set(Vec::new());
        error.set(None);
        ModelRun::new(m, self.store, fp.texts, method_configs(), false).start(
            self.methods_job,
            move |done| methods.set(done.to_vec()),
            move |r| match r {
                Ok(done) => methods.set(done),
                Err(e) => error.set(Some(e)),
            },
        );
    }
}

/// How long the page must be idle after a run before the weight sets one click away are built.
const PREBUILD_AFTER_MS: u64 = 400;

/// Every setting of the methods table (the SmoothQuant row as its sweep).
fn method_configs() -> Vec<ModelQuant> {
    Method::ALL
        .iter()
        .flat_map(|&method| match method {
            Method::W8A8Smooth => SMOOTH_SWEEP
                .iter()
                .filter_map(|&a| method.config(a))
                .collect::<Vec<_>>(),
            _ => method.config(0.0).into_iter().collect(),
        })
        .collect()
}

#[component]
pub fn ModelChapter() -> impl IntoView {
    let app = use_app();
    let lab = Lab::new(app);
    view! {
        <section class="card intro">
            <p class="big-question">"괜찮은 걸까? — " {move || app.t(Msg::ModelQuestion)}</p>
            <ul class="bullets">
                <li>{move || app.t(Msg::ModelIntroModel)}</li>
                <li>{move || app.t(Msg::ModelIntroInt8)}</li>
                <li>{move || app.t(Msg::ModelIntroEnglish)}</li>
            </ul>
        </section>
        <LoadSection lab/>
        <SentencesSection lab/>
        <SettingsSection lab/>
        <CosineSection lab/>
        <div class="grid-2">
            <SimilaritySection lab/>
            <SearchSection lab/>
        </div>
        <DriftSection lab/>
        <MethodsSection lab/>
    }
}

/// The download: progress in MB, cancel, retry, or what is loaded.
#[component]
fn LoadSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let store = lab.store;
    let mb = |b: usize| format!("{:.1}", b as f64 / 1e6);
    let body = move || {
        match store.state.get() {
        ModelState::Idle | ModelState::Downloading { .. } | ModelState::Preparing => {
            let (got, total) = match store.state.get() {
                ModelState::Downloading { received, total } => (received, total),
                ModelState::Preparing => (1, 1),
                _ => (0, quantlab_weights::SHIPPED_BYTES),
            };
            let preparing = matches!(store.state.get(), ModelState::Preparing);
            view! {
                <div class="model-progress" data-testid="model-progress" role="status">
                    <progress max=total.to_string() value=got.to_string()></progress>
                    <span>{if preparing {
                        app.t(Msg::ModelPreparing).to_string()
                    } else {
                        Msg::ModelDownloading.fill(app.lang(), &[&mb(got), &mb(total)])
                    }}</span>
                    <button type="button" class="tool small" data-testid="model-cancel"
                        disabled=preparing on:click=move |_| store.cancel()>
                        {app.t(Msg::ModelCancel)}
                    </button>
                </div>
            }
            .into_any()
        }
        ModelState::Ready(m) => view! {
            <p class="model-progress muted small" data-testid="model-progress" data-state="ready">
                {Msg::ModelReady.fill(app.lang(), &[&mb(quantlab_weights::SHIPPED_BYTES),
                    m.bert.storage(), m.sha256.get(..12).unwrap_or_default()])}
            </p>
        }
        .into_any(),
        ModelState::Failed(e) => view! {
            <div class="model-progress" data-testid="model-progress" data-state="failed">
                <p class="control-error" role="alert" data-testid="model-error">{e}</p>
                <button type="button" class="tool" data-testid="model-retry" on:click=move |_| store.load()>
                    {app.t(Msg::ModelRetry)}
                </button>
            </div>
        }
        .into_any(),
        ModelState::Cancelled => view! {
            <div class="model-progress" data-testid="model-progress" data-state="cancelled">
                <p class="muted">{app.t(Msg::ModelCancelled)}</p>
                <button type="button" class="tool" data-testid="model-retry" on:click=move |_| store.load()>
                    {app.t(Msg::ModelLoad)}
                </button>
            </div>
        }
        .into_any(),
    }
    };
    view! { <section class="card">{body}</section> }
}

/// The reader's sentences and how the tokenizer cuts them.
#[component]
fn SentencesSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let text = Memo::new(move |_| app.ctl(|c| c.model.text.clone()));
    let count = move || text.with(|t| t.chars().count());
    let hangul = move || {
        lab.encodings.with(|e| {
            e.as_ref().is_some_and(|e| {
                e.iter()
                    .flat_map(|enc| &enc.tokens)
                    .any(|t| t == "[UNK]" || t.chars().any(is_jamo))
            })
        })
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::ModelSentencesTitle)}</h2>
            <label class="sentences">
                <span class="control-label">{move || Msg::ModelSentencesLabel.fill(app.lang(), &[&MAX_SENTENCES.to_string()])}</span>
                <textarea data-testid="model-sentences" rows="8" spellcheck="false"
                    prop:value=move || text.get()
                    on:input=move |e| {
                        let v = event_target_value(&e);
                        app.set_ctl(|c| c.model.text = v);
                    }></textarea>
            </label>
            <p class="muted small">
                {move || Msg::ModelSentencesCount.fill(app.lang(), &[&count().to_string(),
                    &text.with(|t| quantlab_app::urlstate::encoded_len(t)).to_string(), &MAX_TEXT_BYTES.to_string()])}
                {move || {
                    let left = lab.sentences.with(|s| s.left_out);
                    (left > 0).then(|| format!(" {}", Msg::ModelLeftOut.fill(app.lang(), &[&left.to_string(), &MAX_SENTENCES.to_string()])))
                }}
            </p>
            <Show when=move || lab.sentences.with(|s| s.lines.is_empty())>
                <p class="control-error" role="alert" data-testid="model-no-sentences">{move || app.t(Msg::ModelNoSentences)}</p>
            </Show>
            <Show when=hangul>
                <p class="note" data-testid="model-english-only">{move || app.t(Msg::ModelHangulNote)}</p>
            </Show>
            <ol class="token-list">
                {move || lab.encodings.get().map(|encs| encs.iter().enumerate().map(|(i, e)| {
                    let cut = e.truncated;
                    view! {
                        <li>
                            <span class="tokens" data-testid=format!("model-tokens-{i}")>
                                {e.tokens.iter().map(|t| {
                                    let class = if t.starts_with('[') && t.ends_with(']') { "tok special" }
                                        else if t.starts_with("##") { "tok piece" } else { "tok" };
                                    view! { <span class=class>{t.clone()}</span>" " }
                                }).collect_view()}
                            </span>
                            <span class="muted small">{Msg::ModelTokenCount.fill(app.lang(), &[&e.ids.len().to_string()])}</span>
                            {(cut > 0).then(|| view! {
                                <span class="control-error small" data-testid=format!("model-truncated-{i}")>
                                    {Msg::ModelTruncated.fill(app.lang(), &[&cut.to_string()])}
                                </span>
                            })}
                        </li>
                    }
                }).collect_view())}
            </ol>
        </section>
    }
}

/// Hangul jamo (what the tokenizer's accent stripping leaves of a Korean syllable).
fn is_jamo(c: char) -> bool {
    ('\u{1100}'..='\u{11FF}').contains(&c) || ('\u{3130}'..='\u{318F}').contains(&c)
}

/// Bits, activation scales, SmoothQuant, rotation and the outlier ablation.
#[component]
fn SettingsSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let bits = Memo::new(move |_| app.ctl(|c| c.model.bits));
    let act = Memo::new(move |_| app.ctl(|c| c.model.act));
    let alpha = Memo::new(move |_| app.ctl(|c| c.model.alpha));
    let ort = move || bits.get() == ModelBitsChoice::Ort;
    let _ = lab;
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::ModelSettingsTitle)}</h2>
            <div class="controls">
                <Segmented label=Signal::derive(move || app.t(Msg::ModelBitsLabel).to_string())
                    value=bits testid="model-bits"
                    on_change=Callback::new(move |v| app.set_ctl(|c| c.model.bits = v))/>
                <Show when=move || !ort() fallback=move || view! {
                    <p class="muted small ort-note">{move || app.t(Msg::ModelOrtNote)}</p>
                }>
                    <Segmented label=Signal::derive(move || app.t(Msg::ModelActLabel).to_string())
                        value=act testid="model-act"
                        on_change=Callback::new(move |v| app.set_ctl(|c| c.model.act = v))/>
                </Show>
                <Segmented label=Signal::derive(move || app.t(Msg::ModelRotLabel).to_string())
                    value=Signal::derive(move || app.ctl(|c| c.model.rot)) testid="model-rotate"
                    on_change=Callback::new(move |v: ModelRotChoice| app.set_ctl(|c| c.model.rot = v))/>
            </div>
            <SmoothDropControls alpha=lens!(model.alpha) drop=lens!(model.drop) prefix="model"/>
            <ul class="muted small notes-list">
                <li>{move || app.t(match act.get() {
                    ModelActChoice::Static => Msg::ModelStaticNote,
                    ModelActChoice::Float => Msg::ModelFloatActNote,
                    _ => Msg::ModelDynamicNote,
                })}</li>
                <Show when=move || bits.get().weight_format().is_some()>
                    <li>{move || app.t(Msg::ModelFormatNote)}</li>
                </Show>
                <Show when=move || alpha.get().is_some()>
                    <li>{move || app.t(Msg::ModelSmoothNote)}</li>
                </Show>
                <Show when=move || app.ctl(|c| c.model.rot) == ModelRotChoice::Hadamard>
                    <li>{move || app.t(Msg::ModelHadamardNote)}</li>
                </Show>
                <Show when=move || { app.ctl(|c| c.model.drop) > 0 }>
                    <li>{move || app.t(Msg::ModelDropNote)}</li>
                </Show>
            </ul>
        </section>
    }
}

/// Whether the shown result is older than the controls (a run under way).
fn updating(lab: Lab) -> impl Fn() -> bool + Copy {
    move || lab.job.running()
}

/// Cosine of each sentence's two embeddings, their mean, and the speed of both forwards.
#[component]
fn CosineSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let busy = updating(lab);
    let rows = move || {
        let run = lab.run.get()?;
        let fp = lab.fp.get();
        Some(match run {
            Err(e) => view! { <p class="control-error" role="alert" data-testid="model-run-error">{e}</p> }.into_any(),
            Ok(r) => {
                let texts = fp.map(|f| f.texts).unwrap_or_default();
                let o = &r.outcome;
                view! {
                    <div class="readouts">
                        <div class="readout">
                            <span class="k">{app.t(Msg::ModelMeanCos)}</span>
                            <span class="v" data-testid="model-mean-cos" data-run=move || lab.runs.get().to_string()>{format!("{:.4}", o.mean_cos)}</span>
                        </div>
                        <div class="readout">
                            <span class="k">{app.t(Msg::ModelMinCos)}</span>
                            <span class="v" data-testid="model-min-cos">{format!("{:.4}", o.min_cos)}</span>
                        </div>
                        <div class="readout">
                            <span class="k">{app.t(Msg::ModelTop1Changes)}</span>
                            <span class="v" data-testid="model-top1-changes">{format!("{} / {}", o.top1_changes, o.cosines.len())}</span>
                        </div>
                        <div class="readout">
                            <span class="k">{app.t(Msg::ModelRankChanges)}</span>
                            <span class="v">{format!("{} / {}", o.rank_changes, o.rank_places)}</span>
                        </div>
                    </div>
                    <div class="table-scroll">
                        <table class="data cos-table">
                            <thead><tr><th>"#"</th><th class="sentence-cell">{app.t(Msg::ModelSentence)}</th><th>{app.t(Msg::ModelCosHead)}</th></tr></thead>
                            <tbody>
                                {o.cosines.iter().enumerate().map(|(i, &c)| view! {
                                    <tr>
                                        <td>{i + 1}</td>
                                        <td class="sentence-cell">{clip(texts.get(i).map(String::as_str).unwrap_or(""), 70)}</td>
                                        <td data-testid=format!("model-cos-{i}")>{format!("{c:.4}")}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }
        })
    };
    let speed = move || {
        let (fp, run) = (lab.fp.get()?, lab.run.get()?.ok()?);
        let (fp_ms, tokens) = fp.speed();
        Some(Msg::ModelSpeed.fill(
            app.lang(),
            &[
                &format!("{fp_ms:.1}"),
                &run.cfg.label(),
                &format!("{:.1}", run.ms),
                &format!("{tokens:.0}"),
                &quantlab_engine::kernels::path_label(),
            ],
        ))
    };
    view! {
        <section class="card" class:updating=busy>
            <h2>{move || app.t(Msg::ModelCosTitle)}</h2>
            <p class="muted small">{move || app.t(Msg::ModelCosIntro)}</p>
            {rows}
            <p class="speed" data-testid="model-forward-ms">{speed}</p>
        </section>
    }
}

/// `s` cut to `n` characters with an ellipsis.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).chain(std::iter::once('…')).collect()
    }
}

/// The full-precision and quantized similarity matrices and their difference, values on hover
/// and on tap.
#[component]
fn SimilaritySection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let picked = RwSignal::new(None::<(usize, usize)>);
    let grids = move || {
        let r = lab.run.get()?.ok()?;
        let o = r.outcome.clone();
        let n = o.sim_full.len();
        let at = |m: &[Vec<f64>], i: usize, j: usize| {
            m.get(i).and_then(|r| r.get(j)).copied().unwrap_or(f64::NAN)
        };
        let max_diff = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .map(|(i, j)| (at(&o.sim_quant, i, j) - at(&o.sim_full, i, j)).abs())
            .fold(1e-6, f64::max);
        let grid = move |testid: &'static str,
                         title: Msg,
                         value: Box<dyn Fn(usize, usize) -> f64>,
                         diff: bool| {
            view! {
                <figure class="simgrid">
                    <figcaption>{app.t(title)}</figcaption>
                    <div class="simcells" data-testid=testid style=format!("grid-template-columns: 1.4rem repeat({n}, minmax(0, 1fr))")>
                        <span></span>
                        {(0..n).map(|j| view! { <span class="simhead">{j + 1}</span> }).collect_view()}
                        {(0..n).map(|i| view! {
                            <span class="simhead">{i + 1}</span>
                            {(0..n).map(|j| {
                                let v = value(i, j);
                                let (bg, fg) = if diff { diverging(v / max_diff) } else { sequential(v) };
                                let text = if diff { signed(v, 3) } else { unsigned_zero(v, 2) };
                                view! {
                                    <button type="button" class="simcell" title=format!("{} ↔ {}: {}", i + 1, j + 1, if diff { format!("{v:+.4}") } else { format!("{v:.4}") })
                                        style=format!("background:{bg};color:{fg}") data-value=format!("{v}")
                                        class:picked=move || picked.get() == Some((i, j))
                                        on:click=move |_| picked.set(Some((i, j)))>{text}</button>
                                }
                            }).collect_view()}
                        }).collect_view()}
                    </div>
                </figure>
            }
        };
        let (f, q) = (o.sim_full.clone(), o.sim_quant.clone());
        let (f2, q2) = (o.sim_full.clone(), o.sim_quant.clone());
        Some(view! {
            <div class="simgrids">
                {grid("model-sim-full", Msg::ModelSimFull, Box::new(move |i, j| at(&f, i, j)), false)}
                {grid("model-sim-quant", Msg::ModelSimQuant, Box::new(move |i, j| at(&q, i, j)), false)}
                {grid("model-sim-diff", Msg::ModelSimDiff, Box::new(move |i, j| at(&q2, i, j) - at(&f2, i, j)), true)}
            </div>
        })
    };
    let detail = move || {
        let (i, j) = picked.get()?;
        let r = lab.run.get()?.ok()?;
        let o = &r.outcome;
        let f = o.sim_full.get(i)?.get(j)?;
        let q = o.sim_quant.get(i)?.get(j)?;
        Some(Msg::ModelSimPicked.fill(
            app.lang(),
            &[
                &(i + 1).to_string(),
                &(j + 1).to_string(),
                &format!("{f:.4}"),
                &format!("{q:.4}"),
                &format!("{:+.4}", q - f),
            ],
        ))
    };
    view! {
        <section class="card" class:updating=updating(lab)>
            <h2>{move || app.t(Msg::ModelSimTitle)}</h2>
            {grids}
            <p class="muted small" data-testid="model-sim-picked" aria-live="polite">
                {move || detail().unwrap_or_else(|| app.t(Msg::ModelSimHint).to_string())}
            </p>
        </section>
    }
}

/// `v` with a sign, and no "−0.000" for a value that rounds to zero.
fn signed(v: f64, decimals: usize) -> String {
    let s = format!("{v:+.decimals$}");
    if s.trim_start_matches(['+', '-'])
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        format!("{:.decimals$}", 0.0)
    } else {
        s.replace('-', "−")
    }
}

/// `v` without a sign on a value that rounds to zero ("0.00", not "-0.00").
fn unsigned_zero(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        format!("{:.decimals$}", 0.0)
    } else {
        s.replace('-', "−")
    }
}

/// Viridis for a similarity in [0, 1], with a readable text colour.
fn sequential(v: f64) -> (String, &'static str) {
    let [r, g, b] = crate::ui::widgets::plot::viridis(v);
    let light = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b) > 140.0;
    (
        format!("rgb({r},{g},{b})"),
        if light { "#111" } else { "#fff" },
    )
}

/// Blue (lower) – white – red (higher) for a value in [−1, 1].
fn diverging(v: f64) -> (String, &'static str) {
    let v = if v.is_finite() {
        v.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let (r, g, b) = if v >= 0.0 {
        (255.0, 255.0 - 170.0 * v, 255.0 - 170.0 * v)
    } else {
        (255.0 + 170.0 * v, 255.0 + 170.0 * v, 255.0)
    };
    (format!("rgb({r:.0},{g:.0},{b:.0})"), "#111")
}

/// Search: one sentence is the query, the others ranked by similarity in both models.
#[component]
fn SearchSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let texts = move || lab.sentences.with(|s| s.lines.clone());
    let query = Memo::new(move |_| {
        let q = usize::from(app.ctl(|c| c.model.query));
        if q < lab.sentences.with(|s| s.lines.len()) {
            q
        } else {
            0
        }
    });
    let lists = move || {
        let r = lab.run.get()?.ok()?;
        let (full, quant) = r.outcome.rankings(query.get());
        let t = texts();
        let sim = |m: &[Vec<f64>], i: usize| {
            m.get(query.get())
                .and_then(|r| r.get(i))
                .copied()
                .unwrap_or(f64::NAN)
        };
        let item = |rank: usize, i: usize, s: f64, moved: Option<i64>| {
            view! {
                <li>
                    <span class="rank-sim">{unsigned_zero(s, 3)}</span>" "
                    <span>{format!("{}. {}", i + 1, clip(t.get(i).map(String::as_str).unwrap_or(""), 48))}</span>
                    {moved.filter(|&d| d != 0).map(|d| view! {
                        <span class={if d > 0 { "moved up" } else { "moved down" }} title=format!("{}", rank + 1)>
                            {if d > 0 { format!(" ▲{d}") } else { format!(" ▼{}", -d) }}
                        </span>
                    })}
                </li>
            }
        };
        let full_list = full
            .iter()
            .enumerate()
            .map(|(k, &i)| item(k, i, sim(&r.outcome.sim_full, i), None))
            .collect_view();
        let quant_list = quant
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let before = full.iter().position(|&x| x == i).unwrap_or(k) as i64;
                item(k, i, sim(&r.outcome.sim_quant, i), Some(before - k as i64))
            })
            .collect_view();
        let changed = quantlab_engine::model::compare::rank_changes(&full, &quant);
        Some(view! {
            <div class="rank-cols" data-testid="model-ranks" data-changes=changed.to_string()>
                <div><h3>{app.t(Msg::ModelFullPrecision)}</h3><ol>{full_list}</ol></div>
                <div><h3>{move || app.t(Msg::ModelQuantized)}</h3><ol>{quant_list}</ol></div>
            </div>
            <p class="muted small">{Msg::ModelRankSummary.fill(app.lang(), &[&changed.to_string(), &full.len().to_string()])}</p>
        })
    };
    view! {
        <section class="card" class:updating=updating(lab)>
            <h2>{move || app.t(Msg::ModelSearchTitle)}</h2>
            <label class="control">
                <span class="control-label">{move || app.t(Msg::ModelQueryLabel)}</span>
                <select data-testid="model-query" prop:value=move || query.get().to_string()
                    on:change=move |e| {
                        if let Ok(q) = event_target_value(&e).parse::<u8>() {
                            app.set_ctl(|c| c.model.query = q);
                        }
                    }>
                    {move || texts().into_iter().enumerate().map(|(i, t)| view! {
                        <option value=i.to_string() selected=move || query.get() == i>{format!("{}. {}", i + 1, clip(&t, 40))}</option>
                    }).collect_view()}
                </select>
            </label>
            {lists}
        </section>
    }
}

/// Where the error enters: the hidden state's relative error after each layer.
#[component]
fn DriftSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let data = Memo::new(move |_| lab.run.get().and_then(|r| r.ok()));
    let draw = move |area: &Area, th: &ChartTheme| -> DrawResult {
        let Some(r) = data.get() else {
            return Err(app.t(Msg::ModelWaiting).to_string());
        };
        draw_drift(
            area,
            th,
            &r.drift,
            app.t(Msg::ModelDriftX),
            app.t(Msg::ModelDriftY),
        )
    };
    let summary = move || {
        let r = data.get()?;
        let mean = mean_drift(&r.drift);
        let (first, last) = (mean.first()?, mean.last()?);
        Some(Msg::ModelDriftSummary.fill(
            app.lang(),
            &[
                &format!("{:.2} %", first * 100.0),
                &format!("{:.2} %", last * 100.0),
            ],
        ))
    };
    view! {
        <section class="card" class:updating=updating(lab)>
            <h2>{move || app.t(Msg::ModelDriftTitle)}</h2>
            <p class="muted small">{move || app.t(Msg::ModelDriftIntro)}</p>
            <Chart id="model-layer-drift" caption=Signal::derive(move || app.t(Msg::ModelDriftCaption).to_string()) aspect=0.45 draw=draw/>
            <p data-testid="model-drift-summary">{summary}</p>
        </section>
    }
}

/// The mean over sentences of the relative error after each layer.
fn mean_drift(drift: &[Vec<f64>]) -> Vec<f64> {
    (0..LAYERS)
        .map(|l| {
            let v: Vec<f64> = drift.iter().filter_map(|d| d.get(l).copied()).collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        })
        .collect()
}

fn draw_drift(area: &Area, th: &ChartTheme, drift: &[Vec<f64>], x: &str, y: &str) -> DrawResult {
    let mean = mean_drift(drift);
    let top = drift.iter().flatten().copied().fold(1e-4, f64::max) * 100.0 * 1.1;
    let fmt = |v: &f64| format!("{v:.1}");
    let mut chart = cartesian(area, th, x, y, 0.5..LAYERS as f64 + 0.5, 0.0..top, &fmt)?;
    for d in drift {
        let pts = d
            .iter()
            .enumerate()
            .map(|(l, &e)| ((l + 1) as f64, e * 100.0))
            .collect();
        line(&mut chart, th, pts, th.muted, 1.0)?;
    }
    let pts: Vec<(f64, f64)> = mean
        .iter()
        .enumerate()
        .map(|(l, &e)| ((l + 1) as f64, e * 100.0))
        .collect();
    line(&mut chart, th, pts.clone(), th.color(0), 2.5)?;
    chart
        .draw_series(
            pts.iter()
                .map(|&p| Circle::new(p, th.px(3.5) as i32, th.color(0).filled())),
        )
        .map_err(de)?;
    Ok(())
}

/// (mean cos, min cos, nearest changes, rank changes, places, ms, SmoothQuant α) of a row.
type RowCells = (f64, f64, usize, usize, usize, f64, Option<f32>);

fn row_cells(r: &QuantRun, alpha: Option<f32>) -> RowCells {
    let o = &r.outcome;
    (
        o.mean_cos,
        o.min_cos,
        o.top1_changes,
        o.rank_changes,
        o.rank_places,
        r.ms,
        alpha,
    )
}

/// Every method on the current sentences.
#[component]
fn MethodsSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let rows = move || {
        let runs = lab.methods.get();
        let fp = lab.fp.get();
        Method::ALL
            .iter()
            .map(|&m| {
                let cells = match m {
                    Method::Full => fp.as_ref().map(|f| (1.0, 1.0, 0, 0, 0, f.speed().0, None)),
                    Method::W8A8Smooth => runs
                        .iter()
                        .filter(|r| {
                            SMOOTH_SWEEP
                                .iter()
                                .any(|&a| m.config(a).as_ref() == Some(&r.cfg))
                        })
                        .max_by(|a, b| a.outcome.mean_cos.total_cmp(&b.outcome.mean_cos))
                        .map(|r| row_cells(r, r.cfg.smooth_alpha)),
                    _ => runs
                        .iter()
                        .find(|r| m.config(0.0).as_ref() == Some(&r.cfg))
                        .map(|r| row_cells(r, None)),
                };
                let label = match cells.and_then(|c| c.6) {
                    Some(a) => Msg::MethodSmoothBest.fill(app.lang(), &[&format!("{a:.1}")]),
                    None => app.t(m.label()).to_string(),
                };
                let n = fp.as_ref().map_or(0, |f| f.runs.len());
                view! {
                    <tr data-method=format!("{m:?}")>
                        <td>{label}</td>
                        {match cells {
                            Some((mean, min, top1, rc, rp, ms, _)) => view! {
                                <td>{format!("{mean:.4}")}</td>
                                <td>{format!("{min:.4}")}</td>
                                <td>{format!("{top1} / {n}")}</td>
                                <td>{format!("{rc} / {rp}")}</td>
                                <td>{format!("{ms:.1}")}</td>
                            }.into_any(),
                            None => view! { <td class="muted" colspan="5">"…"</td> }.into_any(),
                        }}
                    </tr>
                }
            })
            .collect_view()
    };
    let progress = move || {
        lab.methods_job.progress.get().map(|(done, total)| view! {
            <p class="loading small"><progress max=total.to_string() value=done.to_string()></progress>
                {Msg::ModelMethodsRunning.fill(app.lang(), &[&lab.methods.with(Vec::len).to_string(),
                    &(Method::ALL.len() - 2 + SMOOTH_SWEEP.len()).to_string()])}</p>
        })
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::ModelMethodsTitle)}</h2>
            <p class="muted small">{move || app.t(Msg::ModelMethodsIntro)}</p>
            {progress}
            <div class="table-scroll">
                <table class="data" data-testid="model-methods-table">
                    <thead><tr>
                        <th>{move || app.t(Msg::ModelMethod)}</th>
                        <th>{move || app.t(Msg::ModelMeanCos)}</th>
                        <th>{move || app.t(Msg::ModelMinCos)}</th>
                        <th>{move || app.t(Msg::ModelTop1Changes)}</th>
                        <th>{move || app.t(Msg::ModelRankChanges)}</th>
                        <th>{move || app.t(Msg::ModelMsPerForward)}</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <Show when=move || lab.methods_error.with(|e| e.is_some())>
                <p class="control-error" role="alert">{move || lab.methods_error.get().unwrap_or_default()}</p>
            </Show>
        </section>
    }
}
