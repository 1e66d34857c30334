//! Chapter 2, "The quantization function": f_q(x, s, z) = Clip(round(x/s) + z). Drag α and β
//! over the histogram of real data and everything — s, z, the formula with live numbers, the
//! integer grid, code and error histograms, the error metrics and each value's journey — is
//! recomputed by the engine on every move.

use leptos::prelude::*;

use super::function_float::{
    draw_float_grid, float_journey_of, float_journey_view, FloatErrorChart, FloatFormula,
    FloatReadouts, FloatState,
};
use super::histogram::{bins_of, count_fmt, height, BINS};
use super::quant_common::{fmt_bytes, fmt_num, memory_bytes, scheme_controls, QuantSetup, Readout};
use crate::lens;
use crate::ui::data::DataPicker;
use crate::ui::perf;
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{Area, DrawResult, XMap};
use crate::ui::widgets::plot::{
    cartesian, histogram_bars, histogram_outline, vline, vlines, Chart2d,
};
use crate::ui::widgets::range_handles::RangeHandles;
use crate::ui::widgets::{Chart, ChartTheme, ErrorNote, Formula};
use crate::ui::Shared;
use quantlab_app::controls::{
    Choice, DataChoice, NumberFormat, RangeControls, SchemeControls, Symmetry,
};
use quantlab_app::i18n::Msg;
use quantlab_engine::format::FloatJourney;
use quantlab_engine::{
    self as engine, journey, Histogram, Journey, NonFinitePolicy, QParams, QuantError,
    RoundTripMetrics, Scheme,
};

/// One number of the live formula from the parameters, the range [α, β] and [q_min, q_max].
type Readout = fn(&QParams, (f64, f64), (i32, i32)) -> String;

/// Everything one round trip produces for the charts and readouts.
pub struct RoundTrip {
    pub metrics: RoundTripMetrics,
    pub xhat_hist: Histogram,
    /// Count per integer code, index 0 = qmin.
    pub codes: Vec<u32>,
    pub err_hist: Histogram,
}

fn round_trip(
    x: &[f32],
    p: &QParams,
    scheme: &Scheme,
    view: (f32, f32),
) -> Result<RoundTrip, QuantError> {
    let mut xhat = vec![0.0f32; x.len()];
    let metrics = engine::fake_quantize_into(x, p, scheme, NonFinitePolicy::Skip, &mut xhat)?;
    let xhat_hist = engine::histogram(&xhat, BINS, view.0, view.1)?;
    // Codes: q = round(x̂/s) + z recovers each code exactly, because x̂ = s(q − z).
    let (qmin, qmax) = (scheme.qmin(), scheme.qmax());
    let mut codes = vec![0u32; (qmax - qmin + 1) as usize];
    for v in xhat.iter().filter(|v| v.is_finite()) {
        let q = (v / p.scale).round() as i32 + p.zero_point;
        if let Some(c) = codes.get_mut((q - qmin) as usize) {
            *c += 1;
        }
    }
    // Reuse the buffer for the errors x̂ − x.
    for (e, &v) in xhat.iter_mut().zip(x) {
        *e -= v;
    }
    let emax = (metrics.max_abs_err as f32)
        .max(p.scale * 0.5)
        .max(f32::MIN_POSITIVE);
    let err_hist = engine::histogram(&xhat, 80, -emax, emax)?;
    Ok(RoundTrip {
        metrics,
        xhat_hist,
        codes,
        err_hist,
    })
}

/// Bar height of a count: linear, or 1 + log10(count) so that 1 → 1, 10 → 2, 100 → 3 and an
/// empty bin stays at 0 (a single value is still visible).
/// Which value the inspector's buttons pick.
#[derive(Clone, Copy)]
enum Pick {
    /// The value of largest |x|: the one most likely to be clipped.
    Largest,
    /// An ordinary value from inside the data.
    Typical,
}

type RoundTripResult = Memo<Option<Result<Shared<RoundTrip>, QuantError>>>;

