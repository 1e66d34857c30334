//! Chapter 7, "SmoothQuant": move part of the activations' difficulty into the weights, channel
//! by channel, with s_j = max|X_j|^α / max|W_j|^(1−α); the output is unchanged in float
//! ("변동성 이전 전후 동일") and far easier to quantize. Numbers follow the authors' smooth.py
//! and fake_quant.py (see `engine::smooth`).

use leptos::prelude::*;
use plotters::prelude::{Color, IntoFont, PathElement, Text};

use quantlab_app::controls::{layer_quant, ActScale, LayerBits, ALPHA};
use quantlab_app::i18n::Msg;
use quantlab_engine::linear::{FloatDeviation, LayerError};
use quantlab_engine::smooth::{SmoothPoint, Sweep};
use quantlab_engine::QuantError;

use crate::lens;
use crate::ui::data::{LayerData, LayerPicker};
use crate::ui::job::Job;
use crate::ui::perf;
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{de, Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{cartesian, heatmap, line, tick, vline};
use crate::ui::widgets::{error_text, Chart, ErrorNote, Formula, Segmented, Slider};
use crate::ui::Shared;

pub const SWEEP_POINTS: usize = 21;

fn pct(v: f64) -> String {
    format!("{:.3} %", v * 100.0)
}

/// Per-channel bars of two series (X and W maxima) on one axis, channels sorted by the first
/// series of the "before" panel so before/after line up.
struct TwinBars<'a> {
    order: &'a [usize],
    a: &'a [f32],
    b: &'a [f32],
    /// The y range of both panels, so that before and after compare by eye.
    top: f64,
}

fn twin_bars(
    area: &Area,
    th: &ChartTheme,
    bars: TwinBars<'_>,
    x_label: &str,
    y_label: &str,
) -> Result<(), String> {
    let TwinBars { order, a, b, top } = bars;
    let n = order.len().max(1) as f64;
    let fmt = |y: &f64| tick(*y);
    let mut chart = cartesian(area, th, x_label, y_label, 0.0..n, 0.0..top, &fmt)?;
    let bars = |v: &[f32]| {
        order
            .iter()
            .enumerate()
            .filter_map(|(i, &c)| v.get(c).map(|&y| (i as f64, i as f64 + 1.0, f64::from(y))))
            .collect::<Vec<_>>()
    };
    crate::ui::widgets::plot::histogram_bars(&mut chart, th, &bars(a), th.color(0), 0.75)?;
    crate::ui::widgets::plot::histogram_bars(&mut chart, th, &bars(b), th.color(1), 0.75)?;
    let font = ("system-ui, sans-serif", 12.0 * th.dpr).into_font();
    chart
        .draw_series(std::iter::once(Text::new(
            "max |X_j|",
            (n * 0.6, top * 0.9),
            font.clone().color(&th.color(0)),
        )))
        .map_err(de)?;
    chart
        .draw_series(std::iter::once(Text::new(
            "max |W_j|",
            (n * 0.6, top * 0.8),
            font.color(&th.color(1)),
        )))
        .map_err(de)?;
    Ok(())
}

type Computed<T> = Memo<Option<Result<T, String>>>;

/// Everything the chapter derives from the layer, α and the bits, shared by its sections.
#[derive(Clone, Copy)]
struct SmoothState {
    loaded: Memo<crate::ui::data::LayerLoaded>,
    data: Memo<Option<Shared<LayerData>>>,
    alpha: Memo<f64>,
    bits: Memo<LayerBits>,
    act: Memo<ActScale>,
    scales: Computed<Shared<Vec<f32>>>,
    current: Memo<Option<Result<LayerError, QuantError>>>,
    baseline: Computed<LayerError>,
    identity: Computed<FloatDeviation>,
    /// The α sweep, filled in slices by `job`; its first engine error in `sweep_error`.
    sweep: RwSignal<Vec<SmoothPoint>>,
    sweep_error: RwSignal<Option<String>>,
    job: Job,
    /// (α, error) of the sweep's best point, exactly as the engine's sweep (and the summary)
    /// picks it.
    best: Memo<Option<(f32, f64)>>,
}

