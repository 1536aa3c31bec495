//! A page's outline: its table of contents, and whether its headings are
//! in an order screen-reader users can follow.

use serde::Serialize;

use crate::markdown::Heading;

/// One entry of the in-page table of contents: h2 with its h3 below.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    pub title: String,
    pub children: Vec<TocEntry>,
}

pub fn table_of_contents(headings: &[Heading]) -> Vec<TocEntry> {
    let mut toc: Vec<TocEntry> = Vec::new();
    for h in headings {
        let entry = TocEntry {
            level: h.level,
            id: h.id.clone(),
            title: h.title.clone(),
            children: Vec::new(),
        };
        match (h.level, toc.last_mut()) {
            (2, _) => toc.push(entry),
            (3, Some(parent)) => parent.children.push(entry),
            _ => {}
        }
    }
    toc
}

/// A heading problem: its line, what is wrong, what to do.
pub struct OutlineProblem {
    pub line: usize,
    pub message: String,
    pub help: &'static str,
}

/// The page title is the page's only h1, and a heading may go at most one
/// level deeper than the one before it.
pub fn outline_problems(headings: &[Heading]) -> Vec<OutlineProblem> {
    let mut problems = Vec::new();
    let mut previous = 1;
    for h in headings {
        if h.level == 1 {
            problems.push(OutlineProblem {
                line: h.line,
                message: format!("the heading `# {}` is a second page title", h.title),
                help: "the front matter `title` is the page's only level-1 heading; start headings in the text at `##`",
            });
        } else if h.level > previous + 1 {
            problems.push(OutlineProblem {
                line: h.line,
                message: format!(
                    "the heading `{} {}` skips a level after a level-{previous} heading",
                    "#".repeat(h.level as usize),
                    h.title
                ),
                help: "use one more `#` than the heading above it, so screen readers can follow the outline",
            });
        }
        previous = h.level;
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(level: u8, id: &str, line: usize) -> Heading {
        Heading {
            level,
            id: id.into(),
            title: id.into(),
            line,
        }
    }

    #[test]
    fn toc_nests_h3_under_h2() {
        let toc = table_of_contents(&[h(2, "a", 1), h(3, "b", 2), h(4, "c", 3), h(2, "d", 4)]);
        assert_eq!(toc.len(), 2);
        assert_eq!(toc[0].children[0].id, "b");
        assert!(toc[0].children[0].children.is_empty());
    }

    #[test]
    fn heading_order_is_checked() {
        let lines: Vec<usize> =
            outline_problems(&[h(2, "a", 1), h(4, "b", 2), h(1, "c", 3), h(3, "d", 4)])
                .iter()
                .map(|p| p.line)
                .collect();
        assert_eq!(lines, vec![2, 3, 4]);
    }
}
