//! The store contract on the embedded SQLite store, and its durability.

use std::sync::Arc;

use desk::store::{SqliteStore, TicketStore};

/// Each test gets its own database file; the folder is leaked on purpose
/// for the life of the test process so the file outlives the store.
async fn fresh() -> Option<Arc<dyn TicketStore>> {
    let dir = tempfile::tempdir().expect("a temporary folder").keep();
    Some(Arc::new(
        SqliteStore::open(&dir.join("tickets.sqlite3")).expect("the store opens"),
    ))
}

tests::store_contract_tests!(fresh);

#[tokio::test]
async fn a_stored_ticket_survives_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tickets.sqlite3");
    let t = tests::store_contract::ticket(
        "BX-20261123-KEEP01",
        tests::store_contract::at("2026-11-23T02:00:00Z"),
        30,
    );
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .create(
                t.clone(),
                desk::store::Idempotency::Token("tok-durable-01".into()),
            )
            .await
            .unwrap();
    }
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.get(&t.reference).await.unwrap(), Some(t));
}
