//! The language-model chapter's readouts: perplexity and the tokens it moved, the massive
//! activations of the residual stream, and the table of every method.

use leptos::prelude::*;

use quantlab_app::i18n::Msg;
use quantlab_app::llm::texts::{MAX_TEXT_BYTES, MAX_TOKENS};
use quantlab_app::llm::{METHODS, TABLE_ALPHA};
use quantlab_app::sentences::Method;
use quantlab_engine::model::lm::Peak;

use super::llm::Lab;
use super::llm_run::{Event, Intervened, InterventionRun, Kind, QuantScores, TextRun};
use crate::ui::job::Job;
use crate::ui::llm::{pieces, FpText, HEAT_TOKENS};
use crate::ui::state::use_app;
use crate::ui::widgets::chart::{Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{bar_chart, cartesian, decade_tick, heatmap, line};
use crate::ui::widgets::Chart;

/// Perplexity with two decimals below 1,000, whole numbers above.
pub fn ppl_text(p: f64) -> String {
    if !p.is_finite() {
        "∞".into()
    } else if p < 1000.0 {
        format!("{p:.2}")
    } else {
        format!("{p:.0}")
    }
}

/// The paragraph box, the perplexities, KL, top-1, and each token coloured by how much its
/// log-probability moved.
#[component]
pub fn PerplexitySection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let text = Memo::new(move |_| app.ctl(|c| c.llm.text.clone()));
    let busy = move || lab.job.running();
    let readouts = move || {
        let fp = lab.fp.get()?;
        let q = lab.quant.get();
        let runs = lab.runs.get().to_string();
        // The setting the number belongs to (the controls may already show the next one).
        let label = match &q {
            Some(Ok(q)) => q.cfg.label(),
            _ => lab.cfg.get().label(),
        };
        let exact = match &q {
            Some(Ok(q)) => format!("{:.6}", q.scores.ppl),
            _ => String::new(),
        };
        let (ppl, kl, top1) = match &q {
            Some(Ok(q)) => (
                ppl_text(q.scores.ppl),
                format!("{:.4}", q.scores.kl.unwrap_or(f64::NAN)),
                format!("{:.1} %", 100.0 * q.scores.top1.unwrap_or(f64::NAN)),
            ),
            _ => ("…".into(), "…".into(), "…".into()),
        };
        Some(view! {
            <div class="readouts">
                <div class="readout">
                    <span class="k">{app.t(Msg::LlmPplFull)}</span>
                    <span class="v" data-testid="llm-ppl-full" data-value=format!("{:.6}", fp.scores.ppl)>{ppl_text(fp.scores.ppl)}</span>
                </div>
                <div class="readout">
                    <span class="k">{Msg::LlmPplQuant.fill(app.lang(), &[&label])}</span>
                    <span class="v" data-testid="llm-ppl-quant" data-run=runs data-value=exact>{ppl}</span>
                </div>
                <div class="readout">
                    <span class="k">{app.t(Msg::LlmKl)}</span>
                    <span class="v" data-testid="llm-kl">{kl}</span>
                </div>
                <div class="readout">
                    <span class="k">{app.t(Msg::LlmTop1)}</span>
                    <span class="v" data-testid="llm-top1">{top1}</span>
                </div>
            </div>
            {match q {
                Some(Err(e)) => Some(view! { <p class="control-error" role="alert" data-testid="llm-run-error">{e}</p> }.into_any()),
                Some(Ok(q)) => Some(view! {
                    <p class="muted small">{Msg::LlmRunSpeed.fill(app.lang(), &[
                        &fp.ids.len().to_string(), &format!("{:.0}", fp.ms), &format!("{:.0}", q.ms), &format!("{:.0}", q.build_ms)])}</p>
                }.into_any()),
                None => None,
            }}
        })
    };
    view! {
        <section class="card" class:updating=busy>
            <h2>{move || app.t(Msg::LlmPplTitle)}</h2>
            <label class="sentences">
                <span class="control-label">{move || app.t(Msg::LlmTextLabel)}</span>
                <textarea data-testid="llm-text" rows="6" spellcheck="false"
                    prop:value=move || text.get()
                    on:input=move |e| {
                        let v = event_target_value(&e);
                        app.set_ctl(|c| c.llm.text = v);
                    }></textarea>
            </label>
            <p class="muted small">{move || {
                let n = lab.text.with(|t| t.as_ref().map_or((0, 0), |t| (t.ids.len(), t.cut)));
                let mut s = Msg::LlmTextCount.fill(app.lang(), &[&n.0.to_string(),
                    &text.with(|t| quantlab_app::urlstate::encoded_len(t)).to_string(), &MAX_TEXT_BYTES.to_string()]);
                if n.1 > 0 {
                    s.push(' ');
                    s.push_str(&Msg::LlmTextCut.fill(app.lang(), &[&MAX_TOKENS.to_string(), &n.1.to_string()]));
                }
                s
            }}</p>
            <Show when=move || lab.text.with(|t| t.as_ref().is_some_and(|t| t.ids.len() < 2))>
                <p class="control-error" role="alert" data-testid="llm-text-short">{move || app.t(Msg::LlmTooShort)}</p>
            </Show>
            {readouts}
            <TokenShifts lab/>
        </section>
    }
}

