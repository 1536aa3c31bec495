//! Answers: JSON for the page's script, HTML for a browser without it. All
//! error answers are made here, so client errors are precise and server
//! errors say nothing of the inside.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::intake::{Encoding, IntakeError, encoding};

/// What the client wants back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
}

impl Format {
    pub fn of(headers: &HeaderMap) -> Format {
        let accepts_json = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"));
        if accepts_json || encoding(headers) == Some(Encoding::Json) {
            Format::Json
        } else {
            Format::Html
        }
    }
}

/// A short answer in the format the client reads.
pub fn message(format: Format, status: StatusCode, code: &str, text: &str) -> Response {
    match format {
        Format::Json => (status, Json(json!({ "error": code, "message": text }))).into_response(),
        Format::Html => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            text.to_owned(),
        )
            .into_response(),
    }
}

/// `303 See Other` to `location`: where a browser goes after a post.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A page meant for one person (staff pages with owners' data, an owner's
/// status page): never kept by a cache on the way.
pub fn private_html(status: StatusCode, body: String) -> Response {
    let mut response = html(status, body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

pub fn intake_error(format: Format, error: IntakeError) -> Response {
    match error {
        IntakeError::UnsupportedType => message(
            format,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "请以表单（application/x-www-form-urlencoded）或 JSON 提交。",
        ),
        IntakeError::TooLarge => message(
            format,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "提交的内容过长，请精简后再试。",
        ),
        IntakeError::Malformed(why) => message(format, StatusCode::BAD_REQUEST, "malformed", why),
    }
}

pub fn unavailable(format: Format) -> Response {
    message(
        format,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "系统暂时无法保存您的请求，请稍后再试；紧急情况请直接致电客服中心。",
    )
}

pub fn too_many(format: Format, retry_after: u64) -> Response {
    let mut response = message(
        format,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        &too_many_message(retry_after),
    );
    self::retry_after(&mut response, retry_after);
    response
}

pub fn too_many_message(retry_after: u64) -> String {
    format!("提交过于频繁，请 {retry_after} 秒后再试；您填写的内容已保留。")
}

pub fn retry_after(response: &mut Response, seconds: u64) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
}
