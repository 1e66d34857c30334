//! Chapter 8, "Rotations (SpinQuant)": outliers sit in particular channels; an orthogonal R
//! spreads them over all channels, Y = (W·Rᵀ)(R·X) is unchanged, and the rotated activations
//! quantize far better. A 2-D toy first, then Hadamard, random and learned rotations on real
//! MiniLM layers.

use leptos::prelude::*;
use plotters::prelude::{Circle, Color, IntoFont, PathElement, Text};

use quantlab_app::controls::{layer_quant, ActScale, Choice, LayerBits, RotationChoice, THETA};
use quantlab_app::i18n::Msg;
use quantlab_engine::linear::{LayerError, LayerQuant};
use quantlab_engine::rotate::toy::{toy_points, toy_quantize, ToyResult};
use quantlab_engine::rotate::{
    ActSummary, LearnConfig, Learner, Rotated, Rotation, STANDARD_CONFIGS,
};

use crate::lens;
use crate::ui::data::{LayerData, LayerPicker};
use crate::ui::job::{repeat, Job};
use crate::ui::state::{use_app, AppState};
use crate::ui::widgets::chart::{de, Area, ChartTheme, DrawResult};
use crate::ui::widgets::plot::{cartesian, histogram_bars, line, scatter, tick, vline, vlines};
use crate::ui::widgets::{Chart, ErrorNote, Formula, Segmented, Slider};
use crate::ui::Shared;

const TOY_BITS: u8 = 4;
/// A random rotation of C = 1536 takes seconds in the browser; offer it only below this.
const RANDOM_MAX_C: usize = 512;

quantlab_app::choice! {
    /// Where the learned rotation starts (a panel setting, not kept in links).
    enum LearnInit {
        Hadamard = "hadamard" => "Hadamard",
        Random = "random" => Msg::RotRandom,
    }
}

fn pct(v: f64) -> String {
    format!("{:.2} %", v * 100.0)
}

/// A rotated layer with its statistics and errors for the six standard settings.
#[derive(Debug)]
pub struct RotationResult {
    pub name: String,
    pub before: ActSummary,
    pub after: ActSummary,
    /// (config, rotated error, unrotated error) for every standard config.
    pub errors: Vec<(LayerQuant, f64, f64)>,
    pub fp_identity: f64,
}

fn learner_config(quant: LayerQuant, lr: f32) -> LearnConfig {
    LearnConfig {
        quant,
        lr,
        ..LearnConfig::default()
    }
}

/// What the selected layer's sliced computation carries between its steps.
#[derive(Default)]
struct RotationRun {
    rotated: Option<Rotated>,
    /// (config, rotated error, unrotated error), one per standard config done so far.
    errors: Vec<(LayerQuant, f64, f64)>,
}

/// The selected layer, its rotation, and the error setting every section shares.
#[derive(Clone, Copy)]
struct RealLayer {
    loaded: Memo<crate::ui::data::LayerLoaded>,
    data: Memo<Option<Shared<LayerData>>>,
    rot: Memo<RotationChoice>,
    bits: Memo<LayerBits>,
    act: Memo<ActScale>,
    cfg: Memo<LayerQuant>,
}

#[component]
pub fn RotationChapter() -> impl IntoView {
    let app = use_app();
    let layer = crate::ui::data::chapter_layer(lens!(rotation.layer), lens!(rotation.own));
    let bits = Memo::new(move |_| app.ctl(|c| c.rotation.bits));
    let act = Memo::new(move |_| app.ctl(|c| c.rotation.act));
    let real = RealLayer {
        loaded: layer,
        data: Memo::new(move |_| layer.get().data().map(Shared)),
        rot: Memo::new(move |_| app.ctl(|c| c.rotation.rot)),
        bits,
        act,
        cfg: Memo::new(move |_| layer_quant(bits.get(), act.get())),
    };
    view! {
        <section class="card intro">
            <p class="big-question">"SpinQuant (ICLR'25)"</p>
            <ul class="bullets">
                <li>{move || app.t(Msg::SqPtq)}</li>
                <li>{move || app.t(Msg::SpinAssumption)}</li>
                <li>{move || app.t(Msg::SpinIdea)}</li>
            </ul>
            <Formula mathml=Signal::derive(|| crate::formulas::ROTATE_IDENTITY.to_string())/>
        </section>
        <ToySection/>
        <FixedRotationSection real/>
        <LearnedRotationSection real/>
    }
}

