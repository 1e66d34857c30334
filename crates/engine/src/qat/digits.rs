//! The UCI handwritten digits (8×8 images, 10 classes) and the fixed train/test split.
//!
//! Data: 1797 images of 64 pixels with values 0..=16 (counts of on-pixels in 4×4 blocks of a
//! 32×32 bitmap) and a label 0..=9. E. Alpaydin and C. Kaynak, "Optical Recognition of
//! Handwritten Digits", UCI Machine Learning Repository, CC BY 4.0 (the copy scikit-learn
//! ships). The app ships it as `assets/data/digits/digits.bin`:
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic `QLDIGIT1` |
//! | 8..12 | n, u32 little-endian (1797) |
//! | 12..16 | d, u32 little-endian (64) |
//! | 16..16+n·d | pixels, u8, row-major (image after image), each 0..=16 |
//! | then n | labels, u8, 0..=9 |
//!
//! (116,821 bytes; the gzipped CSV it was made from ships next to it.)
//!
//! **The split** ([`Digits::split`]) is stratified and deterministic, with no random numbers:
//! within each class, the images are taken in file order and every fifth one (0-based position
//! k in its class with k mod 5 = 4) goes to the test split, the rest to training. Both splits
//! keep file order. For the shipped file this gives 1442 training and 355 test images
//! (test per class: 35 36 35 36 36 36 36 35 34 36). In NumPy:
//! `test = np.zeros(n, bool); for c in range(10): i = np.flatnonzero(y == c); test[i[4::5]] = True`.
//!
//! Pixels are scaled to [0, 1] by dividing by 16 (exact in f32).

use crate::error::{QuantError, Result};

/// Magic bytes at the start of `digits.bin`.
pub const MAGIC: &[u8; 8] = b"QLDIGIT1";
/// Pixels per image.
pub const PIXELS: usize = 64;
/// Number of classes.
pub const CLASSES: usize = 10;
/// Largest pixel value in the raw data.
pub const MAX_PIXEL: u8 = 16;
/// Every `TEST_EVERY`-th image of each class goes to the test split.
pub const TEST_EVERY: usize = 5;
/// Most images a file may declare (protects the browser from a hostile header).
pub const MAX_IMAGES: usize = 100_000;

/// The raw data set: pixels 0..=16 and labels 0..=9.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digits {
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

fn bad(reason: String) -> QuantError {
    QuantError::BadDataFile {
        what: "digits file",
        reason,
    }
}

