//! Engine results against independent NumPy re-implementations of the PyTorch / NumPy /
//! MQBench / TensorRT formulas (`tests/fixtures/gen_fixtures.py`, which documents them).
//! f32 quantities (scale, zero-point, ranges) must match exactly; sums over many values (MSE,
//! SQNR, ...) to 1e-9 relative, because NumPy sums pairwise and the engine sequentially.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use quantlab_engine::*;
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("tests/fixtures")
}

fn load_json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn load_data(name: &str) -> NpyArray {
    let bytes = std::fs::read(fixtures().join("data").join(format!("{name}.npy"))).unwrap();
    read_npy(&bytes, &NpyLimits::default()).unwrap()
}

fn scheme(v: &Value) -> Scheme {
    Scheme::new(
        v["bits"].as_u64().unwrap() as u8,
        v["signed"].as_bool().unwrap(),
        v["symmetric"].as_bool().unwrap(),
        v["narrow"].as_bool().unwrap(),
    )
    .unwrap()
}

fn calibrator(v: &Value) -> (Calibrator, Rounding) {
    let f = |k: &str| v[k].as_f64().unwrap();
    let c = match v["kind"].as_str().unwrap() {
        "minmax" => Calibrator::MinMax,
        "moving" => Calibrator::MovingAverage {
            momentum: f("momentum") as f32,
            batch_size: f("batch") as usize,
        },
        "percentile" => Calibrator::Percentile { p: f("p") },
        "mse" => Calibrator::Mse,
        "entropy" => Calibrator::Entropy,
        "manual" => Calibrator::Manual {
            alpha: f("alpha") as f32,
            beta: f("beta") as f32,
        },
        k => panic!("{k}"),
    };
    let r = if v["rounding"].as_str() == Some("away") {
        Rounding::HalfAway
    } else {
        Rounding::HalfEven
    };
    (c, r)
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    let tol = rel * want.abs().max(1e-30);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:e}, want {want:e}"
    );
}

fn exact_f32(what: &str, got: f32, want: &Value) {
    let w = want.as_f64().unwrap() as f32;
    assert_eq!(
        got.to_bits(),
        w.to_bits(),
        "{what}: got {got:e}, want {w:e}"
    );
}

fn check_metrics(what: &str, m: &RoundTripMetrics, e: &Value) {
    assert_eq!(m.n as u64, e["n"].as_u64().unwrap(), "{what} n");
    assert_eq!(
        m.clipped as u64,
        e["clipped"].as_u64().unwrap(),
        "{what} clipped"
    );
    for (k, got) in [
        ("mse", m.mse),
        ("rounding_mse", m.rounding_mse),
        ("clipping_mse", m.clipping_mse),
        ("rel_err", m.rel_err),
        ("clipped_fraction", m.clipped_fraction),
    ] {
        close(&format!("{what} {k}"), got, e[k].as_f64().unwrap(), 1e-9);
    }
    // serde_json (without float_roundtrip) may parse the last bit of an f64 differently.
    close(
        &format!("{what} max_abs_err"),
        m.max_abs_err,
        e["max_abs_err"].as_f64().unwrap(),
        1e-15,
    );
    match e["sqnr_db"].as_f64() {
        Some(s) => close(&format!("{what} sqnr"), m.sqnr_db, s, 1e-9),
        None => assert!(m.sqnr_db.is_infinite()),
    }
    assert_eq!(m.rounding_mse + m.clipping_mse, m.mse);
}

#[test]
fn calibrators_match_numpy_reference() {
    let fx = load_json("calibration.json");
    let cases = fx["calibration"].as_array().unwrap();
    assert!(cases.len() > 300);
    for (i, c) in cases.iter().enumerate() {
        let data = load_data(c["data"].as_str().unwrap());
        let sch_base = scheme(&c["scheme"]);
        let (cal, rounding) = calibrator(&c["calibrator"]);
        let sch = sch_base.with_rounding(rounding);
        let what = format!("case {i}: {} {} {:?}", c["data"], sch.describe(), cal);
        let r = calibrate(&data.data, &sch, &cal).unwrap_or_else(|e| panic!("{what}: {e}"));
        let e = &c["expected"];
        exact_f32(&format!("{what} alpha"), r.alpha, &e["alpha"]);
        exact_f32(&format!("{what} beta"), r.beta, &e["beta"]);
        exact_f32(&format!("{what} scale"), r.params.scale, &e["scale"]);
        assert_eq!(
            i64::from(r.params.zero_point),
            e["zero_point"].as_i64().unwrap(),
            "{what} zero_point"
        );
        check_metrics(&what, &r.metrics, &e["metrics"]);
        if let Some(bin) = e["entropy_bin"].as_u64() {
            let nq = quantlab_engine::calibrate::entropy::target_bins(&sch, r.observed_min);
            let k = bin as usize - nq;
            close(
                &format!("{what} kl"),
                r.search[k].score,
                e["kl"].as_f64().unwrap(),
                1e-9,
            );
            for (j, want) in e["kl_first"].as_array().unwrap().iter().enumerate() {
                match want.as_f64() {
                    Some(w) => close(&format!("{what} kl[{j}]"), r.search[j].score, w, 1e-7),
                    None => assert!(r.search[j].score.is_infinite()),
                }
            }
        }
    }
}

