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

    use quantlab::engine::cli_args::{help_text, parse_args, Command, QuantizeArgs, StatsArgs};
    use quantlab::engine::{
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
}
