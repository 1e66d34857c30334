//! Chapter 1, "Why quantize?": smaller (model sizes computed from the architectures, with the
//! scale/zero-point overhead of each granularity) and faster (int8 vs f32 matrix multiplication
//! benchmarked live in the reader's browser with the engine's SIMD128 kernels).

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use super::quant_common::fmt_bytes;
use crate::ui::dom;
use crate::ui::job::Job;
use crate::ui::state::use_app;
use crate::ui::widgets::chart::{Area, ChartTheme};
use crate::ui::widgets::plot::bar_chart;
use crate::ui::widgets::{Chart, Segmented};
use quantlab_app::i18n::Msg;
use quantlab_app::models::{model_bytes, overhead_bits_per_weight, Model, ScaleGranularity};
use quantlab_engine::kernels::{
    self, gemm_f32, gemm_i8, ActGranularity, PackedF32, PackedI8, QLinear,
};
use quantlab_engine::synth::Pcg32;

/// (M, K, N, label): a real layer, a square one, and matrix–vector (one token at a time).
pub const SHAPES: [(usize, usize, usize, &str); 3] = [
    (128, 384, 1536, "MiniLM FFN"),
    (256, 768, 768, "768²"),
    (1, 2048, 2048, "GEMV"),
];
const RUNS: usize = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Case {
    F32,
    I8,
    QLinear,
}

