//! The case a page times at start-up to choose where 8-bit weights go (the relaxed build's
//! quad packing, on the unsigned or the sign kernel, or SIMD128's pairs): one int8 GEMM of
//! MiniLM's attention shape, 64×384×384, with full 8-bit codes (no −128, which only the pair
//! layout holds for weights). The app and the benchmark modules time the same case, so a
//! benchmark runs on the path the page would choose.

use crate::error::Result;
use crate::pack::{Layout, PackedI8};

const M: usize = 64;
const K: usize = 384;
const N: usize = 384;

pub struct W8Probe {
    a: Vec<i8>,
    pairs: PackedI8,
    quads: PackedI8,
    c: Vec<i32>,
}

impl W8Probe {
    pub fn new() -> Result<Self> {
        let mut s = 7u32;
        // A linear congruential generator: the same codes on every machine.
        let mut next = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (((s >> 24) % 255) as i32 - 127) as i8
        };
        let a: Vec<i8> = (0..M * K).map(|_| next()).collect();
        let b: Vec<i8> = (0..K * N).map(|_| next()).collect();
        Ok(W8Probe {
            a,
            pairs: PackedI8::pack_with(&b, K, N, Layout::Pairs)?,
            quads: PackedI8::pack_with(&b, K, N, Layout::Quads)?,
            c: vec![0; M * N],
        })
    }

    /// One GEMM with the weights packed for the relaxed dot (`quads`) or SIMD128's.
    pub fn run(&mut self, quads: bool) -> Result<()> {
        let p = if quads { &self.quads } else { &self.pairs };
        crate::gemm_i8(&self.a, M, K, p, &mut self.c)
    }
}