/// What the main histogram is drawn from.
#[derive(Clone, Copy)]
struct MainChart {
    setup: QuantSetup,
    x_hist: Memo<Option<Shared<Histogram>>>,
    result: RoundTripResult,
    float: FloatState,
    log_y: Memo<bool>,
    is_float: Memo<bool>,
    inspected: Memo<Option<Journey>>,
    float_inspected: Memo<Option<FloatJourney>>,
    /// Where the chart put its x axis (the range handles follow it).
    map: RwSignal<XMap>,
}

impl MainChart {
    /// The data's histogram, the reconstruction's outline, the grid of representable values
    /// and the inspected value.
    fn draw(self, area: &Area, th: &ChartTheme, app: AppState) -> DrawResult {
        let Some(h) = self.x_hist.get() else {
            return Err(app.t(Msg::DataWaiting).to_string());
        };
        let log = self.log_y.get();
        let (v0, v1) = self.setup.view.get();
        let xb = bins_of(&h, log);
        let rt = self.result.get();
        let xhat_b = match self.float.ok() {
            Some(f) => Some(bins_of(&f.xhat_hist, log)),
            None => rt
                .as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|r| bins_of(&r.xhat_hist, log)),
        };
        let top = xb
            .iter()
            .chain(xhat_b.iter().flatten())
            .map(|b| b.2)
            .fold(1.0f64, f64::max)
            * 1.08;
        let fmt = count_fmt(log);
        let mut chart = cartesian(
            area,
            th,
            "x",
            app.t(if log { Msg::CountLog } else { Msg::Count }),
            v0..v1,
            0.0..top,
            &fmt,
        )?;
        let (px, py) = chart.plotting_area().get_pixel_range();
        self.map.set(XMap::from_pixels(px, py, v0..v1, th.dpr));
        let span_px = self.map.with_untracked(|m| m.right - m.left).max(1.0);
        if self.is_float.get() {
            if let Some(rt) = self.float.ok() {
                draw_float_grid(&mut chart, th, &rt, (v0, v1), span_px)?;
            }
        } else if let (Ok(p), Ok(scheme)) = (self.setup.params.get(), self.setup.scheme.get()) {
            draw_grid(&mut chart, th, (&p, &scheme), (v0, v1), span_px)?;
        }
        histogram_bars(&mut chart, th, &xb, th.color(0), 0.55)?;
        if let Some(b) = xhat_b {
            histogram_outline(&mut chart, th, &b, th.color(1))?;
        }
        let marks = if self.is_float.get() {
            self.float_inspected.get().map(|j| (j.x, j.dequantized))
        } else {
            self.inspected.get().map(|j| (j.x, j.dequantized))
        };
        if let Some((x, xhat)) = marks {
            vline(&mut chart, th, f64::from(x), th.color(3), "", false)?;
            vline(&mut chart, th, f64::from(xhat), th.color(2), "", true)?;
        }
        Ok(())
    }
}

/// The formula, the lead and the seminar's worked example in one click.
#[component]
fn FunctionIntro() -> impl IntoView {
    let app = use_app();
    // The seminar's worked example: int8 asymmetric on its data, [α, β] = [−1.577, 192.344].
    let preset = move |_| {
        app.set_ctl(|c| {
            c.function.data.data = DataChoice::Seminar;
            c.function.scheme = SchemeControls::default();
            c.function.range = RangeControls {
                alpha: Some(-1.577),
                beta: Some(192.344),
            };
        })
    };
    view! {
        <section class="card intro">
            <Formula mathml=Signal::derive(|| crate::formulas::QUANTIZE.to_string())/>
            <p>{move || app.t(Msg::FunctionIntro)}</p>
            <p class="analogy">{move || app.t(Msg::FunctionAnalogy)}</p>
            <button type="button" class="tool accent" data-testid="preset-seminar" on:click=preset>
                {move || app.t(Msg::PresetSeminar)}
            </button>
        </section>
    }
}

