//! Who is asking, for the rate limit only: a hash of the client's address,
//! never the address itself.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::desk::Desk;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey(pub String);

impl FromRequestParts<Arc<Desk>> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        desk: &Arc<Desk>,
    ) -> Result<Self, Self::Rejection> {
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
        // Keyed with the installation's secret: without it, the few
        // billion IPv4 addresses could be hashed in turn and matched.
        let hash = Sha256::digest(format!("client#{}#{address}", desk.secret().await).as_bytes());
        Ok(ClientKey(
            hash.iter().take(12).map(|b| format!("{b:02x}")).collect(),
        ))
    }
}

#[cfg(feature = "aws")]
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

#[cfg(not(feature = "aws"))]
fn lambda_address(_: &Parts) -> Option<String> {
    None
}
