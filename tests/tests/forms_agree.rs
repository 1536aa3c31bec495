//! The form pages the generator writes and the validation the desk runs
//! come from one definition: a page filled in as its HTML asks is
//! accepted, and what the HTML marks required is exactly what the desk
//! requires.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use scraper::{Html, Selector};
use tests::desk::TestDesk;
use tests::site::workspace_dir;

fn select(s: &str) -> Selector {
    Selector::parse(s).expect("a selector")
}

/// A value the control's own HTML attributes allow.
fn fill(control: scraper::ElementRef<'_>) -> Option<String> {
    let el = control.value();
    let min = el
        .attr("minlength")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    match (el.name(), el.attr("type").unwrap_or("text")) {
        ("select", _) => control
            .select(&select("option"))
            .filter_map(|o| o.value().attr("value"))
            .find(|v| !v.is_empty())
            .map(str::to_owned),
        ("textarea", _) => Some("测".repeat(min.max(12))),
        (_, "hidden") => Some(el.attr("value").unwrap_or("").to_owned()),
        (_, "tel") => Some("138 0013 8000".into()),
        (_, "email") => Some("owner@example.org".into()),
        // A week ahead: a plausible day for every `dates` range but `past`.
        (_, "date") => Some(
            (chrono::Utc::now() + chrono::TimeDelta::days(7))
                .format("%Y-%m-%d")
                .to_string(),
        ),
        (_, "checkbox") => Some("on".into()),
        (_, "radio") => el.attr("value").map(str::to_owned),
        _ => Some("测".repeat(min.max(4))),
    }
}

#[tokio::test]
async fn every_generated_form_is_accepted_as_its_page_asks_and_requires_what_it_marks() {
    let out = tempfile::tempdir().unwrap();
    let mut options = site_gen::BuildOptions::new(workspace_dir());
    options.out = Some(out.path().join("public"));
    site_gen::build(&options).expect("the repository's site builds");
    let desk = TestDesk::new();

    for kind in ["repair", "complaint", "feedback"] {
        let html =
            std::fs::read_to_string(out.path().join(format!("public/forms/{kind}/index.html")))
                .unwrap();
        let page = Html::parse_document(&html);
        let form = page
            .select(&select("form[data-form]"))
            .next()
            .expect("a form on the page");
        assert_eq!(
            form.value().attr("action"),
            Some(format!("/forms/{kind}").as_str())
        );

        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let mut required = BTreeSet::new();
        for control in form.select(&select("input, select, textarea")) {
            let Some(name) = control.value().attr("name") else {
                continue;
            };
            if control.value().attr("required").is_some() {
                required.insert(name.to_owned());
            }
            let is_honeypot = control.value().attr("tabindex") == Some("-1");
            if let (false, Some(value), false) =
                (values.contains_key(name), fill(control), is_honeypot)
            {
                values.insert(name.to_owned(), value);
            }
        }
        let pairs: Vec<(&str, &str)> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let accepted = desk.post_form(kind, &pairs).await;
        assert_eq!(
            accepted.status,
            StatusCode::SEE_OTHER,
            "{kind}: {}",
            accepted.body
        );

        let empty = desk.post_json(kind, serde_json::json!({})).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        let refused: BTreeSet<String> = empty.json()["errors"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            refused, required,
            "{kind}: the page's required fields and the desk's differ"
        );
    }
}
