//! What every ticket store must do, written once and run against each
//! store (the embedded SQLite one, and DynamoDB on a local server).

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use desk::accounts::{Role, Session, Staff};
use desk::snapshot::{Answer, FormSnapshot, Promise};
use desk::store::{
    Change, Created, Filters, Hit, Idempotency, ListQuery, StoreError, TicketStore, View,
};
use desk::ticket::{Actor, Event, MailPurpose, MailState, Status, Ticket};
use desk::time::Clock;
use desk::workflow;

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a time")
        .with_timezone(&Utc)
}

/// The first event of every ticket: the owner filed it.
pub fn filed(at: DateTime<Utc>) -> Event {
    Event {
        seq: 1,
        at,
        actor: Actor {
            username: None,
            name: "业主（在线提交）".to_owned(),
        },
        action: "file".to_owned(),
        from: Status::Received,
        to: Status::Received,
        note: String::new(),
        details: Vec::new(),
    }
}

/// A new repair request, received at `received`, its email owed.
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
        category: Some("plumbing".to_owned()),
        department: "engineering".to_owned(),
        assignee: None,
        serious: false,
        due_at: received + TimeDelta::minutes(due_in_minutes),
        visit_at: None,
        done_at: None,
        follow_up: None,
        reopen_count: 0,
        version: 1,
        updated_at: received,
        updated_by: Actor::system().name,
        mail: MailState::owed(received, MailPurpose::New),
        status_keys: vec![desk::accounts::hash_token("first key")],
        timeline: vec![filed(received)],
        // Stored and read back whole, so an email owed after a form edit
        // still reads as the owner filled it in.
        snapshot: Some(FormSnapshot {
            title: "在线报修".to_owned(),
            noun: "报修".to_owned(),
            promise: Some(Promise {
                label: "一般报修".to_owned(),
                text: "24 小时内上门".to_owned(),
            }),
            category: Some("给排水".to_owned()),
            emergency: false,
            answers: vec![
                Answer {
                    name: "unit".to_owned(),
                    label: "房号".to_owned(),
                    choice: None,
                    personal: false,
                    email: false,
                },
                Answer {
                    name: "description".to_owned(),
                    label: "问题描述".to_owned(),
                    choice: None,
                    personal: true,
                    email: false,
                },
            ],
        }),
    }
}

fn departments(id: &str) -> Option<String> {
    match id {
        "engineering" => Some("工程部".to_owned()),
        "security" => Some("秩序部".to_owned()),
        "service" => Some("客服部".to_owned()),
        _ => None,
    }
}

fn is_staff(username: &str) -> bool {
    matches!(username, "li" | "wang")
}

/// Takes `action` on the stored ticket at `now` as the desk's 王客服, the
/// way the staff app does: read it, apply the workflow, record the change.
/// The ticket as it is after.
pub async fn act(
    store: &Arc<dyn TicketStore>,
    reference: &str,
    action: &str,
    inputs: &[(&str, &str)],
    now: DateTime<Utc>,
) -> Ticket {
    let current = store
        .get(reference)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{reference} is stored"));
    let (next, change) = change(&current, action, inputs, now);
    store
        .record(&change)
        .await
        .unwrap_or_else(|e| panic!("{action} on {reference}: {e}"));
    next
}

/// `action` applied to `current` at `now`, and the change to record.
pub fn change(
    current: &Ticket,
    action: &str,
    inputs: &[(&str, &str)],
    now: DateTime<Utc>,
) -> (Ticket, Change) {
    let inputs: Vec<(String, String)> = inputs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let context = workflow::Context {
        clock: Clock::pinned(FixedOffset::east_opt(8 * 3600).unwrap(), now),
        departments: &departments,
        staff: &is_staff,
    };
    let actor = Actor {
        username: Some("wang".to_owned()),
        name: "王客服".to_owned(),
    };
    let (next, event) = workflow::apply(current, action, &inputs, &actor, &context)
        .unwrap_or_else(|e| panic!("{action} is allowed on {current:?}: {e}"));
    let change = Change {
        ticket: next.clone(),
        event,
        owes_mail: next.mail != current.mail,
        owed: Vec::new(),
    };
    (next, change)
}

