//! One pass over a Markdown body: HTML out, headings and links noted.

use std::collections::BTreeSet;

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

use crate::markdown::slug::HeadingIds;

#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub title: String,
    pub line: usize,
}

/// A link or image as the author wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRef {
    pub dest: String,
    pub line: usize,
}

/// What the checks need of a body, without its HTML: a build keeps this
/// for every page and renders the HTML only when it writes the page.
#[derive(Debug, Default, Clone)]
pub struct Outline {
    pub headings: Vec<Heading>,
    pub links: Vec<LinkRef>,
}

#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub headings: Vec<Heading>,
    pub links: Vec<LinkRef>,
    /// The plain text, cut at each heading: what search indexes.
    pub text: Vec<crate::search::Block>,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
}

/// Renders `body`, whose first line is line `first_line` of its file.
/// `rewrite` gives the address a link or image should point to instead of
/// what was written (`None` keeps it).
/// `reserved` are ids the page's template uses, which headings must not take.
pub fn render(
    body: &str,
    first_line: usize,
    reserved: &BTreeSet<String>,
    rewrite: &dyn Fn(&str) -> Option<String>,
) -> Rendered {
    pass(body, first_line, reserved, rewrite, true)
}

/// The headings and links of `body`, as [`render`] finds them.
pub fn outline(body: &str, first_line: usize, reserved: &BTreeSet<String>) -> Outline {
    let mut rendered = pass(body, first_line, reserved, &|_| None, false);
    // Kept for every page until the build ends: no spare capacity.
    rendered.headings.shrink_to_fit();
    rendered.links.shrink_to_fit();
    Outline {
        headings: rendered.headings,
        links: rendered.links,
    }
}

