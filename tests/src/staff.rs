//! Driving the staff app as a script does: accounts made in the store,
//! sign-in over JSON, then pages and actions with the session cookie and
//! the CSRF token.

use axum::body::Body;
use axum::http::Request;
use chrono::Utc;
use desk::accounts::{Role, Staff, hash_password};

use crate::desk::{Answer, TestDesk, encode};

/// A signed-in staff member's cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Signed {
    pub cookie: String,
    pub csrf: String,
}

pub const PASSWORD: &str = "a long enough password";

impl TestDesk {
    /// Adds an account with [`PASSWORD`]; `role` as `desk-admin` takes it.
    pub async fn add_staff(&self, username: &str, name: &str, role: &str) {
        let staff = Staff {
            username: username.to_owned(),
            name: name.to_owned(),
            role: Role::parse(role).expect("a role"),
            password_hash: hash_password(PASSWORD).expect("a hash"),
            disabled: false,
            session_epoch: 0,
            created_at: Utc::now(),
        };
        self.store
            .put_staff(&staff, false)
            .await
            .expect("the account is stored");
    }

    /// Signs in with JSON; panics unless it works.
    pub async fn sign_in(&self, username: &str) -> Signed {
        let answer = self
            .post(
                "/desk/signin",
                "application/json",
                serde_json::json!({ "username": username, "password": PASSWORD }).to_string(),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let cookie = answer
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("desk_session="))
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_owned();
        Signed {
            cookie,
            csrf: answer.json()["csrf_token"]
                .as_str()
                .expect("a CSRF token")
                .to_owned(),
        }
    }

    /// A staff page, as HTML or (with `json`) as JSON.
    pub async fn staff_get(&self, signed: Option<&Signed>, path: &str, json: bool) -> Answer {
        let mut request = Request::get(path);
        if let Some(signed) = signed {
            request = request.header("cookie", &signed.cookie);
        }
        if json {
            request = request.header("accept", "application/json");
        }
        self.send(request.body(Body::empty()).expect("a request"))
            .await
    }

    /// A form posted by a browser without script: the CSRF token (unless
    /// `csrf` is `None`) and `pairs`.
    pub async fn staff_post(
        &self,
        signed: &Signed,
        path: &str,
        csrf: Option<&str>,
        pairs: &[(&str, &str)],
    ) -> Answer {
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        if let Some(csrf) = csrf {
            all.push(("csrf", csrf));
        }
        let request = Request::post(path)
            .header("cookie", &signed.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(encode(&all)))
            .expect("a request");
        self.send(request).await
    }

    /// An action as a script takes it: JSON, the token in the header.
    pub async fn act(
        &self,
        signed: &Signed,
        reference: &str,
        action: &str,
        version: u64,
        inputs: serde_json::Value,
    ) -> Answer {
        let mut body = inputs;
        body["version"] = version.into();
        let request = Request::post(format!("/desk/tickets/{reference}/{action}"))
            .header("cookie", &signed.cookie)
            .header("x-csrf-token", &signed.csrf)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(Body::from(body.to_string()))
            .expect("a request");
        self.send(request).await
    }
}

/// A repair that waits for the desk's judgement (category 其他).
pub fn repair_for_the_desk() -> Vec<(&'static str, &'static str)> {
    crate::desk::repair()
        .into_iter()
        .map(|(k, v)| match k {
            "category" => (k, "other"),
            "urgency" => (k, "ordinary"),
            _ => (k, v),
        })
        .collect()
}
