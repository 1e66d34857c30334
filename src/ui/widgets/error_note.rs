//! The one way the page shows an error next to the control or chart it belongs to: the
//! engine's (or a loader's) message as text, never as HTML, in an alert region so screen
//! readers announce it.

use leptos::prelude::*;

/// Shows `error` when there is one. `error` is usually derived from a `Result` whose error is a
/// typed `QuantError` (or another `Display` error), turned into text only here.
#[component]
pub fn ErrorNote(
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] testid: &'static str,
    /// Text after the message (e.g. "the previous data is kept").
    #[prop(optional, into)]
    suffix: Option<Signal<String>>,
) -> impl IntoView {
    view! {
        <Show when=move || error.with(Option::is_some)>
            <p class="control-error" role="alert" data-testid=testid>
                {move || error.get().unwrap_or_default()}
                {move || suffix.map(|s| format!(" {}", s.get()))}
            </p>
        </Show>
    }
}

/// The text of a `Result`'s error, for [`ErrorNote`].
pub fn error_text<T, E: std::fmt::Display>(r: &Result<T, E>) -> Option<String> {
    r.as_ref().err().map(E::to_string)
}