/// Two channels, one outlier direction, a θ slider: rotating spreads the range over both.
#[component]
fn ToySection() -> impl IntoView {
    let app = use_app();
    let theta = Memo::new(move |_| app.ctl(|c| c.rotation.theta));
    // ---------- 2-D toy ----------
    let points = toy_points(400, 7);
    let toy_curve: Vec<(f64, f64)> = (0..=90)
        .filter_map(|d| {
            toy_quantize(&points, f64::from(d), TOY_BITS)
                .ok()
                .map(|r| (f64::from(d), r.rel_mse))
        })
        .collect();
    let pts2 = points.clone();
    let toy = Memo::new(move |_| {
        crate::ui::perf::time("toy rotate + quantize", || {
            toy_quantize(&pts2, theta.get(), TOY_BITS)
        })
        .ok()
        .map(Shared::new)
    });
    let draw_toy_curve = move |area: &Area, th: &ChartTheme| {
        let top = toy_curve.iter().map(|p| p.1).fold(1e-9, f64::max) * 1.1;
        let fmt = |v: &f64| format!("{:.1} %", v * 100.0);
        let mut chart = cartesian(
            area,
            th,
            "θ (°)",
            app.t(Msg::ToyError),
            0.0..90.0,
            0.0..top,
            &fmt,
        )?;
        line(&mut chart, th, toy_curve.clone(), th.color(0), 2.5)?;
        if let Some(r) = toy.get() {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (theta.get(), r.rel_mse),
                    th.px(6.0) as i32,
                    th.color(3).filled(),
                )))
                .map_err(de)?;
        }
        Ok(())
    };

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::ToyTitle)}</h2>
            <p>{move || app.t(Msg::ToyIntro)}</p>
            <Slider label=Signal::derive(move || app.t(Msg::ToyAngle).to_string()) value=Signal::derive(move || theta.get())
                min=THETA.min max=THETA.max step=THETA.step testid="theta-slider"
                format=Callback::new(move |v: f64| format!("θ = {v:.0}°"))
                on_change=Callback::new(move |v: f64| {
                    app.set_ctl(|c| c.rotation.theta = THETA.snap(v));
                    true
                })/>
            <div class="grid-2">
                <Chart id="toy-chart" caption=Signal::derive(move || app.t(Msg::ToyCaption).to_string()) aspect=0.9 draw=move |a: &Area, th: &ChartTheme| toy.with(|r| r.as_ref().map_or(Err("—".into()), |r| draw_toy(a, th, r, app)))/>
                <Chart id="toy-curve-chart" caption=Signal::derive(move || app.t(Msg::ToyCurveCaption).to_string()) aspect=0.9 draw=draw_toy_curve/>
            </div>
            <p data-testid="toy-readout">{move || toy.get().map(|r| Msg::ToyLine.fill(app.lang(), &[
                &format!("{:.0}", theta.get()), &format!("{:.2}", r.channel_absmax.0), &format!("{:.2}", r.channel_absmax.1), &format!("{:.3}", r.scale), &format!("{:.2} %", r.rel_mse * 100.0),
            ]))}</p>
            <p class="muted">{move || app.t(Msg::ToyLeap)}</p>
        </section>
    }
}

