//! The shipped assets: the service worker's offline list names exactly the files in `assets/`.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            // Provenance and licences travel with the data but the page never reads them.
            let doc = name.ends_with(".md") || name.starts_with("LICENSE") || name == "SHA256SUMS";
            if !doc && name != "sw.js" && name != "offline.json" {
                let rel = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
                out.push(format!("./{}", rel.to_string_lossy()));
            }
        }
    }
}

#[test]
fn offline_list_matches_the_assets_folder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("assets"), &mut files);
    files.sort();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("assets/offline.json")).unwrap())
            .unwrap();
    let mut listed: Vec<String> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        files,
        "assets/offline.json is out of date; its \"files\" should be:\n{}",
        serde_json::to_string_pretty(&files).unwrap()
    );
}
