//! The desk email: composed from the stored ticket, never lost when the
//! transport fails, sent once when it recovers.

use chrono::{TimeDelta, Utc};
use desk::notify::Report;
use tests::desk::{Outage, TestDesk, notifier, ordinary_repair};

#[tokio::test]
async fn a_mail_outage_keeps_the_ticket_and_the_mail_goes_out_once_on_retry() {
    let desk = TestDesk::new();
    let transport = Outage::new(None);
    transport.set_down(true);
    let answer = desk.post_form("repair", &ordinary_repair()).await;
    let reference = answer.reference();
    let now = Utc::now();

    let report = notifier(&desk, transport.clone(), now)
        .run_once()
        .await
        .unwrap();
    assert_eq!(
        report,
        Report {
            sent: 0,
            failed: 1,
            dropped: 0
        }
    );
    let ticket = desk
        .store
        .get(&reference)
        .await
        .unwrap()
        .expect("the ticket is still stored");
    assert!(!ticket.mail.sent);
    assert_eq!(
        ticket.mail.last_error.as_deref(),
        Some("cannot send the desk email: connection refused")
    );

    transport.set_down(false);
    let too_soon = notifier(&desk, transport.clone(), now)
        .run_once()
        .await
        .unwrap();
    assert_eq!(too_soon, Report::default(), "it waits for the back-off");
    let later = now + TimeDelta::minutes(5);
    assert_eq!(
        notifier(&desk, transport.clone(), later)
            .run_once()
            .await
            .unwrap(),
        Report {
            sent: 1,
            failed: 0,
            dropped: 0
        }
    );
    let much_later = later + TimeDelta::hours(1);
    assert_eq!(
        notifier(&desk, transport.clone(), much_later)
            .run_once()
            .await
            .unwrap(),
        Report::default()
    );
    assert_eq!(
        transport.passed(),
        vec![reference.clone()],
        "sent exactly once"
    );
    assert!(desk.store.get(&reference).await.unwrap().unwrap().mail.sent);
}

#[tokio::test]
async fn the_desk_email_has_what_the_desk_needs() {
    let desk = TestDesk::new();
    let reference = desk.file_repair().await;
    let ticket = desk.store.get(&reference).await.unwrap().unwrap();
    let email = notifier(&desk, Outage::new(None), Utc::now())
        .composer
        .draft(&ticket)
        .unwrap();
    // The desk sees every ticket; a plumbing repair is dispatched to
    // engineering at once, so engineering gets a copy.
    assert_eq!(email.to.email.to_string(), "desk@handbook.example.org");
    assert_eq!(
        email
            .cc
            .iter()
            .map(|m| m.email.to_string())
            .collect::<Vec<_>>(),
        ["engineering@handbook.example.org"]
    );
    assert_eq!(
        email.reply_to.map(|m| m.email.to_string()).as_deref(),
        Some("owner@example.org")
    );
    assert!(
        email
            .subject
            .starts_with(&format!("[报修·紧急报修] {reference} · 工程部")),
        "{}",
        email.subject
    );
    for expected in [
        reference.as_str(),
        "紧急报修（请同时拨打 24 小时值班电话",
        "负责部门：工程部（机电维修）",
        "截止时间：",
        "房号：3-2-1502",
        "联系电话：138 0013 8000",
        "报修类别：给排水（漏水、堵塞、水压）",
        "问题描述：厨房水管爆裂",
    ] {
        assert!(
            email.text.contains(expected),
            "the text lacks {expected}:\n{}",
            email.text
        );
    }
}

#[tokio::test]
async fn owner_text_cannot_add_headers_or_markup() {
    let desk = TestDesk::new();
    let reference = desk.file_repair().await;
    let mut ticket = desk.store.get(&reference).await.unwrap().unwrap();
    for (name, value) in &mut ticket.fields {
        match name.as_str() {
            "email" => *value = "owner@example.org\r\nBcc: everyone@example.org".into(),
            "description" => *value = "<b>漏水</b>\r\nSubject: hacked".into(),
            _ => {}
        }
    }
    let composer = notifier(&desk, Outage::new(None), Utc::now()).composer;
    let email = composer.draft(&ticket).unwrap();
    assert!(
        email.reply_to.is_none(),
        "an address with a line break is not used"
    );
    assert!(email.html.contains("&lt;b&gt;漏水&lt;/b&gt;") && !email.html.contains("<b>漏水"));
    let raw = String::from_utf8(composer.compose(&ticket).unwrap().formatted()).unwrap();
    let headers = raw.split("\r\n\r\n").next().unwrap();
    assert!(
        !headers.contains("Bcc") && !headers.contains("hacked"),
        "{headers}"
    );
}

/// The forms as staff might edit them after tickets were stored: `edit`
/// changes the folder's files before it is read.
fn edited_forms(edit: impl FnOnce(&std::path::Path)) -> forms::FormSet {
    let dir = tempfile::tempdir().unwrap();
    let source = tests::site::workspace_dir().join("content").join("forms");
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    edit(dir.path());
    let facts = config::Facts::from_root(&tests::site::workspace_dir()).unwrap();
    forms::FormSet::load_with(dir.path(), &facts).unwrap()
}

