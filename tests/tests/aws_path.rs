//! The deployed path on local servers that speak the AWS wire protocols:
//! a repair through the HTTP handler into DynamoDB, the notify step through
//! SES (moto), and an SES outage that loses nothing and sends once. Also
//! the SMTP transport against a real SMTP server (aiosmtpd).

use std::collections::BTreeMap;

use chrono::{TimeDelta, Utc};
use desk::assemble::backends;
use desk::notify::Report;
use desk::settings::Settings;
use tests::aws;
use tests::desk::{Outage, TestDesk, notifier, ordinary_repair};
use tests::site::workspace_dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repair_goes_through_dynamodb_and_ses_and_an_outage_loses_nothing() {
    let Some(moto) = aws::moto() else { return };
    let sdk = aws::sdk_config().await;
    let table = aws::unique_table("path");
    aws::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table).await;
    aws_sdk_sesv2::Client::new(&sdk)
        .create_email_identity()
        .email_identity("desk@example.org")
        .send()
        .await
        .expect("moto verifies the sender");

    // The functions' own start-up path, from the same variables.
    let (tmp, settings) = settings(&[
        ("DESK_STORE", "dynamodb"),
        ("DESK_TABLE", table.as_str()),
        ("DESK_MAIL", "ses"),
        ("DESK_MAIL_FROM", "物业客服中心 <desk@example.org>"),
        ("DESK_ESTATE", "path-test"),
    ]);
    let real = backends(&settings).await.expect("the AWS backends start");
    let desk = TestDesk::on(tmp, real.store.clone(), |_| {});

    // Ordinary and without the owner's address: it owes the desk email only.
    let reference = desk
        .post_form("repair", &ordinary_repair())
        .await
        .reference();
    let stored = desk
        .store
        .get(&reference)
        .await
        .unwrap()
        .expect("the ticket is in DynamoDB");
    assert!(!stored.mail.sent);
    let sent_before = |messages: &[serde_json::Value]| {
        messages
            .iter()
            .filter(|m| {
                m["raw_data"]
                    .as_str()
                    .unwrap_or("")
                    .contains(&format!("<{reference}@request-desk>"))
            })
            .count()
    };

    // SES is down: the ticket stays, the mail stays owed.
    let ses = Outage::new(Some(real.transport.clone()));
    ses.set_down(true);
    let now = Utc::now();
    assert_eq!(
        notifier(&desk, ses.clone(), now).run_once().await.unwrap(),
        Report {
            sent: 0,
            failed: 1,
            dropped: 0
        }
    );
    let owed = desk
        .store
        .get(&reference)
        .await
        .unwrap()
        .expect("still stored");
    assert!(!owed.mail.sent && owed.mail.attempts == 1);
    assert_eq!(sent_before(&aws::ses_messages(&moto).await), 0);

    // SES is back: a later run sends it, once.
    ses.set_down(false);
    let later = now + TimeDelta::minutes(5);
    assert_eq!(
        notifier(&desk, ses.clone(), later)
            .run_once()
            .await
            .unwrap(),
        Report {
            sent: 1,
            failed: 0,
            dropped: 0
        }
    );
    assert_eq!(
        notifier(&desk, ses.clone(), later + TimeDelta::hours(1))
            .run_once()
            .await
            .unwrap(),
        Report::default()
    );
    let messages = aws::ses_messages(&moto).await;
    assert_eq!(sent_before(&messages), 1, "sent exactly once");
    let message = messages
        .iter()
        .find(|m| m["raw_data"].as_str().unwrap_or("").contains(&reference))
        .unwrap();
    // To the desk, with a copy to engineering (the repair was dispatched
    // there at once).
    assert_eq!(
        message["destinations"],
        serde_json::json!([
            "desk@handbook.example.org",
            "engineering@handbook.example.org"
        ])
    );
    assert!(
        message["raw_data"]
            .as_str()
            .unwrap()
            .contains("Content-Type: text/plain; charset=utf-8")
    );
    assert!(desk.store.get(&reference).await.unwrap().unwrap().mail.sent);
}

