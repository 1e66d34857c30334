//! The panel a chapter shows until it is built: what it will teach, nothing pretending to work.

use leptos::prelude::*;

use crate::chapters::Chapter;
use crate::i18n::Msg;
use crate::ui::state::use_app;

#[component]
pub fn Coming(chapter: Chapter) -> impl IntoView {
    let app = use_app();
    view! {
        <section class="card coming" data-testid="coming">
            <p><span class="badge">{move || app.t(Msg::ComingBadge)}</span>" "{move || app.t(Msg::ComingIntro)}</p>
            <ul>
                {move || app.t(chapter.coming()).lines().map(|l| view! { <li>{l}</li> }).collect_view()}
            </ul>
        </section>
    }
}
