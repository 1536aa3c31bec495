//! Lists that stay small however big a section grows: the window of a
//! page's section list, the numbered pages of a section's list
//! (`/notices/`, `/notices/page/2/`, …) and the notices archive by year
//! (`/notices/2026/`).

use std::ops::Range;
use std::path::PathBuf;

use chrono::Datelike;
use serde::Serialize;

use crate::content::Content;

/// Which of `len` entries are shown around entry `at`: at most `size` in a
/// row, plus the first and the last entry when they fall outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub shown: Range<usize>,
    pub len: usize,
}

impl Window {
    pub fn around(len: usize, at: usize, size: usize) -> Window {
        let size = size.max(1);
        if len <= size {
            return Window { shown: 0..len, len };
        }
        // The current entry in the middle, or as near it as the ends allow.
        let start = at.saturating_sub((size - 1) / 2).min(len - size);
        Window {
            shown: start..start + size,
            len,
        }
    }

    /// The shown entries, each made by `entry` from its position.
    pub fn pick<T>(&self, entry: impl Fn(usize) -> T) -> Windowed<T> {
        let (start, end) = (self.shown.start, self.shown.end);
        Windowed {
            first: (start > 0).then(|| entry(0)),
            gap_before: start > 1,
            items: self.shown.clone().map(&entry).collect(),
            gap_after: end + 1 < self.len,
            last: (end < self.len).then(|| entry(self.len - 1)),
            total: self.len,
        }
    }
}

/// A window as templates see it: `first`, a gap, `items`, a gap, `last`.
#[derive(Debug, Clone, Serialize, Hash)]
pub struct Windowed<T> {
    /// The list's first entry, when it is not among `items`.
    pub first: Option<T>,
    /// Entries are left out between `first` and `items`.
    pub gap_before: bool,
    pub items: Vec<T>,
    /// Entries are left out between `items` and `last`.
    pub gap_after: bool,
    /// The list's last entry, when it is not among `items`.
    pub last: Option<T>,
    /// How many entries the whole list has.
    pub total: usize,
}

/// One page of a section's list, or of one year of the notices archive.
#[derive(Debug, Clone, Hash)]
pub struct ListPage {
    /// Index into [`Content::sections`].
    pub section: usize,
    /// `Some(2026)` on the archive pages of one year's notices.
    pub year: Option<i32>,
    /// 1-based; `count` is how many pages this list has.
    pub number: usize,
    pub count: usize,
    /// Positions in the section's `pages` that this page lists.
    pub items: Range<usize>,
    /// The address without the base path and the output file of page 1 of
    /// this list; page `n` is at `page/n/` below it.
    pub root_url: String,
    root_dir: PathBuf,
}

impl ListPage {
    /// The address of page `number` of this list, without the base path.
    pub fn url_of(&self, number: usize) -> String {
        if number <= 1 {
            self.root_url.clone()
        } else {
            format!("{}page/{number}/", self.root_url)
        }
    }

    pub fn url(&self) -> String {
        self.url_of(self.number)
    }

    /// The file to write, relative to the output folder.
    pub fn file(&self) -> PathBuf {
        let dir = if self.number <= 1 {
            self.root_dir.clone()
        } else {
            self.root_dir.join("page").join(self.number.to_string())
        };
        dir.join("index.html")
    }

    /// Page 1 of a section's own list is the section's page, which its
    /// `_index.md` already claims; every other list page is an extra file.
    pub fn is_section_page(&self) -> bool {
        self.year.is_none() && self.number == 1
    }
}

/// The notices of each year, newest year first, as ranges of positions in
/// the section's `pages` (notices are sorted newest first, so each year is
/// one run). Notices without a date are in no year.
pub fn years(content: &Content, section: usize) -> Vec<(i32, Range<usize>)> {
    let pages = &content.sections[section].pages;
    let mut years: Vec<(i32, Range<usize>)> = Vec::new();
    for (at, &page) in pages.iter().enumerate() {
        let Some(date) = content.pages[page].meta.date else {
            continue;
        };
        match years.last_mut() {
            Some((year, run)) if *year == date.year() && run.end == at => run.end = at + 1,
            _ => years.push((date.year(), at..at + 1)),
        }
    }
    years
}

/// The address of a year of the notices archive below the section's
/// address (both without the base path): `/notices/` → `/notices/2026/`.
pub fn year_url(section_url: &str, year: i32) -> String {
    format!("{section_url}{year}/")
}

/// Every list page of every section but the home page (which lists its
/// own selection), `page_size` entries a page; a section without pages
/// still has its page 1.
pub fn list_pages(content: &Content, page_size: usize) -> Vec<ListPage> {
    let mut lists = Vec::new();
    for (i, node) in content.sections.iter().enumerate().skip(1) {
        let root_url = node.doc.path.url();
        let root_dir = node
            .doc
            .path
            .output_file()
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        paginate(
            &mut lists,
            (i, None),
            0..node.pages.len(),
            page_size,
            (&root_url, &root_dir),
        );
        if node.is_notices() {
            for (year, run) in years(content, i) {
                let url = year_url(&root_url, year);
                let dir = root_dir.join(year.to_string());
                paginate(&mut lists, (i, Some(year)), run, page_size, (&url, &dir));
            }
        }
    }
    lists
}

fn paginate(
    lists: &mut Vec<ListPage>,
    (section, year): (usize, Option<i32>),
    items: Range<usize>,
    page_size: usize,
    (root_url, root_dir): (&str, &PathBuf),
) {
    let page_size = page_size.max(1);
    let count = items.len().div_ceil(page_size).max(1);
    for number in 1..=count {
        let start = items.start + (number - 1) * page_size;
        lists.push(ListPage {
            section,
            year,
            number,
            count,
            items: start..(start + page_size).min(items.end),
            root_url: root_url.to_owned(),
            root_dir: root_dir.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(len: usize, at: usize, size: usize) -> (Option<usize>, Vec<usize>, Option<usize>) {
        let w = Window::around(len, at, size).pick(|i| i);
        (w.first, w.items, w.last)
    }

    #[test]
    fn a_small_list_is_shown_whole() {
        assert_eq!(shown(5, 2, 10), (None, vec![0, 1, 2, 3, 4], None));
    }

    #[test]
    fn the_window_follows_the_entry_and_keeps_both_ends() {
        // At the start: the first ten, then the last.
        assert_eq!(shown(100, 0, 10), (None, (0..10).collect(), Some(99)));
        // In the middle: four before, five after, and both ends.
        assert_eq!(shown(100, 50, 10), (Some(0), (46..56).collect(), Some(99)));
        // At the end: the first, then the last ten.
        assert_eq!(shown(100, 99, 10), (Some(0), (90..100).collect(), None));
        let w = Window::around(100, 50, 10).pick(|i| i);
        assert!(w.gap_before && w.gap_after);
        // Next to an end there is no gap to mark.
        let w = Window::around(11, 10, 10).pick(|i| i);
        assert_eq!((w.first, w.gap_before), (Some(0), false));
    }
}
