//! What the first-half chapters (function, error, calibration, playground) share: the scheme
//! controls (bits, symmetric/asymmetric, narrow/full, signed/unsigned, rounding), the current
//! range [α, β] with its "auto" default from the data, number formatting and readouts.

use leptos::prelude::*;

use quantlab_app::controls::{
    DataControls, GridRange, RangeControls, RoundChoice, SchemeControls, Signedness, Symmetry,
    ALPHA, BITS, DROP_K, RANGE_END,
};
use quantlab_app::datasets::{Source, Tensor};
use quantlab_app::i18n::Msg;
use quantlab_engine::{QParams, QuantError, Scheme};

use crate::ui::data::{chapter_data, Loaded};
use crate::ui::state::{use_app, Lens};
use crate::ui::widgets::{Segmented, Slider};
use crate::ui::Shared;

/// Finite min, max and max |x| of a tensor, and how many values were not finite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataStats {
    pub min: f64,
    pub max: f64,
    pub absmax: f64,
    pub non_finite: usize,
}

impl DataStats {
    pub fn of(data: &[f32]) -> Option<Self> {
        let mut it = data.iter().copied().filter(|v| v.is_finite());
        let first = it.next()?;
        let (lo, hi) = it.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let non_finite = data.iter().filter(|v| !v.is_finite()).count();
        Some(DataStats {
            min: f64::from(lo),
            max: f64::from(hi),
            absmax: f64::from(lo.abs().max(hi.abs())),
            non_finite,
        })
    }
}

/// The derived state of a chapter that quantizes one tensor with one range.
#[derive(Clone, Copy)]
pub struct QuantSetup {
    /// Where the chapter keeps a range the reader chose (the function chapter); `None`: the
    /// range is always the data's min-max.
    range_controls: Option<Lens<RangeControls>>,
    pub source: Memo<Source>,
    pub loaded: Memo<Loaded>,
    pub tensor: Memo<Option<Shared<Tensor>>>,
    pub stats: Memo<Option<DataStats>>,
    pub choice: Memo<SchemeControls>,
    pub scheme: Memo<Result<Scheme, QuantError>>,
    /// [α, β] in use: from the URL, or the data's min-max ("auto"); mirrored when symmetric.
    pub range: Memo<(f64, f64)>,
    /// The x range the charts show: the data padded, widened to include [α, β].
    pub view: Memo<(f64, f64)>,
    /// One keyboard step of a handle.
    pub step: Memo<f64>,
    pub params: Memo<Result<QParams, QuantError>>,
}

