//! A matrix kept as a model file stores it: `rows` rows of `cols` values in one of ggml's
//! types ([`BlockType`]: Q4_1, Q8_0, F16 …), inside the file's own bytes. The Llama model never
//! holds its weights as f32: a product is decoded when it is used (a panel for a GEMM, a row
//! at a time for the fused GEMV of generation), so the 135 M-parameter model costs the 98 MB of
//! its file rather than 540 MB of f32.

use std::sync::Arc;

use quantlab_kernels::ggml::{self, BlockType};
use quantlab_kernels::PackedF32;

use crate::error::{QuantError, Result};

/// A row-major matrix in a ggml storage type, over shared file bytes.
#[derive(Clone, Debug)]
pub struct BlockMatrix {
    ty: BlockType,
    rows: usize,
    cols: usize,
    row_bytes: usize,
    data: Arc<Vec<u8>>,
    start: usize,
}

impl BlockMatrix {
    /// The matrix whose first byte is `data[start]`. Checks that every row is whole blocks
    /// and that the extent lies inside `data`.
    pub fn new(
        ty: BlockType,
        rows: usize,
        cols: usize,
        data: Arc<Vec<u8>>,
        start: usize,
    ) -> Result<Self> {
        let row_bytes = ty.bytes_for(cols).ok_or_else(|| QuantError::BadModel {
            part: format!("a {} matrix", ty.name()),
            reason: format!(
                "rows of {cols} values are not whole blocks of {}",
                ty.block_values()
            ),
        })?;
        let end = row_bytes
            .checked_mul(rows)
            .and_then(|b| b.checked_add(start))
            .filter(|&e| e <= data.len());
        if end.is_none() {
            return Err(QuantError::BadModel {
                part: format!("a {} matrix of {rows} × {cols}", ty.name()),
                reason: "it reaches beyond the end of the file".into(),
            });
        }
        Ok(BlockMatrix {
            ty,
            rows,
            cols,
            row_bytes,
            data,
            start,
        })
    }

