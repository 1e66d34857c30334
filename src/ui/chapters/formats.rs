//! Every number format on the reader's tensor at once (the playground's "Formats" section):
//! INT8 and INT4 g32 next to FP8, MXFP8, FP4, MXFP4, NVFP4, BF16 and FP16, with their errors and
//! bits per value, and the error-against-bits chart. The engine side is
//! `quantlab_engine::format::compare`; this file only runs it in slices and shows it.

use std::sync::Arc;

use leptos::prelude::*;
use ndarray::ArrayView2;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::quant_common::{fmt_num, QuantSetup};
use crate::ui::job::Job;
use crate::ui::perf;
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{de, Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{cartesian, scatter, tick};
use crate::ui::widgets::Chart;
use quantlab_app::i18n::Msg;
use quantlab_engine::format::compare::Contender;
use quantlab_engine::RoundTripMetrics;

/// One row of the table: a format's round trip, or why it could not run on this tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct FormatRow {
    pub who: Contender,
    pub result: Result<(RoundTripMetrics, f64), String>,
}

#[component]
pub fn FormatsSection(setup: QuantSetup) -> impl IntoView {
    let app = use_app();
    let rows = RwSignal::new(Vec::<FormatRow>::new());
    let job = Job::new();
    // A new tensor: every format again, one per slice (each is one pass over the data).
    Effect::new(move |_| {
        let Some(t) = setup.tensor.get() else {
            job.cancel();
            rows.set(Vec::new());
            return;
        };
        let data: Arc<quantlab_app::datasets::Tensor> = t.0.clone();
        job.collect(
            Contender::ALL.len(),
            move |i| {
                let who = *Contender::ALL.get(i)?;
                let (r, c) = data.rows_cols();
                let result = ArrayView2::from_shape((r, c), &data.data)
                    .map_err(|e| e.to_string())
                    .and_then(|x| {
                        perf::time(who.label(), || who.run(x)).map_err(|e| e.to_string())
                    });
                Some(FormatRow { who, result })
            },
            rows,
        );
    });
    let table = move || {
        rows.get()
            .into_iter()
            .map(|r| {
                let cells = match &r.result {
                    Ok((m, bpv)) => view! {
                        <td>{fmt_num(m.mse, 4)}</td>
                        <td>{if m.sqnr_db.is_finite() { format!("{:.1}", m.sqnr_db) } else { "∞".into() }}</td>
                        <td>{fmt_num(m.max_abs_err, 4)}</td>
                        <td>{format!("{bpv:.3}")}</td>
                    }
                    .into_any(),
                    Err(e) => view! { <td colspan="4" class="muted small">{e.clone()}</td> }.into_any(),
                };
                view! {
                    <tr data-format=r.who.slug()>
                        <td>{r.who.label()}</td>
                        {cells}
                    </tr>
                }
            })
            .collect_view()
    };
    let verdict = move || verdict(&rows.get(), app);
    view! {
        <section class="card" data-testid="formats-section">
            <h2>{move || app.t(Msg::FormatsTitle)}</h2>
            <p>{move || app.t(Msg::FormatsIntro)}</p>
            <div class="grid-2">
                <div class="table-scroll">
                    <table class="data formats" data-testid="formats-table">
                        <thead><tr>
                            <th>{move || app.t(Msg::FormatLabel)}</th>
                            <th>"MSE"</th>
                            <th>"SQNR (dB)"</th>
                            <th>{move || app.t(Msg::MaxErr)}</th>
                            <th>{move || app.t(Msg::BitsPerValue)}</th>
                        </tr></thead>
                        <tbody>{table}</tbody>
                    </table>
                </div>
                <Chart id="formats-chart" caption=Signal::derive(move || app.t(Msg::FormatsChartCaption).to_string()) aspect=0.9 draw=move |a: &Area, th: &ChartTheme| {
                    let r = rows.get();
                    if r.is_empty() {
                        return Err(app.t(Msg::DataWaiting).to_string());
                    }
                    draw_pareto(a, th, &r, app)
                }/>
            </div>
            <p data-testid="formats-verdict">{verdict}</p>
            <p class="muted small">{move || app.t(Msg::FormatsNote)}</p>
        </section>
    }
}

/// What this tensor says about float against integer grids at 8 and at ~4 bits: computed, so
/// it stays true for any data.
fn verdict(rows: &[FormatRow], app: AppState) -> Option<String> {
    let sqnr = |who: Contender| {
        rows.iter()
            .find(|r| r.who == who)
            .and_then(|r| r.result.as_ref().ok())
            .map(|(m, _)| m.sqnr_db)
            .filter(|s| s.is_finite())
    };
    let lang = app.lang();
    let compare = |float: Contender, int: Contender| -> Option<String> {
        let (f, i) = (sqnr(float)?, sqnr(int)?);
        let (winner, loser, by) = if f > i {
            (float, int, f - i)
        } else {
            (int, float, i - f)
        };
        Some(Msg::FormatsBeats.fill(lang, &[winner.label(), loser.label(), &format!("{by:.1}")]))
    };
    let eight = compare(Contender::Fp8E4m3, Contender::Int8)?;
    Some(match compare(Contender::Mxfp4, Contender::Int4Group32) {
        Some(four) => Msg::FormatsVerdict.fill(lang, &[&eight, &four]),
        None => Msg::FormatsVerdict8.fill(lang, &[&eight]),
    })
}

/// Where a label goes: beside its dot, right or left, on the dot's line or a line or two
/// below, whichever is free first; a label never overlaps one placed before it unless no
/// candidate is free (then it takes the right side on its dot's line).
#[derive(Clone, Copy)]
struct LabelBox {
    /// Left and right ends and the middle line, in data units.
    x0: f64,
    x1: f64,
    y: f64,
}