#[component]
pub fn FunctionChapter() -> impl IntoView {
    let app = use_app();
    let setup = QuantSetup::new(
        lens!(function.data),
        lens!(function.scheme),
        Some(lens!(function.range)),
    );
    let tensor = setup.tensor;
    let log_y = Memo::new(move |_| app.ctl(|c| c.function.logy));
    let main_map = RwSignal::new(XMap::default());
    let hover_x = RwSignal::new(None::<f64>);
    let picked_x = RwSignal::new(None::<f64>);
    let fmt = Memo::new(move |_| app.ctl(|c| c.function.fmt));
    let is_float = Memo::new(move |_| fmt.get() != NumberFormat::Int);
    let float = FloatState::new(setup, fmt);

    let result = Memo::new(move |_| {
        if is_float.get() {
            return None;
        }
        let t = tensor.get()?;
        let p = match setup.params.get() {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let scheme = setup.scheme.get().ok()?;
        let view = setup.view.get();
        let rt = perf::time("round trip + histograms", || {
            round_trip(&t.0.data, &p, &scheme, (view.0 as f32, view.1 as f32))
        });
        Some(rt.map(Shared::new))
    });

    let x_hist = Memo::new(move |_| {
        let t = tensor.get()?;
        let v = setup.view.get();
        engine::histogram(&t.0.data, BINS, v.0 as f32, v.1 as f32)
            .ok()
            .map(Shared::new)
    });

    let float_inspected = Memo::new(move |_| {
        if !is_float.get() {
            return None;
        }
        let x = hover_x.get().or(picked_x.get())?;
        let t = tensor.get()?;
        float_journey_of(x, &float, &t.0.data)
    });
    let inspected = Memo::new(move |_| {
        if is_float.get() {
            return None;
        }
        let x = hover_x.get().or(picked_x.get())?;
        let p = setup.params.get().ok()?;
        let scheme = setup.scheme.get().ok()?;
        journey(x as f32, &p, &scheme).ok()
    });

    let main = MainChart {
        setup,
        x_hist,
        result,
        float,
        log_y,
        is_float,
        inspected,
        float_inspected,
        map: main_map,
    };
    let draw_main = move |area: &Area, th: &ChartTheme| main.draw(area, th, app);

    let err_text = move || match (setup.params.get(), result.get()) {
        (Err(e), _) | (_, Some(Err(e))) => Some(e),
        _ => None,
    };

    view! {
        <FunctionIntro/>

        <section class="card">
            <DataPicker data=lens!(function.data) on_new_data=|c| c.function.range = RangeControls::default()/>
            <FormatSelect/>
            <Show when=move || !is_float.get()>
                {scheme_controls(lens!(function.scheme), setup)}
            </Show>
        </section>

        <section class="card">
            <h2>{move || if is_float.get() {
                Msg::FloatHistogramTitle.fill(app.lang(), &[fmt.get().label().text(app.lang())])
            } else {
                app.t(Msg::HistogramTitle).to_string()
            }}</h2>
            <p class="muted small">{move || app.t(if is_float.get() { Msg::FloatHistogramHelp } else { Msg::HistogramHelp })}</p>
            <Chart id="histogram-chart" caption=Signal::derive(move || app.t(if is_float.get() { Msg::FloatHistogramCaption } else { Msg::HistogramCaption }).to_string()) aspect=0.42 draw=draw_main>
                <Show when=move || !is_float.get()>
                <RangeHandles map=main_map
                    alpha=Signal::derive(move || setup.range.get().0)
                    beta=Signal::derive(move || setup.range.get().1)
                    step=Signal::derive(move || setup.step.get())
                    on_alpha=Callback::new(move |v: f64| setup.set_alpha(v))
                    on_beta=Callback::new(move |v: f64| setup.set_beta(v))
                    on_hover=Callback::new(move |v: Option<f64>| hover_x.set(v))/>
                </Show>
            </Chart>
            <div class="range-inputs">
                <Show when=move || !is_float.get()>{setup.range_inputs()}</Show>
                <label class="control compact check">
                    <input type="checkbox" prop:checked=move || log_y.get()
                        on:change=move |e| {
                            let on = event_target_checked(&e);
                            app.set_ctl(|c| c.function.logy = on);
                        }/>
                    <span>{move || app.t(Msg::LogScale)}</span>
                </label>
            </div>
            <Show when=move || !is_float.get() fallback=move || view! {
                <FloatFormula float/>
                <FloatReadouts float/>
            }>
                <ErrorNote error=Signal::derive(move || err_text().map(|e| e.to_string())) testid="range-error"/>
                <LiveFormula setup/>
                <RoundTripReadouts setup result/>
            </Show>
        </section>

        <InspectorSection setup inspected float float_inspected hover_x picked_x/>
        <Show when=move || !is_float.get() fallback=move || view! { <FloatErrorChart float/> }>
            <CodeAndErrorCharts setup result log_y/>
        </Show>
    }
}

/// s and z with live numbers. Built once as MathML elements whose numbers are reactive text: a
/// drag only changes a few text nodes (re-parsing the whole formula's HTML on every move cost
/// more than the engine).
#[component]
fn LiveFormula(setup: QuantSetup) -> impl IntoView {
    let num = move |f: Readout| {
        move || match (setup.params.get(), setup.scheme.get()) {
            // A real minus sign, as typeset mathematics has.
            (Ok(p), Ok(sc)) => f(&p, setup.range.get(), (sc.qmin(), sc.qmax())).replace('-', "−"),
            _ => "?".to_string(),
        }
    };
    let q_max_min = || view! { <msub><mi>"q"</mi><mi mathvariant="normal">"max"</mi></msub><mo>"−"</mo><msub><mi>"q"</mi><mi mathvariant="normal">"min"</mi></msub> };
    let s_value = move || view! { <mrow class="hl-s"><mn>{num(|p, _, _| fmt_num(f64::from(p.scale), 4))}</mn></mrow> };
    let z_value = move || view! { <mrow class="hl-z"><mn>{num(|p, _, _| p.zero_point.to_string())}</mn></mrow> };
    let formula = move || {
        if setup.choice.with(|c| c.scheme == Symmetry::Sym) {
            view! {
                <math display="block"><mrow>
                    <mi>"s"</mi><mo>"="</mo>
                    <mfrac>
                        <mrow><mi mathvariant="normal">"max"</mi><mo>"("</mo><mo>"|"</mo><mi>"α"</mi><mo>"|"</mo><mo>","</mo><mo>"|"</mo><mi>"β"</mi><mo>"|"</mo><mo>")"</mo></mrow>
                        <mrow><mo>"("</mo>{q_max_min()}<mo>")"</mo><mo>"/"</mo><mn>"2"</mn></mrow>
                    </mfrac>
                    <mo>"="</mo>
                    <mfrac>
                        <mn>{num(|_, (a, b), _| fmt_num(a.abs().max(b.abs()), 6))}</mn>
                        <mn>{num(|_, _, (lo, hi)| fmt_num(f64::from(hi - lo) / 2.0, 6))}</mn>
                    </mfrac>
                    <mo>"="</mo>{s_value()}<mo>","</mo><mspace width="1em"></mspace>
                    <mi>"z"</mi><mo>"="</mo>{z_value()}
                </mrow></math>
            }
            .into_any()
        } else {
            view! {
                <math display="block"><mrow>
                    <mi>"s"</mi><mo>"="</mo>
                    <mfrac><mrow><mi>"β"</mi><mo>"−"</mo><mi>"α"</mi></mrow><mrow>{q_max_min()}</mrow></mfrac>
                    <mo>"="</mo>
                    <mfrac>
                        <mrow>
                            <mn>{num(|_, (_, b), _| fmt_num(b, 6))}</mn><mo>"−"</mo><mo>"("</mo>
                            <mn>{num(|_, (a, _), _| fmt_num(a, 6))}</mn><mo>")"</mo>
                        </mrow>
                        <mn>{num(|_, _, (lo, hi)| (hi - lo).to_string())}</mn>
                    </mfrac>
                    <mo>"="</mo>{s_value()}<mo>","</mo><mspace width="1em"></mspace>
                    <mi>"z"</mi><mo>"="</mo>
                    <msub><mi>"q"</mi><mi mathvariant="normal">"min"</mi></msub><mo>"−"</mo><mi mathvariant="normal">"round"</mi>
                    <mrow><mo>"("</mo><mfrac><mi>"α"</mi><mi>"s"</mi></mfrac><mo>")"</mo></mrow>
                    <mo>"="</mo>{z_value()}
                </mrow></math>
            }
            .into_any()
        }
    };

    view! { <div class="formula" data-testid="live-formula">{formula}</div> }
}

/// s, z, the error metrics and the memory the codes need.
#[component]
fn RoundTripReadouts(setup: QuantSetup, result: RoundTripResult) -> impl IntoView {
    let app = use_app();
    let tensor = setup.tensor;
    let params = setup.params;
    // ---------- readouts ----------
    let metrics = move || result.get().and_then(|r| r.ok()).map(|r| r.metrics);
    let n_values = move || tensor.get().map(|t| t.0.data.len()).unwrap_or(0);
    let memory = move || {
        let n = n_values();
        let bits = setup.choice.get().bits;
        let (fp, q) = memory_bytes(n, bits, 1);
        Msg::MemoryLine.fill(
            app.lang(),
            &[
                &fmt_bytes(fp),
                &bits.to_string(),
                &fmt_bytes(q),
                &format!("{:.1}", fp as f64 / q.max(1) as f64),
            ],
        )
    };

    view! {
            <div class="readouts">
                <Readout label=Msg::ScaleS testid="scale-readout" value=Signal::derive(move || params.get().ok().map(|p| f64::from(p.scale))) digits=5/>
                <Readout label=Msg::ZeroPointZ testid="zero-point-readout" value=Signal::derive(move || params.get().ok().map(|p| f64::from(p.zero_point))) digits=0/>
                <Readout label=Msg::Mse testid="mse-readout" value=Signal::derive(move || metrics().map(|m| m.mse)) digits=4/>
                <Readout label=Msg::Sqnr testid="sqnr-readout" value=Signal::derive(move || metrics().map(|m| m.sqnr_db)) digits=3 unit=" dB"/>
                <Readout label=Msg::MaxErr testid="maxerr-readout" value=Signal::derive(move || metrics().map(|m| m.max_abs_err)) digits=4/>
                <Readout label=Msg::ClippedPct testid="clipped-readout" value=Signal::derive(move || metrics().map(|m| 100.0 * m.clipped_fraction)) digits=3 unit=" %"/>
            </div>
            <p class="memory" data-testid="memory-readout">{memory}</p>
    }
}

/// One value's journey through f_q: x → x/s → round → + z → Clip → q → s(q − z).
#[component]
fn InspectorSection(
    setup: QuantSetup,
    inspected: Memo<Option<Journey>>,
    float: FloatState,
    float_inspected: Memo<Option<quantlab_engine::format::FloatJourney>>,
    hover_x: RwSignal<Option<f64>>,
    picked_x: RwSignal<Option<f64>>,
) -> impl IntoView {
    let app = use_app();
    let (tensor, params) = (setup.tensor, setup.params);
    let journey_view = move || {
        if let Some(j) = float_inspected.get() {
            let e = float.ok()?.r.format.element()?;
            return Some(float_journey_view(&j, e, app).into_any());
        }
        let j = inspected.get()?;
        let p = params.get().ok()?;
        let cell = |k: &'static str, v: String, class: &'static str| view! { <li class=class><span class="k">{k}</span><span class="v">{v}</span></li> };
        Some(view! {
            <ol class="journey" data-testid="journey">
                {cell("x", fmt_num(f64::from(j.x), 6), "")}
                {cell("x / s", fmt_num(f64::from(j.x_over_s), 6), "")}
                {cell("round", fmt_num(f64::from(j.rounded), 6), "")}
                {cell("+ z", format!("{} ({:+})", fmt_num(f64::from(j.shifted), 6), p.zero_point), "")}
                {cell("Clip", if j.clipped { app.t(Msg::Clipped).to_string() } else { app.t(Msg::InRange).to_string() }, if j.clipped { "bad" } else { "" })}
                {cell("q", j.q.to_string(), "em")}
                {cell("s(q − z)", fmt_num(f64::from(j.dequantized), 6), "")}
                {cell(app.t(Msg::ErrorShort), format!("{:+.3e}", j.error), if j.clipped { "bad" } else { "" })}
            </ol>
        }.into_any())
    };

    let pick = move |which: Pick| {
        let Some(t) = tensor.get_untracked() else {
            return;
        };
        let d = &t.0.data;
        let v = match which {
            Pick::Largest => d.iter().copied().filter(|v| v.is_finite()).reduce(|m, v| {
                if v.abs() > m.abs() {
                    v
                } else {
                    m
                }
            }),
            Pick::Typical => d.get(d.len() / 3).copied(),
        };
        if let Some(v) = v {
            picked_x.set(Some(f64::from(v)));
        }
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::InspectorTitle)}</h2>
            <p class="muted small">{move || app.t(if float.result.get().is_some() { Msg::FloatInspectorHelp } else { Msg::InspectorHelp })}</p>
            <div class="controls">
                <button type="button" class="tool" data-testid="pick-largest" on:click=move |_| pick(Pick::Largest)>{move || app.t(Msg::PickLargest)}</button>
                <button type="button" class="tool" data-testid="pick-typical" on:click=move |_| pick(Pick::Typical)>{move || app.t(Msg::PickTypical)}</button>
                <label class="control compact">
                    <span class="control-label">"x ="</span>
                    <input type="number" class="number" step="any" data-testid="inspect-input"
                        on:change=move |e| {
                            picked_x.set(event_target_value(&e).trim().parse::<f64>().ok().filter(|v| v.is_finite()));
                            hover_x.set(None);
                        }/>
                </label>
            </div>
            {move || journey_view().map(|v| v.into_any()).unwrap_or_else(|| view! { <p class="muted">{app.t(if float.result.get().is_some() { Msg::FloatInspectorEmpty } else { Msg::InspectorEmpty })}</p> }.into_any())}
        </section>

    }
}

