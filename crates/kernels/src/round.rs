//! Round half to even, the tie rule of `torch.round`, `np.round` and IEEE 754's default, used by
//! every kernel that turns a real value into an integer code.

/// Round half to even, bit-identical to `f32::round_ties_even` for every f32 (checked
/// exhaustively over all 2^32 bit patterns, see the ignored test below).
///
/// Why not just `round_ties_even`: on wasm32 it is the single `f32.nearest` instruction and we
/// use it, but on x86-64 without SSE4.1 (the default target) it is a call into libm's `rintf`,
/// which made the native CLI and tests twice as slow. Adding and subtracting 2^23 lets the
/// FPU's own round-to-nearest-even do the work: for |v| < 2^23, |v| + 2^23 lies in
/// [2^23, 2^24) where the spacing of f32 is exactly 1, so the sum is |v| rounded to an integer
/// with ties to even, and subtracting 2^23 again is exact. |v| ≥ 2^23 is already an integer;
/// NaN fails the comparison and is returned as is. `copysign` keeps −0.0 for −0.3.
#[inline(always)]
pub fn round_half_even(v: f32) -> f32 {
    #[cfg(target_arch = "wasm32")]
    {
        v.round_ties_even()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        const TWO23: f32 = 8_388_608.0;
        let a = v.abs();
        if a < TWO23 {
            ((a + TWO23) - TWO23).copysign(v)
        } else {
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_rounding_matches_std() {
        let specials = [
            0.0f32,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            0.49999997,
            8_388_607.5,
            8_388_608.0,
            -8_388_607.5,
            4_194_303.5,
            1e-45,
            -1e-45,
            f32::MAX,
            f32::MIN,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        for v in specials {
            assert_eq!(
                round_half_even(v).to_bits(),
                v.round_ties_even().to_bits(),
                "{v:e}"
            );
        }
        assert!(round_half_even(f32::NAN).is_nan());
        // A deterministic sweep of 2^20 bit patterns spread over the whole f32 range.
        let mut b: u32 = 0x9e37_79b9;
        for _ in 0..(1 << 20) {
            b = b.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let v = f32::from_bits(b);
            if !v.is_nan() {
                assert_eq!(
                    round_half_even(v).to_bits(),
                    v.round_ties_even().to_bits(),
                    "{v:e}"
                );
            }
        }
    }

    /// All 2^32 f32 values (about 20 s in release): `cargo test --release -- --ignored exhaustive`.
    #[test]
    #[ignore]
    fn exhaustive_round_half_even() {
        for b in 0..=u32::MAX {
            let v = f32::from_bits(b);
            let (a, r) = (round_half_even(v), v.round_ties_even());
            assert!(
                a.to_bits() == r.to_bits() || (a.is_nan() && r.is_nan()),
                "{v:e}"
            );
        }
    }
}