impl SmoothState {
    fn new(app: AppState) -> Self {
        let layer = crate::ui::data::chapter_layer(lens!(smooth.layer), lens!(smooth.own));
        let data = Memo::new(move |_| layer.get().data().map(Shared));
        let alpha = Memo::new(move |_| app.ctl(|c| c.smooth.alpha));
        let bits = Memo::new(move |_| app.ctl(|c| c.smooth.bits));
        let act = Memo::new(move |_| app.ctl(|c| c.smooth.act));
        let cfg = Memo::new(move |_| layer_quant(bits.get(), act.get()));
        let text = |e: QuantError| e.to_string();
        let scales = Memo::new(move |_| {
            let d = data.get()?;
            Some(
                d.case
                    .scales(alpha.get() as f32)
                    .map(Shared::new)
                    .map_err(text),
            )
        });
        let current = Memo::new(move |_| {
            let (d, c, a) = (data.get()?, cfg.get(), alpha.get() as f32);
            Some(perf::time("smooth + quantize + GEMM + error", || {
                d.case.error_at(a, &c)
            }))
        });
        let baseline =
            Memo::new(move |_| Some(data.get()?.case.baseline(&cfg.get()).map_err(text)));
        let identity = Memo::new(move |_| {
            Some(
                data.get()?
                    .case
                    .identity_check(alpha.get() as f32)
                    .map_err(text),
            )
        });
        let (sweep, sweep_error, job) =
            (RwSignal::new(Vec::new()), RwSignal::new(None), Job::new());
        // The α sweep: 21 points, one per slice, recomputed when the layer or the bits change.
        Effect::new(move |_| {
            let (Some(d), c) = (data.get(), cfg.get()) else {
                job.cancel();
                sweep.set(Vec::new());
                return;
            };
            sweep.set(Vec::new());
            sweep_error.set(None);
            job.fold(
                (Vec::with_capacity(SWEEP_POINTS), None::<String>),
                SWEEP_POINTS,
                move |(points, error), i| {
                    let alpha = i as f32 / (SWEEP_POINTS - 1) as f32;
                    match d.case.error_at(alpha, &c) {
                        Ok(e) => points.push(SmoothPoint { alpha, error: e }),
                        Err(e) => {
                            error.get_or_insert(e.to_string());
                        }
                    }
                },
                move |(points, error)| {
                    sweep.set(points);
                    sweep_error.set(error);
                },
            );
        });
        let best = Memo::new(move |_| {
            let (points, base) = (sweep.get(), baseline.get()?.ok()?);
            let s = Sweep::from_points(cfg.get(), base, points);
            s.best_rel_err
                .is_finite()
                .then_some((s.best_alpha, s.best_rel_err))
        });
        SmoothState {
            loaded: layer,
            data,
            alpha,
            bits,
            act,
            scales,
            current,
            baseline,
            identity,
            sweep,
            sweep_error,
            job,
            best,
        }
    }
}

#[component]
pub fn SmoothQuantChapter() -> impl IntoView {
    let app = use_app();
    let st = SmoothState::new(app);
    view! {
        <section class="card intro">
            <p class="big-question">"SmoothQuant (PMLR'23)"</p>
            <ul class="bullets">
                <li>{move || app.t(Msg::SqPtq)}</li>
                <li>{move || app.t(Msg::SqAssumption)}</li>
                <li>{move || app.t(Msg::SqIdea)}</li>
            </ul>
            <div class="formula-row">
                <Formula mathml=Signal::derive(|| crate::formulas::SMOOTH_SCALE.to_string())/>
                <Formula mathml=Signal::derive(|| crate::formulas::SMOOTH_IDENTITY.to_string())/>
            </div>
            <LayerPicker layer=lens!(smooth.layer) own=lens!(smooth.own) state=st.loaded/>
        </section>
        <SmoothControls st/>
        <SmoothBars st/>
        <SweepSection st/>
    }
}