/// The histogram of integer codes and of the round-trip errors.
#[component]
fn CodeAndErrorCharts(
    setup: QuantSetup,
    result: RoundTripResult,
    log_y: Memo<bool>,
) -> impl IntoView {
    let app = use_app();
    let waiting = move || app.t(Msg::DataWaiting).to_string();
    let draw_codes = move |a: &Area, th: &ChartTheme| {
        let (Some(Ok(rt)), Ok(p), Ok(scheme)) =
            (result.get(), setup.params.get(), setup.scheme.get())
        else {
            return Err(waiting());
        };
        draw_codes(a, th, &rt, (&p, &scheme), log_y.get(), app)
    };
    let draw_err = move |a: &Area, th: &ChartTheme| {
        let (Some(Ok(rt)), Ok(p)) = (result.get(), setup.params.get()) else {
            return Err(waiting());
        };
        draw_err(a, th, &rt, &p, app)
    };
    view! {
        <div class="grid-2">
            <section class="card">
                <h2>{move || app.t(Msg::CodesTitle)}</h2>
                <Chart id="codes-chart" caption=Signal::derive(move || app.t(Msg::CodesCaption).to_string()) aspect=0.55 draw=draw_codes/>
            </section>
            <section class="card">
                <h2>{move || app.t(Msg::ErrorHistTitle)}</h2>
                <Chart id="error-chart" caption=Signal::derive(move || app.t(Msg::ErrorHistCaption).to_string()) aspect=0.55 draw=draw_err/>
            </section>
        </div>
    }
}

