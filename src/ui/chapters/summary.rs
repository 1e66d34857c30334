//! Chapter 9, "Summary": the seminar's closing slide, measured — every method on the same real
//! layer and bit width, with what each needs (calibration data, training) and what it costs at
//! run time.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use plotters::prelude::{Color, IntoFont, Rectangle, Text};

use quantlab_app::chapters::Chapter;
use quantlab_app::controls::LayerBits;
use quantlab_app::i18n::Msg;
use quantlab_engine::linear::{ActGranularity, LayerQuant, WeightGranularity};
use quantlab_engine::rotate::{LearnConfig, Learner, Rotated, Rotation};
use quantlab_engine::smooth::{SmoothPoint, Sweep};

use super::qat::use_qat_results;
use super::smoothquant::SWEEP_POINTS;
use crate::lens;
use crate::ui::data::{use_data, LayerPicker};
use crate::ui::job::Job;
use crate::ui::state::use_app;
use crate::ui::widgets::chart::{de, Area, ChartTheme};
use crate::ui::widgets::plot::cartesian;
use crate::ui::widgets::{Chart, Segmented};

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

#[derive(Clone, Debug, PartialEq)]
struct Row {
    method: Method,
    rel_err: Option<f64>,
    note: Option<String>,
}

#[component]
pub fn SummaryChapter() -> impl IntoView {
    let app = use_app();
    let store = use_data();
    let layer = Memo::new(move |_| store.layer(app.ctl(|c| c.summary.layer)));
    let data = Memo::new(move |_| layer.get().data().map(crate::ui::Shared));
    let bits = Memo::new(move |_| app.ctl(|c| c.summary.bits));
    let rows = RwSignal::new(Vec::<Row>::new());
    let job = Job::new();

    Effect::new(move |_| {
        let (Some(d), (w, a)) = (data.get(), bits.get().bits()) else {
            job.cancel();
            rows.set(Vec::new());
            return;
        };
        let token = LayerQuant::new(w, a, ActGranularity::PerToken);
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
        let learner: Rc<RefCell<Option<Learner>>> = Rc::new(RefCell::new(None));
        let alphas = Rc::new(RefCell::new(Vec::<SmoothPoint>::with_capacity(
            SWEEP_POINTS,
        )));
        let too_big =
            Msg::RandomTooBig.fill(app.lang(), &[&d.case.case().in_channels().to_string()]);
        // Steps: 3 plain settings, the SmoothQuant chapter's α sweep, Hadamard, random, learner
        // set-up + its steps.
        const SWEEP_END: usize = 3 + SWEEP_POINTS;
        let n_steps = SWEEP_END + 2 + 1 + LEARN_STEPS;
        job.start(
            n_steps,
            move |i| {
                let case = d.case.case();
                let err = |cfg: &LayerQuant| {
                    case.error(cfg)
                        .map(|e| e.rel_err)
                        .map_err(|e| e.to_string())
                };
                match i {
                    0 => set(
                        Method::PerTensor,
                        err(&LayerQuant::new(w, a, ActGranularity::PerTensor)),
                    ),
                    1 => set(Method::PerToken, err(&token)),
                    2 => set(
                        Method::WeightsOnly,
                        err(&LayerQuant::new(w, a, ActGranularity::Float)
                            .with_weights(WeightGranularity::PerOutputChannel)),
                    ),
                    3..SWEEP_END => {
                        let alpha = (i - 3) as f32 / (SWEEP_POINTS - 1) as f32;
                        match d.case.error_at(alpha, &token) {
                            Ok(error) => alphas.borrow_mut().push(SmoothPoint { alpha, error }),
                            Err(e) => set(Method::SmoothQuant, Err(e.to_string())),
                        }
                        if i + 1 == SWEEP_END {
                            let points = alphas.take();
                            match d.case.baseline(&token) {
                                Ok(base) if !points.is_empty() => set(
                                    Method::SmoothQuant,
                                    Ok(Sweep::from_points(token, base, points).best_rel_err),
                                ),
                                Ok(_) => {}
                                Err(e) => set(Method::SmoothQuant, Err(e.to_string())),
                            }
                        }
                    }
                    SWEEP_END => set(
                        Method::Hadamard,
                        Rotated::new(case, &Rotation::Hadamard)
                            .and_then(|r| r.error(case, &token))
                            .map(|e| e.rel_err)
                            .map_err(|e| e.to_string()),
                    ),
                    x if x == SWEEP_END + 1 => {
                        if case.in_channels() > 512 {
                            set(Method::Random, Err(too_big.clone()));
                        } else {
                            set(
                                Method::Random,
                                Rotated::new(case, &Rotation::Random(0))
                                    .and_then(|r| r.error(case, &token))
                                    .map(|e| e.rel_err)
                                    .map_err(|e| e.to_string()),
                            );
                        }
                    }
                    x if x == SWEEP_END + 2 => match Learner::new(
                        case,
                        &Rotation::Hadamard,
                        LearnConfig {
                            quant: token,
                            ..LearnConfig::default()
                        },
                    ) {
                        Ok(l) => *learner.borrow_mut() = Some(l),
                        Err(e) => set(Method::Learned, Err(e.to_string())),
                    },
                    _ => {
                        let mut l = learner.borrow_mut();
                        if let Some(l) = l.as_mut() {
                            if l.step(1).is_ok() && i + 1 == n_steps {
                                set(
                                    Method::Learned,
                                    l.error(case, &token)
                                        .map(|e| e.rel_err)
                                        .map_err(|e| e.to_string()),
                                );
                            }
                        }
                    }
                }
            },
            || {},
        );
    });

    let draw = move |area: &Area, th: &ChartTheme| {
        let r = rows.get();
        let vals: Vec<(usize, f64)> = r
            .iter()
            .enumerate()
            .filter_map(|(i, x)| x.rel_err.map(|v| (i, v)))
            .collect();
        if vals.is_empty() {
            return Err(app.t(Msg::Computing).to_string());
        }
        let top = vals.iter().map(|v| v.1).fold(1e-9, f64::max) * 1.2;
        let n = r.len() as f64;
        let fmt = |y: &f64| format!("{:.1} %", y * 100.0);
        let mut chart = cartesian(
            area,
            th,
            app.t(Msg::SumMethodAxis),
            app.t(Msg::OutputError),
            -0.6..(n - 0.4),
            0.0..top,
            &fmt,
        )?;
        for (i, v) in vals {
            let c = th.color(i % 6);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(i as f64 - 0.35, 0.0), (i as f64 + 0.35, v)],
                    c.filled(),
                )))
                .map_err(de)?;
            let font = ("system-ui, sans-serif", 11.0 * th.dpr)
                .into_font()
                .color(&th.fg);
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{:.2}%", v * 100.0),
                    (i as f64 - 0.3, v + top * 0.02),
                    font,
                )))
                .map_err(de)?;
        }
        Ok(())
    };

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
                        <td>{move || app.t(calib)}</td>
                        <td>{move || app.t(train)}</td>
                        <td class="left">{move || app.t(cost)}</td>
                        <td><a href=format!("?ch={}", ch.slug()) on:click=move |e: leptos::ev::MouseEvent| { e.prevent_default(); app.go(ch); }>{move || app.t(ch.title())}</a></td>
                    </tr>
                }
            })
            .collect_view()
    };

    let qat_rows = use_qat_results().comparison;

    view! {
        <section class="card intro">
            <p>{move || app.t(Msg::SumIntro)}</p>
            <LayerPicker layer=lens!(summary.layer)/>
            <Segmented label=Signal::derive(move || app.t(Msg::Bits).to_string())
                value=Signal::derive(move || bits.get())
                on_change=Callback::new(move |v: LayerBits| app.set_ctl(|c| c.summary.bits = v))
                testid="summary-bits"/>
        </section>
        <section class="card">
            <div class="table-scroll">
                <table class="data summary" data-testid="summary-table">
                    <thead><tr>
                        <th>{move || app.t(Msg::Method)}</th><th>{move || app.t(Msg::OutputError)}</th><th>{move || app.t(Msg::SumCalibData)}</th>
                        <th>{move || app.t(Msg::SumTraining)}</th><th class="left">{move || app.t(Msg::SumRuntime)}</th><th>{move || app.t(Msg::SumChapter)}</th>
                    </tr></thead>
                    <tbody>{table}</tbody>
                </table>
            </div>
            <Show when=move || job.running()>
                <progress max=move || job.progress.get().map(|p| p.1).unwrap_or(1) value=move || job.progress.get().map(|p| p.0).unwrap_or(0)></progress>
            </Show>
            <p class="muted small">{move || app.t(Msg::SumTableNote)}</p>
            <Chart id="summary-chart" caption=Signal::derive(move || app.t(Msg::SumChartCaption).to_string()) aspect=0.42 draw=draw/>
        </section>
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
