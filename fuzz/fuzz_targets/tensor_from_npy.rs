//! `datasets::tensor_from_npy` (the browser's upload path) with the real upload limits: never a
//! panic; an accepted tensor is non-empty, its shape matches, and the UI helpers work on it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quantlab_app::datasets::{tensor_from_npy, UPLOAD_LIMITS};

fuzz_target!(|data: &[u8]| {
    match tensor_from_npy("fuzz.npy", data, &UPLOAD_LIMITS) {
        Ok(t) => {
            assert!(!t.data.is_empty());
            assert_eq!(t.data.len(), t.shape.iter().product::<usize>());
            let (r, c) = t.rows_cols();
            assert_eq!(r * c, t.data.len());
            let _ = t.shape_text();
            if let Some((lo, hi)) = t.min_max() {
                assert!(lo <= hi && lo.is_finite() && hi.is_finite());
            }
        }
        Err(e) => assert!(!e.is_empty()),
    }
});
