//! `engine::read_npy` on arbitrary bytes: never a panic, never an allocation beyond the limits,
//! and whatever it accepts is self-consistent.
#![no_main]
use libfuzzer_sys::fuzz_target;
use quantlab_engine::{read_npy, NpyLimits};

fuzz_target!(|data: &[u8]| {
    // Small limits so a lying header cannot make the fuzzer allocate much; the default ones are
    // exercised too (the allocation is capped by the file length before it happens).
    let small = NpyLimits {
        max_bytes: 1 << 16,
        max_elements: 1 << 12,
        max_header_len: 1 << 12,
    };
    for lim in [small, NpyLimits::default()] {
        if let Ok(a) = read_npy(data, &lim) {
            assert!(
                a.shape.len() == 1 || a.shape.len() == 2,
                "shape {:?}",
                a.shape
            );
            assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
            assert!(a.data.len() <= lim.max_elements);
            assert!(a.view2().is_ok());
        }
    }
});
