//! Model files from the site's own origin: streamed with progress in MB, cancellable, hashed as
//! the bytes arrive when asked, and kept in the offline cache from the first load. Both models
//! (all-MiniLM-L6-v2's safetensors, SmolLM2's GGUF) come through here, and [`Loading`] is the
//! state both stores show the reader.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use quantlab_weights::Sha256Stream;

use super::dom;

/// Why a download ended without its bytes.
pub enum Fetch {
    Cancelled,
    Failed(String),
}

/// A model file to fetch.
pub struct Request<'a> {
    /// Relative to the page (any sub-path).
    pub path: &'a str,
    /// Its size when the server does not say.
    pub expected: usize,
    /// More than this is refused as it arrives.
    pub limit: usize,
    /// Compute the SHA-256 while the bytes arrive.
    pub hash: bool,
}

/// The file, streamed: `progress(received, total)` after every ~1 %, the SHA-256 as it
/// arrives when `req.hash`. `abort` holds the controller that [`cancel`] aborts.
pub async fn download(
    req: Request<'_>,
    abort: StoredValue<Option<web_sys::AbortController>, LocalStorage>,
    progress: impl Fn(usize, usize),
) -> Result<(Vec<u8>, Option<String>), Fetch> {
    let path = req.path;
    let failed = |what: &str| Fetch::Failed(format!("{path}: {what}"));
    let window = dom::window().ok_or_else(|| failed("no window"))?;
    let controller = web_sys::AbortController::new().map_err(|_| failed("no AbortController"))?;
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    abort.set_value(Some(controller));
    let cancelled = move || {
        abort
            .try_with_value(|a| a.as_ref().is_some_and(|c| c.signal().aborted()))
            .unwrap_or(true)
    };
    let resp = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await
        .map_err(|_| {
            if cancelled() {
                Fetch::Cancelled
            } else {
                failed("could not be downloaded (offline, and not loaded before?)")
            }
        })?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|_| failed("unexpected response"))?;
    if !resp.ok() {
        return Err(failed(&format!("HTTP {}", resp.status())));
    }
    keep_for_offline(path, &resp);
    let total = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0 && n <= req.limit)
        .unwrap_or(req.expected);
    let body = resp.body().ok_or_else(|| failed("empty response"))?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::with_capacity(total);
    let mut sha = req.hash.then(Sha256Stream::new);
    let mut shown = 0usize;
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|_| {
            if cancelled() {
                Fetch::Cancelled
            } else {
                failed("the download was interrupted")
            }
        })?;
        let chunk: web_sys::ReadableStreamReadResult = chunk.unchecked_into();
        if chunk.get_done().unwrap_or(true) {
            break;
        }
        let piece = js_sys::Uint8Array::new(&chunk.get_value()).to_vec();
        if bytes.len() + piece.len() > req.limit {
            return Err(failed("is larger than any model file quantlab knows"));
        }
        if let Some(sha) = sha.as_mut() {
            sha.update(&piece);
        }
        bytes.extend_from_slice(&piece);
        // One progress update per ~1 % keeps the bar smooth without a render per piece.
        if bytes.len() - shown >= total / 100 {
            shown = bytes.len();
            progress(shown, total.max(shown));
        }
    }
    Ok((bytes, sha.map(Sha256Stream::finish)))
}

/// Stops the download `abort` holds.
pub fn cancel(abort: StoredValue<Option<web_sys::AbortController>, LocalStorage>) {
    if let Some(Some(c)) = abort.try_get_value() {
        c.abort();
    }
}

/// The service worker's cache (`assets/sw.js`).
const OFFLINE_CACHE: &str = "quantlab-v1";

/// Puts a copy of the response into the offline cache as it streams in. The service worker
/// keeps every response it fetches, but the very first visit's requests can run before it
/// controls the page; this makes "kept for offline use" true from the first load. A failed
/// or cancelled load removes the entry again ([`forget_offline`]).
fn keep_for_offline(path: &str, resp: &web_sys::Response) {
    let (Some(window), Ok(copy)) = (dom::window(), resp.clone()) else {
        return;
    };
    let Ok(caches) = window.caches() else { return };
    let path = path.to_string();
    spawn_local(async move {
        let Ok(cache) = JsFuture::from(caches.open(OFFLINE_CACHE)).await else {
            return;
        };
        let cache: web_sys::Cache = cache.unchecked_into();
        // A cancelled download rejects here; there is nothing to keep then.
        let _ = JsFuture::from(cache.put_with_str(&path, &copy)).await;
    });
}

pub fn forget_offline(path: &str) {
    let Some(window) = dom::window() else { return };
    let Ok(caches) = window.caches() else { return };
    let path = path.to_string();
    spawn_local(async move {
        if let Ok(cache) = JsFuture::from(caches.open(OFFLINE_CACHE)).await {
            let cache: web_sys::Cache = cache.unchecked_into();
            let _ = JsFuture::from(cache.delete_with_str(&path)).await;
        }
    });
}

/// A promise that resolves after `ms` (lets the browser paint between two steps of an async
/// task).
pub async fn pause_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = dom::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        } else {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Where a model file is on its way into the page (MiniLM's and the language model's alike):
/// not asked for yet, arriving, being checked and read, ready, failed, or stopped by the reader.
#[derive(Debug)]
pub enum Loading<M> {
    Idle,
    Downloading {
        received: usize,
        total: usize,
    },
    /// Downloaded or opened; checking and reading the file.
    Preparing,
    Ready(super::Shared<M>),
    Failed(String),
    /// Stopped by the reader.
    Cancelled,
}

impl<M> Loading<M> {
    pub fn model(&self) -> Option<super::Shared<M>> {
        match self {
            Loading::Ready(m) => Some(m.clone()),
            _ => None,
        }
    }

    pub fn busy(&self) -> bool {
        matches!(self, Loading::Downloading { .. } | Loading::Preparing)
    }
}

// By hand: derived impls would ask `M` itself for `Clone`/`PartialEq`; a ready model is compared
// by identity ([`super::Shared`]).
impl<M> Clone for Loading<M> {
    fn clone(&self) -> Self {
        match self {
            Loading::Idle => Loading::Idle,
            Loading::Downloading { received, total } => Loading::Downloading {
                received: *received,
                total: *total,
            },
            Loading::Preparing => Loading::Preparing,
            Loading::Ready(m) => Loading::Ready(m.clone()),
            Loading::Failed(e) => Loading::Failed(e.clone()),
            Loading::Cancelled => Loading::Cancelled,
        }
    }
}

impl<M> PartialEq for Loading<M> {
    fn eq(&self, o: &Self) -> bool {
        match (self, o) {
            (Loading::Idle, Loading::Idle)
            | (Loading::Preparing, Loading::Preparing)
            | (Loading::Cancelled, Loading::Cancelled) => true,
            (
                Loading::Downloading { received, total },
                Loading::Downloading {
                    received: r2,
                    total: t2,
                },
            ) => (received, total) == (r2, t2),
            (Loading::Ready(a), Loading::Ready(b)) => a == b,
            (Loading::Failed(a), Loading::Failed(b)) => a == b,
            _ => false,
        }
    }
}
