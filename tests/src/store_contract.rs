//! What every ticket store must do, written once and run against each
//! store (the embedded SQLite one, and DynamoDB on a local server).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use desk::store::{Created, Idempotency, StoreError, TicketStore};
use desk::ticket::{MailState, Status, Ticket};

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a time")
        .with_timezone(&Utc)
}

pub fn ticket(reference: &str, received: DateTime<Utc>, due_in_minutes: i64) -> Ticket {
    Ticket {
        reference: reference.to_owned(),
        kind: "repair".to_owned(),
        fields: vec![
            ("unit".to_owned(), "3-2-1502".to_owned()),
            ("description".to_owned(), "水管漏水".to_owned()),
        ],
        received_at: received,
        status: Status::Received,
        urgency: "ordinary".to_owned(),
        department: "engineering".to_owned(),
        due_at: received + TimeDelta::minutes(due_in_minutes),
        version: 1,
        mail: MailState {
            sent: false,
            attempts: 0,
            last_error: None,
            next_attempt: received,
        },
    }
}

fn token(t: &str) -> Idempotency {
    Idempotency::Token(t.to_owned())
}

const T0: &str = "2026-11-23T02:00:00Z";

pub async fn creates_and_reads_back(store: Arc<dyn TicketStore>) {
    let t = ticket("BX-20261123-AAAAA1", at(T0), 30);
    let created = store
        .create(t.clone(), token("tok-create-0001"))
        .await
        .unwrap();
    assert_eq!(created, Created::New(t.clone()));
    assert_eq!(store.get(&t.reference).await.unwrap(), Some(t));
    assert_eq!(store.get("BX-20261123-NOPE00").await.unwrap(), None);
}

pub async fn a_retried_token_stores_one_ticket(store: Arc<dyn TicketStore>) {
    let first = ticket("BX-20261123-AAAAA2", at(T0), 30);
    let retry = ticket("BX-20261123-BBBBB2", at(T0) + TimeDelta::seconds(3), 30);
    store
        .create(first.clone(), token("tok-retry-0001"))
        .await
        .unwrap();
    let again = store
        .create(retry.clone(), token("tok-retry-0001"))
        .await
        .unwrap();
    assert_eq!(
        again,
        Created::Existing(first.clone()),
        "the first ticket comes back"
    );
    assert_eq!(
        store.get(&retry.reference).await.unwrap(),
        None,
        "nothing new was written"
    );
}

pub async fn identical_submissions_count_once_for_ten_minutes(store: Arc<dyn TicketStore>) {
    let digest = || Idempotency::Digest("d1g3st".to_owned());
    let first = ticket("BX-20261123-AAAAA3", at(T0), 30);
    store.create(first.clone(), digest()).await.unwrap();
    let soon = ticket("BX-20261123-BBBBB3", at(T0) + TimeDelta::minutes(9), 30);
    assert_eq!(
        store.create(soon, digest()).await.unwrap(),
        Created::Existing(first)
    );
    let later = ticket("BX-20261123-CCCCC3", at(T0) + TimeDelta::minutes(11), 30);
    assert_eq!(
        store.create(later.clone(), digest()).await.unwrap(),
        Created::New(later)
    );
}

pub async fn concurrent_duplicates_store_exactly_one(store: Arc<dyn TicketStore>) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let t = ticket(&format!("BX-20261123-CONC0{i}"), at(T0), 30);
            store.create(t, token("tok-concurrent-01")).await
        }));
    }
    let mut new = Vec::new();
    let mut references = std::collections::BTreeSet::new();
    for task in tasks {
        let created = task.await.expect("the task ran").expect("create works");
        references.insert(created.ticket().reference.clone());
        if let Created::New(t) = created {
            new.push(t);
        }
    }
    assert_eq!(new.len(), 1, "exactly one submission wins");
    assert_eq!(
        references.len(),
        1,
        "every duplicate gets the winner's reference"
    );
}

pub async fn a_taken_reference_is_refused(store: Arc<dyn TicketStore>) {
    let t = ticket("BX-20261123-SAME01", at(T0), 30);
    store
        .create(t.clone(), token("tok-same-00001"))
        .await
        .unwrap();
    let clash = store.create(t, token("tok-same-00002")).await;
    assert!(
        matches!(clash, Err(StoreError::ReferenceTaken(_))),
        "{clash:?}"
    );
}

