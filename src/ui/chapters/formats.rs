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

/// Labels right of their dots, pushed apart vertically where dots sit close together (the
/// 8-bit formats cluster): top to bottom, each label at least `gap` below any label already
/// placed within 3 bits of it.
fn place_labels(
    ok: &[(Contender, f64, f64)],
    y: impl Fn(f64) -> f64,
    span: f64,
) -> Vec<(String, (f64, f64))> {
    let gap = 0.065 * span;
    let mut order: Vec<&(Contender, f64, f64)> = ok.iter().collect();
    order.sort_by(|a, b| y(b.2).total_cmp(&y(a.2)));
    let mut placed: Vec<(f64, f64)> = Vec::new();
    let mut out = Vec::new();
    for p in order {
        let mut at = y(p.2);
        // Each move goes strictly below the label it clears (by a little more than `gap`, so
        // rounding cannot leave it "within gap" again); at most one move per placed label.
        for _ in 0..placed.len() {
            match placed
                .iter()
                .find(|(px, py)| (px - p.1).abs() < 3.0 && (py - at).abs() < gap)
            {
                Some(&(_, py)) => at = py - gap * 1.01,
                None => break,
            }
        }
        placed.push((p.1, at));
        let name = if p.2.is_finite() {
            p.0.label().to_string()
        } else {
            format!("{} (∞)", p.0.label())
        };
        out.push((name, (p.1 + 0.35, at)));
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
    let font = ("system-ui, sans-serif", 11.0 * th.dpr)
        .into_font()
        .color(&th.fg)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (name, at) in place_labels(&ok, y, ceiling + 6.0 - ymin) {
        chart
            .draw_series(std::iter::once(Text::new(name, at, font.clone())))
            .map_err(de)?;
    }
    Ok(())
}