/// Hadamard or random rotations of a real layer, computed in slices, against no rotation.
/// Rotates the layer's X and W with the chosen R, then measures every standard setting on
/// both, one per slice of `job`.
fn rotate_layer(
    real: RealLayer,
    result: RwSignal<Option<Shared<RotationResult>>>,
    result_error: RwSignal<Option<String>>,
    job: Job,
) {
    let app = use_app();
    let RealLayer { data, rot, .. } = real;
    let (Some(d), choice) = (data.get(), rot.get()) else {
        job.cancel();
        result.set(None);
        return;
    };
    result.set(None);
    result_error.set(None);
    let c = d.case.case().in_channels();
    let Some(rotation) = choice.rotation(c) else {
        job.cancel();
        return; // the learned rotation has its own panel below
    };
    if choice == RotationChoice::Random && c > RANDOM_MAX_C {
        job.cancel();
        result_error.set(Some(Msg::RandomTooBig.fill(app.lang(), &[&c.to_string()])));
        return;
    }
    let d2: Shared<LayerData> = d.clone();
    job.fold(
        RotationRun::default(),
        1 + STANDARD_CONFIGS.len(),
        move |run, i| {
            let case = d.case.case();
            let Some(cfg) = i.checked_sub(1).and_then(|k| STANDARD_CONFIGS.get(k)) else {
                // Step 0: rotate X and W once; the other steps measure one setting each.
                let (t, c, n) = (case.tokens(), case.in_channels(), case.out_channels());
                let x = crate::ui::perf::time("rotate X", || rotation.rotate_x(case.x(), t, c));
                let w = crate::ui::perf::time("rotate W", || rotation.rotate_w(case.w(), c, n));
                match (x, w) {
                    (Ok(x), Ok(w)) => {
                        run.rotated = Some(Rotated {
                            rotation: rotation.name(),
                            x,
                            w,
                        })
                    }
                    (Err(e), _) | (_, Err(e)) => result_error.set(Some(e.to_string())),
                }
                return;
            };
            let Some(rot) = run.rotated.as_ref() else {
                return;
            };
            match (rot.error(case, cfg), case.error(cfg)) {
                (Ok(a), Ok(b)) => run.errors.push((*cfg, a.rel_err, b.rel_err)),
                (Err(e), _) | (_, Err(e)) => result_error.set(Some(e.to_string())),
            }
        },
        move |run| {
            let case = d2.case.case();
            let Some(rot) = run.rotated else { return };
            let (t, c) = (case.tokens(), case.in_channels());
            match (
                ActSummary::of(case.x(), t, c),
                ActSummary::of(&rot.x, t, c),
                rot.float_deviation(case),
            ) {
                (Ok(before), Ok(after), Ok(fp)) => result.set(Some(Shared::new(RotationResult {
                    name: rot.rotation.clone(),
                    before,
                    after,
                    errors: run.errors,
                    fp_identity: fp.rel_frobenius,
                }))),
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                    result_error.set(Some(e.to_string()))
                }
            }
        },
    );
}

/// What the chosen rotation is, for the layer's channel count.
#[component]
fn RotationNote(real: RealLayer) -> impl IntoView {
    let app = use_app();
    // The block size comes from the choice's own rotation for this layer, not a second table.
    let note = move || {
        let choice = real.rot.get();
        let c = real
            .data
            .with(|d| d.as_ref().map(|d| d.case.case().in_channels()));
        match (choice, c.and_then(|c| Some((c, choice.rotation(c)?)))) {
            (RotationChoice::Hadamard, _) => app.t(Msg::HadamardNote).to_string(),
            (_, Some((c, Rotation::HadamardBlock(b)))) => {
                Msg::HadamardBlockNote.fill(app.lang(), &[&c.to_string(), &b.to_string()])
            }
            (RotationChoice::Random, _) => app.t(Msg::RandomNote).to_string(),
            _ => String::new(),
        }
    };
    view! { <p class="muted small" data-testid="rotation-note">{note}</p> }
}

