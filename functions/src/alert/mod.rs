//! The duty alert channels: a group robot's webhook (WeCom, DingTalk or
//! Feishu) and SMS through an Amazon SNS topic. What they carry is written
//! by `crate::notify`; it never includes the owner's name, phone or words.

use std::time::Duration;

use async_trait::async_trait;

#[cfg(feature = "aws")]
mod sns;
#[cfg(feature = "aws")]
pub use sns::Sns;

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("the alert webhook did not take the message: {0}")]
    Webhook(String),
    #[error("SNS did not take the message: {0}")]
    Sms(String),
}

/// The JSON body a group robot accepts. WeCom and DingTalk share one
/// shape; Feishu has its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    WeCom,
    DingTalk,
    Feishu,
}

impl WebhookFormat {
    pub fn parse(text: &str) -> Option<WebhookFormat> {
        match text {
            "wecom" => Some(WebhookFormat::WeCom),
            "dingtalk" => Some(WebhookFormat::DingTalk),
            "feishu" => Some(WebhookFormat::Feishu),
            _ => None,
        }
    }

    pub fn body(self, text: &str) -> serde_json::Value {
        match self {
            WebhookFormat::WeCom | WebhookFormat::DingTalk => serde_json::json!({
                "msgtype": "text",
                "text": { "content": text },
            }),
            WebhookFormat::Feishu => serde_json::json!({
                "msg_type": "text",
                "content": { "text": text },
            }),
        }
    }
}

/// Sends one alert text. A retried alert may arrive twice if the channel
/// took it but its answer was lost: neither robots nor SNS deduplicate.
#[async_trait]
pub trait AlertChannel: Send + Sync {
    async fn send(&self, text: &str) -> Result<(), AlertError>;
}

pub struct Webhook {
    url: String,
    format: WebhookFormat,
    client: reqwest::Client,
}

impl Webhook {
    pub fn new(url: &str, format: WebhookFormat) -> Result<Webhook, AlertError> {
        // reqwest is built without a crypto provider of its own: it takes
        // the process's, ring, the one lettre and the AWS client use. An
        // error only says one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| AlertError::Webhook(format!("cannot set up the HTTP client: {e}")))?;
        Ok(Webhook {
            url: url.to_owned(),
            format,
            client,
        })
    }
}

#[async_trait]
impl AlertChannel for Webhook {
    async fn send(&self, text: &str) -> Result<(), AlertError> {
        let failed = |e: String| AlertError::Webhook(e);
        let answer = self
            .client
            .post(&self.url)
            .json(&self.format.body(text))
            .send()
            .await
            // Without the URL: it carries the robot's secret key.
            .map_err(|e| failed(e.without_url().to_string()))?;
        let status = answer.status();
        let body = answer.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(failed(format!("it answered HTTP {status}")));
        }
        // The robots answer 200 with an error code for a refused message
        // (a wrong key, a rate limit): WeCom and DingTalk `errcode`,
        // Feishu `code`.
        if let Ok(answer) = serde_json::from_str::<serde_json::Value>(&body) {
            for name in ["errcode", "code", "StatusCode"] {
                if let Some(code) = answer.get(name).and_then(|c| c.as_i64())
                    && code != 0
                {
                    let message = ["errmsg", "msg", "StatusMessage"]
                        .iter()
                        .find_map(|m| answer.get(*m).and_then(|v| v.as_str()))
                        .unwrap_or("");
                    return Err(failed(format!("it refused it: {name} {code} {message}")));
                }
            }
        }
        Ok(())
    }
}

/// The configured channels: the duty desk's, and the manager's that an
/// escalation goes to (the duty desk's when the manager has none).
#[derive(Default, Clone)]
pub struct Alerting {
    pub duty_webhook: Option<std::sync::Arc<dyn AlertChannel>>,
    pub manager_webhook: Option<std::sync::Arc<dyn AlertChannel>>,
    pub duty_sms: Option<std::sync::Arc<dyn AlertChannel>>,
    pub manager_sms: Option<std::sync::Arc<dyn AlertChannel>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_have_each_robots_shape() {
        let wecom = WebhookFormat::WeCom.body("紧急报修");
        assert_eq!(wecom["msgtype"], "text");
        assert_eq!(wecom["text"]["content"], "紧急报修");
        assert_eq!(
            WebhookFormat::DingTalk.body("x"),
            WebhookFormat::WeCom.body("x")
        );
        let feishu = WebhookFormat::Feishu.body("紧急报修");
        assert_eq!(feishu["msg_type"], "text");
        assert_eq!(feishu["content"]["text"], "紧急报修");
        assert_eq!(WebhookFormat::parse("slack"), None);
    }
}
