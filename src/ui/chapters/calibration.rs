//! Chapter 4, "Range calibration (PTQ)": the calibrators side by side on the same data, and
//! dynamic vs static quantization on a stream of batches that drifts and carries an outlier.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use plotters::prelude::{Color, IntoFont, PathElement};

use super::quant_common::{fmt_num, scheme_controls, QuantSetup};
use crate::lens;
use crate::ui::data::DataPicker;
use crate::ui::dom;
use crate::ui::job::Job;
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{de, Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{cartesian, decade_tick, histogram_bars, line, tick, vline};
use crate::ui::widgets::{Chart, ErrorNote, Segmented, Slider};
use crate::ui::Shared;
use quantlab_app::controls::{StreamSpeed, CALIB_BATCHES, DRIFT, PERCENTILE};
use quantlab_app::datasets::{stream_batches, Tensor};
use quantlab_app::i18n::Msg;
use quantlab_engine::{
    calibrate, histogram, round_trip_metrics, Calibration, Calibrator, Histogram, NonFinitePolicy,
    QParams, QuantError, Scheme,
};

/// Batches in the stream; static quantization may calibrate on any number of them.
pub const BATCHES: usize = CALIB_BATCHES.max as usize;
/// The batch that carries the surprise outlier.
pub const OUTLIER_BATCH: usize = 11;

/// One calibrator's result on the current data, or why it could not run there.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    name: String,
    cal: Result<Calibration, String>,
}

/// The calibrators the chapter compares, the percentile and moving-average batch from the page.
fn methods(pct: f64, batch: usize) -> [(String, Calibrator); 5] {
    [
        ("min-max".into(), Calibrator::MinMax),
        (
            "moving avg (0.01)".into(),
            Calibrator::MovingAverage {
                momentum: 0.01,
                batch_size: batch.max(1),
            },
        ),
        (
            format!("percentile {}", fmt_num(pct, 6)),
            Calibrator::Percentile { p: pct },
        ),
        ("MSE".into(), Calibrator::Mse),
        ("KL (entropy)".into(), Calibrator::Entropy),
    ]
}

/// Per-batch MSE of static (range from the first `n` batches) and dynamic (range per batch)
/// quantization.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamResult {
    pub static_mse: Vec<f64>,
    pub dynamic_mse: Vec<f64>,
    pub static_range: (f32, f32),
    pub clipped_static: Vec<f64>,
}

fn run_stream(
    batches: &[Vec<f32>],
    n_calib: usize,
    scheme: &Scheme,
) -> Result<StreamResult, QuantError> {
    let minmax = |b: &[f32]| {
        b.iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), v| {
                (l.min(v), h.max(v))
            })
    };
    let (lo, hi) = batches
        .iter()
        .take(n_calib.max(1))
        .map(|b| minmax(b))
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), (a, b)| {
            (l.min(a), h.max(b))
        });
    let ps = QParams::from_observed(lo, hi, scheme)?;
    let mut out = StreamResult {
        static_mse: vec![],
        dynamic_mse: vec![],
        static_range: (lo, hi),
        clipped_static: vec![],
    };
    for b in batches {
        let ms = round_trip_metrics(b, &ps, scheme, NonFinitePolicy::Skip)?;
        let (l, h) = minmax(b);
        let pd = QParams::from_observed(l, h, scheme)?;
        let md = round_trip_metrics(b, &pd, scheme, NonFinitePolicy::Skip)?;
        out.static_mse.push(ms.mse);
        out.clipped_static.push(ms.clipped_fraction);
        out.dynamic_mse.push(md.mse);
    }
    Ok(out)
}

/// Microseconds of the extra min/max pass dynamic quantization makes over one batch, measured
/// here and now (best of several repetitions).
fn minmax_cost_us(batch: &[f32]) -> f64 {
    let mut best = f64::INFINITY;
    let mut sink = 0.0f32;
    for _ in 0..5 {
        let t0 = dom::now_ms();
        let reps = 50;
        for _ in 0..reps {
            let (l, h) = batch
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                    (l.min(v), h.max(v))
                });
            sink += l + h;
        }
        best = best.min((dom::now_ms() - t0) * 1000.0 / reps as f64);
    }
    std::hint::black_box(sink);
    best
}

#[component]
pub fn CalibrationChapter() -> impl IntoView {
    let app = use_app();
    let setup = QuantSetup::new(lens!(calibration.data), lens!(calibration.scheme), None);
    view! {
        <section class="card intro">
            <p>{move || app.t(Msg::CalibIntro)}</p>
        </section>
        <section class="card">
            <DataPicker data=lens!(calibration.data)/>
            {scheme_controls(lens!(calibration.scheme), setup)}
        </section>
        <CalibratorsSection setup/>
        <StreamSection setup/>
    }
}

