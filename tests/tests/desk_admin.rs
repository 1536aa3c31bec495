//! `desk-admin`, the real binary, on the repository's own site and a
//! temporary data folder: staff accounts from standard input, the monthly
//! report and the CSV export of tickets filed through the real desk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, FixedOffset, Utc};
use desk::store::{Change, Idempotency, SqliteStore, TicketStore};
use desk::ticket::Actor;
use desk::time::Clock;
use desk::workflow::{Context, apply};
use tests::desk::TestDesk;
use tests::site::{site_gen_bin, workspace_dir};

/// `desk-admin`, built with the workspace beside `site-gen`.
fn admin_bin() -> PathBuf {
    let bin = site_gen_bin()
        .parent()
        .expect("site-gen is in a folder")
        .join(format!("desk-admin{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "no desk-admin binary at {}", bin.display());
    bin
}

/// Runs `desk-admin` on the repository's site and `data`, with `stdin`.
fn admin(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(admin_bin());
    command
        .args(args)
        .arg("--root")
        .arg(workspace_dir())
        .arg("--data")
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The embedded defaults, whatever the environment of the test says.
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("DESK_")) {
        command.env_remove(name);
    }
    let mut child = command.spawn().expect("desk-admin starts");
    child
        .stdin
        .take()
        .expect("a stdin pipe")
        .write_all(stdin.as_bytes())
        .expect("stdin takes the input");
    child.wait_with_output().expect("desk-admin ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Succeeded; its standard output.
fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "desk-admin failed: {}{}",
        text(&output.stderr),
        text(&output.stdout)
    );
    text(&output.stdout)
}

/// Failed with status 1; its standard error.
fn refused(output: Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stderr)
}

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn staff_accounts_from_standard_input() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let data = tmp.path();
    let add = |username: &str, role: &str, password: &str| {
        admin(
            data,
            &[
                "add-staff",
                "--username",
                username,
                "--name",
                "王芳",
                "--role",
                role,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
    };

    let out = ok(add("wang.fang", "department:engineering", PASSWORD));
    assert!(out.contains("wang.fang"), "{out}");
    let err = refused(add("wang.fang", "desk", PASSWORD));
    assert!(
        err.contains("already an account `wang.fang`") && err.contains("help:"),
        "{err}"
    );
    let err = refused(add("li.wei", "desk", "short"));
    assert!(err.contains("at least 10 characters"), "{err}");
    let err = refused(add("li.wei", "department:nowhere", PASSWORD));
    assert!(
        err.contains("nowhere") && err.contains("engineering"),
        "{err}"
    );
    // A password is never taken from the command line.
    let err = refused(admin(
        data,
        &[
            "add-staff",
            "--username",
            "li.wei",
            "--name",
            "李伟",
            "--role",
            "desk",
            "--password",
            PASSWORD,
        ],
        "",
    ));
    assert!(err.contains("--password"), "{err}");

    let list = ok(admin(data, &["list-staff"], ""));
    let rows: Vec<&str> = list.lines().collect();
    assert_eq!(
        rows.len(),
        3,
        "headings, rule, one account (the refused ones were not added):\n{list}"
    );
    assert!(rows[0].starts_with("用户名"), "{list}");
    assert!(
        rows[2].contains("wang.fang")
            && rows[2].contains("王芳")
            && rows[2].contains("department:engineering")
            && rows[2].contains("启用"),
        "{list}"
    );

    let store = SqliteStore::open(&data.join("tickets.sqlite3")).expect("the store opens");
    let before = store
        .get_staff("wang.fang")
        .await
        .unwrap()
        .expect("the account");
    assert!(desk::accounts::verify_password(
        PASSWORD,
        &before.password_hash
    ));

    ok(admin(
        data,
        &["disable-staff", "--username", "wang.fang"],
        "",
    ));
    let after = store
        .get_staff("wang.fang")
        .await
        .unwrap()
        .expect("the account");
    assert!(after.disabled);
    assert_eq!(
        after.session_epoch,
        before.session_epoch + 1,
        "its sessions are void"
    );
    let list = ok(admin(data, &["list-staff"], ""));
    assert!(list.contains("停用"), "{list}");
    for secret in [PASSWORD, "$argon2", &after.password_hash] {
        assert!(!list.contains(secret), "{list}");
    }

    let err = refused(admin(data, &["disable-staff", "--username", "nobody"], ""));
    assert!(err.contains("no account `nobody`"), "{err}");
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn pinned(now: &str) -> Clock {
    Clock::pinned(FixedOffset::east_opt(8 * 3600).unwrap(), at(now))
}

/// Takes `action` on the stored ticket at `now`.
async fn act(
    store: &dyn TicketStore,
    reference: &str,
    action: &str,
    inputs: &[(&str, &str)],
    now: &str,
) {
    let ticket = store.get(reference).await.unwrap().expect("the ticket");
    let inputs: Vec<(String, String)> = inputs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let context = Context {
        clock: pinned(now),
        departments: &|_| Some("部门".to_owned()),
        staff: &|_| true,
    };
    let actor = Actor {
        username: Some("wang.fang".into()),
        name: "王芳".into(),
    };
    let (ticket, event) =
        apply(&ticket, action, &inputs, &actor, &context).expect("the action applies");
    store
        .record(&Change {
            ticket,
            event,
            owes_mail: false,
            owed: Vec::new(),
        })
        .await
        .expect("recorded");
}

/// Two November tickets filed through the desk (a plumbing repair done on
/// time and followed up, a building-quality complaint) and one of December.
async fn november(desk: &TestDesk) -> (String, String) {
    let repair_ref = desk.file_repair().await;
    act(
        desk.store.as_ref(),
        &repair_ref,
        "complete",
        &[("note", "已更换阀门")],
        "2026-11-10T02:20:00Z",
    )
    .await;
    act(
        desk.store.as_ref(),
        &repair_ref,
        "follow_up",
        &[("reached", "yes"), ("satisfaction", "5")],
        "2026-11-10T06:00:00Z",
    )
    .await;

    let answer = desk
        .post_form(
            "complaint",
            &[
                ("unit", "5-1-302"),
                ("name", "赵先生"),
                ("phone", "139 0000 1111"),
                ("category", "building"),
                ("description", "卫生间天花板渗水，报修两次仍未解决。"),
                ("consent", "on"),
                ("website", ""),
            ],
        )
        .await;
    assert_eq!(
        answer.status,
        axum::http::StatusCode::SEE_OTHER,
        "{}",
        answer.body
    );
    let complaint_ref = answer.reference();

    let mut december = desk
        .store
        .get(&repair_ref)
        .await
        .unwrap()
        .expect("the repair");
    december.reference = "BX-20261202-AAAAAA".into();
    december.received_at = at("2026-12-02T01:00:00Z");
    desk.store
        .create(december, Idempotency::Token("december".into()))
        .await
        .expect("stored");
    (repair_ref, complaint_ref)
}

#[tokio::test]
async fn the_report_and_the_export_of_a_month() {
    let desk = TestDesk::with(|d| d.clock = pinned("2026-11-10T02:00:00Z"));
    let (repair_ref, complaint_ref) = november(&desk).await;
    let data = desk.tmp.path().to_owned();

    let json = ok(admin(
        &data,
        &["report", "--month", "2026-11", "--json"],
        "",
    ));
    let report: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(report["month"]["name"], "2026-11");
    assert_eq!(report["totals"]["received"], 2, "{json}");
    let kind = |k: &str| {
        report["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["kind"] == k)
            .cloned()
            .unwrap_or_else(|| panic!("{k} in {json}"))
    };
    let repairs = kind("repair");
    assert_eq!(repairs["noun"], "报修");
    for (figure, value) in [
        ("received", 1.0),
        ("dispatched", 1.0),
        ("done", 1.0),
        ("on_time", 1.0),
        ("follow_up_rate", 1.0),
        ("average_satisfaction", 5.0),
    ] {
        assert_eq!(
            repairs["totals"][figure].as_f64(),
            Some(value),
            "{figure}: {json}"
        );
    }
    assert_eq!(repairs["departments"][0]["name"], "工程部（机电维修）");
    let complaints = kind("complaint");
    assert_eq!(
        (
            complaints["totals"]["received"].as_u64(),
            complaints["totals"]["dispatched"].as_u64()
        ),
        (Some(1), Some(0)),
        "waits for the desk"
    );
    assert_eq!(report["complaints"]["valid"], 1);
    let building = report["complaints"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "building")
        .cloned()
        .unwrap();
    assert_eq!(
        (building["label"].as_str(), building["share"].as_f64()),
        (Some("房屋质量（保修期内）"), Some(1.0))
    );

    let table = ok(admin(&data, &["report", "--month", "2026-11"], ""));
    assert!(
        table.contains("2026年11月") && table.contains("报修") && table.contains("100.0%"),
        "{table}"
    );
    let err = refused(admin(&data, &["report", "--month", "11/2026"], ""));
    assert!(err.contains("YYYY-MM"), "{err}");

    let period = ["export", "--from", "2026-11-01", "--to", "2026-11-30"];
    let output = admin(&data, &period, "");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        output.stdout.starts_with("\u{feff}".as_bytes()),
        "a byte-order mark for Excel"
    );
    let csv = text(&output.stdout);
    assert_eq!(
        csv.lines().count(),
        3,
        "headings and two November tickets:\n{csv}"
    );
    assert!(
        csv.contains(&repair_ref) && csv.contains(&complaint_ref) && !csv.contains("BX-20261202"),
        "{csv}"
    );
    assert!(
        csv.contains("给排水（漏水、堵塞、水压）") && csv.contains("已回访"),
        "{csv}"
    );
    for personal in [
        "房号",
        "联系电话",
        "3-2-1502",
        "王女士",
        "138 0013 8000",
        "owner@example.org",
        "赵先生",
    ] {
        assert!(
            !csv.contains(personal),
            "{personal} without --with-personal-data:\n{csv}"
        );
    }
    assert!(!text(&output.stderr).contains("3-2-1502"));

    let file = data.join("november.csv");
    let mut args = period.to_vec();
    args.extend(["--with-personal-data", "--output", file.to_str().unwrap()]);
    let out = ok(admin(&data, &args, ""));
    assert!(out.is_empty(), "the CSV went to the file: {out}");
    let csv = std::fs::read_to_string(&file).expect("the export file");
    assert!(csv.starts_with('\u{feff}'));
    for personal in [
        "房号",
        "联系电话",
        "3-2-1502",
        "王女士",
        "138 0013 8000",
        "owner@example.org",
        "赵先生",
    ] {
        assert!(
            csv.contains(personal),
            "{personal} with --with-personal-data:\n{csv}"
        );
    }
}