/// α, the bits and the activation scales, and what they give.
#[component]
fn SmoothControls(st: SmoothState) -> impl IntoView {
    let app = use_app();
    let SmoothState {
        alpha,
        bits,
        act,
        current,
        baseline,
        identity,
        scales,
        best,
        ..
    } = st;
    let err_of = move || current.get().and_then(|r| r.ok());
    let error = Signal::derive(move || current.with(|r| r.as_ref().and_then(error_text)));
    view! {
        <section class="card">
            <div class="controls">
                <Slider label=Signal::derive(move || app.t(Msg::MigrationStrength).to_string()) value=Signal::derive(move || alpha.get())
                    min=ALPHA.min max=ALPHA.max step=ALPHA.step testid="alpha-slider"
                    format=Callback::new(move |v: f64| format!("α = {v:.2}"))
                    on_change=Callback::new(move |v: f64| {
                        app.set_ctl(|c| c.smooth.alpha = ALPHA.snap(v));
                        true
                    })/>
                <Segmented label=Signal::derive(move || app.t(Msg::Bits).to_string())
                    value=Signal::derive(move || bits.get())
                    on_change=Callback::new(move |v: LayerBits| app.set_ctl(|c| c.smooth.bits = v))
                    testid="sq-bits"/>
                <Segmented label=Signal::derive(move || app.t(Msg::ActScales).to_string())
                    value=Signal::derive(move || act.get())
                    on_change=Callback::new(move |v: ActScale| app.set_ctl(|c| c.smooth.act = v))
                    testid="sq-act"/>
            </div>
            <ErrorNote error=error/>
            <ErrorNote error=Signal::derive(move || {
                [scales.get().and_then(|r| r.err()), baseline.get().and_then(|r| r.err()), identity.get().and_then(|r| r.err())]
                    .into_iter()
                    .flatten()
                    .next()
            })/>
            <div class="readouts">
                <div class="readout"><span class="k">{move || Msg::ErrorAtAlpha.fill(app.lang(), &[&format!("{:.2}", alpha.get())])}</span>
                    <span class="v" data-testid="smooth-error-readout" data-value=move || err_of().map(|e| format!("{}", e.rel_err)).unwrap_or_default()>{move || err_of().map(|e| pct(e.rel_err)).unwrap_or("—".into())}</span></div>
                <div class="readout"><span class="k">{move || app.t(Msg::NoSmoothing)}</span>
                    <span class="v" data-testid="baseline-error-readout" data-value=move || baseline.get().and_then(|r| r.ok()).map(|e| format!("{}", e.rel_err)).unwrap_or_default()>{move || baseline.get().and_then(|r| r.ok()).map(|e| pct(e.rel_err)).unwrap_or("—".into())}</span></div>
                <div class="readout"><span class="k">{move || app.t(Msg::BestAlpha)}</span>
                    <span class="v" data-testid="best-alpha-readout" data-value=move || best.get().map(|(a, _)| format!("{a}")).unwrap_or_default()>{move || best.get().map(|(a, e)| format!("{a:.2} ({})", pct(e))).unwrap_or_else(|| app.t(Msg::Computing).to_string())}</span></div>
                <div class="readout"><span class="k">{move || app.t(Msg::ErrXY)}</span>
                    <span class="v">{move || err_of().map(|e| format!("X {} · W {}", pct(e.x_rel_err), pct(e.w_rel_err))).unwrap_or("—".into())}</span></div>
            </div>
            <p data-testid="identity-check" data-value=move || identity.get().and_then(|r| r.ok()).map(|f| f.rel_frobenius.to_string())>{move || identity.get().and_then(|r| r.ok()).map(|f| Msg::IdentityLine.fill(app.lang(), &[&format!("{:.1e}", f.rel_frobenius), &format!("{:.1e}", f.max_rel)]))}</p>
        </section>
    }
}

