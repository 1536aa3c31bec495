//! Site search: an index of every page as static files, and the search
//! page's site map. `themes/default/static/search.js` is the query side.
//!
//! [`fold`] is the one normalisation, [`tokens`] the one way text is cut;
//! [`index`] writes the sharded index. The query script reads the folding
//! table and the synonyms from the index, so nothing about matching is
//! written twice except the few lines that apply them.

pub mod fold;
pub mod index;
pub mod postings;
pub mod scoring;
pub mod tokens;

pub use fold::FoldTable;
pub use index::{Built, Index, PageEntry, page_entry};

/// Where the search page is.
pub const PAGE_URL: &str = "/search/";

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the Traditional → Simplified data did not load: {0}")]
    Converter(String),
    #[error("the site has too many {0} for the search index")]
    TooLarge(&'static str),
    #[error("the search index shard is damaged: {0}")]
    BadShard(&'static str),
    #[error("the search index kept no page terms to update it with")]
    NotIncremental,
    #[error("cannot encode the search index: {0}")]
    Encode(#[from] serde_json::Error),
}

/// A page as the index sees it.
#[derive(Debug, Clone)]
pub struct SearchDoc {
    pub url: String,
    pub title: String,
    /// The section it is in, shown beside a result.
    pub section: String,
    /// The page's start (anchor `""`) and each heading's part.
    pub blocks: Vec<Block>,
}

/// The text under one heading, up to the next.
#[derive(Debug, Clone, PartialEq, Default, Hash)]
pub struct Block {
    pub anchor: String,
    pub heading: String,
    pub text: String,
}

/// The synonym groups of the configuration, folded, without words that
/// fold to nothing or to another word of the group.
pub fn fold_synonyms(fold: &FoldTable, groups: &[Vec<String>]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|group| {
            let mut words: Vec<String> = Vec::new();
            for word in group {
                let folded = tokens::compact(&fold.fold(word));
                if !folded.is_empty() && !words.contains(&folded) {
                    words.push(folded);
                }
            }
            words
        })
        .filter(|words| words.len() > 1)
        .collect()
}

/// The folding table and the site's folded synonyms: what every page and
/// query goes through.
pub fn matching(
    synonyms: &[Vec<String>],
) -> Result<(&'static FoldTable, Vec<Vec<String>>), SearchError> {
    let fold = FoldTable::opencc()?;
    Ok((fold, fold_synonyms(fold, synonyms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_are_folded_and_deduplicated() {
        let fold = FoldTable::from_pairs(&[('機', "机"), ('費', "费")]);
        let groups = vec![
            vec!["升降機".into(), "电梯".into(), "升降机".into()],
            vec!["管理費".into(), "管理费".into()],
            vec!["泊車 位".into(), "停车位".into()],
        ];
        assert_eq!(
            fold_synonyms(&fold, &groups),
            [vec!["升降机", "电梯"], vec!["泊車位", "停车位"]]
        );
    }
}
