//! Native command-line front end to the engine (`quantlab --help`). On wasm32 this compiles
//! to an empty `main`: the browser uses the engine through the UI instead.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(native::run(&args));
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::io::Write;

    use quantlab_cli::args::{help_text, parse_args, Command, QuantizeArgs, StatsArgs};
    use quantlab_cli::args::{
        LayerArgs, OutliersArgs, RotateArgs, RotationArg, SmoothArgs, SweepArgs,
    };
    use quantlab_engine::{
        channel_stats, histogram, quantize_granular, read_npy, summarize, top_k, write_npy_f32,
        Granularity, NonFinitePolicy, NpyArray, NpyLimits, Scheme,
    };
    use serde_json::{json, Map, Value};

    /// Runs one command; returns the process exit code (0 ok, 2 error).
    pub fn run(args: &[String]) -> i32 {
        let result = match parse_args(args) {
            Err(e) => Err(e.message),
            Ok(Command::Help { topic }) => {
                print!("{}", help_text(topic.as_deref()));
                Ok(())
            }
            Ok(Command::Quantize(q)) => quantize(&q),
            Ok(Command::Stats(s)) => stats(&s),
            Ok(Command::Smooth(a)) => smooth(&a),
            Ok(Command::Sweep(a)) => sweep(&a),
            Ok(Command::Rotate(a)) => rotate(&a),
            Ok(Command::Outliers(a)) => outliers(&a),
        };
        match result {
            Ok(()) => 0,
            Err(msg) => {
                let _ = writeln!(std::io::stderr(), "quantlab: error: {msg}");
                2
            }
        }
    }

    // JSON number from an f32 through its shortest decimal form (0.1f32 prints as 0.1, not
    // 0.10000000149011612); NaN/Inf become null.
    fn f32j(v: f32) -> Value {
        if v.is_finite() {
            v.to_string()
                .parse::<f64>()
                .map(Value::from)
                .unwrap_or(Value::Null)
        } else {
            Value::Null
        }
    }

    fn f64j(v: f64) -> Value {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }

    fn load(path: &str) -> Result<NpyArray, String> {
        let limits = NpyLimits::default();
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot open '{path}': {e}"))?;
        if meta.len() > limits.max_bytes as u64 {
            return Err(format!(
                "'{path}' is {} bytes, more than the {} byte limit",
                meta.len(),
                limits.max_bytes
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read '{path}': {e}"))?;
        read_npy(&bytes, &limits).map_err(|e| format!("{path}: {e}"))
    }

    fn print_json(v: &Value) -> Result<(), String> {
        let s = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
        println!("{s}");
        Ok(())
    }

    fn quantize(a: &QuantizeArgs) -> Result<(), String> {
        let arr = load(&a.input)?;
        let scheme = Scheme::new(a.bits, a.signed, a.symmetric, a.narrow)
            .map_err(|e| e.to_string())?
            .with_rounding(a.rounding);
        let one_d = arr.shape.len() == 1;
        let granularity = match a.granularity {
            Granularity::PerChannel { .. } | Granularity::PerToken if one_d => {
                return Err(format!(
                    "--granularity {} needs a 2-D tensor (tokens x channels), but '{}' is 1-D",
                    a.granularity.describe(),
                    a.input
                ));
            }
            // A 1-D tensor is one row: its groups run along axis 1 of the (1, n) view.
            Granularity::PerGroup { size, .. } if one_d => Granularity::PerGroup { axis: 1, size },
            g => g,
        };
        let view = arr.view2().map_err(|e| e.to_string())?;
        let calibrator = a.calib.to_calibrator(view.ncols());
        let policy = if a.skip_nonfinite {
            NonFinitePolicy::Skip
        } else {
            NonFinitePolicy::Reject
        };
        let r = quantize_granular(view, &scheme, granularity, &calibrator, policy)
            .map_err(|e| e.to_string())?;
        let m = &r.overall;
        let mut o = Map::new();
        o.insert("input".into(), json!(a.input));
        o.insert("shape".into(), json!(arr.shape));
        o.insert("dtype".into(), json!(arr.dtype.name()));
        o.insert(
            "scheme".into(),
            json!({
                "bits": scheme.bits, "signed": scheme.signed, "symmetric": scheme.symmetric,
                "narrow": scheme.narrow, "qmin": scheme.qmin(), "qmax": scheme.qmax(),
                "rounding": scheme.rounding.name(),
            }),
        );
        o.insert("granularity".into(), json!(granularity.describe()));
        o.insert("calibrator".into(), json!(calibrator.name()));
        o.insert("param_shape".into(), json!(r.param_shape));
        o.insert(
            "scale".into(),
            Value::Array(r.groups.iter().map(|g| f32j(g.params.scale)).collect()),
        );
        o.insert(
            "zero_point".into(),
            Value::Array(
                r.groups
                    .iter()
                    .map(|g| json!(g.params.zero_point))
                    .collect(),
            ),
        );
        o.insert(
            "alpha".into(),
            Value::Array(r.groups.iter().map(|g| f32j(g.alpha)).collect()),
        );
        o.insert(
            "beta".into(),
            Value::Array(r.groups.iter().map(|g| f32j(g.beta)).collect()),
        );
        o.insert("n".into(), json!(m.n));
        o.insert("skipped".into(), json!(m.skipped));
        o.insert("mse".into(), f64j(m.mse));
        o.insert("rmse".into(), f64j(m.rmse));
        o.insert("sqnr_db".into(), f64j(m.sqnr_db));
        o.insert("max_abs_err".into(), f64j(m.max_abs_err));
        o.insert("rel_err".into(), f64j(m.rel_err));
        o.insert("clipped_fraction".into(), f64j(m.clipped_fraction));
        o.insert("rounding_mse".into(), f64j(m.rounding_mse));
        o.insert("clipping_mse".into(), f64j(m.clipping_mse));
        if let Some(out) = &a.out {
            let data: Vec<f32> = r.dequantized.iter().copied().collect();
            let bytes = write_npy_f32(&arr.shape, &data).map_err(|e| e.to_string())?;
            std::fs::write(out, bytes).map_err(|e| format!("cannot write '{out}': {e}"))?;
            o.insert("out".into(), json!(out));
        }
        print_json(&Value::Object(o))
    }

    fn stats(a: &StatsArgs) -> Result<(), String> {
        let arr = load(&a.input)?;
        let policy = if a.skip_nonfinite {
            NonFinitePolicy::Skip
        } else {
            NonFinitePolicy::Reject
        };
        let s = summarize(&arr.data, policy).map_err(|e| e.to_string())?;
        let mut o = Map::new();
        o.insert("input".into(), json!(a.input));
        o.insert("shape".into(), json!(arr.shape));
        o.insert("dtype".into(), json!(arr.dtype.name()));
        o.insert("n".into(), json!(s.n));
        o.insert("nonfinite".into(), json!(s.nonfinite));
        o.insert("min".into(), f32j(s.min));
        o.insert("max".into(), f32j(s.max));
        o.insert("mean".into(), f64j(s.mean));
        o.insert("std".into(), f64j(s.std));
        o.insert("kurtosis".into(), s.kurtosis.map_or(Value::Null, f64j));
        o.insert("absmax".into(), f32j(s.absmax));
        if arr.shape.len() == 2 {
            let view = arr.view2().map_err(|e| e.to_string())?;
            let ch = channel_stats(view, a.axis, policy).map_err(|e| e.to_string())?;
            let absmax: Vec<f32> = ch.iter().map(|c| c.absmax).collect();
            let top: Vec<Value> = top_k(&absmax, a.top)
                .into_iter()
                .filter_map(|(i, v)| {
                    ch.get(i).map(|c| json!({"channel": i, "absmax": f32j(v), "min": f32j(c.min), "max": f32j(c.max)}))
                })
                .collect();
            let mut sorted: Vec<f32> = absmax.iter().copied().filter(|v| v.is_finite()).collect();
            sorted.sort_by(f32::total_cmp);
            // np.median: the mean of the two middle values for an even count.
            let k = sorted.len() / 2;
            let median = match (
                sorted.len() % 2,
                sorted.get(k),
                k.checked_sub(1).and_then(|j| sorted.get(j)),
            ) {
                (1, Some(&m), _) => m,
                (_, Some(&hi), Some(&lo)) => ((f64::from(lo) + f64::from(hi)) / 2.0) as f32,
                _ => f32::NAN,
            };
            o.insert("channel_axis".into(), json!(a.axis));
            o.insert("channels".into(), json!(ch.len()));
            o.insert("median_channel_absmax".into(), f32j(median));
            o.insert("top_channels".into(), Value::Array(top));
        }
        if let Some(bins) = a.bins {
            if s.min < s.max {
                let h = histogram(&arr.data, bins, s.min, s.max).map_err(|e| e.to_string())?;
                o.insert(
                    "histogram".into(),
                    json!({"lo": f32j(h.lo), "hi": f32j(h.hi), "counts": h.counts}),
                );
            }
        }
        print_json(&Value::Object(o))
    }

    // ---- smooth / sweep / rotate / outliers ----

    use quantlab_engine::linear::{LayerCase, LayerQuant, WeightGranularity};

    fn load_2d(path: &str, what: &str) -> Result<NpyArray, String> {
        let arr = load(path)?;
        if arr.shape.len() != 2 {
            return Err(format!(
                "{path}: {what} must be a 2-D matrix, but its shape is {:?}",
                arr.shape
            ));
        }
        Ok(arr)
    }

    fn load_layer(a: &LayerArgs) -> Result<LayerCase, String> {
        let x = load_2d(&a.x, "X (tokens x C_in)")?;
        let w = load_2d(&a.w, "W (C_in x C_out)")?;
        let (xv, wv) = (
            x.view2().map_err(|e| e.to_string())?,
            w.view2().map_err(|e| e.to_string())?,
        );
        if xv.ncols() != wv.nrows() {
            return Err(format!(
                "X is {}x{} and W is {}x{}: W needs one row per column of X (Y = X·W)",
                xv.nrows(),
                xv.ncols(),
                wv.nrows(),
                wv.ncols()
            ));
        }
        LayerCase::new(xv, wv).map_err(|e| e.to_string())
    }

    fn quant_of(a: &LayerArgs) -> LayerQuant {
        LayerQuant::new(a.w_bits, a.a_bits, a.act)
    }

    fn settings(o: &mut Map<String, Value>, a: &LayerArgs, case: &LayerCase) {
        o.insert("x".into(), json!(a.x));
        o.insert("w".into(), json!(a.w));
        o.insert("shape_x".into(), json!([case.tokens(), case.in_channels()]));
        o.insert(
            "shape_w".into(),
            json!([case.in_channels(), case.out_channels()]),
        );
        o.insert("w_bits".into(), json!(a.w_bits));
        o.insert("a_bits".into(), json!(a.a_bits));
        o.insert("act".into(), json!(a.act.name()));
        o.insert("weights".into(), json!("per-output-channel"));
    }

    fn smooth(a: &SmoothArgs) -> Result<(), String> {
        use quantlab_engine::smooth::SmoothCase;
        let case = load_layer(&a.layer)?;
        let cfg = quant_of(&a.layer);
        let sc = SmoothCase::new(case).map_err(|e| e.to_string())?;
        let s = sc.scales(a.alpha).map_err(|e| e.to_string())?;
        let e = sc.error_with_scales(&s, &cfg).map_err(|e| e.to_string())?;
        let base = sc.baseline(&cfg).map_err(|e| e.to_string())?;
        let (x2, w2) = sc.apply(&s).map_err(|e| e.to_string())?;
        let id = sc
            .case()
            .float_deviation(&x2, &w2)
            .map_err(|e| e.to_string())?;
        let plain = sc.float_floor().map_err(|e| e.to_string())?;
        let mut o = Map::new();
        settings(&mut o, &a.layer, sc.case());
        o.insert("alpha".into(), f32j(a.alpha));
        o.insert("rel_err".into(), f64j(e.rel_err));
        o.insert("baseline_rel_err".into(), f64j(base.rel_err));
        o.insert("x_rel_err".into(), f64j(e.x_rel_err));
        o.insert("w_rel_err".into(), f64j(e.w_rel_err));
        o.insert("baseline_x_rel_err".into(), f64j(base.x_rel_err));
        o.insert("baseline_w_rel_err".into(), f64j(base.w_rel_err));
        o.insert("fp_identity_rel_err".into(), f64j(id.rel_frobenius));
        o.insert("fp_identity_max_rel".into(), f64j(id.max_rel));
        o.insert("fp_plain_rel_err".into(), f64j(plain.rel_frobenius));
        o.insert(
            "smooth_scales".into(),
            Value::Array(s.iter().map(|&v| f32j(v)).collect()),
        );
        print_json(&Value::Object(o))
    }

    fn sweep(a: &SweepArgs) -> Result<(), String> {
        use quantlab_engine::smooth::{alpha_grid, SmoothCase};
        let case = load_layer(&a.layer)?;
        let (start, end, step) = a.alphas;
        let alphas = alpha_grid(start, end, step).map_err(|e| e.to_string())?;
        let sc = SmoothCase::new(case).map_err(|e| e.to_string())?;
        let r = sc
            .sweep(&alphas, &quant_of(&a.layer))
            .map_err(|e| e.to_string())?;
        let mut o = Map::new();
        settings(&mut o, &a.layer, sc.case());
        o.insert("baseline_rel_err".into(), f64j(r.baseline.rel_err));
        o.insert(
            "points".into(),
            Value::Array(
                r.points
                    .iter()
                    .map(|p| json!({"alpha": f32j(p.alpha), "rel_err": f64j(p.error.rel_err)}))
                    .collect(),
            ),
        );
        o.insert("best_alpha".into(), f32j(r.best_alpha));
        o.insert("best_rel_err".into(), f64j(r.best_rel_err));
        print_json(&Value::Object(o))
    }

    fn rotate(a: &RotateArgs) -> Result<(), String> {
        use quantlab_engine::rotate::{learn::LearnConfig, ActSummary, Learner, Rotated};
        let case = load_layer(&a.layer)?;
        let cfg = quant_of(&a.layer);
        let mut o = Map::new();
        settings(&mut o, &a.layer, &case);
        let rotated = match &a.rotation {
            RotationArg::Fixed(r) => Rotated::new(&case, r).map_err(|e| e.to_string())?,
            RotationArg::Learned { steps } => {
                let lc = LearnConfig {
                    quant: cfg.with_weights(WeightGranularity::PerOutputChannel),
                    lr: a.lr,
                    momentum: a.momentum,
                    block: a.block,
                    grad_cols: a.grad_cols,
                    seed: a.seed,
                    ..LearnConfig::default()
                };
                let mut l = Learner::new(&case, &a.init, lc).map_err(|e| e.to_string())?;
                let mut curve = l.step(*steps).map_err(|e| e.to_string())?;
                curve.push(l.loss().map_err(|e| e.to_string())?);
                o.insert("init".into(), json!(a.init.name()));
                o.insert("steps".into(), json!(steps));
                o.insert("lr".into(), f32j(a.lr));
                o.insert("momentum".into(), f32j(a.momentum));
                o.insert("block".into(), json!(a.block));
                o.insert("grad_cols".into(), json!(a.grad_cols));
                o.insert("seed".into(), json!(a.seed));
                o.insert(
                    "loss_curve".into(),
                    Value::Array(curve.iter().map(|&v| f32j(v)).collect()),
                );
                o.insert(
                    "orthogonality_error".into(),
                    f64j(l.orthogonality_error().map_err(|e| e.to_string())?),
                );
                l.rotated(&case).map_err(|e| e.to_string())?
            }
        };
        let (t, c) = (case.tokens(), case.in_channels());
        let e = rotated.error(&case, &cfg).map_err(|e| e.to_string())?;
        let base = case.error(&cfg).map_err(|e| e.to_string())?;
        let before = ActSummary::of(case.x(), t, c).map_err(|e| e.to_string())?;
        let after = ActSummary::of(&rotated.x, t, c).map_err(|e| e.to_string())?;
        let id = rotated.float_deviation(&case).map_err(|e| e.to_string())?;
        o.insert("rotation".into(), json!(rotated.rotation));
        o.insert("rel_err".into(), f64j(e.rel_err));
        o.insert("baseline_rel_err".into(), f64j(base.rel_err));
        o.insert("x_rel_err".into(), f64j(e.x_rel_err));
        o.insert("w_rel_err".into(), f64j(e.w_rel_err));
        o.insert("kurtosis_before".into(), f64j(before.kurtosis));
        o.insert("kurtosis_after".into(), f64j(after.kurtosis));
        o.insert(
            "token_kurtosis_before".into(),
            f64j(before.token_kurtosis_mean),
        );
        o.insert(
            "token_kurtosis_after".into(),
            f64j(after.token_kurtosis_mean),
        );
        o.insert(
            "max_over_median_channel_before".into(),
            f64j(before.profile.max_over_median),
        );
        o.insert(
            "max_over_median_channel_after".into(),
            f64j(after.profile.max_over_median),
        );
        o.insert("fp_identity_rel_err".into(), f64j(id.rel_frobenius));
        o.insert("fp_identity_max_rel".into(), f64j(id.max_rel));
        print_json(&Value::Object(o))
    }

    fn outliers(a: &OutliersArgs) -> Result<(), String> {
        use quantlab_engine::outliers::{
            ablate_top_k, granularity_table, outlier_stats, weight_profiles, Ablation,
        };
        let x = load_2d(&a.x, "X (tokens x channels)")?;
        let (t, c) = x.rows_cols();
        let st = outlier_stats(&x.data, t, c, a.top).map_err(|e| e.to_string())?;
        let mut o = Map::new();
        o.insert("x".into(), json!(a.x));
        o.insert("shape_x".into(), json!([t, c]));
        o.insert("absmax".into(), f32j(st.absmax));
        o.insert("absmax_at".into(), json!([st.absmax_at.0, st.absmax_at.1]));
        o.insert("median_channel_absmax".into(), f32j(st.profile.median));
        o.insert("max_over_median".into(), f64j(st.profile.max_over_median));
        o.insert(
            "channels_over_6x_median".into(),
            json!(st.profile.over_6x_median),
        );
        o.insert(
            "top_channels".into(),
            Value::Array(
                st.top
                    .iter()
                    .map(|&(i, v)| json!({"channel": i, "absmax": f32j(v)}))
                    .collect(),
            ),
        );
        o.insert("kurtosis".into(), f64j(st.kurtosis));
        o.insert("token_kurtosis_mean".into(), f64j(st.token_kurtosis_mean));
        let table = |rows: Vec<quantlab_engine::outliers::GranularityRow>| -> Value {
            Value::Array(
                rows.iter()
                    .map(|r| {
                        json!({"act": r.act.name(), "a_bits": r.a_bits, "x_rel_err": f64j(r.x_rel_err),
                            "y_rel_err": f64j(r.y_rel_err)})
                    })
                    .collect(),
            )
        };
        match &a.w {
            None => {
                // Without W only X's error is meaningful.
                use quantlab_engine::linear::{quantize_symmetric, ScaleAxis};
                let mut rows = Vec::new();
                for &bits in &a.bits {
                    for (act, axis) in [
                        ("tensor", ScaleAxis::Tensor),
                        ("token", ScaleAxis::Rows),
                        ("channel", ScaleAxis::Cols),
                    ] {
                        let q = quantize_symmetric(&x.data, t, c, bits, axis)
                            .map_err(|e| e.to_string())?;
                        rows.push(
                            json!({"act": act, "a_bits": bits, "x_rel_err": f64j(q.rel_err)}),
                        );
                    }
                }
                o.insert("granularity".into(), Value::Array(rows));
            }
            Some(wpath) => {
                let w = load_2d(wpath, "W (C_in x C_out)")?;
                let (wr, wc) = w.rows_cols();
                if wr != c {
                    return Err(format!(
                        "X is {t}x{c} and W is {wr}x{wc}: W needs one row per column of X"
                    ));
                }
                let case = LayerCase::from_vecs(x.data.clone(), t, c, w.data.clone(), wc)
                    .map_err(|e| e.to_string())?;
                let rows = granularity_table(&case, &a.bits, WeightGranularity::Float, 8)
                    .map_err(|e| e.to_string())?;
                o.insert("w".into(), json!(wpath));
                o.insert("granularity".into(), table(rows));
                let wp = weight_profiles(&w.data, wr, wc).map_err(|e| e.to_string())?;
                o.insert(
                    "w_in_channel_max_over_median".into(),
                    f64j(wp.per_input_channel.max_over_median),
                );
                o.insert(
                    "w_out_channel_max_over_median".into(),
                    f64j(wp.per_output_channel.max_over_median),
                );
                let mut abl = Vec::new();
                let mut ks = vec![1];
                if a.top > 1 {
                    ks.push(a.top);
                }
                for k in ks {
                    for (how, name) in [
                        (Ablation::Zero, "zero"),
                        (Ablation::ClipToMedian, "clip_to_median"),
                    ] {
                        let r = ablate_top_k(&case, k, how).map_err(|e| e.to_string())?;
                        abl.push(json!({"k": k, "how": name, "channels": r.channels,
                            "y_rel_change": f64j(r.rel_change), "x_rel_change": f64j(r.x_rel_change)}));
                    }
                }
                o.insert("ablation".into(), Value::Array(abl));
            }
        }
        print_json(&Value::Object(o))
    }
}