impl Digits {
    /// From pixels (n × 64, each ≤ 16) and labels (n, each ≤ 9).
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>) -> Result<Self> {
        if labels.is_empty() {
            return Err(QuantError::Empty {
                what: "digits data set",
            });
        }
        let expected = labels.len().saturating_mul(PIXELS);
        if pixels.len() != expected {
            return Err(QuantError::LengthMismatch {
                what: "digits pixels (64 per image)",
                expected,
                got: pixels.len(),
            });
        }
        if let Some(i) = pixels.iter().position(|&p| p > MAX_PIXEL) {
            return Err(bad(format!(
                "pixel {} of image {} is {}, above 16",
                i % PIXELS,
                i / PIXELS,
                pixels.get(i).copied().unwrap_or(0)
            )));
        }
        if let Some(i) = labels.iter().position(|&l| usize::from(l) >= CLASSES) {
            return Err(bad(format!(
                "the label of image {i} is {}, not a digit 0..9",
                labels.get(i).copied().unwrap_or(0)
            )));
        }
        Ok(Digits { pixels, labels })
    }

    /// Parses `digits.bin` (see the module docs).
    pub fn from_bin(bytes: &[u8]) -> Result<Self> {
        let header = bytes.get(..16).ok_or_else(|| {
            bad(format!(
                "{} bytes is shorter than the 16-byte header",
                bytes.len()
            ))
        })?;
        if header.get(..8) != Some(&MAGIC[..]) {
            return Err(bad("it does not start with the magic bytes QLDIGIT1".into()));
        }
        let u32_at = |o: usize| -> usize {
            let mut b = [0u8; 4];
            for (d, s) in b.iter_mut().zip(header.iter().skip(o)) {
                *d = *s;
            }
            u32::from_le_bytes(b) as usize
        };
        let (n, d) = (u32_at(8), u32_at(12));
        if d != PIXELS {
            return Err(bad(format!("{d} pixels per image, expected 64")));
        }
        if n == 0 || n > MAX_IMAGES {
            return Err(bad(format!(
                "it declares {n} images (allowed 1..={MAX_IMAGES})"
            )));
        }
        let body = bytes.get(16..).unwrap_or(&[]);
        let need = n * (PIXELS + 1);
        if body.len() != need {
            return Err(bad(format!(
                "{n} images need {need} bytes after the header, found {}",
                body.len()
            )));
        }
        let (px, lb) = body
            .split_at_checked(n * PIXELS)
            .ok_or_else(|| bad("the pixel block is cut short".into()))?;
        Digits::new(px.to_vec(), lb.to_vec())
    }

    /// Parses the CSV of `digits.csv.gz` after decompression: one image per line, 64 pixels then
    /// the label, comma-separated integers, no header. Blank lines are ignored.
    pub fn from_csv(text: &str) -> Result<Self> {
        let mut pixels = Vec::new();
        let mut labels = Vec::new();
        for (line_no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if labels.len() >= MAX_IMAGES {
                return Err(bad(format!("more than {MAX_IMAGES} images")));
            }
            let mut count = 0usize;
            for (k, field) in line.split(',').enumerate() {
                let v: u8 = field.trim().parse().map_err(|_| {
                    bad(format!(
                        "line {}: field {} ({field:?}) is not an integer 0..=255",
                        line_no + 1,
                        k + 1
                    ))
                })?;
                if k < PIXELS {
                    pixels.push(v);
                } else if k == PIXELS {
                    labels.push(v);
                }
                count += 1;
            }
            if count != PIXELS + 1 {
                return Err(bad(format!(
                    "line {} has {count} fields, expected 65 (64 pixels and the label)",
                    line_no + 1
                )));
            }
        }
        Digits::new(pixels, labels)
    }

    /// The `digits.bin` bytes of this data set.
    pub fn to_bin(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.pixels.len() + self.labels.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.labels.len() as u32).to_le_bytes());
        out.extend_from_slice(&(PIXELS as u32).to_le_bytes());
        out.extend_from_slice(&self.pixels);
        out.extend_from_slice(&self.labels);
        out
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Always false (construction rejects an empty set).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The 64 raw pixels (0..=16, row-major 8×8) of image `i`.
    pub fn image(&self, i: usize) -> Option<&[u8]> {
        row(&self.pixels, i, PIXELS)
    }

    /// The label of image `i`.
    pub fn label(&self, i: usize) -> Option<u8> {
        self.labels.get(i).copied()
    }

    /// All labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Images per class.
    pub fn class_counts(&self) -> [usize; CLASSES] {
        let mut c = [0usize; CLASSES];
        for &l in &self.labels {
            if let Some(v) = c.get_mut(usize::from(l)) {
                *v += 1;
            }
        }
        c
    }

    /// Whether image `i` is in the test split (the fixed stratified rule of the module docs).
    pub fn test_mask(&self) -> Vec<bool> {
        let mut seen = [0usize; CLASSES];
        self.labels
            .iter()
            .map(|&l| match seen.get_mut(usize::from(l)) {
                Some(k) => {
                    let is_test = *k % TEST_EVERY == TEST_EVERY - 1;
                    *k += 1;
                    is_test
                }
                None => false,
            })
            .collect()
    }

    /// The fixed stratified ~80/20 split with pixels scaled to [0, 1].
    pub fn split(&self) -> Result<Split> {
        let mask = self.test_mask();
        let mut parts = [Vec::new(), Vec::new()]; // train, test: (index)
        for (i, &t) in mask.iter().enumerate() {
            if let Some(p) = parts.get_mut(usize::from(t)) {
                p.push(i);
            }
        }
        let [train_idx, test_idx] = parts;
        Ok(Split {
            train: self.subset(&train_idx)?,
            test: self.subset(&test_idx)?,
        })
    }

    fn subset(&self, idx: &[usize]) -> Result<Dataset> {
        let mut x = Vec::with_capacity(idx.len() * PIXELS);
        let mut y = Vec::with_capacity(idx.len());
        for &i in idx {
            if let (Some(img), Some(l)) = (self.image(i), self.label(i)) {
                x.extend(img.iter().map(|&p| f32::from(p) / 16.0));
                y.push(l);
            }
        }
        let mut d = Dataset::new(x, y, PIXELS, CLASSES)?;
        d.source_rows = idx.iter().map(|&i| i as u32).collect();
        Ok(d)
    }
}