/// Every calibrator on the same data: its range over the histogram, and its errors.
#[component]
fn CalibratorsSection(setup: QuantSetup) -> impl IntoView {
    let app = use_app();
    let pct = Memo::new(move |_| app.ctl(|c| c.calibration.pct));
    let rows = RwSignal::new(Vec::<Row>::new());
    let job = Job::new();

    // All calibrators on the current data, one per slice (MSE and KL take tens of ms each).
    Effect::new(move |_| {
        let (Some(t), Ok(scheme)) = (setup.tensor.get(), setup.scheme.get()) else {
            job.cancel();
            rows.set(Vec::new());
            return;
        };
        let data: Arc<Tensor> = t.0.clone();
        let list = methods(pct.get(), data.rows_cols().1);
        job.collect(
            list.len(),
            move |i| {
                let (name, c) = list.get(i)?;
                let cal = calibrate(&data.data, &scheme, c).map_err(|e| e.to_string());
                Some(Row {
                    name: name.clone(),
                    cal,
                })
            },
            rows,
        );
    });

    let hist = Memo::new(move |_| {
        let t = setup.tensor.get()?;
        let (lo, hi) = setup.view.get();
        histogram(&t.0.data, 160, lo as f32, hi as f32)
            .ok()
            .map(Shared::new)
    });
    let table = move || {
        rows.get()
            .into_iter()
            .map(|r| {
                let cal = match &r.cal {
                    Ok(cal) => cal.clone(),
                    // This calibrator cannot run on this data: say why in its row.
                    Err(e) => {
                        return view! { <tr><td>{r.name.clone()}</td><td class="left control-error" colspan="6">{e.clone()}</td></tr> }.into_any();
                    }
                };
                let m = cal.metrics;
                view! {
                    <tr>
                        <td>{r.name.clone()}</td>
                        <td>{fmt_num(f64::from(cal.alpha), 5)}</td>
                        <td>{fmt_num(f64::from(cal.beta), 5)}</td>
                        <td>{fmt_num(f64::from(cal.params.scale), 4)}</td>
                        <td>{fmt_num(m.mse, 4)}</td>
                        <td>{format!("{:.2}", m.sqnr_db)}</td>
                        <td>{format!("{:.4} %", 100.0 * m.clipped_fraction)}</td>
                    </tr>
                }
                .into_any()
            })
            .collect_view()
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::CalibratorsTitle)}</h2>
            <Chart id="calibrators-chart" caption=Signal::derive(move || app.t(Msg::CalibratorsCaption).to_string()) aspect=0.42 draw=move |a: &Area, th: &ChartTheme| match hist.get() {
                Some(h) => rows.with(|r| draw_calibrators(a, th, &h, setup.view.get(), r, app)),
                None => Err(app.t(Msg::DataWaiting).to_string()),
            }/>
            <Slider label=Signal::derive(move || app.t(Msg::PercentileSlider).to_string()) value=Signal::derive(move || pct.get())
                min=PERCENTILE.min max=PERCENTILE.max step=PERCENTILE.step testid="percentile-slider"
                format=Callback::new(move |v: f64| format!("p = {}", fmt_num(v, 6)))
                on_change=Callback::new(move |v: f64| {
                    app.set_ctl(|c| c.calibration.pct = PERCENTILE.snap(v));
                    true
                })/>
            <Show when=move || job.running()>
                <p class="loading"><span class="spinner"></span>{move || app.t(Msg::Computing)}</p>
            </Show>
            <div class="table-scroll">
                <table class="data" data-testid="calibrators-table">
                    <thead><tr>
                        <th>{move || app.t(Msg::Method)}</th><th>"α"</th><th>"β"</th><th>"s"</th><th>"MSE"</th><th>"SQNR (dB)"</th><th>{move || app.t(Msg::ClippedPct)}</th>
                    </tr></thead>
                    <tbody>{table}</tbody>
                </table>
            </div>
            <p class="muted small">{move || app.t(Msg::CalibratorsNote)}</p>
        </section>
    }
}

