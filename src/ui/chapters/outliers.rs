//! Chapter 6, "Activation outliers": "Outlier 값이 중요한 건 아닐까?" on real MiniLM layers —
//! where the large activations are (token × channel heat map, per-channel profiles of X and W),
//! what they do to per-tensor / per-token / per-channel quantization, and whether they can simply
//! be dropped (they cannot: they carry signal).

use leptos::prelude::*;
use plotters::prelude::{Color, IntoFont, Rectangle, Text};

use crate::lens;
use crate::ui::data::LayerPicker;
use crate::ui::state::use_app;
use crate::ui::widgets::chart::{de, Area, ChartTheme, XMap};
use crate::ui::widgets::plot::{cartesian, heatmap, line, tick, vline};
use crate::ui::widgets::{Chart, ErrorNote, Formula, Segmented, Slider};
use crate::ui::Shared;
use quantlab_app::controls::OUTLIER_K;
use quantlab_app::i18n::Msg;
use quantlab_engine::linear::{ActGranularity, WeightGranularity};
use quantlab_engine::outliers::{
    ablate_top_k, granularity_table, outlier_stats, row_absmax, Ablation, OutlierStats,
};

pub const MAX_K: usize = OUTLIER_K.max as usize;

fn pct(v: f64) -> String {
    if v < 0.001 {
        format!("{:.3} %", v * 100.0)
    } else {
        format!("{:.2} %", v * 100.0)
    }
}

/// Per-channel bars (one bar per channel, sorted or in channel order), drawn on the raw canvas.
fn profile_bars(
    area: &Area,
    th: &ChartTheme,
    vals: &[f32],
    sorted: bool,
    color: usize,
    y_label: &str,
    x_label: &str,
) -> Result<(), String> {
    let mut v: Vec<(usize, f32)> = vals.iter().copied().enumerate().collect();
    if sorted {
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    let top = v.iter().map(|p| f64::from(p.1)).fold(1e-6, f64::max) * 1.12;
    let n = v.len().max(1) as f64;
    let fmt = |y: &f64| tick(*y);
    let mut chart = cartesian(area, th, x_label, y_label, 0.0..n, 0.0..top, &fmt)?;
    let bins: Vec<(f64, f64, f64)> = v
        .iter()
        .enumerate()
        .map(|(i, p)| (i as f64, i as f64 + 1.0, f64::from(p.1)))
        .collect();
    crate::ui::widgets::plot::histogram_bars(&mut chart, th, &bins, th.color(color), 0.85)?;
    // Name the three largest channels.
    let mut order: Vec<(usize, (usize, f32))> = v.iter().copied().enumerate().collect();
    order.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1));
    for &(i, (ch, val)) in order.iter().take(3) {
        let font = ("system-ui, sans-serif", 11.0 * th.dpr)
            .into_font()
            .color(&th.fg);
        chart
            .draw_series(std::iter::once(Text::new(
                format!("#{ch}"),
                (i as f64 + 2.0, f64::from(val)),
                font,
            )))
            .map_err(de)?;
    }
    Ok(())
}

type Computed<T> = Memo<Option<Result<Shared<T>, String>>>;

/// The selected layer and the statistics several sections read.
#[derive(Clone, Copy)]
struct OutlierLayer {
    data: Memo<Option<Shared<crate::ui::data::LayerData>>>,
    stats: Computed<OutlierStats>,
    /// max |W| per input channel.
    w_profile: Computed<Vec<f32>>,
}

#[component]
pub fn OutliersChapter() -> impl IntoView {
    let app = use_app();
    let layer = crate::ui::data::chapter_layer(lens!(outliers.layer), lens!(outliers.own));
    let data = Memo::new(move |_| layer.get().data().map(Shared));
    let stats = Memo::new(move |_| {
        let d = data.get()?;
        let c = d.case.case();
        Some(
            outlier_stats(c.x(), c.tokens(), c.in_channels(), 8)
                .map(Shared::new)
                .map_err(|e| e.to_string()),
        )
    });
    let w_profile = Memo::new(move |_| {
        let d = data.get()?;
        let c = d.case.case();
        Some(
            row_absmax(c.w(), c.in_channels(), c.out_channels())
                .map(Shared::new)
                .map_err(|e| e.to_string()),
        )
    });
    let l = OutlierLayer {
        data,
        stats,
        w_profile,
    };
    view! {
        <section class="card intro">
            <p class="big-question">"Outlier 값이 중요한 건 아닐까?"</p>
            <p>{move || app.t(Msg::OutliersIntro)}</p>
            <LayerPicker layer=lens!(outliers.layer) own=lens!(outliers.own) state=layer/>
        </section>
        <HeatSection l/>
        <ProfileSection l/>
        <GranularitySection l/>
        <AblationSection l/>
    }
}

