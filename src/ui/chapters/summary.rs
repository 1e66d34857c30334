//! Chapter 9, "Summary": the seminar's closing slide, measured — every method on the same real
//! layer and bit width, with what each needs (calibration data, training) and what it costs at
//! run time.

use std::sync::Arc;

use leptos::prelude::*;
use plotters::prelude::{ChartBuilder, Color, Rectangle, Text, TRANSPARENT};

use quantlab_app::chapters::Chapter;
use quantlab_app::controls::LayerBits;
use quantlab_app::i18n::Msg;
use quantlab_engine::linear::{ActGranularity, LayerQuant, WeightGranularity};
use quantlab_engine::rotate::{LearnConfig, Learner, Rotated, Rotation};
use quantlab_engine::smooth::{SmoothPoint, Sweep};

use super::model_run::{ModelRun, QuantRun};
use super::qat::use_qat_results;
use super::smoothquant::SWEEP_POINTS;
use super::summary_llm::{LlmColumn, LlmPlan};
use crate::lens;
use crate::ui::data::{LayerData, LayerPicker};
use crate::ui::job::Job;
use crate::ui::minilm::{use_model, ModelState};
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{de, Area, ChartTheme, DrawResult};
use crate::ui::widgets::{Chart, Segmented};
use quantlab_app::sentences::{Sentences, DEFAULT_TEXT, SMOOTH_SWEEP};
use quantlab_engine::model::{ActMode, ModelQuant};

const LEARN_STEPS: usize = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    PerTensor,
    PerToken,
    WeightsOnly,
    SmoothQuant,
    Hadamard,
    Random,
    Learned,
}

impl Method {
    const ALL: [Method; 7] = [
        Method::PerTensor,
        Method::PerToken,
        Method::WeightsOnly,
        Method::SmoothQuant,
        Method::Hadamard,
        Method::Random,
        Method::Learned,
    ];

    fn name(self) -> Msg {
        match self {
            Method::PerTensor => Msg::SumPerTensor,
            Method::PerToken => Msg::SumPerToken,
            Method::WeightsOnly => Msg::SumWeightsOnly,
            Method::SmoothQuant => Msg::SumSmooth,
            Method::Hadamard => Msg::SumHadamard,
            Method::Random => Msg::SumRandom,
            Method::Learned => Msg::SumLearned,
        }
    }
    /// (needs calibration data, needs training, run-time work)
    fn needs(self) -> (Msg, Msg, Msg) {
        match self {
            Method::PerTensor => (Msg::SumStaticYes, Msg::No, Msg::CostPerTensor),
            Method::PerToken => (Msg::No, Msg::No, Msg::CostPerToken),
            Method::WeightsOnly => (Msg::No, Msg::No, Msg::CostWeightsOnly),
            Method::SmoothQuant => (Msg::SumSmoothCalib, Msg::No, Msg::CostSmooth),
            Method::Hadamard => (Msg::No, Msg::No, Msg::CostHadamard),
            Method::Random => (Msg::No, Msg::No, Msg::CostDense),
            Method::Learned => (Msg::SumSmoothCalib, Msg::SumLearnYes, Msg::CostDense),
        }
    }
    fn chapter(self) -> Chapter {
        match self {
            Method::PerTensor | Method::PerToken | Method::WeightsOnly => Chapter::Outliers,
            Method::SmoothQuant => Chapter::SmoothQuant,
            _ => Chapter::Rotation,
        }
    }
}

