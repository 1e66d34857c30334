//! The frame around the chapters: header with language/theme/presenter toggles, the table of
//! contents, URL notices, previous/next, keyboard navigation and presenter mode.

use std::time::Duration;

use leptos::ev;
use leptos::prelude::*;

use super::chapters::ChapterBody;
use super::dom;
use super::state::{use_app, AppState};
use quantlab_app::chapters::Chapter;
use quantlab_app::i18n::Msg;
use quantlab_app::urlstate::Theme;

#[component]
pub fn App() -> impl IntoView {
    let (initial, notices) = quantlab_app::open_link(&dom::location_search());
    let app = AppState::new(initial, notices, dom::prefers_dark());
    provide_context(app);
    provide_context(super::data::DataStore::new());
    provide_context(super::minilm::ModelStore::new());
    provide_context(super::llm::LmStore::new());
    provide_context(super::chapters::qat::QatResults::new());
    let dev_overlay = RwSignal::new(false);

    let notes_window = app.view.with_untracked(|v| v.notes);
    // `?tour=N` alone (a step's deep link) opens that step with its prepared state; a link that
    // also names a chapter is a copied view and is reproduced as it is.
    if let Some(i) = app.view.with_untracked(|v| v.tour) {
        if !notes_window && !dom::location_search().contains("ch=") {
            super::tour::go_step(app, i);
        }
    }
    sync_url(app);
    sync_document(app);
    listen_system_theme(app);
    if notes_window {
        return view! { <super::tour::NotesView/> }.into_any();
    }
    listen_keys(app, dev_overlay);
    super::tour::sync_tour(app);

    view! {
        <div class="app" class:presenter=move || app.presenter() class:menu-open=move || app.menu_open.get()
            class:tour-on=move || app.view.with(|v| v.tour.is_some())>
            <a class="skip-link" href="#chapter">{move || app.t(Msg::SkipToContent)}</a>
            <Header/>
            <div class="layout">
                <Toc/>
                <main id="chapter" class="main" tabindex="-1">
                    <Notices/>
                    <ChapterBody/>
                    <PrevNext/>
                </main>
            </div>
            <Footer/>
            <SlideCounter/>
            <super::tour::TourPanel/>
            <super::perf::PerfOverlay open=dev_overlay/>
        </div>
    }
    .into_any()
}

/// URL ← view. Chapter changes push a history entry (so Back returns to the previous chapter);
/// control changes replace the entry, at most every 400 ms, because a history call costs a few
/// milliseconds and browsers throttle (and warn about) hundreds a second while a slider moves.
fn sync_url(app: AppState) {
    let pending = StoredValue::new(false);
    Effect::new(move |prev_chapter: Option<Chapter>| {
        let (query, chapter) = app.view.with(|v| (v.to_query(), v.chapter));
        if prev_chapter.is_none() {
            // The canonical form of the opening link: defaults spelled out, junk dropped (the
            // notices say what was dropped).
            dom::write_query(&query, false);
        } else if prev_chapter.is_some_and(|p| p != chapter) {
            dom::write_query(&query, true);
        } else if prev_chapter.is_some() && !pending.get_value() {
            pending.set_value(true);
            set_timeout(
                move || {
                    pending.set_value(false);
                    if let Some(q) = app.view.try_with_untracked(|v| v.to_query()) {
                        if q != dom::location_search() {
                            dom::write_query(&q, false);
                        }
                    }
                },
                Duration::from_millis(400),
            );
        }
        chapter
    });

    // Back/Forward: the URL is the truth again.
    let handle = window_event_listener(ev::popstate, move |_| {
        let (state, notices) = quantlab_app::open_link(&dom::location_search());
        app.view.set(state);
        app.notices.set(notices);
    });
    on_cleanup(move || handle.remove());
}

