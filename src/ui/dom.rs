//! Thin, non-panicking helpers over web-sys for the few places that talk to the page directly
//! (URL, title, theme attribute, panic banner). Every call that can fail in a browser returns an
//! `Option`/does nothing, because none of these failures is worth killing the page for.

use wasm_bindgen::{JsCast, JsValue};

use quantlab_app::i18n::Lang;

pub fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

pub fn document() -> Option<web_sys::Document> {
    window()?.document()
}

pub fn location_search() -> String {
    window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Writes the query string to the address bar. `push` adds a history entry (chapter changes,
/// so Back works); otherwise the current entry is replaced (control changes).
pub fn write_query(query: &str, push: bool) {
    let Some(w) = window() else { return };
    let Ok(history) = w.history() else { return };
    let path = w.location().pathname().unwrap_or_default();
    let hash = w.location().hash().unwrap_or_default();
    let url = format!("{path}{query}{hash}");
    let _ = if push {
        history.push_state_with_url(&JsValue::NULL, "", Some(&url))
    } else {
        history.replace_state_with_url(&JsValue::NULL, "", Some(&url))
    };
}

pub fn set_title(title: &str) {
    if let Some(d) = document() {
        d.set_title(title);
    }
}

fn root_element() -> Option<web_sys::Element> {
    document()?.document_element()
}

pub fn set_root_attr(name: &str, value: Option<&str>) {
    if let Some(root) = root_element() {
        let _ = match value {
            Some(v) => root.set_attribute(name, v),
            None => root.remove_attribute(name),
        };
    }
}

pub fn document_lang() -> Option<Lang> {
    Lang::from_code(&root_element()?.get_attribute("lang")?)
}

pub fn prefers_dark() -> bool {
    window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .map(|m| m.matches())
        .unwrap_or(false)
}

pub fn device_pixel_ratio() -> f64 {
    let r = window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0);
    if r.is_finite() && r > 0.0 {
        r.min(4.0)
    } else {
        1.0
    }
}

/// Whether the page is cross-origin isolated (then browsers give `performance.now()` its fine
/// resolution). Read by name: web-sys has no binding for it.
pub fn cross_origin_isolated() -> bool {
    window()
        .and_then(|w| js_sys::Reflect::get(&w, &JsValue::from_str("crossOriginIsolated")).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

pub fn now_ms() -> f64 {
    window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// The static "Loading…" note in index.html is there for browsers where the wasm never starts.
pub fn remove_boot_message() {
    if let Some(el) = document().and_then(|d| d.get_element_by_id("boot")) {
        el.remove();
    }
}

/// True when keyboard shortcuts should leave the key alone (typing in a field, moving a slider).
pub fn is_editable_target(target: Option<web_sys::EventTarget>) -> bool {
    let Some(el) = target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
        return false;
    };
    let tag = el.tag_name().to_ascii_lowercase();
    matches!(tag.as_str(), "input" | "select" | "textarea")
        || el.has_attribute("contenteditable")
        || el.get_attribute("role").is_some_and(|r| r == "slider")
}

/// Asks for real fullscreen (presenter mode). Browsers refuse without a user gesture or in some
/// embeds; the returned promise's rejection is caught so it never reaches the console as an error.
pub fn request_fullscreen(on: bool) {
    let Some(doc) = document() else { return };
    let call = |target: &JsValue, name: &str| {
        let Ok(f) = js_sys::Reflect::get(target, &JsValue::from_str(name)) else {
            return;
        };
        let Some(f) = f.dyn_ref::<js_sys::Function>() else {
            return;
        };
        if let Ok(p) = f.call0(target) {
            if let Ok(p) = p.dyn_into::<js_sys::Promise>() {
                let ignore = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(|_| {});
                let _ = p.catch(&ignore);
                ignore.forget(); // one tiny closure per toggle; must outlive the promise
            }
        }
    };
    let is_full = doc.fullscreen_element().is_some();
    if on && !is_full {
        if let Some(root) = doc.document_element() {
            call(root.as_ref(), "requestFullscreen");
        }
    } else if !on && is_full {
        call(doc.as_ref(), "exitFullscreen");
    }
}

/// Shows the crash banner with plain DOM calls (see `ui::install_panic_banner`).
pub fn show_error_banner(title: &str, body: &str, reload: &str, detail: &str) {
    let Some(doc) = document() else { return };
    let Some(body_el) = doc.body() else { return };
    if doc
        .query_selector("[data-testid=error-banner]")
        .ok()
        .flatten()
        .is_some()
    {
        return;
    }
    let Ok(banner) = doc.create_element("div") else {
        return;
    };
    let _ = banner.set_attribute("class", "error-banner");
    let _ = banner.set_attribute("role", "alert");
    let _ = banner.set_attribute("data-testid", "error-banner");
    let detail = detail.replace('&', "&amp;").replace('<', "&lt;");
    banner.set_inner_html(&format!(
        "<strong>{title}</strong> <span>{body}</span> \
         <button type=\"button\" onclick=\"location.reload()\">{reload}</button>\
         <details><summary>Details</summary><pre>{detail}</pre></details>"
    ));
    let _ = body_el.prepend_with_node_1(&banner);
}

/// Saves a canvas as a PNG through a temporary download link.
pub fn download_canvas_png(canvas: &web_sys::HtmlCanvasElement, file_stem: &str) {
    let Ok(url) = canvas.to_data_url_with_type("image/png") else {
        return;
    };
    download_url(&url, &format!("{file_stem}.png"));
}

pub fn download_url(url: &str, file_name: &str) {
    let Some(doc) = document() else { return };
    let Ok(a) = doc.create_element("a") else {
        return;
    };
    let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() else {
        return;
    };
    a.set_href(url);
    a.set_download(file_name);
    a.click();
}