impl Method {
    /// The same method on the whole model (all 36 linears, `bits`), or why it is not run there.
    /// SmoothQuant's row is its α sweep; its best α is taken.
    fn model_configs(self, (w, a): (u8, u8)) -> Result<Vec<ModelQuant>, Msg> {
        use quantlab_engine::kernels::ActGranularity;
        let act = |g| ModelQuant {
            act: ActMode::Dynamic(g),
            ..ModelQuant::new(w, a)
        };
        let token = act(ActGranularity::PerToken);
        Ok(match self {
            Method::PerTensor => vec![act(ActGranularity::PerTensor)],
            Method::PerToken => vec![token],
            Method::WeightsOnly => vec![ModelQuant {
                act: ActMode::Float,
                ..token
            }],
            Method::SmoothQuant => SMOOTH_SWEEP
                .iter()
                .map(|&alpha| ModelQuant {
                    smooth_alpha: Some(alpha),
                    ..token.clone()
                })
                .collect(),
            Method::Hadamard => vec![ModelQuant {
                hadamard: true,
                ..token
            }],
            Method::Random => return Err(Msg::SumModelNoRandom),
            Method::Learned => return Err(Msg::SumModelNoLearned),
        })
    }

    /// The same method on SmolLM2 (all 210 linears, `bits`), or why it is not run there.
    /// SmoothQuant's row takes the language-model chapter's α = 0.5 instead of a sweep (each
    /// setting re-quantizes 135 M weights).
    fn llm_config(self, wa: (u8, u8)) -> Result<ModelQuant, Msg> {
        match self {
            Method::WeightsOnly => Err(Msg::SumLlmNoWeightsOnly),
            Method::SmoothQuant => Ok(ModelQuant {
                smooth_alpha: Some(quantlab_app::llm::TABLE_ALPHA),
                ..self
                    .model_configs(wa)?
                    .into_iter()
                    .next()
                    .ok_or(Msg::SumLlmNoWeightsOnly)?
            }),
            _ => self
                .model_configs(wa)?
                .into_iter()
                .next()
                .ok_or(Msg::SumModelNoRandom),
        }
    }

    /// A short name for the chart.
    fn short(self) -> Msg {
        match self {
            Method::PerTensor => Msg::SumShortTensor,
            Method::PerToken => Msg::SumShortToken,
            Method::WeightsOnly => Msg::SumShortWeights,
            Method::SmoothQuant => Msg::SumShortSmooth,
            Method::Hadamard => Msg::SumShortHadamard,
            Method::Random => Msg::SumShortRandom,
            Method::Learned => Msg::SumShortLearned,
        }
    }
}

/// A method on the whole model: mean and min cosine to full precision, rank changes (of the
/// places), ms per forward; or why it has none.
type ModelCell = Result<(f64, f64, usize, usize, f64), String>;

/// The whole model's columns of the table: every method on the whole-model chapter's
/// sentences, once the model is loaded.
#[derive(Clone, Copy)]
struct ModelColumns {
    cells: RwSignal<Vec<(Method, ModelCell)>>,
    job: Job,
    n: Memo<usize>,
}

impl ModelColumns {
    fn new(app: AppState, bits: Memo<LayerBits>) -> Self {
        let store = use_model();
        let model = Memo::new(move |_| store.state.with(ModelState::model));
        let texts = Memo::new(move |_| {
            let s = app.ctl(|c| Sentences::of(&c.model.text));
            if s.lines.is_empty() {
                Sentences::of(DEFAULT_TEXT).lines
            } else {
                s.lines
            }
        });
        let cols = ModelColumns {
            cells: RwSignal::new(Vec::new()),
            job: Job::new(),
            n: Memo::new(move |_| texts.with(Vec::len)),
        };
        Effect::new(move |_| {
            let (Some(m), texts, wa) = (model.get(), texts.get(), bits.get().bits()) else {
                cols.job.cancel();
                return;
            };
            let plan: Vec<(Method, Result<Vec<ModelQuant>, Msg>)> = Method::ALL
                .iter()
                .map(|&me| (me, me.model_configs(wa)))
                .collect();
            let configs: Vec<ModelQuant> = plan
                .iter()
                .flat_map(|(_, c)| c.clone().unwrap_or_default())
                .collect();
            let cells = cols.cells;
            cells.set(Vec::new());
            let fill = std::rc::Rc::new(move |done: &[QuantRun]| {
                let lang = app.lang_untracked();
                cells.set(
                    plan.iter()
                        .filter_map(|(me, cfgs)| match cfgs {
                            Err(why) => Some((*me, Err(why.text(lang).to_string()))),
                            Ok(cfgs) => {
                                let runs: Vec<&QuantRun> =
                                    done.iter().filter(|r| cfgs.contains(&r.cfg)).collect();
                                (runs.len() == cfgs.len()).then(|| {
                                    let best = runs.iter().max_by(|a, b| {
                                        a.outcome.mean_cos.total_cmp(&b.outcome.mean_cos)
                                    });
                                    (
                                        *me,
                                        best.map(|r| {
                                            let o = &r.outcome;
                                            (
                                                o.mean_cos,
                                                o.min_cos,
                                                o.rank_changes,
                                                o.rank_places,
                                                r.ms,
                                            )
                                        })
                                        .ok_or_else(|| "—".to_string()),
                                    )
                                })
                            }
                        })
                        .collect(),
                );
            });
            let fill_end = fill.clone();
            ModelRun::new(m, store, texts, configs, false).start(
                cols.job,
                move |done| fill(done),
                move |r| match r {
                    Ok(done) => fill_end(&done),
                    Err(e) => {
                        cells.set(Method::ALL.iter().map(|&me| (me, Err(e.clone()))).collect())
                    }
                },
            );
        });
        cols
    }