/// Title, `<html lang>`, theme attribute, presenter fullscreen, scroll position.
fn sync_document(app: AppState) {
    Effect::new(move |_| {
        let lang = app.lang();
        let chapter = app.chapter();
        dom::set_title(&format!("{} · quantlab", chapter.title().text(lang)));
        dom::set_root_attr("lang", Some(lang.code()));
    });
    Effect::new(move |_| {
        let theme = app.theme();
        dom::set_root_attr(
            "data-theme",
            match theme {
                Theme::Auto => None,
                Theme::Light => Some("light"),
                Theme::Dark => Some("dark"),
            },
        );
    });
    Effect::new(move |prev: Option<bool>| {
        let on = app.presenter();
        dom::set_root_attr("data-presenter", on.then_some(""));
        if prev.is_some_and(|p| p != on) {
            dom::request_fullscreen(on);
        }
        on
    });
    Effect::new(move |prev: Option<Chapter>| {
        let chapter = app.chapter();
        if prev.is_some_and(|p| p != chapter) {
            if let Some(w) = dom::window() {
                w.scroll_to_with_x_and_y(0.0, 0.0);
            }
        }
        chapter
    });
}

fn listen_keys(app: AppState, dev_overlay: RwSignal<bool>) {
    let handle = window_event_listener(ev::keydown, move |e| {
        if e.ctrl_key() || e.meta_key() || e.alt_key() || e.default_prevented() {
            return;
        }
        if dom::is_editable_target(e.target()) {
            return;
        }
        // During the tour the arrows move between its steps (in presenter mode too).
        let touring = app.view.with_untracked(|v| v.tour.is_some());
        match e.key().as_str() {
            "ArrowLeft" => {
                e.prevent_default();
                if touring {
                    super::tour::step_by(app, -1)
                } else {
                    app.go_prev()
                }
            }
            "ArrowRight" => {
                e.prevent_default();
                if touring {
                    super::tour::step_by(app, 1)
                } else {
                    app.go_next()
                }
            }
            "p" | "P" => app.toggle_presenter(),
            "d" | "D" => dev_overlay.update(|o| *o = !*o),
            "Escape" if app.view.with_untracked(|v| v.presenter) => app.toggle_presenter(),
            _ => {}
        }
    });
    on_cleanup(move || handle.remove());
}

fn listen_system_theme(app: AppState) {
    let Some(mql) =
        dom::window().and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
    else {
        return;
    };
    let target: web_sys::EventTarget = mql.clone().into();
    let cb = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(
        move |_: web_sys::Event| {
            app.system_dark.set(mql.matches());
        },
    );
    let _ = target.add_event_listener_with_callback(
        "change",
        wasm_bindgen::JsCast::unchecked_ref(cb.as_ref()),
    );
    cb.forget(); // lives as long as the page
}

#[component]
fn Header() -> impl IntoView {
    let app = use_app();
    let theme_label = move || match app.theme() {
        Theme::Auto => app.t(Msg::ThemeAuto),
        Theme::Light => app.t(Msg::ThemeLight),
        Theme::Dark => app.t(Msg::ThemeDark),
    };
    view! {
        <header class="topbar">
            <button type="button" class="menu-button" aria-controls="toc"
                aria-expanded=move || app.menu_open.get().to_string()
                on:click=move |_| app.menu_open.update(|o| *o = !*o)>
                <span aria-hidden="true">"☰ "</span>{move || app.t(Msg::OpenMenu)}
            </button>
            <a class="brand" href="?ch=why" on:click=move |e: ev::MouseEvent| { e.prevent_default(); app.go(Chapter::Why); }>
                <span class="brand-mark" aria-hidden="true">"q"</span>
                <span class="brand-name">"quantlab"</span>
            </a>
            <span class="tagline">{move || app.t(Msg::Tagline)}</span>
            <div class="toolbar">
                <button type="button" class="tool" data-testid="tour-start"
                    title=move || app.t(Msg::TourStartTitle)
                    on:click=move |_| if app.view.with_untracked(|v| v.tour.is_some()) { super::tour::stop_tour(app) } else { super::tour::start_tour(app) }>
                    {move || if app.view.with(|v| v.tour.is_some()) { app.t(Msg::TourStop) } else { app.t(Msg::TourStart) }}
                </button>
                <button type="button" class="tool" data-testid="lang-toggle"
                    title=move || app.t(Msg::SwitchLangTitle)
                    on:click=move |_| app.toggle_lang()>
                    {move || app.t(Msg::SwitchLang)}
                </button>
                <button type="button" class="tool" data-testid="theme-toggle"
                    title=move || app.t(Msg::ThemeTitle) aria-label=theme_label
                    on:click=move |_| app.cycle_theme()>
                    <span aria-hidden="true">{move || if app.dark() { "☾" } else { "☀" }}</span>
                    <span class="tool-label">" "{theme_label}</span>
                </button>
                <button type="button" class="tool presenter-toggle" data-testid="presenter-toggle"
                    title=move || app.t(Msg::PresenterTitle)
                    aria-pressed=move || app.presenter().to_string()
                    on:click=move |_| app.toggle_presenter()>
                    {move || if app.presenter() { app.t(Msg::ExitPresenter) } else { app.t(Msg::Presenter) }}
                </button>
            </div>
        </header>
    }
}