/// Each token of the paragraph, coloured by how much the method moved its log-probability.
#[component]
fn TokenShifts(lab: Lab) -> impl IntoView {
    let app = use_app();
    let body = move || {
        let (m, fp, q) = (lab.model.get()?, lab.fp.get()?, lab.quant.get()?.ok()?);
        let words = pieces(&m, &fp.ids);
        let shift = |t: usize| -> Option<f64> {
            let i = t.checked_sub(1)?;
            Some(q.scores.token_nll.get(i)? - fp.scores.token_nll.get(i)?)
        };
        let spans = words
            .into_iter()
            .enumerate()
            .map(|(t, w)| {
                let d = shift(t);
                let style = d.map_or(String::new(), |d| {
                    let a = (d.abs() / 2.0).min(1.0) * 0.85;
                    let rgb = if d > 0.0 {
                        "214, 69, 65"
                    } else {
                        "47, 128, 237"
                    };
                    format!("background: rgba({rgb}, {a:.2})")
                });
                let title = d.map_or(String::new(), |d| format!("Δ log p = {:+.3}", -d));
                view! { <span class="lt" style=style title=title>{w}</span> }
            })
            .collect_view();
        Some(view! {
            <p class="muted small">{app.t(Msg::LlmShiftLegend)}</p>
            <p class="llm-tokens" data-testid="llm-token-shifts">{spans}</p>
        })
    };
    view! { <div>{body}</div> }
}

/// The layer from which the residual stream's largest |x| stays at least half its final size:
/// where the massive activation appears.
pub fn massive_layer(peaks: &[Peak]) -> Option<usize> {
    let top = peaks.iter().map(|p| p.max_abs).fold(0f32, f32::max);
    peaks.iter().position(|p| p.max_abs >= 0.5 * top)
}

fn draw_peaks(a: &Area, t: &ChartTheme, fp: &FpText, x_label: &str, y_label: &str) -> DrawResult {
    let l = fp.peaks.len() as f64;
    let log = |v: f32| f64::from(v.max(1e-3)).log10();
    let hi = fp.peaks.iter().map(|p| log(p.max_abs)).fold(1.0, f64::max);
    let lo = fp
        .peaks
        .iter()
        .map(|p| log(p.median_abs))
        .fold(0.0, f64::min);
    let mut chart = cartesian(
        a,
        t,
        x_label,
        y_label,
        0.0..(l - 1.0).max(1.0),
        (lo - 0.3)..(hi + 0.3),
        &decade_tick,
    )?;
    let series = |f: fn(&Peak) -> f32| {
        fp.peaks
            .iter()
            .enumerate()
            .map(|(i, p)| (i as f64, log(f(p))))
            .collect()
    };
    line(&mut chart, t, series(|p| p.max_abs), t.color(3), 2.5)?;
    line(&mut chart, t, series(|p| p.runner_up), t.color(1), 1.5)?;
    line(&mut chart, t, series(|p| p.median_abs), t.color(0), 1.5)?;
    Ok(())
}

/// Columns of the token × channel view: the channels with the largest |x| anywhere in the
/// layer's shown tokens, in channel order (all 576 would draw the massive one as a single
/// pixel column).
const HEAT_CHANNELS: usize = 24;

fn heat_channels(heat: &[f32], width: usize) -> Vec<usize> {
    let mut max = vec![0f32; width];
    for row in heat.chunks_exact(width.max(1)) {
        max.iter_mut().zip(row).for_each(|(m, &v)| *m = m.max(v));
    }
    let mut order: Vec<usize> = (0..width).collect();
    let at = |c: usize| max.get(c).copied().unwrap_or(0.0);
    order.sort_by(|&a, &b| at(b).total_cmp(&at(a)).then(a.cmp(&b)));
    order.truncate(HEAT_CHANNELS);
    order.sort_unstable();
    order
}