fn token(t: &str) -> Idempotency {
    Idempotency::Token(t.to_owned())
}

const T0: &str = "2026-11-23T02:00:00Z";

pub async fn creates_and_reads_back(store: Arc<dyn TicketStore>) {
    // Filed and dispatched at once: two events on filing.
    let mut t = ticket("BX-20261123-AAAAA1", at(T0), 30);
    t.status = Status::Dispatched;
    t.timeline.push(Event {
        seq: 2,
        at: at(T0),
        actor: Actor::system(),
        action: "dispatch".to_owned(),
        from: Status::Received,
        to: Status::Dispatched,
        note: "按报修类别自动派单".to_owned(),
        details: vec![("department".to_owned(), "engineering".to_owned())],
    });
    let created = store
        .create(t.clone(), token("tok-create-0001"))
        .await
        .unwrap();
    assert_eq!(created, Created::New(t.clone()));
    let stored = store.get(&t.reference).await.unwrap();
    assert_eq!(stored, Some(t), "the ticket and its timeline, in order");
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

pub async fn changes_append_to_the_timeline_in_order(store: Arc<dyn TicketStore>) {
    let t = ticket("BX-20261123-FLOW01", at(T0), 240);
    let reference = t.reference.clone();
    store.create(t, token("tok-flow-00001")).await.unwrap();
    // The whole road and back, a minute apart: every change read back
    // whole, its timeline the one before with one more event.
    let steps: &[(&str, &[(&str, &str)])] = &[
        (
            "dispatch",
            &[("department", "engineering"), ("assignee", "li")],
        ),
        (
            "dispatch",
            &[("department", "security"), ("note", "转秩序部")],
        ),
        ("schedule", &[("visit_at", "2026-11-24T09:30")]),
        ("start", &[]),
        ("hold", &[("reason", "等配件")]),
        ("start", &[]),
        ("complete", &[("note", "已更换阀门")]),
        (
            "follow_up",
            &[
                ("reached", "yes"),
                ("satisfaction", "4"),
                ("comment", "满意"),
            ],
        ),
        ("close", &[]),
        ("reopen", &[("reason", "又漏了")]),
        ("note", &[("note", "已联系工程部")]),
    ];
    let mut before = store.get(&reference).await.unwrap().unwrap();
    for (i, (action, inputs)) in steps.iter().enumerate() {
        let now = at(T0) + TimeDelta::minutes(i as i64 + 1);
        let next = act(&store, &reference, action, inputs, now).await;
        let stored = store.get(&reference).await.unwrap().unwrap();
        assert_eq!(stored, next, "after {action}");
        assert_eq!(stored.version, before.version + 1, "after {action}");
        assert_eq!(
            stored.timeline[..before.timeline.len()],
            before.timeline[..],
            "after {action}: earlier events are never altered"
        );
        assert_eq!(stored.timeline.len(), before.timeline.len() + 1);
        before = stored;
    }
    let seqs: Vec<u32> = before.timeline.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (1..=12).collect::<Vec<u32>>(),
        "ordered by number past 9"
    );
    let actions: Vec<&str> = before.timeline.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "file",
            "dispatch",
            "dispatch",
            "schedule",
            "start",
            "hold",
            "start",
            "complete",
            "follow_up",
            "close",
            "reopen",
            "note"
        ]
    );
    assert_eq!(
        (
            before.status,
            before.department.as_str(),
            before.assignee.as_deref(),
            before.reopen_count
        ),
        (Status::Reopened, "security", None, 1),
        "a dispatch without a person clears the person"
    );
    assert_eq!(
        before.follow_up.as_ref().and_then(|f| f.satisfaction),
        Some(4)
    );
    assert!(before.visit_at.is_some() && before.done_at.is_some());
}

