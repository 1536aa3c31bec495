//! Who is asking, for the rate limit only: a hash of the client's address,
//! never the address itself.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // On Lambda the address comes from the request context the service
        // filled in; headers such as X-Forwarded-For are the client's own
        // words and are not trusted.
        let address = lambda_address(parts)
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip().to_string())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let hash = Sha256::digest(format!("client#{address}").as_bytes());
        Ok(ClientKey(
            hash.iter().take(12).map(|b| format!("{b:02x}")).collect(),
        ))
    }
}

fn lambda_address(parts: &Parts) -> Option<String> {
    match parts
        .extensions
        .get::<lambda_http::request::RequestContext>()?
    {
        lambda_http::request::RequestContext::ApiGatewayV2(context) => {
            context.http.source_ip.clone()
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}
