//! Two draggable handles α and β laid over a chart (mouse, touch, pen and keyboard), the shaded
//! clipping regions outside them, and a hover/tap layer that reports the value under the pointer
//! (for the per-value inspector). Values come in as signals and leave through callbacks; the
//! chart's [`XMap`] says where values sit in pixels.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::chart::XMap;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Alpha,
    Beta,
}

/// Pointer x relative to the chart wrapper (CSS px).
fn local_x(e: &web_sys::PointerEvent) -> Option<f64> {
    let target = e.current_target()?.dyn_into::<web_sys::Element>().ok()?;
    // Handles and the hover layer both sit directly in `.chart-wrap`.
    let wrap = target.closest(".chart-wrap").ok()??;
    Some(f64::from(e.client_x()) - wrap.get_bounding_client_rect().left())
}

#[component]
pub fn RangeHandles(
    map: RwSignal<XMap>,
    #[prop(into)] alpha: Signal<f64>,
    #[prop(into)] beta: Signal<f64>,
    /// Keyboard step (arrow keys; PageUp/PageDown move 10 steps).
    #[prop(into)]
    step: Signal<f64>,
    on_alpha: Callback<f64, bool>,
    on_beta: Callback<f64, bool>,
    /// The value under the pointer (None when it leaves), for the inspector.
    #[prop(optional)]
    on_hover: Option<Callback<Option<f64>>>,
    /// Labels shown on the grips.
    #[prop(default = "α")]
    alpha_label: &'static str,
    #[prop(default = "β")] beta_label: &'static str,
) -> impl IntoView {
    let dragging = RwSignal::new(None::<Which>);
    let apply = move |which: Which, v: f64| {
        let m = map.get_untracked();
        let v = v.clamp(m.v0, m.v1);
        // Keep α < β while dragging: stop one step short of the other handle.
        let gap = (step.get_untracked() * 0.25).max(1e-9);
        match which {
            Which::Alpha => on_alpha.run(v.min(beta.get_untracked() - gap)),
            Which::Beta => on_beta.run(v.max(alpha.get_untracked() + gap)),
        };
    };

    let handle = move |which: Which| {
        let value = move || match which {
            Which::Alpha => alpha.get(),
            Which::Beta => beta.get(),
        };
        let left = move || format!("{:.1}px", map.get().px(value()));
        let (testid, label, class) = match which {
            Which::Alpha => ("alpha-handle", alpha_label, "handle alpha"),
            Which::Beta => ("beta-handle", beta_label, "handle beta"),
        };
        view! {
            <div class=class role="slider" tabindex="0" data-testid=testid
                aria-label=label
                aria-valuemin=move || format!("{}", map.get().v0)
                aria-valuemax=move || format!("{}", map.get().v1)
                aria-valuenow=move || format!("{}", value())
                aria-valuetext=move || format!("{label} = {:.4}", value())
                class:dragging=move || dragging.get() == Some(which)
                style:left=left
                style:top=move || format!("{:.1}px", map.get().top)
                style:height=move || format!("{:.1}px", (map.get().bottom - map.get().top).max(0.0))
                on:pointerdown=move |e: web_sys::PointerEvent| {
                    e.prevent_default();
                    if let Some(t) = e.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                        let _ = t.set_pointer_capture(e.pointer_id());
                        if let Ok(h) = t.dyn_into::<web_sys::HtmlElement>() { let _ = h.focus(); }
                    }
                    dragging.set(Some(which));
                }
                on:pointermove=move |e: web_sys::PointerEvent| {
                    if dragging.get_untracked() == Some(which) {
                        if let Some(x) = local_x(&e) {
                            apply(which, map.get_untracked().value(x));
                        }
                    }
                }
                on:pointerup=move |_| dragging.set(None)
                on:pointercancel=move |_| dragging.set(None)
                on:keydown=move |e: web_sys::KeyboardEvent| {
                    let s = step.get_untracked();
                    let v = value();
                    let m = map.get_untracked();
                    let next = match e.key().as_str() {
                        "ArrowLeft" | "ArrowDown" => Some(v - s),
                        "ArrowRight" | "ArrowUp" => Some(v + s),
                        "PageDown" => Some(v - 10.0 * s),
                        "PageUp" => Some(v + 10.0 * s),
                        "Home" => Some(m.v0),
                        "End" => Some(m.v1),
                        _ => None,
                    };
                    if let Some(n) = next {
                        e.prevent_default();
                        e.stop_propagation();
                        apply(which, n);
                    }
                }>
                <span class="grip">{label}</span>
            </div>
        }
    };

    let clip_left = move || {
        let m = map.get();
        let x = m.px(alpha.get()).clamp(m.left, m.right);
        format!(
            "left:{:.1}px;top:{:.1}px;width:{:.1}px;height:{:.1}px",
            m.left,
            m.top,
            (x - m.left).max(0.0),
            (m.bottom - m.top).max(0.0)
        )
    };
    let clip_right = move || {
        let m = map.get();
        let x = m.px(beta.get()).clamp(m.left, m.right);
        format!(
            "left:{:.1}px;top:{:.1}px;width:{:.1}px;height:{:.1}px",
            x,
            m.top,
            (m.right - x).max(0.0),
            (m.bottom - m.top).max(0.0)
        )
    };
    let hover_style = move || {
        let m = map.get();
        format!(
            "left:{:.1}px;top:{:.1}px;width:{:.1}px;height:{:.1}px",
            m.left,
            m.top,
            (m.right - m.left).max(0.0),
            (m.bottom - m.top).max(0.0)
        )
    };
    let hover = move |e: web_sys::PointerEvent| {
        if let (Some(cb), Some(x)) = (on_hover, local_x(&e)) {
            cb.run(Some(map.get_untracked().value(x)));
        }
    };

    view! {
        <div class="clip-shade" style=clip_left aria-hidden="true"></div>
        <div class="clip-shade" style=clip_right aria-hidden="true"></div>
        <div class="hover-layer" style=hover_style data-testid="inspect-layer"
            on:pointermove=hover
            on:pointerdown=hover
            on:pointerleave=move |_| { if let Some(cb) = on_hover { cb.run(None); } }></div>
        {handle(Which::Alpha)}
        {handle(Which::Beta)}
    }
}