#[tokio::test]
async fn a_stored_ticket_keeps_the_words_of_its_form_after_the_form_changes() {
    let desk = TestDesk::new();
    let answer = desk.post_form("repair", &tests::desk::repair()).await;
    let receipt = answer.header("location").unwrap().to_owned();
    let reference = answer.reference();
    let ticket = desk.store.get(&reference).await.unwrap().unwrap();

    // A field renamed and relabelled, the promise reworded; then the form removed.
    let renamed = edited_forms(|dir| {
        let path = dir.join("repair.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text
            .replace("name: unit", "name: room")
            .replace("label: 房号", "label: 楼栋单元")
            .replace("label: 紧急报修", "label: 特急");
        std::fs::write(&path, text).unwrap();
    });
    let removed = edited_forms(|dir| std::fs::remove_file(dir.join("repair.yaml")).unwrap());

    for forms in [renamed, removed] {
        let later = TestDesk::on(tempfile::tempdir().unwrap(), desk.store.clone(), |d| {
            d.forms = forms
        });
        let email = notifier(&later, Outage::new(None), Utc::now())
            .composer
            .draft(&ticket)
            .expect("the desk email of a stored ticket is still written");
        for expected in [
            "房号：3-2-1502",
            "紧急报修（",
            "问题描述：厨房水管爆裂",
            "报修类别：给排水",
        ] {
            assert!(
                email.text.contains(expected),
                "lacks {expected}:\n{}",
                email.text
            );
        }
        assert!(!email.text.contains("楼栋单元") && !email.text.contains("特急"));

        let page = later.get(&receipt).await;
        assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("在线报修") || page.body.contains("报修"),
            "{}",
            page.body
        );
        assert!(
            page.body.contains("紧急报修"),
            "the promise as the owner was given it"
        );
    }

    // The owed email goes out once even with the form gone, not retried forever.
    let gone = TestDesk::on(tempfile::tempdir().unwrap(), desk.store.clone(), |d| {
        d.forms = edited_forms(|dir| std::fs::remove_file(dir.join("repair.yaml")).unwrap())
    });
    let outbox = Outage::new(None);
    let report = notifier(&gone, outbox.clone(), Utc::now())
        .run_once()
        .await
        .unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    assert!(
        outbox.passed().contains(&reference),
        "{:?}",
        outbox.passed()
    );

    // A ticket filed after the edit reads as the edited form does.
    let renamed = TestDesk::on(tempfile::tempdir().unwrap(), desk.store.clone(), |d| {
        d.forms = edited_forms(|dir| {
            let path = dir.join("repair.yaml");
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.replace("label: 房号", "label: 楼栋单元")).unwrap();
        })
    });
    let mut other = tests::desk::repair();
    other.retain(|(name, _)| *name != "description");
    other.push(("description", "阳台地漏堵塞，积水漫到客厅。"));
    let newer = renamed.post_form("repair", &other).await.reference();
    assert_ne!(newer, reference);
    let newer = renamed.store.get(&newer).await.unwrap().unwrap();
    let email = notifier(&renamed, Outage::new(None), Utc::now())
        .composer
        .draft(&newer)
        .unwrap();
    assert!(email.text.contains("楼栋单元：3-2-1502"), "{}", email.text);
}

/// A desk mailbox that refuses everything for good, as a mistyped desk
/// address on a real server does.
struct Refusing;

#[async_trait::async_trait]
impl desk::mail::MailTransport for Refusing {
    async fn send(&self, _: &str, _: &lettre::Message) -> Result<(), desk::mail::MailError> {
        Err(desk::mail::MailError::Rejected(
            "550 no such mailbox".into(),
        ))
    }
}

#[tokio::test]
async fn a_desk_email_refused_for_good_is_given_up_after_a_few_tries() {
    let desk = TestDesk::new();
    let reference = desk
        .post_form("repair", &ordinary_repair())
        .await
        .reference();
    let mut now = Utc::now();
    let mut tries = 0;
    loop {
        let report = notifier(&desk, std::sync::Arc::new(Refusing), now)
            .run_once()
            .await
            .unwrap();
        if report.failed == 0 {
            break;
        }
        tries += 1;
        assert!(tries < 10, "still retried after {tries} refusals");
        now += TimeDelta::hours(2);
    }
    assert_eq!(tries, 3);
    let ticket = desk.store.get(&reference).await.unwrap().unwrap();
    assert!(ticket.mail.given_up(), "{:?}", ticket.mail);
    assert!(
        ticket
            .mail
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("gave up after 3"),
        "{:?}",
        ticket.mail
    );
    // Nothing more is due, a day later either.
    let later = notifier(&desk, Outage::new(None), now + TimeDelta::days(1));
    assert_eq!(later.run_once().await.unwrap(), Report::default());
}
