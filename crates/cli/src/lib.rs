//! The `quantlab` command line as a library, so the argument parser is unit-tested and fuzzed
//! without spawning the binary (`src/main.rs` only runs what it returns).

pub mod args;

/// A file the README's set-up installs under `.tools/` (e.g. `minilm/model.safetensors`), looked
/// for from the current directory and from the executable's (target/release/quantlab sits two
/// levels under the clone) and their ancestors.
pub fn find_tools_file(rel: &str) -> Option<std::path::PathBuf> {
    let mut starts = Vec::new();
    if let Ok(d) = std::env::current_dir() {
        starts.push(d);
    }
    if let Ok(exe) = std::env::current_exe() {
        if let Some(d) = exe.parent() {
            starts.push(d.to_path_buf());
        }
    }
    starts.iter().find_map(|start| {
        start
            .ancestors()
            .map(|dir| dir.join(".tools").join(rel))
            .find(|candidate| candidate.is_file())
    })
}
