//! Properties over arbitrary input: front matter, Markdown with links, and
//! form submissions give a result or an error, never a panic; and a ticket
//! the desk stores holds exactly the values validation accepted.

use std::collections::BTreeSet;
use std::path::PathBuf;

use forms::Submission;
use proptest::prelude::*;
use site_gen::content::Document;
use site_gen::urls::ContentPath;
use tests::desk::{TestDesk, ordinary_repair};

/// Text that looks like what people and attackers write: YAML and Markdown
/// punctuation, Chinese, controls, invisible characters, and anything else.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[-:#&*!|>{}\\[\\]()<>\"'`~_=+., \\n\\t0-9a-z\u{4e00}-\u{4e2f}\u{200b}\u{202e}\u{feff}\u{0}]{0,120}",
    ]
}

/// One of the names the code knows, or any other matching `other`.
fn known_or(known: &'static [&'static str], other: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![prop::sample::select(known).prop_map(str::to_owned), other]
}

/// A front-matter block made of plausible keys with arbitrary values.
fn front_matter() -> impl Strategy<Value = String> {
    let key = known_or(
        &[
            "title", "summary", "weight", "updated", "draft", "aliases", "call", "tags",
        ],
        "[a-z_]{1,8}",
    );
    prop::collection::vec((key, text()), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}\n"))
            .collect()
    })
}

fn markdown() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        text(),
        "\\[[a-z\u{4e00}-\u{4e0f}]{0,6}\\]\\((#|/|\\.\\./|https?://)?[a-z0-9/#?%.-]{0,20}\\)",
        "#{1,7} [a-z\u{4e00}-\u{4e0f} ]{0,10}",
        Just("\n\n".to_owned()),
        Just("<a href=\"x\">".to_owned()),
        Just("[ref]: /a/b\n".to_owned()),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_page_parses_or_is_refused_with_its_line(meta in front_matter(), body in markdown()) {
        let file = PathBuf::from("content/a/b.md");
        let path = ContentPath::from_parts(vec!["a".into(), "b.md".into()]);
        let text = format!("---\n{meta}---\n{body}");
        if let Err(problem) = Document::parse(path, file, &text) {
            let lines = text.lines().count().max(1);
            prop_assert!(problem.line.is_none_or(|l| (1..=lines + 1).contains(&l)), "{problem:?}");
        }
    }

    #[test]
    fn any_markdown_renders_and_every_link_has_its_line(body in markdown()) {
        // As a build reads it: the document's body has its NULs replaced.
        let path = ContentPath::from_parts(vec!["a.md".into()]);
        let text = format!("---\ntitle: t\n---\n{body}");
        let doc = Document::parse(path, PathBuf::from("content/a.md"), &text).expect("parses");
        prop_assert_eq!(doc.body_line, 4);
        let rendered = site_gen::markdown::render(&doc.body, doc.body_line, &BTreeSet::new(), &|d| {
            d.starts_with('/').then(|| format!("/base{d}"))
        });
        let last = 4 + body.lines().count();
        for link in &rendered.links {
            prop_assert!((4..=last).contains(&link.line), "{link:?} in {body:?}");
        }
        prop_assert!(!rendered.html.contains('\0'));
    }
}

fn field_name() -> impl Strategy<Value = String> {
    known_or(
        &[
            "unit",
            "name",
            "phone",
            "email",
            "urgency",
            "category",
            "description",
            "visit_date",
            "consent",
        ],
        "[a-z_]{1,10}",
    )
}

fn runner() -> proptest::test_runner::TestRunner {
    proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 200,
        ..ProptestConfig::default()
    })
}

#[test]
fn any_post_to_any_form_is_accepted_or_refused() {
    let desk = TestDesk::new();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    let posts = prop::collection::vec((field_name(), text()), 0..14);
    runner()
        .run(&posts, |pairs| {
            let submission = Submission::from_pairs(pairs);
            for form in desk.desk.forms.iter() {
                if let Ok(valid) = form.validate_on(&submission, today) {
                    let names: Vec<_> = form.fields.iter().map(|f| &f.name).collect();
                    prop_assert!(valid.values.iter().all(|(n, _)| names.contains(&n)));
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_stored_ticket_holds_exactly_what_was_accepted() {
    // The rate limit is the only state that carries over between cases.
    let desk = TestDesk::with(|d| d.rate_limit = u32::MAX);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let form = desk.desk.forms.get("repair").unwrap();
    let today = desk.desk.clock.local(desk.desk.clock.now()).date_naive();
    let values = (
        "[0-9]{1,2}-[0-9]{1,2}-[0-9]{3,4}",
        "[\u{4e00}-\u{9fa5}a-zA-Z0-9，。！？ \n\"'<>&]{10,200}",
        prop_oneof![
            Just(String::new()),
            "[\u{4e00}-\u{9fa5}]{1,4}",
            "[a-zA-Z' ]{1,20}"
        ],
    );
    runner()
        .run(&values, |(unit, description, name)| {
            let mut pairs: Vec<(&str, &str)> = ordinary_repair();
            for (k, v) in &mut pairs {
                match *k {
                    "unit" => *v = &unit,
                    "description" => *v = &description,
                    "name" => *v = &name,
                    _ => {}
                }
            }
            let owned: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let expected = form.validate_on(&Submission::from_pairs(owned), today);
            let answer = runtime.block_on(desk.post_form("repair", &pairs));
            match expected {
                Ok(valid) => {
                    prop_assert_eq!(answer.status.as_u16(), 303, "{}", answer.body);
                    let location = answer.header("location").unwrap_or_default();
                    let (reference, _) = tests::desk::receipt_parts(location);
                    let stored = runtime
                        .block_on(desk.store.get(&reference))
                        .unwrap()
                        .unwrap();
                    prop_assert_eq!(stored.fields, valid.values);
                }
                Err(_) => prop_assert_eq!(answer.status.as_u16(), 422),
            }
            Ok(())
        })
        .unwrap();
}
