//! The tensors a reader can pick: real MiniLM activations and weights (shipped in
//! `assets/data/minilm/`), seeded synthetic distributions, or their own `.npy` file.
//! Pure code (no web dependency) so the choices, the generators and the upload checks are tested
//! natively; `ui::data` only fetches bytes and keeps the results.

use crate::controls::{DataChoice, DataControls, LayerChoice};
use quantlab_engine::synth::{self, Distribution, LlmLike};
use quantlab_engine::{read_npy, NpyLimits};

/// A tensor ready for the chapters: row-major f32 values with a 1-D or 2-D shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Short name shown in the UI, e.g. "L5 fc1 · X" or the uploaded file's name.
    pub name: String,
    /// `[n]` or `[rows, cols]`.
    pub shape: Vec<usize>,
    /// The dtype it was stored in ("float32", "float16", … or "synthetic").
    pub dtype: String,
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn rows_cols(&self) -> (usize, usize) {
        match self.shape.as_slice() {
            [r, c] => (*r, *c),
            [n] => (1, *n),
            _ => (1, self.data.len()),
        }
    }

    pub fn shape_text(&self) -> String {
        self.shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" × ")
    }

    /// (min, max) over finite values; `None` if there are none.
    pub fn min_max(&self) -> Option<(f32, f32)> {
        let mut it = self.data.iter().copied().filter(|v| v.is_finite());
        let first = it.next()?;
        Some(it.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v))))
    }
}

/// A data set shipped with the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealTensor {
    pub choice: DataChoice,
    /// Path under the site root.
    pub path: &'static str,
    pub bytes: usize,
}

const fn real(choice: DataChoice, path: &'static str, bytes: usize) -> RealTensor {
    RealTensor {
        choice,
        path,
        bytes,
    }
}

const L5_FC1_X: RealTensor = real(
    DataChoice::L5Fc1X,
    "assets/data/minilm/L5_fc1_X.npy",
    193_664,
);
const L1_FC1_X: RealTensor = real(
    DataChoice::L1Fc1X,
    "assets/data/minilm/L1_fc1_X.npy",
    193_664,
);
const L0_FC2_X: RealTensor = real(
    DataChoice::L0Fc2X,
    "assets/data/minilm/L0_fc2_X.npy",
    774_272,
);
const L5_FC1_W: RealTensor = real(
    DataChoice::L5Fc1W,
    "assets/data/minilm/L5_fc1_W_f16.npy",
    1_179_776,
);

/// Every shipped tensor, in the order the data picker lists them.
pub const REAL: [RealTensor; 4] = [L5_FC1_X, L1_FC1_X, L0_FC2_X, L5_FC1_W];

/// A real linear layer of MiniLM: its input activations X (tokens × C_in) and weights W
/// (C_in × C_out, so Y = X·W + b), shipped in `assets/data/minilm/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RealLayer {
    pub choice: LayerChoice,
    pub x_path: &'static str,
    pub w_path: &'static str,
    /// Download size of X and W together.
    pub bytes: usize,
}

/// The shipped files of a layer (`None` for the reader's own sentence, which the model
/// computes).
pub fn layer(choice: LayerChoice) -> Option<RealLayer> {
    let (x_path, w_path, bytes) = match choice {
        LayerChoice::Own | LayerChoice::Llm => return None,
        LayerChoice::L5Fc1 => (
            "assets/data/minilm/L5_fc1_X.npy",
            "assets/data/minilm/L5_fc1_W_f16.npy",
            193_664 + 1_179_776,
        ),
        LayerChoice::L1Fc1 => (
            "assets/data/minilm/L1_fc1_X.npy",
            "assets/data/minilm/L1_fc1_W_f16.npy",
            193_664 + 1_179_776,
        ),
        LayerChoice::L0Fc2 => (
            "assets/data/minilm/L0_fc2_X.npy",
            "assets/data/minilm/L0_fc2_W_f16.npy",
            774_272 + 1_179_776,
        ),
    };
    Some(RealLayer {
        choice,
        x_path,
        w_path,
        bytes,
    })
}

