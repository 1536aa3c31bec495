//! The request desk's HTTP answers, end to end in memory: the real router
//! on the repository's own site and forms, a real SQLite store.

use axum::http::StatusCode;
use serde_json::json;
use tests::desk::{TestDesk, complaint, ordinary_repair, repair};

fn location(answer: &tests::desk::Answer) -> String {
    answer
        .header("location")
        .expect("a Location header")
        .to_owned()
}

#[tokio::test]
async fn a_browser_without_script_gets_a_receipt_with_no_personal_data() {
    let desk = TestDesk::new();
    let answer = desk.post_form("repair", &repair()).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let receipt_url = location(&answer);
    assert!(
        receipt_url.starts_with("/forms/repair/received/BX-"),
        "{receipt_url}"
    );
    let (reference, key) = tests::desk::receipt_parts(&receipt_url);
    let reference = reference.as_str();
    assert!(desk::ticket::is_reference(reference), "{reference}");
    assert_eq!(key.len(), 64, "a 256-bit key: {key}");
    let stored = desk.store.get(reference).await.unwrap().unwrap();
    assert!(!stored.status_keys.contains(&key), "only its hash is kept");

    let page = desk.get(&receipt_url).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(reference));
    assert!(page.body.contains("30 分钟内响应"), "the promise is shown");
    assert!(
        page.body
            .contains("https://handbook.example.org/static/style.css"),
        "links the site's stylesheet"
    );
    for personal in [
        "王女士",
        "138 0013 8000",
        "owner@example.org",
        "3-2-1502",
        "水管爆裂",
    ] {
        assert!(
            !page.body.contains(personal),
            "the receipt shows {personal}"
        );
    }
    let stored = desk
        .store
        .get(reference)
        .await
        .unwrap()
        .expect("the ticket is stored");
    assert_eq!(
        (stored.urgency.as_str(), stored.department.as_str()),
        ("emergency", "engineering")
    );
    assert_eq!(
        stored.due_at - stored.received_at,
        chrono::TimeDelta::minutes(30)
    );
    assert!(
        !stored.mail.sent,
        "the desk email is owed until the notifier sends it"
    );
}

#[tokio::test]
async fn script_submissions_get_json_with_reference_and_due_time() {
    let desk = TestDesk::new();
    let mut body = serde_json::Map::new();
    for (k, v) in repair() {
        body.insert(k.into(), json!(v));
    }
    body.insert("urgency".into(), json!("ordinary"));
    body.insert("consent".into(), json!(true));
    body.insert(
        "submission_token".into(),
        json!("0b9c6f5e-1d2a-4c7e-9a51-2f1f0c9e8d7a"),
    );
    let answer = desk.post_json("repair", body.into()).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let reply = answer.json();
    let reference = reply["reference"].as_str().unwrap();
    assert!(reference.starts_with("BX-"));
    assert!(
        reply["due"].as_str().unwrap().ends_with("+08:00"),
        "due in estate time: {reply}"
    );
    assert_eq!(reply["commitment"], "24 小时内响应，并与您约定上门时间");
    let receipt_url = reply["receipt_url"].as_str().unwrap();
    assert!(
        receipt_url.starts_with(&format!("/forms/repair/received/{reference}/")),
        "{receipt_url}"
    );
}

