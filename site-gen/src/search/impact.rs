//! A posting's impact: its BM25 weight (k1 1.2, b 0.75) quantised to six
//! bits, from the page's weighted count of the term and the page's length
//! in steps. What the query script adds up; the only place it is computed.

const K1: f64 = 1.2;
const B: f64 = 0.75;
/// The highest impact: six bits, beside the two of the fields.
pub const IMPACT_MAX: u8 = 63;
/// Steps per doubling of a page's length.
const LENGTH_STEPS: f64 = 8.0;
/// Weighted counts below this are looked up rather than computed: nearly
/// every posting, and an edit that moves a page's length into the next
/// step weighs millions of them again.
const TABLED: usize = 64;

/// A page's length as the weights count it: in steps of about 9 %, so
/// that a small edit seldom changes the weight of the page's other terms
/// (which would rewrite every shard they are in).
pub fn stepped(length: u32) -> f64 {
    if length == 0 {
        return 0.0;
    }
    ((f64::from(length).log2() * LENGTH_STEPS).round() / LENGTH_STEPS).exp2()
}

/// The impacts of every page's postings, for one average length.
pub struct Impacts {
    /// Per page, which of `norms` its length gives.
    page_norm: Vec<u16>,
    norms: Vec<f64>,
    /// Per norm, the impact of each weighted count below [`TABLED`].
    tables: Vec<[u8; TABLED]>,
}

impl Impacts {
    /// `lengths` by page number; `avg_len` as the layout rounds it.
    pub fn new(lengths: &[u32], avg_len: f64) -> Impacts {
        // Lengths in steps take a few hundred values at most (eight per
        // doubling of a u32), so pages share a handful of norms.
        let mut by_step: std::collections::HashMap<u64, u16> = Default::default();
        let mut norms = Vec::new();
        let page_norm = lengths
            .iter()
            .map(|&length| {
                let step = stepped(length);
                *by_step.entry(step.to_bits()).or_insert_with(|| {
                    norms.push(K1 * (1.0 - B + B * step / avg_len.max(1.0)));
                    (norms.len() - 1) as u16
                })
            })
            .collect();
        let tables = norms
            .iter()
            .map(|&norm| std::array::from_fn(|weight| level(weight as f64, norm)))
            .collect();
        Impacts {
            page_norm,
            norms,
            tables,
        }
    }

    /// The impact, 1 to [`IMPACT_MAX`], of a posting of `weight` on page `doc`.
    #[inline]
    pub fn of(&self, doc: u32, weight: u32) -> u8 {
        let Some(&n) = self.page_norm.get(doc as usize) else {
            return level(f64::from(weight), K1);
        };
        match self.tables[usize::from(n)].get(weight as usize) {
            Some(&impact) => impact,
            None => level(f64::from(weight), self.norms[usize::from(n)]),
        }
    }
}

fn level(weighted: f64, norm: f64) -> u8 {
    let impact = weighted * (K1 + 1.0) / (weighted + norm) / (K1 + 1.0);
    (impact * f64::from(IMPACT_MAX))
        .ceil()
        .clamp(1.0, f64::from(IMPACT_MAX)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looked_up_impacts_are_the_computed_ones() {
        let lengths = [0, 1, 7, 300, 301, 2_000, 40_000, u32::MAX];
        let impacts = Impacts::new(&lengths, 1_234.0);
        for (doc, &length) in lengths.iter().enumerate() {
            let norm = K1 * (1.0 - B + B * stepped(length) / 1_234.0);
            for weight in [0, 1, 2, 5, 63, 64, 65, 1_000, u32::MAX >> 2] {
                assert_eq!(
                    impacts.of(doc as u32, weight),
                    level(f64::from(weight), norm),
                    "length {length}, weight {weight}"
                );
            }
        }
        assert_eq!(impacts.norms.len(), 7, "300 and 301 share a step");
        assert!((1..=IMPACT_MAX).contains(&impacts.of(99, 3)));
    }
}