#[component]
fn Toc() -> impl IntoView {
    let app = use_app();
    let items = Chapter::ALL
        .into_iter()
        .map(|c| {
            let href = format!("?ch={}", c.slug());
            view! {
                <li>
                    <a href=href data-testid=format!("nav-{}", c.slug())
                        class:current=move || app.chapter() == c
                        aria-current=move || (app.chapter() == c).then_some("page")
                        on:click=move |e: ev::MouseEvent| {
                            if !(e.ctrl_key() || e.meta_key() || e.shift_key()) {
                                e.prevent_default();
                                app.go(c);
                            }
                        }>
                        <span class="toc-num">{c.index() + 1}</span>
                        <span class="toc-title">{move || app.t(c.title())}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav id="toc" class="toc" aria-label=move || app.t(Msg::Contents)>
            <h2 class="toc-heading">{move || app.t(Msg::Contents)}</h2>
            <ol>{items}</ol>
            <p class="keys-hint">{move || app.t(Msg::KeysHint)}</p>
        </nav>
    }
}

#[component]
fn Notices() -> impl IntoView {
    let app = use_app();
    view! {
        <Show when=move || app.notices.with(|n| !n.is_empty())>
            <div class="notices" role="status" data-testid="url-notice">
                <ul>
                    {move || app.notices.get().into_iter().map(|n| {
                        view! { <li>{move || n.message(app.lang())}</li> }
                    }).collect_view()}
                </ul>
                <button type="button" class="tool small" on:click=move |_| app.notices.set(Vec::new())>
                    {move || app.t(Msg::Dismiss)}
                </button>
            </div>
        </Show>
    }
}

#[component]
fn PrevNext() -> impl IntoView {
    let app = use_app();
    let link =
        move |target: Option<Chapter>, label: Msg, class: &'static str, testid: &'static str| {
            target.map(|c| {
                view! {
                    <a class=class href=format!("?ch={}", c.slug()) data-testid=testid
                        on:click=move |e: ev::MouseEvent| { e.prevent_default(); app.go(c); }>
                        <span class="pn-label">{move || app.t(label)}</span>
                        <span class="pn-title">{move || app.t(c.title())}</span>
                    </a>
                }
            })
        };
    view! {
        <nav class="prevnext" aria-label="chapters">
            {move || link(app.chapter().prev(), Msg::Prev, "prev", "prev-chapter")}
            {move || link(app.chapter().next(), Msg::Next, "next", "next-chapter")}
        </nav>
    }
}

#[component]
fn SlideCounter() -> impl IntoView {
    let app = use_app();
    view! {
        <Show when=move || app.presenter()>
            <div class="slide-counter" data-testid="slide-counter" aria-live="polite">
                <button type="button" class="slide-nav" aria-label=move || app.t(Msg::Prev) on:click=move |_| app.go_prev()>"‹"</button>
                <span>{move || format!("{} / {}", app.chapter().index() + 1, Chapter::ALL.len())}</span>
                <button type="button" class="slide-nav" aria-label=move || app.t(Msg::Next) on:click=move |_| app.go_next()>"›"</button>
            </div>
        </Show>
    }
}

#[component]
fn Footer() -> impl IntoView {
    let app = use_app();
    view! {
        <footer class="footer">
            <p>{move || app.t(Msg::Footer)}</p>
            <p class="muted">{move || app.t(Msg::SeminarCredit)}</p>
        </footer>
    }
}
