//! Reading a submission from a request body: form-encoded from a browser
//! without script, JSON from the page's script.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use forms::Submission;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use percent_encoding::percent_decode;

/// The largest body accepted; a request far larger than any real form.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Form,
    Json,
}

#[derive(Debug, PartialEq, Eq)]
pub enum IntakeError {
    UnsupportedType,
    TooLarge,
    /// Why, in words for the owner.
    Malformed(&'static str),
}

pub fn encoding(headers: &HeaderMap) -> Option<Encoding> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => Some(Encoding::Form),
        "application/json" => Some(Encoding::Json),
        _ => None,
    }
}

pub async fn read(headers: &HeaderMap, body: Body) -> Result<Submission, IntakeError> {
    read_pairs(headers, body).await.map(Submission::from_pairs)
}

/// The body's (name, value) pairs in the order sent.
pub async fn read_pairs(
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<(String, String)>, IntakeError> {
    let encoding = encoding(headers).ok_or(IntakeError::UnsupportedType)?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT) {
        return Err(IntakeError::TooLarge);
    }
    let bytes = Limited::new(body, BODY_LIMIT)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                IntakeError::TooLarge
            } else {
                IntakeError::Malformed("没有收到完整的提交内容，请检查网络后重新提交。")
            }
        })?
        .to_bytes();
    match encoding {
        Encoding::Form => parse_form(&bytes),
        Encoding::Json => parse_json(&bytes),
    }
}

fn parse_form(bytes: &[u8]) -> Result<Vec<(String, String)>, IntakeError> {
    let decode = |raw: &[u8]| -> Result<String, IntakeError> {
        let spaced: Vec<u8> = raw
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_decode(&spaced)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| {
                IntakeError::Malformed("提交的内容含有无法识别的字符，请返回检查后重新提交。")
            })
    };
    let mut pairs = Vec::new();
    for pair in bytes.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        pairs.push((decode(name)?, decode(value)?));
    }
    Ok(pairs)
}

fn parse_json(bytes: &[u8]) -> Result<Vec<(String, String)>, IntakeError> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|_| IntakeError::Malformed("提交的内容格式不正确，请刷新页面后重新提交。"))?;
    let mut pairs = Vec::with_capacity(object.len());
    for (name, value) in object {
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Bool(true) => "on".to_owned(),
            serde_json::Value::Bool(false) | serde_json::Value::Null => continue,
            serde_json::Value::Number(n) => n.to_string(),
            _ => {
                return Err(IntakeError::Malformed(
                    "提交的内容格式不正确，请刷新页面后重新提交。",
                ));
            }
        };
        pairs.push((name, text));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_decodes_plus_and_percent() {
        let s = Submission::from_pairs(
            parse_form(b"unit=3-2-1502&description=%E6%BC%8F%E6%B0%B4+%E4%BA%86&empty=&flag")
                .unwrap(),
        );
        assert_eq!(s.get("description"), Some("漏水 了"));
        assert_eq!(s.get("empty"), Some(""));
        assert_eq!(s.get("flag"), Some(""));
        assert!(parse_form(b"x=%FF%FE").is_err());
    }

    #[test]
    fn json_accepts_flat_objects_only() {
        let s = Submission::from_pairs(
            parse_json(br#"{"unit":"3-2","consent":true,"n":5,"gone":null,"off":false}"#).unwrap(),
        );
        assert_eq!(
            (s.get("consent"), s.get("n"), s.get("off")),
            (Some("on"), Some("5"), None)
        );
        assert!(parse_json(b"[1,2]").is_err());
        assert!(parse_json(br#"{"a":{"b":1}}"#).is_err());
        assert!(parse_json(b"{not json").is_err());
    }
}
