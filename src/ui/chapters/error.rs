//! Chapter 3, "Quantization error": the squared error of a round trip splits into a rounding part
//! (grows with s) and a clipping part (grows as [α, β] cuts into the data). Plotted against the
//! clipping range it is a U; each calibrator's choice and the reader's own range sit on it.

use std::sync::Arc;

use leptos::prelude::*;
use plotters::prelude::{Color, IntoFont};

use super::quant_common::{fmt_num, scheme_controls, QuantSetup, Readout};
use crate::lens;
use crate::ui::data::DataPicker;
use crate::ui::job::Job;
use crate::ui::perf;
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{de, Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{cartesian, decade_tick, line, tick, vline};
use crate::ui::widgets::{Chart, ErrorNote, Formula, Slider};
use crate::ui::Shared;
use quantlab_app::controls::CLIP;
use quantlab_app::i18n::Msg;
use quantlab_engine::{
    calibrate, round_trip_metrics, Calibrator, NonFinitePolicy, QParams, QuantError,
    RoundTripMetrics, Scheme,
};

/// Points of the U-curve: clipping ranges t·[min, max] for t over the clip control's range.
const CURVE_POINTS: usize = 90;
const T_MIN: f64 = CLIP.min;
const T_MAX: f64 = CLIP.max;

/// The range t·[min, max] (asymmetric) or t·[−max|x|, max|x|] (symmetric), with PyTorch's rule,
/// the same rule every calibrator uses, so their choices land exactly on the curve.
fn params_at(t: f64, stats: (f64, f64), scheme: &Scheme) -> Result<QParams, QuantError> {
    let (lo, hi) = stats;
    let (a, b) = if scheme.symmetric {
        let m = lo.abs().max(hi.abs());
        (-t * m, t * m)
    } else {
        (t * lo, t * hi)
    };
    QParams::from_observed(a as f32, b as f32, scheme)
}

/// Where a calibrated range sits on the t axis.
fn t_of(alpha: f32, beta: f32, stats: (f64, f64), symmetric: bool) -> f64 {
    let (lo, hi) = stats;
    if symmetric {
        f64::from(beta) / lo.abs().max(hi.abs()).max(1e-30)
    } else if hi > 0.0 {
        f64::from(beta) / hi
    } else {
        f64::from(alpha) / lo.min(-1e-30)
    }
}

#[derive(Clone, Debug)]
struct CurvePoint {
    t: f64,
    m: RoundTripMetrics,
}

/// What the U-curve's sliced computation carries between its steps.
#[derive(Default)]
struct UCurveRun {
    curve: Vec<CurvePoint>,
    marks: Vec<CalMark>,
    /// The first engine error: shown next to the chart rather than a point silently missing.
    error: Option<String>,
}

#[derive(Clone, Debug)]
struct CalMark {
    name: &'static str,
    t: f64,
    mse: f64,
}

fn log_mse(v: f64) -> f64 {
    v.max(1e-30).log10()
}

#[component]
pub fn ErrorChapter() -> impl IntoView {
    let app = use_app();
    let setup = QuantSetup::new(lens!(error.data), lens!(error.scheme), None);
    view! {
        <section class="card intro">
            <div class="formula-row">
                <Formula mathml=Signal::derive(|| crate::formulas::QUANTIZE.to_string())/>
                <Formula mathml=Signal::derive(|| crate::formulas::DEQUANTIZE.to_string())/>
                <Formula mathml=Signal::derive(|| crate::formulas::SCALE_254.to_string())/>
            </div>
            <p>{move || app.t(Msg::ErrorIntro)}</p>
        </section>
        <section class="card">
            <DataPicker data=lens!(error.data)/>
            {scheme_controls(lens!(error.scheme), setup)}
        </section>
        <UCurveSection setup/>
    }
}

/// The U-curve over the clipping range, computed in slices, and the reader's point on it.
#[component]
fn UCurveSection(setup: QuantSetup) -> impl IntoView {
    let app = use_app();
    let t_now = Memo::new(move |_| app.ctl(|c| c.error.clip));
    let curve = RwSignal::new(Vec::<CurvePoint>::new());
    let marks = RwSignal::new(Vec::<CalMark>::new());
    let run_error = RwSignal::new(None::<String>);
    let job = Job::new();

    // Data or scheme changed: recompute the curve and the calibrators, a slice at a time.
    Effect::new(move |_| {
        let (Some(t), Some(st), Ok(scheme)) =
            (setup.tensor.get(), setup.stats.get(), setup.scheme.get())
        else {
            job.cancel();
            curve.set(Vec::new());
            marks.set(Vec::new());
            return;
        };
        let data: Arc<quantlab_app::datasets::Tensor> = t.0.clone();
        let stats = (st.min, st.max);
        let calibrators: [(&'static str, Calibrator); 5] = [
            ("min-max", Calibrator::MinMax),
            ("p99.9", Calibrator::Percentile { p: 99.9 }),
            ("p99.99", Calibrator::Percentile { p: 99.99 }),
            ("MSE", Calibrator::Mse),
            ("KL", Calibrator::Entropy),
        ];
        curve.set(Vec::new());
        marks.set(Vec::new());
        run_error.set(None);
        job.fold(
            UCurveRun::default(),
            CURVE_POINTS + calibrators.len(),
            move |run, i| {
                let failed = if let Some(k) = i.checked_sub(CURVE_POINTS) {
                    let Some((name, c)) = calibrators.get(k) else {
                        return;
                    };
                    perf::time(name, || calibrate(&data.data, &scheme, c)).map(|r| {
                        run.marks.push(CalMark {
                            name,
                            t: t_of(r.alpha, r.beta, stats, scheme.symmetric),
                            mse: r.metrics.mse,
                        })
                    })
                } else {
                    let t = T_MIN + (T_MAX - T_MIN) * i as f64 / (CURVE_POINTS - 1) as f64;
                    params_at(t, stats, &scheme)
                        .and_then(|p| {
                            round_trip_metrics(&data.data, &p, &scheme, NonFinitePolicy::Skip)
                        })
                        .map(|m| run.curve.push(CurvePoint { t, m }))
                };
                if let (Err(e), None) = (failed, &run.error) {
                    run.error = Some(e.to_string());
                }
            },
            move |run| {
                curve.set(run.curve);
                marks.set(run.marks);
                run_error.set(run.error);
            },
        );
    });

    let current = Memo::new(move |_| {
        let (Some(t), Some(st), Ok(scheme)) =
            (setup.tensor.get(), setup.stats.get(), setup.scheme.get())
        else {
            return None;
        };
        let r = params_at(t_now.get(), (st.min, st.max), &scheme).and_then(|p| {
            perf::time("round trip at t", || {
                round_trip_metrics(&t.0.data, &p, &scheme, NonFinitePolicy::Skip)
            })
            .map(|m| Shared::new((p, m)))
        });
        Some(r.map_err(|e| e.to_string()))
    });
    let best = Memo::new(move |_| {
        curve.with(|c| {
            c.iter()
                .min_by(|a, b| a.m.mse.total_cmp(&b.m.mse))
                .map(|p| (p.t, p.m.mse))
        })
    });
    let metric = move |f: fn(&RoundTripMetrics) -> f64| {
        Signal::derive(move || current.get()?.ok().map(|c| f(&c.1)))
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::UCurveTitle)}</h2>
            <p class="muted small">{move || app.t(Msg::UCurveHelp)}</p>
            <Chart id="ucurve-chart" caption=Signal::derive(move || app.t(Msg::UCurveCaption).to_string()) aspect=0.5 draw=move |a: &Area, th: &ChartTheme| {
                let now = (t_now.get(), current.get().and_then(|c| c.ok()).map(|c| c.1.mse));
                curve.with(|c| marks.with(|m| draw_ucurve(a, th, (c, m), now, app)))
            }/>
            <ErrorNote error=run_error testid="ucurve-error"/>
            <ErrorNote error=Signal::derive(move || current.get().and_then(|c| c.err()))/>
            <Show when=move || job.running()>
                <progress data-testid="curve-progress" max=move || job.progress.get().map(|p| p.1).unwrap_or(1) value=move || job.progress.get().map(|p| p.0).unwrap_or(0)></progress>
            </Show>
            <Slider label=Signal::derive(move || app.t(Msg::ClipSlider).to_string()) value=Signal::derive(move || t_now.get())
                min=CLIP.min max=CLIP.max step=CLIP.step testid="clip-slider"
                format=Callback::new(move |v: f64| format!("t = {v:.2}"))
                on_change=Callback::new(move |v: f64| {
                    app.set_ctl(|c| c.error.clip = CLIP.snap(v));
                    true
                })/>
            <div class="readouts">
                <Readout label=Msg::RangeUsed testid="clip-beta" value=Signal::derive(move || {
                    let c = current.get()?.ok()?;
                    let s = setup.scheme.get_untracked().ok()?;
                    Some(f64::from(c.0 .0.effective_range(&s).1))
                }) digits=4/>
                <Readout label=Msg::RoundingMse testid="rounding-mse" value=metric(|m| m.rounding_mse) digits=4/>
                <Readout label=Msg::ClippingMse testid="clipping-mse" value=metric(|m| m.clipping_mse) digits=4/>
                <Readout label=Msg::Mse testid="mse-readout" value=metric(|m| m.mse) digits=4/>
                <Readout label=Msg::Sqnr testid="sqnr-readout" value=metric(|m| m.sqnr_db) digits=3 unit=" dB"/>
                <Readout label=Msg::ScaleS testid="scale-readout" value=Signal::derive(move || current.get()?.ok().map(|c| f64::from(c.0 .0.scale))) digits=4/>
            </div>
            <p data-testid="best-t">{move || best.get().map(|(t, mse)| Msg::BestT.fill(app.lang(), &[&format!("{t:.2}"), &fmt_num(mse, 3)]))}</p>
            <p class="muted">{move || app.t(Msg::ErrorTakeaway)}</p>
        </section>
    }
}

