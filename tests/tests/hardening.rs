//! What an attacker or an unlucky day tries (issue 12): posts from other
//! sites' pages, answers without security headers, invisible characters
//! in forms, and, on the real `site-gen serve`, the same with its static
//! pages and a site file edited into an alias bomb.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tests::desk::{Answer, TestDesk, encode, receipt_parts, repair};
use tests::site::{FixtureSite, site_gen_bin};

const EVIL: &str = "https://evil.example";
const OWN: &str = "https://handbook.example.org";
const CROSS_SITE: &str = desk::http::CROSS_SITE_MESSAGE;

/// A form-encoded post with the given extra headers.
async fn post(
    desk: &TestDesk,
    path: &str,
    headers: &[(&str, &str)],
    pairs: &[(&str, &str)],
) -> Answer {
    let mut request =
        Request::post(path).header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    desk.send(request.body(Body::from(encode(pairs))).unwrap())
        .await
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_and_keeps_what_was_typed() {
    let desk = TestDesk::new();
    for from in [
        [("origin", EVIL)],
        [("origin", "null")],
        [("sec-fetch-site", "cross-site")],
        [("referer", "https://evil.example/win-a-prize")],
    ] {
        let answer = post(&desk, "/forms/repair", &from, &repair()).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{from:?}");
        assert!(
            answer.body.contains(CROSS_SITE),
            "{from:?}: {}",
            answer.body
        );
        assert!(
            answer.body.contains(r#"value="3-2-1502""#),
            "the unit is kept: {}",
            answer.body
        );
    }
    let json = desk
        .send(
            Request::post("/forms/repair")
                .header("origin", EVIL)
                .header("content-type", "application/json")
                .body(Body::from(r#"{"unit":"3-2-1502"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(json.status, StatusCode::FORBIDDEN);
    assert_eq!(json.json()["error"], "cross_site");
    assert_eq!(desk.ticket_count().await, 0, "nothing was stored");

    // The site's own pages (and a client that says nothing) still post.
    let own = post(&desk, "/forms/repair", &[("origin", OWN)], &repair()).await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.body);
    let own_referer = [("referer", "https://handbook.example.org/forms/repair/")];
    let answer = post(&desk, "/forms/repair", &own_referer, &repair()).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
}

#[tokio::test]
async fn the_lookup_the_acceptance_and_the_staff_app_refuse_other_sites_too() {
    let desk = TestDesk::new();
    desk.add_staff("li", "李师傅", "department:engineering")
        .await;
    let url = post(&desk, "/forms/repair", &[], &repair())
        .await
        .header("location")
        .expect("a receipt")
        .to_owned();
    let (reference, _) = receipt_parts(&url);
    let evil = [("origin", EVIL)];

    let track = post(
        &desk,
        "/track",
        &evil,
        &[("reference", &reference), ("phone_last4", "0000")],
    )
    .await;
    assert_eq!(track.status, StatusCode::FORBIDDEN);
    assert!(track.body.contains(CROSS_SITE) && track.body.contains(&reference));

    // Staff: the action is refused before its CSRF token is even looked
    // at, and the ticket page comes back with the note kept.
    let li = desk.sign_in("li").await;
    let mut request = Request::post(format!("/desk/tickets/{reference}/note"))
        .header("cookie", &li.cookie)
        .header("origin", EVIL)
        .header("content-type", "application/x-www-form-urlencoded");
    request = request.header("accept", "text/html");
    let body = encode(&[
        ("csrf", &li.csrf),
        ("version", "1"),
        ("note", "业主来电催促"),
    ]);
    let refused = desk.send(request.body(Body::from(body)).unwrap()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains(CROSS_SITE), "{}", refused.body);
    assert!(refused.body.contains("业主来电催促"), "the note is kept");
    let signin = post(
        &desk,
        "/desk/signin",
        &evil,
        &[("username", "li"), ("password", "x")],
    )
    .await;
    assert_eq!(signin.status, StatusCode::FORBIDDEN);
    assert!(signin.body.contains(CROSS_SITE) && signin.body.contains(r#"value="li""#));

    // The owner's acceptance, once the work is done.
    for (action, version) in [("schedule", 1), ("complete", 2)] {
        let inputs = serde_json::json!({ "visit_at": "2026-12-05T09:30", "note": "已修好" });
        let done = desk.act(&li, &reference, action, version, inputs).await;
        assert_eq!(done.status, 200, "{}", done.body);
    }
    let pairs = [
        ("version", "3"),
        ("solved", "yes"),
        ("satisfaction", "5"),
        ("comment", "师傅很细心"),
    ];
    let path = url.trim_start_matches(OWN);
    let answer = post(&desk, path, &evil, &pairs).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(answer.body.contains(CROSS_SITE) && answer.body.contains("师傅很细心"));
    let accepted = post(&desk, path, &[("origin", OWN)], &pairs).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
}

#[tokio::test]
async fn every_answer_of_the_desk_carries_the_security_headers() {
    let desk = TestDesk::new();
    let invalid = post(&desk, "/forms/repair", &[], &[("unit", "3")]).await;
    let desk_page = desk.get("/desk/signin").await;
    for answer in [
        desk.get("/track").await,
        invalid,
        desk.get("/forms/nothing/received/X/Y").await,
        desk_page,
    ] {
        let csp = answer.header("content-security-policy").unwrap_or("");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(
            csp.contains("script-src 'self' https://handbook.example.org"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("x-frame-options"), Some("DENY"));
        assert!(answer.header("referrer-policy").is_some());
        assert!(
            answer
                .header("strict-transport-security")
                .is_some_and(|h| h.starts_with("max-age="))
        );
    }
    // The status page keeps its own, stricter referrer policy.
    let receipt = post(&desk, "/forms/repair", &[], &repair()).await;
    let url = receipt.header("location").expect("a receipt").to_owned();
    let page = desk.get(url.trim_start_matches(OWN)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(page.header("content-security-policy").is_some());
}

#[tokio::test]
async fn invisible_characters_fill_no_field_of_a_real_form() {
    let desk = TestDesk::new();
    let mut pairs = repair();
    pairs.retain(|(n, _)| *n != "name" && *n != "unit");
    pairs.push(("name", "\u{200B}\u{200B}"));
    pairs.push(("unit", "3-2-\u{202E}2051"));
    let answer = post(&desk, "/forms/repair", &[], &pairs).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("方向"), "{}", answer.body);
    let json = desk
        .post_json(
            "repair",
            serde_json::json!({ "name": "\u{200B}\u{200B}", "unit": "3-2-\u{202E}2051" }),
        )
        .await;
    let errors = &json.json()["errors"];
    assert!(
        errors["name"].as_str().unwrap_or("").starts_with("请填写"),
        "{errors}"
    );
    assert!(
        errors["unit"].as_str().unwrap_or("").contains("方向"),
        "{errors}"
    );
    assert_eq!(desk.ticket_count().await, 0);
}

// ------------------------------------------------------ the real server

/// `site-gen serve` on a copy of a fixture, on a free port.
struct Served {
    child: Child,
    address: String,
}

impl Served {
    fn start(site: &FixtureSite) -> Served {
        let mut child = Command::new(site_gen_bin())
            .args(["serve", "--port", "0", "--root"])
            .arg(site.root())
            .arg("--data")
            .arg(site.scratch().join("data"))
            .env_remove("DESK_STORE")
            .env_remove("DESK_MAIL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("site-gen serve starts");
        let stdout = child.stdout.take().expect("its output");
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            let line = lines
                .next()
                .and_then(Result::ok)
                .expect("serve says where it listens");
            if let Some(rest) = line.strip_prefix("Serving http://") {
                break rest.split('/').next().unwrap_or_default().to_owned();
            }
        };
        // Keep reading, so a full pipe never blocks the server.
        std::thread::spawn(move || for _ in lines {});
        Served { child, address }
    }

    /// One HTTP/1.1 exchange; the status and the whole answer.
    fn exchange(&self, request: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.address).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, answer)
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.exchange(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.address
        ))
    }

    fn post_form(&self, path: &str, origin: &str, body: &str) -> (u16, String) {
        self.exchange(&format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nOrigin: {origin}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.address,
            body.len()
        ))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn serve_protects_its_static_pages_and_forms_and_survives_an_alias_bomb() {
    let site = FixtureSite::new("basic");
    let served = Served::start(&site);
    let own = format!("http://{}", served.address);

    let (status, page) = served.get("/");
    assert_eq!(status, 200, "{page}");
    let lower = page.to_ascii_lowercase();
    for header in [
        "content-security-policy: default-src 'self'",
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "referrer-policy: ",
    ] {
        assert!(lower.contains(header), "{header} missing:\n{page}");
    }
    assert!(
        !lower.contains("strict-transport-security"),
        "no HSTS over plain HTTP"
    );

    let body = encode(&repair());
    let (status, page) = served.post_form("/forms/repair", EVIL, &body);
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("3-2-1502"), "the text is kept");
    let (status, page) = served.post_form("/forms/repair", &own, &body);
    assert_eq!(status, 303, "{page}");

    // Saving a page and a form definition as alias bombs: the build fails,
    // and the server (desk included) goes on answering.
    plant_alias_bombs(&site);
    std::thread::sleep(Duration::from_secs(2));
    let (status, _) = served.get("/");
    assert_eq!(status, 200, "the server is still up");
    let (status, page) = served.post_form("/forms/repair", &own, &body);
    assert_eq!(status, 303, "the desk is still up: {page}");
}

/// The issue's bombs: a 100 KB value aliased 20,000 times (2 GB expanded),
/// as a page's front matter (line 3) and atop a form definition (line 2).
fn plant_alias_bombs(site: &FixtureSite) {
    let big = "x".repeat(100_000);
    let aliases = vec!["*a"; 20_000].join(", ");
    site.write(
        "content/fees/payment.md",
        format!("---\ntitle: &a \"{big}\"\ntags: [{aliases}]\n---\n"),
    );
    site.edit("content/forms/repair.yaml", |text| {
        format!("x: &a \"{big}\"\ny: [{aliases}]\n{text}")
    });
}

#[test]
fn check_refuses_alias_bombs_quickly_within_bounded_memory() {
    let site = FixtureSite::new("basic");
    plant_alias_bombs(&site);
    // 1 GB of address space: expanding either bomb needs twice that.
    let bin = site_gen_bin();
    let started = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1000000 && exec \"$0\" check --root \"$1\"")
        .arg(bin)
        .arg(site.root())
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(stderr.contains("content/fees/payment.md:3"), "{stderr}");
    assert!(stderr.contains("content/forms/repair.yaml:2"), "{stderr}");
    assert!(stderr.contains("YAML aliases"), "{stderr}");
}
