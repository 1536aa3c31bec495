//! `GET/POST /desk/signin`, `POST /desk/signout`.
//!
//! A wrong name and a wrong password answer the same, after the same work
//! (a password hash is checked either way). Attempts are counted per
//! account and per client, so guessing is slow whichever is varied.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::client::ClientKey;
use super::super::intake;
use super::super::reply::{self, Format};
use super::session::{
    self, CSRF_FIELD, SESSION_COOKIE, SIGNIN_COOKIE, SignedIn, cookie_value, set_cookie, staff_url,
};
use super::views;
use crate::accounts::{self, Session};
use crate::desk::Desk;
use crate::throttle::over_limit;

/// Attempts allowed in one window, per account and per client.
const PER_ACCOUNT: u32 = 5;
const PER_CLIENT: u32 = 20;
const WINDOW: TimeDelta = TimeDelta::minutes(15);

#[derive(Deserialize, Default)]
pub struct Next {
    next: Option<String>,
}

#[derive(Serialize)]
struct SignInPage {
    signin: SignInView,
}

#[derive(Serialize)]
struct SignInView {
    action: String,
    token: String,
    next: String,
    username: String,
    error: Option<String>,
}

/// Only a staff page of this desk may be the place to go back to: a path
/// under `/desk/` as the router saw it, never another site.
fn safe_next(desk: &Desk, next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/desk/") && !n.contains("//") && !n.contains('\\') => {
            format!("{}{n}", desk.config.desk_endpoint())
        }
        _ => staff_url(desk, "/"),
    }
}

pub async fn page(State(desk): State<Arc<Desk>>, Query(next): Query<Next>) -> Response {
    render(
        &desk,
        StatusCode::OK,
        safe_next(&desk, next.next.as_deref()),
        "",
        None,
    )
}

fn render(
    desk: &Desk,
    status: StatusCode,
    next: String,
    username: &str,
    error: Option<String>,
) -> Response {
    let Ok(token) = accounts::random_token() else {
        return reply::unavailable(Format::Html);
    };
    let page = SignInPage {
        signin: SignInView {
            action: staff_url(desk, "/signin"),
            token: token.clone(),
            next,
            username: username.to_owned(),
            error,
        },
    };
    let mut response = views::render(desk, "desk/signin.html", &page, status);
    set_cookie(desk, &mut response, SIGNIN_COOKIE, &token, Some(3600));
    response
}