/// Where the large activations are: token × channel, with the value under the pointer.
#[component]
fn HeatSection(l: OutlierLayer) -> impl IntoView {
    let app = use_app();
    let OutlierLayer {
        data,
        stats,
        w_profile,
    } = l;
    let hover = RwSignal::new(None::<(usize, usize)>);
    let heat_map = RwSignal::new(XMap::default());
    let draw_heat = move |area: &Area, th: &ChartTheme| {
        let Some(d) = data.get() else {
            return Err(app.t(Msg::DataWaiting).to_string());
        };
        let c = d.case.case();
        let (t, ch) = (c.tokens(), c.in_channels());
        let x = c.x();
        let amax = x.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
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
        let (px, py) = chart.plotting_area().get_pixel_range();
        heat_map.set(XMap::from_pixels(px, py, 0.0..ch as f64, th.dpr));
        // Log colour scale: a few values are 10–30× the typical one.
        let lo = (amax / 1000.0).ln();
        let span = amax.ln() - lo;
        // Image row 0 is the top of the plot, token 0 sits at the bottom (y = 0).
        let cells = x.chunks_exact(ch.max(1)).rev().flatten();
        heatmap(
            &mut chart,
            th,
            ch,
            cells.map(|v| f64::from((v.abs().max(1e-30).ln() - lo) / span)),
        )?;
        if let Some((r, cc)) = hover.get() {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(cc as f64, r as f64), (cc as f64 + 1.0, r as f64 + 1.0)],
                    th.fg.stroke_width(th.px(2.0)),
                )))
                .map_err(de)?;
        }
        Ok(())
    };

    let hover_text = move || {
        let (r, c) = hover.get()?;
        let d = data.get()?;
        let case = d.case.case();
        let v = case.x().get(r * case.in_channels() + c).copied()?;
        let token = d.tokens.get(r).cloned().unwrap_or_default();
        Some(Msg::HeatHover.fill(
            app.lang(),
            &[&token, &r.to_string(), &c.to_string(), &format!("{v:.4}")],
        ))
    };
    let on_heat_move = move |e: web_sys::PointerEvent| {
        let Some(d) = data.get_untracked() else {
            return;
        };
        let case = d.case.case();
        let m = heat_map.get_untracked();
        let Some(wrap) = e
            .current_target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
        else {
            return;
        };
        let rect = wrap.get_bounding_client_rect();
        let (x, y) = (
            f64::from(e.client_x()) - rect.left(),
            f64::from(e.client_y()) - rect.top(),
        );
        if x < m.left || x > m.right || y < m.top || y > m.bottom || m.bottom <= m.top {
            hover.set(None);
            return;
        }
        let c = ((x - m.left) / (m.right - m.left) * case.in_channels() as f64) as usize;
        let from_top = ((y - m.top) / (m.bottom - m.top) * case.tokens() as f64) as usize;
        let r = case
            .tokens()
            .saturating_sub(1 + from_top.min(case.tokens() - 1));
        hover.set(Some((r, c.min(case.in_channels() - 1))));
    };

    let stat_line = move || {
        let s = stats.get()?.ok()?;
        let w = w_profile.get()?.ok()?;
        let d = data.get()?;
        let token = d.tokens.get(s.absmax_at.0).cloned().unwrap_or_default();
        let wmed = quantlab_engine::outliers::median(&w);
        let wmax = w.iter().fold(0f32, |m, v| m.max(*v));
        let top: Vec<String> = s
            .top
            .iter()
            .take(4)
            .map(|(c, v)| format!("#{c} ({v:.2})"))
            .collect();
        Some(Msg::OutlierStats.fill(
            app.lang(),
            &[
                &format!("{:.2}", s.absmax),
                &token,
                &s.absmax_at.1.to_string(),
                &format!("{:.1}", s.profile.max_over_median),
                &format!("{:.1}", f64::from(wmax / wmed.max(1e-12))),
                &format!("{:.1}", s.kurtosis),
                &top.join(", "),
            ],
        ))
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::HeatTitle)}</h2>
            <Chart id="heatmap-chart" caption=Signal::derive(move || app.t(Msg::HeatCaption).to_string()) aspect=0.45 draw=draw_heat>
                <div class="hover-layer full" on:pointermove=on_heat_move on:pointerdown=on_heat_move on:pointerleave=move |_| hover.set(None)></div>
            </Chart>
            <p class="hover-readout" data-testid="heat-hover">{move || hover_text().unwrap_or_else(|| app.t(Msg::HeatHoverHint).to_string())}</p>
            <p data-testid="outlier-stats">{stat_line}</p>
            <ErrorNote error=Signal::derive(move || {
                stats.get().and_then(|s| s.err()).or_else(|| w_profile.get().and_then(|w| w.err()))
            })/>
        </section>
    }
}

