//! The .npy reader on hostile input: arbitrary bytes, byte flips and truncations of valid
//! files, and headers that lie. It must return an error, never panic, and never allocate
//! more than the limits allow. (Native only: proptest; bounded to a fraction of a second.)
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use quantlab_engine::{read_npy, write_npy_f32, NpyLimits, QuantError};

fn valid() -> Vec<u8> {
    let d: Vec<f32> = (0..24).map(|i| i as f32 * 0.25 - 3.0).collect();
    write_npy_f32(&[4, 6], &d).unwrap()
}

/// A file with a hand-written header (version 1.0) and `data` bytes after it.
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

#[test]
fn every_truncation_is_an_error() {
    let v = valid();
    for n in 0..v.len() {
        let e = read_npy(&v[..n], &NpyLimits::default()).unwrap_err();
        assert!(matches!(e, QuantError::NpyTruncated { .. }), "{n}: {e:?}");
    }
    let mut longer = v.clone();
    longer.push(0);
    assert!(matches!(
        read_npy(&longer, &NpyLimits::default()),
        Err(QuantError::NpyTrailingBytes { .. })
    ));
}

#[test]
fn headers_that_lie() {
    let lim = NpyLimits::default();
    let four_floats = [0u8; 16];
    type Check = fn(&QuantError) -> bool;
    let cases: &[(&str, Check)] = &[
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }",
            |e| matches!(e, QuantError::TooLarge { .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 2), }",
            |e| matches!(e, QuantError::TooLarge { .. }),
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }",
            |e| matches!(e, QuantError::TooLarge { .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }",
            |e| matches!(e, QuantError::NpyTruncated { what: "data", .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
            |e| matches!(e, QuantError::NpyTrailingBytes { .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }",
            |e| matches!(e, QuantError::NpyBadHeader { .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'extra': 1}",
            |e| matches!(e, QuantError::NpyBadHeader { .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }",
            |e| matches!(e, QuantError::NpyBadHeader { .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': [4], }",
            |e| matches!(e, QuantError::NpyBadHeader { .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)",
            |e| matches!(e, QuantError::NpyBadHeader { .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), } trailing",
            |e| matches!(e, QuantError::NpyBadHeader { .. }),
        ),
        (
            "{'descr': '<f4, 'fortran_order': False, 'shape': (4,), }",
            |e| matches!(e, QuantError::NpyBadHeader { .. }),
        ),
        (
            "{'descr': '<U4', 'fortran_order': False, 'shape': (4,), }",
            |e| matches!(e, QuantError::NpyUnsupportedDtype { .. }),
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }",
            |e| matches!(e, QuantError::NpyUnsupportedDims { ndim: 3 }),
        ),
        ("", |e| matches!(e, QuantError::NpyBadHeader { .. })),
    ];
    for (h, ok) in cases {
        let e = read_npy(&with_header(h, &four_floats), &lim).unwrap_err();
        assert!(ok(&e), "{h}: {e:?}");
        assert!(!e.to_string().is_empty());
    }
    // A header length far beyond the file (v2.0: u32) and beyond the header cap.
    let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
    v2.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        read_npy(&v2, &lim),
        Err(QuantError::TooLarge { .. })
    ));
    let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
    v2.extend_from_slice(&1000u32.to_le_bytes());
    assert!(matches!(
        read_npy(&v2, &lim),
        Err(QuantError::NpyTruncated { what: "header", .. })
    ));
    assert!(matches!(
        read_npy(b"\x93NUMPY\x04\x00\x00\x00", &lim),
        Err(QuantError::NpyUnsupportedVersion { major: 4, minor: 0 })
    ));
    assert!(matches!(
        read_npy(b"PK\x03\x04 a zip file", &lim),
        Err(QuantError::NpyBadMagic)
    ));
    assert!(matches!(
        read_npy(
            &valid(),
            &NpyLimits {
                max_bytes: 100,
                ..lim
            }
        ),
        Err(QuantError::TooLarge { .. })
    ));
    assert!(matches!(
        read_npy(
            &valid(),
            &NpyLimits {
                max_header_len: 16,
                ..lim
            }
        ),
        Err(QuantError::TooLarge { .. })
    ));
    // A v3.0 header that is not UTF-8.
    let mut v3 = b"\x93NUMPY\x03\x00".to_vec();
    v3.extend_from_slice(&4u32.to_le_bytes());
    v3.extend_from_slice(&[0xff, 0xfe, b'{', b'}']);
    assert!(matches!(
        read_npy(&v3, &lim),
        Err(QuantError::NpyBadHeader { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_npy(&bytes, &NpyLimits::default());
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_preamble(v in 1u8..4, len in any::<u16>(), rest in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut b = b"\x93NUMPY".to_vec();
        b.extend_from_slice(&[v, 0]);
        if v == 1 { b.extend_from_slice(&len.to_le_bytes()); } else { b.extend_from_slice(&u32::from(len).to_le_bytes()); }
        b.extend_from_slice(&rest);
        let _ = read_npy(&b, &NpyLimits::default());
    }

    #[test]
    fn byte_flips_of_a_valid_file(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut b = valid();
        for (i, v) in &flips {
            let k = i.index(b.len());
            b[k] = *v;
        }
        if let Ok(a) = read_npy(&b, &NpyLimits::default()) {
            prop_assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
        }
    }

    #[test]
    fn random_headers(h in "\\{('(descr|shape|fortran_order)': ?('<f4'|'>i8'|'\\|u1'|True|False|\\(([0-9]{1,3}, ?){0,3}\\)|[(\\[{'0-9 ,]{0,8}), ?){0,4}\\}", data in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(a) = read_npy(&with_header(&h, &data), &NpyLimits::default()) {
            prop_assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
            prop_assert!(a.shape.len() == 1 || a.shape.len() == 2);
        }
    }
}