    fn cell(&self, m: Method) -> Option<ModelCell> {
        self.cells
            .with(|c| c.iter().find(|(x, _)| *x == m).map(|(_, v)| v.clone()))
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Row {
    method: Method,
    rel_err: Option<f64>,
    note: Option<String>,
}

/// The summary's sliced computation: one method, one α of the sweep or one learning step per
/// slice, on the same layer and bits.
struct SummaryRun {
    data: Arc<LayerData>,
    bits: (u8, u8),
    too_big: String,
    learner: Option<Learner>,
    alphas: Vec<SmoothPoint>,
}

/// Steps: 3 plain settings, the SmoothQuant chapter's α sweep, Hadamard, random, the learner's
/// set-up and its steps.
const SWEEP_END: usize = 3 + SWEEP_POINTS;

impl SummaryRun {
    const STEPS: usize = SWEEP_END + 2 + 1 + LEARN_STEPS;

    /// Runs step `i`; returns a method's result once it is known.
    fn step(&mut self, i: usize) -> Option<(Method, Result<f64, String>)> {
        let (w, a) = self.bits;
        let token = LayerQuant::new(w, a, ActGranularity::PerToken);
        let d = self.data.clone();
        let case = d.case.case();
        let text = |e: quantlab_engine::QuantError| e.to_string();
        let err = |cfg: &LayerQuant| case.error(cfg).map(|e| e.rel_err).map_err(text);
        let rotated = |r: &Rotation| {
            Rotated::new(case, r)
                .and_then(|r| r.error(case, &token))
                .map(|e| e.rel_err)
                .map_err(text)
        };
        Some(match i {
            0 => (
                Method::PerTensor,
                err(&LayerQuant::new(w, a, ActGranularity::PerTensor)),
            ),
            1 => (Method::PerToken, err(&token)),
            2 => (
                Method::WeightsOnly,
                err(&LayerQuant::new(w, a, ActGranularity::Float)
                    .with_weights(WeightGranularity::PerOutputChannel)),
            ),
            3..SWEEP_END => {
                let alpha = (i - 3) as f32 / (SWEEP_POINTS - 1) as f32;
                match d.case.error_at(alpha, &token) {
                    Ok(error) => self.alphas.push(SmoothPoint { alpha, error }),
                    Err(e) => return Some((Method::SmoothQuant, Err(e.to_string()))),
                }
                if i + 1 < SWEEP_END {
                    return None;
                }
                let points = std::mem::take(&mut self.alphas);
                if points.is_empty() {
                    return None; // every α failed: its error is already in the row
                }
                let sweep = d
                    .case
                    .baseline(&token)
                    .map(|base| Sweep::from_points(token, base, points));
                (
                    Method::SmoothQuant,
                    sweep.map(|s| s.best_rel_err).map_err(text),
                )
            }
            SWEEP_END => (Method::Hadamard, rotated(&Rotation::Hadamard)),
            x if x == SWEEP_END + 1 && case.in_channels() > 512 => {
                (Method::Random, Err(self.too_big.clone()))
            }
            x if x == SWEEP_END + 1 => (Method::Random, rotated(&Rotation::Random(0))),
            x if x == SWEEP_END + 2 => {
                let cfg = LearnConfig {
                    quant: token,
                    ..LearnConfig::default()
                };
                match Learner::new(case, &Rotation::Hadamard, cfg) {
                    Ok(l) => {
                        self.learner = Some(l);
                        return None;
                    }
                    Err(e) => (Method::Learned, Err(e.to_string())),
                }
            }
            _ => {
                let l = self.learner.as_mut()?;
                if let Err(e) = l.step(1) {
                    self.learner = None; // the remaining steps have nothing to do
                    return Some((Method::Learned, Err(e.to_string())));
                }
                if i + 1 < Self::STEPS {
                    return None;
                }
                (
                    Method::Learned,
                    l.error(case, &token).map(|e| e.rel_err).map_err(text),
                )
            }
        })
    }
}

#[component]
pub fn SummaryChapter() -> impl IntoView {
    let app = use_app();
    let layer = crate::ui::data::chapter_layer(lens!(summary.layer), lens!(summary.own));
    let data = Memo::new(move |_| layer.get().data().map(crate::ui::Shared));
    let bits = Memo::new(move |_| app.ctl(|c| c.summary.bits));
    let rows = RwSignal::new(Vec::<Row>::new());
    let job = Job::new();
    let cols = ModelColumns::new(app, bits);
    let llm_plan = Memo::new(move |_| {
        let wa = bits.get().bits();
        Method::ALL
            .iter()
            .map(|&me| me.llm_config(wa))
            .collect::<LlmPlan>()
    });
    let llm = LlmColumn::new(app, llm_plan);
    let model_store = use_model();

    Effect::new(move |_| {
        let (Some(d), (w, a)) = (data.get(), bits.get().bits()) else {
            job.cancel();
            rows.set(Vec::new());
            return;
        };
        rows.set(
            Method::ALL
                .iter()
                .map(|&m| Row {
                    method: m,
                    rel_err: None,
                    note: None,
                })
                .collect(),
        );
        let set = move |m: Method, e: Result<f64, String>| {
            rows.update(|r| {
                if let Some(row) = r.iter_mut().find(|x| x.method == m) {
                    match e {
                        Ok(v) => row.rel_err = Some(v),
                        Err(n) => row.note = Some(n),
                    }
                }
            })
        };
        let run = SummaryRun {
            too_big: Msg::RandomTooBig
                .fill(app.lang(), &[&d.case.case().in_channels().to_string()]),
            data: d.0.clone(),
            bits: (w, a),
            learner: None,
            alphas: Vec::with_capacity(SWEEP_POINTS),
        };
        job.fold(
            run,
            SummaryRun::STEPS,
            move |run, i| {
                if let Some((m, e)) = run.step(i) {
                    set(m, e);
                }
            },
            |_| {},
        );
    });

    let table = move || {
        rows.get()
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let (calib, train, cost) = r.method.needs();
                let ch = r.method.chapter();
                let err = match (&r.rel_err, &r.note) {
                    (Some(v), _) => format!("{:.3} %", v * 100.0),
                    (None, Some(n)) => n.clone(),
                    (None, None) => "…".into(),
                };
                view! {
                    <tr>
                        <td><span class="swatch" style=move || { let c = crate::ui::widgets::ChartTheme::new(app.dark(), 1.0).color(i % 6); format!("background: rgb({},{},{})", c.0, c.1, c.2) }></span>{move || app.t(r.method.name())}</td>
                        <td><strong>{err}</strong></td>
                        <td data-testid=format!("summary-model-{i}")
                            title=move || cols.cell(r.method).and_then(|c| c.err()).unwrap_or_default()>
                            {move || match cols.cell(r.method) {
                                Some(Ok((mean, min, rc, rp, ms))) => view! {
                                    {format!("{mean:.4} ({min:.4})")}
                                    <br/>
                                    <span class="muted small">{Msg::SumModelDetail.fill(app.lang(), &[&format!("{rc}/{rp}"), &format!("{ms:.1}")])}</span>
                                }.into_any(),
                                Some(Err(_)) => "—".into_any(),
                                None => if model_store.state.with(|s| s.model().is_some()) { "…".into_any() } else { "—".into_any() },
                            }}
                        </td>
                        {llm.view(i)}
                        <td>{move || app.t(calib)}</td>
                        <td>{move || app.t(train)}</td>
                        <td class="left">{move || app.t(cost)}</td>
                        <td><a href=format!("?ch={}", ch.slug()) on:click=move |e: leptos::ev::MouseEvent| { e.prevent_default(); app.go(ch); }>{move || app.t(ch.title())}</a></td>
                    </tr>
                }
            })
            .collect_view()
    };