/// The WordPiece tokens of the text the shipped activations come from, one per line (row 0 of
/// every X is [CLS]).
pub const TOKENS_PATH: &str = "assets/data/minilm/tokens.txt";

/// The tokens of [`TOKENS_PATH`]: one per non-empty line.
pub fn parse_tokens(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Seeded synthetic distributions (documented as synthetic wherever they are shown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synthetic {
    Gaussian,
    Laplace,
    Relu,
    LlmLike,
    /// A right-skewed activation spanning exactly the seminar's worked example,
    /// [−1.577, 192.344].
    Seminar,
}

/// How many values a synthetic 1-D tensor has.
pub const SYNTH_N: usize = 65_536;

/// What `data=`, `seed=` and `outliers=` select.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    Real(RealTensor),
    Synthetic {
        kind: Synthetic,
        seed: u64,
        outliers: bool,
    },
    Upload,
}

impl Source {
    pub fn of(c: &DataControls) -> Source {
        let synthetic = |kind| Source::Synthetic {
            kind,
            seed: u64::from(c.seed),
            outliers: c.outliers,
        };
        match c.data {
            DataChoice::L5Fc1X => Source::Real(L5_FC1_X),
            DataChoice::L1Fc1X => Source::Real(L1_FC1_X),
            DataChoice::L0Fc2X => Source::Real(L0_FC2_X),
            DataChoice::L5Fc1W => Source::Real(L5_FC1_W),
            DataChoice::Gauss => synthetic(Synthetic::Gaussian),
            DataChoice::Laplace => synthetic(Synthetic::Laplace),
            DataChoice::Relu => synthetic(Synthetic::Relu),
            DataChoice::Llm => synthetic(Synthetic::LlmLike),
            DataChoice::Seminar => synthetic(Synthetic::Seminar),
            DataChoice::Upload => Source::Upload,
        }
    }

    /// A key for caching loaded/generated tensors.
    pub fn cache_key(&self) -> String {
        match self {
            Source::Real(r) => r.choice.to_string(),
            Source::Synthetic {
                kind,
                seed,
                outliers,
            } => format!("{kind:?}/{seed}/{outliers}"),
            Source::Upload => DataChoice::Upload.to_string(),
        }
    }
}

/// Generates a synthetic tensor. With `outliers`, 0.1 % of the values (at least 8, chosen by
/// the seed) are replaced by values 12–20× the data's standard deviation, both signs, which is
/// what makes min-max calibration fail.
pub fn synthesize(kind: Synthetic, seed: u64, outliers: bool) -> Result<Tensor, String> {
    let dist = |d: Distribution| synth::generate(&d, SYNTH_N, seed).map_err(|e| e.to_string());
    let (name, shape, mut data) = match kind {
        Synthetic::Gaussian => (
            "Gaussian N(0, 1)",
            vec![SYNTH_N],
            dist(Distribution::Gaussian {
                mean: 0.0,
                std: 1.0,
            })?,
        ),
        Synthetic::Laplace => (
            "Laplace(0, 1)",
            vec![SYNTH_N],
            dist(Distribution::Laplace {
                loc: 0.0,
                scale: 1.0,
            })?,
        ),
        Synthetic::Relu => (
            "ReLU(N(0.3, 1))",
            vec![SYNTH_N],
            dist(Distribution::Relu {
                mean: 0.3,
                std: 1.0,
            })?,
        ),
        Synthetic::LlmLike => {
            let (shape, data, _) =
                synth::llm_like(&LlmLike::default(), seed).map_err(|e| e.to_string())?;
            ("LLM-like 128 × 512", shape, data)
        }
        Synthetic::Seminar => (
            "seminar-like [−1.577, 192.344]",
            vec![SYNTH_N],
            seminar_like(seed)?,
        ),
    };
    if outliers {
        add_outliers(&mut data, seed);
    }
    Ok(Tensor {
        name: format!("{name} (synthetic, seed {seed})"),
        shape,
        dtype: "synthetic".into(),
        data,
    })
}

fn seminar_like(seed: u64) -> Result<Vec<f32>, String> {
    // Mostly small positive activations with a long right tail, like the slide's histogram;
    // the two extremes are pinned so min-max gives exactly the slide's α and β.
    let g = synth::generate(
        &Distribution::Laplace {
            loc: 0.0,
            scale: 1.0,
        },
        SYNTH_N,
        seed,
    )
    .map_err(|e| e.to_string())?;
    let mut v: Vec<f32> = g
        .iter()
        .map(|&u| (u.abs() * u.abs() * 6.0 + u * 0.9).clamp(-1.5, 190.0))
        .collect();
    if let Some(first) = v.first_mut() {
        *first = -1.577;
    }
    if let Some(last) = v.last_mut() {
        *last = 192.344;
    }
    Ok(v)
}

fn add_outliers(data: &mut [f32], seed: u64) {
    let n = data.len();
    if n == 0 {
        return;
    }
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in data.iter() {
        s1 += f64::from(v);
        s2 += f64::from(v) * f64::from(v);
    }
    let mean = s1 / n as f64;
    let std = (s2 / n as f64 - mean * mean).max(0.0).sqrt().max(1e-3);
    let mut rng = synth::Pcg32::new(seed ^ 0x0005_eed0_u64);
    let count = (n / 1000).max(8).min(n);
    for _ in 0..count {
        let i = (rng.next_u32() as usize) % n;
        let mag = 12.0 + 8.0 * rng.next_f64();
        let sign = if rng.next_u32() & 1 == 0 { 1.0 } else { -1.0 };
        if let Some(v) = data.get_mut(i) {
            *v = (mean + sign * mag * std) as f32;
        }
    }
}

/// A stream of `n` batches cut from a tensor, for the dynamic-vs-static demonstration: rows
/// (tokens) of a 2-D tensor are kept together, a 1-D tensor is cut into equal chunks. Batch k is
/// scaled by 1 + drift·k/(n − 1) (the input distribution drifts over time), and batch
/// `outlier_at` carries one value 8× the data's largest |x| (a surprise no calibration saw).
pub fn stream_batches(
    data: &[f32],
    (rows, cols): (usize, usize),
    n: usize,
    drift: f64,
    outlier_at: Option<usize>,
) -> Vec<Vec<f32>> {
    let n = n.max(1);
    let absmax = data
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    let bounds: Vec<(usize, usize)> = if rows >= n && rows * cols == data.len() {
        (0..n)
            .map(|k| (k * rows / n * cols, (k + 1) * rows / n * cols))
            .collect()
    } else {
        (0..n)
            .map(|k| (k * data.len() / n, (k + 1) * data.len() / n))
            .collect()
    };
    bounds
        .into_iter()
        .enumerate()
        .map(|(k, (a, b))| {
            let gain = 1.0 + drift * k as f64 / (n.max(2) - 1) as f64;
            let mut batch: Vec<f32> = data
                .get(a..b)
                .unwrap_or(&[])
                .iter()
                .map(|v| (f64::from(*v) * gain) as f32)
                .collect();
            if Some(k) == outlier_at {
                let mid = batch.len() / 2;
                if let Some(v) = batch.get_mut(mid) {
                    *v = 8.0 * absmax.max(1e-3);
                }
            }
            batch
        })
        .collect()
}

/// Largest upload accepted: 64 MiB on disk and 4,194,304 values (16 MiB as f32). The browser
/// keeps the tensor plus a few working copies of it, so this keeps a tab well under a few
/// hundred MB even on phones, and one update over it stays interactive.
pub const UPLOAD_LIMITS: NpyLimits = NpyLimits {
    max_bytes: 64 << 20,
    max_elements: 1 << 22,
    max_header_len: 1 << 16,
};

/// Parses an uploaded (or fetched) `.npy`. Errors are the engine's student-readable messages.
pub fn tensor_from_npy(name: &str, bytes: &[u8], limits: &NpyLimits) -> Result<Tensor, String> {
    let a = read_npy(bytes, limits).map_err(|e| e.to_string())?;
    if a.data.is_empty() {
        return Err(
            "the file holds an empty array (0 values); there is nothing to quantize".into(),
        );
    }
    Ok(Tensor {
        name: name.to_string(),
        shape: a.shape.clone(),
        dtype: a.dtype.name().to_string(),
        data: a.data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_data_choice_resolves() {
        use crate::controls::Choice;
        for &choice in DataChoice::ALL {
            let c = DataControls {
                data: choice,
                seed: 3,
                outliers: false,
            };
            match Source::of(&c) {
                Source::Upload => assert_eq!(choice, DataChoice::Upload),
                Source::Real(r) => assert_eq!(r.choice, choice),
                Source::Synthetic { seed, .. } => assert_eq!(seed, 3),
            }
        }
        assert_eq!(
            REAL.iter().map(|r| r.choice).collect::<Vec<_>>(),
            DataChoice::ALL[..4]
        );
    }

    #[test]
    fn synthetic_is_deterministic_and_finite() {
        for kind in [
            Synthetic::Gaussian,
            Synthetic::Laplace,
            Synthetic::Relu,
            Synthetic::LlmLike,
            Synthetic::Seminar,
        ] {
            let a = synthesize(kind, 7, true).unwrap();
            let b = synthesize(kind, 7, true).unwrap();
            assert_eq!(a, b);
            assert!(a.data.iter().all(|v| v.is_finite()));
            assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
        }
    }

    #[test]
    fn seminar_data_spans_the_worked_example() {
        let t = synthesize(Synthetic::Seminar, 1, false).unwrap();
        assert_eq!(t.min_max(), Some((-1.577, 192.344)));
    }

    #[test]
    fn token_list_parses() {
        let text = std::fs::read_to_string(format!(
            "{}/../../{}",
            env!("CARGO_MANIFEST_DIR"),
            TOKENS_PATH
        ))
        .unwrap();
        let t = parse_tokens(&text);
        assert_eq!(t.len(), 126);
        assert_eq!(t[0], "[CLS]");
        assert_eq!(
            parse_tokens("[CLS]\r\n##s\n\n[SEP]\n"),
            vec!["[CLS]", "##s", "[SEP]"]
        );
    }

    #[test]
    fn every_layer_is_shipped_with_its_declared_size() {
        use crate::controls::Choice;
        for &c in LayerChoice::ALL
            .iter()
            .filter(|&&c| !matches!(c, LayerChoice::Own | LayerChoice::Llm))
        {
            let l = layer(c).unwrap();
            let size = |p: &str| {
                std::fs::metadata(format!("{}/../../{}", env!("CARGO_MANIFEST_DIR"), p))
                    .unwrap()
                    .len() as usize
            };
            assert_eq!(size(l.x_path) + size(l.w_path), l.bytes, "{c}");
        }
    }

    #[test]
    fn stream_keeps_every_value_once_and_drifts() {
        let data: Vec<f32> = (0..1000).map(|i| (i as f32).sin()).collect();
        let b = stream_batches(&data, (50, 20), 16, 0.5, Some(3));
        assert_eq!(b.len(), 16);
        assert_eq!(b.iter().map(|x| x.len()).sum::<usize>(), 1000);
        assert!(b.iter().all(|x| x.len() % 20 == 0), "rows stay whole");
        let amax = |x: &Vec<f32>| x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(amax(&b[3]) >= 7.9 * amax(&b[2]) / 1.2, "the outlier batch");
        assert!(amax(&b[15]) > amax(&b[0]) * 1.3, "drift grows the range");
    }

    #[test]
    fn outliers_widen_the_range() {
        let plain = synthesize(Synthetic::Gaussian, 2, false)
            .unwrap()
            .min_max()
            .unwrap();
        let spiky = synthesize(Synthetic::Gaussian, 2, true)
            .unwrap()
            .min_max()
            .unwrap();
        assert!(spiky.1 - spiky.0 > 2.0 * (plain.1 - plain.0));
    }

    #[test]
    fn shipped_files_parse_with_their_declared_sizes() {
        use crate::controls::Choice;
        for r in REAL {
            let path = format!("{}/../../{}", env!("CARGO_MANIFEST_DIR"), r.path);
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(bytes.len(), r.bytes, "{path}");
            let t = tensor_from_npy(r.choice.slug(), &bytes, &UPLOAD_LIMITS).unwrap();
            assert_eq!(t.shape.len(), 2);
        }
    }
}