#[test]
fn granular_matches_numpy_reference() {
    let fx = load_json("calibration.json");
    for c in fx["granular"].as_array().unwrap() {
        let data = load_data(c["data"].as_str().unwrap());
        let sch = scheme(&c["scheme"]);
        let (cal, _) = calibrator(&c["calibrator"]);
        let g = &c["granularity"];
        let gran = match g["kind"].as_str().unwrap() {
            "tensor" => Granularity::PerTensor,
            "token" => Granularity::PerToken,
            "channel" => Granularity::PerChannel {
                axis: g["axis"].as_u64().unwrap() as usize,
            },
            "group" => Granularity::PerGroup {
                axis: g["axis"].as_u64().unwrap() as usize,
                size: g["size"].as_u64().unwrap() as usize,
            },
            k => panic!("{k}"),
        };
        let what = format!("{} {:?} {:?}", c["data"], gran, cal);
        let r = quantize_granular(
            data.view2().unwrap(),
            &sch,
            gran,
            &cal,
            NonFinitePolicy::Reject,
        )
        .unwrap();
        let want = c["groups"].as_array().unwrap();
        assert_eq!(r.groups.len(), want.len(), "{what}");
        assert_eq!(r.param_shape.iter().product::<usize>(), want.len());
        for (k, (got, w)) in r.groups.iter().zip(want).enumerate() {
            exact_f32(
                &format!("{what} group {k} scale"),
                got.params.scale,
                &w["scale"],
            );
            exact_f32(&format!("{what} group {k} alpha"), got.alpha, &w["alpha"]);
            exact_f32(&format!("{what} group {k} beta"), got.beta, &w["beta"]);
            assert_eq!(
                i64::from(got.params.zero_point),
                w["zero_point"].as_i64().unwrap(),
                "{what} {k}"
            );
        }
        check_metrics(&what, &r.overall, &c["overall"]);
    }
}

#[test]
fn stats_match_numpy() {
    let fx = load_json("stats.json");
    for (name, e) in fx.as_object().unwrap() {
        let a = load_data(name);
        let x = &a.data;
        let s = summarize(x, NonFinitePolicy::Reject).unwrap();
        exact_f32(&format!("{name} min"), s.min, &e["min"]);
        exact_f32(&format!("{name} max"), s.max, &e["max"]);
        close(
            &format!("{name} mean"),
            s.mean,
            e["mean"].as_f64().unwrap(),
            1e-9,
        );
        close(
            &format!("{name} std"),
            s.std,
            e["std"].as_f64().unwrap(),
            1e-9,
        );
        close(
            &format!("{name} kurtosis"),
            s.kurtosis.unwrap(),
            e["kurtosis"].as_f64().unwrap(),
            1e-9,
        );
        let counts = |v: &Value| -> Vec<u32> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap() as u32)
                .collect()
        };
        let h = histogram(x, 256, s.min, s.max).unwrap();
        assert_eq!(h.counts, counts(&e["hist256"]), "{name} hist256");
        assert_eq!((h.underflow, h.overflow, h.nan), (0, 0, 0));
        let m = &e["hist_mid"];
        let h = histogram(
            x,
            100,
            m["lo"].as_f64().unwrap() as f32,
            m["hi"].as_f64().unwrap() as f32,
        )
        .unwrap();
        assert_eq!(h.counts, counts(&m["counts"]), "{name} hist_mid");
        assert_eq!(u64::from(h.underflow), m["under"].as_u64().unwrap());
        assert_eq!(u64::from(h.overflow), m["over"].as_u64().unwrap());
        let (h, _) = quantlab_engine::calibrate::entropy::abs_histogram(x, s.absmax);
        let want: Vec<f64> = counts(&e["hist_abs2048"])
            .into_iter()
            .map(f64::from)
            .collect();
        assert_eq!(h, want, "{name} |x| histogram");
        for p in ["99", "99.9", "99.99"] {
            let pf: f64 = p.parse().unwrap();
            let key = if p == "99" {
                "99.0".to_string()
            } else {
                p.to_string()
            };
            let mut v = x.clone();
            let got = quantlab_engine::calibrate::percentile::percentile_in_place(&mut v, pf);
            exact_f32(&format!("{name} p{p}"), got, &e[format!("p{key}")]);
            let mut v: Vec<f32> = x.iter().map(|v| v.abs()).collect();
            let got = quantlab_engine::calibrate::percentile::percentile_in_place(&mut v, pf);
            exact_f32(&format!("{name} |p{p}|"), got, &e[format!("p{key}_abs")]);
        }
        if a.shape.len() == 2 {
            let ch = channel_stats(a.view2().unwrap(), 1, NonFinitePolicy::Reject).unwrap();
            for (c, w) in ch.iter().zip(e["channel_absmax_axis1"].as_array().unwrap()) {
                exact_f32(&format!("{name} channel absmax"), c.absmax, w);
            }
            let rows = channel_stats(a.view2().unwrap(), 0, NonFinitePolicy::Reject).unwrap();
            for (c, w) in rows.iter().zip(e["channel_min_axis0"].as_array().unwrap()) {
                exact_f32(&format!("{name} row min"), c.min, w);
            }
        }
    }
}

