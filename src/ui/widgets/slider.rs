//! Form controls: a labelled slider with its value and a numeric box, and a segmented choice.
//! They hold no state of their own: the value comes in as a signal and changes go out through a
//! callback, so the URL-backed view state stays the single source of truth.

use leptos::prelude::*;
use quantlab_app::controls::Choice;

use crate::ui::state::use_app;

/// A range slider plus a number box. Invalid typed input is not applied; it shows `error` text
/// next to the control instead.
#[component]
pub fn Slider(
    #[prop(into)] label: Signal<String>,
    #[prop(into)] value: Signal<f64>,
    min: f64,
    max: f64,
    step: f64,
    /// Formats the value for display next to the label.
    #[prop(optional, into)]
    format: Option<Callback<f64, String>>,
    /// Receives the new value; returns `false` if it was not accepted.
    on_change: Callback<f64, bool>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let error = RwSignal::new(false);
    let shown = move || match format {
        Some(f) => f.run(value.get()),
        None => value.get().to_string(),
    };
    let apply = move |raw: String| {
        let ok = raw
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= min && *v <= max)
            .is_some_and(|v| on_change.run(v));
        error.set(!ok);
    };
    view! {
        <div class="control slider" class:invalid=move || error.get()>
            <label>
                <span class="control-label">{move || label.get()}</span>
                <output class="control-value">{shown}</output>
                <input type="range" min=min max=max step=step data-testid=testid
                    prop:value=move || value.get().to_string()
                    on:input=move |e| apply(event_target_value(&e))/>
            </label>
            <input type="number" class="number" min=min max=max step=step
                aria-label=move || label.get()
                data-testid=if testid.is_empty() { String::new() } else { format!("{testid}-input") }
                prop:value=move || value.get().to_string()
                on:change=move |e| apply(event_target_value(&e))/>
            <Show when=move || error.get()>
                <span class="control-error" role="alert">{format!("{min} … {max}")}</span>
            </Show>
        </div>
    }
}

/// A row of mutually exclusive buttons (radio semantics) over the options of a [`Choice`]: each
/// button shows the option's label and carries its slug in `data-value`.
#[component]
pub fn Segmented<T: Choice>(
    #[prop(into)] label: Signal<String>,
    #[prop(into)] value: Signal<T>,
    on_change: Callback<T>,
    /// The options offered (all of them by default).
    #[prop(optional, into)]
    options: Option<Signal<Vec<T>>>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let app = use_app();
    let options = move || options.map_or_else(|| T::ALL.to_vec(), |o| o.get());
    view! {
        <div class="control segmented" role="radiogroup" aria-label=move || label.get() data-testid=testid>
            <span class="control-label">{move || label.get()}</span>
            <div class="segments">
                {move || options().into_iter().map(|option| {
                    let selected = move || value.get() == option;
                    view! {
                        <button type="button" role="radio" class="segment" class:selected=selected
                            data-value=option.slug()
                            aria-checked=move || selected().to_string()
                            on:click=move |_| on_change.run(option)>
                            {move || option.label().text(app.lang())}
                        </button>
                    }
                }).collect_view()}
            </div>
        </div>
    }
}
