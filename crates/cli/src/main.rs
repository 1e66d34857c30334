//! Native command-line front end to the engine (`quantlab --help`). On wasm32 this compiles
//! to an empty `main`: the browser uses the engine through the UI instead.
//!
//! Every command prints one JSON object built from the `#[derive(Serialize)]` structs below,
//! so the field names here are the output's contract (scripts outside the project read them).
//! f32 fields serialize through their shortest decimal form (0.1f32 prints as 0.1) and NaN/Inf
//! as null, which is serde_json's behaviour for floats.

#[cfg(not(target_arch = "wasm32"))]
mod llm;

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

    use serde::Serialize;

    use quantlab_cli::args::{
        parse_args, Command, EmbedAct, EmbedArgs, EmbedRotate, LayerArgs, OutliersArgs, Parsed,
        QuantArg, QuantizeArgs, RotateArgs, RotationArg, ShipModelArgs, SmoothArgs, StatsArgs,
        SweepArgs,
    };
    use quantlab_engine::format::int_bits_per_value;
    use quantlab_engine::linear::{LayerCase, LayerQuant, WeightGranularity};
    use quantlab_engine::{
        channel_stats, histogram, quantize_format, quantize_granular, read_npy, summarize, top_k,
        write_npy_f32, Element, Format, Granularity, NonFinitePolicy, NpyArray, NpyLimits,
        QuantError, Scheme,
    };

    /// A message for stderr; engine errors keep their own wording.
    struct Failure(String);

    impl From<QuantError> for Failure {
        fn from(e: QuantError) -> Self {
            Failure(e.to_string())
        }
    }

    impl From<String> for Failure {
        fn from(s: String) -> Self {
            Failure(s)
        }
    }

    type Out = Result<(), Failure>;

    /// Runs one command; returns the process exit code (0 ok, 2 error).
    pub fn run(args: &[String]) -> i32 {
        let result = match parse_args(args) {
            Err(e) => Err(Failure(e.message)),
            Ok(Parsed::Help(text)) => {
                print!("{text}");
                Ok(())
            }
            Ok(Parsed::Run(cmd)) => match cmd {
                Command::Quantize(q) => quantize(&q),
                Command::Stats(s) => stats(&s),
                Command::Smooth(a) => smooth(&a),
                Command::Sweep(a) => sweep(&a),
                Command::Rotate(a) => rotate(&a),
                Command::Outliers(a) => outliers(&a),
                Command::Embed(a) => embed(&a),
                Command::ShipModel(a) => ship_model(&a),
                Command::Llm(a) => super::llm::run(&a.command).map_err(Failure),
            },
        };
        match result {
            Ok(()) => 0,
            Err(Failure(msg)) => {
                let _ = writeln!(std::io::stderr(), "quantlab: error: {msg}");
                2
            }
        }
    }

    fn load(path: &str) -> Result<NpyArray, Failure> {
        let limits = NpyLimits::default();
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot open '{path}': {e}"))?;
        if meta.len() > limits.max_bytes as u64 {
            return Err(Failure(format!(
                "'{path}' is {} bytes, more than the {} byte limit",
                meta.len(),
                limits.max_bytes
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read '{path}': {e}"))?;
        Ok(read_npy(&bytes, &limits).map_err(|e| format!("{path}: {e}"))?)
    }

    fn print_json<T: Serialize>(v: &T) -> Out {
        let s = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
        println!("{s}");
        Ok(())
    }

    fn policy(skip_nonfinite: bool) -> NonFinitePolicy {
        if skip_nonfinite {
            NonFinitePolicy::Skip
        } else {
            NonFinitePolicy::Reject
        }
    }

    // ---- quantize ----

    #[derive(Serialize)]
    struct SchemeJson {
        bits: u8,
        signed: bool,
        symmetric: bool,
        narrow: bool,
        qmin: i32,
        qmax: i32,
        rounding: &'static str,
    }

    #[derive(Serialize)]
    struct QuantizeJson<'a> {
        input: &'a str,
        shape: &'a [usize],
        dtype: &'static str,
        format: &'static str,
        bits_per_value: f64,
        scheme: SchemeJson,
        granularity: String,
        calibrator: &'static str,
        param_shape: Vec<usize>,
        scale: Vec<f32>,
        zero_point: Vec<i32>,
        alpha: Vec<f32>,
        beta: Vec<f32>,
        n: usize,
        skipped: usize,
        mse: f64,
        rmse: f64,
        sqnr_db: f64,
        max_abs_err: f64,
        rel_err: f64,
        clipped_fraction: f64,
        rounding_mse: f64,
        clipping_mse: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        out: Option<&'a str>,
    }

    /// The granularity for this tensor: per channel/token needs 2-D data; a 1-D tensor is one
    /// row, so its groups run along axis 1 of the (1, n) view.
    fn granularity_for(a: &QuantizeArgs, arr: &NpyArray) -> Result<Granularity, Failure> {
        let one_d = arr.shape.len() == 1;
        Ok(match a.granularity() {
            g @ (Granularity::PerChannel { .. } | Granularity::PerToken) if one_d => {
                return Err(Failure(format!(
                    "--granularity {} needs a 2-D tensor (tokens x channels), but '{}' is 1-D",
                    g.describe(),
                    a.input
                )));
            }
            Granularity::PerGroup { size, .. } if one_d => Granularity::PerGroup { axis: 1, size },
            g => g,
        })
    }

    fn write_out<'a>(path: &str, shape: &[usize], y: impl Iterator<Item = &'a f32>) -> Out {
        let data: Vec<f32> = y.copied().collect();
        let bytes = write_npy_f32(shape, &data)?;
        std::fs::write(path, bytes).map_err(|e| format!("cannot write '{path}': {e}"))?;
        Ok(())
    }

    #[derive(Serialize)]
    struct FormatJson<'a> {
        input: &'a str,
        shape: &'a [usize],
        dtype: &'static str,
        format: &'static str,
        bits_per_value: f64,
        /// The grid's element format, e.g. "e2m1" for mxfp4.
        element: &'static str,
        element_max: f32,
        #[serde(skip_serializing_if = "Option::is_none")]
        granularity: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        block_size: Option<usize>,
        param_shape: Vec<usize>,
        scale: Vec<f32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tensor_scale: Option<f32>,
        n: usize,
        skipped: usize,
        mse: f64,
        rmse: f64,
        sqnr_db: f64,
        max_abs_err: f64,
        rel_err: f64,
        /// Values beyond the grid's ±max (saturated; ±Inf for fp16/bf16).
        saturated_fraction: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        out: Option<&'a str>,
    }

    fn quantize_float(a: &QuantizeArgs, arr: &NpyArray, format: Format) -> Out {
        let granularity = if format.takes_granularity() {
            granularity_for(a, arr)?
        } else {
            Granularity::PerTensor
        };
        let r = quantize_format(arr.view2()?, format, granularity, policy(a.skip_nonfinite))?;
        if let Some(out) = &a.out {
            write_out(out, &arr.shape, r.dequantized.iter())?;
        }
        let element = format.element().unwrap_or(Element::Fp16);
        let m = &r.overall;
        print_json(&FormatJson {
            input: &a.input,
            shape: &arr.shape,
            dtype: arr.dtype.name(),
            format: format.slug(),
            bits_per_value: r.bits_per_value,
            element: element.slug(),
            element_max: element.max(),
            granularity: format.takes_granularity().then(|| granularity.describe()),
            block_size: match format {
                Format::Block(b) => Some(b.block_size()),
                _ => None,
            },
            param_shape: r.param_shape.clone(),
            scale: r.scales.clone(),
            tensor_scale: r.tensor_scale,
            n: m.n,
            skipped: m.skipped,
            mse: m.mse,
            rmse: m.rmse,
            sqnr_db: m.sqnr_db,
            max_abs_err: m.max_abs_err,
            rel_err: m.rel_err,
            saturated_fraction: m.clipped_fraction,
            out: a.out.as_deref(),
        })
    }

    fn quantize(a: &QuantizeArgs) -> Out {
        a.check_format()?;
        let arr = load(&a.input)?;
        if a.format != Format::Int {
            return quantize_float(a, &arr, a.format);
        }
        let scheme = Scheme::new(a.bits(), a.signed(), a.symmetric(), a.narrow())?
            .with_rounding(a.rounding());
        let granularity = granularity_for(a, &arr)?;
        let view = arr.view2()?;
        let calibrator = a.calib().to_calibrator(view.ncols());
        let r = quantize_granular(
            view,
            &scheme,
            granularity,
            &calibrator,
            policy(a.skip_nonfinite),
        )?;
        if let Some(out) = &a.out {
            write_out(out, &arr.shape, r.dequantized.iter())?;
        }
        let m = &r.overall;
        print_json(&QuantizeJson {
            input: &a.input,
            shape: &arr.shape,
            dtype: arr.dtype.name(),
            format: "int",
            bits_per_value: int_bits_per_value(scheme.bits, r.groups.len(), m.n + m.skipped),
            scheme: SchemeJson {
                bits: scheme.bits,
                signed: scheme.signed,
                symmetric: scheme.symmetric,
                narrow: scheme.narrow,
                qmin: scheme.qmin(),
                qmax: scheme.qmax(),
                rounding: scheme.rounding.name(),
            },
            granularity: granularity.describe(),
            calibrator: calibrator.name(),
            param_shape: r.param_shape.clone(),
            scale: r.groups.iter().map(|g| g.params.scale).collect(),
            zero_point: r.groups.iter().map(|g| g.params.zero_point).collect(),
            alpha: r.groups.iter().map(|g| g.alpha).collect(),
            beta: r.groups.iter().map(|g| g.beta).collect(),
            n: m.n,
            skipped: m.skipped,
            mse: m.mse,
            rmse: m.rmse,
            sqnr_db: m.sqnr_db,
            max_abs_err: m.max_abs_err,
            rel_err: m.rel_err,
            clipped_fraction: m.clipped_fraction,
            rounding_mse: m.rounding_mse,
            clipping_mse: m.clipping_mse,
            out: a.out.as_deref(),
        })
    }

    // ---- stats ----

    #[derive(Serialize)]
    struct TopChannel {
        channel: usize,
        absmax: f32,
        min: f32,
        max: f32,
    }

    #[derive(Serialize)]
    struct Channels {
        channel_axis: usize,
        channels: usize,
        median_channel_absmax: f32,
        top_channels: Vec<TopChannel>,
    }

    #[derive(Serialize)]
    struct HistogramJson {
        lo: f32,
        hi: f32,
        counts: Vec<u32>,
    }

    #[derive(Serialize)]
    struct StatsJson<'a> {
        input: &'a str,
        shape: &'a [usize],
        dtype: &'static str,
        n: usize,
        nonfinite: usize,
        min: f32,
        max: f32,
        mean: f64,
        std: f64,
        kurtosis: Option<f64>,
        absmax: f32,
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        channels: Option<Channels>,
        #[serde(skip_serializing_if = "Option::is_none")]
        histogram: Option<HistogramJson>,
    }

    /// np.median: the mean of the two middle values for an even count (NaN for none).
    fn median(values: &[f32]) -> f32 {
        let mut sorted: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f32::total_cmp);
        let k = sorted.len() / 2;
        match (
            sorted.len() % 2,
            sorted.get(k),
            k.checked_sub(1).and_then(|j| sorted.get(j)),
        ) {
            (1, Some(&m), _) => m,
            (_, Some(&hi), Some(&lo)) => ((f64::from(lo) + f64::from(hi)) / 2.0) as f32,
            _ => f32::NAN,
        }
    }

    fn stats(a: &StatsArgs) -> Out {
        let arr = load(&a.input)?;
        let policy = policy(a.skip_nonfinite);
        let s = summarize(&arr.data, policy)?;
        let channels = if arr.shape.len() == 2 {
            let ch = channel_stats(arr.view2()?, a.axis, policy)?;
            let absmax: Vec<f32> = ch.iter().map(|c| c.absmax).collect();
            let top_channels = top_k(&absmax, a.top)
                .into_iter()
                .filter_map(|(i, v)| {
                    ch.get(i).map(|c| TopChannel {
                        channel: i,
                        absmax: v,
                        min: c.min,
                        max: c.max,
                    })
                })
                .collect();
            Some(Channels {
                channel_axis: a.axis,
                channels: ch.len(),
                median_channel_absmax: median(&absmax),
                top_channels,
            })
        } else {
            None
        };
        let histogram = match a.bins {
            Some(bins) if s.min < s.max => {
                let h = histogram(&arr.data, bins, s.min, s.max)?;
                Some(HistogramJson {
                    lo: h.lo,
                    hi: h.hi,
                    counts: h.counts,
                })
            }
            _ => None,
        };
        print_json(&StatsJson {
            input: &a.input,
            shape: &arr.shape,
            dtype: arr.dtype.name(),
            n: s.n,
            nonfinite: s.nonfinite,
            min: s.min,
            max: s.max,
            mean: s.mean,
            std: s.std,
            kurtosis: s.kurtosis,
            absmax: s.absmax,
            channels,
            histogram,
        })
    }

    // ---- smooth / sweep / rotate ----

    fn load_2d(path: &str, what: &str) -> Result<NpyArray, Failure> {
        let arr = load(path)?;
        if arr.shape.len() != 2 {
            return Err(Failure(format!(
                "{path}: {what} must be a 2-D matrix, but its shape is {:?}",
                arr.shape
            )));
        }
        Ok(arr)
    }

    fn load_layer(a: &LayerArgs) -> Result<LayerCase, Failure> {
        let x = load_2d(&a.x, "X (tokens x C_in)")?;
        let w = load_2d(&a.w, "W (C_in x C_out)")?;
        let (xv, wv) = (x.view2()?, w.view2()?);
        if xv.ncols() != wv.nrows() {
            return Err(Failure(format!(
                "X is {}x{} and W is {}x{}: W needs one row per column of X (Y = X·W)",
                xv.nrows(),
                xv.ncols(),
                wv.nrows(),
                wv.ncols()
            )));
        }
        Ok(LayerCase::new(xv, wv)?)
    }

    fn quant_of(a: &LayerArgs) -> LayerQuant {
        LayerQuant::new(a.w_bits, a.a_bits, a.act)
    }

    /// The layer and its quantization, first in every smooth/sweep/rotate output.
    #[derive(Serialize)]
    struct Settings<'a> {
        x: &'a str,
        w: &'a str,
        shape_x: [usize; 2],
        shape_w: [usize; 2],
        w_bits: u8,
        a_bits: u8,
        act: &'static str,
        weights: &'static str,
    }

    impl<'a> Settings<'a> {
        fn of(a: &'a LayerArgs, case: &LayerCase) -> Self {
            Settings {
                x: &a.x,
                w: &a.w,
                shape_x: [case.tokens(), case.in_channels()],
                shape_w: [case.in_channels(), case.out_channels()],
                w_bits: a.w_bits,
                a_bits: a.a_bits,
                act: a.act.name(),
                weights: "per-output-channel",
            }
        }
    }

    #[derive(Serialize)]
    struct SmoothJson<'a> {
        #[serde(flatten)]
        settings: Settings<'a>,
        alpha: f32,
        rel_err: f64,
        baseline_rel_err: f64,
        x_rel_err: f64,
        w_rel_err: f64,
        baseline_x_rel_err: f64,
        baseline_w_rel_err: f64,
        fp_identity_rel_err: f64,
        fp_identity_max_rel: f64,
        fp_plain_rel_err: f64,
        smooth_scales: Vec<f32>,
    }

    fn smooth(a: &SmoothArgs) -> Out {
        use quantlab_engine::smooth::SmoothCase;
        let cfg = quant_of(&a.layer);
        let sc = SmoothCase::new(load_layer(&a.layer)?)?;
        let s = sc.scales(a.alpha)?;
        let e = sc.error_with_scales(&s, &cfg)?;
        let base = sc.baseline(&cfg)?;
        let (x2, w2) = sc.apply(&s)?;
        let id = sc.case().float_deviation(&x2, &w2)?;
        let plain = sc.float_floor()?;
        print_json(&SmoothJson {
            settings: Settings::of(&a.layer, sc.case()),
            alpha: a.alpha,
            rel_err: e.rel_err,
            baseline_rel_err: base.rel_err,
            x_rel_err: e.x_rel_err,
            w_rel_err: e.w_rel_err,
            baseline_x_rel_err: base.x_rel_err,
            baseline_w_rel_err: base.w_rel_err,
            fp_identity_rel_err: id.rel_frobenius,
            fp_identity_max_rel: id.max_rel,
            fp_plain_rel_err: plain.rel_frobenius,
            smooth_scales: s,
        })
    }

    #[derive(Serialize)]
    struct SweepPoint {
        alpha: f32,
        rel_err: f64,
    }

    #[derive(Serialize)]
    struct SweepJson<'a> {
        #[serde(flatten)]
        settings: Settings<'a>,
        baseline_rel_err: f64,
        points: Vec<SweepPoint>,
        best_alpha: f32,
        best_rel_err: f64,
    }

    fn sweep(a: &SweepArgs) -> Out {
        use quantlab_engine::smooth::{alpha_grid, SmoothCase};
        let (start, end, step) = a.alphas;
        let alphas = alpha_grid(start, end, step)?;
        let sc = SmoothCase::new(load_layer(&a.layer)?)?;
        let r = sc.sweep(&alphas, &quant_of(&a.layer))?;
        print_json(&SweepJson {
            settings: Settings::of(&a.layer, sc.case()),
            baseline_rel_err: r.baseline.rel_err,
            points: r
                .points
                .iter()
                .map(|p| SweepPoint {
                    alpha: p.alpha,
                    rel_err: p.error.rel_err,
                })
                .collect(),
            best_alpha: r.best_alpha,
            best_rel_err: r.best_rel_err,
        })
    }

    /// The learning settings and curve of `--rotation learned:STEPS`.
    #[derive(Serialize)]
    struct Learned {
        init: String,
        steps: usize,
        lr: f32,
        momentum: f32,
        block: usize,
        grad_cols: usize,
        seed: u64,
        loss_curve: Vec<f32>,
        /// The step whose R is reported (the lowest loss of the run; 0 = the starting rotation).
        best_step: usize,
        orthogonality_error: f64,
    }

    #[derive(Serialize)]
    struct RotateJson<'a> {
        #[serde(flatten)]
        settings: Settings<'a>,
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        learned: Option<Learned>,
        rotation: String,
        rel_err: f64,
        baseline_rel_err: f64,
        x_rel_err: f64,
        w_rel_err: f64,
        kurtosis_before: f64,
        kurtosis_after: f64,
        token_kurtosis_before: f64,
        token_kurtosis_after: f64,
        max_over_median_channel_before: f64,
        max_over_median_channel_after: f64,
        fp_identity_rel_err: f64,
        fp_identity_max_rel: f64,
    }

    fn rotate(a: &RotateArgs) -> Out {
        use quantlab_engine::rotate::{learn::LearnConfig, ActSummary, Learner, Rotated};
        let case = load_layer(&a.layer)?;
        let cfg = quant_of(&a.layer);
        let (rotated, learned) = match &a.rotation {
            RotationArg::Fixed(r) => (Rotated::new(&case, r)?, None),
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
                let mut l = Learner::new(&case, &a.init, lc)?;
                let mut loss_curve = l.step(*steps)?;
                loss_curve.push(l.loss()?);
                let (_, _, best_step) = l.best()?;
                let learned = Learned {
                    init: a.init.name(),
                    steps: *steps,
                    lr: a.lr,
                    momentum: a.momentum,
                    block: a.block,
                    grad_cols: a.grad_cols,
                    seed: a.seed,
                    loss_curve,
                    best_step,
                    orthogonality_error: l.orthogonality_error()?,
                };
                (l.rotated(&case)?, Some(learned))
            }
        };
        let (t, c) = (case.tokens(), case.in_channels());
        let e = rotated.error(&case, &cfg)?;
        let base = case.error(&cfg)?;
        let before = ActSummary::of(case.x(), t, c)?;
        let after = ActSummary::of(&rotated.x, t, c)?;
        let id = rotated.float_deviation(&case)?;
        print_json(&RotateJson {
            settings: Settings::of(&a.layer, &case),
            learned,
            rotation: rotated.rotation.clone(),
            rel_err: e.rel_err,
            baseline_rel_err: base.rel_err,
            x_rel_err: e.x_rel_err,
            w_rel_err: e.w_rel_err,
            kurtosis_before: before.kurtosis,
            kurtosis_after: after.kurtosis,
            token_kurtosis_before: before.token_kurtosis_mean,
            token_kurtosis_after: after.token_kurtosis_mean,
            max_over_median_channel_before: before.profile.max_over_median,
            max_over_median_channel_after: after.profile.max_over_median,
            fp_identity_rel_err: id.rel_frobenius,
            fp_identity_max_rel: id.max_rel,
        })
    }

    // ---- outliers ----

    #[derive(Serialize)]
    struct AbsmaxChannel {
        channel: usize,
        absmax: f32,
    }

    #[derive(Serialize)]
    struct GranularityJson {
        act: &'static str,
        a_bits: u8,
        x_rel_err: f64,
        /// Only with --w: without W only X's error is meaningful.
        #[serde(skip_serializing_if = "Option::is_none")]
        y_rel_err: Option<f64>,
    }

    #[derive(Serialize)]
    struct AblationJson {
        k: usize,
        how: &'static str,
        channels: Vec<usize>,
        y_rel_change: f64,
        x_rel_change: f64,
    }

    /// What `--w` adds: the weights' profile and the ablation.
    #[derive(Serialize)]
    struct WithWeights<'a> {
        w: &'a str,
        w_in_channel_max_over_median: f64,
        w_out_channel_max_over_median: f64,
        ablation: Vec<AblationJson>,
    }

    #[derive(Serialize)]
    struct OutliersJson<'a> {
        x: &'a str,
        shape_x: [usize; 2],
        absmax: f32,
        absmax_at: [usize; 2],
        median_channel_absmax: f32,
        max_over_median: f64,
        channels_over_6x_median: usize,
        top_channels: Vec<AbsmaxChannel>,
        kurtosis: f64,
        token_kurtosis_mean: f64,
        granularity: Vec<GranularityJson>,
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        weights: Option<WithWeights<'a>>,
    }

    fn outliers(a: &OutliersArgs) -> Out {
        use quantlab_engine::linear::{quantize_symmetric, ScaleAxis};
        use quantlab_engine::outliers::{
            ablate_top_k, granularity_table, outlier_stats, weight_profiles, Ablation,
        };
        let x = load_2d(&a.x, "X (tokens x channels)")?;
        let (t, c) = x.rows_cols();
        let st = outlier_stats(&x.data, t, c, a.top)?;
        let (granularity, weights) = match &a.w {
            None => {
                let mut rows = Vec::new();
                for &bits in &a.bits {
                    for (act, axis) in [
                        ("tensor", ScaleAxis::Tensor),
                        ("token", ScaleAxis::Rows),
                        ("channel", ScaleAxis::Cols),
                    ] {
                        let q = quantize_symmetric(&x.data, t, c, bits, axis)?;
                        rows.push(GranularityJson {
                            act,
                            a_bits: bits,
                            x_rel_err: q.rel_err,
                            y_rel_err: None,
                        });
                    }
                }
                (rows, None)
            }
            Some(wpath) => {
                let w = load_2d(wpath, "W (C_in x C_out)")?;
                let (wr, wc) = w.rows_cols();
                if wr != c {
                    return Err(Failure(format!(
                        "X is {t}x{c} and W is {wr}x{wc}: W needs one row per column of X"
                    )));
                }
                let case = LayerCase::from_vecs(x.data.clone(), t, c, w.data.clone(), wc)?;
                let rows = granularity_table(&case, &a.bits, WeightGranularity::Float, 8)?
                    .iter()
                    .map(|r| GranularityJson {
                        act: r.act.name(),
                        a_bits: r.a_bits,
                        x_rel_err: r.x_rel_err,
                        y_rel_err: Some(r.y_rel_err),
                    })
                    .collect();
                let wp = weight_profiles(&w.data, wr, wc)?;
                let mut ablation = Vec::new();
                let ks = if a.top > 1 { vec![1, a.top] } else { vec![1] };
                for k in ks {
                    for (how, name) in [
                        (Ablation::Zero, "zero"),
                        (Ablation::ClipToMedian, "clip_to_median"),
                    ] {
                        let r = ablate_top_k(&case, k, how)?;
                        ablation.push(AblationJson {
                            k,
                            how: name,
                            channels: r.channels,
                            y_rel_change: r.rel_change,
                            x_rel_change: r.x_rel_change,
                        });
                    }
                }
                let weights = WithWeights {
                    w: wpath,
                    w_in_channel_max_over_median: wp.per_input_channel.max_over_median,
                    w_out_channel_max_over_median: wp.per_output_channel.max_over_median,
                    ablation,
                };
                (rows, Some(weights))
            }
        };
        print_json(&OutliersJson {
            x: &a.x,
            shape_x: [t, c],
            absmax: st.absmax,
            absmax_at: [st.absmax_at.0, st.absmax_at.1],
            median_channel_absmax: st.profile.median,
            max_over_median: st.profile.max_over_median,
            channels_over_6x_median: st.profile.over_6x_median,
            top_channels: st
                .top
                .iter()
                .map(|&(channel, absmax)| AbsmaxChannel { channel, absmax })
                .collect(),
            kurtosis: st.kurtosis,
            token_kurtosis_mean: st.token_kurtosis_mean,
            granularity,
            weights,
        })
    }

    // ---- embed / ship-model ----

    /// The model directory the README's set-up fills, looked for from the current directory
    /// and from the executable (target/release/quantlab sits two levels under the clone).
    fn default_model_dir() -> Result<std::path::PathBuf, Failure> {
        quantlab_cli::find_tools_file("minilm/model.safetensors")
            .and_then(|f| f.parent().map(std::path::Path::to_path_buf))
            .ok_or_else(|| {
                Failure(
                    "no model found: .tools/minilm/model.safetensors is missing (run `make \
                     setup` or the README's set-up, or pass --model FILE)"
                        .to_string(),
                )
            })
    }

    fn read_limited(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot open '{shown}': {e}"))?;
        if meta.len() > quantlab_weights::MAX_FILE_BYTES as u64 {
            return Err(Failure(format!(
                "'{shown}' is {} bytes, more than a model file can be ({} bytes)",
                meta.len(),
                quantlab_weights::MAX_FILE_BYTES
            )));
        }
        Ok(std::fs::read(path).map_err(|e| format!("cannot read '{shown}': {e}"))?)
    }

    struct Model {
        file: std::path::PathBuf,
        loaded: quantlab_weights::Loaded,
        tokenizer: quantlab_engine::model::WordPiece,
    }

    fn load_model(path: Option<&str>) -> Result<Model, Failure> {
        let file = match path {
            Some(p) => std::path::PathBuf::from(p),
            None => default_model_dir()?.join("model.safetensors"),
        };
        let bytes = read_limited(&file)?;
        let loaded =
            quantlab_weights::load(&bytes).map_err(|e| format!("{}: {e}", file.display()))?;
        let vocab = match &loaded.vocab {
            Some(v) => v.clone(),
            None => {
                let vp = file.with_file_name("vocab.txt");
                let raw = read_limited(&vp)?;
                String::from_utf8(raw)
                    .map_err(|_| format!("'{}' is not UTF-8 text", vp.display()))?
            }
        };
        let tokenizer = quantlab_engine::model::WordPiece::from_vocab_txt(&vocab)?;
        Ok(Model {
            file,
            loaded,
            tokenizer,
        })
    }

    #[derive(Serialize)]
    struct EmbedSettings {
        label: String,
        w_bits: Option<u8>,
        a_bits: Option<u8>,
        act: Option<&'static str>,
        smooth: Option<f32>,
        rotate: &'static str,
        drop_outliers: usize,
        group: Option<usize>,
        kernel: &'static str,
    }

    #[derive(Serialize)]
    struct SentenceJson<'a> {
        text: &'a str,
        tokens: Vec<String>,
        ids: Vec<u32>,
        truncated: usize,
        embedding: Vec<f32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cosine_to_full_precision: Option<f64>,
    }

    #[derive(Serialize)]
    struct EmbedJson<'a> {
        model: &'static str,
        model_file: String,
        weights: &'a str,
        sha256: &'a str,
        quant: &'static str,
        settings: EmbedSettings,
        sentences: Vec<SentenceJson<'a>>,
    }

    fn embed(a: &EmbedArgs) -> Out {
        use quantlab_engine::kernels::ActGranularity;
        use quantlab_engine::model::{
            quant::ActMode, Float, ModelQuant, QuantizedBert, WeightScales,
        };
        if a.act != EmbedAct::Static && a.calib != quantlab_cli::args::CalibSpec::MinMax {
            return Err(Failure(
                "--calib sets the range of static scales: add --act static".to_string(),
            ));
        }
        if matches!(a.calib, quantlab_cli::args::CalibSpec::Manual { .. }) {
            return Err(Failure(
                "--calib manual:A,B would give all 24 linears one range; use minmax, moving, percentile:P, mse or entropy"
                    .to_string(),
            ));
        }
        let transforms = a.smooth.is_some()
            || a.rotate != EmbedRotate::None
            || a.drop_outliers > 0
            || a.group.is_some()
            || a.calib_file.is_some()
            || a.act != EmbedAct::Token;
        let bits = a.quant.bits();
        if bits.is_none() && transforms {
            return Err(Failure(
                "--act, --smooth, --rotate, --drop-outliers, --group and --calib-file set up a quantized model: \
                 add --quant w8a8, w4a8 or w4a4"
                    .to_string(),
            ));
        }
        let model = load_model(a.model.as_deref())?;
        let bert = &model.loaded.bert;
        let encodings: Vec<_> = a.texts.iter().map(|t| model.tokenizer.encode(t)).collect();
        for (i, e) in encodings.iter().enumerate() {
            if e.truncated > 0 {
                eprintln!(
                    "quantlab: note: sentence {} is longer than the model's 256 tokens; {} pieces were cut",
                    i + 1,
                    e.truncated
                );
            }
        }
        let ids: Vec<Vec<u32>> = encodings.iter().map(|e| e.ids.clone()).collect();
        let fp: Vec<Vec<f32>> = ids
            .iter()
            .map(|s| bert.embed(s, &mut Float))
            .collect::<Result<_, _>>()?;
        let act = match a.act {
            EmbedAct::Token => ActMode::Dynamic(ActGranularity::PerToken),
            EmbedAct::Tensor => ActMode::Dynamic(ActGranularity::PerTensor),
            EmbedAct::Static => ActMode::Static(a.calib.to_calibrator(384)),
        };
        let (embeddings, cosines, settings) = match bits {
            None => (
                fp,
                vec![None; ids.len()],
                EmbedSettings {
                    label: format!("full precision ({})", bert.storage()),
                    w_bits: None,
                    a_bits: None,
                    act: None,
                    smooth: None,
                    rotate: "none",
                    drop_outliers: 0,
                    group: None,
                    kernel: quantlab_engine::kernels::KERNEL_NAME,
                },
            ),
            Some((w_bits, a_bits)) => {
                let base = if a.quant == QuantArg::OrtInt8 {
                    if a.act != EmbedAct::Token || a.group.is_some() {
                        return Err(Failure(
                            "--quant ort-int8 fixes its weights and activations; drop --act and --group"
                                .to_string(),
                        ));
                    }
                    ModelQuant::onnx_quantize_dynamic()
                } else {
                    ModelQuant {
                        act,
                        weights: a
                            .group
                            .map_or(WeightScales::PerChannel, WeightScales::Group),
                        ..ModelQuant::new(w_bits, a_bits)
                    }
                };
                let cfg = ModelQuant {
                    smooth_alpha: a.smooth,
                    hadamard: a.rotate == EmbedRotate::Hadamard,
                    drop_outliers: a.drop_outliers,
                    ..base
                };
                let calib_ids = match &a.calib_file {
                    None => ids.clone(),
                    Some(path) => {
                        let text = String::from_utf8(read_limited(std::path::Path::new(path))?)
                            .map_err(|_| format!("'{path}' is not UTF-8 text"))?;
                        let lines: Vec<Vec<u32>> = text
                            .lines()
                            .filter(|l| !l.trim().is_empty())
                            .map(|l| model.tokenizer.encode(l.trim()).ids)
                            .collect();
                        if lines.is_empty() {
                            return Err(Failure(format!("'{path}' has no sentences")));
                        }
                        lines
                    }
                };
                let q = QuantizedBert::new(bert, cfg, &calib_ids)?;
                let emb: Vec<Vec<f32>> = ids
                    .iter()
                    .map(|s| q.embed(bert, s))
                    .collect::<Result<_, _>>()?;
                let cos = emb
                    .iter()
                    .zip(&fp)
                    .map(|(e, f)| Some(quantlab_engine::model::compare::cosine(e, f)))
                    .collect();
                let settings = EmbedSettings {
                    label: q.config().label(),
                    w_bits: Some(w_bits),
                    a_bits: Some(a_bits),
                    act: Some(q.config().act.name()),
                    smooth: a.smooth,
                    rotate: if a.rotate == EmbedRotate::Hadamard {
                        "hadamard"
                    } else {
                        "none"
                    },
                    drop_outliers: a.drop_outliers,
                    group: a.group,
                    kernel: quantlab_engine::kernels::KERNEL_NAME,
                };
                (emb, cos, settings)
            }
        };
        let sentences = a
            .texts
            .iter()
            .zip(encodings)
            .zip(embeddings.into_iter().zip(cosines))
            .map(
                |((text, enc), (embedding, cosine_to_full_precision))| SentenceJson {
                    text,
                    tokens: enc.tokens,
                    ids: enc.ids,
                    truncated: enc.truncated,
                    embedding,
                    cosine_to_full_precision,
                },
            )
            .collect();
        print_json(&EmbedJson {
            model: "sentence-transformers/all-MiniLM-L6-v2",
            model_file: model.file.display().to_string(),
            weights: bert.storage(),
            sha256: &model.loaded.sha256,
            quant: a.quant.name(),
            settings,
            sentences,
        })
    }

    #[derive(Serialize)]
    struct ShipJson {
        source: String,
        out: String,
        bytes: usize,
        sha256: String,
    }

    fn ship_model(a: &ShipModelArgs) -> Out {
        let source = match &a.source {
            Some(p) => std::path::PathBuf::from(p),
            None => default_model_dir()?.join("model.safetensors"),
        };
        let bytes = read_limited(&source)?;
        quantlab_weights::check_source(&bytes).map_err(|e| format!("{}: {e}", source.display()))?;
        let vp = source.with_file_name("vocab.txt");
        let vocab = String::from_utf8(read_limited(&vp)?)
            .map_err(|_| format!("'{}' is not UTF-8 text", vp.display()))?;
        let shipped = quantlab_weights::ship(&bytes, &vocab)
            .map_err(|e| format!("{}: {e}", source.display()))?;
        std::fs::write(&a.out, &shipped).map_err(|e| format!("cannot write '{}': {e}", a.out))?;
        print_json(&ShipJson {
            source: source.display().to_string(),
            out: a.out.clone(),
            bytes: shipped.len(),
            sha256: quantlab_weights::sha256_hex(&shipped),
        })
    }
}