#[test]
fn npy_reader_matches_numpy_files() {
    let cases: Vec<Value> = serde_json::from_value(load_json("npy_cases.json")).unwrap();
    for c in &cases {
        let file = c["file"].as_str().unwrap();
        let bytes = std::fs::read(fixtures().join("npy").join(file)).unwrap();
        let r = read_npy(&bytes, &NpyLimits::default());
        match c["error"].as_str() {
            Some("dims") => assert!(
                matches!(r, Err(QuantError::NpyUnsupportedDims { .. })),
                "{file}: {r:?}"
            ),
            Some("dtype") => assert!(
                matches!(r, Err(QuantError::NpyUnsupportedDtype { .. })),
                "{file}: {r:?}"
            ),
            Some(other) => panic!("{other}"),
            None => {
                let a = r.unwrap_or_else(|e| panic!("{file}: {e}"));
                let shape: Vec<usize> = c["shape"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap() as usize)
                    .collect();
                assert_eq!(a.shape, shape, "{file}");
                assert_eq!(a.dtype.name(), c["dtype"].as_str().unwrap(), "{file}");
                assert_eq!(
                    a.fortran_order,
                    c["fortran_order"].as_bool().unwrap(),
                    "{file}"
                );
                let want: Vec<f32> = c["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
                    .collect();
                assert_eq!(a.data, want, "{file}");
            }
        }
    }
    // write_npy_f32 writes exactly what np.save writes.
    let saved = std::fs::read(fixtures().join("npy/np_save_f32.npy")).unwrap();
    let a = read_npy(&saved, &NpyLimits::default()).unwrap();
    assert_eq!(write_npy_f32(&a.shape, &a.data).unwrap(), saved);
}

/// The real MiniLM tensor loads through the same reader when it is available.
#[test]
fn minilm_if_present() {
    for p in [
        "assets/data/minilm/L5_fc1_X.npy",
        "../shared/data/minilm/L5_fc1_X.npy",
        "/work/shared/data/minilm/L5_fc1_X.npy",
    ] {
        let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(p);
        if let Ok(bytes) = std::fs::read(&path) {
            let a = read_npy(&bytes, &NpyLimits::default()).unwrap();
            assert_eq!(a.shape, vec![126, 384]);
            let slice = load_data("minilm");
            assert_eq!(&a.data[..16 * 384], &slice.data[..]);
            // README: max |X| = 12.3574 on [CLS], channel 99; kurtosis 61.52.
            let s = summarize(&a.data, NonFinitePolicy::Reject).unwrap();
            assert!((s.absmax - 12.3574).abs() < 1e-3);
            assert!((s.kurtosis.unwrap() - 61.52).abs() < 0.01);
            let ch = channel_stats(a.view2().unwrap(), 1, NonFinitePolicy::Reject).unwrap();
            let abs: Vec<f32> = ch.iter().map(|c| c.absmax).collect();
            let top: Vec<usize> = top_k(&abs, 4).into_iter().map(|(i, _)| i).collect();
            assert_eq!(top, vec![99, 223, 127, 319]);
            return;
        }
    }
}