pub async fn a_stale_or_missing_ticket_change_writes_nothing(store: Arc<dyn TicketStore>) {
    let t = ticket("BX-20261123-VERS01", at(T0), 30);
    store
        .create(t.clone(), token("tok-version-01"))
        .await
        .unwrap();
    // Two people open the ticket; the first to act wins.
    let seen = store.get(&t.reference).await.unwrap().unwrap();
    let now = at(T0) + TimeDelta::minutes(5);
    let (dispatched, first) = change(&seen, "dispatch", &[("department", "engineering")], now);
    let (_, second) = change(&seen, "cancel", &[("reason", "重复提交")], now);
    store.record(&first).await.unwrap();
    let stale = store.record(&second).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let stored = store.get(&t.reference).await.unwrap().unwrap();
    assert_eq!(
        stored, dispatched,
        "the loser wrote neither ticket nor event"
    );
    assert_eq!(stored.timeline[1].action, "dispatch");

    let gone = ticket("BX-20261123-GONE01", at(T0), 30);
    let (_, missing) = change(&gone, "cancel", &[("reason", "撤回")], now);
    let missing = store.record(&missing).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    assert_eq!(store.get(&gone.reference).await.unwrap(), None);
}

/// The references of a queue at `now`, as listed.
async fn queue(
    store: &Arc<dyn TicketStore>,
    view: View,
    filters: Filters,
    now: DateTime<Utc>,
    limit: usize,
) -> Vec<String> {
    let listed = store
        .list(&ListQuery {
            view: view.clone(),
            filters: filters.clone(),
            now,
            limit,
        })
        .await
        .unwrap_or_else(|e| panic!("{view:?} {filters:?}: {e}"));
    assert!(
        listed.iter().all(|t| t.timeline.is_empty()),
        "lists leave timelines out"
    );
    listed
        .into_iter()
        .map(|t| t.reference.trim_start_matches("BX-20261123-").to_owned())
        .collect()
}

/// (reference, kind, category, department, status, assignee, due, received,
/// unit, serious), times in minutes after T0.
type Seed<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    &'a str,
    Status,
    Option<&'a str>,
    i64,
    i64,
    &'a str,
    bool,
);

