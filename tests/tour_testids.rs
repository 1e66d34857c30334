//! Every element the tour highlights exists on its chapter's page: each step's focus testids
//! are looked up in the web app's source (the chapter's own file, or shared UI code — never
//! another chapter's file). This lives in the web package because it reads the web source; the
//! tour itself (crates/app) knows nothing of the UI.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

use quantlab_app::chapters::Chapter;
use quantlab_app::i18n::Lang;
use quantlab_app::tour;

fn ui_sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    out.push((p, text));
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui"),
        &mut out,
    );
    out
}

/// The chapter a file under `src/ui/chapters/` belongs to (by its file name), if any.
fn chapter_of(p: &Path) -> Option<Chapter> {
    let parent = p.parent()?;
    if !parent.ends_with("ui/chapters") {
        return None;
    }
    Chapter::from_slug(p.file_stem()?.to_str()?)
}

#[test]
fn highlighted_testids_exist_on_their_pages() {
    let sources = ui_sources();
    assert!(sources.len() > 10, "src/ui not found");
    let steps = tour::load(Lang::En).expect("the shipped tour parses");
    assert!(!steps.is_empty());
    for step in steps {
        for t in &step.focus {
            let quoted = format!("\"{t}\"");
            let found = sources.iter().any(|(p, text)| {
                let other_chapter = chapter_of(p).is_some_and(|c| c != step.chapter);
                !other_chapter && text.contains(&quoted)
            });
            assert!(
                found,
                "step `{}`: testid `{t}` is not on the {} page",
                step.id,
                step.chapter.slug()
            );
        }
    }
}
