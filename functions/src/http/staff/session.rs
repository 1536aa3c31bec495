//! Who is signed in: the session cookie, checked against the store on
//! every request, and the CSRF token every state-changing form carries.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use cookie::{Cookie, SameSite};

use super::super::reply::{self, Format};
use crate::accounts::{self, Session, Staff};
use crate::desk::Desk;

pub const SESSION_COOKIE: &str = "desk_session";
/// Set by the sign-in page so its form can prove it came from there.
pub const SIGNIN_COOKIE: &str = "desk_signin";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A signed-in staff member.
pub struct SignedIn {
    pub staff: Staff,
    pub session: Session,
}

impl FromRequestParts<Arc<Desk>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, desk: &Arc<Desk>) -> Result<Self, Response> {
        let format = Format::of(&parts.headers);
        let unauthenticated = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/desk/");
            sign_in_first(desk, format, next)
        };
        let Some(token) = cookie_value(&parts.headers, SESSION_COOKIE) else {
            return Err(unauthenticated());
        };
        let id_hash = accounts::hash_token(&token);
        let now = desk.clock.now();
        let session = match desk.store.get_session(&id_hash).await {
            Ok(Some(session)) if session.is_live(now) => session,
            Ok(_) => return Err(unauthenticated()),
            Err(e) => {
                tracing::error!(error = %e, "reading a session failed");
                return Err(reply::unavailable(format));
            }
        };
        let staff = match desk.store.get_staff(&session.username).await {
            Ok(Some(staff)) if !staff.disabled && staff.session_epoch == session.epoch => staff,
            Ok(_) => return Err(unauthenticated()),
            Err(e) => {
                tracing::error!(error = %e, "reading an account failed");
                return Err(reply::unavailable(format));
            }
        };
        let session = if now - session.last_seen > accounts::TOUCH_EVERY {
            let touched = Session {
                last_seen: now,
                ..session
            };
            if let Err(e) = desk.store.put_session(&touched).await {
                tracing::warn!(error = %e, "recording a session's use failed");
            }
            touched
        } else {
            session
        };
        Ok(SignedIn { staff, session })
    }
}

/// HTML goes to the sign-in page (and back afterwards); JSON gets 401.
fn sign_in_first(desk: &Desk, format: Format, next: &str) -> Response {
    match format {
        Format::Json => reply::message(
            format,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "请先登录。",
        ),
        Format::Html => {
            let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
            reply::see_other(&format!("{}?next={next}", staff_url(desk, "/signin")))
        }
    }
}

/// The address of a staff page: `/desk/…` under the desk's endpoint.
pub fn staff_url(desk: &Desk, path: &str) -> String {
    format!("{}/desk{path}", desk.config.desk_endpoint())
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .flatten()
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A cookie only the staff app's pages receive, never readable by script.
pub fn set_cookie(
    desk: &Desk,
    response: &mut Response,
    name: &str,
    value: &str,
    max_age: Option<i64>,
) {
    let mut cookie = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/desk")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(desk.secure_cookies);
    if let Some(seconds) = max_age {
        cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
    }
    if let Ok(value) = HeaderValue::from_str(&cookie.build().to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Whether a state-changing request carries the session's CSRF token, in
/// the form (`csrf`) or, from a script, the `X-CSRF-Token` header.
pub fn csrf_ok(session: &Session, headers: &HeaderMap, form_value: Option<&str>) -> bool {
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .or(form_value)
        .unwrap_or("");
    !sent.is_empty() && accounts::same_secret(sent, &session.csrf)
}

pub fn forbidden(format: Format) -> Response {
    reply::message(
        format,
        StatusCode::FORBIDDEN,
        "csrf",
        "页面已过期或来源不明，请刷新页面后重试。",
    )
}