/// max |x| per channel of X and max |w| per input channel of W, sorted or in channel order.
#[component]
fn ProfileSection(l: OutlierLayer) -> impl IntoView {
    let app = use_app();
    let OutlierLayer {
        stats, w_profile, ..
    } = l;
    let sorted = Memo::new(move |_| app.ctl(|c| c.outliers.sorted));
    let draw_x_profile = move |area: &Area, th: &ChartTheme| {
        let s = match stats.get() {
            Some(s) => s?,
            None => return Err(app.t(Msg::DataWaiting).to_string()),
        };
        profile_bars(
            area,
            th,
            &s.profile.absmax,
            sorted.get(),
            0,
            app.t(Msg::MaxAbsX),
            app.t(if sorted.get() {
                Msg::ChannelRank
            } else {
                Msg::ChannelAxis
            }),
        )
    };
    let draw_w_profile = move |area: &Area, th: &ChartTheme| {
        let w = match w_profile.get() {
            Some(w) => w?,
            None => return Err(app.t(Msg::DataWaiting).to_string()),
        };
        profile_bars(
            area,
            th,
            &w,
            sorted.get(),
            1,
            app.t(Msg::MaxAbsW),
            app.t(if sorted.get() {
                Msg::ChannelRank
            } else {
                Msg::ChannelAxis
            }),
        )
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::ProfileTitle)}</h2>
            <label class="control compact check">
                <input type="checkbox" prop:checked=move || sorted.get() on:change=move |e| {
                    let on = event_target_checked(&e);
                    app.set_ctl(|c| c.outliers.sorted = on);
                }/>
                <span>{move || app.t(Msg::SortChannels)}</span>
            </label>
            <div class="grid-2">
                <Chart id="profile-chart" caption=Signal::derive(move || app.t(Msg::ProfileXCaption).to_string()) aspect=0.6 draw=draw_x_profile/>
                <Chart id="w-profile-chart" caption=Signal::derive(move || app.t(Msg::ProfileWCaption).to_string()) aspect=0.6 draw=draw_w_profile/>
            </div>
            <p class="muted">{move || app.t(Msg::ProfileNote)}</p>
        </section>
    }
}

/// Per-tensor, per-token and per-channel activation scales at 8 and 4 bits.
#[component]
fn GranularitySection(l: OutlierLayer) -> impl IntoView {
    let app = use_app();
    let data = l.data;
    let table = Memo::new(move |_| {
        let d = data.get()?;
        Some(
            granularity_table(
                d.case.case(),
                &[8, 4],
                WeightGranularity::PerOutputChannel,
                8,
            )
            .map(Shared::new)
            .map_err(|e| e.to_string()),
        )
    });
    let table_rows = move || {
        match table.get() {
        None => view! { <tr><td colspan="4">{app.t(Msg::DataWaiting)}</td></tr> }.into_any(),
        Some(Err(e)) => view! { <tr><td colspan="4" class="control-error">{e}</td></tr> }.into_any(),
        Some(Ok(rows)) => rows
            .iter()
            .map(|r| {
                let name = match r.act {
                    ActGranularity::PerTensor => app.t(Msg::PerTensor),
                    ActGranularity::PerToken => app.t(Msg::PerToken),
                    ActGranularity::PerChannel => app.t(Msg::PerChannelNotGemm),
                    ActGranularity::Float => "float",
                };
                view! { <tr><td>{name}</td><td>{format!("A{}", r.a_bits)}</td><td>{pct(r.x_rel_err)}</td><td><strong>{pct(r.y_rel_err)}</strong></td></tr> }
            })
            .collect_view()
            .into_any(),
    }
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::GranTitle)}</h2>
            <div class="table-scroll">
                <table class="data" data-testid="granularity-table">
                    <thead><tr><th>{move || app.t(Msg::ActScales)}</th><th>{move || app.t(Msg::Bits)}</th><th>{move || app.t(Msg::ErrX)}</th><th>{move || app.t(Msg::ErrY)}</th></tr></thead>
                    <tbody>{table_rows}</tbody>
                </table>
            </div>
            <p>{move || app.t(Msg::GemmWhy)}</p>
            <Formula mathml=Signal::derive(|| crate::formulas::PER_TOKEN_FACTOR.to_string())/>
            <Formula mathml=Signal::derive(|| crate::formulas::PER_CHANNEL_NO_FACTOR.to_string())/>
        </section>
    }
}