pub async fn lists_by_status_earliest_due_first(store: Arc<dyn TicketStore>) {
    for (reference, due) in [
        ("BX-20261123-LIST03", 300),
        ("BX-20261123-LIST01", 30),
        ("BX-20261123-LIST02", 60),
    ] {
        store
            .create(
                ticket(reference, at(T0), due),
                token(&format!("tok-{reference}")),
            )
            .await
            .unwrap();
    }
    let listed: Vec<String> = store
        .list_by_status(Status::Received, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.reference)
        .collect();
    assert_eq!(
        listed,
        [
            "BX-20261123-LIST01",
            "BX-20261123-LIST02",
            "BX-20261123-LIST03"
        ]
    );
    assert_eq!(
        store
            .list_by_status(Status::Received, 2)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .list_by_status(Status::Closed, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn status_updates_check_the_version(store: Arc<dyn TicketStore>) {
    let t = ticket("BX-20261123-VERS01", at(T0), 30);
    store
        .create(t.clone(), token("tok-version-01"))
        .await
        .unwrap();
    let moved = store
        .set_status(&t.reference, 1, Status::Acknowledged)
        .await
        .unwrap();
    assert_eq!((moved.status, moved.version), (Status::Acknowledged, 2));
    let stale = store.set_status(&t.reference, 1, Status::Closed).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let missing = store
        .set_status("BX-20261123-GONE01", 1, Status::Closed)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    assert_eq!(
        store
            .list_by_status(Status::Acknowledged, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn owed_mail_is_claimed_once_and_retried_later(store: Arc<dyn TicketStore>) {
    let now = at(T0);
    let t = ticket("BX-20261123-MAIL01", now, 30);
    store
        .create(t.clone(), token("tok-mail-00001"))
        .await
        .unwrap();
    assert_eq!(store.mail_due(now, 10).await.unwrap().len(), 1);
    assert!(
        store
            .claim_mail(&t.reference, now, now + TimeDelta::minutes(2))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_mail(&t.reference, now, now + TimeDelta::minutes(2))
            .await
            .unwrap(),
        "a second sender is kept out"
    );
    assert!(
        store.mail_due(now, 10).await.unwrap().is_empty(),
        "a claimed mail is not due"
    );

    store
        .mail_failed(&t.reference, "SES is down", now + TimeDelta::minutes(1))
        .await
        .unwrap();
    assert!(
        store.mail_due(now, 10).await.unwrap().is_empty(),
        "not before the back-off"
    );
    let retry_at = now + TimeDelta::minutes(1);
    let due = store.mail_due(retry_at, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].mail.attempts, due[0].mail.last_error.as_deref()),
        (1, Some("SES is down"))
    );

    assert!(
        store
            .claim_mail(&t.reference, retry_at, retry_at + TimeDelta::minutes(2))
            .await
            .unwrap()
    );
    store.mail_sent(&t.reference).await.unwrap();
    assert!(
        store
            .mail_due(retry_at + TimeDelta::hours(1), 10)
            .await
            .unwrap()
            .is_empty(),
        "sent mail is never due again"
    );
    assert!(
        !store
            .claim_mail(
                &t.reference,
                retry_at + TimeDelta::hours(1),
                retry_at + TimeDelta::hours(2)
            )
            .await
            .unwrap()
    );
    assert!(store.get(&t.reference).await.unwrap().unwrap().mail.sent);
}

pub async fn rate_limit_counts_per_key(store: Arc<dyn TicketStore>) {
    let end = at(T0) + TimeDelta::minutes(1);
    for expected in 1..=3 {
        assert_eq!(
            store.count_hit("rate#client-a#1", end).await.unwrap(),
            expected
        );
    }
    assert_eq!(store.count_hit("rate#client-b#1", end).await.unwrap(), 1);
    assert_eq!(
        store
            .count_hit("rate#client-a#2", end + TimeDelta::minutes(1))
            .await
            .unwrap(),
        1
    );
}

/// Runs every contract test, each on a fresh store from `fresh`, an async
/// function giving `Option<Arc<dyn TicketStore>>` (`None`: the store's
/// server is not running here, see `tests::aws`).
#[macro_export]
macro_rules! store_contract_tests {
    ($fresh:expr) => {
        mod contract {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn creates_and_reads_back() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::creates_and_reads_back(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_retried_token_stores_one_ticket() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::a_retried_token_stores_one_ticket(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn identical_submissions_count_once_for_ten_minutes() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::identical_submissions_count_once_for_ten_minutes(store)
                        .await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn concurrent_duplicates_store_exactly_one() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::concurrent_duplicates_store_exactly_one(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_taken_reference_is_refused() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::a_taken_reference_is_refused(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn lists_by_status_earliest_due_first() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::lists_by_status_earliest_due_first(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn status_updates_check_the_version() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::status_updates_check_the_version(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn owed_mail_is_claimed_once_and_retried_later() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::owed_mail_is_claimed_once_and_retried_later(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn rate_limit_counts_per_key() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::rate_limit_counts_per_key(store).await
                }
            }
        }
    };
}
