//! Seminar mode: the guided tour (`src/tour/*.txt`) over the live chapters, and the presenter
//! notes window (`?notes=1`) that follows the main window through a BroadcastChannel.
//!
//! A step is applied by taking its chapter and that chapter's controls from the step's query
//! (the same URL state a link uses), keeping the reader's language, theme and presenter mode;
//! the controls it names are highlighted once the chapter has rendered.

use std::time::Duration;

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use super::dom;
use super::state::{use_app, AppState};
use quantlab_app::i18n::{Lang, Msg};
use quantlab_app::tour::{self, step_query, Step};
use quantlab_app::urlstate::ViewState;

const CHANNEL: &str = "quantlab-tour";
const FOCUS_CLASS: &str = "tour-focus";

fn steps(lang: Lang) -> &'static [Step] {
    tour::steps(lang)
}

fn channel() -> Option<web_sys::BroadcastChannel> {
    web_sys::BroadcastChannel::new(CHANNEL).ok()
}

/// Opens step `i` of the tour: its chapter and prepared controls.
pub fn go_step(app: AppState, i: usize) {
    let lang = app.view.with_untracked(|v| v.lang);
    let Some(step) = steps(lang).get(i) else {
        return;
    };
    let (prepared, _) = ViewState::parse_query(&step_query(step));
    app.view.update(|v| {
        v.tour = Some(i);
        v.notes = false;
        v.adopt_chapter_state(&prepared);
    });
}

pub fn start_tour(app: AppState) {
    go_step(app, 0);
}

pub fn stop_tour(app: AppState) {
    app.view.update(|v| v.tour = None);
    clear_focus();
}

pub fn step_by(app: AppState, delta: isize) {
    let Some(cur) = app.view.with_untracked(|v| v.tour) else {
        return;
    };
    let n = steps(app.view.with_untracked(|v| v.lang)).len();
    let next = cur as isize + delta;
    if next >= 0 && (next as usize) < n {
        go_step(app, next as usize);
    }
}

fn clear_focus() {
    let Some(doc) = dom::document() else { return };
    if let Ok(list) = doc.query_selector_all(&format!(".{FOCUS_CLASS}")) {
        for i in 0..list.length() {
            if let Some(el) = list
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                let _ = el.class_list().remove_1(FOCUS_CLASS);
            }
        }
    }
}

