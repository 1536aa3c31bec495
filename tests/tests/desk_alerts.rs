//! What a ticket owes besides the desk email: the owner's confirmation and
//! milestone emails, the duty alert of an emergency (to a real webhook on
//! 127.0.0.1), its escalation when nobody acts, the overdue warning and the
//! daily digest. Each is stored before it is sent and sent once.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use desk::alert::{AlertChannel, Alerting, Webhook, WebhookFormat};
use desk::mail::{MailTransport, Outbox};
use desk::notify::{Notifier, Report};
use desk::outgoing::{Delivery, Duty, Purpose};
use tests::desk::{TestDesk, notifier, ordinary_repair, repair};
use tests::webhook::Receiver;

/// A desk whose emergencies alert the duty robot, with the staff of the
/// estate's desk, engineering and the manager.
async fn desk_with_duty() -> TestDesk {
    let desk = TestDesk::with(|d| {
        d.duty = Duty {
            webhook: true,
            sms: false,
            escalate_after: TimeDelta::minutes(10),
        }
    });
    desk.add_staff("wang", "王芳", "desk").await;
    desk.add_staff("li", "李师傅", "department:engineering")
        .await;
    desk
}

fn robot(url: &str) -> Option<Arc<dyn AlertChannel>> {
    Some(Arc::new(
        Webhook::new(url, WebhookFormat::WeCom).expect("a client"),
    ))
}

/// The notifier at `now`, its mail to the desk's outbox, its alerts to
/// the receiver's `duty` and `manager` robots.
fn at(desk: &TestDesk, receiver: &Receiver, now: DateTime<Utc>) -> Notifier {
    let outbox: Arc<dyn MailTransport> = Arc::new(Outbox::new(desk.tmp.path().join("outbox")));
    let mut notifier = notifier(desk, outbox, now);
    notifier.alerting = Alerting {
        duty_webhook: robot(&receiver.url("duty")),
        manager_webhook: robot(&receiver.url("manager")),
        ..Alerting::default()
    };
    notifier
}

fn outbox_file(desk: &TestDesk, id: &str) -> Option<String> {
    std::fs::read_to_string(desk.tmp.path().join("outbox").join(format!("{id}.eml"))).ok()
}

/// An `.eml` as a mail program reads it: the first recipient, the copies
/// and the decoded text.
struct Email {
    to: String,
    cc: Vec<String>,
    text: String,
}