/// Text metrics in data units: one line's height and one character's width.
struct TextSize {
    line: f64,
    char: f64,
    /// The gap between a dot and its label.
    pad: f64,
    /// Labels stay above this line (the x axis) and between 0 and this x.
    floor: f64,
    right_edge: f64,
}

/// Labels for the dots, from the highest dot down (the 8-bit and 4-bit formats cluster).
fn place_labels(
    ok: &[(Contender, f64, f64)],
    y: impl Fn(f64) -> f64,
    t: &TextSize,
) -> Vec<(String, LabelBox, bool)> {
    let mut order: Vec<&(Contender, f64, f64)> = ok.iter().collect();
    order.sort_by(|a, b| y(b.2).total_cmp(&y(a.2)));
    let mut placed: Vec<LabelBox> = Vec::new();
    let mut out = Vec::new();
    for p in order {
        let name = if p.2.is_finite() {
            p.0.label().to_string()
        } else {
            format!("{} (∞)", p.0.label())
        };
        let w = name.chars().count() as f64 * t.char;
        let (x, y0) = (p.1, y(p.2));
        let right = |dy: f64| LabelBox {
            x0: x + t.pad,
            x1: x + t.pad + w,
            y: y0 - dy,
        };
        let left = |dy: f64| LabelBox {
            x0: x - t.pad - w,
            x1: x - t.pad,
            y: y0 - dy,
        };
        let free = |b: &LabelBox| {
            b.y - t.line / 2.0 >= t.floor
                && b.x0 >= 0.0
                && b.x1 <= t.right_edge
                && placed
                    .iter()
                    .all(|o| o.x1 <= b.x0 || b.x1 <= o.x0 || (o.y - b.y).abs() >= t.line)
        };
        let candidates = [
            (right(0.0), false),
            (left(0.0), true),
            (right(t.line), false),
            (left(t.line), true),
            (right(-t.line), false),
            (left(-t.line), true),
            (right(2.0 * t.line), false),
            (left(2.0 * t.line), true),
            (right(-2.0 * t.line), false),
            (left(-2.0 * t.line), true),
        ];
        let (b, on_left) = candidates
            .into_iter()
            .find(|(b, _)| free(b))
            .unwrap_or((right(0.0), false));
        placed.push(b);
        out.push((name, b, on_left));
    }
    out
}

/// SQNR against bits per value, one labelled dot per format (integer grids hollow): up and to
/// the left is better.
fn draw_pareto(area: &Area, th: &ChartTheme, rows: &[FormatRow], app: AppState) -> DrawResult {
    let ok: Vec<(Contender, f64, f64)> = rows
        .iter()
        .filter_map(|r| r.result.as_ref().ok().map(|(m, b)| (r.who, *b, m.sqnr_db)))
        .collect();
    let finite = ok.iter().map(|p| p.2).filter(|s| s.is_finite());
    let top = finite.clone().fold(f64::NEG_INFINITY, f64::max);
    let bottom = finite.fold(f64::INFINITY, f64::min);
    if !top.is_finite() {
        return Err(app.t(Msg::DataWaiting).to_string());
    }
    // An exact round trip (SQNR = ∞, e.g. FP16 of data that was FP16) sits just above the rest.
    let ceiling = top + 8.0;
    let y = |s: f64| if s.is_finite() { s } else { ceiling };
    let ymin = (bottom - 5.0).min(0.0);
    let xmax = ok.iter().map(|p| p.1).fold(0.0, f64::max).max(16.0) + 1.5;
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::BitsPerValue),
        "SQNR (dB)",
        0.0..xmax,
        ymin..ceiling + 6.0,
        &|v| tick(*v),
    )?;
    let pts = |int: bool| -> Vec<(f64, f64)> {
        ok.iter()
            .filter(|p| p.0.is_int() == int)
            .map(|p| (p.1, y(p.2)))
            .collect()
    };
    scatter(&mut chart, th, &pts(false), th.color(0), 0.9, 4.5, true)?;
    scatter(&mut chart, th, &pts(true), th.color(1), 1.0, 4.5, false)?;
    // Text sizes in data units (CSS px: a line, a character, the gap to the dot); a phone's
    // small chart gets smaller type so the 4-bit cluster's four labels fit.
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let css_w = f64::from((xs.end - xs.start).max(1)) / th.dpr;
    let pt = if css_w < 400.0 { 9.0 } else { 11.0 };
    let per_px_y = (ceiling + 6.0 - ymin) / f64::from((ys.end - ys.start).max(1));
    let per_px_x = xmax / f64::from((xs.end - xs.start).max(1));
    let size = TextSize {
        line: (pt + 2.0) * th.dpr * per_px_y,
        char: pt * 0.6 * th.dpr * per_px_x,
        pad: 6.0 * th.dpr * per_px_x,
        floor: ymin,
        right_edge: xmax,
    };
    let font = ("system-ui, sans-serif", pt * th.dpr)
        .into_font()
        .color(&th.fg)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let right_of = font.clone().pos(Pos::new(HPos::Right, VPos::Center));
    for (name, b, on_left) in place_labels(&ok, y, &size) {
        let (at, style) = if on_left {
            ((b.x1, b.y), right_of.clone())
        } else {
            ((b.x0, b.y), font.clone())
        };
        chart
            .draw_series(std::iter::once(Text::new(name, at, style)))
            .map_err(de)?;
    }
    Ok(())
}