impl QuantSetup {
    pub fn new(
        data: Lens<DataControls>,
        scheme: Lens<SchemeControls>,
        range_controls: Option<Lens<RangeControls>>,
    ) -> Self {
        let app = use_app();
        let (source, loaded) = chapter_data(data);
        let tensor = Memo::new(move |_| loaded.get().tensor().map(Shared));
        let stats = Memo::new(move |_| tensor.get().and_then(|t| DataStats::of(&t.0.data)));
        let choice = Memo::new(move |_| scheme.read(app, SchemeControls::clone));
        let scheme = Memo::new(move |_| choice.with(SchemeControls::scheme));
        let range = Memo::new(move |_| {
            let st = stats.get();
            let sym = choice.with(|c| c.scheme == Symmetry::Sym);
            let auto = match st {
                Some(s) if sym => (-s.absmax, s.absmax),
                Some(s) => (s.min, s.max),
                None => (-1.0, 1.0),
            };
            let (a, b) =
                range_controls.map_or((None, None), |l| l.read(app, |r| (r.alpha, r.beta)));
            if sym {
                // A link may give either end; the range is [−c, c] with the larger |end| given.
                let c = match (a, b) {
                    (None, None) => auto.1,
                    (a, b) => a.unwrap_or(0.0).abs().max(b.unwrap_or(0.0).abs()),
                };
                (-c, c)
            } else {
                (a.unwrap_or(auto.0), b.unwrap_or(auto.1))
            }
        });
        let view = Memo::new(move |_| {
            let (a, b) = range.get();
            let (lo, hi) = match stats.get() {
                Some(s) => (s.min, s.max),
                None => (a, b),
            };
            let w = (hi - lo).max(1e-6);
            let (lo, hi) = (lo - 0.12 * w, hi + 0.12 * w);
            let (lo, hi) = (lo.min(a), hi.max(b));
            let pad = (hi - lo) * 0.02;
            (lo - pad, hi + pad)
        });
        let step = Memo::new(move |_| {
            let (lo, hi) = view.get();
            (hi - lo) / 400.0
        });
        let params = Memo::new(move |_| {
            let scheme = scheme.get()?;
            let (a, b) = range.get();
            let (a, b) = (a as f32, b as f32);
            if choice.with(|c| c.scheme == Symmetry::Sym) {
                if b <= 0.0 {
                    return Err(QuantError::InvalidRange { alpha: a, beta: b });
                }
                QParams::from_range(a, b, &scheme)
            } else {
                QParams::from_range_seminar(a, b, &scheme)
            }
        });
        QuantSetup {
            range_controls,
            source,
            loaded,
            tensor,
            stats,
            choice,
            scheme,
            range,
            view,
            step,
            params,
        }
    }

    fn symmetric(&self) -> bool {
        self.choice.with_untracked(|c| c.scheme == Symmetry::Sym)
    }

    /// Sets the chosen range; `false` (nothing changes) outside the allowed ends or in a
    /// chapter without a chosen range.
    fn set_pair(&self, a: f64, b: f64) -> bool {
        let (a, b) = (tidy(a), tidy(b));
        let Some(lens) = self.range_controls else {
            return false;
        };
        if !(RANGE_END.contains(a) && RANGE_END.contains(b)) {
            return false;
        }
        lens.write(use_app(), |r| {
            *r = RangeControls {
                alpha: Some(a),
                beta: Some(b),
            }
        });
        true
    }

    /// Moves α (and, when symmetric, β = −α with it).
    pub fn set_alpha(&self, v: f64) -> bool {
        if self.symmetric() {
            let c = v.abs();
            self.set_pair(-c, c)
        } else {
            self.set_pair(v, self.range.get_untracked().1)
        }
    }

    pub fn set_beta(&self, v: f64) -> bool {
        if self.symmetric() {
            let c = v.abs();
            self.set_pair(-c, c)
        } else {
            self.set_pair(self.range.get_untracked().0, v)
        }
    }

    /// Back to the data's min-max ("auto").
    pub fn reset_range(&self) {
        if let Some(lens) = self.range_controls {
            lens.write(use_app(), |r| *r = RangeControls::default());
        }
    }

    /// Number boxes for α and β with an "auto" button.
    pub fn range_inputs(&self) -> impl IntoView {
        let app = use_app();
        let setup = *self;
        let bad = RwSignal::new(None::<&'static str>);
        let input = move |which: &'static str| {
            let testid = if which == "alpha" {
                "alpha-input"
            } else {
                "beta-input"
            };
            let label = if which == "alpha" { "α" } else { "β" };
            let shown = move || {
                let (a, b) = setup.range.get();
                fmt_num(if which == "alpha" { a } else { b }, 6)
            };
            view! {
                <label class="control compact">
                    <span class="control-label">{label}</span>
                    <input type="text" inputmode="decimal" class="number" data-testid=testid
                        prop:value=shown
                        on:change=move |e| {
                            let raw = event_target_value(&e);
                            let ok = raw.trim().parse::<f64>().ok().filter(|v| RANGE_END.contains(*v)).is_some_and(|v| {
                                if which == "alpha" { setup.set_alpha(v) } else { setup.set_beta(v) }
                            });
                            bad.set((!ok).then_some(which));
                        }/>
                </label>
            }
        };
        view! {
            {input("alpha")}
            {input("beta")}
            <button type="button" class="tool" data-testid="range-auto" on:click=move |_| { bad.set(None); setup.reset_range(); }>
                {move || app.t(Msg::RangeAuto)}
            </button>
            <Show when=move || bad.get().is_some()>
                <span class="control-error" role="alert" data-testid="range-input-error">
                    {move || Msg::RangeInputBad.fill(app.lang(), &[if bad.get() == Some("alpha") { "α" } else { "β" }])}
                </span>
            </Show>
        }
    }
}