    view! {
        <section class="card intro">
            <p>{move || app.t(Msg::SumIntro)}</p>
            <LayerPicker layer=lens!(summary.layer) own=lens!(summary.own) state=layer/>
            <Segmented label=Signal::derive(move || app.t(Msg::Bits).to_string())
                value=Signal::derive(move || bits.get())
                on_change=Callback::new(move |v: LayerBits| app.set_ctl(|c| c.summary.bits = v))
                testid="summary-bits"/>
        </section>
        <section class="card">
            <div class="table-scroll">
                <table class="data summary" data-testid="summary-table">
                    <thead><tr>
                        <th>{move || app.t(Msg::Method)}</th><th>{move || app.t(Msg::OutputError)}</th>
                        <th>{move || app.t(Msg::SumModelColumn)}</th><th>{move || app.t(Msg::SumLlmColumn)}</th><th>{move || app.t(Msg::SumCalibData)}</th>
                        <th>{move || app.t(Msg::SumTraining)}</th><th class="left">{move || app.t(Msg::SumRuntime)}</th><th>{move || app.t(Msg::SumChapter)}</th>
                    </tr></thead>
                    <tbody>{table}</tbody>
                </table>
            </div>
            <Show when=move || job.running()>
                <progress max=move || job.progress.get().map(|p| p.1).unwrap_or(1) value=move || job.progress.get().map(|p| p.0).unwrap_or(0)></progress>
            </Show>
            <p class="muted small">{move || app.t(Msg::SumTableNote)}</p>
            <p class="muted small" data-testid="summary-model-note">
                {move || if model_store.state.with(|s| s.model().is_some()) {
                    Msg::SumModelNote.fill(app.lang(), &[&cols.n.get().to_string()])
                } else {
                    app.t(Msg::SumModelMissing).to_string()
                }}
                " "
                <Show when=move || model_store.state.with(|s| matches!(s, ModelState::Idle | ModelState::Failed(_) | ModelState::Cancelled))>
                    <button type="button" class="tool small" data-testid="summary-model-load" on:click=move |_| model_store.load()>
                        {move || app.t(Msg::ModelLoad)}
                    </button>
                </Show>
                <Show when=move || cols.job.running() || model_store.state.with(ModelState::busy)>
                    <span class="loading"><span class="spinner" aria-hidden="true"></span>{move || app.t(Msg::Computing)}</span>
                </Show>
            </p>
            {llm.note()}
            <Chart id="summary-chart" caption=Signal::derive(move || app.t(Msg::SumChartCaption).to_string()) aspect=0.42 draw=move |a: &Area, th: &ChartTheme| rows.with(|r| draw_methods(a, th, r, app))/>
        </section>
        <QatSection/>
        <Takeaways/>
    }
}

