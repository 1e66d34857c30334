//! Native only: the shipped `digits.bin` holds exactly the data of the shipped `digits.csv.gz`
//! (decompressed with the system's `gzip`; the test is skipped with a message if there is none).
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

use quantlab_engine::qat::Digits;

#[test]
fn bin_matches_the_gzipped_csv() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/data/digits");
    let out = match Command::new("gzip")
        .arg("-dc")
        .arg(format!("{dir}/digits.csv.gz"))
        .output()
    {
        Ok(o) if o.status.success() => o.stdout,
        _ => {
            eprintln!("gzip not available: skipping the CSV ↔ bin comparison");
            return;
        }
    };
    let csv = Digits::from_csv(std::str::from_utf8(&out).unwrap()).unwrap();
    let bin = Digits::from_bin(&std::fs::read(format!("{dir}/digits.bin")).unwrap()).unwrap();
    assert_eq!(csv.len(), 1797);
    assert_eq!(csv, bin);
}