fn email(eml: &str) -> Email {
    let message = mail_parser::MessageParser::default()
        .parse(eml.as_bytes())
        .expect("the .eml parses");
    let addresses = |list: Option<&mail_parser::Address>| -> Vec<String> {
        list.map(|a| {
            a.iter()
                .filter_map(|m| m.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    };
    Email {
        to: addresses(message.to())
            .into_iter()
            .next()
            .unwrap_or_default(),
        cc: addresses(message.cc()),
        text: message.body_text(0).expect("a text body").into_owned(),
    }
}

#[tokio::test]
async fn an_emergency_alerts_the_duty_robot_once_without_personal_data_and_survives_an_outage() {
    let desk = desk_with_duty().await;
    let receiver = Receiver::start().await;
    receiver.set_down(true);
    let reference = desk.file_repair().await;
    let now = Utc::now();

    let report = at(&desk, &receiver, now).run_once().await.unwrap();
    assert_eq!(report.failed, 1, "the alert failed: {report:?}");
    assert!(
        desk.store.get(&reference).await.unwrap().is_some(),
        "the ticket is kept"
    );
    let owed = desk.store.outgoing_of(&reference).await.unwrap();
    let alert = owed
        .iter()
        .find(|m| m.purpose == Purpose::Alert)
        .expect("the alert is stored");
    assert_eq!(alert.delivery, Delivery::Owed);
    assert!(alert.last_error.as_deref().unwrap_or("").contains("503"));
    // The desk sees it on the ticket's page.
    let wang = desk.sign_in("wang").await;
    let page = desk
        .staff_get(Some(&wang), &format!("/desk/tickets/{reference}"), false)
        .await;
    assert!(
        page.body
            .contains("值班通知 · 工作群：发送失败 1 次，正在重试"),
        "{}",
        page.body
    );

    receiver.set_down(false);
    let later = now + TimeDelta::minutes(1);
    at(&desk, &receiver, later).run_once().await.unwrap();
    at(&desk, &receiver, later + TimeDelta::seconds(30))
        .run_once()
        .await
        .unwrap();
    let texts = receiver.texts("duty");
    assert_eq!(texts.len(), 1, "one alert: {texts:?}");
    let text = &texts[0];
    for wanted in [reference.as_str(), "3-2-1502", "给排水", "/desk/tickets/"] {
        assert!(text.contains(wanted), "the alert names {wanted}: {text}");
    }
    for private in ["王女士", "138", "owner@example.org", "水管爆裂"] {
        assert!(
            !text.contains(private),
            "the alert carries no {private}: {text}"
        );
    }
}

#[tokio::test]
async fn nobody_acting_escalates_to_the_manager_and_any_staff_action_acknowledges() {
    let desk = desk_with_duty().await;
    let receiver = Receiver::start().await;
    let ignored = desk.file_repair().await;
    let next_door: Vec<_> = repair()
        .into_iter()
        .map(|(k, v)| if k == "unit" { (k, "3-2-1503") } else { (k, v) })
        .collect();
    let handled = desk.post_form("repair", &next_door).await.reference();
    let now = Utc::now();
    at(&desk, &receiver, now).run_once().await.unwrap();
    assert_eq!(receiver.texts("duty").len(), 2, "both alerted at once");
    assert!(receiver.texts("manager").is_empty(), "no escalation yet");

    let li = desk.sign_in("li").await;
    let started = desk
        .act(&li, &handled, "start", 1, serde_json::json!({}))
        .await;
    assert_eq!(started.status, 200, "{}", started.body);

    let after_delay = now + TimeDelta::minutes(11);
    at(&desk, &receiver, after_delay).run_once().await.unwrap();
    at(&desk, &receiver, after_delay + TimeDelta::minutes(1))
        .run_once()
        .await
        .unwrap();
    let escalations = receiver.texts("manager");
    assert_eq!(escalations.len(), 1, "one escalation: {escalations:?}");
    assert!(escalations[0].contains(&ignored) && escalations[0].contains("升级"));
    assert!(
        outbox_file(&desk, &format!("{ignored}.escalation.email")).is_some(),
        "and an email to the manager"
    );
    let dropped = desk.store.outgoing_of(&handled).await.unwrap();
    assert!(
        dropped
            .iter()
            .filter(|m| m.purpose == Purpose::Escalation)
            .all(|m| matches!(m.delivery, Delivery::Dropped(_))),
        "acknowledged in time: {dropped:?}"
    );
    assert_eq!(
        receiver.texts("duty").len(),
        2,
        "the alerts were not repeated"
    );
}

#[tokio::test]
async fn the_owner_is_emailed_on_filing_on_a_booked_visit_and_when_done() {
    let desk = desk_with_duty().await;
    let receiver = Receiver::start().await;
    let reference = desk.file_repair().await;
    at(&desk, &receiver, Utc::now()).run_once().await.unwrap();
    let confirmation = outbox_file(&desk, &format!("{reference}.confirmation.email"))
        .expect("the confirmation is in the outbox");
    let confirmation = email(&confirmation);
    assert_eq!(confirmation.to, "owner@example.org");
    let text = confirmation.text;
    assert!(text.contains(&reference), "{text}");
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/received/"))
        .expect("a status link");
    let path = &link[link.find("/forms/").expect("a desk path")..];
    let page = desk.get(path).await;
    assert_eq!(page.status, 200, "the email's link opens the status page");
    assert!(page.body.contains(&reference));

    let li = desk.sign_in("li").await;
    let scheduled = desk
        .act(
            &li,
            &reference,
            "schedule",
            1,
            serde_json::json!({ "visit_at": "2026-12-05T09:30" }),
        )
        .await;
    assert_eq!(scheduled.status, 200, "{}", scheduled.body);
    let completed = desk
        .act(
            &li,
            &reference,
            "complete",
            2,
            serde_json::json!({ "note": "更换了角阀" }),
        )
        .await;
    assert_eq!(completed.status, 200, "{}", completed.body);
    let report = at(&desk, &receiver, Utc::now()).run_once().await.unwrap();
    assert!(report.sent >= 2, "{report:?}");
    let visit =
        email(&outbox_file(&desk, &format!("{reference}.visit-2.email")).expect("the visit email"))
            .text;
    assert!(visit.contains("2026年12月5日 09:30"), "{visit}");
    let done =
        email(&outbox_file(&desk, &format!("{reference}.done-3.email")).expect("the done email"))
            .text;
    assert!(
        done.contains("是否解决") && done.contains("打分") && done.contains("/received/"),
        "{done}"
    );
    for email in [&visit, &done] {
        assert!(!email.contains("李师傅"), "no staff names: {email}");
    }
    // Each link opens the page, and the secrets are gone from the store.
    for message in desk.store.outgoing_of(&reference).await.unwrap() {
        if message.delivery == Delivery::Sent {
            assert_eq!(
                message.secret, None,
                "{} keeps no key once sent",
                message.id
            );
        }
    }

    // An owner without an address is emailed nothing.
    let quiet = desk
        .post_form("repair", &ordinary_repair())
        .await
        .reference();
    assert!(desk.store.outgoing_of(&quiet).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_overdue_emergency_warns_at_once_and_the_digest_lists_what_is_late() {
    let desk = desk_with_duty().await;
    let receiver = Receiver::start().await;
    let late = desk.file_repair().await;
    let ticket = desk.store.get(&late).await.unwrap().unwrap();
    let after_due = ticket.due_at + TimeDelta::minutes(1);
    let mut notifier = at(&desk, &receiver, after_due);
    notifier.digest_hour = Some(0);
    let report: Report = notifier.run_once().await.unwrap();
    assert!(report.sent >= 3, "{report:?}");
    let warning =
        email(&outbox_file(&desk, &format!("{late}.overdue.email")).expect("the overdue warning"));
    assert_eq!(warning.to, "desk@handbook.example.org", "to the desk");
    assert_eq!(
        warning.cc,
        ["manager@handbook.example.org"],
        "with a copy to the manager"
    );
    assert!(warning.text.contains(&late) && warning.text.contains("/desk/tickets/"));
    assert!(
        receiver
            .texts("duty")
            .iter()
            .any(|t| t.contains("超时") && t.contains(&late)),
        "the duty robot hears of it too"
    );
    let day = notifier.clock.local(after_due).date_naive();
    let digest =
        email(&outbox_file(&desk, &format!("digest-{day}.email")).expect("the digest")).text;
    assert!(digest.contains(&late), "{digest}");

    // A second run the same day sends neither again.
    let again = at(&desk, &receiver, after_due + TimeDelta::minutes(5));
    let report = again.run_once().await.unwrap();
    assert_eq!(report.sent, 0, "{report:?}");
}

#[test]
fn the_repair_forms_emergency_choice_is_marked_for_alerts() {
    let forms = forms::FormSet::load(&tests::site::workspace_dir().join("content/forms")).unwrap();
    let repair = forms.get("repair").unwrap();
    let urgency = repair.fields.iter().find(|f| f.name == "urgency").unwrap();
    assert!(urgency.choice("emergency").unwrap().alert);
    assert!(!urgency.choice("ordinary").unwrap().alert);
}

#[tokio::test]
async fn a_honeypot_emergency_page_says_the_duty_staff_were_told_as_a_real_one_does() {
    let desk = desk_with_duty().await;
    let receiver = Receiver::start().await;
    let mut spam = repair();
    spam.retain(|(k, _)| *k != "website");
    spam.push(("website", "http://cheap-pills.example"));
    let real = desk.post_form("repair", &repair()).await;
    let caught = desk.post_form("repair", &spam).await;
    at(&desk, &receiver, Utc::now()).run_once().await.unwrap();
    // A minute later the real alert has long been sent.
    let later = TestDesk::on(tempfile::tempdir().unwrap(), desk.store.clone(), |d| {
        d.duty = desk.desk.duty.clone();
        d.clock = desk::time::Clock::pinned(d.clock.offset(), Utc::now() + TimeDelta::minutes(1));
    });
    for answer in [&real, &caught] {
        let url = answer.header("location").unwrap();
        let page = later.get(&url[url.find("/forms/").unwrap()..]).await;
        assert!(page.body.contains("已通知值班人员"), "{}", page.body);
    }
}
