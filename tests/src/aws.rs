//! The local stand-ins for AWS that `scripts/test` starts (moto's server
//! for DynamoDB and SES, aiosmtpd for SMTP), and SDK clients that can only
//! ever reach them.
//!
//! The script exports, for the whole test run: dummy credentials,
//! `AWS_REGION`, `AWS_EC2_METADATA_DISABLED=true` and `AWS_ENDPOINT_URL`
//! pointing at moto, so an SDK client built from the environment (as the
//! functions build theirs) never reaches for any other address. Outside CI
//! a test that needs a server it does not have says so and passes; in CI
//! (`CI` set) it fails, because a silent skip would hide a broken path.

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
};
use serde_yaml::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::site::workspace_dir;

/// A server address from `variable`, or `None` (outside CI) when the tests
/// run without it.
fn server(variable: &str, what: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "{variable} is not set: in CI the {what} tests need their server; run them through scripts/test, which starts it"
            )
        }
        _ => {
            eprintln!(
                "skipped: {variable} is not set (run scripts/test to start the {what} server)"
            );
            None
        }
    }
}

/// moto's address, after checking the SDK environment points at it only.
pub fn moto() -> Option<String> {
    let url = server("DESK_TEST_MOTO_URL", "DynamoDB/SES")?;
    let expect = |name: &str, wanted: Option<&str>| {
        let value = std::env::var(name).unwrap_or_default();
        let ok = match wanted {
            Some(w) => value == w,
            None => !value.is_empty(),
        };
        assert!(
            ok,
            "{name} must be set for the AWS tests (to {}); scripts/test sets it",
            wanted.unwrap_or("any value")
        );
    };
    expect("AWS_ENDPOINT_URL", Some(&url));
    expect("AWS_EC2_METADATA_DISABLED", Some("true"));
    expect("AWS_REGION", None);
    expect("AWS_ACCESS_KEY_ID", None);
    expect("AWS_SECRET_ACCESS_KEY", None);
    Some(url)
}

pub fn smtp() -> Option<(String, std::path::PathBuf)> {
    let url = server("DESK_TEST_SMTP_URL", "SMTP")?;
    let maildir = std::env::var("DESK_TEST_MAILDIR")
        .expect("DESK_TEST_MAILDIR is set with DESK_TEST_SMTP_URL");
    Some((url, maildir.into()))
}

/// The SDK configuration the functions would load, from the environment.
pub async fn sdk_config() -> SdkConfig {
    let config = desk::aws::sdk_config().await;
    if config.region().is_some() {
        return config;
    }
    config
        .into_builder()
        .region(Region::new("us-east-1"))
        .build()
}

/// A table name no other test uses, so moto is never reset between tests.
pub fn unique_table(purpose: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("desk-{purpose}-{}-{n}-{nanos}", std::process::id())
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("template.yaml: `{key}` is missing in {value:?}"))
}

fn key_schema(value: &Value) -> Vec<KeySchemaElement> {
    value["KeySchema"]
        .as_sequence()
        .expect("a KeySchema")
        .iter()
        .map(|k| {
            KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName"))
                .key_type(KeyType::from(text(k, "KeyType")))
                .build()
                .expect("a key")
        })
        .collect()
}

/// Creates a table named `name` from `TicketTable` in `template.yaml`, so
/// the schema exists in one place only.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let template: Value = serde_yaml::from_str(
        &std::fs::read_to_string(workspace_dir().join("template.yaml"))
            .expect("template.yaml is readable"),
    )
    .expect("template.yaml parses");
    let table = &template["Resources"]["TicketTable"]["Properties"];
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(text(table, "BillingMode")))
        .set_key_schema(Some(key_schema(table)));
    for attribute in table["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
    {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(text(attribute, "AttributeName"))
                .attribute_type(ScalarAttributeType::from(text(attribute, "AttributeType")))
                .build()
                .expect("an attribute"),
        );
    }
    for index in table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("GlobalSecondaryIndexes")
    {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(text(index, "IndexName"))
                .set_key_schema(Some(key_schema(index)))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(text(
                            &index["Projection"],
                            "ProjectionType",
                        )))
                        .build(),
                )
                .build()
                .expect("an index"),
        );
    }
    if let Some(view) = table["StreamSpecification"]["StreamViewType"].as_str() {
        create = create.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(view))
                .build()
                .expect("a stream"),
        );
    }
    create.send().await.expect("moto creates the table");
}

/// `GET path` on a loopback server; the body as text.
pub async fn http_get(base: &str, path: &str) -> String {
    let authority = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(authority)
        .await
        .expect("the server accepts");
    let request = format!("GET {path} HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("the answer is read");
    let text = String::from_utf8_lossy(&response).into_owned();
    text.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// The raw messages moto's SES has accepted.
pub async fn ses_messages(moto: &str) -> Vec<serde_json::Value> {
    let data: serde_json::Value =
        serde_json::from_str(&http_get(moto, "/moto-api/data.json").await)
            .expect("moto's data is JSON");
    data["ses"]["RawMessage"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}
