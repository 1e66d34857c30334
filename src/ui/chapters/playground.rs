//! Chapter 10, "Playground": the reader's own tensor through the same machinery — granularity
//! (per-tensor, per-channel along either axis, per-token, per-group), calibrator, bits — with the
//! range and error of every group, and downloads of the dequantized tensor and the metrics.

use leptos::prelude::*;
use ndarray::ArrayView2;
use plotters::prelude::{Color, PathElement};
use wasm_bindgen::JsValue;

use super::formats::FormatsSection;
use super::quant_common::{fmt_bytes, fmt_num, memory_bytes, scheme_controls, QuantSetup, Readout};
use crate::lens;
use crate::ui::data::DataPicker;
use crate::ui::dom;
use crate::ui::perf;
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{de, Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{cartesian, decade_tick, line, tick};
use crate::ui::widgets::{Chart, ErrorNote, Segmented};
use crate::ui::Shared;
use quantlab_app::controls::{CalibChoice, GranChoice};
use quantlab_app::i18n::Msg;
use quantlab_engine::{quantize_granular, write_npy_f32, GranularResult, NonFinitePolicy};

/// The per-group metrics as CSV (one row per group, then the overall row).
fn metrics_csv(r: &GranularResult) -> String {
    let mut out = String::from("group,alpha,beta,scale,zero_point,n,mse,sqnr_db,max_abs_err,clipped_fraction,rounding_mse,clipping_mse\n");
    let row = |name: &str,
               a: String,
               b: String,
               s: String,
               z: String,
               m: &quantlab_engine::RoundTripMetrics| {
        format!(
            "{name},{a},{b},{s},{z},{},{},{},{},{},{},{}\n",
            m.n,
            m.mse,
            m.sqnr_db,
            m.max_abs_err,
            m.clipped_fraction,
            m.rounding_mse,
            m.clipping_mse
        )
    };
    for (i, g) in r.groups.iter().enumerate() {
        out.push_str(&row(
            &i.to_string(),
            g.alpha.to_string(),
            g.beta.to_string(),
            g.params.scale.to_string(),
            g.params.zero_point.to_string(),
            &g.metrics,
        ));
    }
    out.push_str(&row(
        "all",
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        &r.overall,
    ));
    out
}

/// Offers `bytes` as a file download; an error if the browser refuses to make the file.
fn download_bytes(bytes: &[u8], mime: &str, name: &str) -> Result<(), String> {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&JsValue::from(array));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let failed = |e: JsValue| {
        format!(
            "{name}: {}",
            e.as_string().unwrap_or_else(|| format!("{e:?}"))
        )
    };
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(failed)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(failed)?;
    dom::download_url(&url, name);
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

type PlaygroundResult = Memo<Option<Result<Shared<GranularResult>, String>>>;

#[component]
pub fn PlaygroundChapter() -> impl IntoView {
    let app = use_app();
    let setup = QuantSetup::new(lens!(playground.data), lens!(playground.scheme), None);
    let gran = Memo::new(move |_| app.ctl(|c| c.playground.granularity()));
    let cal = Memo::new(move |_| app.ctl(|c| c.playground.calibrator()));
    let result = Memo::new(move |_| {
        let t = setup.tensor.get()?;
        let scheme = match setup.scheme.get() {
            Ok(s) => s,
            Err(e) => return Some(Err(e.to_string())),
        };
        let (r, c) = t.0.rows_cols();
        let view = match ArrayView2::from_shape((r, c), &t.0.data) {
            Ok(v) => v,
            Err(e) => return Some(Err(e.to_string())),
        };
        let out = perf::time("granular quantize", || {
            quantize_granular(view, &scheme, gran.get(), &cal.get(), NonFinitePolicy::Skip)
        });
        Some(out.map(Shared::new).map_err(|e| e.to_string()))
    });

    let ok = move || result.get().and_then(|r| r.ok());
    view! {
        <section class="card intro"><p>{move || app.t(Msg::PlaygroundIntro)}</p></section>
        <section class="card">
            <DataPicker data=lens!(playground.data)/>
            {scheme_controls(lens!(playground.scheme), setup)}
            <div class="controls">
                <Segmented label=Signal::derive(move || app.t(Msg::GranularityLabel).to_string())
                    value=Signal::derive(move || app.ctl(|c| c.playground.gran))
                    on_change=Callback::new(move |v| app.set_ctl(|c| c.playground.gran = v))
                    testid="granularity-toggle"/>
                <Show when=move || app.ctl(|c| c.playground.gran) == GranChoice::Group>
                    <label class="control compact">
                        <span class="control-label">"G"</span>
                        <select data-testid="group-size" prop:value=move || app.ctl(|c| c.playground.group).to_string()
                            on:change=move |e| {
                                if let Ok(g) = event_target_value(&e).parse::<u8>() {
                                    app.set_ctl(|c| c.playground.group = g);
                                }
                            }>
                            {[8u8, 16, 32, 64, 128].into_iter().map(|g| view! {
                                <option value=g.to_string() selected=move || app.ctl(|c| c.playground.group) == g>{g}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
                <Segmented label=Signal::derive(move || app.t(Msg::CalibratorLabel).to_string())
                    value=Signal::derive(move || app.ctl(|c| c.playground.calib))
                    on_change=Callback::new(move |v: CalibChoice| app.set_ctl(|c| c.playground.calib = v))
                    testid="calibrator-toggle"/>
            </div>
        </section>
        <ResultSection setup result/>
        <FormatsSection setup/>
        <div class="grid-2">
            <section class="card">
                <h2>{move || app.t(Msg::GroupRangesTitle)}</h2>
                <Chart id="group-ranges-chart" caption=Signal::derive(move || app.t(Msg::GroupRangesCaption).to_string()) aspect=0.6 draw=move |a: &Area, th: &ChartTheme| match ok() {
                    Some(r) => draw_ranges(a, th, &r, app),
                    None => Err(app.t(Msg::DataWaiting).to_string()),
                }/>
            </section>
            <section class="card">
                <h2>{move || app.t(Msg::GroupErrorTitle)}</h2>
                <Chart id="group-error-chart" caption=Signal::derive(move || app.t(Msg::GroupErrorCaption).to_string()) aspect=0.6 draw=move |a: &Area, th: &ChartTheme| match ok() {
                    Some(r) => draw_group_errors(a, th, &r, app),
                    None => Err(app.t(Msg::DataWaiting).to_string()),
                }/>
            </section>
        </div>
        <p class="muted small" data-testid="cli-equivalent">{move || ok().map(|r| Msg::CliEquivalent.fill(app.lang(), &[&r.granularity.describe(), &fmt_num(r.overall.rel_err, 4)]))}</p>
    }
}

/// The overall errors, the groups, the memory and the downloads.
#[component]
fn ResultSection(setup: QuantSetup, result: PlaygroundResult) -> impl IntoView {
    let app = use_app();
    let ok = move || result.get().and_then(|r| r.ok());
    let err = move || result.get().and_then(|r| r.err());
    let stem = move || {
        setup
            .tensor
            .get()
            .map(|t| {
                t.0.name
                    .trim_end_matches(".npy")
                    .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
            })
            .unwrap_or_default()
    };
    let download_error = RwSignal::new(None::<String>);
    let download_npy = move |_| {
        let (Some(r), Some(t)) = (ok(), setup.tensor.get_untracked()) else {
            return;
        };
        let flat: Vec<f32> = r.dequantized.iter().copied().collect();
        let name = format!("{}_dequantized.npy", stem());
        let done = write_npy_f32(&t.0.shape, &flat)
            .map_err(|e| e.to_string())
            .and_then(|bytes| download_bytes(&bytes, "application/octet-stream", &name));
        download_error.set(done.err());
    };
    let download_csv = move |_| {
        let Some(r) = ok() else { return };
        let name = format!("{}_metrics.csv", stem());
        download_error.set(download_bytes(metrics_csv(&r).as_bytes(), "text/csv", &name).err());
    };
    let groups_text = move || {
        ok().map(|r| {
            Msg::GroupsLine.fill(
                app.lang(),
                &[
                    &r.groups.len().to_string(),
                    &r.param_shape
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(" × "),
                ],
            )
        })
    };
    let memory = move || {
        let r = ok()?;
        let (fp, q) = memory_bytes(r.overall.n, setup.choice.with(|c| c.bits), r.groups.len());
        Some(Msg::MemoryGroups.fill(
            app.lang(),
            &[&fmt_bytes(fp), &fmt_bytes(q), &r.groups.len().to_string()],
        ))
    };

    view! {
        <section class="card">
            <Show when=move || err().is_some()>
                <p class="control-error" role="alert" data-testid="playground-error">{move || err().unwrap_or_default()}</p>
            </Show>
            <p data-testid="groups-line">{groups_text}</p>
            <div class="readouts">
                <Readout label=Msg::Mse testid="mse-readout" value=Signal::derive(move || ok().map(|r| r.overall.mse)) digits=4/>
                <Readout label=Msg::Sqnr testid="sqnr-readout" value=Signal::derive(move || ok().map(|r| r.overall.sqnr_db)) digits=3 unit=" dB"/>
                <Readout label=Msg::MaxErr testid="maxerr-readout" value=Signal::derive(move || ok().map(|r| r.overall.max_abs_err)) digits=4/>
                <Readout label=Msg::ClippedPct testid="clipped-readout" value=Signal::derive(move || ok().map(|r| 100.0 * r.overall.clipped_fraction)) digits=3 unit=" %"/>
            </div>
            <p class="memory">{memory}</p>
            <div class="controls">
                <button type="button" class="tool accent" data-testid="download-npy" on:click=download_npy>{move || app.t(Msg::DownloadNpy)}</button>
                <button type="button" class="tool" data-testid="download-csv" on:click=download_csv>{move || app.t(Msg::DownloadCsv)}</button>
            </div>
            <ErrorNote error=download_error testid="download-error"/>
        </section>
    }
}

/// [α, β] of every group (bars up to 400 groups, then only the two lines).
fn draw_ranges(area: &Area, th: &ChartTheme, r: &GranularResult, app: AppState) -> DrawResult {
    let n = r.groups.len();
    let lo = r
        .groups
        .iter()
        .map(|g| f64::from(g.alpha))
        .fold(f64::INFINITY, f64::min);
    let hi = r
        .groups
        .iter()
        .map(|g| f64::from(g.beta))
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = (hi - lo).abs().max(1e-6) * 0.06;
    let fmt = |v: &f64| tick(*v);
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::GroupAxis),
        app.t(Msg::RangeAxis),
        -0.5..(n as f64 - 0.5),
        (lo - pad)..(hi + pad),
        &fmt,
    )?;
    if n <= 400 {
        chart
            .draw_series(r.groups.iter().enumerate().map(|(i, g)| {
                PathElement::new(
                    vec![
                        (i as f64, f64::from(g.alpha)),
                        (i as f64, f64::from(g.beta)),
                    ],
                    th.color(0).mix(0.55).stroke_width(th.px(2.0)),
                )
            }))
            .map_err(de)?;
    }
    line(
        &mut chart,
        th,
        r.groups
            .iter()
            .enumerate()
            .map(|(i, g)| (i as f64, f64::from(g.beta)))
            .collect(),
        th.color(1),
        1.5,
    )?;
    line(
        &mut chart,
        th,
        r.groups
            .iter()
            .enumerate()
            .map(|(i, g)| (i as f64, f64::from(g.alpha)))
            .collect(),
        th.color(0),
        1.5,
    )?;
    Ok(())
}

/// The round-trip MSE of every group on a log axis.
fn draw_group_errors(
    area: &Area,
    th: &ChartTheme,
    r: &GranularResult,
    app: AppState,
) -> DrawResult {
    let n = r.groups.len();
    let vals: Vec<f64> = r
        .groups
        .iter()
        .map(|g| g.metrics.mse.max(1e-30).log10())
        .collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min).floor();
    let hi = vals
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil()
        + 0.2;
    let fmt = decade_tick;
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::GroupAxis),
        app.t(Msg::MseLog),
        -0.5..(n as f64 - 0.5),
        lo..hi,
        &fmt,
    )?;
    chart
        .draw_series(vals.iter().enumerate().map(|(i, v)| {
            plotters::prelude::Rectangle::new(
                [(i as f64 - 0.4, lo), (i as f64 + 0.4, *v)],
                th.color(3).mix(0.8).filled(),
            )
        }))
        .map_err(de)?;
    Ok(())
}