fn draw_heat(
    a: &Area,
    t: &ChartTheme,
    fp: &FpText,
    layer: usize,
    width: usize,
    labels: (&str, &str),
) -> DrawResult {
    let heat = fp.heat.get(layer).ok_or("no such layer")?;
    let rows = heat.len() / width.max(1);
    let cols = heat_channels(heat, width);
    let top = f64::from(heat.iter().copied().fold(1e-6f32, f32::max)).log10();
    let median = fp
        .peaks
        .get(layer)
        .map_or(1e-3, |p| f64::from(p.median_abs.max(1e-3)).log10());
    let span = (top - median).max(1e-3);
    let mut chart = cartesian(
        a,
        t,
        labels.0,
        labels.1,
        0.0..cols.len() as f64,
        0.0..rows as f64,
        &|v| format!("{}", rows as f64 - v.round()),
    )?;
    // A log colour scale from the layer's median |x| to its peak: ordinary values stay visible.
    let cells = heat.chunks_exact(width.max(1)).flat_map(|row| {
        cols.iter().map(move |&c| {
            let v = f64::from(row.get(c).copied().unwrap_or(0.0).max(1e-6)).log10();
            ((v - median) / span).clamp(0.0, 1.0)
        })
    });
    heatmap(&mut chart, t, cols.len(), cells)
}

/// The channels of the heat map, for its caption.
pub fn heat_channel_list(fp: &FpText, layer: usize, width: usize) -> String {
    fp.heat.get(layer).map_or(String::new(), |h| {
        heat_channels(h, width)
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// The residual stream across the layers: where its largest |x| sits, the token × channel view
/// of a layer, and what Sun et al. say it is.
#[component]
pub fn MassiveSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let chosen = RwSignal::new(None::<usize>);
    let layer = Memo::new(move |_| {
        let fp = lab.fp.get()?;
        chosen.get().or_else(|| massive_layer(&fp.peaks))
    });
    let readout = move || {
        let (m, fp) = (lab.model.get()?, lab.fp.get()?);
        let l = massive_layer(&fp.peaks)?;
        let p = fp.peaks.get(l)?;
        let piece = pieces(&m, &[*fp.ids.get(p.token)?]).concat();
        let ratio = p.max_abs / p.median_abs.max(1e-6);
        Some(Msg::LlmMassiveReadout.fill(
            app.lang(),
            &[
                &l.to_string(),
                &p.token.to_string(),
                &piece,
                &p.channel.to_string(),
                &format!("{:.1}", p.max_abs),
                &format!("{ratio:.0}"),
            ],
        ))
    };
    let width = move || {
        lab.model
            .with(|m| m.as_ref().map_or(1, |m| m.file.model.config().hidden))
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::LlmMassiveTitle)}</h2>
            <p>{move || app.t(Msg::LlmMassiveExplain)}</p>
            <p class="llm-massive-readout" data-testid="llm-massive" data-layer=move || layer.get().map(|l| l.to_string())>{readout}</p>
            <div class="grid-2">
                <Chart id="llm-peaks" caption=Signal::derive(move || app.t(Msg::LlmPeaksCaption).to_string())
                    draw=move |a, t| match lab.fp.get() {
                        Some(fp) => draw_peaks(a, t, &fp, app.t(Msg::LlmLayerAxis), app.t(Msg::LlmAbsAxis)),
                        None => Ok(()),
                    }/>
                <Chart id="llm-heat" caption=Signal::derive(move || Msg::LlmHeatCaption.fill(app.lang(), &[
                        &layer.get().map_or(String::new(), |l| l.to_string()), &HEAT_TOKENS.to_string(), &HEAT_CHANNELS.to_string(),
                        &match (lab.fp.get(), layer.get()) { (Some(fp), Some(l)) => heat_channel_list(&fp, l, width()), _ => String::new() }]))
                    draw=move |a, t| match (lab.fp.get(), layer.get()) {
                        (Some(fp), Some(l)) => draw_heat(a, t, &fp, l, width(), (app.t(Msg::LlmChannelAxis), app.t(Msg::LlmTokenAxis))),
                        _ => Ok(()),
                    }/>
            </div>
            <label class="control compact">
                <span class="control-label">{move || Msg::LlmShownLayer.fill(app.lang(), &[&layer.get().map_or(String::new(), |l| l.to_string())])}</span>
                <input type="range" min="0" max=move || lab.fp.with(|f| f.as_ref().map_or(0, |f| f.peaks.len().saturating_sub(1))).to_string()
                    data-testid="llm-massive-layer"
                    prop:value=move || layer.get().unwrap_or(0).to_string()
                    on:input=move |e| chosen.set(event_target_value(&e).parse().ok())/>
            </label>
            <Intervention lab layer/>
            <p class="muted small">{move || app.t(Msg::LlmMassiveCite)}</p>
        </section>
    }
}

