//! Scaled dot-product attention, once for the family: MiniLM's bidirectional multi-head
//! attention and Llama's causal grouped-query attention over a KV cache are the same loop.
//!
//! For each query head h: scores = Q_h·K_gᵀ (an f32 GEMM), softmax(scores/√d) per row with the
//! row maximum subtracted first, then P·V_g (a second GEMM); g = h / (heads / kv_heads) is the
//! key/value head that h shares (grouped-query attention; g = h for multi-head). With a causal
//! offset p, query row t sits at position p + t and sees keys 0..=p + t only; the keys beyond
//! get probability 0 (they take no part in the maximum or the sum).
//!
//! Query rows go in blocks of [`QUERY_BLOCK`], so a 2,048-token text needs a 2 MB score block
//! per head rather than 16 MB; a row's result does not depend on the block it is in.

use quantlab_kernels::{gemm_f32, PackedF32};

use crate::error::{QuantError, Result};

/// Query rows per score block.
pub const QUERY_BLOCK: usize = 256;

/// Per-head vectors inside a row-major matrix: row r of head h is
/// `data[r·stride + offset + h·dim ..][..dim]`.
#[derive(Clone, Copy, Debug)]
pub struct HeadRows<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub stride: usize,
    pub offset: usize,
    pub heads: usize,
    pub dim: usize,
}

impl HeadRows<'_> {
    fn head(&self, r: usize, h: usize) -> &[f32] {
        let at = r * self.stride + self.offset + h * self.dim;
        self.data.get(at..at + self.dim).unwrap_or_default()
    }

    fn check(&self, what: &'static str) -> Result<()> {
        let need = if self.rows == 0 {
            0
        } else {
            (self.rows - 1) * self.stride + self.offset + self.heads * self.dim
        };
        if self.data.len() < need || self.offset + self.heads * self.dim > self.stride {
            return Err(QuantError::LengthMismatch {
                what,
                expected: need,
                got: self.data.len(),
            });
        }
        Ok(())
    }
}

/// softmax(Q·Kᵀ/√d [+ causal mask])·V for every query head, into `out` (T × heads·dim).
pub fn attention(
    q: HeadRows<'_>,
    k: HeadRows<'_>,
    v: HeadRows<'_>,
    causal: Option<usize>,
    out: &mut [f32],
) -> Result<()> {
    q.check("queries")?;
    k.check("keys")?;
    v.check("values")?;
    let (t, s, d) = (q.rows, k.rows, q.dim);
    if k.dim != d || v.dim != d || v.rows != s || k.heads != v.heads {
        return Err(QuantError::ShapeMismatch {
            expected: format!("keys and values of {s} rows × {} heads of {d}", k.heads),
            got: format!(
                "{} × {} of {}, {} × {} of {}",
                k.rows, k.heads, k.dim, v.rows, v.heads, v.dim
            ),
        });
    }
    if k.heads == 0 || !q.heads.is_multiple_of(k.heads) {
        return Err(QuantError::InvalidParameter {
            name: "key/value heads",
            value: k.heads.to_string(),
            allowed: "a divisor of the query heads",
        });
    }
    if out.len() != t * q.heads * d {
        return Err(QuantError::LengthMismatch {
            what: "attention output (T × heads·dim)",
            expected: t * q.heads * d,
            got: out.len(),
        });
    }
    if let Some(p) = causal {
        if p + t > s {
            return Err(QuantError::ShapeMismatch {
                expected: format!("at least {} keys for {t} queries at position {p}", p + t),
                got: s.to_string(),
            });
        }
    }
    if t == 0 || s == 0 {
        return Ok(());
    }
    let scale = 1.0 / (d as f32).sqrt();
    let group = q.heads / k.heads;
    let width = q.heads * d;
    let mut kt = vec![0f32; d * s];
    let mut vg = vec![0f32; s * d];
    let block = QUERY_BLOCK.min(t);
    let mut qb = vec![0f32; block * d];
    let mut scores = vec![0f32; block * s];
    let mut ob = vec![0f32; block * d];
    for g in 0..k.heads {
        for r in 0..s {
            for (dd, &kv) in k.head(r, g).iter().enumerate() {
                if let Some(dst) = kt.get_mut(dd * s + r) {
                    *dst = kv;
                }
            }
            if let Some(dst) = vg.get_mut(r * d..(r + 1) * d) {
                dst.copy_from_slice(v.head(r, g));
            }
        }
        let kp = PackedF32::pack(&kt, d, s)?;
        let vp = PackedF32::pack(&vg, s, d)?;
        for h in g * group..(g + 1) * group {
            for r0 in (0..t).step_by(block) {
                let rows = block.min(t - r0);
                let (qb, scores, ob) = (
                    qb.get_mut(..rows * d).unwrap_or_default(),
                    scores.get_mut(..rows * s).unwrap_or_default(),
                    ob.get_mut(..rows * d).unwrap_or_default(),
                );
                for (i, dst) in qb.chunks_exact_mut(d).enumerate() {
                    dst.copy_from_slice(q.head(r0 + i, h));
                }
                gemm_f32(qb, rows, d, &kp, scores)?;
                for (i, row) in scores.chunks_exact_mut(s).enumerate() {
                    let seen = causal.map_or(s, |p| p + r0 + i + 1);
                    softmax_scaled(row, seen, scale);
                }
                gemm_f32(scores, rows, s, &vp, ob)?;
                for (i, src) in ob.chunks_exact(d).enumerate() {
                    let at = (r0 + i) * width + h * d;
                    if let Some(dst) = out.get_mut(at..at + d) {
                        dst.copy_from_slice(src);
                    }
                }
            }
        }
    }
    Ok(())
}

/// softmax(row·scale) over the first `seen` entries, 0 for the rest.
fn softmax_scaled(row: &mut [f32], seen: usize, scale: f32) {
    let (live, masked) = row.split_at_mut(seen.min(row.len()));
    // A comparison, not f32::max: wasm's f32.max has other NaN rules, so `max` becomes a call
    // to fmaxf per score. The scores are finite (Q and K are).
    let mut max = f32::NEG_INFINITY;
    for &s in live.iter() {
        if s > max {
            max = s;
        }
    }
    let max = max * scale;
    live.iter_mut()
        .for_each(|s| *s = super::bert::exp_nonpositive(*s * scale - max));
    let inv = 1.0 / live.iter().sum::<f32>();
    live.iter_mut().for_each(|s| *s *= inv);
    masked.fill(0.0);
}