#[tokio::test]
async fn the_smtp_transport_delivers_the_desk_email() {
    let Some((url, maildir)) = aws::smtp() else {
        return;
    };
    let desk = TestDesk::new();
    let reference = desk.file_repair().await;
    let smtp =
        std::sync::Arc::new(desk::mail::Smtp::from_url(&url).expect("the SMTP URL is usable"));
    assert_eq!(
        notifier(&desk, smtp, Utc::now()).run_once().await.unwrap(),
        Report {
            sent: 2,
            failed: 0,
            dropped: 0
        },
        "the desk email and the owner's confirmation"
    );
    let delivered = |message_id: &str| -> Vec<String> {
        std::fs::read_dir(maildir.join("new"))
            .expect("the maildir exists")
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .filter(|m| m.contains(&format!("<{message_id}@request-desk>")))
            .collect()
    };
    let confirmation = delivered(&format!("{reference}.confirmation.email"));
    assert_eq!(confirmation.len(), 1, "one confirmation");
    assert!(
        confirmation[0].contains("X-RcptTo: owner@example.org"),
        "{}",
        confirmation[0]
    );
    let delivered = delivered(&reference);
    assert_eq!(delivered.len(), 1, "one message for {reference}");
    assert!(
        delivered[0]
            .contains("X-RcptTo: desk@handbook.example.org, engineering@handbook.example.org"),
        "{}",
        delivered[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emergency_is_published_once_to_the_duty_sms_topic() {
    let Some(moto) = aws::moto() else { return };
    let sdk = aws::sdk_config().await;
    let table = aws::unique_table("sms");
    aws::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table).await;
    let topic = aws_sdk_sns::Client::new(&sdk)
        .create_topic()
        .name(format!("duty-phones-{table}"))
        .send()
        .await
        .expect("moto creates the topic")
        .topic_arn
        .expect("a topic ARN");
    let (tmp, settings) = settings(&[
        ("DESK_STORE", "dynamodb"),
        ("DESK_TABLE", table.as_str()),
        ("DESK_MAIL_FROM", "物业客服中心 <desk@example.org>"),
        ("DESK_ESTATE", "sms-test"),
        ("DESK_ALERT_SNS_TOPIC_ARN", topic.as_str()),
    ]);
    let real = backends(&settings).await.expect("the AWS backends start");
    let duty = settings.duty();
    let desk = TestDesk::on(tmp, real.store.clone(), |d| d.duty = duty);
    let reference = desk.file_repair().await;

    let mut notifier = notifier(&desk, real.transport.clone(), Utc::now());
    notifier.alerting = real.alerting.clone();
    notifier.run_once().await.unwrap();
    notifier.run_once().await.unwrap();

    let data: serde_json::Value =
        serde_json::from_str(&aws::http_get(&moto, "/moto-api/data.json").await)
            .expect("moto's data is JSON");
    let published: Vec<String> = data["sns"]["Topic"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["arn"] == topic.as_str())
        .flat_map(|t| {
            t["sent_notifications"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|n| n[1].as_str().map(str::to_owned))
        .collect();
    assert_eq!(published.len(), 1, "published once: {published:?}");
    assert!(published[0].contains(&reference) && published[0].contains("3-2-1502"));
    assert!(!published[0].contains("王女士") && !published[0].contains("138"));
}

/// Where instances are many the store counts submissions, in the new
/// ticket's own transaction: a form sent back with errors or a repeat of a
/// stored one counts nothing, and the limit holds across the windows read
/// back in one batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_counts_each_new_ticket_once_against_its_client() {
    let Some(_moto) = aws::moto() else { return };
    let sdk = aws::sdk_config().await;
    let table = aws::unique_table("limit");
    aws::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table).await;
    let (tmp, settings) = settings(&[
        ("DESK_STORE", "dynamodb"),
        ("DESK_TABLE", table.as_str()),
        ("DESK_ESTATE", "limit-test"),
    ]);
    let real = backends(&settings).await.expect("the AWS backends start");
    assert!(real.counts_in_store);
    let desk = TestDesk::on(tmp, real.store.clone(), |d| {
        d.rate_limit = 3;
        d.limiter = desk::throttle::Limiter::Store;
    });
    tests::desk::three_new_tickets_then_limited(&desk).await;
}

/// The functions' settings from `vars`, as at start-up, with a data folder.
fn settings(vars: &[(&str, &str)]) -> (tempfile::TempDir, Settings) {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let settings = Settings::from_vars(&vars, workspace_dir(), tmp.path().to_owned()).unwrap();
    (tmp, settings)
}
