//! The staff app over HTTP: routing as the form data says, a ticket worked
//! to its end, and every refusal (no session, no CSRF token, a stale
//! version, a disallowed action, another department's ticket, sign-in
//! guessing).

use desk::ticket::Status;
use tests::desk::{TestDesk, encode, repair};
use tests::staff::{PASSWORD, repair_for_the_desk};

async fn desk_with_staff() -> TestDesk {
    let desk = TestDesk::new();
    desk.add_staff("wang", "王芳", "desk").await;
    desk.add_staff("li", "李师傅", "department:engineering")
        .await;
    desk.add_staff("chen", "陈保洁", "department:environment")
        .await;
    desk.add_staff("zhao", "赵经理", "manager").await;
    desk
}

async fn file(desk: &TestDesk, pairs: &[(&str, &str)]) -> String {
    let answer = desk.post_form("repair", pairs).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    answer.reference()
}

#[tokio::test]
async fn routing_follows_the_form_data() {
    let desk = desk_with_staff().await;
    let plumbing = file(&desk, &repair()).await;
    let other = file(&desk, &repair_for_the_desk()).await;
    let store = &desk.store;
    let plumbing = store.get(&plumbing).await.unwrap().unwrap();
    let other = store.get(&other).await.unwrap().unwrap();
    assert_eq!(
        (
            plumbing.status,
            plumbing.department.as_str(),
            plumbing.timeline.len()
        ),
        (Status::Dispatched, "engineering", 2),
        "plumbing is auto-dispatched, and says so on its timeline"
    );
    assert_eq!((other.status, other.timeline.len()), (Status::Received, 1));

    // The desk sees both; its "new" queue holds only the one it must judge.
    let wang = desk.sign_in("wang").await;
    let new = desk
        .staff_get(Some(&wang), "/desk/?view=new", true)
        .await
        .json();
    let refs: Vec<&str> = new["queue"]["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["reference"].as_str())
        .collect();
    assert_eq!(refs, [other.reference.as_str()]);

    // A complaint about staff behaviour is serious: the manager is told.
    let complaint = desk
        .post_form(
            "complaint",
            &[
                ("unit", "5-1-302"),
                ("name", "刘先生"),
                ("phone", "139 0000 0000"),
                ("category", "staff"),
                ("description", "门岗保安对访客态度恶劣，还推搡了我的家人。"),
                ("consent", "on"),
            ],
        )
        .await;
    let complaint = desk
        .store
        .get(&complaint.reference())
        .await
        .unwrap()
        .unwrap();
    assert!(complaint.serious);
    let email = tests::desk::notifier(&desk, tests::desk::Outage::new(None), chrono::Utc::now())
        .composer
        .draft(&complaint)
        .unwrap();
    assert_eq!(email.to.email.to_string(), "desk@handbook.example.org");
    assert!(
        email
            .cc
            .iter()
            .any(|m| m.email.to_string() == "manager@handbook.example.org"),
        "{:?}",
        email.cc
    );
    assert!(email.subject.starts_with("[严重·投诉"), "{}", email.subject);
}

#[tokio::test]
async fn a_repair_is_worked_to_its_end_without_script() {
    let desk = desk_with_staff().await;
    let reference = file(&desk, &repair_for_the_desk()).await;
    let page = |r: &str| format!("/desk/tickets/{r}");
    let wang = desk.sign_in("wang").await;
    let li = desk.sign_in("li").await;

    // Each step as a browser without script posts it: 303 back to the page.
    type Step<'a> = (&'a tests::staff::Signed, &'a str, Vec<(&'a str, &'a str)>);
    let steps: [Step; 5] = [
        (
            &wang,
            "dispatch",
            vec![("department", "engineering"), ("assignee", "li")],
        ),
        (&li, "schedule", vec![("visit_at", "2026-12-05T09:30")]),
        (&li, "start", vec![]),
        (&li, "complete", vec![("note", "更换了厨房角阀")]),
        (
            &wang,
            "follow_up",
            vec![
                ("reached", "yes"),
                ("satisfaction", "5"),
                ("comment", "师傅很准时"),
            ],
        ),
    ];
    for (version, (who, action, inputs)) in (1u64..).zip(steps) {
        if action == "schedule" {
            // Dispatched to li: in engineering's queue and in li's own.
            for view in ["department", "mine"] {
                let queue = desk
                    .staff_get(Some(&li), &format!("/desk/?view={view}"), true)
                    .await;
                assert!(queue.body.contains(&reference), "{view}: {}", queue.body);
            }
        }
        let version = version.to_string();
        let mut pairs = inputs.clone();
        pairs.push(("version", &version));
        let answer = desk
            .staff_post(
                who,
                &format!("{}/{action}", page(&reference)),
                Some(&who.csrf),
                &pairs,
            )
            .await;
        assert_eq!(answer.status, 303, "{action}: {}", answer.body);
        assert_eq!(
            answer.header("location"),
            Some(format!("{}?done={action}", page(&reference)).as_str())
        );
    }
    let ticket = desk.store.get(&reference).await.unwrap().unwrap();
    assert_eq!(ticket.status, Status::FollowedUp);
    let actions: Vec<&str> = ticket.timeline.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "file",
            "dispatch",
            "schedule",
            "start",
            "complete",
            "follow_up"
        ]
    );
    assert_eq!(ticket.timeline[1].actor.name, "王芳");
    assert_eq!(
        ticket.follow_up.as_ref().and_then(|f| f.satisfaction),
        Some(5)
    );

    // Done and followed up, it has left the open queues but not "all".
    let open = desk
        .staff_get(Some(&li), "/desk/?view=department", true)
        .await;
    assert!(!open.body.contains(&reference));
    let all = desk
        .staff_get(Some(&li), "/desk/?view=all&status=followed_up", true)
        .await;
    assert!(all.body.contains(&reference));
    // The page shows the whole timeline in order, with the owner's
    // details to signed-in staff.
    let html = desk.staff_get(Some(&wang), &page(&reference), false).await;
    assert_eq!(html.status, 200);
    assert_eq!(html.header("cache-control"), Some("no-store"));
    let order = [
        "业主提交",
        "派单",
        "预约上门",
        "开始处理",
        "完工，请业主验收",
        "记录回访",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|label| {
            html.body
                .find(&format!("<strong>{label}</strong>"))
                .unwrap_or_else(|| panic!("{label} is not on the timeline"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert!(
        html.body.contains("138 0013 8000"),
        "staff see the phone number"
    );
}

#[tokio::test]
async fn refusals_say_what_is_wrong() {
    let desk = desk_with_staff().await;
    let reference = file(&desk, &repair_for_the_desk()).await;
    let path = format!("/desk/tickets/{reference}");

    // No session: HTML goes to sign-in and back, JSON gets 401.
    let html = desk.staff_get(None, &path, false).await;
    assert_eq!(html.status, 303);
    assert_eq!(
        html.header("location"),
        Some(format!("/desk/signin?next=%2Fdesk%2Ftickets%2F{reference}").as_str())
    );
    assert_eq!(desk.staff_get(None, &path, true).await.status, 401);

    let wang = desk.sign_in("wang").await;
    let dispatch = format!("{path}/dispatch");
    let inputs = [("department", "engineering"), ("version", "1")];
    // No CSRF token, or a wrong one: 403, nothing changed.
    for csrf in [None, Some("0000")] {
        let answer = desk.staff_post(&wang, &dispatch, csrf, &inputs).await;
        assert_eq!(answer.status, 403, "{}", answer.body);
    }
    assert_eq!(
        desk.store.get(&reference).await.unwrap().unwrap().version,
        1
    );

    // A disallowed action: 409 with the reason.
    let follow_up = desk
        .act(
            &wang,
            &reference,
            "follow_up",
            1,
            serde_json::json!({ "reached": "yes", "satisfaction": "4" }),
        )
        .await;
    assert_eq!(follow_up.status, 409);
    assert_eq!(follow_up.json()["error"], "not_allowed");
    assert!(
        follow_up.json()["message"]
            .as_str()
            .unwrap()
            .contains("待派单")
    );

    // Invalid input: 422 naming the field; the HTML page keeps what was typed.
    let bad = desk
        .act(
            &wang,
            &reference,
            "dispatch",
            1,
            serde_json::json!({ "department": "nowhere" }),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.json()["errors"]["department"].is_string());
    let hold = desk
        .staff_post(
            &wang,
            &dispatch,
            Some(&wang.csrf),
            &[
                ("department", "engineering"),
                ("assignee", "ghost"),
                ("note", "请尽快"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(hold.status, 422);
    assert!(hold.body.contains("请尽快"), "the note typed is kept");

    // Two people on the same version: the second is told who was first.
    let first = desk
        .act(
            &wang,
            &reference,
            "dispatch",
            1,
            serde_json::json!({ "department": "engineering" }),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    desk.add_staff("sun", "孙客服", "desk").await;
    let sun = desk.sign_in("sun").await;
    let second = desk
        .act(
            &sun,
            &reference,
            "cancel",
            1,
            serde_json::json!({ "reason": "重复提交" }),
        )
        .await;
    assert_eq!(second.status, 409);
    assert_eq!(second.json()["error"], "conflict");
    assert_eq!(second.json()["changed_by"], "王芳");
    assert!(second.json()["message"].as_str().unwrap().contains("王芳"));
    assert_eq!(
        desk.store.get(&reference).await.unwrap().unwrap().status,
        Status::Dispatched
    );

    // A department sees its own tickets, and nothing of another's: 404,
    // exactly as for a ticket that does not exist.
    let chen = desk.sign_in("chen").await;
    let foreign = desk.staff_get(Some(&chen), &path, true).await;
    assert_eq!(foreign.status, 404);
    let missing = desk
        .staff_get(Some(&chen), "/desk/tickets/BX-20261123-ZZZZZZ", true)
        .await;
    assert_eq!(
        (foreign.status, foreign.body.as_str()),
        (missing.status, missing.body.as_str())
    );
    let forced = desk
        .act(
            &chen,
            &reference,
            "note",
            2,
            serde_json::json!({ "note": "看看" }),
        )
        .await;
    assert_eq!(forced.status, 404);
    let queue = desk.staff_get(Some(&chen), "/desk/?view=all", true).await;
    assert!(!queue.body.contains(&reference));
    // A department cannot take the desk's actions on its own tickets.
    let li = desk.sign_in("li").await;
    let cancel = desk
        .act(
            &li,
            &reference,
            "cancel",
            2,
            serde_json::json!({ "reason": "不修了" }),
        )
        .await;
    assert_eq!(cancel.status, 409);
    // Reports are the manager's.
    assert_eq!(
        desk.staff_get(Some(&wang), "/desk/reports", true)
            .await
            .status,
        404
    );
    let zhao = desk.sign_in("zhao").await;
    let report = desk.staff_get(Some(&zhao), "/desk/reports", true).await;
    assert_eq!(report.status, 200, "{}", report.body);
}

#[tokio::test]
async fn sign_in_reveals_nothing_and_slows_guessing() {
    let desk = desk_with_staff().await;
    let attempt = |username: &'static str, password: &'static str| {
        let desk = &desk;
        async move {
            desk.post(
                "/desk/signin",
                "application/json",
                serde_json::json!({ "username": username, "password": password }).to_string(),
            )
            .await
        }
    };
    let wrong_password = attempt("wang", "not the password").await;
    let wrong_name = attempt("nobody", "not the password").await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(
        (wrong_password.status, wrong_password.body.as_str()),
        (wrong_name.status, wrong_name.body.as_str())
    );

    // The cookie: HttpOnly, SameSite=Strict, Secure (outside `serve`).
    let ok = attempt("wang", PASSWORD).await;
    let cookie = ok.header("set-cookie").unwrap_or_default().to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/desk"] {
        assert!(cookie.contains(part), "{cookie}");
    }

    // A browser's sign-in form must come from the sign-in page.
    let forged = desk
        .post(
            "/desk/signin",
            "application/x-www-form-urlencoded",
            encode(&[("username", "wang"), ("password", PASSWORD), ("csrf", "x")]),
        )
        .await;
    assert_eq!(forged.status, 403);

    // The sign-in page's own form goes back where the person was headed,
    // but only ever to a staff page.
    for (next, lands) in [
        (
            "/desk/tickets/BX-20261123-AAAAAA",
            "/desk/tickets/BX-20261123-AAAAAA",
        ),
        ("//evil.example/desk/", "/desk/"),
        ("https://evil.example/", "/desk/"),
    ] {
        let page = desk.get("/desk/signin").await;
        let cookie = page
            .header("set-cookie")
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        let token = cookie
            .split_once('=')
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default();
        let request = axum::http::Request::post("/desk/signin")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", &cookie)
            .body(axum::body::Body::from(encode(&[
                ("username", "zhao"),
                ("password", PASSWORD),
                ("csrf", &token),
                ("next", next),
            ])))
            .unwrap();
        let answer = desk.send(request).await;
        assert_eq!(
            (answer.status.as_u16(), answer.header("location")),
            (303, Some(lands)),
            "{next}"
        );
    }

    // Five tries per account in fifteen minutes, then 429 even with the
    // right password.
    for _ in 0..4 {
        attempt("wang", "still not it").await;
    }
    let locked = attempt("wang", PASSWORD).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.header("retry-after").is_some());
}

#[tokio::test]
async fn sessions_end_when_the_account_is_disabled_or_signed_out() {
    let desk = desk_with_staff().await;
    let wang = desk.sign_in("wang").await;
    assert_eq!(
        desk.staff_get(Some(&wang), "/desk/", true).await.status,
        200
    );

    // Signing out ends the session in the store, not just in the browser.
    let out = desk
        .staff_post(&wang, "/desk/signout", Some(&wang.csrf), &[])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(
        desk.staff_get(Some(&wang), "/desk/", true).await.status,
        401
    );

    // Disabling an account (desk-admin bumps its epoch) voids its sessions.
    let wang = desk.sign_in("wang").await;
    let mut account = desk.store.get_staff("wang").await.unwrap().unwrap();
    account.disabled = true;
    account.session_epoch += 1;
    desk.store.put_staff(&account, true).await.unwrap();
    assert_eq!(
        desk.staff_get(Some(&wang), "/desk/", true).await.status,
        401
    );
}

#[tokio::test]
async fn marking_a_ticket_serious_later_alerts_the_manager_once() {
    let desk = desk_with_staff().await;
    let reference = file(&desk, &repair()).await;
    let outbox = desk.tmp.path().join("outbox");
    let transport: std::sync::Arc<dyn desk::mail::MailTransport> =
        std::sync::Arc::new(desk::mail::Outbox::new(&outbox));
    let send = || async {
        tests::desk::notifier(&desk, std::sync::Arc::clone(&transport), chrono::Utc::now())
            .run_once()
            .await
            .unwrap()
    };
    assert_eq!(
        send().await.sent,
        2,
        "the new ticket's email and the owner's confirmation"
    );

    let li = desk.sign_in("li").await;
    let marked = desk
        .act(
            &li,
            &reference,
            "mark_serious",
            1,
            serde_json::json!({ "note": "楼下住户家中进水，损失较大" }),
        )
        .await;
    assert_eq!(marked.status, 200, "{}", marked.body);
    assert_eq!(send().await.sent, 1, "the manager's alert");
    assert_eq!(send().await.sent, 0, "and nothing twice");

    let alert = std::fs::read_to_string(outbox.join(format!("{reference}.serious.eml"))).unwrap();
    assert!(
        alert.contains("To: manager@handbook.example.org"),
        "{alert}"
    );
    assert!(
        outbox.join(format!("{reference}.eml")).exists(),
        "the first email is kept"
    );
    // Marked once: the action is no longer offered, and refused if forced.
    let again = desk
        .act(
            &li,
            &reference,
            "mark_serious",
            2,
            serde_json::json!({ "note": "再次" }),
        )
        .await;
    assert_eq!(again.status, 422);
}

#[tokio::test]
async fn the_owner_accepts_online_or_reopens_and_the_manager_hears_of_it() {
    let desk = desk_with_staff().await;
    let li = desk.sign_in("li").await;
    let (url, reference) = {
        let url = desk
            .post_form("repair", &repair())
            .await
            .header("location")
            .unwrap()
            .to_owned();
        let (reference, _) = tests::desk::receipt_parts(&url);
        let done = desk
            .act(
                &li,
                &reference,
                "complete",
                1,
                serde_json::json!({ "note": "已修好" }),
            )
            .await;
        assert_eq!(done.status, 200, "{}", done.body);
        (url, reference)
    };
    let page = desk.get(&url).await;
    assert!(
        page.body.contains("id=\"acceptance-heading\""),
        "the page asks once the work is done"
    );

    // A stale page and a bad rating are refused, and say why.
    let post = |url: String, pairs: Vec<(&'static str, &'static str)>| {
        let desk = &desk;
        async move {
            desk.post(&url, "application/x-www-form-urlencoded", encode(&pairs))
                .await
        }
    };
    let stale = post(
        url.clone(),
        vec![("version", "1"), ("solved", "yes"), ("satisfaction", "5")],
    )
    .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("页面已经过期"), "{}", stale.body);
    assert!(
        !stale.body.contains("李师傅"),
        "owners are not told who changed it"
    );
    let unrated = post(
        url.clone(),
        vec![("version", "2"), ("solved", "yes"), ("comment", "很好")],
    )
    .await;
    assert_eq!(unrated.status, 422);
    assert!(unrated.body.contains("很好"), "the comment typed is kept");

    let accepted = post(
        url.clone(),
        vec![
            ("version", "2"),
            ("solved", "yes"),
            ("satisfaction", "5"),
            ("comment", "师傅很细心"),
        ],
    )
    .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert_eq!(accepted.header("location"), Some(url.as_str()));
    let ticket = desk.store.get(&reference).await.unwrap().unwrap();
    assert_eq!(ticket.status, Status::FollowedUp);
    let last = ticket.timeline.last().unwrap();
    assert_eq!(
        (
            last.action.as_str(),
            last.actor.name.as_str(),
            last.actor.username.as_deref()
        ),
        ("accept", "业主（在线）", None)
    );
    let page = desk.get(&url).await.body;
    assert!(
        page.contains("您已验收，评价 5 分") && !page.contains("acceptance-heading"),
        "{page}"
    );
    // Twice is once: the ticket is no longer done.
    let again = post(
        url.clone(),
        vec![("version", "3"), ("solved", "yes"), ("satisfaction", "5")],
    )
    .await;
    assert_eq!(again.status, 409);

    // Not solved: reopened, first in the desk's new queue, the manager told.
    let (url, reference) = {
        let mut other = repair();
        other.retain(|(k, _)| *k != "description");
        other.push(("description", "卫生间地漏返味，已经修过一次。"));
        let url = desk
            .post_form("repair", &other)
            .await
            .header("location")
            .unwrap()
            .to_owned();
        let (reference, _) = tests::desk::receipt_parts(&url);
        desk.act(
            &li,
            &reference,
            "complete",
            1,
            serde_json::json!({ "note": "疏通了地漏" }),
        )
        .await;
        (url, reference)
    };
    let outbox = desk.tmp.path().join("outbox");
    let transport: std::sync::Arc<dyn desk::mail::MailTransport> =
        std::sync::Arc::new(desk::mail::Outbox::new(&outbox));
    let send =
        || tests::desk::notifier(&desk, std::sync::Arc::clone(&transport), chrono::Utc::now());
    send().run_once().await.unwrap();
    let unhappy = post(
        url.clone(),
        vec![("version", "2"), ("solved", "no"), ("satisfaction", "4")],
    )
    .await;
    assert_eq!(unhappy.status, 303, "{}", unhappy.body);
    let ticket = desk.store.get(&reference).await.unwrap().unwrap();
    assert_eq!((ticket.status, ticket.reopen_count), (Status::Reopened, 1));
    assert_eq!(send().run_once().await.unwrap().sent, 1);
    let alert =
        std::fs::read_to_string(outbox.join(format!("{reference}.reopened-1.eml"))).unwrap();
    assert!(
        alert.contains("To: manager@handbook.example.org"),
        "{alert}"
    );
    let wang = desk.sign_in("wang").await;
    let new = desk
        .staff_get(Some(&wang), "/desk/?view=new", true)
        .await
        .json();
    assert_eq!(
        new["queue"]["tickets"][0]["reference"],
        reference.as_str(),
        "reopened leads the queue"
    );
}