/// The U: rounding, clipping and total MSE against the clipping range t, each calibrator's
/// choice on it, and the reader's t.
fn draw_ucurve(
    area: &Area,
    th: &ChartTheme,
    (pts, marks): (&[CurvePoint], &[CalMark]),
    (tn, now_mse): (f64, Option<f64>),
    app: AppState,
) -> DrawResult {
    if pts.is_empty() {
        return Err(app.t(Msg::Computing).to_string());
    }
    let ys: Vec<f64> = pts
        .iter()
        .flat_map(|p| {
            [
                p.m.mse,
                p.m.rounding_mse.max(1e-30),
                p.m.clipping_mse.max(1e-30),
            ]
        })
        .collect();
    let positive = ys.iter().copied().filter(|v| *v > 0.0);
    let lo = positive
        .clone()
        .fold(f64::INFINITY, f64::min)
        .max(pts.iter().map(|p| p.m.mse).fold(f64::INFINITY, f64::min) * 1e-3);
    let hi = ys.iter().copied().fold(0.0, f64::max);
    let (y0, y1) = (log_mse(lo).floor(), log_mse(hi).ceil() + 0.2);
    let fmt = decade_tick;
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::ClipAxis),
        app.t(Msg::MseLog),
        T_MIN..T_MAX,
        y0..y1,
        &fmt,
    )?;
    let series = |f: fn(&RoundTripMetrics) -> f64| -> Vec<(f64, f64)> {
        pts.iter()
            .filter(|p| f(&p.m) > 0.0)
            .map(|p| (p.t, log_mse(f(&p.m)).max(y0)))
            .collect()
    };
    line(&mut chart, th, series(|m| m.rounding_mse), th.color(0), 2.0)?;
    line(&mut chart, th, series(|m| m.clipping_mse), th.color(3), 2.0)?;
    line(&mut chart, th, series(|m| m.mse), th.fg, 3.0)?;
    for (i, m) in marks.iter().enumerate() {
        let color = th.color(1 + (i % 5));
        let t = m.t.clamp(T_MIN, T_MAX);
        vline(&mut chart, th, t, color, "", true)?;
        let y = log_mse(m.mse).clamp(y0, y1);
        chart
            .draw_series(std::iter::once(plotters::prelude::Circle::new(
                (t, y),
                th.px(4.0) as i32,
                color.filled(),
            )))
            .map_err(de)?;
        // Labels stack from the top so close calibrators (often MSE and KL) stay readable.
        let font = ("system-ui, sans-serif", 12.0 * th.dpr)
            .into_font()
            .color(&color);
        let ly = y1 - (y1 - y0) * 0.07 * (i as f64 + 1.0);
        chart
            .draw_series(std::iter::once(plotters::prelude::Text::new(
                format!(" {} (t = {})", m.name, tick((m.t * 100.0).round() / 100.0)),
                (t, ly),
                font,
            )))
            .map_err(de)?;
    }
    vline(
        &mut chart,
        th,
        tn,
        th.color(2),
        app.t(Msg::YourRange),
        false,
    )?;
    if let Some(mse) = now_mse {
        chart
            .draw_series(std::iter::once(plotters::prelude::Circle::new(
                (tn, log_mse(mse)),
                th.px(5.0) as i32,
                th.color(2).filled(),
            )))
            .map_err(de)?;
    }
    Ok(())
}