/// Static against dynamic quantization on a stream of batches that drifts and has an outlier.
#[component]
fn StreamSection(setup: QuantSetup) -> impl IntoView {
    let app = use_app();
    let n_calib = Memo::new(move |_| usize::from(app.ctl(|c| c.calibration.calib)));
    let drift = Memo::new(move |_| app.ctl(|c| c.calibration.drift));
    let batches = Memo::new(move |_| {
        let t = setup.tensor.get()?;
        Some(Shared::new(stream_batches(
            &t.0.data,
            t.0.rows_cols(),
            BATCHES,
            drift.get(),
            Some(OUTLIER_BATCH),
        )))
    });
    let stream = Memo::new(move |_| {
        let b = batches.get()?;
        let scheme = setup.scheme.get().ok()?;
        Some(
            run_stream(&b, n_calib.get(), &scheme)
                .map(Shared::new)
                .map_err(|e| e.to_string()),
        )
    });
    let shown = RwSignal::new(BATCHES);
    let playing = RwSignal::new(false);
    let speed = Memo::new(move |_| app.ctl(|c| c.calibration.speed));
    let timer = StoredValue::new(None::<IntervalHandle>);
    let stop = move || {
        if let Some(h) = timer.get_value() {
            h.clear();
        }
        timer.set_value(None);
        playing.set(false);
    };
    let play = move || {
        stop();
        if shown.get_untracked() >= BATCHES {
            shown.set(0);
        }
        playing.set(true);
        let h = set_interval_with_handle(
            move || {
                let n = shown.get_untracked() + 1;
                shown.set(n.min(BATCHES));
                if n >= BATCHES {
                    if let Some(h) = timer.get_value() {
                        h.clear();
                    }
                    timer.set_value(None);
                    playing.set(false);
                }
            },
            Duration::from_millis(speed.get_untracked().interval_ms()),
        )
        .ok();
        timer.set_value(h);
    };
    on_cleanup(move || {
        if let Some(h) = timer.try_get_value().flatten() {
            h.clear();
        }
    });

    let minmax_us = Memo::new(move |_| {
        let b = batches.get()?;
        let first = b.first()?;
        Some((minmax_cost_us(first), first.len()))
    });

    view! {
            <section class="card">
                <h2>{move || app.t(Msg::StreamTitle)}</h2>
                <p>{move || app.t(Msg::StreamIntro)}</p>
                <div class="controls">
                    <button type="button" class="tool accent" data-testid="stream-play" on:click=move |_| if playing.get_untracked() { stop() } else { play() }>
                        {move || if playing.get() { app.t(Msg::Pause) } else { app.t(Msg::Play) }}
                    </button>
    <Segmented label=Signal::derive(move || app.t(Msg::Speed).to_string())
                        value=Signal::derive(move || speed.get())
                        on_change=Callback::new(move |v: StreamSpeed| {
                            app.set_ctl(|c| c.calibration.speed = v);
                            if playing.get_untracked() { play(); }
                        })
                        testid="stream-speed"/>
                    <span class="muted" data-testid="stream-step">{move || Msg::BatchOf.fill(app.lang(), &[&shown.get().to_string(), &BATCHES.to_string()])}</span>
                </div>
                <Chart id="stream-chart" caption=Signal::derive(move || app.t(Msg::StreamCaption).to_string()) aspect=0.45 draw=move |a: &Area, th: &ChartTheme| match stream.get() {
                    Some(Ok(s)) => draw_stream(a, th, &s, (shown.get(), n_calib.get()), app),
                    Some(Err(e)) => Err(e),
                    None => Err(app.t(Msg::DataWaiting).to_string()),
                }/>
                <div class="controls">
                    <Slider label=Signal::derive(move || app.t(Msg::CalibBatches).to_string()) value=Signal::derive(move || n_calib.get() as f64)
                        min=CALIB_BATCHES.min as f64 max=CALIB_BATCHES.max as f64 step=1.0 testid="calib-batches"
                        format=Callback::new(move |v: f64| format!("N = {v}"))
                        on_change=Callback::new(move |v: f64| {
                            app.set_ctl(|c| c.calibration.calib = v.round() as u8);
                            true
                        })/>
                    <Slider label=Signal::derive(move || app.t(Msg::Drift).to_string()) value=Signal::derive(move || drift.get())
                        min=DRIFT.min max=DRIFT.max step=DRIFT.step testid="drift-slider"
                        format=Callback::new(move |v: f64| format!("+{:.0} %", v * 100.0))
                        on_change=Callback::new(move |v: f64| {
                            app.set_ctl(|c| c.calibration.drift = DRIFT.snap(v));
                            true
                        })/>
                </div>
                <ErrorNote error=Signal::derive(move || stream.get().and_then(|s| s.err()))/>
                <p data-testid="stream-summary">{move || stream.get().and_then(|s| s.ok()).map(|s| {
                    let mean = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
                    Msg::StreamSummary.fill(app.lang(), &[
                        &fmt_num(f64::from(s.static_range.0), 4), &fmt_num(f64::from(s.static_range.1), 4),
                        &fmt_num(mean(&s.static_mse), 3), &fmt_num(mean(&s.dynamic_mse), 3),
                    ])
                })}</p>
                <p data-testid="dynamic-cost">{move || minmax_us.get().map(|(us, n)| Msg::DynamicCost.fill(app.lang(), &[&format!("{us:.1}"), &n.to_string()]))}</p>
            </section>
        }
}