/// Rounds a dragged value to a short decimal so URLs stay readable (10 significant digits is far
/// below f32 resolution, so nothing visible changes).
fn tidy(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return 0.0;
    }
    let mag = v.abs().log10().floor() as i32;
    let scale = 10f64.powi(9 - mag);
    (v * scale).round() / scale
}

/// Bits, grid and rounding controls, written to the chapter's URL state.
pub fn scheme_controls(lens: Lens<SchemeControls>, setup: QuantSetup) -> impl IntoView {
    let app = use_app();
    let bits = move || lens.read(app, |s| s.bits);
    let label = move |m: Msg| Signal::derive(move || app.t(m).to_string());
    view! {
        <div class="controls">
            <label class="control compact">
                <span class="control-label">{move || app.t(Msg::Bits)}</span>
                <select data-testid="bits-select" prop:value=move || bits().to_string()
                    on:change=move |e| {
                        if let Ok(b) = event_target_value(&e).parse::<u8>() {
                            lens.write(app, |s| s.bits = b);
                        }
                    }>
                    {(BITS.min..=BITS.max).rev().map(|b| view! {
                        <option value=b.to_string() selected=move || i64::from(bits()) == b>{format!("INT{b}")}</option>
                    }).collect_view()}
                </select>
            </label>
            <Segmented label=label(Msg::SchemeLabel) testid="scheme-toggle"
                value=Signal::derive(move || lens.read(app, |s| s.scheme))
                on_change=Callback::new(move |v: Symmetry| lens.write(app, |s| s.scheme = v))/>
            <Segmented label=label(Msg::GridLabel) testid="grid-toggle"
                value=Signal::derive(move || lens.read(app, |s| s.range))
                on_change=Callback::new(move |v: GridRange| lens.write(app, |s| s.range = v))/>
            <Segmented label=label(Msg::IntLabel) testid="int-toggle"
                value=Signal::derive(move || lens.read(app, |s| s.int))
                on_change=Callback::new(move |v: Signedness| lens.write(app, |s| s.int = v))/>
            <Segmented label=label(Msg::RoundingLabel) testid="rounding-toggle"
                value=Signal::derive(move || lens.read(app, |s| s.round))
                on_change=Callback::new(move |v: RoundChoice| lens.write(app, |s| s.round = v))/>
        </div>
        <p class="muted small grid-note">
            {move || match setup.scheme.get() {
                Ok(s) => Msg::GridNote.fill(app.lang(), &[
                    &bits().to_string(),
                    &s.qmin().to_string(),
                    &s.qmax().to_string(),
                    &(s.qmax() - s.qmin()).to_string(),
                ]),
                Err(e) => e.to_string(),
            }}
        </p>
    }
}

/// A number with `sig` significant digits (plain decimals in a readable range, else scientific).
pub fn fmt_num(v: f64, sig: usize) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "—".into()
        } else if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-4..1e7).contains(&a) {
        return format!("{v:.*e}", sig.saturating_sub(1));
    }
    let int_digits = a.log10().floor() as i32 + 1;
    let decimals = (sig as i32 - int_digits).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

pub fn fmt_bytes(n: usize) -> String {
    if n >= 1_000_000 {
        format!("{:.2} MB", n as f64 / 1e6)
    } else if n >= 1000 {
        format!("{:.1} KB", n as f64 / 1e3)
    } else {
        format!("{n} B")
    }
}

