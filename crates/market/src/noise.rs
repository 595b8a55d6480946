//! Deterministic noise addressed by position: the standard normal (or uniform) number for
//! `(seed, conid, stream, index)`. The price path needs random access (the price of any minute
//! without computing the ones before it), so its randomness is a hash of where it is used,
//! not a stream. SplitMix64's finaliser mixes the key; Box–Muller turns two uniforms into a
//! normal; `libm` does the transcendental arithmetic, so every platform computes the same bits.

/// What a number is used for: each use draws from its own stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Stream {
    /// The Brownian bridge's node values.
    Bridge = 1,
    /// The shape of the path inside a minute.
    Minute = 2,
    /// Traded volume per minute.
    Volume = 3,
    /// Quote and trade sizes.
    Size = 4,
    /// Sizes deeper in the book.
    Depth = 5,
}

/// A key for one instrument's noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Noise {
    key: u64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Noise {
    /// The noise of instrument `conid` in the world seeded `seed`.
    pub(crate) fn new(seed: u64, conid: u32) -> Self {
        Self { key: mix(mix(seed.wrapping_add(GOLDEN)) ^ u64::from(conid).wrapping_mul(GOLDEN)) }
    }

    /// 64 random bits for `index` of `stream`.
    pub(crate) fn bits(self, stream: Stream, index: u64) -> u64 {
        mix(self.key ^ mix((stream as u64).wrapping_mul(GOLDEN) ^ index.wrapping_add(GOLDEN)))
    }

    /// A uniform number in the open interval (0, 1).
    pub(crate) fn uniform(self, stream: Stream, index: u64) -> f64 {
        to_unit(self.bits(stream, index))
    }

    /// A standard normal number.
    pub(crate) fn normal(self, stream: Stream, index: u64) -> f64 {
        let bits = self.bits(stream, index);
        let u1 = to_unit(bits);
        let u2 = to_unit(mix(bits ^ GOLDEN));
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(std::f64::consts::TAU * u2)
    }
}

/// The top 53 bits as a float strictly between 0 and 1.
fn to_unit(bits: u64) -> f64 {
    // 53 bits fit a double's mantissa exactly; the half offset keeps 0 and 1 out.
    ((bits >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_address_gives_the_same_number() {
        let noise = Noise::new(42, 265_598);
        assert_eq!(
            noise.normal(Stream::Bridge, 7).to_bits(),
            Noise::new(42, 265_598).normal(Stream::Bridge, 7).to_bits()
        );
        assert_ne!(noise.normal(Stream::Bridge, 7), noise.normal(Stream::Bridge, 8));
        assert_ne!(noise.normal(Stream::Bridge, 7), noise.normal(Stream::Minute, 7));
        assert_ne!(noise.normal(Stream::Bridge, 7), Noise::new(43, 265_598).normal(Stream::Bridge, 7));
        assert_ne!(noise.normal(Stream::Bridge, 7), Noise::new(42, 272_093).normal(Stream::Bridge, 7));
    }

    #[test]
    fn normals_look_standard() {
        let noise = Noise::new(1, 1);
        let draws: Vec<f64> = (0..100_000).map(|i| noise.normal(Stream::Bridge, i)).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let variance = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!(mean.abs() < 0.02, "{mean}");
        assert!((variance - 1.0).abs() < 0.02, "{variance}");
        let uniforms = (0..10_000).map(|i| noise.uniform(Stream::Size, i));
        assert!(uniforms.into_iter().all(|u| u > 0.0 && u < 1.0));
    }
}