    pub fn ty(&self) -> BlockType {
        self.ty
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Bytes the matrix occupies in the file.
    pub fn stored_bytes(&self) -> usize {
        self.row_bytes * self.rows
    }

    fn row_raw(&self, r: usize) -> &[u8] {
        let at = self.start + r * self.row_bytes;
        self.data.get(at..at + self.row_bytes).unwrap_or_default()
    }

    /// Row `r` decoded into `out` (`cols` values).
    pub fn decode_row(&self, r: usize, out: &mut [f32]) -> Result<()> {
        if r >= self.rows {
            return Err(QuantError::InvalidParameter {
                name: "row",
                value: r.to_string(),
                allowed: "below the matrix's row count",
            });
        }
        Ok(ggml::decode_row(self.ty, self.row_raw(r), out)?)
    }

    /// Row `r` · x, decoded on the fly (`sums` = [`ggml::block_sums`] of x).
    pub fn dot_row(&self, r: usize, x: &[f32], sums: &[f32]) -> Result<f32> {
        Ok(ggml::dot_row(self.ty, self.row_raw(r), x, sums)?)
    }

    /// Rows `r0 .. r0 + count` transposed and packed for the f32 GEMM (K = cols × N = count):
    /// a slice of the output head, decoded once for all rows of activations.
    pub fn decode_packed_rows(&self, r0: usize, count: usize) -> Result<PackedF32> {
        if r0 + count > self.rows {
            return Err(QuantError::InvalidParameter {
                name: "rows",
                value: format!("{r0}..{}", r0 + count),
                allowed: "inside the matrix",
            });
        }
        PackedF32::from_columns(self.cols, count, |j, col| self.decode_row(r0 + j, col))
    }

    /// Rows `r0 .. r0 + out.len()` · x into `out`, decoded on the fly (`sums` as for
    /// [`BlockMatrix::dot_row`]).
    pub fn dot_rows(&self, r0: usize, x: &[f32], sums: &[f32], out: &mut [f32]) -> Result<()> {
        let end = r0 + out.len();
        if end > self.rows {
            return Err(QuantError::InvalidParameter {
                name: "rows",
                value: format!("{r0}..{end}"),
                allowed: "inside the matrix",
            });
        }
        let at = self.start + r0 * self.row_bytes;
        let bytes = self
            .data
            .get(at..at + out.len() * self.row_bytes)
            .unwrap_or_default();
        Ok(ggml::dot_rows(self.ty, bytes, x, sums, out)?)
    }

    /// Every value finite (block scales included): a damaged file is refused at load, not
    /// discovered as NaN in a perplexity.
    pub fn check_finite(&self, name: &str) -> Result<()> {
        let mut row = vec![0f32; self.cols];
        for r in 0..self.rows {
            self.decode_row(r, &mut row)?;
            if let Some(c) = row.iter().position(|v| !v.is_finite()) {
                return Err(QuantError::BadModel {
                    part: format!("tensor `{name}`"),
                    reason: format!("holds NaN or Inf (row {r}, value {c})"),
                });
            }
        }
        Ok(())
    }
}

/// Matrices stacked along their rows (Q|K|V, gate|up): one product of the model, read as
/// `out = x · [A; B; …]ᵀ` with every part's rows side by side in the output.
#[derive(Clone, Debug)]
pub struct Stacked {
    parts: Vec<BlockMatrix>,
    cols: usize,
    rows: usize,
}

/// Up to this many activation rows a product runs the fused decode-and-dot (generation's one
/// token at a time); beyond, it decodes into a packed panel once and runs the f32 GEMM.
pub const GEMV_ROWS: usize = 1;

impl Stacked {
    pub fn new(parts: Vec<BlockMatrix>) -> Result<Self> {
        let cols = parts.first().map_or(0, BlockMatrix::cols);
        if cols == 0 || parts.iter().any(|p| p.cols() != cols) {
            return Err(QuantError::BadModel {
                part: "a stacked product".into(),
                reason: "its parts read inputs of different widths".into(),
            });
        }
        let rows = parts.iter().map(BlockMatrix::rows).sum();
        Ok(Stacked { parts, cols, rows })
    }

    pub fn parts(&self) -> &[BlockMatrix] {
        &self.parts
    }

    /// K (the input width).
    pub fn k(&self) -> usize {
        self.cols
    }

    /// N (all parts' rows).
    pub fn n(&self) -> usize {
        self.rows
    }

    /// The part and row holding output `j`.
    fn locate(&self, mut j: usize) -> Option<(&BlockMatrix, usize)> {
        for p in &self.parts {
            if j < p.rows() {
                return Some((p, j));
            }
            j -= p.rows();
        }
        None
    }

    /// Wᵀ as the f32 GEMM takes it (K × N packed; column j = output j).
    pub fn decode_packed(&self) -> Result<PackedF32> {
        PackedF32::from_columns(self.cols, self.rows, |j, col| match self.locate(j) {
            Some((p, r)) => p.decode_row(r, col),
            None => Ok(()),
        })
    }

    /// `out` (M × N) = X (M × K) · Wᵀ.
    pub fn forward(&self, x: &[f32], m: usize, out: &mut [f32]) -> Result<()> {
        let (k, n) = (self.cols, self.rows);
        if x.len() != m * k || out.len() != m * n {
            return Err(QuantError::LengthMismatch {
                what: "a product's input (M × K) and output (M × N)",
                expected: m * k,
                got: x.len(),
            });
        }
        if m <= GEMV_ROWS {
            let mut sums = Vec::new();
            for (xr, or) in x.chunks_exact(k).zip(out.chunks_exact_mut(n)) {
                ggml::block_sums(xr, &mut sums);
                let mut j = 0;
                for p in &self.parts {
                    let dst = or.get_mut(j..j + p.rows()).unwrap_or_default();
                    p.dot_rows(0, xr, &sums, dst)?;
                    j += p.rows();
                }
            }
            return Ok(());
        }
        let w = self.decode_packed()?;
        Ok(quantlab_kernels::gemm_f32(x, m, k, &w, out)?)
    }
}
