//! Chapter 5, "Quantization-aware training": a 64-64-10 MLP trained live on the real UCI digits
//! in the engine (pure Rust, in slices between frames), then quantized after training (PTQ) or
//! fine-tuned with fake quantization and learned ranges (QAT, LSQ + STE) — PTQ collapses at low
//! bits and QAT recovers.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::task::spawn_local;
use plotters::prelude::{Color, IntoFont, PathElement, Text};

use crate::ui::data::fetch_bytes;
use crate::ui::dom;
use crate::ui::job::repeat;
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{de, Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{cartesian, histogram_bars, histogram_outline, line, tick, vline};
use crate::ui::widgets::{Chart, Slider};
use quantlab_app::controls::{codec, BITS, SEED};
use quantlab_app::i18n::Msg;
use quantlab_engine::histogram;
use quantlab_engine::qat::{
    ptq_accuracy, round_ste_curve, Comparison, ComparisonRow, EpochRecord, Layer, Mlp, Phase,
    Progress, PtqConfig, QuantSpec, Split, TrainConfig, Trainer,
};

/// One learned range of a snapshot (the input's is `None` before it is calibrated).
type RangeOf = fn(&quantlab_engine::qat::RangeSnapshot) -> Option<f32>;

pub const DIGITS_PATH: &str = "assets/data/digits/digits.bin";
/// Work per slice of training (ms), leaving the rest of the frame to the page.
const BUDGET_MS: f64 = 7.0;
pub const COMPARE_BITS: [u8; 4] = [2, 3, 4, 8];

/// What this chapter leaves behind when the reader moves on: the digits once loaded (so coming
/// back does not fetch them again) and the last PTQ-vs-QAT comparison, which the summary shows.
/// Provided once by the app shell.
#[derive(Clone, Copy)]
pub struct QatResults {
    digits: RwSignal<Option<Arc<Split>>>,
    pub comparison: RwSignal<Vec<ComparisonRow>>,
}

impl QatResults {
    pub fn new() -> Self {
        QatResults {
            digits: RwSignal::new(None),
            comparison: RwSignal::new(Vec::new()),
        }
    }
}

impl Default for QatResults {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_qat_results() -> QatResults {
    expect_context::<QatResults>()
}

fn config(seed: u64, bits_w: u8, bits_a: u8, fp32_epochs: usize, qat_epochs: usize) -> TrainConfig {
    let mut cfg = TrainConfig {
        seed,
        ..TrainConfig::default()
    };
    cfg.fp32.epochs = fp32_epochs;
    cfg.qat.phase.epochs = qat_epochs;
    cfg.qat.spec = QuantSpec::new(bits_w, bits_a);
    cfg
}

fn pct(v: f32) -> String {
    format!("{:.2} %", 100.0 * v)
}

/// What the training loop may do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Goal {
    Idle,
    /// Train the float network and stop when QAT would begin.
    Fp32,
    /// Fine-tune with fake quantization to the end.
    Qat,
}

/// The float and quantized weights of the hidden layer, for the histogram.
type Weights = (Vec<f32>, Option<Vec<f32>>);

/// The training run: the trainer lives outside the reactive graph; the signals mirror what the
/// page shows.
#[derive(Clone, Copy)]
struct Training {
    trainer: StoredValue<Option<Trainer>, LocalStorage>,
    goal: RwSignal<Goal>,
    progress: RwSignal<Option<Progress>>,
    history: RwSignal<Vec<EpochRecord>>,
    weights: RwSignal<Option<Weights>>,
    error: RwSignal<Option<String>>,
}

impl Training {
    fn new() -> Self {
        Training {
            trainer: StoredValue::new_local(None),
            goal: RwSignal::new(Goal::Idle),
            progress: RwSignal::new(None),
            history: RwSignal::new(Vec::new()),
            weights: RwSignal::new(None),
            error: RwSignal::new(None),
        }
    }

    fn snapshot(self, t: &Trainer) {
        if t.history().len() != self.history.with_untracked(|h| h.len()) {
            self.history.set(t.history().to_vec());
            let w = t.model().w1().to_vec();
            self.weights
                .set(Some((w, t.quantized_weights(Layer::Hidden))));
        }
    }

    /// One slice of training; `true` while the goal holds (see [`crate::ui::job::repeat`]).
    fn tick(self) -> bool {
        let Some(g) = self.goal.try_get_untracked() else {
            return false; // chapter left
        };
        if g == Goal::Idle {
            return false;
        }
        let result = self.trainer.try_update_value(|t| {
            let t = t.as_mut()?;
            let r = t.run_for(BUDGET_MS, &mut dom::now_ms);
            if r.is_ok() {
                self.snapshot(t);
            }
            Some(r)
        });
        match result.flatten() {
            Some(Ok(p)) => {
                self.progress.set(Some(p));
                let stop = p.done || (g == Goal::Fp32 && p.phase != Phase::Fp32);
                if stop {
                    self.goal.set(Goal::Idle);
                }
                !stop
            }
            Some(Err(e)) => {
                self.error.set(Some(e.to_string()));
                self.goal.set(Goal::Idle);
                false
            }
            None => {
                self.goal.set(Goal::Idle);
                false
            }
        }
    }

    /// Trains towards `g`; a new trainer (from scratch) for the float phase or the first run.
    fn start(self, g: Goal, cfg: TrainConfig, data: Arc<Split>) {
        self.error.set(None);
        let needs_new = self.trainer.with_value(|t| t.is_none());
        if g == Goal::Fp32 || needs_new {
            match Trainer::new(cfg, data) {
                Ok(t) => {
                    self.history.set(Vec::new());
                    self.trainer.set_value(Some(t));
                }
                Err(e) => {
                    self.error.set(Some(e.to_string()));
                    return;
                }
            }
        }
        self.goal.set(g);
        repeat(move || self.tick());
    }

    /// New bits after the float network is trained: QAT starts again from that network.
    fn restart_qat(self, cfg: TrainConfig, data: Arc<Split>) {
        let Some(model) = self.fp32_model() else {
            return;
        };
        self.goal.set(Goal::Idle);
        match Trainer::from_fp32(cfg, data, model) {
            Ok(t) => {
                self.history
                    .update(|h| h.retain(|r| r.phase == Phase::Fp32));
                self.progress.set(Some(t.progress()));
                self.trainer.set_value(Some(t));
            }
            Err(e) => self.error.set(Some(e.to_string())),
        }
    }

    fn pause(self) {
        self.goal.set(Goal::Idle);
    }

    fn reset(self) {
        self.goal.set(Goal::Idle);
        self.trainer.set_value(None);
        self.progress.set(None);
        self.history.set(Vec::new());
        self.weights.set(None);
        self.error.set(None);
    }

    fn fp32_model(self) -> Option<Mlp> {
        self.trainer
            .with_value(|t| t.as_ref().and_then(|t| t.fp32_model().cloned()))
    }

    /// The float network as far as it is trained (during the float phase: the current one).
    fn float_model(self) -> Option<Mlp> {
        self.trainer.with_value(|t| {
            t.as_ref().and_then(|t| {
                t.fp32_model()
                    .cloned()
                    .or_else(|| (t.progress().phase == Phase::Fp32).then(|| t.model().clone()))
            })
        })
    }

    fn fp32_done(self) -> bool {
        self.history
            .with(|h| h.iter().any(|r| r.phase == Phase::Qat))
            || self.progress.get().is_some_and(|p| p.phase != Phase::Fp32)
    }
}

/// The chapter's settings as the engine's training configuration.
#[derive(Clone, Copy)]
struct Settings {
    seed: Memo<u64>,
    bits_w: Memo<u8>,
    bits_a: Memo<u8>,
    fp32_epochs: Memo<usize>,
    qat_epochs: Memo<usize>,
}

impl Settings {
    fn new(app: AppState) -> Self {
        Settings {
            seed: Memo::new(move |_| u64::from(app.ctl(|c| c.qat.seed))),
            bits_w: Memo::new(move |_| app.ctl(|c| c.qat.wbits)),
            bits_a: Memo::new(move |_| app.ctl(|c| c.qat.abits)),
            fp32_epochs: Memo::new(move |_| usize::from(app.ctl(|c| c.qat.epochs))),
            qat_epochs: Memo::new(move |_| usize::from(app.ctl(|c| c.qat.qepochs))),
        }
    }

    /// The configuration with these bits (untracked: read when a run starts).
    fn config(self, bits_w: u8, bits_a: u8) -> TrainConfig {
        config(
            self.seed.get_untracked(),
            bits_w,
            bits_a,
            self.fp32_epochs.get_untracked(),
            self.qat_epochs.get_untracked(),
        )
    }
}

/// The digits, loaded once per session (kept in [`QatResults`] across chapter visits).
fn load_digits(results: QatResults) -> RwSignal<Option<Result<Arc<Split>, String>>> {
    let data = RwSignal::new(results.digits.get_untracked().map(Ok::<_, String>));
    if data.get_untracked().is_none() {
        spawn_local(async move {
            let loaded = match fetch_bytes(DIGITS_PATH).await {
                Ok(bytes) => Split::digits_from_bin(&bytes)
                    .map(Arc::new)
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            if let Ok(s) = &loaded {
                results.digits.try_set(Some(s.clone()));
            }
            data.try_set(Some(loaded));
        });
    }
    data
}

#[component]
pub fn QatChapter() -> impl IntoView {
    let app = use_app();
    let results = use_qat_results();
    let settings = Settings::new(app);
    let data = load_digits(results);
    let split = Signal::derive(move || data.get().and_then(|d| d.ok()));
    let training = Training::new();

    // Changing the bits after the float network is trained restarts QAT from that network.
    Effect::new(move |prev: Option<(u8, u8)>| {
        let now = (settings.bits_w.get(), settings.bits_a.get());
        if prev.is_some_and(|p| p != now) {
            if let Some(d) = split.get_untracked() {
                training.restart_qat(settings.config(now.0, now.1), d);
            }
        }
        now
    });

    let data_line = move || match data.get() {
        None => app.t(Msg::DataLoading).to_string(),
        Some(Err(e)) => e,
        Some(Ok(s)) => Msg::DigitsLine.fill(
            app.lang(),
            &[&s.train.len().to_string(), &s.test.len().to_string()],
        ),
    };
    let (history, weights) = (training.history, training.weights);

    view! {
        <section class="card intro">
            <p>{move || app.t(Msg::QatIntro)}</p>
            <ol class="bullets">
                <li>{move || app.t(Msg::QatPoint1)}</li>
                <li>{move || app.t(Msg::QatPoint2)}</li>
            </ol>
            <p class="muted small" data-testid="digits-info">{data_line}</p>
        </section>
        <TrainSection training settings split/>
        <div class="grid-2">
            <section class="card">
                <h2>{move || app.t(Msg::AccuracyTitle)}</h2>
                <Chart id="qat-acc-chart" caption=Signal::derive(move || app.t(Msg::AccuracyCaption).to_string()) aspect=0.62
                    draw=move |a: &Area, th: &ChartTheme| history.with(|h| draw_curves(a, th, h, app))/>
            </section>
            <section class="card">
                <h2>{move || app.t(Msg::LossTitle)}</h2>
                <Chart id="qat-loss-chart" caption=Signal::derive(move || app.t(Msg::LossCaption).to_string()) aspect=0.62
                    draw=move |a: &Area, th: &ChartTheme| history.with(|h| draw_loss(a, th, h, app))/>
            </section>
            <section class="card">
                <h2>{move || app.t(Msg::RangesTitle)}</h2>
                <Chart id="qat-ranges-chart" caption=Signal::derive(move || app.t(Msg::RangesCaption).to_string()) aspect=0.62
                    draw=move |a: &Area, th: &ChartTheme| history.with(|h| draw_ranges(a, th, h, app))/>
            </section>
            <section class="card">
                <h2>{move || app.t(Msg::WeightsTitle)}</h2>
                <Chart id="qat-weights-chart" caption=Signal::derive(move || app.t(Msg::WeightsCaption).to_string()) aspect=0.62
                    draw=move |a: &Area, th: &ChartTheme| draw_weights(a, th, weights.get(), app)/>
            </section>
        </div>
        <CompareSection training settings split/>
        <SteSection/>
    }
}

/// Bits, seed, the train / pause / reset buttons, progress and the three accuracies.
#[component]
fn TrainSection(
    training: Training,
    settings: Settings,
    split: Signal<Option<Arc<Split>>>,
) -> impl IntoView {
    let app = use_app();
    let Settings {
        seed,
        bits_w,
        bits_a,
        ..
    } = settings;
    let Training {
        goal,
        progress,
        history,
        error,
        ..
    } = training;
    let start = move |g: Goal| {
        if let Some(d) = split.get_untracked() {
            training.start(
                g,
                settings.config(bits_w.get_untracked(), bits_a.get_untracked()),
                d,
            );
        }
    };
    let fp32_acc = move || {
        history.with(|h| {
            h.iter()
                .rev()
                .find(|r| r.phase == Phase::Fp32)
                .map(|r| r.test.accuracy)
        })
    };
    let ptq_acc = Memo::new(move |_| {
        let (w, a) = (bits_w.get(), bits_a.get());
        history.track();
        let d = split.get()?;
        let model = training.float_model()?;
        ptq_accuracy(&model, &d, w, a, &PtqConfig::default()).ok()
    });
    let qat_acc = move || {
        history.with(|h| {
            h.iter()
                .rev()
                .find(|r| r.phase == Phase::Qat && r.epoch > 0)
                .map(|r| r.test.accuracy)
        })
    };
    let running = move || goal.get() != Goal::Idle;
    let progress_value = move || progress.get().map_or(0.0, |p| p.fraction);
    let status = move || {
        progress.get().map(|p| {
            Msg::QatStatus.fill(
                app.lang(),
                &[p.phase.name(), &p.epoch.to_string(), &p.epochs.to_string()],
            )
        })
    };
    let bits_label = move |m: Msg| {
        m.fill(
            app.lang(),
            &[&bits_w.get().to_string(), &bits_a.get().to_string()],
        )
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::QatTrainTitle)}</h2>
            <div class="controls">
                <Slider label=Signal::derive(move || app.t(Msg::WeightBits).to_string()) value=Signal::derive(move || f64::from(bits_w.get()))
                    min=BITS.min as f64 max=BITS.max as f64 step=1.0 testid="qat-bits"
                    format=Callback::new(move |v: f64| format!("W{}", v as u8))
                    on_change=Callback::new(move |v: f64| {
                        app.set_ctl(|c| c.qat.wbits = v.round() as u8);
                        true
                    })/>
                <Slider label=Signal::derive(move || app.t(Msg::ActBits).to_string()) value=Signal::derive(move || f64::from(bits_a.get()))
                    min=BITS.min as f64 max=BITS.max as f64 step=1.0 testid="qat-abits"
                    format=Callback::new(move |v: f64| format!("A{}", v as u8))
                    on_change=Callback::new(move |v: f64| {
                        app.set_ctl(|c| c.qat.abits = v.round() as u8);
                        true
                    })/>
                <label class="control compact">
                    <span class="control-label">{move || app.t(Msg::DataSeed)}</span>
                    <input type="number" class="number" min=SEED.min max=SEED.max prop:value=move || seed.get().to_string()
                        on:change=move |e| {
                            // A seed outside the declared range, or junk, is not applied.
                            if let Some(seed) = codec::int::<u32>(&event_target_value(&e), SEED) {
                                app.set_ctl(|c| c.qat.seed = seed);
                                training.reset();
                            }
                        }/>
                </label>
            </div>
            <div class="controls">
                <button type="button" class="tool accent" data-testid="train-fp32" disabled=move || split.get().is_none()
                    on:click=move |_| if goal.get_untracked() == Goal::Fp32 { training.pause() } else { start(Goal::Fp32) }>
                    {move || if goal.get() == Goal::Fp32 { app.t(Msg::Pause) } else { app.t(Msg::TrainFp32) }}
                </button>
                <button type="button" class="tool accent" data-testid="train-qat" disabled=move || split.get().is_none()
                    on:click=move |_| if goal.get_untracked() == Goal::Qat { training.pause() } else { start(Goal::Qat) }>
                    {move || if goal.get() == Goal::Qat { app.t(Msg::Pause) } else if training.fp32_done() { app.t(Msg::TrainQat) } else { app.t(Msg::TrainBoth) }}
                </button>
                <button type="button" class="tool" data-testid="train-reset" on:click=move |_| training.reset()>{move || app.t(Msg::Reset)}</button>
                <progress data-testid="qat-progress" max="1" value=progress_value></progress>
                <span class="muted" data-testid="qat-status">{status}</span>
                <Show when=running><span class="spinner" aria-hidden="true"></span></Show>
            </div>
            <Show when=move || error.with(|e| e.is_some())>
                <p class="control-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <div class="readouts">
                <div class="readout"><span class="k">{move || app.t(Msg::LegendFp32)}</span><span class="v" data-testid="acc-fp32">{move || fp32_acc().map_or("—".into(), pct)}</span></div>
                <div class="readout"><span class="k">{move || bits_label(Msg::PtqAt)}</span><span class="v" data-testid="acc-ptq">{move || ptq_acc.get().map_or("—".into(), pct)}</span></div>
                <div class="readout"><span class="k">{move || bits_label(Msg::QatAt)}</span><span class="v" data-testid="acc-qat">{move || qat_acc().map_or("—".into(), pct)}</span></div>
            </div>
        </section>
    }
}