/// Sun et al.'s intervention at the shown layer: the perplexity with token 0's largest channel
/// set to 0, and set to its mean over other texts.
#[component]
fn Intervention(lab: Lab, layer: Memo<Option<usize>>) -> impl IntoView {
    let app = use_app();
    let job = Job::yielding_to(lab.job);
    let done = RwSignal::new(Vec::<Intervened>::new());
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let _ = (lab.fp.get(), layer.get());
        job.cancel();
        done.set(Vec::new());
        error.set(None);
    });
    let start = move |_| {
        let (Some(m), Some(fp), Some(l)) = (
            lab.model.get_untracked(),
            lab.fp.get_untracked(),
            layer.get_untracked(),
        ) else {
            return;
        };
        done.set(Vec::new());
        let run = match InterventionRun::new(m, fp, l) {
            Ok(r) => r,
            Err(e) => return error.set(Some(e)),
        };
        let total = run.units();
        job.fold(
            run,
            total,
            move |r, _| {
                if r.is_done() || error.get_untracked().is_some() {
                    return;
                }
                match r.advance() {
                    Ok(Some(x)) => done.update(|d| d.push(x)),
                    Ok(None) => {}
                    Err(e) => error.set(Some(e)),
                }
            },
            |_| {},
        );
    };
    let line = move |x: &Intervened| {
        let msg = match x.kind {
            Kind::Zero => Msg::LlmInterveneZero,
            Kind::Mean => Msg::LlmInterveneMean,
        };
        msg.fill(
            app.lang(),
            &[
                &x.layer.to_string(),
                &x.channel.to_string(),
                &format!("{:.1}", x.value),
                &ppl_text(x.ppl),
            ],
        )
    };
    view! {
        <div class="intervention">
            <button type="button" class="tool" data-testid="llm-massive-intervene" disabled=move || job.running() || lab.fp.with(Option::is_none)
                on:click=start>{move || Msg::LlmInterveneRun.fill(app.lang(), &[&layer.get().map_or(String::new(), |l| l.to_string())])}</button>
            <ul class="notes-list" data-testid="llm-massive-intervention">
                <li>{move || lab.fp.get().map(|fp| Msg::LlmInterveneNone.fill(app.lang(), &[&ppl_text(fp.scores.ppl)]))}</li>
                {move || done.get().iter().map(|x| view! { <li data-kind=format!("{:?}", x.kind) data-ppl=format!("{:.6}", x.ppl)>{line(x)}</li> }).collect_view()}
            </ul>
            {move || error.get().map(|e| view! { <p class="control-error" role="alert">{e}</p> })}
        </div>
    }
}

/// A row's label (SmoothQuant's α is fixed here, not swept as in the whole-model chapter).
fn label(m: Method) -> Msg {
    match m {
        Method::W8A8Smooth => Msg::LlmMethodSmooth,
        m => m.label(),
    }
}

/// A row's name on the chart's axis (technical shorthand, the same in both languages).
fn short(m: Method) -> &'static str {
    match m {
        Method::Full => "FP",
        Method::W8A8Token => "W8A8",
        Method::W8A8Tensor => "W8A8 tensor",
        Method::W8A8Smooth => "+SmoothQuant",
        Method::W8A8Hadamard => "W8A8+H",
        Method::W4A8 => "W4A8",
        Method::W4A4 => "W4A4",
        Method::W4A4Hadamard => "W4A4+H",
        Method::W8A8Drop => "drop 2",
        _ => "",
    }
}

/// The table's perplexities as bars on a log scale (they span four decades).
fn draw_methods(a: &Area, t: &ChartTheme, lab: Lab, y_label: &str) -> DrawResult {
    let Some(fp) = lab.fp.get() else {
        return Ok(());
    };
    let mut labels = vec![short(Method::Full).to_string()];
    let mut values = vec![fp.scores.ppl.log10()];
    for (m, r) in lab.methods.get() {
        if let Ok(q) = r {
            labels.push(short(m).to_string());
            values.push(q.scores.ppl.max(1.0).log10());
        }
    }
    bar_chart(a, t, &labels, &values, y_label, &|v| {
        ppl_text(10f64.powf(v))
    })
}