/// One pass over `body`; the HTML and the text are made only when `full`.
fn pass<'a>(
    body: &'a str,
    first_line: usize,
    reserved: &BTreeSet<String>,
    rewrite: &dyn Fn(&str) -> Option<String>,
    full: bool,
) -> Rendered {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(body.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| first_line + line_starts.partition_point(|&s| s <= offset) - 1;

    let mut ids = HeadingIds::reserving(reserved);
    let mut headings = Vec::new();
    let mut links = Vec::new();
    let mut events: Vec<Event<'a>> = Vec::new();
    // The open heading: where its start event is, its level, its line.
    let mut open_heading: Option<(usize, HeadingLevel, usize)> = None;
    let mut heading_text = String::new();
    let mut text = vec![crate::search::Block::default()];

    let mut note_link = |dest: CowStr<'a>, offset: usize| -> CowStr<'a> {
        links.push(LinkRef {
            dest: dest.to_string(),
            line: line_of(offset),
        });
        match full.then(|| rewrite(&dest)).flatten() {
            Some(new) => CowStr::from(new),
            None => dest,
        }
    };

    for (event, range) in Parser::new_ext(body, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                open_heading = Some((events.len(), level, line_of(range.start)));
                heading_text.clear();
                events.push(event);
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((start, level, line)) = open_heading.take() {
                    let id = ids.next(&heading_text);
                    events[start] = Event::Start(Tag::Heading {
                        level,
                        id: Some(CowStr::from(id.clone())),
                        classes: Vec::new(),
                        attrs: Vec::new(),
                    });
                    text.push(crate::search::Block {
                        anchor: id.clone(),
                        heading: heading_text.trim().to_owned(),
                        text: String::new(),
                    });
                    headings.push(Heading {
                        level: level as u8,
                        id,
                        title: heading_text.trim().to_owned(),
                        line,
                    });
                }
                events.push(event);
            }
            Event::Text(ref text) | Event::Code(ref text) if open_heading.is_some() => {
                heading_text.push_str(text);
                events.push(event);
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = note_link(dest_url, range.start);
                events.push(Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest_url = note_link(dest_url, range.start);
                events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }));
            }
            _ if !full => {}
            other => {
                if let Some(block) = text.last_mut() {
                    match &other {
                        Event::Text(t) | Event::Code(t) => block.text.push_str(t),
                        Event::SoftBreak
                        | Event::HardBreak
                        | Event::End(
                            TagEnd::Paragraph
                            | TagEnd::Item
                            | TagEnd::TableCell
                            | TagEnd::CodeBlock
                            | TagEnd::BlockQuote(_),
                        ) if !block.text.ends_with(' ') && !block.text.is_empty() => {
                            block.text.push(' ');
                        }
                        _ => {}
                    }
                }
                events.push(other)
            }
        }
    }
    if !full {
        return Rendered {
            headings,
            links,
            ..Rendered::default()
        };
    }
    for block in &mut text {
        block.text.truncate(block.text.trim_end().len());
    }
    let mut html_out = String::with_capacity(body.len() * 3 / 2);
    html::push_html(&mut html_out, events.into_iter());
    Rendered {
        html: html_out,
        headings,
        links,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(body: &str) -> Rendered {
        render(body, 1, &BTreeSet::new(), &|_| None)
    }

    #[test]
    fn a_heading_never_takes_a_template_id() {
        let taken = BTreeSet::from(["main".to_owned()]);
        let r = render("## main\n", 1, &taken, &|_| None);
        assert!(r.html.contains(r#"<h2 id="main-1">"#), "{}", r.html);
        assert_eq!(r.headings[0].id, "main-1");
    }

    #[test]
    fn headings_get_github_ids_and_lines() {
        let r = plain("引言\n\n## 装修押金\n\n正文\n\n### 第一步：提交 `申请表`\n");
        assert!(
            r.html.contains(r#"<h2 id="装修押金">装修押金</h2>"#),
            "{}",
            r.html
        );
        assert_eq!(r.headings[1].id, "第一步提交-申请表");
        assert_eq!(r.headings[1].title, "第一步：提交 申请表");
        assert_eq!((r.headings[0].line, r.headings[1].line), (3, 7));
    }

    #[test]
    fn links_are_noted_and_rewritten() {
        let r = render(
            "看 [缴费](../fees/payment.md#逾期缴费)。\n\n![图](plan.png)\n",
            10,
            &BTreeSet::new(),
            &|d| Some(format!("/x/{d}")),
        );
        assert_eq!(r.links.len(), 2);
        assert_eq!(r.links[0].dest, "../fees/payment.md#逾期缴费");
        assert_eq!((r.links[0].line, r.links[1].line), (10, 12));
        // pulldown-cmark percent-encodes addresses; browsers decode the
        // fragment before looking for the heading.
        assert!(
            r.html
                .contains(r#"href="/x/../fees/payment.md#%E9%80%BE%E6%9C%9F%E7%BC%B4%E8%B4%B9""#),
            "{}",
            r.html
        );
        assert!(r.html.contains(r#"src="/x/plan.png""#));
    }

    #[test]
    fn plain_text_is_kept_per_heading() {
        let r = plain("先看**这里**。\n第二行\n\n## 押金退还\n\n- 验收\n- 退款 `3` 天\n");
        let blocks: Vec<(&str, &str)> = r
            .text
            .iter()
            .map(|b| (b.anchor.as_str(), b.text.as_str()))
            .collect();
        assert_eq!(
            blocks,
            [("", "先看这里。 第二行"), ("押金退还", "验收 退款 3 天")]
        );
        assert_eq!(r.text[1].heading, "押金退还");
    }

    #[test]
    fn the_outline_is_what_the_full_render_finds() {
        let body = "引言 [费](fees.md)\n\n## 押金\n\n## 押金\n\n![图](a.png)\n";
        let full = plain(body);
        let outline = outline(body, 1, &BTreeSet::new());
        assert_eq!(outline.headings, full.headings);
        assert_eq!(outline.links, full.links);
    }

    #[test]
    fn extensions_are_on() {
        let r = plain(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~旧~~\n\n- [x] 已办\n\n注[^1]\n\n[^1]: 脚注\n",
        );
        for needle in ["<table>", "<del>", "checkbox", "footnote"] {
            assert!(r.html.contains(needle), "{needle} missing in {}", r.html);
        }
    }
}