/// One slice of the 2/3/4/8-bit comparison; `true` while it runs.
fn compare_tick(
    state: StoredValue<Option<Comparison>, LocalStorage>,
    comparing: RwSignal<Option<f32>>,
    rows: RwSignal<Vec<ComparisonRow>>,
    error: RwSignal<Option<String>>,
) -> bool {
    if comparing.try_get_untracked().flatten().is_none() {
        return false; // stopped or chapter left
    }
    let r = state.try_update_value(|c| {
        c.as_mut().map(|c| {
            c.run_for(BUDGET_MS, &mut dom::now_ms)
                .map(|p| (p, c.rows().to_vec()))
        })
    });
    match r.flatten() {
        Some(Ok((p, done_rows))) => {
            rows.set(done_rows);
            comparing.set((!p.done).then_some(p.fraction));
            !p.done
        }
        Some(Err(e)) => {
            error.set(Some(e.to_string()));
            comparing.set(None);
            false
        }
        None => {
            comparing.set(None);
            false
        }
    }
}

/// The same network trained and quantized at 2, 3, 4 and 8 bits, PTQ against QAT.
#[component]
fn CompareSection(
    training: Training,
    settings: Settings,
    split: Signal<Option<Arc<Split>>>,
) -> impl IntoView {
    let app = use_app();
    let comparison = use_qat_results().comparison;
    let comparing = RwSignal::new(None::<f32>);
    let compare_state: StoredValue<Option<Comparison>, LocalStorage> = StoredValue::new_local(None);
    let error = training.error;
    let compare = move |_| {
        if comparing.get_untracked().is_some() {
            comparing.set(None);
            return;
        }
        let Some(d) = split.get_untracked() else {
            return;
        };
        let cfg = settings.config(4, 4);
        let c = match training.fp32_model() {
            Some(model) => Comparison::from_fp32(cfg, d, model, &COMPARE_BITS),
            None => Comparison::new(cfg, d, &COMPARE_BITS),
        };
        match c {
            Ok(c) => {
                compare_state.set_value(Some(c));
                comparison.set(Vec::new());
                comparing.set(Some(0.0));
                repeat(move || compare_tick(compare_state, comparing, comparison, error));
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::CompareTitle)}</h2>
            <p>{move || app.t(Msg::CompareIntro)}</p>
            <div class="controls">
                <button type="button" class="tool accent" data-testid="qat-compare" on:click=compare>
                    {move || if comparing.get().is_some() { app.t(Msg::BenchStop) } else { app.t(Msg::CompareRun) }}
                </button>
                <Show when=move || comparing.get().is_some()>
                    <progress max="1" value=move || comparing.get().unwrap_or(0.0)></progress>
                </Show>
            </div>
            <div class="table-scroll">
                <table class="data" data-testid="qat-compare-table">
                    <thead><tr><th>{move || app.t(Msg::Bits)}</th><th>"FP32"</th><th>"PTQ"</th><th>"QAT"</th></tr></thead>
                    <tbody>
                        {move || comparison.get().into_iter().map(|r| view! {
                            <tr><td>{format!("W{0}A{0}", r.bits)}</td><td>{pct(r.fp32_accuracy)}</td><td>{pct(r.ptq_accuracy)}</td><td><strong>{pct(r.qat_accuracy)}</strong></td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="muted small">{move || app.t(Msg::CompareNote)}</p>
        </section>
    }
}

fn draw_curves(area: &Area, th: &ChartTheme, h: &[EpochRecord], app: AppState) -> DrawResult {
    if h.is_empty() {
        return Err(app.t(Msg::QatPressTrain).to_string());
    }
    let fp_n = h.iter().filter(|r| r.phase == Phase::Fp32).count().max(1);
    let x_of = |r: &EpochRecord| match r.phase {
        Phase::Fp32 => r.epoch as f64,
        _ => (fp_n - 1 + r.epoch) as f64,
    };
    let xmax = h.iter().map(x_of).fold(1.0, f64::max);
    let lo = h
        .iter()
        .flat_map(|r| [Some(r.test.accuracy), r.ptq.map(|p| p.accuracy)])
        .flatten()
        .fold(1.0f32, f32::min);
    let y0 = (f64::from(lo) - 0.05).clamp(0.0, 0.9);
    let fmt = |y: &f64| format!("{:.0} %", y * 100.0);
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::EpochAxis),
        app.t(Msg::TestAccuracy),
        0.0..xmax,
        y0..1.0,
        &fmt,
    )?;
    let pts = |ph: Phase, f: &dyn Fn(&EpochRecord) -> Option<f32>| {
        h.iter()
            .filter(|r| r.phase == ph)
            .filter_map(|r| f(r).map(|v| (x_of(r), f64::from(v))))
            .collect::<Vec<_>>()
    };
    line(
        &mut chart,
        th,
        pts(Phase::Fp32, &|r| Some(r.test.accuracy)),
        th.color(0),
        2.5,
    )?;
    line(
        &mut chart,
        th,
        pts(Phase::Fp32, &|r| r.ptq.map(|p| p.accuracy)),
        th.color(3),
        2.0,
    )?;
    line(
        &mut chart,
        th,
        pts(Phase::Qat, &|r| Some(r.test.accuracy)),
        th.color(2),
        2.5,
    )?;
    if h.iter().any(|r| r.phase == Phase::Qat) {
        vline(
            &mut chart,
            th,
            (fp_n - 1) as f64,
            th.muted,
            app.t(Msg::QatStarts),
            true,
        )?;
    }
    let legend = [
        (app.t(Msg::LegendFp32), th.color(0)),
        (app.t(Msg::LegendPtq), th.color(3)),
        (app.t(Msg::LegendQat), th.color(2)),
    ];
    for (i, (name, c)) in legend.iter().enumerate() {
        let font = ("system-ui, sans-serif", 12.0 * th.dpr)
            .into_font()
            .color(c);
        chart
            .draw_series(std::iter::once(Text::new(
                name.to_string(),
                (xmax * 0.62, y0 + (1.0 - y0) * (0.3 - 0.09 * i as f64)),
                font,
            )))
            .map_err(de)?;
    }
    Ok(())
}

fn draw_loss(area: &Area, th: &ChartTheme, h: &[EpochRecord], app: AppState) -> DrawResult {
    let fp_n = h.iter().filter(|r| r.phase == Phase::Fp32).count().max(1);
    let pts: Vec<(f64, f64)> = h
        .iter()
        .filter_map(|r| {
            let x = if r.phase == Phase::Fp32 {
                r.epoch
            } else {
                fp_n - 1 + r.epoch
            };
            r.train_loss.map(|l| (x as f64, f64::from(l)))
        })
        .collect();
    if pts.is_empty() {
        return Err(app.t(Msg::QatPressTrain).to_string());
    }
    let top = pts.iter().map(|p| p.1).fold(0.1, f64::max) * 1.1;
    let xmax = pts.iter().map(|p| p.0).fold(1.0, f64::max);
    let fmt = |y: &f64| tick(*y);
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::EpochAxis),
        app.t(Msg::TrainLoss),
        0.0..xmax,
        0.0..top,
        &fmt,
    )?;
    line(&mut chart, th, pts, th.color(1), 2.0)?;
    Ok(())
}