impl Case {
    const ALL: [Case; 3] = [Case::F32, Case::I8, Case::QLinear];
    fn name(self) -> &'static str {
        match self {
            Case::F32 => "f32 GEMM",
            Case::I8 => "int8 GEMM (i8·i8→i32)",
            Case::QLinear => "int8 linear (quantize + GEMM + dequantize)",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BenchRow {
    shape: usize,
    case: Case,
    median_ms: f64,
    gops: f64,
}

/// The prepared operands of one shape (freed when the shape is done).
struct Operands {
    m: usize,
    k: usize,
    a: Vec<f32>,
    a8: Vec<i8>,
    bf: PackedF32,
    b8: PackedI8,
    lin: QLinear,
    cf: Vec<f32>,
    c32: Vec<i32>,
}

fn prepare(m: usize, k: usize, n: usize, seed: u64) -> Result<Operands, String> {
    let mut r = Pcg32::new(seed);
    let a: Vec<f32> = (0..m * k).map(|_| r.normal() as f32).collect();
    let w: Vec<f32> = (0..k * n).map(|_| (r.normal() * 0.05) as f32).collect();
    let a8: Vec<i8> = (0..m * k)
        .map(|_| (r.next_u32() % 255) as i32 as i8)
        .collect();
    let w8: Vec<i8> = (0..k * n)
        .map(|_| (r.next_u32() % 255) as i32 as i8)
        .collect();
    let e = |e: quantlab_engine::kernels::KernelError| e.to_string();
    Ok(Operands {
        m,
        k,
        bf: PackedF32::pack(&w, k, n).map_err(e)?,
        b8: PackedI8::pack(&w8, k, n).map_err(e)?,
        lin: QLinear::new(&w, k, n, None, 8).map_err(e)?,
        a,
        a8,
        cf: vec![0.0; m * n],
        c32: vec![0; m * n],
    })
}

fn run_case(op: &mut Operands, case: Case) -> Result<(), String> {
    let e = |e: quantlab_engine::kernels::KernelError| e.to_string();
    match case {
        Case::F32 => gemm_f32(&op.a, op.m, op.k, &op.bf, &mut op.cf).map_err(e),
        Case::I8 => gemm_i8(&op.a8, op.m, op.k, &op.b8, &mut op.c32).map_err(e),
        Case::QLinear => op
            .lin
            .forward(&op.a, op.m, ActGranularity::PerToken, 8, &mut op.cf)
            .map_err(e),
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn markdown(rows: &[BenchRow]) -> String {
    let mut s = String::from(
        "| shape (M×K×N) | kernel | median ms | GOPS | vs f32 |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        let Some(&(m, k, n, label)) = SHAPES.get(r.shape) else {
            continue;
        };
        let f32_ms = rows
            .iter()
            .find(|x| x.shape == r.shape && x.case == Case::F32)
            .map(|x| x.median_ms);
        let speed = f32_ms
            .map(|f| format!("{:.2}×", f / r.median_ms))
            .unwrap_or_default();
        s.push_str(&format!(
            "| {m}×{k}×{n} ({label}) | {} | {:.3} | {:.1} | {speed} |\n",
            r.case.name(),
            r.median_ms,
            r.gops
        ));
    }
    s.push_str(&format!(
        "\nkernels: {}; measured in {}\n",
        kernels::KERNEL_NAME,
        dom::window()
            .and_then(|w| w.navigator().user_agent().ok())
            .unwrap_or_default()
    ));
    s
}

fn copy_to_clipboard(text: &str) -> bool {
    let Some(w) = dom::window() else { return false };
    let Ok(clip) = js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("clipboard")) else {
        return false;
    };
    let Ok(f) = js_sys::Reflect::get(&clip, &JsValue::from_str("writeText")) else {
        return false;
    };
    let Some(f) = f.dyn_ref::<js_sys::Function>() else {
        return false;
    };
    match f
        .call1(&clip, &JsValue::from_str(text))
        .ok()
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
    {
        Some(p) => {
            let ignore = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(|_| {});
            let _ = p.catch(&ignore);
            ignore.forget();
            true
        }
        None => false,
    }
}

/// What one benchmark run carries between its slices.
#[derive(Default)]
struct BenchState {
    /// The current shape's matrices, freed before the next shape.
    operands: Option<Operands>,
    /// Timings of the current case (ms), warm-up excluded.
    times: Vec<f64>,
    /// The first error: the run stops there.
    failed: Option<String>,
}

#[component]
pub fn WhyChapter() -> impl IntoView {
    let app = use_app();
    view! {
        <section class="card intro">
            <ul class="bullets">
                <li>{move || app.t(Msg::WhyPoint1)}</li>
                <li>{move || app.t(Msg::WhyPoint2)}</li>
                <li>{move || app.t(Msg::WhyPoint3)}</li>
            </ul>
        </section>
        <SmallerSection/>
        <FasterSection/>
    }
}

/// Model sizes at each precision, and what the scales cost per granularity.
#[component]
fn SmallerSection() -> impl IntoView {
    let app = use_app();
    let model = Memo::new(move |_| Model::of(app.ctl(|c| c.why.model)));
    let draw_sizes = move |area: &Area, th: &ChartTheme| {
        let m = model.get();
        let gb = m.params() > 1_000_000_000;
        let unit = if gb { 1e9 } else { 1e6 };
        let vals: Vec<f64> = [
            (32, ScaleGranularity::PerChannel),
            (16, ScaleGranularity::PerChannel),
            (8, ScaleGranularity::PerChannel),
            (4, ScaleGranularity::PerGroup(128)),
        ]
        .iter()
        .map(|&(b, g)| model_bytes(&m, b, g) as f64 / unit)
        .collect();
        let labels: Vec<String> = ["FP32", "FP16", "INT8", "INT4 (g128)"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let unit_name = if gb { "GB" } else { "MB" };
        bar_chart(
            area,
            th,
            &labels,
            &vals,
            &format!("{} ({unit_name})", app.t(Msg::ModelSize)),
            &|v| format!("{v:.1} {unit_name}"),
        )
    };

    let overhead_rows = move || {
        let m = model.get();
        [
            ("per-tensor", ScaleGranularity::PerTensor),
            ("per-channel", ScaleGranularity::PerChannel),
            ("per-group 128", ScaleGranularity::PerGroup(128)),
            ("per-group 32", ScaleGranularity::PerGroup(32)),
        ]
        .into_iter()
        .map(|(name, g)| {
            let ov = overhead_bits_per_weight(&m, g);
            view! {
                <tr>
                    <td>{name}</td>
                    <td>{format!("{ov:.4}")}</td>
                    <td>{fmt_bytes(model_bytes(&m, 8, g) as usize)}</td>
                    <td>{fmt_bytes(model_bytes(&m, 4, g) as usize)}</td>
                </tr>
            }
        })
        .collect_view()
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::SmallerTitle)}</h2>
            <Segmented label=Signal::derive(move || app.t(Msg::ModelLabel).to_string())
                value=Signal::derive(move || app.ctl(|c| c.why.model))
                on_change=Callback::new(move |v| app.set_ctl(|c| c.why.model = v))
                testid="model-toggle"/>
            <Chart id="sizes-chart" caption=Signal::derive(move || Msg::SizesCaption.fill(app.lang(), &[model.get().name, &model.get().params().to_string()])) aspect=0.4 draw=draw_sizes/>
            <p class="muted small">{move || app.t(Msg::SizesNote)}</p>
            <div class="table-scroll">
                <table class="data" data-testid="overhead-table">
                    <thead><tr><th>{move || app.t(Msg::Granularity)}</th><th>{move || app.t(Msg::OverheadBits)}</th><th>"INT8"</th><th>"INT4"</th></tr></thead>
                    <tbody>{overhead_rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// int8 against f32 matrix products on this machine, in slices, with the table to copy.
#[component]
fn FasterSection() -> impl IntoView {
    let app = use_app();
    let rows = RwSignal::new(Vec::<BenchRow>::new());
    let job = Job::new();
    let copied = RwSignal::new(None::<bool>);
    let bench_error = RwSignal::new(None::<String>);
    let run = move |_| {
        if job.running() {
            job.cancel();
            return;
        }
        rows.set(Vec::new());
        copied.set(None);
        bench_error.set(None);
        // Steps: per shape, one preparation step then RUNS + 1 (warm-up) runs of each case.
        let per_shape = 1 + Case::ALL.len() * (RUNS + 1);
        job.fold(
            BenchState::default(),
            SHAPES.len() * per_shape,
            move |st, i| {
                let (shape, j) = (i / per_shape, i % per_shape);
                let Some(&(m, k, n, _)) = SHAPES.get(shape) else {
                    return;
                };
                if st.failed.is_some() {
                    return;
                }
                if j == 0 {
                    match prepare(m, k, n, shape as u64 + 1) {
                        Ok(op) => st.operands = Some(op),
                        Err(e) => {
                            bench_error.set(Some(e.clone()));
                            st.failed = Some(e);
                        }
                    }
                    return;
                }
                let (case_i, run_i) = ((j - 1) / (RUNS + 1), (j - 1) % (RUNS + 1));
                let Some(&case) = Case::ALL.get(case_i) else {
                    return;
                };
                let Some(op) = st.operands.as_mut() else {
                    return;
                };
                let t0 = dom::now_ms();
                if let Err(e) = run_case(op, case) {
                    bench_error.set(Some(e.clone()));
                    st.failed = Some(e);
                    return;
                }
                let dt = dom::now_ms() - t0;
                if run_i == 0 {
                    st.times.clear(); // warm-up run (JIT tier-up, first touch of memory) not counted
                    return;
                }
                st.times.push(dt.max(1e-3));
                if run_i == RUNS {
                    let med = median(&mut st.times);
                    let gops = 2.0 * (m * k * n) as f64 / (med * 1e6);
                    rows.update(|r| {
                        r.push(BenchRow {
                            shape,
                            case,
                            median_ms: med,
                            gops,
                        })
                    });
                    st.times.clear();
                    if case_i + 1 == Case::ALL.len() {
                        st.operands = None; // free this shape's operands before the next one
                    }
                }
            },
            |_| {},
        );
    };

    let table = move || {
        let all = rows.get();
        all.iter()
            .map(|r| {
                let Some(&(m, k, n, label)) = SHAPES.get(r.shape) else {
                    return None; // rows only ever hold indices into SHAPES
                };
                let f32_ms = all
                    .iter()
                    .find(|x| x.shape == r.shape && x.case == Case::F32)
                    .map(|x| x.median_ms);
                let speed = f32_ms
                    .map(|f| format!("{:.2}×", f / r.median_ms))
                    .unwrap_or_default();
                Some(view! {
                    <tr>
                        <td>{format!("{m}×{k}×{n} ({label})")}</td>
                        <td>{r.case.name()}</td>
                        <td>{format!("{:.3}", r.median_ms)}</td>
                        <td class="gops">{format!("{:.1}", r.gops)}</td>
                        <td>{speed}</td>
                    </tr>
                })
            })
            .collect_view()
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::FasterTitle)}</h2>
            <p>{move || app.t(Msg::FasterIntro)}</p>
            <p class="muted small" data-testid="simd-status">{move || Msg::SimdStatus.fill(app.lang(), &[kernels::KERNEL_NAME])}</p>
            <div class="controls">
                <button type="button" class="tool accent" data-testid="bench-run" on:click=run>
                    {move || if job.running() { app.t(Msg::BenchStop) } else { app.t(Msg::BenchRun) }}
                </button>
                <Show when=move || job.running()>
                    <progress data-testid="bench-progress" max=move || job.progress.get().map(|p| p.1).unwrap_or(1) value=move || job.progress.get().map(|p| p.0).unwrap_or(0)></progress>
                </Show>
                <Show when=move || !rows.with(|r| r.is_empty())>
                    <button type="button" class="tool" data-testid="bench-copy" on:click=move |_| copied.set(Some(copy_to_clipboard(&markdown(&rows.get_untracked())))) >
                        {move || app.t(Msg::CopyTable)}
                    </button>
                </Show>
            </div>
            <Show when=move || !rows.with(|r| r.is_empty())>
                <div class="table-scroll">
                    <table class="data" data-testid="bench-table">
                        <thead><tr><th>{move || app.t(Msg::Shape)}</th><th>{move || app.t(Msg::Kernel)}</th><th>"ms"</th><th>"GOPS"</th><th>{move || app.t(Msg::VsF32)}</th></tr></thead>
                        <tbody>{table}</tbody>
                    </table>
                </div>
            </Show>
            <Show when=move || copied.get() == Some(false)>
                <textarea class="copy-fallback" readonly rows="8">{move || markdown(&rows.get())}</textarea>
            </Show>
            <Show when=move || bench_error.with(|e| e.is_some())>
                <p class="control-error" role="alert">{move || bench_error.get().unwrap_or_default()}</p>
            </Show>
            <p class="muted">{move || app.t(Msg::BenchHonest)}</p>
        </section>
    }
}
