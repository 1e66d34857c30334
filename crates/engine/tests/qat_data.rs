//! Native only: the shipped `digits.bin` holds exactly the data of the shipped `digits.csv.gz`
//! (decompressed in-process by `flate2`, so the comparison always runs).
#![cfg(not(target_arch = "wasm32"))]

use std::io::Read;

use quantlab_engine::qat::Digits;

#[test]
fn bin_matches_the_gzipped_csv() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/data/digits");
    let gz = std::fs::read(format!("{dir}/digits.csv.gz")).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_string(&mut text)
        .unwrap();
    let csv = Digits::from_csv(&text).unwrap();
    let bin = Digits::from_bin(&std::fs::read(format!("{dir}/digits.bin")).unwrap()).unwrap();
    assert_eq!(csv.len(), 1797);
    assert_eq!(csv, bin);
}