pub async fn queues_draw_on_their_views_filters_and_order(store: Arc<dyn TicketStore>) {
    let minutes = |m: i64| at(T0) + TimeDelta::minutes(m);
    #[rustfmt::skip]
    let seeds: &[Seed] = &[
        ("Q01", "repair",    Some("plumbing"),   "engineering", Status::Received,   None,         30,  0, "3-2-1502", false),
        ("Q02", "complaint", None,               "service",     Status::Received,   None,        600, 10, "5-1-101",  true),
        ("Q03", "repair",    Some("electrical"), "engineering", Status::Reopened,   None,        300,  0, "3-2-0801", false),
        ("Q04", "repair",    Some("plumbing"),   "engineering", Status::Dispatched, Some("li"),   60,  0, "3-1-1201", false),
        ("Q05", "repair",    Some("plumbing"),   "engineering", Status::InProgress, Some("li"),  900,  0, "13-2-101", false),
        ("Q06", "repair",    Some("electrical"), "engineering", Status::OnHold,     Some("wang"), 90, 60, "3-3-303",  false),
        ("Q07", "feedback",  None,               "service",     Status::Done,       Some("li"),   20, 60, "2-1-101",  false),
        ("Q08", "repair",    Some("plumbing"),   "security",    Status::Closed,     None,         10, 120, "3-2-1502", false),
        ("Q09", "complaint", Some("noise"),      "security",    Status::Dispatched, None,        200, 90, "7-7-707",  false),
    ];
    for &(suffix, kind, category, department, status, assignee, due, received, unit, serious) in
        seeds
    {
        let reference = format!("BX-20261123-{suffix}");
        let mut t = ticket(&reference, minutes(received), 0);
        t.kind = kind.to_owned();
        t.category = category.map(str::to_owned);
        t.department = department.to_owned();
        t.status = status;
        t.assignee = assignee.map(str::to_owned);
        t.due_at = minutes(due);
        t.fields[0].1 = unit.to_owned();
        t.serious = serious;
        store
            .create(t, token(&format!("tok-{reference}")))
            .await
            .unwrap();
    }
    let now = minutes(120);
    let none = Filters::default;
    let all = |filters: Filters| queue(&store, View::All, filters, now, 50);

    // Each view, before any filter.
    assert_eq!(
        queue(&store, View::New, none(), now, 50).await,
        ["Q03", "Q02", "Q01"],
        "reopened and serious first"
    );
    assert_eq!(
        queue(&store, View::Mine("li".into()), none(), now, 50).await,
        ["Q04", "Q05"],
        "open only"
    );
    assert_eq!(
        queue(&store, View::Mine("wang".into()), none(), now, 50).await,
        ["Q06"]
    );
    assert!(
        queue(&store, View::Mine("zhao".into()), none(), now, 50)
            .await
            .is_empty()
    );
    assert_eq!(
        queue(
            &store,
            View::Department("engineering".into()),
            none(),
            now,
            50
        )
        .await,
        ["Q01", "Q04", "Q06", "Q03", "Q05"]
    );
    assert_eq!(
        queue(&store, View::Department("service".into()), none(), now, 50).await,
        ["Q02"]
    );
    assert_eq!(
        queue(&store, View::Overdue, none(), now, 50).await,
        ["Q01", "Q04", "Q06"],
        "open and past due"
    );
    assert_eq!(
        queue(&store, View::Overdue, none(), minutes(30), 50).await,
        Vec::<String>::new(),
        "due at now is not overdue"
    );
    assert_eq!(queue(&store, View::Waiting, none(), now, 50).await, ["Q06"]);
    assert_eq!(
        queue(
            &store,
            View::AwaitingFollowUp { done_before: now },
            none(),
            now,
            50
        )
        .await,
        ["Q07"]
    );
    assert_eq!(
        all(none()).await,
        [
            "Q08", "Q07", "Q01", "Q04", "Q06", "Q09", "Q03", "Q02", "Q05"
        ]
    );
    // The limit keeps the first of the whole sorted queue.
    assert_eq!(
        queue(&store, View::All, none(), now, 3).await,
        ["Q08", "Q07", "Q01"]
    );
    assert_eq!(
        queue(&store, View::Overdue, none(), now, 2).await,
        ["Q01", "Q04"]
    );
    assert_eq!(queue(&store, View::New, none(), now, 1).await, ["Q03"]);

    // Each filter.
    let f = |edit: fn(&mut Filters)| {
        let mut filters = Filters::default();
        edit(&mut filters);
        filters
    };
    assert_eq!(
        all(f(|f| f.kind = Some("complaint".into()))).await,
        ["Q09", "Q02"]
    );
    assert_eq!(
        all(f(|f| f.category = Some("electrical".into()))).await,
        ["Q06", "Q03"]
    );
    assert_eq!(
        all(f(|f| f.department = Some("security".into()))).await,
        ["Q08", "Q09"]
    );
    assert_eq!(
        all(f(|f| f.status = Some(Status::Dispatched))).await,
        ["Q04", "Q09"]
    );
    assert_eq!(
        all(f(|f| f.from = Some(at(T0) + TimeDelta::hours(1)))).await,
        ["Q08", "Q07", "Q06", "Q09"],
        "received at or after"
    );
    assert_eq!(
        all(f(|f| {
            f.from = Some(at(T0) + TimeDelta::hours(1));
            f.to = Some(at(T0) + TimeDelta::hours(2));
        }))
        .await,
        ["Q07", "Q06", "Q09"],
        "and before"
    );
    assert_eq!(
        all(f(|f| f.unit = Some(" 3-2".into()))).await,
        ["Q08", "Q01", "Q03"],
        "from the unit's start"
    );
    // Views and filters together.
    assert_eq!(
        queue(
            &store,
            View::New,
            f(|f| f.kind = Some("repair".into())),
            now,
            50
        )
        .await,
        ["Q03", "Q01"]
    );
    assert_eq!(
        queue(
            &store,
            View::Department("engineering".into()),
            f(|f| f.status = Some(Status::OnHold)),
            now,
            50
        )
        .await,
        ["Q06"]
    );
    assert_eq!(
        queue(
            &store,
            View::Overdue,
            f(|f| f.department = Some("engineering".into())),
            now,
            50
        )
        .await,
        ["Q01", "Q04", "Q06"]
    );
    assert!(
        queue(
            &store,
            View::Waiting,
            f(|f| f.status = Some(Status::Done)),
            now,
            50
        )
        .await
        .is_empty()
    );
    assert!(
        queue(
            &store,
            View::Department("engineering".into()),
            f(|f| f.department = Some("security".into())),
            now,
            50
        )
        .await
        .is_empty()
    );

    // Changes move tickets between queues.
    act(
        &store,
        "BX-20261123-Q01",
        "dispatch",
        &[("department", "security"), ("assignee", "wang")],
        now,
    )
    .await;
    act(
        &store,
        "BX-20261123-Q04",
        "complete",
        &[("note", "已修好")],
        now,
    )
    .await;
    assert_eq!(
        queue(&store, View::New, none(), now, 50).await,
        ["Q03", "Q02"]
    );
    assert_eq!(
        queue(&store, View::Mine("wang".into()), none(), now, 50).await,
        ["Q01", "Q06"]
    );
    assert_eq!(
        queue(&store, View::Mine("li".into()), none(), now, 50).await,
        ["Q05"],
        "done leaves the person's queue"
    );
    assert_eq!(
        queue(
            &store,
            View::Department("engineering".into()),
            none(),
            now,
            50
        )
        .await,
        ["Q06", "Q03", "Q05"]
    );
    assert_eq!(
        queue(&store, View::Department("security".into()), none(), now, 50).await,
        ["Q01", "Q09"]
    );
    assert_eq!(
        queue(
            &store,
            View::AwaitingFollowUp { done_before: now },
            none(),
            now,
            50
        )
        .await,
        ["Q07", "Q04"]
    );
    assert_eq!(
        queue(&store, View::Overdue, none(), now, 50).await,
        ["Q01", "Q06"]
    );
    assert_eq!(all(f(|f| f.status = Some(Status::Received))).await, ["Q02"]);
}

