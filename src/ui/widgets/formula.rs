//! Formulas as MathML, rendered by the browser with the bundled math font. Static formulas come
//! from `build.rs` (`crate::formulas`); the function chapter's live formula is its own view.

use leptos::prelude::*;

/// A display formula. `mathml` is trusted markup produced by `build.rs`.
#[component]
pub fn Formula(
    #[prop(into)] mathml: Signal<String>,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    view! { <div class="formula" data-testid=testid inner_html=move || mathml.get()></div> }
}
