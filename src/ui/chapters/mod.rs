//! One file per chapter. `ChapterBody` shows the current one inside the common frame (number,
//! title, lead).

mod calibration;
mod error;
mod formats;
mod function;
mod function_float;
mod histogram;
mod llm;
mod llm_run;
mod llm_views;
mod model;
mod model_run;
mod outliers;
mod playground;
pub mod qat;
pub mod quant_common;
mod rotation;
pub mod smoothquant;
mod summary;
mod summary_llm;
mod why;

use leptos::prelude::*;

use super::state::use_app;
use quantlab_app::chapters::Chapter;
use quantlab_app::i18n::Msg;

#[component]
pub fn ChapterBody() -> impl IntoView {
    let app = use_app();
    let chapter = Memo::new(move |_| app.chapter());
    move || {
        let c = chapter.get();
        let body = match c {
            Chapter::Why => view! { <why::WhyChapter/> }.into_any(),
            Chapter::Function => view! { <function::FunctionChapter/> }.into_any(),
            Chapter::Error => view! { <error::ErrorChapter/> }.into_any(),
            Chapter::Calibration => view! { <calibration::CalibrationChapter/> }.into_any(),
            Chapter::Qat => view! { <qat::QatChapter/> }.into_any(),
            Chapter::Outliers => view! { <outliers::OutliersChapter/> }.into_any(),
            Chapter::SmoothQuant => view! { <smoothquant::SmoothQuantChapter/> }.into_any(),
            Chapter::Rotation => view! { <rotation::RotationChapter/> }.into_any(),
            Chapter::Model => view! { <model::ModelChapter/> }.into_any(),
            Chapter::Llm => view! { <llm::LlmChapter/> }.into_any(),
            Chapter::Summary => view! { <summary::SummaryChapter/> }.into_any(),
            Chapter::Playground => view! { <playground::PlaygroundChapter/> }.into_any(),
        };
        view! {
            <article class="chapter" data-testid=format!("chapter-{}", c.slug()) aria-labelledby="chapter-title">
                <header class="chapter-head">
                    <p class="chapter-num">{move || Msg::ChapterN.fill(app.lang(), &[&(c.index() + 1).to_string()])}</p>
                    <h1 id="chapter-title">{move || app.t(c.title())}</h1>
                    <p class="lead">{move || app.t(c.lead())}</p>
                </header>
                {body}
            </article>
        }
    }
}