/// How many values landed on each integer code, with z marked.
fn draw_codes(
    area: &Area,
    th: &ChartTheme,
    rt: &RoundTrip,
    (p, scheme): (&QParams, &Scheme),
    log: bool,
    app: AppState,
) -> DrawResult {
    let qmin = f64::from(scheme.qmin());
    let bins: Vec<_> = rt
        .codes
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let q = qmin + i as f64;
            (q - 0.5, q + 0.5, height(c, log))
        })
        .collect();
    let top = bins.iter().map(|b| b.2).fold(1.0, f64::max) * 1.08;
    let fmt = count_fmt(log);
    let q0 = qmin - 0.5;
    let q1 = f64::from(scheme.qmax()) + 0.5;
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::IntegerCode),
        app.t(if log { Msg::CountLog } else { Msg::Count }),
        q0..q1,
        0.0..top,
        &fmt,
    )?;
    histogram_bars(&mut chart, th, &bins, th.color(1), 0.85)?;
    vline(&mut chart, th, f64::from(p.zero_point), th.muted, "z", true)?;
    Ok(())
}

/// The round-trip errors x̂ − x: flat within ±s/2 (rounding), tails beyond it (clipping).
fn draw_err(
    area: &Area,
    th: &ChartTheme,
    rt: &RoundTrip,
    p: &QParams,
    app: AppState,
) -> DrawResult {
    // Linear counts: the flat top is the point (rounding error is uniform in ±s/2).
    let b = bins_of(&rt.err_hist, false);
    let top = b.iter().map(|b| b.2).fold(1.0, f64::max) * 1.15;
    let fmt = count_fmt(false);
    let (lo, hi) = (f64::from(rt.err_hist.lo), f64::from(rt.err_hist.hi));
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::ErrorAxis),
        app.t(Msg::Count),
        lo..hi,
        0.0..top,
        &fmt,
    )?;
    histogram_bars(&mut chart, th, &b, th.color(3), 0.6)?;
    let h = f64::from(p.scale) / 2.0;
    if h >= lo && h <= hi {
        vline(&mut chart, th, -h, th.muted, "−s/2", true)?;
        vline(&mut chart, th, h, th.muted, "s/2", true)?;
    }
    Ok(())
}