/// Bytes of `n` values as FP32, and as `bits`-bit codes plus one (f32 scale, i32 zero-point)
/// pair per group.
pub fn memory_bytes(n: usize, bits: u8, groups: usize) -> (usize, usize) {
    let fp = n * 4;
    let q = (n * usize::from(bits)).div_ceil(8) + groups * 8;
    (fp, q)
}

/// A labelled number. `data-value` carries the full-precision value for tests and copy/paste.
#[component]
pub fn Readout(
    label: Msg,
    testid: &'static str,
    #[prop(into)] value: Signal<Option<f64>>,
    digits: usize,
    #[prop(default = "")] unit: &'static str,
) -> impl IntoView {
    let app = use_app();
    let text = move || match value.get() {
        Some(v) if digits == 0 => format!("{}{unit}", v.round() as i64),
        Some(v) => format!("{}{unit}", fmt_num(v, digits)),
        None => "—".into(),
    };
    view! {
        <div class="readout">
            <span class="k">{move || app.t(label)}</span>
            <span class="v" data-testid=testid data-value=move || value.get().map(|v| format!("{v}")).unwrap_or_default()>{text}</span>
        </div>
    }
}

/// SmoothQuant on/off with its α, and the outlier ablation's k: the same three controls in the
/// whole-model and language-model chapters (`{prefix}-alpha-on`, `{prefix}-alpha`,
/// `{prefix}-drop-k`).
#[component]
pub fn SmoothDropControls(
    alpha: Lens<Option<f64>>,
    drop: Lens<u8>,
    /// The chapter's testid prefix ("model", "llm").
    prefix: &'static str,
) -> impl IntoView {
    let app = use_app();
    let a = Memo::new(move |_| alpha.read(app, |v| *v));
    let id = |what: &str| -> &'static str {
        match (prefix, what) {
            ("model", "on") => "model-alpha-on",
            ("model", "alpha") => "model-alpha",
            ("model", _) => "model-drop-k",
            (_, "on") => "llm-alpha-on",
            (_, "alpha") => "llm-alpha",
            _ => "llm-drop-k",
        }
    };
    view! {
        <div class="controls">
            <label class="control compact check">
                <input type="checkbox" data-testid=id("on") prop:checked=move || a.get().is_some()
                    on:change=move |e| {
                        let on = event_target_checked(&e);
                        alpha.write(app, |v| *v = on.then_some(0.5));
                    }/>
                <span>{move || app.t(Msg::ModelSmoothOn)}</span>
            </label>
            // Always there: moving it turns SmoothQuant on at that α; the box turns it off.
            <Slider label=Signal::derive(move || app.t(Msg::ModelAlphaLabel).to_string())
                value=Signal::derive(move || a.get().unwrap_or(0.5))
                min=ALPHA.min max=ALPHA.max step=ALPHA.step testid=id("alpha")
                format=Callback::new(move |v: f64| if a.get().is_some() { format!("{v:.2}") } else { app.t(Msg::ModelDropOff).to_string() })
                on_change=Callback::new(move |v: f64| {
                    alpha.write(app, |x| *x = Some(ALPHA.snap(v)));
                    true
                })/>
            <Slider label=Signal::derive(move || app.t(Msg::ModelDropLabel).to_string())
                value=Signal::derive(move || f64::from(drop.read(app, |d| *d)))
                min=DROP_K.min as f64 max=DROP_K.max as f64 step=1.0 testid=id("drop")
                format=Callback::new(move |v: f64| if v < 0.5 { app.t(Msg::ModelDropOff).to_string() } else { format!("{v:.0}") })
                on_change=Callback::new(move |v: f64| {
                    drop.write(app, |d| *d = v.round().clamp(0.0, DROP_K.max as f64) as u8);
                    true
                })/>
        </div>
    }
}
