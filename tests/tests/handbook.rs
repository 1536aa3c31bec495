//! The estate's facts (`estate.yaml`): pages and forms read them, `check`
//! lists what the estate has not confirmed and `build --strict` refuses to
//! publish it; the repository's handbook writes no phone number itself and
//! every emergency page starts with its call buttons.

use std::path::Path;

use scraper::{Html, Selector};
use tests::site::{FixtureSite, workspace_dir};

fn select(css: &str) -> Selector {
    Selector::parse(css).expect("a selector")
}

/// The first element inside `main`, as (tag, class).
fn first_in_main(html: &str) -> (String, String) {
    let doc = Html::parse_document(html);
    let main = doc.select(&select("main")).next().expect("a main element");
    let first = main
        .children()
        .find_map(scraper::ElementRef::wrap)
        .expect("main has an element");
    let el = first.value();
    (
        el.name().to_owned(),
        el.attr("class").unwrap_or("").to_owned(),
    )
}

fn call_links(html: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    doc.select(&select("main > .call-block a"))
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .collect()
}

#[test]
fn check_lists_unconfirmed_values_and_strict_builds_refuse_them() {
    let site = FixtureSite::new("facts");

    let run = site.check();
    run.assert_success();
    let listed = &run.stdout;
    assert!(
        listed.contains("3 values of estate.yaml are not confirmed"),
        "{run}"
    );
    // Each with its line in estate.yaml and where it is used.
    for line in [
        "estate.yaml:3 `desk.hours`",
        "used in content/_index.md:5",
        "estate.yaml:6 `duty.phone`",
        "content/emergencies/fire.md:6",
        "estate.yaml:10 `response.ordinary`",
        "content/forms/repair.yaml:11",
    ] {
        assert!(listed.contains(line), "`{line}` missing:\n{run}");
    }
    assert!(
        !listed.contains("`desk.phone`"),
        "a confirmed value is listed:\n{run}"
    );

    let run = site.build(&["--strict"]);
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(
        run.stderr.contains("3 problems found; nothing was written"),
        "{run}"
    );
    assert!(run.stderr.contains("estate.yaml:6: `duty.phone`"), "{run}");
    assert!(!site.exists("public"), "a refused build wrote files");

    // Without --strict it is a preview: built, with a note.
    let run = site.build(&[]);
    run.assert_success();
    assert!(
        run.stdout
            .contains("3 values of estate.yaml are not confirmed"),
        "{run}"
    );
    let home = site.output("index.html");
    assert!(home.contains("前台时间：每天 8:30–17:30。"), "{home}");
    let form = site.output("forms/repair/index.html");
    assert!(
        form.contains("24 小时内响应"),
        "the form's commitment reads the fact"
    );
    let fire = site.output("emergencies/fire/index.html");
    assert!(
        fire.contains(r#"<a class="tel" href="tel:00000000000">0000-0000000</a>"#),
        "a phone fact is a tap-to-call link"
    );
    for page in ["emergencies/index.html", "emergencies/fire/index.html"] {
        let html = site.output(page);
        assert_eq!(
            first_in_main(&html),
            ("section".to_owned(), "call-block".to_owned()),
            "{page}"
        );
        assert_eq!(call_links(&html), ["tel:00000000000", "tel:119"], "{page}");
    }

    // Confirming the values (the tag removed, the placeholder replaced)
    // makes the strict build pass.
    site.edit("estate.yaml", |text| {
        text.replace("!unconfirmed ", "")
            .replace("0000-0000000", "0571-8888 6667")
    });
    site.build(&["--strict"]).assert_success();
}

#[test]
fn an_unknown_fact_is_an_error_naming_file_and_line() {
    let site = FixtureSite::new("facts");
    site.edit("content/emergencies/fire.md", |text| {
        text.replace("{{ duty.phone }}", "{{ duty.fax }}")
    });
    let run = site.check();
    assert_eq!(run.code(), Some(1), "{run}");
    assert!(
        run.stderr.contains(
            "content/emergencies/fire.md:6: `{{ duty.fax }}` names no fact in estate.yaml"
        ),
        "{run}"
    );
    assert!(
        run.stderr.contains("duty.phone"),
        "the help names the known keys:\n{run}"
    );
}

/// Runs of digits that read as a phone number: a national short number
/// (110, 119, 120, 122, 12345) standing alone, or seven digits and more
/// (spaces and hyphens allowed between them).
fn phone_literals(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() || (i > 0 && chars[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        while i < chars.len()
            && (chars[i].is_ascii_digit()
                || ((chars[i] == '-' || chars[i] == ' ')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                    && digits.len() >= 3))
        {
            if chars[i].is_ascii_digit() {
                digits.push(chars[i]);
            }
            i += 1;
        }
        let alone = chars
            .get(i)
            .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != ':');
        let short = ["110", "119", "120", "122", "12345"].contains(&digits.as_str());
        // Dates (2026-11-20) and times are not phones: they have at most 8
        // digits and a year first.
        let date = digits.len() == 8 && digits.starts_with("20");
        if alone && (short || (digits.len() >= 7 && !date)) {
            found.push(chars[start..i].iter().collect());
        }
    }
    found
}

fn content_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("content/ is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            content_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

#[test]
fn the_handbook_writes_no_phone_number_and_emergency_pages_start_with_the_call() {
    assert_eq!(phone_literals("请拨 119。"), ["119"]);
    assert_eq!(phone_literals("电话 0571-8888 6666"), ["0571-8888 6666"]);
    assert!(phone_literals("2026-11-20，3-2-1502，20 元，{{ national.fire }}").is_empty());

    let root = workspace_dir();
    let mut files = Vec::new();
    content_files(&root.join("content"), &mut files);
    let mut literals = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a text file");
        for (n, line) in text.lines().enumerate() {
            for literal in phone_literals(line) {
                literals.push(format!("{}:{}: {literal}", file.display(), n + 1));
            }
        }
    }
    assert!(
        literals.is_empty(),
        "phone numbers belong in estate.yaml, used as {{{{ key }}}}:\n{}",
        literals.join("\n")
    );

    let out = tempfile::tempdir().expect("a temporary folder");
    let mut options = site_gen::BuildOptions::new(&root);
    options.out = Some(out.path().join("public"));
    site_gen::build(&options).expect("the repository's site builds");
    let emergencies = out.path().join("public/emergencies");
    let mut pages = 0;
    for entry in walk(&emergencies) {
        if entry.file_name().is_some_and(|n| n == "index.html") {
            let html = std::fs::read_to_string(&entry).unwrap();
            assert_eq!(
                first_in_main(&html),
                ("section".to_owned(), "call-block".to_owned()),
                "{}",
                entry.display()
            );
            let calls = call_links(&html);
            assert!(
                calls.len() >= 2 && calls[0].starts_with("tel:"),
                "{}: the duty line and a national number: {calls:?}",
                entry.display()
            );
            pages += 1;
        }
    }
    assert!(pages >= 6, "only {pages} emergency pages");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the folder is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The `tel:` links of the receipt's call block and of its closing
/// "when it becomes urgent" callout.
fn receipt_calls(html: &str) -> (Vec<String>, Vec<String>) {
    let doc = Html::parse_document(html);
    let hrefs = |css: &str| {
        doc.select(&select(css))
            .filter_map(|a| a.value().attr("href").map(str::to_owned))
            .collect::<Vec<_>>()
    };
    (
        hrefs("main > .call-block a"),
        hrefs("main > p.callout-urgent a"),
    )
}

#[tokio::test]
async fn the_receipt_of_an_emergency_starts_with_the_duty_line() {
    // The desk's number made different from the duty line's (both are the
    // same placeholder in estate.yaml), so the page shows which it links.
    let desk = tests::desk::TestDesk::with(|d| {
        d.site.contact.phone = Some("0571-8888 6666".to_owned());
    });
    let duty = desk
        .desk
        .site
        .contact
        .duty_phone
        .clone()
        .expect("estate.yaml has a duty line");
    let duty_tel = format!("tel:{}", duty.replace(' ', ""));

    // An emergency (no alert channel configured: the promise names the line).
    let answer = desk.post_form("repair", &tests::desk::repair()).await;
    let url = answer.header("location").expect("a receipt").to_owned();
    let page = desk.get(&url).await;
    assert_eq!(
        first_in_main(&page.body),
        ("section".to_owned(), "call-block".to_owned()),
        "{}",
        page.body
    );
    let (call, urgent) = receipt_calls(&page.body);
    assert_eq!(call, std::slice::from_ref(&duty_tel));
    assert_eq!(
        urgent,
        std::slice::from_ref(&duty_tel),
        "the callout under the title"
    );

    // An ordinary repair: no call block, and its "if it becomes urgent"
    // line still gives the duty line, not the desk's.
    let answer = desk
        .post_form("repair", &tests::desk::ordinary_repair())
        .await;
    let url = answer.header("location").expect("a receipt").to_owned();
    let page = desk.get(&url).await;
    let (call, urgent) = receipt_calls(&page.body);
    assert!(call.is_empty(), "{call:?}");
    assert_eq!(urgent, [duty_tel]);
    assert!(
        page.body.contains("tel:0571-88886666"),
        "the desk's number is still there, for follow-up questions"
    );
}