#[tokio::test]
async fn a_rejected_form_comes_back_with_every_value_and_each_error() {
    let desk = TestDesk::new();
    let answer = desk
        .post_form(
            "complaint",
            &[
                ("unit", "5-1-302"),
                ("name", "<script>alert(1)</script>"),
                ("phone", "call me"),
                ("category", "security"),
                ("description", "太短"),
                ("expectation", "希望\"门岗\"改进"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = &answer.body;
    assert!(
        page.contains("提交未成功，请修改以下问题"),
        "the error summary is at the top"
    );
    assert!(page.contains(r#"value="5-1-302""#), "the unit is kept");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "values are escaped, not run"
    );
    assert!(
        !page.contains("<script>alert(1)"),
        "no owner text as markup"
    );
    assert!(
        page.contains("希望&quot;门岗&quot;改进"),
        "text areas keep their text"
    );
    for message in [
        "请填写有效的电话号码",
        "发生了什么至少需要 10 个字",
        "请勾选",
    ] {
        assert!(page.contains(message), "missing error {message}");
    }
    assert!(
        page.contains(r#"<option value="security" selected"#),
        "the chosen option stays chosen"
    );
    assert_eq!(desk.ticket_count().await, 0);

    let json = desk
        .post_json("complaint", json!({"unit": "5-1-302"}))
        .await;
    assert_eq!(json.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = &json.json()["errors"];
    for field in ["name", "phone", "category", "description", "consent"] {
        assert!(errors[field].is_string(), "no error for {field}: {errors}");
    }
    assert!(errors["unit"].is_null() && errors["email"].is_null());
}

#[tokio::test]
async fn clients_that_send_nonsense_get_4xx_never_5xx() {
    let desk = TestDesk::new();
    let unknown = desk.post_form("parking", &repair()).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let unknown_json = desk.post_json("parking", json!({})).await;
    assert_eq!(
        (unknown_json.status, unknown_json.json()["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    let huge = "a=".to_owned() + &"x".repeat(70 * 1024);
    assert_eq!(
        desk.post("/forms/repair", "application/x-www-form-urlencoded", huge)
            .await
            .status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        desk.post("/forms/repair", "text/plain", "hello")
            .await
            .status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let untyped = axum::http::Request::post("/forms/repair")
        .body(axum::body::Body::from("a=b"))
        .unwrap();
    assert_eq!(
        desk.send(untyped).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        desk.post(
            "/forms/repair",
            "application/x-www-form-urlencoded",
            vec![b'a', b'=', 0xff, 0xfe]
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    for body in ["[1,2]", "{\"unit\": {\"a\": 1}}", "{oops", ""] {
        assert_eq!(
            desk.post("/forms/repair", "application/json", body)
                .await
                .status,
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }
    for path in [
        "/forms/repair/received/not-a-reference",
        "/forms/repair/received/BX-20261123-ZZZZZZ",
        "/forms/parking/received/BX-20261123-ZZZZZZ",
    ] {
        assert_eq!(desk.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(desk.ticket_count().await, 0);
}

#[tokio::test]
async fn a_status_page_opens_only_with_its_key_under_its_own_form() {
    let desk = TestDesk::new();
    let url = location(&desk.post_form("repair", &repair()).await);
    let (reference, key) = tests::desk::receipt_parts(&url);
    assert_eq!(desk.get(&url).await.status, StatusCode::OK);
    let unknown = desk
        .get(&format!("/forms/repair/received/BX-20261123-ZZZZZZ/{key}"))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // The reference alone, a wrong key, another form: all as if unknown.
    for path in [
        format!("/forms/repair/received/{reference}"),
        format!("/forms/repair/received/{reference}/{}", "0".repeat(64)),
        format!("/forms/complaint/received/{reference}/{key}"),
    ] {
        let answer = desk.get(&path).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (unknown.status, unknown.body.as_str()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_repeated_submission_gets_a_status_page_of_its_own() {
    let desk = TestDesk::new();
    let mut pairs = repair();
    pairs.push(("submission_token", "retry-token-0001"));
    let first = location(&desk.post_form("repair", &pairs).await);
    let again = location(&desk.post_form("repair", &pairs).await);
    assert_ne!(
        first, again,
        "a new key: the first is not kept to be given again"
    );
    assert_eq!(
        tests::desk::receipt_parts(&first).0,
        tests::desk::receipt_parts(&again).0,
        "the same ticket"
    );
    for url in [first, again] {
        assert_eq!(desk.get(&url).await.status, StatusCode::OK, "{url}");
    }
}

#[tokio::test]
async fn the_status_page_follows_the_work_and_hides_who_did_it() {
    let desk = TestDesk::new();
    desk.add_staff("li", "李师傅", "department:engineering")
        .await;
    let url = location(&desk.post_form("repair", &repair()).await);
    let (reference, _) = tests::desk::receipt_parts(&url);
    let li = desk.sign_in("li").await;
    let scheduled = desk
        .act(
            &li,
            &reference,
            "schedule",
            1,
            serde_json::json!({ "visit_at": "2026-12-05T09:30", "note": "业主说下午不在家" }),
        )
        .await;
    assert_eq!(scheduled.status, 200, "{}", scheduled.body);
    desk.act(
        &li,
        &reference,
        "note",
        2,
        serde_json::json!({ "note": "内部：备件库存不足" }),
    )
    .await;
    let page = desk.get(&url).await.body;
    for shown in [
        "已预约上门",
        "已派给工程部（机电维修）处理",
        "已约定上门时间：2026年12月5日 09:30",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    for hidden in [
        "李师傅",
        "业主说下午不在家",
        "内部",
        "王女士",
        "138 0013 8000",
        "3-2-1502",
    ] {
        assert!(!page.contains(hidden), "{hidden} is on the owner's page");
    }
}

#[tokio::test]
async fn the_honeypot_answers_like_a_real_request_but_stores_and_sends_nothing() {
    // One instant for both requests, so their pages show the same times.
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
        .unwrap()
        .to_utc();
    let desk = TestDesk::with(|d| d.clock = desk::time::Clock::pinned(d.clock.offset(), now));
    let mut spam = repair();
    spam.retain(|(k, _)| *k != "website");
    spam.push(("website", "http://cheap-pills.example"));
    let real = desk.post_form("repair", &repair()).await;
    let caught = desk.post_form("repair", &spam).await;
    assert_eq!(
        (real.status, caught.status),
        (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER)
    );
    assert_eq!(desk.ticket_count().await, 1, "only the real one is stored");
    // The same shape of address, and a status page that opens and reads
    // alike once reference and times are set aside.
    let (real_url, caught_url) = (location(&real), location(&caught));
    let (real_ref, real_key) = tests::desk::receipt_parts(&real_url);
    let (caught_ref, caught_key) = tests::desk::receipt_parts(&caught_url);
    assert_eq!(real_key.len(), caught_key.len());
    assert_ne!(real_ref, caught_ref);
    let path = |url: &str| url[url.find("/forms/").unwrap()..].to_owned();
    let real_page = desk.get(&path(&real_url)).await;
    let caught_page = desk.get(&path(&caught_url)).await;
    assert_eq!(
        (real_page.status, caught_page.status),
        (StatusCode::OK, StatusCode::OK)
    );
    let plain =
        |page: &str, reference: &str, key: &str| page.replace(reference, "R").replace(key, "K");
    assert_eq!(
        plain(&caught_page.body, &caught_ref, &caught_key),
        plain(&real_page.body, &real_ref, &real_key),
        "the decoy's status page is the real one's"
    );
    // An acceptance sent to either is refused alike: neither is done yet.
    let accept = |url: String| {
        let desk = &desk;
        async move {
            desk.post(
                &path(&url),
                "application/x-www-form-urlencoded",
                "version=1&solved=yes&satisfaction=5",
            )
            .await
        }
    };
    let real_answer = accept(real_url.clone()).await;
    let caught_answer = accept(caught_url.clone()).await;
    assert_ne!(
        real_answer.status,
        StatusCode::NOT_FOUND,
        "{}",
        real_answer.body
    );
    assert_eq!(caught_answer.status, real_answer.status);
    assert_eq!(
        plain(&caught_answer.body, &caught_ref, &caught_key),
        plain(&real_answer.body, &real_ref, &real_key),
    );
    // A key that was not sealed by this desk opens nothing.
    let last = if caught_key.ends_with('0') { "1" } else { "0" };
    let forged = format!("{}{last}", &caught_key[..caught_key.len() - 1]);
    let forged = caught_url.replace(&caught_key, &forged);
    assert_eq!(desk.get(&path(&forged)).await.status, StatusCode::NOT_FOUND);
    // With script, the due time follows the chosen urgency as for anyone.
    let json = |pairs: &[(&str, &str)]| {
        serde_json::Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                .collect(),
        )
    };
    let real = desk
        .post_json("repair", json(&ordinary_repair()))
        .await
        .json();
    let mut spam = ordinary_repair();
    spam.retain(|(k, _)| *k != "website");
    spam.push(("website", "x"));
    let caught = desk.post_json("repair", json(&spam)).await.json();
    assert_eq!(caught["commitment"], real["commitment"]);
    assert_eq!(caught["due_display"], real["due_display"]);
    assert_eq!(desk.ticket_count().await, 2);
}

#[tokio::test]
async fn a_double_tap_or_a_resent_form_is_one_ticket() {
    let desk = TestDesk::new();
    let mut with_token = repair();
    with_token.push(("submission_token", "5f7d2c1e-aaaa-4bbb-8ccc-0123456789ab"));
    let reference = |url: String| tests::desk::receipt_parts(&url).0;
    let first = reference(location(&desk.post_form("repair", &with_token).await));
    let second = reference(location(&desk.post_form("repair", &with_token).await));
    assert_eq!(
        first, second,
        "the same token gives back the same reference"
    );

    // Without script there is no token: the identical form again is the
    // same request, a different one is not.
    let plain_first = reference(location(
        &desk
            .post_form("complaint", &complaint("楼下餐馆油烟很大，影响开窗。"))
            .await,
    ));
    let plain_again = reference(location(
        &desk
            .post_form("complaint", &complaint("楼下餐馆油烟很大，影响开窗。"))
            .await,
    ));
    let other = reference(location(
        &desk
            .post_form("complaint", &complaint("地库照明坏了好几盏，晚上很暗。"))
            .await,
    ));
    assert_eq!(plain_first, plain_again);
    assert_ne!(plain_first, other);
    assert_eq!(desk.ticket_count().await, 3);

    // The same token with other words (edited and sent again from the
    // same page) is a request of its own, not silently the first.
    let mut edited = with_token.clone();
    for pair in edited.iter_mut().filter(|(k, _)| *k == "description") {
        pair.1 = "卫生间地漏返水，有异味。";
    }
    let third = reference(location(&desk.post_form("repair", &edited).await));
    assert_ne!(third, first);
    assert_eq!(desk.ticket_count().await, 4);
}

#[tokio::test]
async fn too_many_submissions_from_one_client_wait_a_while_and_keep_what_was_typed() {
    let desk = TestDesk::with(|d| d.rate_limit = 3);
    let limited = tests::desk::three_new_tickets_then_limited(&desk).await;
    let wait: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        limited.body.contains("楼道里有人长期堆放杂物，影响通行。")
            && limited.body.contains("秒后再试"),
        "the form comes back with the owner's words and the wait: {}",
        limited.body
    );
    assert_eq!(desk.ticket_count().await, 3);
}

#[tokio::test]
async fn only_the_sites_own_origin_may_post_with_script() {
    let desk = TestDesk::new();
    let preflight = |origin: &str| {
        axum::http::Request::options("/forms/repair")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let own = desk.send(preflight("https://handbook.example.org")).await;
    assert_eq!(
        own.header("access-control-allow-origin"),
        Some("https://handbook.example.org")
    );
    let other = desk.send(preflight("https://evil.example")).await;
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn opening_the_post_address_leads_to_the_form_page() {
    let desk = TestDesk::new();
    let answer = desk.get("/forms/repair").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&answer),
        "https://handbook.example.org/forms/repair/"
    );
}

#[tokio::test]
async fn the_lookup_finds_a_request_by_reference_and_phone_digits_only() {
    let desk = TestDesk::new();
    let (reference, _) =
        tests::desk::receipt_parts(&location(&desk.post_form("repair", &repair()).await));
    let look_up = |reference: String, digits: &'static str| {
        let desk = &desk;
        async move {
            desk.post(
                "/track",
                "application/x-www-form-urlencoded",
                tests::desk::encode(&[("reference", &reference), ("phone_last4", digits)]),
            )
            .await
        }
    };
    assert_eq!(desk.get("/track").await.status, StatusCode::OK);
    // As read out over the phone: lower case and spaces are fine. The phone
    // given was "138 0013 8000".
    let spoken = reference.to_lowercase().replace('-', " - ");
    let found = look_up(spoken, "8000").await;
    assert_eq!(found.status, StatusCode::SEE_OTHER, "{}", found.body);
    let url = location(&found);
    assert_eq!(tests::desk::receipt_parts(&url).0, reference);
    assert_eq!(
        desk.get(&url).await.status,
        StatusCode::OK,
        "the address opens the page"
    );

    // Wrong digits, an unknown reference and nonsense answer exactly alike.
    let wrong = look_up(reference.clone(), "0000").await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    // (The page gives back what was typed, so the owner can correct it.)
    let same = |answer: &tests::desk::Answer, typed: &str| answer.body.replace(typed, "…");
    for (other_reference, digits) in [
        ("BX-20261123-ZZZZZZ", "8000"),
        ("NONSENSE", "8000"),
        (reference.as_str(), "80"),
    ] {
        let answer = look_up(other_reference.to_owned(), digits).await;
        assert_eq!(answer.status, wrong.status, "{other_reference} {digits}");
        assert_eq!(
            same(&answer, other_reference),
            same(&wrong, &reference),
            "{other_reference} {digits}"
        );
    }
    // Throttled per client: ten lookups in fifteen minutes.
    let mut last = StatusCode::OK;
    for _ in 0..6 {
        last = look_up(reference.clone(), "0000").await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}
