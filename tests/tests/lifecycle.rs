//! Policy pages over time and what follows them: `effective`,
//! `supersedes` and `changes` on the page, the Atom feeds, the printed
//! notice's QR code, page history from git, and `check --format github`.
//!
//! The `lifecycle` fixture has one rule in force since 2026-01-01 (which
//! replaces its 2025 version), one taking effect on the build's day
//! (2026-11-23, see `tests::site::TODAY`) and one from 2027-01-01.

use std::path::Path;
use std::process::Command;

use scraper::{Html, Selector};
use tests::site::FixtureSite;

const BASE_URL: &str = "https://example.org/handbook";

fn select_texts(html: &str, css: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .collect()
}

#[test]
fn a_rule_shows_from_when_it_applies_what_it_replaces_and_what_changed() {
    let site = FixtureSite::built("lifecycle");

    let past = site.output("rules/renovation-hours/index.html");
    assert_eq!(
        select_texts(&past, ".effective"),
        ["自 2026年1月1日 起施行"]
    );
    assert!(
        !past.contains("即将施行"),
        "a rule in force is not upcoming"
    );
    assert_eq!(
        select_texts(&past, ".changes li"),
        [
            "工作日施工结束时间由 18:00 提前到 17:30",
            "周末只允许不产生噪音的施工"
        ]
    );
    assert_eq!(select_texts(&past, ".changes h2"), ["本次修订"]);
    // `supersedes: renovation-hours-2025.md` is a link to that page, by its title.
    assert!(
        past.contains(r#"取代：<a href="/handbook/rules/renovation-hours-2025/">装修施工时间（2025 年版）</a>"#),
        "{past}"
    );

    // The day itself: in force, not upcoming.
    let today = site.output("rules/pass-fees/index.html");
    assert_eq!(
        select_texts(&today, ".effective"),
        ["自 2026年11月23日 起施行"]
    );
    assert!(!today.contains("即将施行"));

    let future = site.output("rules/parking-fees/index.html");
    let upcoming = select_texts(&future, ".callout-upcoming");
    assert_eq!(upcoming.len(), 1, "{future}");
    assert!(upcoming[0].starts_with("即将施行"), "{upcoming:?}");
    assert!(upcoming[0].contains("2027年1月1日"), "{upcoming:?}");
    assert!(
        future.contains("取代：2024 年版停车收费标准"),
        "text stays text"
    );

    // The same site built on 2027-01-01: the rule is in force.
    let run = site.site_gen(&["build", "--today", "2027-01-01"]);
    run.assert_success();
    let future = site.output("rules/parking-fees/index.html");
    assert!(!future.contains("即将施行"), "{future}");
    assert_eq!(
        select_texts(&future, ".effective"),
        ["自 2027年1月1日 起施行"]
    );
}

#[test]
fn a_bad_effective_day_or_superseded_page_is_reported_at_its_line() {
    let site = FixtureSite::new("lifecycle");
    site.edit("content/rules/pass-fees.md", |t| {
        t.replace("effective: 2026-11-23", "effective: 2026-02-30")
    });
    site.edit("content/rules/renovation-hours.md", |t| {
        t.replace("renovation-hours-2025.md", "renovation-hours-2024.md")
    });
    let run = site.check();
    run.assert_failure();
    assert!(
        run.stderr
            .contains("content/rules/pass-fees.md:4: effective: "),
        "{run}"
    );
    assert!(
        run.stderr.contains("content/rules/renovation-hours.md:5: the link `renovation-hours-2024.md` points to content/rules/renovation-hours-2024.md, which does not exist"),
        "{run}"
    );

    // The same problems as annotations on their file and line, for the
    // repository's web editor.
    let run = site.site_gen(&["check", "--today", "2026-11-23", "--format", "github"]);
    run.assert_failure();
    let annotations: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(annotations.len(), 2, "{run}");
    assert!(
        annotations[0].starts_with("::error file=content/rules/pass-fees.md,line=4::effective: "),
        "{run}"
    );
    assert!(
        annotations[1].starts_with(
            "::error file=content/rules/renovation-hours.md,line=5::the link `renovation-hours-2024.md`"
        ),
        "{run}"
    );
    // One line each: the help is on the same annotation.
    assert!(annotations[1].contains("%0Ahelp: "), "{run}");
}

#[test]
fn feeds_of_notices_and_policy_changes_parse_with_absolute_links() {
    let site = FixtureSite::built("lifecycle");
    let home = site.output("index.html");
    let alternates: Vec<(String, String)> = {
        let doc = Html::parse_document(&home);
        let selector =
            Selector::parse(r#"link[rel="alternate"][type="application/atom+xml"]"#).unwrap();
        doc.select(&selector)
            .map(|e| {
                (
                    e.value().attr("title").unwrap_or("").to_owned(),
                    e.value().attr("href").unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(
        alternates,
        [
            (
                "通知公告".to_owned(),
                format!("{BASE_URL}/notices/atom.xml")
            ),
            (
                "规定修订".to_owned(),
                format!("{BASE_URL}/updates/atom.xml")
            ),
        ]
    );

    let notices = feed_rs::parser::parse(site.output("notices/atom.xml").as_bytes())
        .expect("the notices feed is valid Atom");
    assert_eq!(notices.feed_type, feed_rs::model::FeedType::Atom);
    let entries: Vec<(String, String)> = notices
        .entries
        .iter()
        .map(|e| {
            (
                e.title.as_ref().unwrap().content.clone(),
                e.links[0].href.clone(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                "11 月 25 日停水通知".to_owned(),
                format!("{BASE_URL}/notices/2026-11-20-water/")
            ),
            (
                "消防演练通知".to_owned(),
                format!("{BASE_URL}/notices/2026-11-01-drill/")
            ),
        ]
    );
    let water = &notices.entries[0];
    assert_eq!(
        water.updated.unwrap().to_rfc3339(),
        "2026-11-19T16:00:00+00:00",
        "midnight in the estate's time zone (+08:00)"
    );
    assert!(
        water
            .content
            .as_ref()
            .unwrap()
            .body
            .as_deref()
            .unwrap()
            .contains("全小区停水")
    );

    let policies = feed_rs::parser::parse(site.output("updates/atom.xml").as_bytes())
        .expect("the policy feed is valid Atom");
    let titles: Vec<String> = policies
        .entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.clone())
        .collect();
    // Latest effective day first; every page with `effective` or `changes`.
    assert_eq!(
        titles,
        [
            "停车收费标准",
            "出入证收费",
            "装修施工时间",
            "装修施工时间（2025 年版）"
        ]
    );
    for entry in &policies.entries {
        assert!(
            entry.links[0]
                .href
                .starts_with(&format!("{BASE_URL}/rules/")),
            "{entry:?}"
        );
    }
    let body = policies.entries[0]
        .content
        .as_ref()
        .unwrap()
        .body
        .clone()
        .unwrap();
    assert!(body.contains("临时停车首小时免费"), "{body}");
}

/// The modules of an SVG that `qrcode` drew: `M{x} {y}h{w}v{h}H{x}V{y}`
/// rectangles of one unit per module, filled into a grid of pixels.
fn rasterise(svg: &str, scale: usize) -> (usize, Vec<u8>) {
    let size_attr = svg.split("width=\"").nth(1).unwrap();
    let size: usize = size_attr[..size_attr.find('"').unwrap()].parse().unwrap();
    let d = svg.split(" d=\"").nth(1).unwrap();
    let d = &d[..d.find('"').unwrap()];
    let side = size * scale;
    let mut pixels = vec![255u8; side * side];
    for rect in d.split('M').filter(|r| !r.is_empty()) {
        let numbers: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        let (x, y, w, h) = (numbers[0], numbers[1], numbers[2], numbers[3]);
        for row in y * scale..(y + h) * scale {
            for col in x * scale..(x + w) * scale {
                pixels[row * side + col] = 0;
            }
        }
    }
    (side, pixels)
}

#[test]
fn a_notice_prints_as_a_poster_whose_qr_code_opens_the_notice() {
    let site = FixtureSite::built("lifecycle");
    let html = site.output("notices/2026-11-20-water/index.html");
    let doc = Html::parse_document(&html);
    let footer = Selector::parse("footer.poster-footer").unwrap();
    let footer = doc.select(&footer).next().expect("a poster footer");
    let text: String = footer.text().collect();
    assert!(
        text.contains("翠湖苑物业客服中心"),
        "the estate's name from estate.yaml: {text}"
    );
    assert!(text.contains("客服电话：0571-8888 6666"), "{text}");

    let svg = footer
        .select(&Selector::parse("svg").unwrap())
        .next()
        .unwrap()
        .html();
    let (side, pixels) = rasterise(&svg, 4);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    let (_, url) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(url, format!("{BASE_URL}/notices/2026-11-20-water/"));

    // Only notices are posters.
    let rule = site.output("rules/pass-fees/index.html");
    assert!(!rule.contains("poster-footer"));
}

fn git(dir: &Path, args: &[&str], date: &str) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "客服中心")
        .env("GIT_AUTHOR_EMAIL", "desk@example.org")
        .env("GIT_COMMITTER_NAME", "客服中心")
        .env("GIT_COMMITTER_EMAIL", "desk@example.org")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn pages_take_their_dates_and_revisions_from_git_when_asked() {
    let site = FixtureSite::new("lifecycle");
    site.edit("config.yaml", |t| t + "history:\n  git: true\n");

    // Outside a git checkout: built, and said once.
    let run = site.build(&[]);
    run.assert_success();
    assert_eq!(
        run.stderr.matches("not in a git checkout").count(),
        1,
        "{run}"
    );

    let root = site.root();
    site.write(".gitignore", "public/\n");
    git(
        root,
        &["init", "--quiet", "--initial-branch=main"],
        "2026-10-01T09:00:00+08:00",
    );
    git(root, &["add", "."], "2026-10-01T09:00:00+08:00");
    git(
        root,
        &["commit", "--quiet", "-m", "手册上线"],
        "2026-10-01T09:00:00+08:00",
    );
    site.edit("content/notices/2026-11-01-drill.md", |t| {
        t.replace("上午", "上午 9:30")
    });
    git(
        root,
        &["commit", "--quiet", "-am", "演练时间改为 9:30"],
        "2026-11-02T10:00:00+08:00",
    );

    let run = site.build(&[]);
    run.assert_success();
    assert!(run.stderr.is_empty(), "{run}");

    // No `updated`: the day of the last commit that touched the file.
    let drill = site.output("notices/2026-11-01-drill/index.html");
    assert!(
        drill.contains(r#"最后更新：<time datetime="2026-11-02">"#),
        "{drill}"
    );
    assert_eq!(
        select_texts(&drill, ".revisions li"),
        ["2026年11月2日 演练时间改为 9:30", "2026年10月1日 手册上线"]
    );
    let water = site.output("notices/2026-11-20-water/index.html");
    assert_eq!(
        select_texts(&water, ".revisions li"),
        ["2026年10月1日 手册上线"]
    );

    // 更新记录: every commit, newest first, with the pages it changed.
    let updates = site.output("updates/index.html");
    let entries = select_texts(&updates, "ol.updates > li");
    assert_eq!(entries.len(), 2, "{updates}");
    assert!(
        entries[0].starts_with("2026年11月2日 演练时间改为 9:30"),
        "{entries:?}"
    );
    assert!(entries[0].contains("消防演练通知"), "{entries:?}");
    assert!(entries[1].contains("手册上线"), "{entries:?}");

    // A shallow clone builds, and says what it cannot know.
    let clone = site.scratch().join("clone");
    let out = Command::new("git")
        .args(["clone", "--quiet", "--depth=1"])
        .arg(format!("file://{}", root.display()))
        .arg(&clone)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(tests::site::site_gen_bin())
        .args(["build", "--today", tests::site::TODAY])
        .current_dir(&clone)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.matches("the git history is shallow").count(),
        1,
        "{stderr}"
    );
}