#[component]
fn FixedRotationSection(real: RealLayer) -> impl IntoView {
    let app = use_app();
    let RealLayer {
        rot,
        bits,
        act,
        cfg,
        ..
    } = real;
    let result = RwSignal::new(None::<Shared<RotationResult>>);
    let result_error = RwSignal::new(None::<String>);
    let job = Job::new();
    Effect::new(move |_| rotate_layer(real, result, result_error, job));
    let current_err = move || {
        let r = result.get()?;
        let c = cfg.get();
        r.errors.iter().find(|e| e.0 == c).map(|e| (e.1, e.2))
    };

    let errors_table = move || {
        let Some(r) = result.get() else {
            if result_error.with(Option::is_some) {
                return view! { <tr><td colspan="3">"—"</td></tr> }.into_any();
            }
            return view! { <tr><td colspan="3">{app.t(Msg::Computing)}</td></tr> }.into_any();
        };
        r.errors
            .iter()
            .map(|(c, a, b)| view! { <tr><td>{c.label()}</td><td>{pct(*b)}</td><td><strong>{pct(*a)}</strong></td></tr> })
            .collect_view()
            .into_any()
    };

    let is_learned = move || rot.get() == RotationChoice::Learned;
    // "…" while computing; "—" once refused (the error note says why).
    let pending = move || {
        if result_error.with(Option::is_some) {
            "—"
        } else {
            "…"
        }
        .to_string()
    };
    view! {
        <section class="card">
            <h2>{move || app.t(Msg::RealRotTitle)}</h2>
            <LayerPicker layer=lens!(rotation.layer) own=lens!(rotation.own) state=real.loaded/>
            <div class="controls">
                <label class="control compact">
                    <span class="control-label">{move || app.t(Msg::RotationLabel)}</span>
                    <select data-testid="rotation-select" prop:value=move || rot.get().slug()
                        on:change=move |e| {
                            if let Some(r) = RotationChoice::from_slug(&event_target_value(&e)) {
                                app.set_ctl(|c| c.rotation.rot = r);
                            }
                        }>
                        {RotationChoice::ALL.iter().map(|&r| {
                            view! { <option value=r.slug() selected=move || rot.get() == r>{move || r.label().text(app.lang())}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <Segmented label=Signal::derive(move || app.t(Msg::Bits).to_string())
                    value=Signal::derive(move || bits.get())
                    on_change=Callback::new(move |v: LayerBits| app.set_ctl(|c| c.rotation.bits = v))
                    testid="rot-bits"/>
                <Segmented label=Signal::derive(move || app.t(Msg::ActScales).to_string())
                    value=Signal::derive(move || act.get())
                    on_change=Callback::new(move |v: ActScale| app.set_ctl(|c| c.rotation.act = v))
                    testid="rot-act"/>
            </div>
            <RotationNote real/>
            <ErrorNote error=result_error testid="rotation-error"/>
            <Show when=move || !is_learned()>
                <div class="readouts">
                    <div class="readout"><span class="k">{move || Msg::RotErrorIn.fill(app.lang(), &[&cfg.get().label()])}</span>
                        <span class="v" data-testid="rotation-error-readout" data-value=move || current_err().map(|e| format!("{}", e.0)).unwrap_or_default()>{move || current_err().map(|e| pct(e.0)).unwrap_or_else(pending)}</span></div>
                    <div class="readout"><span class="k">{move || app.t(Msg::WithoutRotation)}</span>
                        <span class="v">{move || current_err().map(|e| pct(e.1)).unwrap_or_else(pending)}</span></div>
                    <div class="readout"><span class="k">{move || app.t(Msg::KurtosisBeforeAfter)}</span>
                        <span class="v" data-testid="kurtosis-readout">{move || result.get().map(|r| format!("{:.1} → {:.1}", r.before.kurtosis, r.after.kurtosis)).unwrap_or_else(pending)}</span></div>
                    <div class="readout"><span class="k">{move || app.t(Msg::MaxMedianBeforeAfter)}</span>
                        <span class="v">{move || result.get().map(|r| format!("{:.1} → {:.1}", r.before.profile.max_over_median, r.after.profile.max_over_median)).unwrap_or_else(pending)}</span></div>
                </div>
                <p data-testid="rotation-identity">{move || result.get().map(|r| Msg::RotIdentity.fill(app.lang(), &[&format!("{:.1e}", r.fp_identity)]))}</p>
                <Chart id="profile-chart" caption=Signal::derive(move || app.t(Msg::RotProfileCaption).to_string()) aspect=0.4 draw=move |a: &Area, th: &ChartTheme| result.with(|r| r.as_ref().map_or_else(|| Err(app.t(Msg::Computing).to_string()), |r| draw_profile(a, th, r, app)))/>
                <div class="table-scroll">
                    <table class="data" data-testid="rotation-table">
                        <thead><tr><th>{move || app.t(Msg::Setting)}</th><th>{move || app.t(Msg::WithoutRotation)}</th><th>{move || app.t(Msg::Rotated)}</th></tr></thead>
                        <tbody>{errors_table}</tbody>
                    </table>
                </div>
                <p class="muted">{move || app.t(Msg::SelfInverse)}</p>
            </Show>
        </section>
    }
}

/// One step of the learned rotation; `true` while `learning` holds. One step per macrotask:
/// ~10–30 ms on C = 384, so the page keeps answering between steps.
fn learn_tick(
    learner: StoredValue<Option<Learner>, LocalStorage>,
    learning: RwSignal<bool>,
    losses: RwSignal<Vec<f32>>,
    learn_msg: RwSignal<Option<String>>,
) -> bool {
    if !learning.try_get_untracked().unwrap_or(false) {
        return false;
    }
    let r = learner.try_update_value(|l| {
        l.as_mut()
            .map(|l| crate::ui::perf::time("learned-rotation step", || l.step(1)))
    });
    match r.flatten() {
        Some(Ok(new)) => {
            losses.update(|v| v.extend(new));
            true
        }
        Some(Err(e)) => {
            learn_msg.set(Some(e.to_string()));
            learning.set(false);
            false
        }
        None => {
            learning.set(false);
            false
        }
    }
}

/// SpinQuant-style Cayley SGD on this layer's quantized output error, step by step.
#[component]
fn LearnedRotationSection(real: RealLayer) -> impl IntoView {
    let app = use_app();
    let RealLayer { data, cfg, .. } = real;
    let learner: StoredValue<Option<Learner>, LocalStorage> = StoredValue::new_local(None);
    let losses = RwSignal::new(Vec::<f32>::new());
    let learning = RwSignal::new(false);
    let learn_err = RwSignal::new(None::<LayerError>);
    // (lowest loss, the step it was reached at): the R the result is measured on.
    let learn_best = RwSignal::new(None::<(f32, usize)>);
    let learn_msg = RwSignal::new(None::<String>);
    let init = RwSignal::new(LearnInit::Hadamard);
    let lr = RwSignal::new(0.2f64);
    let start_learning = move |_| {
        if learning.get_untracked() {
            learning.set(false);
            return;
        }
        let Some(d) = data.get_untracked() else {
            return;
        };
        let case = d.case.case();
        if learner.with_value(|l| l.is_none()) {
            let c = case.in_channels();
            let init_rot = match init.get_untracked() {
                LearnInit::Hadamard => Rotation::hadamard_for(c),
                LearnInit::Random => Rotation::Random(0),
            };
            if matches!(init_rot, Rotation::Random(_)) && c > RANDOM_MAX_C {
                learn_msg.set(Some(Msg::RandomTooBig.fill(app.lang(), &[&c.to_string()])));
                return;
            }
            match Learner::new(
                case,
                &init_rot,
                learner_config(cfg.get_untracked(), lr.get_untracked() as f32),
            ) {
                Ok(l) => {
                    losses.set(l.losses().to_vec());
                    learner.set_value(Some(l));
                }
                Err(e) => {
                    learn_msg.set(Some(e.to_string()));
                    return;
                }
            }
        }
        learn_msg.set(None);
        learning.set(true);
        repeat(move || learn_tick(learner, learning, losses, learn_msg));
    };
    let reset_learning = move || {
        learning.set(false);
        learner.set_value(None);
        losses.set(Vec::new());
        learn_err.set(None);
        learn_best.set(None);
    };
    // A new layer, bits or start point means a new learner.
    Effect::new(move |prev: Option<()>| {
        data.track();
        cfg.track();
        init.track();
        if prev.is_some() {
            reset_learning();
        }
    });
    Effect::new(move |_| {
        // The learned rotation's error in the current setting, each time learning pauses.
        if learning.get() || losses.with(|l| l.is_empty()) {
            return;
        }
        let (Some(d), c) = (data.get_untracked(), cfg.get_untracked()) else {
            return;
        };
        let (e, best) = learner.with_value(|l| match l {
            Some(l) => (
                l.error(d.case.case(), &c).ok(),
                l.best().ok().map(|(_, v, k)| (v, k)),
            ),
            None => (None, None),
        });
        learn_err.set(e);
        learn_best.set(best);
    });

    view! {
        <section class="card">
            <h2>{move || app.t(Msg::LearnTitle)}</h2>
            <p>{move || app.t(Msg::LearnIntro)}</p>
            <div class="controls">
                <Segmented label=Signal::derive(move || app.t(Msg::LearnInit).to_string())
                    value=Signal::derive(move || init.get())
                    on_change=Callback::new(move |v: LearnInit| init.set(v))
                    testid="learn-init"/>
                <Slider label=Signal::derive(move || app.t(Msg::LearnRate).to_string()) value=Signal::derive(move || lr.get())
                    min=0.01 max=2.0 step=0.01 testid="learn-lr"
                    format=Callback::new(move |v: f64| format!("{v:.2}"))
                    on_change=Callback::new(move |v: f64| {
                        lr.set(v);
                        learner.update_value(|l| { if let Some(l) = l.as_mut() { let _ = l.set_lr(v as f32); } });
                        true
                    })/>
                <button type="button" class="tool accent" data-testid="learn-start" on:click=start_learning>
                    {move || if learning.get() { app.t(Msg::Pause) } else if losses.with(|l| l.is_empty()) { app.t(Msg::LearnRun) } else { app.t(Msg::LearnResume) }}
                </button>
                <button type="button" class="tool" on:click=move |_| reset_learning()>{move || app.t(Msg::Reset)}</button>
                <span class="muted" data-testid="learn-steps">{move || Msg::LearnSteps.fill(app.lang(), &[&losses.with(|l| l.len().saturating_sub(1)).to_string()])}</span>
            </div>
            <ErrorNote error=learn_msg/>
            <Chart id="learn-loss-chart" caption=Signal::derive(move || app.t(Msg::LearnCaption).to_string()) aspect=0.4 draw=move |a: &Area, th: &ChartTheme| losses.with(|l| draw_learn_loss(a, th, l, app))/>
            <p data-testid="learn-result">{move || {
                let l = losses.get();
                let (first, last) = (l.first().copied()?, l.last().copied()?);
                let (best, step) = learn_best.get().map_or(("…".into(), "…".into()), |(v, k)| (format!("{v:.5}"), k.to_string()));
                Some(Msg::LearnLine.fill(app.lang(), &[&format!("{first:.5}"), &format!("{last:.5}"), &best, &step, &learn_err.get().map(|e| pct(e.rel_err)).unwrap_or("…".into()), &cfg.get().label()]))
            }}</p>
            <p data-testid="learn-gain">{move || {
                // The loss is (relative output error)², so its first value is the start's error.
                let start = losses.with(|l| l.first().map(|&v| f64::from(v).max(0.0).sqrt()))?;
                let learned = learn_err.get()?.rel_err;
                let init = learner.with_value(|l| l.as_ref().map(|l| l.init_name().to_string()))?;
                let change = if start > 0.0 { (learned - start) / start } else { 0.0 };
                Some(Msg::LearnGain.fill(app.lang(), &[&init, &pct(start), &format!("{:+.2} %", 100.0 * change), &cfg.get().label()]))
            }}</p>
        </section>
    }
}

/// The toy's points, their quantized positions on the one shared grid, and the per-channel
/// ranges as brackets.
fn draw_toy(area: &Area, th: &ChartTheme, r: &ToyResult, app: AppState) -> DrawResult {
    let m = r
        .rotated
        .iter()
        .fold(0f32, |m, p| m.max(p.0.abs()).max(p.1.abs())) as f64
        * 1.1;
    let fmt = |v: &f64| tick(*v);
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::Channel1),
        app.t(Msg::Channel2),
        -m..m,
        -m..m,
        &fmt,
    )?;
    // The integer grid of the one shared scale.
    let s = f64::from(r.scale);
    vlines(
        &mut chart,
        th,
        (-r.q_max..=r.q_max).map(|q| s * f64::from(q)),
        th.muted,
        0.35,
    )?;
    let grid = th.muted.mix(0.35).stroke_width(th.px(1.0));
    chart
        .draw_series(
            (-r.q_max..=r.q_max).map(|q| {
                PathElement::new(vec![(-m, s * f64::from(q)), (m, s * f64::from(q))], grid)
            }),
        )
        .map_err(de)?;
    let pts = |v: &[(f32, f32)]| {
        v.iter()
            .map(|p| (f64::from(p.0), f64::from(p.1)))
            .collect::<Vec<_>>()
    };
    scatter(
        &mut chart,
        th,
        &pts(&r.rotated),
        th.color(0),
        0.55,
        2.0,
        true,
    )?;
    scatter(
        &mut chart,
        th,
        &pts(&r.quantized),
        th.color(1),
        1.0,
        4.0,
        false,
    )?;
    // Per-channel ranges as brackets along the axes.
    let (a0, a1) = (f64::from(r.channel_absmax.0), f64::from(r.channel_absmax.1));
    let bracket = th.color(3).stroke_width(th.px(3.0));
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(-a0, -m * 0.97), (a0, -m * 0.97)],
            bracket,
        )))
        .map_err(de)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(-m * 0.97, -a1), (-m * 0.97, a1)],
            bracket,
        )))
        .map_err(de)?;
    Ok(())
}