/// max |X_j| and max |W_j| before and after smoothing, the scales s_j and the smoothed |X|.
#[component]
fn SmoothBars(st: SmoothState) -> impl IntoView {
    let app = use_app();
    let SmoothState {
        data,
        alpha,
        scales,
        ..
    } = st;
    let order = Memo::new(move |_| {
        let d = data.get()?;
        let a = d.case.act_absmax();
        let mut o: Vec<(usize, f32)> = a.iter().copied().enumerate().collect();
        o.sort_by(|x, y| y.1.total_cmp(&x.1));
        Some(Shared::new(
            o.into_iter().map(|(i, _)| i).collect::<Vec<usize>>(),
        ))
    });
    let draw_before = move |area: &Area, th: &ChartTheme| {
        let (Some(d), Some(o)) = (data.get(), order.get()) else {
            return Err(app.t(Msg::DataWaiting).to_string());
        };
        let top = d
            .case
            .act_absmax()
            .iter()
            .chain(d.case.weight_absmax())
            .fold(0f32, |m, v| m.max(*v)) as f64
            * 1.1;
        twin_bars(
            area,
            th,
            TwinBars {
                order: &o,
                a: d.case.act_absmax(),
                b: d.case.weight_absmax(),
                top,
            },
            app.t(Msg::ChannelsByX),
            app.t(Msg::MaxAbs),
        )
    };
    let draw_after = move |area: &Area, th: &ChartTheme| {
        let (Some(d), Some(o), Some(Ok(s))) = (data.get(), order.get(), scales.get()) else {
            return Err(app.t(Msg::DataWaiting).to_string());
        };
        let (xa, wa) = d.case.smoothed_profiles(&s).map_err(|e| e.to_string())?;
        let top = d
            .case
            .act_absmax()
            .iter()
            .chain(d.case.weight_absmax())
            .fold(0f32, |m, v| m.max(*v)) as f64
            * 1.1;
        twin_bars(
            area,
            th,
            TwinBars {
                order: &o,
                a: &xa,
                b: &wa,
                top,
            },
            app.t(Msg::ChannelsByX),
            app.t(Msg::MaxAbs),
        )
    };
    let draw_scales = move |area: &Area, th: &ChartTheme| {
        let (Some(o), Some(Ok(s))) = (order.get(), scales.get()) else {
            return Err(app.t(Msg::DataWaiting).to_string());
        };
        let top = s.iter().fold(0f32, |m, v| m.max(*v)) as f64 * 1.1;
        let fmt = |y: &f64| tick(*y);
        let mut chart = cartesian(
            area,
            th,
            app.t(Msg::ChannelsByX),
            "s_j",
            0.0..o.len() as f64,
            0.0..top.max(1e-6),
            &fmt,
        )?;
        line(
            &mut chart,
            th,
            o.iter()
                .enumerate()
                .filter_map(|(i, &c)| s.get(c).map(|&v| (i as f64 + 0.5, f64::from(v))))
                .collect(),
            th.color(2),
            2.0,
        )?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 1.0), (o.len() as f64, 1.0)],
                th.muted.stroke_width(th.px(1.0)),
            )))
            .map_err(de)?;
        Ok(())
    };
    let draw_heat = move |area: &Area, th: &ChartTheme| {
        let (Some(d), Some(Ok(s))) = (data.get(), scales.get()) else {
            return Err(app.t(Msg::DataWaiting).to_string());
        };
        let c = d.case.case();
        let (t, ch) = (c.tokens(), c.in_channels());
        let x = c.x();
        // The same colour scale as the unsmoothed |X| (its max), so the flattening is visible.
        let amax = x.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        let lo = (amax / 1000.0).ln();
        let span = amax.ln() - lo;
        let fmt = |y: &f64| tick(*y);
        let mut chart = cartesian(
            area,
            th,
            app.t(Msg::ChannelAxis),
            app.t(Msg::TokenAxis),
            0.0..ch as f64,
            0.0..t as f64,
            &fmt,
        )?;
        // |X_j / s_j|, token 0 at the bottom as in the outliers chapter.
        let cells = x
            .chunks_exact(ch.max(1))
            .rev()
            .flat_map(|row| row.iter().zip(s.iter()).map(|(&v, &sj)| v / sj));
        heatmap(
            &mut chart,
            th,
            ch,
            cells.map(|v| f64::from((v.abs().max(1e-30).ln() - lo) / span)),
        )
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::SqBarsTitle)}</h2>
            <div class="grid-2">
                <Chart id="smooth-bars-chart" caption=Signal::derive(move || app.t(Msg::SqBefore).to_string()) aspect=0.6 draw=draw_before/>
                <Chart id="smooth-bars-after-chart" caption=Signal::derive(move || Msg::SqAfter.fill(app.lang(), &[&format!("{:.2}", alpha.get())])) aspect=0.6 draw=draw_after/>
                <Chart id="smooth-scales-chart" caption=Signal::derive(move || app.t(Msg::SqScalesCaption).to_string()) aspect=0.6 draw=draw_scales/>
                <Chart id="smooth-heat-chart" caption=Signal::derive(move || app.t(Msg::SqHeatCaption).to_string()) aspect=0.6 draw=draw_heat/>
            </div>
        </section>
    }
}