fn draw_ranges(area: &Area, th: &ChartTheme, h: &[EpochRecord], app: AppState) -> DrawResult {
    let rs: Vec<(f64, quantlab_engine::qat::RangeSnapshot)> = h
        .iter()
        .filter_map(|r| r.ranges.map(|g| (r.epoch as f64, g)))
        .collect();
    if rs.is_empty() {
        return Err(app.t(Msg::QatRangesWaiting).to_string());
    }
    let series: [(&str, RangeOf); 4] = [
        ("β input", |g| g.input_beta),
        ("β hidden", |g| Some(g.hidden_beta)),
        ("β W1 (mean)", |g| Some(g.w1_mean_beta)),
        ("β W2 (mean)", |g| Some(g.w2_mean_beta)),
    ];
    let all: Vec<f64> = rs
        .iter()
        .flat_map(|(_, g)| series.iter().filter_map(|s| s.1(g)).map(f64::from))
        .collect();
    let top = all.iter().copied().fold(0.1, f64::max) * 1.15;
    let xmax = rs.iter().map(|r| r.0).fold(1.0, f64::max);
    let fmt = |y: &f64| tick(*y);
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::QatEpochAxis),
        "β",
        0.0..xmax,
        0.0..top,
        &fmt,
    )?;
    for (i, (name, f)) in series.iter().enumerate() {
        let pts: Vec<(f64, f64)> = rs
            .iter()
            .filter_map(|(x, g)| f(g).map(|v| (*x, f64::from(v))))
            .collect();
        if let Some(&first) = pts.first() {
            line(&mut chart, th, pts, th.color(i), 2.0)?;
            // Labels at the start of each line, above it: line ends sit on the plot's edge.
            let font = ("system-ui, sans-serif", 11.0 * th.dpr)
                .into_font()
                .color(&th.color(i));
            let at = (first.0 + xmax * 0.02, first.1 + top * 0.06);
            chart
                .draw_series(std::iter::once(Text::new(name.to_string(), at, font)))
                .map_err(de)?;
        }
    }
    Ok(())
}