/// Per-channel max |x| before and after the rotation.
fn draw_profile(area: &Area, th: &ChartTheme, r: &RotationResult, app: AppState) -> DrawResult {
    let before = &r.before.profile.absmax;
    let after = &r.after.profile.absmax;
    let n = before.len().max(1) as f64;
    let top = before
        .iter()
        .chain(after.iter())
        .fold(0f32, |m, v| m.max(*v)) as f64
        * 1.1;
    let fmt = |v: &f64| tick(*v);
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::ChannelAxis),
        app.t(Msg::MaxAbsX),
        0.0..n,
        0.0..top,
        &fmt,
    )?;
    let bars = |v: &[f32]| {
        v.iter()
            .enumerate()
            .map(|(i, &x)| (i as f64, i as f64 + 1.0, f64::from(x)))
            .collect::<Vec<_>>()
    };
    histogram_bars(&mut chart, th, &bars(before), th.muted, 0.5)?;
    histogram_bars(&mut chart, th, &bars(after), th.color(2), 0.85)?;
    let font = ("system-ui, sans-serif", 12.0 * th.dpr).into_font();
    chart
        .draw_series(std::iter::once(Text::new(
            app.t(Msg::Original).to_string(),
            (n * 0.55, top * 0.9),
            font.clone().color(&th.muted),
        )))
        .map_err(de)?;
    chart
        .draw_series(std::iter::once(Text::new(
            format!("{} ({})", app.t(Msg::Rotated), r.name),
            (n * 0.55, top * 0.8),
            font.color(&th.color(2)),
        )))
        .map_err(de)?;
    Ok(())
}