thread_local! {
    /// Bumped on every step change, so the retries of an earlier step stop (and do not clear
    /// the current step's highlight).
    static FOCUS_GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Highlights the step's controls; retried for a moment because a chapter's data (and with it
/// some of its controls) may still be arriving.
fn focus(testids: Vec<String>, generation: u64, attempt: u32) {
    if FOCUS_GENERATION.with(|g| g.get()) != generation {
        return;
    }
    clear_focus();
    let Some(doc) = dom::document() else { return };
    let mut found = 0;
    let mut first: Option<web_sys::Element> = None;
    for id in &testids {
        if let Ok(Some(el)) = doc.query_selector(&format!("[data-testid=\"{id}\"]")) {
            let _ = el.class_list().add_1(FOCUS_CLASS);
            found += 1;
            if first.is_none() {
                first = Some(el);
            }
        }
    }
    if let Some(el) = first.filter(|_| attempt == 0 || found == testids.len()) {
        let opts = web_sys::ScrollIntoViewOptions::new();
        opts.set_behavior(web_sys::ScrollBehavior::Smooth);
        opts.set_block(web_sys::ScrollLogicalPosition::Center);
        el.scroll_into_view_with_scroll_into_view_options(&opts);
    }
    if found < testids.len() && attempt < 20 {
        set_timeout(
            move || focus(testids, generation, attempt + 1),
            Duration::from_millis(250),
        );
    }
}

/// Keeps the notes window in step, highlights the step's controls, answers the notes window's
/// next/previous buttons. Call once in the main window.
pub fn sync_tour(app: AppState) {
    let chan = StoredValue::new_local(channel());
    Effect::new(move |_| {
        let (tour, lang) = app.view.with(|v| (v.tour, v.lang));
        let Some(i) = tour else {
            FOCUS_GENERATION.with(|g| g.set(g.get() + 1));
            clear_focus();
            return;
        };
        let generation = FOCUS_GENERATION.with(|g| {
            g.set(g.get() + 1);
            g.get()
        });
        if let Some(step) = steps(lang).get(i) {
            let ids = step.focus.clone();
            set_timeout(
                move || focus(ids, generation, 0),
                Duration::from_millis(120),
            );
        }
        chan.with_value(|c| {
            if let Some(c) = c {
                let _ = c.post_message(&JsValue::from_str(&format!("step:{i}:{}", lang.code())));
            }
        });
    });
    // Commands from the notes window.
    chan.with_value(|c| {
        let Some(c) = c else { return };
        let cb = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |e: web_sys::MessageEvent| {
                match e.data().as_string().as_deref() {
                    Some("next") => step_by(app, 1),
                    Some("prev") => step_by(app, -1),
                    Some("hello") => {
                        // A notes window just opened: tell it where we are.
                        let (tour, lang) = app.view.with_untracked(|v| (v.tour, v.lang));
                        if let (Some(i), Some(c)) = (tour, channel()) {
                            let _ = c.post_message(&JsValue::from_str(&format!(
                                "step:{i}:{}",
                                lang.code()
                            )));
                            c.close();
                        }
                    }
                    _ => {}
                }
            },
        );
        c.set_onmessage(Some(cb.as_ref().unchecked_ref()));
        cb.forget(); // lives as long as the page
    });
}

#[component]
pub fn TourPanel() -> impl IntoView {
    let app = use_app();
    let current = Memo::new(move |_| app.view.with(|v| v.tour));
    let revealed = RwSignal::new(false);
    Effect::new(move |_| {
        current.track();
        revealed.set(false);
    });
    let step = move || {
        current
            .get()
            .and_then(|i| steps(app.lang()).get(i).cloned())
    };
    let total = move || steps(app.lang()).len();
    let open_notes = move |_| {
        let Some(w) = dom::window() else { return };
        let (i, lang) = app.view.with_untracked(|v| (v.tour.unwrap_or(0), v.lang));
        let url = format!(
            "{}?ch=why&lang={}&tour={}&notes=1",
            w.location().pathname().unwrap_or_default(),
            lang.code(),
            i + 1
        );
        let _ = w.open_with_url_and_target(&url, "quantlab-notes");
    };
    let share = move || current.get().map(|i| format!("?tour={}", i + 1));
    view! {
        <Show when=move || current.get().is_some()>
            <aside class="tour" role="region" aria-label=move || app.t(Msg::TourLabel) data-testid="tour-panel">
                <div class="tour-head">
                    <span class="tour-step" data-testid="tour-step">
                        {move || format!("{} / {}", current.get().map(|i| i + 1).unwrap_or(0), total())}
                    </span>
                    <strong class="tour-title">{move || step().map(|s| s.title)}</strong>
                    <button type="button" class="tool small" aria-label=move || app.t(Msg::TourClose) on:click=move |_| stop_tour(app)>"✕"</button>
                </div>
                <progress class="tour-progress" max=move || total().max(1) value=move || current.get().map(|i| i + 1).unwrap_or(0)></progress>
                <p class="tour-narration" data-testid="tour-narration">{move || step().map(|s| s.narration)}</p>
                {move || step().and_then(|s| s.predict.clone().map(|p| (p, s.reveal.clone().unwrap_or_default()))).map(|(p, r)| view! {
                    <div class="tour-predict" data-testid="tour-predict">
                        <p><span class="badge">{move || app.t(Msg::TourPredict)}</span>" "{p}</p>
                        <Show when=move || revealed.get()
                            fallback=move || view! { <button type="button" class="tool small" data-testid="tour-reveal" on:click=move |_| revealed.set(true)>{move || app.t(Msg::TourReveal)}</button> }>
                            <p class="tour-reveal-text">{r.clone()}</p>
                        </Show>
                    </div>
                })}
                <div class="tour-nav">
                    <button type="button" class="tool" data-testid="tour-prev" disabled=move || current.get() == Some(0) on:click=move |_| step_by(app, -1)>
                        "← "{move || app.t(Msg::Prev)}
                    </button>
                    <select data-testid="tour-picker" aria-label=move || app.t(Msg::TourPick)
                        prop:value=move || current.get().unwrap_or(0).to_string()
                        on:change=move |e| { if let Ok(i) = event_target_value(&e).parse::<usize>() { go_step(app, i); } }>
                        {move || steps(app.lang()).iter().enumerate().map(|(i, s)| {
                            view! { <option value=i.to_string() selected=move || current.get() == Some(i)>{format!("{}. {}", i + 1, s.title)}</option> }
                        }).collect_view()}
                    </select>
                    <button type="button" class="tool accent" data-testid="tour-next" disabled=move || current.get().is_some_and(|i| i + 1 >= total()) on:click=move |_| step_by(app, 1)>
                        {move || app.t(Msg::Next)}" →"
                    </button>
                    <button type="button" class="tool small" data-testid="tour-notes-open" on:click=open_notes>{move || app.t(Msg::TourNotesOpen)}</button>
                    <a class="tour-link" data-testid="tour-link" href=move || share().unwrap_or_default()>{move || app.t(Msg::TourLinkHere)}</a>
                </div>
            </aside>
        </Show>
    }
}

/// The presenter notes window: the current step's speaking notes, large, following the main
/// window; its buttons drive the main window.
#[component]
pub fn NotesView() -> impl IntoView {
    let app = use_app();
    let current = RwSignal::new(app.view.with_untracked(|v| v.tour.unwrap_or(0)));
    let chan = StoredValue::new_local(channel());
    chan.with_value(|c| {
        let Some(c) = c else { return };
        let cb = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |e: web_sys::MessageEvent| {
                let Some(msg) = e.data().as_string() else {
                    return;
                };
                let mut parts = msg.split(':');
                if parts.next() == Some("step") {
                    if let Some(i) = parts.next().and_then(|p| p.parse::<usize>().ok()) {
                        current.set(i);
                        app.view.update(|v| v.tour = Some(i));
                    }
                    if let Some(l) = parts.next().and_then(Lang::from_code) {
                        app.view.update(|v| v.lang = l);
                    }
                }
            },
        );
        c.set_onmessage(Some(cb.as_ref().unchecked_ref()));
        cb.forget();
        let _ = c.post_message(&JsValue::from_str("hello"));
    });
    let send = move |cmd: &'static str| {
        chan.with_value(|c| {
            if let Some(c) = c {
                let _ = c.post_message(&JsValue::from_str(cmd));
            }
        })
    };
    let step = move || steps(app.lang()).get(current.get()).cloned();
    let next_title = move || {
        steps(app.lang())
            .get(current.get() + 1)
            .map(|s| s.title.clone())
    };
    let handle = window_event_listener(ev::keydown, move |e| match e.key().as_str() {
        "ArrowRight" | "PageDown" => send("next"),
        "ArrowLeft" | "PageUp" => send("prev"),
        _ => {}
    });
    on_cleanup(move || handle.remove());
    view! {
        <div class="notes-view" data-testid="notes-view">
            <header class="notes-head">
                <span class="tour-step" data-testid="notes-step">{move || format!("{} / {}", current.get() + 1, steps(app.lang()).len())}</span>
                <h1>{move || step().map(|s| s.title)}</h1>
            </header>
            <p class="notes-text" data-testid="tour-notes">{move || step().map(|s| s.notes)}</p>
            <p class="muted">{move || step().map(|s| s.narration)}</p>
            <footer class="notes-foot">
                <button type="button" class="tool" on:click=move |_| send("prev")>"← "{move || app.t(Msg::Prev)}</button>
                <button type="button" class="tool accent" on:click=move |_| send("next")>{move || app.t(Msg::Next)}" →"</button>
                <span class="muted">{move || next_title().map(|t| Msg::TourUpNext.fill(app.lang(), &[&t]))}</span>
            </footer>
        </div>
    }
}