/// Row `i` of a row-major buffer with `width` columns (None if out of range, never a panic).
pub(crate) fn row<T>(data: &[T], i: usize, width: usize) -> Option<&[T]> {
    let start = i.checked_mul(width)?;
    data.get(start..start.checked_add(width)?)
}

/// Samples ready for training: row-major features (n × features) and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    x: Vec<f32>,
    y: Vec<u8>,
    features: usize,
    classes: usize,
    source_rows: Vec<u32>,
}

impl Dataset {
    /// Validates sizes, finite features and labels < classes.
    pub fn new(x: Vec<f32>, y: Vec<u8>, features: usize, classes: usize) -> Result<Self> {
        if y.is_empty() || features == 0 {
            return Err(QuantError::Empty { what: "data set" });
        }
        if !(2..=256).contains(&classes) {
            return Err(QuantError::InvalidParameter {
                name: "classes",
                value: classes.to_string(),
                allowed: "a classifier needs 2 to 256 classes",
            });
        }
        let expected = y.len().saturating_mul(features);
        if x.len() != expected {
            return Err(QuantError::LengthMismatch {
                what: "data set features",
                expected,
                got: x.len(),
            });
        }
        crate::quantize::check_finite(&x)?;
        if let Some(i) = y.iter().position(|&l| usize::from(l) >= classes) {
            return Err(QuantError::InvalidParameter {
                name: "label",
                value: format!("{} (sample {i})", y.get(i).copied().unwrap_or(0)),
                allowed: "labels must be below the number of classes",
            });
        }
        let source_rows = (0..y.len() as u32).collect();
        Ok(Dataset {
            x,
            y,
            features,
            classes,
            source_rows,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Always false (construction rejects an empty set).
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    pub fn features(&self) -> usize {
        self.features
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// All features, row-major n × features.
    pub fn x(&self) -> &[f32] {
        &self.x
    }

    /// All labels.
    pub fn y(&self) -> &[u8] {
        &self.y
    }

    /// Sample `i`'s features.
    pub fn sample(&self, i: usize) -> Option<&[f32]> {
        row(&self.x, i, self.features)
    }

    /// The rows of the original file these samples came from (0..n for a hand-made set).
    pub fn source_rows(&self) -> &[u32] {
        &self.source_rows
    }

    /// The first `n` samples (all if n ≥ len) as a row-major slice and labels.
    pub fn head(&self, n: usize) -> (&[f32], &[u8]) {
        let n = n.min(self.len());
        (
            self.x.get(..n * self.features).unwrap_or(&[]),
            self.y.get(..n).unwrap_or(&[]),
        )
    }
}

/// The fixed train/test split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

impl Split {
    /// A split from two hand-made sets (same features and classes).
    pub fn new(train: Dataset, test: Dataset) -> Result<Self> {
        if train.features != test.features || train.classes != test.classes {
            return Err(QuantError::ShapeMismatch {
                expected: format!("{} features, {} classes", train.features, train.classes),
                got: format!("{} features, {} classes", test.features, test.classes),
            });
        }
        Ok(Split { train, test })
    }

    /// Parses `digits.bin` and applies the fixed split.
    pub fn digits_from_bin(bytes: &[u8]) -> Result<Self> {
        Digits::from_bin(bytes)?.split()
    }
}