fn draw_weights(
    area: &Area,
    th: &ChartTheme,
    weights: Option<Weights>,
    app: AppState,
) -> DrawResult {
    let Some((w, q)) = weights else {
        return Err(app.t(Msg::QatPressTrain).to_string());
    };
    let m = w.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6) * 1.05;
    let hw = histogram(&w, 120, -m, m).map_err(|e| e.to_string())?;
    let bins: Vec<_> = hw
        .counts
        .iter()
        .enumerate()
        .map(|(k, &c)| (hw.edge(k), hw.edge(k + 1), f64::from(c)))
        .collect();
    let top = bins.iter().map(|b| b.2).fold(1.0, f64::max) * 1.1;
    let fmt = |y: &f64| tick(*y);
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::WeightAxis),
        app.t(Msg::Count),
        -f64::from(m)..f64::from(m),
        0.0..top,
        &fmt,
    )?;
    histogram_bars(&mut chart, th, &bins, th.color(0), 0.6)?;
    if let Some(q) = q {
        let hq = histogram(&q, 120, -m, m).map_err(|e| e.to_string())?;
        let qb: Vec<_> = hq
            .counts
            .iter()
            .enumerate()
            .map(|(k, &c)| (hq.edge(k), hq.edge(k + 1), f64::from(c).min(top)))
            .collect();
        histogram_outline(&mut chart, th, &qb, th.color(1))?;
    }
    Ok(())
}