pub async fn submit(
    State(desk): State<Arc<Desk>>,
    client: ClientKey,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let format = Format::of(&headers);
    let form = match intake::read(&headers, body).await {
        Ok(form) => form,
        Err(e) => return reply::intake_error(format, e),
    };
    let username = form
        .get("username")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let password = form.get("password").unwrap_or("");
    let next = safe_next(&desk, form.get("next"));
    // A browser's form must come from our sign-in page (its cookie and its
    // field agree); a script posts JSON, which no other site's page can
    // send here without CORS, which the desk does not grant.
    if super::super::cross_site(&desk, &headers) {
        let message = super::super::CROSS_SITE_MESSAGE;
        return match format {
            Format::Json => reply::message(format, StatusCode::FORBIDDEN, "cross_site", message),
            Format::Html => render(
                &desk,
                StatusCode::FORBIDDEN,
                next,
                &username,
                Some(message.into()),
            ),
        };
    }
    if format == Format::Html {
        let cookie = cookie_value(&headers, SIGNIN_COOKIE).unwrap_or_default();
        let field = form.get(CSRF_FIELD).unwrap_or("");
        if cookie.is_empty() || !accounts::same_secret(&cookie, field) {
            return render(
                &desk,
                StatusCode::FORBIDDEN,
                next,
                &username,
                Some("登录页面已过期，请重新输入。".into()),
            );
        }
    }
    match throttled(&desk, &client, &username).await {
        Ok(false) => {}
        Ok(true) => {
            let text = "登录尝试过多，请 15 分钟后再试，或联系物业经理重置密码。";
            return match format {
                Format::Json => reply::too_many(format, WINDOW.num_seconds() as u64),
                Format::Html => {
                    let mut r = render(
                        &desk,
                        StatusCode::TOO_MANY_REQUESTS,
                        next,
                        &username,
                        Some(text.into()),
                    );
                    if let Ok(v) = WINDOW.num_seconds().to_string().parse() {
                        r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
                    }
                    r
                }
            };
        }
        Err(e) => {
            tracing::error!(error = %e, "the sign-in throttle failed");
            return reply::unavailable(format);
        }
    }
    let account = match desk.store.get_staff(&username).await {
        Ok(account) => account,
        Err(e) => {
            tracing::error!(error = %e, "reading an account failed");
            return reply::unavailable(format);
        }
    };
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.as_str())
        .unwrap_or_else(|| accounts::decoy_hash());
    let matches = accounts::verify_password(password, hash);
    let staff = match account {
        Some(staff) if matches && !staff.disabled => staff,
        _ => {
            tracing::info!(outcome = "signin_refused", "staff sign-in refused");
            let text = "用户名或密码不正确。";
            return match format {
                Format::Json => {
                    reply::message(format, StatusCode::UNAUTHORIZED, "wrong_credentials", text)
                }
                Format::Html => render(
                    &desk,
                    StatusCode::UNAUTHORIZED,
                    next,
                    &username,
                    Some(text.into()),
                ),
            };
        }
    };
    let (Ok(token), Ok(csrf)) = (accounts::random_token(), accounts::random_token()) else {
        return reply::unavailable(format);
    };
    let now = desk.clock.now();
    let session = Session {
        id_hash: accounts::hash_token(&token),
        username: staff.username.clone(),
        epoch: staff.session_epoch,
        csrf: csrf.clone(),
        created_at: now,
        last_seen: now,
    };
    if let Err(e) = desk.store.put_session(&session).await {
        tracing::error!(error = %e, "storing a session failed");
        return reply::unavailable(format);
    }
    tracing::info!(outcome = "signed_in", "staff signed in");
    let mut response = match format {
        Format::Json => {
            (
                StatusCode::OK,
                Json(json!({ "username": staff.username, "name": staff.name, "role": staff.role.as_string(), "csrf_token": csrf })),
            )
                .into_response()
        }
        Format::Html => reply::see_other(&next),
    };
    set_cookie(
        &desk,
        &mut response,
        SESSION_COOKIE,
        &token,
        Some(accounts::LIFETIME.num_seconds()),
    );
    set_cookie(&desk, &mut response, SIGNIN_COOKIE, "", Some(0));
    response
}

/// Counts this attempt; true when the account or the client is over its limit.
async fn throttled(
    desk: &Desk,
    client: &ClientKey,
    username: &str,
) -> Result<bool, crate::store::StoreError> {
    let account = accounts::hash_token(&format!("signin#{username}"));
    let account_key = format!("signin#account#{}", &account[..24]);
    let by_account = over_limit(desk, &account_key, WINDOW, PER_ACCOUNT).await?;
    let client_key = format!("signin#client#{}", client.0);
    let by_client = over_limit(desk, &client_key, WINDOW, PER_CLIENT).await?;
    Ok(by_account.is_some() || by_client.is_some())
}

pub async fn sign_out(
    State(desk): State<Arc<Desk>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let format = Format::of(&headers);
    let form = intake::read(&headers, body).await.unwrap_or_default();
    if super::super::cross_site(&desk, &headers) {
        return reply::message(
            format,
            StatusCode::FORBIDDEN,
            "cross_site",
            super::super::CROSS_SITE_MESSAGE,
        );
    }
    if !session::csrf_ok(&signed_in.session, &headers, form.get(CSRF_FIELD)) {
        return session::forbidden(format);
    }
    if let Err(e) = desk.store.delete_session(&signed_in.session.id_hash).await {
        tracing::error!(error = %e, "ending a session failed");
        return reply::unavailable(format);
    }
    let mut response = match format {
        Format::Json => StatusCode::NO_CONTENT.into_response(),
        Format::Html => reply::see_other(&staff_url(&desk, "/signin")),
    };
    set_cookie(&desk, &mut response, SESSION_COOKIE, "", Some(0));
    response
}
