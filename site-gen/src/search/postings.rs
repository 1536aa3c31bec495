//! A term's postings as the build holds them: in document order, with the
//! page's weighted count of the term (a shard has its code). Encoded as
//! they are added (`varint gap, varint weight × 4 + fields`), so most
//! postings take two or three bytes.

/// One posting: document number, weighted count (title ×4, headings ×2,
/// body ×1) and the field bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw {
    pub doc: u32,
    pub weight: u32,
    pub fields: u8,
}

#[derive(Debug, Default, Clone)]
pub struct Postings {
    last: u32,
    count: u32,
    bytes: Vec<u8>,
}

pub fn varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The varint at `at`, or `None` at the end of `bytes` or on a damaged one.
pub fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let (mut value, mut shift) = (0u32, 0);
    loop {
        let b = *bytes.get(*at)?;
        *at += 1;
        if shift > 28 {
            return None;
        }
        value |= u32::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(value);
        }
        shift += 7;
    }
}

impl Postings {
    /// Adds a posting; `doc` must be above every document already in.
    pub fn push(&mut self, posting: Raw) {
        let gap = if self.count == 0 {
            posting.doc
        } else {
            posting.doc - self.last
        };
        if self.bytes.capacity() - self.bytes.len() < 10 {
            // By a quarter, not by doubling: these lists are most of the
            // index's memory, a doubled list is a quarter empty on average,
            // and lists of pages alike grow in step, so at the end of a
            // build many have just grown (by half, a third of the bytes
            // held were spare at 10,000 pages).
            self.bytes.reserve_exact(self.bytes.len() / 4 + 10);
        }
        varint(&mut self.bytes, gap);
        let weight = posting.weight.min(u32::MAX >> 2);
        varint(&mut self.bytes, weight << 2 | u32::from(posting.fields & 3));
        self.last = posting.doc;
        self.count += 1;
    }

    /// The bytes it takes as held: gaps and weights, varint-encoded.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = Raw> + '_ {
        let mut at = 0;
        let mut doc = 0u32;
        let mut first = true;
        std::iter::from_fn(move || {
            let gap = read_varint(&self.bytes, &mut at)?;
            let packed = read_varint(&self.bytes, &mut at)?;
            let (weight, fields) = (packed >> 2, (packed & 3) as u8);
            doc = if first { gap } else { doc + gap };
            first = false;
            Some(Raw {
                doc,
                weight,
                fields,
            })
        })
    }

    /// The same list with `doc`'s posting replaced by `new`, or removed.
    pub fn replacing(&self, doc: u32, new: Option<Raw>) -> Postings {
        let mut out = Postings::default();
        let mut pending = new.filter(|n| n.doc == doc);
        for posting in self.iter().filter(|p| p.doc != doc) {
            if let Some(n) = pending.filter(|n| n.doc < posting.doc) {
                out.push(n);
                pending = None;
            }
            out.push(posting);
        }
        if let Some(n) = pending {
            out.push(n);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(doc: u32, weight: u32) -> Raw {
        Raw {
            doc,
            weight,
            fields: 0,
        }
    }

    #[test]
    fn postings_read_back_and_one_document_is_replaced_in_place() {
        let mut list = Postings::default();
        for p in [raw(0, 1), raw(5, 300), raw(200, 2)] {
            list.push(p);
        }
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            [raw(0, 1), raw(5, 300), raw(200, 2)]
        );
        let docs = |l: &Postings| l.iter().map(|p| (p.doc, p.weight)).collect::<Vec<_>>();
        assert_eq!(
            docs(&list.replacing(5, Some(raw(5, 7)))),
            [(0, 1), (5, 7), (200, 2)]
        );
        assert_eq!(docs(&list.replacing(5, None)), [(0, 1), (200, 2)]);
        assert_eq!(
            docs(&list.replacing(9, Some(raw(9, 4)))),
            [(0, 1), (5, 300), (9, 4), (200, 2)]
        );
        assert_eq!(
            docs(&list.replacing(300, Some(raw(300, 4)))).last(),
            Some(&(300, 4))
        );
        assert!(
            list.replacing(0, None)
                .replacing(5, None)
                .replacing(200, None)
                .is_empty()
        );
    }
}
