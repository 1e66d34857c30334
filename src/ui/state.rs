//! App-wide state, provided as context. Plain data plus plain methods; the URL is the source of
//! truth for everything a link should reproduce ([`ViewState`]), the rest is ephemeral UI.

use leptos::prelude::*;

use quantlab_app::chapters::Chapter;
use quantlab_app::controls::Controls;
use quantlab_app::i18n::{Lang, Msg};
use quantlab_app::urlstate::{Notice, Theme, ViewState};

#[derive(Clone, Copy)]
pub struct AppState {
    pub view: RwSignal<ViewState>,
    // Slices of `view` as memos: most of the page depends only on these, and a memo notifies only
    // when its value changes, so dragging a slider does not re-run every translated string (or
    // re-set <html lang>, which restyles the whole document).
    lang: Memo<Lang>,
    chapter: Memo<Chapter>,
    presenter: Memo<bool>,
    theme: Memo<Theme>,
    /// Things in the opening link that could not be used as written.
    pub notices: RwSignal<Vec<Notice>>,
    /// The system colour scheme (for `Theme::Auto`), kept current by a media-query listener.
    pub system_dark: RwSignal<bool>,
    /// The chapter list on narrow screens.
    pub menu_open: RwSignal<bool>,
}

impl AppState {
    pub fn new(view: ViewState, notices: Vec<Notice>, system_dark: bool) -> Self {
        let view = RwSignal::new(view);
        AppState {
            view,
            lang: Memo::new(move |_| view.with(|v| v.lang)),
            chapter: Memo::new(move |_| view.with(|v| v.chapter)),
            presenter: Memo::new(move |_| view.with(|v| v.presenter)),
            theme: Memo::new(move |_| view.with(|v| v.theme)),
            notices: RwSignal::new(notices),
            system_dark: RwSignal::new(system_dark),
            menu_open: RwSignal::new(false),
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang.get()
    }

    /// The language without tracking it (inside sliced work that must not re-run on a switch).
    pub fn lang_untracked(&self) -> Lang {
        self.lang.get_untracked()
    }

    /// The translation of `m` in the current language (tracks the language).
    pub fn t(&self, m: Msg) -> &'static str {
        m.text(self.lang())
    }

    pub fn chapter(&self) -> Chapter {
        self.chapter.get()
    }

    pub fn go(&self, chapter: Chapter) {
        if self.view.with_untracked(|v| v.chapter) != chapter {
            self.view.update(|v| v.chapter = chapter);
        }
        self.menu_open.set(false);
    }

    pub fn go_prev(&self) {
        if let Some(c) = self.view.with_untracked(|v| v.chapter.prev()) {
            self.go(c);
        }
    }

    pub fn go_next(&self) {
        if let Some(c) = self.view.with_untracked(|v| v.chapter.next()) {
            self.go(c);
        }
    }

    pub fn toggle_lang(&self) {
        self.view.update(|v| v.lang = v.lang.other());
    }

    pub fn cycle_theme(&self) {
        self.view.update(|v| v.theme = v.theme.cycle());
    }

    pub fn presenter(&self) -> bool {
        self.presenter.get()
    }

    pub fn theme(&self) -> Theme {
        self.theme.get()
    }

    pub fn toggle_presenter(&self) {
        self.view.update(|v| v.presenter = !v.presenter);
    }

    /// The theme actually shown (tracks the choice and the system setting).
    pub fn dark(&self) -> bool {
        match self.theme.get() {
            Theme::Auto => self.system_dark.get(),
            Theme::Light => false,
            Theme::Dark => true,
        }
    }

    /// Chapter controls, tracked: `app.ctl(|c| c.smooth.alpha)`. Chapters wrap these in
    /// `Memo`s so a change elsewhere in the view (language, another control) does not re-run
    /// their work.
    pub fn ctl<T>(&self, read: impl FnOnce(&Controls) -> T) -> T {
        self.view.with(|v| read(&v.controls))
    }

    /// Chapter controls, not tracked (for work started by something else).
    pub fn ctl_untracked<T>(&self, read: impl FnOnce(&Controls) -> T) -> T {
        self.view.with_untracked(|v| read(&v.controls))
    }

    /// Changes chapter controls; the URL follows. Numbers written outside their declared range
    /// are put back inside it, so every link reads back as the same view. Only a real change
    /// notifies, so re-sending the same value (a drag that ends where it began) costs nothing
    /// downstream.
    pub fn set_ctl(&self, write: impl FnOnce(&mut Controls)) {
        let mut next = self.view.with_untracked(|v| v.controls.clone());
        write(&mut next);
        next.clamp();
        if self.view.with_untracked(|v| v.controls != next) {
            self.view.update(|v| v.controls = next);
        }
    }
}

/// Where one group of controls lives in [`Controls`], for widgets shared by several chapters
/// (the data picker, the scheme controls, the layer picker): `lens!(function.data)`.
pub struct Lens<T: 'static> {
    pub get: fn(&Controls) -> &T,
    pub get_mut: fn(&mut Controls) -> &mut T,
}

impl<T> Clone for Lens<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Lens<T> {}

impl<T: Clone + PartialEq + 'static> Lens<T> {
    /// The group's value, tracked.
    pub fn read<R>(self, app: AppState, f: impl FnOnce(&T) -> R) -> R {
        app.ctl(|c| f((self.get)(c)))
    }

    /// Changes the group (one URL update).
    pub fn write(self, app: AppState, f: impl FnOnce(&mut T)) {
        app.set_ctl(|c| f((self.get_mut)(c)));
    }
}

/// A [`Lens`] to a path of fields in [`Controls`]: `lens!(function.scheme)`.
#[macro_export]
macro_rules! lens {
    ($($path:ident).+) => {
        $crate::ui::state::Lens { get: |c| &c.$($path).+, get_mut: |c| &mut c.$($path).+ }
    };
}

/// The app state from context. Every component lives under `App`, which provides it.
pub fn use_app() -> AppState {
    expect_context::<AppState>()
}