pub async fn marking_serious_owes_the_manager_an_email(store: Arc<dyn TicketStore>) {
    let now = at(T0);
    let t = ticket("BX-20261123-SERI01", now, 30);
    store
        .create(t.clone(), token("tok-serious-01"))
        .await
        .unwrap();
    assert!(
        store
            .claim_mail(&t.reference, now, now + TimeDelta::minutes(2))
            .await
            .unwrap()
    );
    store.mail_sent(&t.reference).await.unwrap();
    assert!(store.mail_due(now, 10).await.unwrap().is_empty());

    let later = now + TimeDelta::minutes(10);
    let marked = act(
        &store,
        &t.reference,
        "mark_serious",
        &[("note", "业主家中被淹")],
        later,
    )
    .await;
    assert!(marked.serious);
    let due = store.mail_due(later, 10).await.unwrap();
    assert_eq!(due.len(), 1, "the manager's alert is owed");
    assert_eq!(
        (
            due[0].mail.sent,
            due[0].mail.attempts,
            due[0].mail.purpose,
            due[0].serious
        ),
        (false, 0, MailPurpose::Serious, true)
    );

    // A change that owes nothing leaves the mail as the notifier left it.
    assert!(
        store
            .claim_mail(&t.reference, later, later + TimeDelta::minutes(2))
            .await
            .unwrap()
    );
    store
        .mail_failed(&t.reference, "SES is down", later + TimeDelta::minutes(1))
        .await
        .unwrap();
    act(&store, &t.reference, "note", &[("note", "已报经理")], later).await;
    let stored = store.get(&t.reference).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.mail.attempts,
            stored.mail.last_error.as_deref(),
            stored.mail.purpose
        ),
        (1, Some("SES is down"), MailPurpose::Serious)
    );
    assert!(
        store.mail_due(later, 10).await.unwrap().is_empty(),
        "not before the back-off"
    );
    assert_eq!(
        store
            .mail_due(later + TimeDelta::minutes(1), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

pub fn staff(username: &str, name: &str, role: Role) -> Staff {
    Staff {
        username: username.to_owned(),
        name: name.to_owned(),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_owned(),
        disabled: false,
        session_epoch: 0,
        created_at: at(T0),
    }
}

pub async fn staff_accounts_are_added_once_replaced_and_listed(store: Arc<dyn TicketStore>) {
    let zhao = staff("zhao", "赵经理", Role::Manager);
    let li = staff("li", "李师傅", Role::Department("engineering".into()));
    let wang = staff("wang", "王客服", Role::Desk);
    for account in [&zhao, &li, &wang] {
        store.put_staff(account, false).await.unwrap();
    }
    let again = store
        .put_staff(&staff("li", "另一个李", Role::Desk), false)
        .await;
    assert!(
        matches!(again, Err(StoreError::AccountExists(ref u)) if u == "li"),
        "{again:?}"
    );
    assert_eq!(
        store.get_staff("li").await.unwrap(),
        Some(li.clone()),
        "the first stays"
    );

    let reset = Staff {
        disabled: true,
        session_epoch: 1,
        ..li.clone()
    };
    store.put_staff(&reset, true).await.unwrap();
    assert_eq!(store.get_staff("li").await.unwrap(), Some(reset.clone()));
    assert_eq!(store.get_staff("nobody").await.unwrap(), None);
    assert_eq!(
        store.list_staff().await.unwrap(),
        [reset, wang, zhao],
        "by username"
    );
}

pub async fn status_keys_are_added_and_the_oldest_dropped(store: Arc<dyn TicketStore>) {
    let t = ticket("BX-20261123-KEYS01", at(T0), 30);
    store
        .create(t.clone(), token("tok-keys-000001"))
        .await
        .unwrap();
    assert!(
        store
            .get(&t.reference)
            .await
            .unwrap()
            .unwrap()
            .opens_with("first key")
    );
    for i in 0..desk::store::MAX_STATUS_KEYS {
        store
            .add_status_key(
                &t.reference,
                &desk::accounts::hash_token(&format!("key {i}")),
            )
            .await
            .unwrap();
    }
    let stored = store.get(&t.reference).await.unwrap().unwrap();
    assert_eq!(stored.status_keys.len(), desk::store::MAX_STATUS_KEYS);
    assert!(!stored.opens_with("first key"), "the oldest went first");
    let last = desk::store::MAX_STATUS_KEYS - 1;
    assert!(stored.opens_with("key 0") && stored.opens_with(&format!("key {last}")));
    assert!(!stored.opens_with(&format!("key {}", last + 1)));
    assert!(matches!(
        store.add_status_key("BX-20261123-NOPE00", "h").await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn sessions_are_kept_overwritten_and_deleted(store: Arc<dyn TicketStore>) {
    let session = Session {
        id_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
        username: "wang".to_owned(),
        epoch: 0,
        csrf: "csrf-token-1".to_owned(),
        created_at: at(T0),
        last_seen: at(T0),
    };
    store.put_session(&session).await.unwrap();
    assert_eq!(
        store.get_session(&session.id_hash).await.unwrap(),
        Some(session.clone())
    );
    let touched = Session {
        last_seen: at(T0) + TimeDelta::hours(3),
        ..session.clone()
    };
    store.put_session(&touched).await.unwrap();
    assert_eq!(
        store.get_session(&session.id_hash).await.unwrap(),
        Some(touched.clone())
    );

    // Long over: still returned as it is (the caller checks), whatever TTL does.
    let old = Session {
        id_hash: "0000000000000000000000000000000000000000000000000000000000000001".to_owned(),
        created_at: at("2020-01-01T00:00:00Z"),
        last_seen: at("2020-01-01T00:00:00Z"),
        ..session.clone()
    };
    store.put_session(&old).await.unwrap();
    assert_eq!(
        store.get_session(&old.id_hash).await.unwrap(),
        Some(old.clone())
    );

    store.delete_session(&session.id_hash).await.unwrap();
    assert_eq!(store.get_session(&session.id_hash).await.unwrap(), None);
    store.delete_session(&session.id_hash).await.unwrap();
    assert_eq!(store.get_session("never-made").await.unwrap(), None);
    assert_eq!(store.get_session(&old.id_hash).await.unwrap(), Some(old));
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

pub async fn owed_messages_are_written_with_their_change_claimed_once_and_settled(
    store: Arc<dyn TicketStore>,
) {
    use desk::outgoing::{Channel, Delivery, Outgoing, Purpose, Settle};
    let now = at(T0);
    let t = ticket("BX-20261123-OUT001", now, 30);
    let alert = Outgoing::owed(
        format!("{}.alert.webhook", t.reference),
        Some(&t.reference),
        Purpose::Alert,
        Channel::Webhook,
        now,
    );
    let mut later = Outgoing::owed(
        format!("{}.escalation.email", t.reference),
        Some(&t.reference),
        Purpose::Escalation,
        Channel::Email,
        now + TimeDelta::minutes(10),
    );
    later.secret = Some("a key".to_owned());
    let hit = Hit {
        key: "rate#client-o#1".to_owned(),
        window_end: now + TimeDelta::minutes(2),
    };
    store
        .create_with(
            t.clone(),
            token("tok-out-000001"),
            &[alert.clone(), later.clone()],
            Some(&hit),
        )
        .await
        .unwrap();
    // A repeat of the submission owes nothing more, nor counts again.
    store
        .create_with(
            t.clone(),
            token("tok-out-000001"),
            std::slice::from_ref(&alert),
            Some(&hit),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .read_hits(std::slice::from_ref(&hit.key))
            .await
            .unwrap(),
        [1],
        "the new ticket's hit is counted with it, the repeat's is not"
    );
    let ids = |messages: Vec<Outgoing>| messages.into_iter().map(|m| m.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.outgoing_due(now, 10).await.unwrap()),
        vec![alert.id.clone()]
    );
    assert_eq!(
        ids(store
            .outgoing_due(now + TimeDelta::minutes(10), 10)
            .await
            .unwrap()),
        [alert.id.clone(), later.id.clone()],
        "earliest first"
    );

    // Claimed once; a claimed message is not handed out again.
    assert!(
        store
            .claim_outgoing(&alert, now, now + TimeDelta::minutes(2))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_outgoing(&alert, now, now + TimeDelta::minutes(2))
            .await
            .unwrap()
    );
    assert!(store.outgoing_due(now, 10).await.unwrap().is_empty());
    let retry = now + TimeDelta::seconds(30);
    store
        .settle_outgoing(
            &alert,
            &Settle::Retry {
                error: "HTTP 503".into(),
                next: retry,
            },
        )
        .await
        .unwrap();
    assert!(
        store.outgoing_due(now, 10).await.unwrap().is_empty(),
        "backing off"
    );
    let due = store.outgoing_due(retry, 10).await.unwrap();
    assert_eq!(
        (due[0].attempts, due[0].last_error.as_deref()),
        (1, Some("HTTP 503"))
    );
    assert!(
        store
            .claim_outgoing(&due[0], retry, retry + TimeDelta::minutes(2))
            .await
            .unwrap()
    );
    store.settle_outgoing(&due[0], &Settle::Sent).await.unwrap();
    assert!(
        !store.claim_outgoing(&due[0], retry, retry).await.unwrap(),
        "sent is settled"
    );

    // Deferred, then dropped; settling erases the secret.
    let deferred = now + TimeDelta::minutes(30);
    store
        .settle_outgoing(&later, &Settle::Defer(deferred))
        .await
        .unwrap();
    assert!(
        store
            .outgoing_due(now + TimeDelta::minutes(20), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.outgoing_due(deferred, 10).await.unwrap()[0]
            .secret
            .as_deref(),
        Some("a key")
    );
    store
        .settle_outgoing(&later, &Settle::Dropped("staff acted in time".into()))
        .await
        .unwrap();
    assert!(
        store
            .outgoing_due(deferred + TimeDelta::days(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let all = store.outgoing_of(&t.reference).await.unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    let by_id = |id: &str| all.iter().find(|m| m.id == id).unwrap().clone();
    assert_eq!(by_id(&alert.id).delivery, Delivery::Sent);
    let dropped = by_id(&later.id);
    assert_eq!(
        dropped.delivery,
        Delivery::Dropped("staff acted in time".into())
    );
    assert_eq!(dropped.secret, None);

    // A change writes its messages with it, or not at all.
    let current = store.get(&t.reference).await.unwrap().unwrap();
    let (_, mut dispatched) = change(&current, "dispatch", &[("department", "engineering")], now);
    let visit = Outgoing::owed(
        format!("{}.visit-2.email", t.reference),
        Some(&t.reference),
        Purpose::Visit,
        Channel::Email,
        now,
    );
    dispatched.owed = vec![visit.clone()];
    let mut stale = dispatched.clone();
    stale.ticket.version += 5;
    assert!(matches!(
        store.record(&stale).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.outgoing_of(&t.reference).await.unwrap().len(),
        2,
        "nothing written"
    );
    store.record(&dispatched).await.unwrap();
    assert_eq!(
        ids(store.outgoing_due(now, 10).await.unwrap()),
        vec![visit.id.clone()]
    );

    // A digest is owed once however often it is asked for.
    let digest = Outgoing::digest(chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), now);
    assert!(store.owe(&digest).await.unwrap());
    assert!(!store.owe(&digest).await.unwrap());
    let due = ids(store.outgoing_due(now, 10).await.unwrap());
    assert!(due.contains(&digest.id), "{due:?}");
    assert!(
        store
            .claim_outgoing(&digest, now, now + TimeDelta::minutes(2))
            .await
            .unwrap()
    );
    store.settle_outgoing(&digest, &Settle::Sent).await.unwrap();
    assert!(
        !store.owe(&digest).await.unwrap(),
        "still once after it was sent"
    );
}

pub async fn rate_limit_counts_per_key(store: Arc<dyn TicketStore>) {
    let end = at(T0) + TimeDelta::minutes(1);
    let hit = |key: &str, window_end| Hit {
        key: key.to_owned(),
        window_end,
    };
    for expected in 1..=3 {
        assert_eq!(
            store.count_hit(&hit("rate#client-a#1", end)).await.unwrap(),
            expected
        );
    }
    assert_eq!(
        store.count_hit(&hit("rate#client-b#1", end)).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .count_hit(&hit("rate#client-a#2", end + TimeDelta::minutes(1)))
            .await
            .unwrap(),
        1
    );
    // Reading counts nothing, and answers in the order asked, a key named
    // twice or never counted included.
    let keys = [
        "rate#client-c#1",
        "rate#client-a#1",
        "rate#client-b#1",
        "rate#client-a#1",
    ]
    .map(str::to_owned);
    assert_eq!(store.read_hits(&keys).await.unwrap(), [0, 3, 1, 3]);
    assert_eq!(store.read_hits(&keys).await.unwrap(), [0, 3, 1, 3]);
    assert!(store.read_hits(&[]).await.unwrap().is_empty());
}

pub async fn the_installation_secret_is_made_once(store: Arc<dyn TicketStore>) {
    let (first, second) = tokio::join!(store.installation_secret(), store.installation_secret());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first, second, "every instance gets the one secret");
    assert_eq!(first.len(), 64);
    assert_eq!(store.installation_secret().await.unwrap(), first);
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
            async fn owed_messages_are_written_with_their_change_claimed_once_and_settled() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::owed_messages_are_written_with_their_change_claimed_once_and_settled(store).await
                }
            }
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
            async fn changes_append_to_the_timeline_in_order() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::changes_append_to_the_timeline_in_order(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_stale_or_missing_ticket_change_writes_nothing() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::a_stale_or_missing_ticket_change_writes_nothing(store)
                        .await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn queues_draw_on_their_views_filters_and_order() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::queues_draw_on_their_views_filters_and_order(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn owed_mail_is_claimed_once_and_retried_later() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::owed_mail_is_claimed_once_and_retried_later(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn marking_serious_owes_the_manager_an_email() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::marking_serious_owes_the_manager_an_email(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn rate_limit_counts_per_key() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::rate_limit_counts_per_key(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_installation_secret_is_made_once() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::the_installation_secret_is_made_once(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn staff_accounts_are_added_once_replaced_and_listed() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::staff_accounts_are_added_once_replaced_and_listed(store)
                        .await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn status_keys_are_added_and_the_oldest_dropped() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::status_keys_are_added_and_the_oldest_dropped(store).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sessions_are_kept_overwritten_and_deleted() {
                if let Some(store) = $fresh().await {
                    tests::store_contract::sessions_are_kept_overwritten_and_deleted(store).await
                }
            }
        }
    };
}
