//! The browser's upload path (`datasets::tensor_from_npy` with `UPLOAD_LIMITS`) on hostile
//! files: every one gives a specific message, never a panic or a wrong tensor.
#![cfg(not(target_arch = "wasm32"))]

/// A .npy v1.0 file with `header` (padded as NumPy pads it) and `data`.
fn with_header(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.to_string();
    while !(10 + h.len() + 1).is_multiple_of(64) {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out
}

mod upload {
    use super::with_header;
    use proptest::prelude::*;
    use quantlab_app::datasets::{tensor_from_npy, UPLOAD_LIMITS};
    use quantlab_engine::{calibrate_with, Calibrator, NonFinitePolicy, Scheme};

    fn f32_file(shape: &str, vals: &[f32], big: bool) -> Vec<u8> {
        let d = if big { '>' } else { '<' };
        let payload: Vec<u8> = vals
            .iter()
            .flat_map(|v| {
                if big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                }
            })
            .collect();
        with_header(
            &format!("{{'descr': '{d}f4', 'fortran_order': False, 'shape': {shape}, }}"),
            &payload,
        )
    }

    /// What the page does with an upload: load, then calibrate and quantize the finite values.
    fn upload(bytes: &[u8]) -> Result<(Vec<usize>, Option<f32>), String> {
        let t = tensor_from_npy("hostile.npy", bytes, &UPLOAD_LIMITS)?;
        let scale = calibrate_with(
            &t.data,
            &Scheme::seminar_int8(),
            &Calibrator::MinMax,
            NonFinitePolicy::Skip,
        )
        .ok()
        .map(|c| c.params.scale);
        if let Some(s) = scale {
            assert!(s.is_finite() && s > 0.0, "scale {s}");
        }
        Ok((t.shape, scale))
    }

    #[test]
    fn hostile_uploads_give_specific_messages() {
        let err = |b: &[u8]| upload(b).unwrap_err();
        // 0 bytes, a text file, a truncated preamble.
        assert!(
            err(b"").contains("NUMPY") || err(b"").contains("truncated") || !err(b"").is_empty()
        );
        assert!(!err(b"hello, world").is_empty());
        // A header that lies about the element count, both ways.
        assert!(!err(&f32_file("(1000, 1000)", &[1.0; 10], false)).is_empty());
        assert!(!err(&f32_file("(2,)", &[1.0; 10], false)).is_empty());
        // 3-D and 4-D shapes: named as such.
        let e3 = err(&f32_file("(2, 2, 2)", &[1.0; 8], false));
        assert!(e3.contains('3'), "{e3}");
        let e4 = err(&f32_file("(1, 2, 2, 2)", &[1.0; 8], false));
        assert!(e4.contains('4'), "{e4}");
        // 16 M elements declared: refused from the header alone, before any allocation.
        let e16 = err(&f32_file("(4096, 4096)", &[], false));
        assert!(e16.contains("16777216") || e16.contains("4194304"), "{e16}");
        // Exactly the element limit is fine as far as the count goes (the payload is short).
        let at_limit = err(&f32_file("(2048, 2048)", &[], false));
        assert!(
            !at_limit.contains("4194304")
                || at_limit.contains("truncated")
                || at_limit.contains("expected"),
            "{at_limit}"
        );
        // An empty array.
        assert!(err(&f32_file("(0, 5)", &[], false)).contains("empty"));
    }

    #[test]
    fn hostile_values_load_and_quantize_or_explain() {
        // Big-endian loads like little-endian.
        let v = [1.5f32, -2.0, 3.25, 0.0];
        assert_eq!(upload(&f32_file("(2, 2)", &v, true)).unwrap().0, vec![2, 2]);
        assert_eq!(
            tensor_from_npy("be", &f32_file("(4,)", &v, true), &UPLOAD_LIMITS)
                .unwrap()
                .data,
            tensor_from_npy("le", &f32_file("(4,)", &v, false), &UPLOAD_LIMITS)
                .unwrap()
                .data
        );
        // NaN/Inf only: loads, but no range can be calibrated (the page says so).
        let (_, s) = upload(&f32_file(
            "(3,)",
            &[f32::NAN, f32::INFINITY, f32::NEG_INFINITY],
            false,
        ))
        .unwrap();
        assert_eq!(s, None);
        // Subnormals only: a finite positive scale.
        let (_, s) = upload(&f32_file("(4,)", &[1e-45f32, -1e-45, 1e-40, 0.0], false)).unwrap();
        assert!(s.is_some());
        // ±f32::MAX: loads; an asymmetric range [−MAX, MAX] has β − α = +Inf in f32 (as in
        // PyTorch's f32 arithmetic), so calibration explains that instead of giving a scale.
        for vals in [
            vec![f32::MAX, f32::MIN, 0.0, 1.0],
            vec![f32::MAX, 1e-45, f32::MIN, -1e-45],
        ] {
            let t =
                tensor_from_npy("max", &f32_file("(4,)", &vals, false), &UPLOAD_LIMITS).unwrap();
            let e = calibrate_with(
                &t.data,
                &Scheme::seminar_int8(),
                &Calibrator::MinMax,
                NonFinitePolicy::Skip,
            )
            .unwrap_err();
            assert!(e.to_string().contains("scale"), "{e}");
        }
        // Symmetric over a range that fits: fine.
        let t = tensor_from_npy(
            "big",
            &f32_file("(2,)", &[3e38, -3e38], false),
            &UPLOAD_LIMITS,
        )
        .unwrap();
        let sym = Scheme::new(8, true, true, false).unwrap();
        assert!(calibrate_with(&t.data, &sym, &Calibrator::MinMax, NonFinitePolicy::Skip).is_ok());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn uploads_of_arbitrary_values_never_panic(
            vals in prop::collection::vec(prop_oneof![4 => -1e6f32..1e6, 1 => any::<f32>()], 1..200),
            big in any::<bool>(),
        ) {
            let n = vals.len();
            let r = upload(&f32_file(&format!("({n},)"), &vals, big));
            prop_assert!(r.is_ok());
        }

        #[test]
        fn arbitrary_bytes_through_the_upload_path(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            if let Err(e) = upload(&bytes) {
                prop_assert!(!e.is_empty());
            }
        }
    }
}