/// Why training through round() works at all: the straight-through estimator.
#[component]
fn SteSection() -> impl IntoView {
    let app = use_app();
    // Fixed arguments, so an error here is a bug: shown on both charts, never an empty curve.
    let ste = round_ste_curve(-2.5, 2.5, 501).map_err(|e| e.to_string());
    let ste2 = ste.clone();
    let draw_ste = move |area: &Area, th: &ChartTheme| {
        let ste = ste.as_ref().map_err(Clone::clone)?;
        let fmt = |y: &f64| tick(*y);
        let mut chart = cartesian(
            area,
            th,
            "x",
            app.t(Msg::SteForward),
            -2.5..2.5,
            -2.8..2.8,
            &fmt,
        )?;
        line(
            &mut chart,
            th,
            ste.iter()
                .map(|p| (f64::from(p.x), f64::from(p.forward)))
                .collect(),
            th.color(0),
            2.5,
        )?;
        line(
            &mut chart,
            th,
            ste.iter()
                .map(|p| (f64::from(p.x), f64::from(p.surrogate)))
                .collect(),
            th.color(1),
            1.5,
        )?;
        let font = ("system-ui, sans-serif", 12.0 * th.dpr).into_font();
        chart
            .draw_series(std::iter::once(Text::new(
                "round(x)",
                (-2.3, 2.3),
                font.clone().color(&th.color(0)),
            )))
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(Text::new(
                app.t(Msg::SteIdentity).to_string(),
                (-2.3, 1.8),
                font.color(&th.color(1)),
            )))
            .map_err(de)?;
        Ok(())
    };
    let draw_ste_grad = move |area: &Area, th: &ChartTheme| {
        let ste2 = ste2.as_ref().map_err(Clone::clone)?;
        let fmt = |y: &f64| tick(*y);
        let mut chart = cartesian(
            area,
            th,
            "x",
            app.t(Msg::SteGradient),
            -2.5..2.5,
            -0.2..1.4,
            &fmt,
        )?;
        line(
            &mut chart,
            th,
            ste2.iter()
                .map(|p| (f64::from(p.x), f64::from(p.true_grad)))
                .collect(),
            th.color(0),
            2.5,
        )?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                ste2.iter()
                    .map(|p| (f64::from(p.x), f64::from(p.ste_grad)))
                    .collect::<Vec<_>>(),
                th.color(1).stroke_width(th.px(2.5)),
            )))
            .map_err(de)?;
        let font = ("system-ui, sans-serif", 12.0 * th.dpr).into_font();
        chart
            .draw_series(std::iter::once(Text::new(
                app.t(Msg::SteTrueGrad).to_string(),
                (-2.3, 0.15),
                font.clone().color(&th.color(0)),
            )))
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(Text::new(
                app.t(Msg::SteUsedGrad).to_string(),
                (-2.3, 1.2),
                font.color(&th.color(1)),
            )))
            .map_err(de)?;
        Ok(())
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::SteTitle)}</h2>
            <p>{move || app.t(Msg::SteIntro)}</p>
            <div class="grid-2">
                <Chart id="ste-chart" caption=Signal::derive(move || app.t(Msg::SteCaption).to_string()) aspect=0.7 draw=draw_ste/>
                <Chart id="ste-grad-chart" caption=Signal::derive(move || app.t(Msg::SteGradCaption).to_string()) aspect=0.7 draw=draw_ste_grad/>
            </div>
        </section>
    }
}