/// QAT's row: it trains a network, so it is measured on the digits of chapter 5.
#[component]
fn QatSection() -> impl IntoView {
    let app = use_app();
    let qat_rows = use_qat_results().comparison;
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::SumQatTitle)}</h2>
            {move || if qat_rows.with(|r| !r.is_empty()) {
                view! {
                    <div class="table-scroll">
                        <table class="data" data-testid="summary-qat">
                            <thead><tr><th>{move || app.t(Msg::Bits)}</th><th>"PTQ"</th><th>"QAT"</th></tr></thead>
                            <tbody>{qat_rows.get().into_iter().map(|r| view! { <tr><td>{format!("W{0}A{0}", r.bits)}</td><td>{format!("{:.2} %", r.ptq_accuracy * 100.0)}</td><td><strong>{format!("{:.2} %", r.qat_accuracy * 100.0)}</strong></td></tr> }).collect_view()}</tbody>
                        </table>
                    </div>
                }.into_any()
            } else {
                view! { <p class="muted">{move || app.t(Msg::SumQatMissing)}</p> }.into_any()
            }}
        </section>
    }
}

/// One line per chapter: what to remember.
#[component]
fn Takeaways() -> impl IntoView {
    let app = use_app();
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::SumTakeaways)}</h2>
            <ul class="takeaways">
                {[(Chapter::Function, Msg::Take1), (Chapter::Error, Msg::Take2), (Chapter::Calibration, Msg::Take3), (Chapter::Qat, Msg::Take4), (Chapter::Outliers, Msg::Take5), (Chapter::SmoothQuant, Msg::Take6), (Chapter::Rotation, Msg::Take7)]
                    .into_iter()
                    .map(|(ch, m)| view! {
                        <li><a href=format!("?ch={}", ch.slug()) on:click=move |e: leptos::ev::MouseEvent| { e.prevent_default(); app.go(ch); }>{move || app.t(ch.title())}</a>": "{move || app.t(m)}</li>
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// The output error of every method that has one: one horizontal bar per method, named.
fn draw_methods(area: &Area, th: &ChartTheme, r: &[Row], app: AppState) -> DrawResult {
    let vals: Vec<(usize, f64)> = r
        .iter()
        .enumerate()
        .filter_map(|(i, x)| x.rel_err.map(|v| (i, v)))
        .collect();
    if vals.is_empty() {
        return Err(app.t(Msg::Computing).to_string());
    }
    let top = vals.iter().map(|v| v.1).fold(1e-9, f64::max) * 1.25;
    let n = r.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .margin(th.px(8.0))
        .x_label_area_size(th.px(34.0))
        .y_label_area_size(0)
        .build_cartesian_2d(0.0..top, -0.5..(n - 0.5))
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(app.t(Msg::OutputError))
        .x_labels(5)
        .x_label_formatter(&|v| format!("{:.0} %", v * 100.0))
        .label_style(th.muted_text(11.0))
        .axis_desc_style(th.text(12.0))
        .axis_style(th.muted.stroke_width(th.px(1.0)))
        .bold_line_style(th.grid.stroke_width(th.px(1.0)))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(de)?;
    let name_font = th.text(12.0);
    let value_font = th.muted_text(11.0);
    for (i, x) in r.iter().enumerate() {
        // The first row at the top: row i is drawn at y = n − 1 − i.
        let y = n - 1.0 - i as f64;
        chart
            .draw_series(std::iter::once(Text::new(
                app.t(x.method.short()).to_string(),
                (0.0, y + 0.42),
                name_font.clone(),
            )))
            .map_err(de)?;
        if let Some(v) = x.rel_err {
            let c = th.color(i % 6);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y - 0.35), (v, y + 0.02)],
                    c.filled(),
                )))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{:.2} %", v * 100.0),
                    (v + top * 0.01, y + 0.05),
                    value_font.clone(),
                )))
                .map_err(de)?;
        }
    }
    Ok(())
}