/// The learned rotation's objective, step by step, against where it started.
fn draw_learn_loss(area: &Area, th: &ChartTheme, l: &[f32], app: AppState) -> DrawResult {
    if l.is_empty() {
        return Err(app.t(Msg::LearnPress).to_string());
    }
    let top = l.iter().fold(0f32, |m, v| m.max(*v)) as f64 * 1.1;
    let lo = l.iter().fold(f32::INFINITY, |m, v| m.min(*v)) as f64 * 0.9;
    let n = (l.len().max(2) - 1) as f64;
    let fmt = |v: &f64| format!("{v:.4}");
    let mut chart = cartesian(
        area,
        th,
        app.t(Msg::LearnStep),
        app.t(Msg::LearnLoss),
        0.0..n,
        lo..top,
        &fmt,
    )?;
    line(
        &mut chart,
        th,
        l.iter()
            .enumerate()
            .map(|(i, v)| (i as f64, f64::from(*v)))
            .collect(),
        th.color(0),
        2.0,
    )?;
    if let Some(first) = l.first() {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, f64::from(*first)), (n, f64::from(*first))],
                th.muted.stroke_width(th.px(1.0)),
            )))
            .map_err(de)?;
    }
    vline(&mut chart, th, n, th.muted, "", true)?;
    Ok(())
}