/// Every method on the current paragraph, filled in as each finishes.
#[component]
pub fn MethodsSection(lab: Lab) -> impl IntoView {
    let app = use_app();
    let run_all = move |_| {
        let (Some(m), Some(text)) = (lab.model.get_untracked(), lab.text.get_untracked()) else {
            return;
        };
        let out = lab.methods;
        out.set(Vec::new());
        let mut todo: Vec<_> = METHODS
            .iter()
            .filter_map(|&me| Some((me, me.config(TABLE_ALPHA)?)))
            .collect();
        todo.reverse();
        let state: Option<(Method, TextRun)> = None;
        let total = TextRun::setting_units(&m) * todo.len();
        let store = lab.store;
        lab.methods_job.fold(
            (state, todo),
            total,
            move |(cur, todo), _| {
                if cur.is_none() {
                    let Some((me, cfg)) = todo.pop() else { return };
                    match TextRun::new(m.clone(), store, text.ids.clone(), Some(cfg), false) {
                        Ok(r) => *cur = Some((me, r)),
                        Err(e) => out.update(|v| v.push((me, Err(e)))),
                    }
                    return;
                }
                let Some((me, r)) = cur.as_mut() else { return };
                let me = *me;
                match r.advance() {
                    Ok(Event::Quant(q)) => {
                        out.update(|v| v.push((me, Ok(q))));
                        *cur = None;
                    }
                    Ok(_) if r.is_done() => *cur = None,
                    Ok(_) => {}
                    Err(e) => {
                        out.update(|v| v.push((me, Err(e))));
                        *cur = None;
                    }
                }
            },
            |_| {},
        );
    };
    let rows = move || {
        let fp = lab.fp.get()?;
        let mut rows = vec![view! {
            <tr><td>{app.t(Msg::MethodFull)}</td><td class="num">{ppl_text(fp.scores.ppl)}</td>
                <td class="num">"0"</td><td class="num">"100 %"</td><td class="num">{format!("{:.0}", fp.ms)}</td></tr>
        }.into_any()];
        rows.extend(lab.methods.get().into_iter().map(|(me, r)| match r {
            Ok(QuantScores { scores, ms, .. }) => view! {
                <tr data-method=format!("{me:?}")><td>{app.t(label(me))}</td><td class="num">{ppl_text(scores.ppl)}</td>
                    <td class="num">{format!("{:.4}", scores.kl.unwrap_or(f64::NAN))}</td>
                    <td class="num">{format!("{:.1} %", 100.0 * scores.top1.unwrap_or(f64::NAN))}</td>
                    <td class="num">{format!("{ms:.0}")}</td></tr>
            }.into_any(),
            Err(e) => view! {
                <tr data-method=format!("{me:?}")><td>{app.t(label(me))}</td><td colspan="4" class="control-error">{e}</td></tr>
            }.into_any(),
        }));
        Some(rows)
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::LlmMethodsTitle)}</h2>
            <p>{move || app.t(Msg::LlmMethodsIntro)}</p>
            <button type="button" class="tool" data-testid="llm-methods-run" disabled=move || lab.fp.with(Option::is_none)
                on:click=run_all>{move || app.t(Msg::LlmMethodsRun)}</button>
            <Show when=move || lab.methods_job.running()>
                <p class="muted small" role="status">{move || app.t(Msg::LlmMethodsRunning)}</p>
            </Show>
            <div class="table-scroll">
                <table class="methods" data-testid="llm-methods-table">
                    <thead><tr>
                        <th>{move || app.t(Msg::LlmColMethod)}</th><th>{move || app.t(Msg::LlmColPpl)}</th>
                        <th>{move || app.t(Msg::LlmColKl)}</th><th>{move || app.t(Msg::LlmColTop1)}</th><th>"ms"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <Show when=move || lab.methods.with(|m| !m.is_empty())>
                <Chart id="llm-methods-chart" caption=Signal::derive(move || app.t(Msg::LlmMethodsCaption).to_string()) aspect=0.4
                    draw=move |a, t| draw_methods(a, t, lab, app.t(Msg::LlmPplLogAxis))/>
            </Show>
        </section>
    }
}