/// The output error for every α of a grid, and the best one.
#[component]
fn SweepSection(st: SmoothState) -> impl IntoView {
    let app = use_app();
    let SmoothState {
        alpha,
        current,
        baseline,
        sweep,
        sweep_error,
        job,
        best,
        ..
    } = st;
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::SweepTitle)}</h2>
            <Chart id="sweep-chart" caption=Signal::derive(move || app.t(Msg::SweepCaption).to_string()) aspect=0.42 draw=move |a: &Area, th: &ChartTheme| {
                let Some(Ok(base)) = baseline.get() else {
                    return Err(app.t(Msg::DataWaiting).to_string());
                };
                let now = current.get().and_then(|r| r.ok()).map(|c| (alpha.get(), c.rel_err));
                sweep.with(|pts| draw_sweep(a, th, (pts, &base), (best.get(), now), app))
            }/>
            <ErrorNote error=sweep_error/>
            <Show when=move || job.running()>
                <progress max=move || job.progress.get().map(|p| p.1).unwrap_or(1) value=move || job.progress.get().map(|p| p.0).unwrap_or(0)></progress>
            </Show>
            <p>{move || app.t(Msg::SqWhyHalf)}</p>
        </section>
    }
}

/// (α, relative output error) of one point of the sweep chart.
type AlphaPoint = (f64, f64);

/// The output error over α against no smoothing, the best α and the current one.
fn draw_sweep(
    area: &Area,
    th: &ChartTheme,
    (pts, base): (&[SmoothPoint], &LayerError),
    (best, now): (Option<(f32, f64)>, Option<AlphaPoint>),
    app: AppState,
) -> DrawResult {
    let top = pts
        .iter()
        .map(|p| p.error.rel_err)
        .fold(base.rel_err, f64::max)
        * 1.15;
    let fmt = |y: &f64| format!("{:.1} %", y * 100.0);
    let mut chart = cartesian(
        area,
        th,
        "α",
        app.t(Msg::OutputError),
        0.0..1.0,
        0.0..top,
        &fmt,
    )?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, base.rel_err), (1.0, base.rel_err)],
            th.muted.stroke_width(th.px(2.0)),
        )))
        .map_err(de)?;
    let font = ("system-ui, sans-serif", 12.0 * th.dpr)
        .into_font()
        .color(&th.muted);
    chart
        .draw_series(std::iter::once(Text::new(
            app.t(Msg::NoSmoothing).to_string(),
            (0.02, base.rel_err + top * 0.03),
            font,
        )))
        .map_err(de)?;
    line(
        &mut chart,
        th,
        pts.iter()
            .map(|p| (f64::from(p.alpha), p.error.rel_err))
            .collect(),
        th.color(0),
        2.5,
    )?;
    chart
        .draw_series(pts.iter().map(|p| {
            plotters::prelude::Circle::new(
                (f64::from(p.alpha), p.error.rel_err),
                th.px(3.0) as i32,
                th.color(0).filled(),
            )
        }))
        .map_err(de)?;
    if let Some((best_alpha, _)) = best {
        vline(
            &mut chart,
            th,
            f64::from(best_alpha),
            th.color(2),
            &format!("best α = {best_alpha:.2}"),
            true,
        )?;
    }
    if let Some((alpha, rel_err)) = now {
        chart
            .draw_series(std::iter::once(plotters::prelude::Circle::new(
                (alpha, rel_err),
                th.px(6.0) as i32,
                th.color(3).filled(),
            )))
            .map_err(de)?;
    }
    Ok(())
}
