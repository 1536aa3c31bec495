//! What the query side scores with: BM25 (k1 1.2, b 0.75) of a page's
//! weighted count of a term and the page's length, each kept in the index
//! as a small code. The query script computes the score from the codes and
//! `meta.json`'s tables, so a page whose length changes changes one byte of
//! the lengths file, not the posting of every term it has in every shard.

pub const K1: f64 = 1.2;
pub const B: f64 = 0.75;
/// The highest weight code: six bits, beside the two of the fields.
pub const WEIGHT_CODE_MAX: u8 = 63;
/// Weighted counts up to this are kept exactly: nearly every posting.
const EXACT: u32 = 40;
/// Above [`EXACT`], each code weighs this much more than the one below,
/// up to about 9,700: where BM25 has long stopped telling counts apart.
const RATIO: f64 = 1.27;
/// Codes per doubling of a page's length: steps of about 9 %.
pub const LENGTH_STEPS: u32 = 8;

/// The weighted count of each weight code.
pub type Weights = [u32; WEIGHT_CODE_MAX as usize + 1];

/// The weighted count of each code (code 0 is never written).
pub fn weights() -> Weights {
    std::array::from_fn(|code| {
        let code = code as u32;
        if code <= EXACT {
            code
        } else {
            (f64::from(EXACT) * RATIO.powi((code - EXACT) as i32)).round() as u32
        }
    })
}

/// The code, 1 to [`WEIGHT_CODE_MAX`], of a weighted count: the count
/// itself up to [`EXACT`], else the code whose weight is nearest by ratio.
pub fn weight_code(weight: u32, weights: &Weights) -> u8 {
    if weight <= EXACT {
        return weight.max(1) as u8;
    }
    let above = weights
        .iter()
        .position(|&w| w >= weight)
        .unwrap_or(weights.len() - 1);
    let below = above - 1;
    let ratio = |w: u32| f64::from(weight.max(w)) / f64::from(weight.min(w).max(1));
    if ratio(weights[below]) < ratio(weights[above]) {
        below as u8
    } else {
        above as u8
    }
}

/// A page's length as a byte: 0 for none, else one more than its base-2
/// logarithm in [`LENGTH_STEPS`] steps (2^31 characters are 249; 255 at
/// most).
pub fn length_code(length: u32) -> u8 {
    if length == 0 {
        return 0;
    }
    let steps = (f64::from(length).log2() * f64::from(LENGTH_STEPS)).round();
    (steps + 1.0).min(255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_keep_small_counts_exactly_and_large_ones_by_ratio() {
        let weights = weights();
        assert_eq!(weights[0], 0);
        assert!(weights.windows(2).all(|w| w[0] < w[1]), "{weights:?}");
        assert!((9_000..11_000).contains(&weights[63]), "{}", weights[63]);
        for weight in [1, 2, 17, 40] {
            assert_eq!(u32::from(weight_code(weight, &weights)), weight);
        }
        assert_eq!(weight_code(0, &weights), 1);
        for weight in [41, 52, 99, 1_000, 9_000, u32::MAX] {
            let code = weight_code(weight, &weights);
            assert!((40..=WEIGHT_CODE_MAX).contains(&code), "{weight}");
            let kept = f64::from(weights[usize::from(code)]);
            let off = kept.max(f64::from(weight)) / kept.min(f64::from(weight));
            assert!(
                off <= RATIO.sqrt() * 1.01 || code == WEIGHT_CODE_MAX,
                "{weight}: {kept}"
            );
        }
        assert_eq!(length_code(0), 0);
        assert_eq!(length_code(1), 1);
        assert_eq!(length_code(2), 1 + LENGTH_STEPS as u8);
        assert_eq!(length_code(300), length_code(301), "one step");
        assert_eq!(length_code(1 << 31), 249);
        assert_eq!(length_code(u32::MAX), 255);
    }
}