/// Zero (or clip) the top-k channels and watch Y change: the outliers carry signal.
#[component]
fn AblationSection(l: OutlierLayer) -> impl IntoView {
    let app = use_app();
    let data = l.data;
    let k = Memo::new(move |_| usize::from(app.ctl(|c| c.outliers.k)));
    let how = Memo::new(move |_| Ablation::from(app.ctl(|c| c.outliers.ablate)));
    // Ablation for every k at once: the curve, and the current k's point on it.
    let ablation_curve = Memo::new(move |_| {
        let d = data.get()?;
        let h = how.get();
        let pts: Result<Vec<(usize, f64, f64)>, String> = (0..=MAX_K)
            .map(|kk| {
                ablate_top_k(d.case.case(), kk, h)
                    .map(|r| (kk, r.rel_change, r.x_rel_change))
                    .map_err(|e| e.to_string())
            })
            .collect();
        Some(pts.map(Shared::new))
    });
    let ablation_now = move || {
        ablation_curve
            .get()
            .and_then(|c| c.ok())
            .and_then(|c| c.iter().find(|p| p.0 == k.get()).copied())
    };

    let draw_ablation = move |area: &Area, th: &ChartTheme| {
        let c = match ablation_curve.get() {
            Some(c) => c?,
            None => return Err(app.t(Msg::DataWaiting).to_string()),
        };
        let top = c.iter().map(|p| p.1.max(p.2)).fold(1e-6, f64::max) * 1.15;
        let fmt = |y: &f64| format!("{:.0} %", y * 100.0);
        let mut chart = cartesian(
            area,
            th,
            app.t(Msg::AblatedChannels),
            app.t(Msg::RelChange),
            0.0..MAX_K as f64,
            0.0..top,
            &fmt,
        )?;
        line(
            &mut chart,
            th,
            c.iter().map(|p| (p.0 as f64, p.1)).collect(),
            th.color(3),
            2.5,
        )?;
        line(
            &mut chart,
            th,
            c.iter().map(|p| (p.0 as f64, p.2)).collect(),
            th.color(0),
            1.5,
        )?;
        vline(&mut chart, th, k.get() as f64, th.muted, "k", true)?;
        let font = ("system-ui, sans-serif", 12.0 * th.dpr).into_font();
        chart
            .draw_series(std::iter::once(Text::new(
                app.t(Msg::ChangeOfY).to_string(),
                (MAX_K as f64 * 0.55, top * 0.9),
                font.clone().color(&th.color(3)),
            )))
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(Text::new(
                app.t(Msg::ChangeOfX).to_string(),
                (MAX_K as f64 * 0.55, top * 0.8),
                font.color(&th.color(0)),
            )))
            .map_err(de)?;
        Ok(())
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::AblationTitle)}</h2>
            <p>{move || app.t(Msg::AblationIntro)}</p>
            <div class="controls">
                <Slider label=Signal::derive(move || app.t(Msg::AblationK).to_string()) value=Signal::derive(move || k.get() as f64)
                    min=0.0 max=MAX_K as f64 step=1.0 testid="ablation-slider"
                    format=Callback::new(move |v: f64| format!("k = {v}"))
                    on_change=Callback::new(move |v: f64| {
                        app.set_ctl(|c| c.outliers.k = v.round() as u8);
                        true
                    })/>
                <Segmented label=Signal::derive(move || app.t(Msg::AblationHow).to_string())
                    value=Signal::derive(move || app.ctl(|c| c.outliers.ablate))
                    on_change=Callback::new(move |v| app.set_ctl(|c| c.outliers.ablate = v))
                    testid="ablation-toggle"/>
            </div>
            <p data-testid="ablation-readout" data-value=move || ablation_now().map(|(_, y, _)| y.to_string())>{move || ablation_now().zip(data.get()).map(|((kk, y, x), d)| {
                let c = d.case.case().in_channels().to_string();
                Msg::AblationLine.fill(app.lang(), &[&kk.to_string(), &c, &pct(x), &pct(y)])
            })}</p>
            <Chart id="ablation-chart" caption=Signal::derive(move || app.t(Msg::AblationCaption).to_string()) aspect=0.4 draw=draw_ablation/>
        </section>
    }
}
