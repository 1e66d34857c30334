//! The function chapter in a float format (`fmt=e4m3`, `mxfp4`, …): the same data through the
//! engine's `format` module instead of f_q. The histogram shows the format's grid (dense near
//! zero, sparse far out), the readouts keep MSE, SQNR, max error and clipping (here: values
//! saturated at ±max), plus bits per value, and a value's journey shows its sign, exponent and
//! mantissa bits and the rounding step at its magnitude.

use leptos::prelude::*;
use ndarray::ArrayView2;

use super::histogram::{bins_of, count_fmt, BINS};
use super::quant_common::{fmt_num, QuantSetup, Readout};
use crate::ui::perf;
use crate::ui::state::use_app;
use crate::ui::widgets::chart::{Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{cartesian, histogram_bars, vline, vlines, Chart2d};
use crate::ui::widgets::Chart;
use crate::ui::Shared;
use quantlab_app::controls::NumberFormat;
use quantlab_app::i18n::Msg;
use quantlab_engine::format::{float_journey, FloatJourney};
use quantlab_engine::{
    self as engine, quantize_format, Element, Format, FormatResult, Granularity, Histogram,
    NonFinitePolicy,
};

/// A float round trip and its histograms.
pub struct FloatRoundTrip {
    pub r: FormatResult,
    pub xhat_hist: Histogram,
    pub err_hist: Histogram,
    /// The scale of the group holding the largest |x|: the grid the histogram draws.
    pub grid_factor: f32,
}

/// The float side of the chapter, shared by its sections.
#[derive(Clone, Copy)]
pub struct FloatState {
    pub result: Memo<Option<Result<Shared<FloatRoundTrip>, String>>>,
}

impl FloatState {
    pub fn new(setup: QuantSetup, format: Memo<NumberFormat>) -> Self {
        let result = Memo::new(move |_| {
            let f = format.get().format();
            if f == Format::Int {
                return None;
            }
            let t = setup.tensor.get()?;
            let view = setup.view.get();
            Some(
                perf::time("float format round trip", || {
                    round_trip(&t.0, f, (view.0 as f32, view.1 as f32))
                })
                .map(Shared::new),
            )
        });
        FloatState { result }
    }

    pub fn ok(&self) -> Option<Shared<FloatRoundTrip>> {
        self.result.get().and_then(|r| r.ok())
    }
}

fn round_trip(
    t: &quantlab_app::datasets::Tensor,
    f: Format,
    view: (f32, f32),
) -> Result<FloatRoundTrip, String> {
    let (rows, cols) = t.rows_cols();
    let x = ArrayView2::from_shape((rows, cols), &t.data).map_err(|e| e.to_string())?;
    let r = quantize_format(x, f, Granularity::PerTensor, NonFinitePolicy::Skip)
        .map_err(|e| e.to_string())?;
    let flat: Vec<f32> = r.dequantized.iter().copied().collect();
    let xhat_hist = engine::histogram(&flat, BINS, view.0, view.1).map_err(|e| e.to_string())?;
    let errors: Vec<f32> = flat.iter().zip(&t.data).map(|(q, x)| q - x).collect();
    let emax = (r.overall.max_abs_err as f32).max(f32::MIN_POSITIVE);
    let err_hist = engine::histogram(&errors, 80, -emax, emax).map_err(|e| e.to_string())?;
    let largest = t
        .data
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map_or(0, |(i, _)| i);
    let grid_factor = r
        .factor_at(largest / cols.max(1), largest % cols.max(1))
        .unwrap_or(1.0);
    Ok(FloatRoundTrip {
        r,
        xhat_hist,
        err_hist,
        grid_factor,
    })
}

/// The format's grid on the histogram: every representable value times the scale of the group
/// holding the largest |x|, thinned to lines at least 2 px apart (so where the grid is denser
/// than that, near zero, it shows as a solid band).
pub fn draw_float_grid(
    chart: &mut Chart2d,
    th: &ChartTheme,
    rt: &FloatRoundTrip,
    (v0, v1): (f64, f64),
    span_px: f64,
) -> Result<(), String> {
    let Some(e) = rt.r.format.element() else {
        return Ok(());
    };
    let f = f64::from(rt.grid_factor);
    let limit = (v0.abs().max(v1.abs()) / f.max(f64::MIN_POSITIVE)) as f32;
    let px_per_unit = span_px / (v1 - v0).max(f64::MIN_POSITIVE);
    let mut xs = Vec::new();
    let mut last = f64::NEG_INFINITY;
    for v in e.positive_values(limit.min(f32::MAX)) {
        let x = f64::from(v) * f;
        if (x - last) * px_per_unit >= 2.0 {
            xs.push(x);
            xs.push(-x);
            last = x;
        }
    }
    let xs = xs.into_iter().filter(|x| *x >= v0 && *x <= v1);
    vlines(chart, th, xs, th.muted, if th.dark { 0.35 } else { 0.28 })?;
    vline(chart, th, 0.0f64.clamp(v0, v1), th.muted, "", true)
}

/// What the format is, with its live scale, above the readouts.
#[component]
pub fn FloatFormula(float: FloatState) -> impl IntoView {
    let app = use_app();
    let text = move || {
        let rt = float.ok()?;
        let f = rt.r.format;
        let e = f.element()?;
        let lang = app.lang();
        let grid = Msg::FloatGridLine.fill(
            lang,
            &[
                e.slug(),
                &e.exponent_bits().to_string(),
                &e.mantissa_bits().to_string(),
                &e.bias().to_string(),
                &fmt_num(f64::from(e.max()), 6),
                &fmt_num(f64::from(e.min_subnormal()), 4),
            ],
        );
        let scale = match f {
            Format::Cast(_) => app.t(Msg::FloatScaleCast).to_string(),
            Format::Scaled(_) => Msg::FloatScaleTensor.fill(
                lang,
                &[
                    &fmt_num(f64::from(e.max()), 6),
                    &fmt_num(f64::from(rt.r.scales.first().copied().unwrap_or(1.0)), 5),
                ],
            ),
            Format::Block(b) => {
                let (lo, hi) =
                    rt.r.scales
                        .iter()
                        .filter(|s| **s > 0.0)
                        .fold((f32::INFINITY, 0f32), |(lo, hi), s| {
                            (lo.min(*s), hi.max(*s))
                        });
                let tensor = rt.r.tensor_scale.map(|t| fmt_num(f64::from(t), 5));
                let range = if hi > 0.0 {
                    format!(
                        "{} … {}",
                        fmt_num(f64::from(lo), 4),
                        fmt_num(f64::from(hi), 4)
                    )
                } else {
                    "—".into()
                };
                match tensor {
                    Some(t) => Msg::FloatScaleNvfp4
                        .fill(lang, &[&rt.r.scales.len().to_string(), &range, &t]),
                    None => Msg::FloatScaleMx.fill(
                        lang,
                        &[
                            &rt.r.scales.len().to_string(),
                            &b.block_size().to_string(),
                            &range,
                            &e.max_exponent().to_string(),
                        ],
                    ),
                }
            }
            Format::Int => return None,
        };
        Some(format!("{grid} {scale}"))
    };
    view! { <p class="float-formula" data-testid="float-formula">{text}</p> }
}

/// MSE, SQNR, max error, saturation and bits per value.
#[component]
pub fn FloatReadouts(float: FloatState) -> impl IntoView {
    let app = use_app();
    let m = move || float.ok().map(|r| r.r.overall);
    let err = move || float.result.get().and_then(|r| r.err());
    view! {
        <div class="readouts">
            <Readout label=Msg::BitsPerValue testid="bpv-readout" value=Signal::derive(move || float.ok().map(|r| r.r.bits_per_value)) digits=4/>
            <Readout label=Msg::Mse testid="mse-readout" value=Signal::derive(move || m().map(|m| m.mse)) digits=4/>
            <Readout label=Msg::Sqnr testid="sqnr-readout" value=Signal::derive(move || m().map(|m| m.sqnr_db)) digits=3 unit=" dB"/>
            <Readout label=Msg::MaxErr testid="maxerr-readout" value=Signal::derive(move || m().map(|m| m.max_abs_err)) digits=4/>
            <Readout label=Msg::SaturatedPct testid="clipped-readout" value=Signal::derive(move || m().map(|m| 100.0 * m.clipped_fraction)) digits=3 unit=" %"/>
        </div>
        <p class="muted small">{move || app.t(Msg::FloatFakeQuant)}</p>
        <Show when=move || err().is_some()>
            <p class="control-error" role="alert" data-testid="float-error">{move || err().unwrap_or_default()}</p>
        </Show>
    }
}

/// The journey of `x` (the data value nearest to it picks the group or block, hence the scale).
pub fn float_journey_of(x: f64, float: &FloatState, data: &[f32]) -> Option<FloatJourney> {
    let rt = float.ok()?;
    let e: Element = rt.r.format.element()?;
    let cols = rt.r.dequantized.ncols().max(1);
    let nearest = data
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .min_by(|a, b| {
            (f64::from(*a.1) - x)
                .abs()
                .total_cmp(&(f64::from(*b.1) - x).abs())
        })
        .map_or(0, |(i, _)| i);
    let factor = rt.r.factor_at(nearest / cols, nearest % cols)?;
    float_journey(x as f32, factor, e).ok()
}

/// The journey as a list: x → x/s → sign | exponent | mantissa → grid value → s·q.
pub fn float_journey_view(
    j: &FloatJourney,
    e: Element,
    app: crate::ui::state::AppState,
) -> impl IntoView {
    let cell = |k: String, v: String, class: &'static str| {
        view! { <li class=class><span class="k">{k}</span><span class="v">{v}</span></li> }
    };
    let bits = |v: u32, n: u32| format!("{v:0width$b}", width = n as usize);
    let fields = format!(
        "{} | {} | {}",
        bits(j.sign, 1),
        bits(j.exponent, e.exponent_bits()),
        bits(j.mantissa, e.mantissa_bits())
    );
    // The value the fields encode: (−1)^s · 2^(e − bias) · 1.m, or 0.m · 2^(1 − bias) when e = 0.
    let meaning = if j.exponent == 0 {
        format!(
            "(0.{})₂ · 2^{}",
            bits(j.mantissa, e.mantissa_bits()),
            e.min_exponent()
        )
    } else {
        format!(
            "(1.{})₂ · 2^{}",
            bits(j.mantissa, e.mantissa_bits()),
            j.exponent as i32 - e.bias()
        )
    };
    let sign = if j.sign == 1 { "−" } else { "" };
    view! {
        <ol class="journey" data-testid="journey">
            {cell("x".into(), fmt_num(f64::from(j.x), 6), "")}
            {cell("s".into(), fmt_num(f64::from(j.factor), 5), "")}
            {cell("x / s".into(), fmt_num(f64::from(j.scaled), 6), "")}
            {cell(app.t(Msg::FloatBits).to_string(), fields, "em")}
            {cell(format!("= {}", app.t(Msg::FloatGridValue)), format!("{sign}{meaning} = {}", fmt_num(f64::from(j.grid_value), 6)), "")}
            {cell(app.t(Msg::FloatStep).to_string(), fmt_num(f64::from(j.step), 4), "")}
            {cell("s · q".into(), fmt_num(f64::from(j.dequantized), 6), "")}
            {cell(app.t(Msg::ErrorShort).to_string(), format!("{:+.3e}", j.error), if j.saturated { "bad" } else { "" })}
            {j.saturated.then(|| cell(app.t(Msg::Saturated).to_string(), app.t(Msg::FloatSaturatedNote).to_string(), "bad"))}
        </ol>
    }
}

/// The histogram of round-trip errors: for a float grid it is peaked, not flat (small values
/// have small steps).
#[component]
pub fn FloatErrorChart(float: FloatState) -> impl IntoView {
    let app = use_app();
    let draw = move |a: &Area, th: &ChartTheme| -> DrawResult {
        let Some(rt) = float.ok() else {
            return Err(app.t(Msg::DataWaiting).to_string());
        };
        let b = bins_of(&rt.err_hist, true);
        let top = b.iter().map(|b| b.2).fold(1.0, f64::max) * 1.15;
        let (lo, hi) = (f64::from(rt.err_hist.lo), f64::from(rt.err_hist.hi));
        let fmt = count_fmt(true);
        let mut chart = cartesian(
            a,
            th,
            app.t(Msg::ErrorAxis),
            app.t(Msg::CountLog),
            lo..hi,
            0.0..top,
            &fmt,
        )?;
        histogram_bars(&mut chart, th, &b, th.color(3), 0.6)?;
        Ok(())
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::ErrorHistTitle)}</h2>
            <Chart id="float-error-chart" caption=Signal::derive(move || app.t(Msg::FloatErrorCaption).to_string()) aspect=0.45 draw=draw/>
        </section>
    }
}