/// The integer grid: every representable value s(q − z), thinned to stay legible (at least
/// 4 px between lines), and x = 0.
fn draw_grid(
    chart: &mut Chart2d,
    th: &ChartTheme,
    (p, scheme): (&QParams, &Scheme),
    (v0, v1): (f64, f64),
    span_px: f64,
) -> Result<(), String> {
    let (qmin, qmax) = (scheme.qmin(), scheme.qmax());
    let per_level = f64::from(p.scale) / (v1 - v0) * span_px;
    let every = (4.0 / per_level).ceil().max(1.0) as i32;
    let levels = (qmin..=qmax).filter(|q| (q - qmin) % every == 0 || *q == qmax);
    let xs = levels.map(|q| f64::from(p.scale) * f64::from(q - p.zero_point));
    vlines(chart, th, xs, th.muted, if th.dark { 0.35 } else { 0.28 })?;
    vline(chart, th, 0.0f64.clamp(v0, v1), th.muted, "", true)
}

/// The number format: the integer grid of f_q, or a float grid (`fmt=`).
#[component]
fn FormatSelect() -> impl IntoView {
    let app = use_app();
    let fmt = move || app.ctl(|c| c.function.fmt);
    view! {
        <div class="controls">
            <label class="control compact">
                <span class="control-label">{move || app.t(Msg::FormatSelectLabel)}</span>
                <select data-testid="format-select" prop:value=move || fmt().slug().to_string()
                    on:change=move |e| {
                        if let Ok(f) = event_target_value(&e).parse::<NumberFormat>() {
                            app.set_ctl(|c| c.function.fmt = f);
                        }
                    }>
                    {NumberFormat::ALL.iter().map(|&f| view! {
                        <option value=f.slug() selected=move || fmt() == f>{f.label().text(app.lang()).to_string()}</option>
                    }).collect_view()}
                </select>
            </label>
        </div>
    }
}