/// The data's histogram (log counts) with each calibrator's [α, β] as a bracket above it.
fn draw_calibrators(
    area: &Area,
    th: &ChartTheme,
    h: &Histogram,
    view: (f64, f64),
    rows: &[Row],
    app: AppState,
) -> DrawResult {
    let (v0, v1) = view;
    let bins: Vec<_> = h
        .counts
        .iter()
        .enumerate()
        .map(|(k, &c)| {
            (
                h.edge(k),
                h.edge(k + 1),
                if c == 0 {
                    0.0
                } else {
                    1.0 + f64::from(c).log10()
                },
            )
        })
        .collect();
    let top = bins.iter().map(|b| b.2).fold(1.0, f64::max) * 1.35;
    let fmt = |y: &f64| {
        if (y - y.round()).abs() < 0.05 && *y >= 1.0 {
            tick(10f64.powf(y - 1.0).round())
        } else {
            String::new()
        }
    };
    let mut chart = cartesian(area, th, "x", app.t(Msg::CountLog), v0..v1, 0.0..top, &fmt)?;
    histogram_bars(&mut chart, th, &bins, th.muted, 0.45)?;
    for (i, (r, cal)) in rows
        .iter()
        .filter_map(|r| Some((r, r.cal.as_ref().ok()?)))
        .enumerate()
    {
        let c = th.color(i);
        let y = top * (0.97 - 0.06 * i as f64);
        let (a, b) = (f64::from(cal.alpha).max(v0), f64::from(cal.beta).min(v1));
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(a, y), (b, y)],
                c.stroke_width(th.px(3.0)),
            )))
            .map_err(de)?;
        vline(&mut chart, th, a, c, "", true)?;
        vline(&mut chart, th, b, c, "", true)?;
        let font = ("system-ui, sans-serif", 11.0 * th.dpr)
            .into_font()
            .color(&c);
        chart
            .draw_series(std::iter::once(plotters::prelude::Text::new(
                r.name.clone(),
                (b, y),
                font,
            )))
            .map_err(de)?;
    }
    Ok(())
}

/// Per-batch MSE of static and dynamic quantization for the first `n` batches of the stream,
/// the calibration batches shaded.
fn draw_stream(
    area: &Area,
    th: &ChartTheme,
    s: &StreamResult,
    (n, n_calib): (usize, usize),
    app: AppState,
) -> DrawResult {
    let all: Vec<f64> = s
        .static_mse
        .iter()
        .chain(s.dynamic_mse.iter())
        .copied()
        .filter(|v| *v > 0.0)
        .collect();
    let lo = all
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .max(1e-30)
        .log10()
        .floor();
    let hi = all
        .iter()
        .copied()
        .fold(0.0, f64::max)
        .max(1e-30)
        .log10()
        .ceil()
        + 0.3;
    let fmt = decade_tick;
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::BatchAxis),
        app.t(Msg::MseLog),
        0.5..(BATCHES as f64 + 0.5),
        lo..hi,
        &fmt,
    )?;
    let k = n_calib as f64;
    chart
        .draw_series(std::iter::once(plotters::prelude::Rectangle::new(
            [(0.5, lo), (k + 0.5, hi)],
            th.color(2).mix(0.12).filled(),
        )))
        .map_err(de)?;
    let pts = |v: &Vec<f64>| {
        v.iter()
            .take(n)
            .enumerate()
            .map(|(i, m)| ((i + 1) as f64, m.max(1e-30).log10().max(lo)))
            .collect::<Vec<_>>()
    };
    line(&mut chart, th, pts(&s.static_mse), th.color(3), 2.5)?;
    line(&mut chart, th, pts(&s.dynamic_mse), th.color(0), 2.5)?;
    for (series, color) in [(&s.static_mse, th.color(3)), (&s.dynamic_mse, th.color(0))] {
        chart
            .draw_series(
                pts(series)
                    .into_iter()
                    .map(|p| plotters::prelude::Circle::new(p, th.px(3.5) as i32, color.filled())),
            )
            .map_err(de)?;
    }
    if n > OUTLIER_BATCH {
        vline(
            &mut chart,
            th,
            (OUTLIER_BATCH + 1) as f64,
            th.muted,
            app.t(Msg::OutlierBatch),
            true,
        )?;
    }
    Ok(())
}
