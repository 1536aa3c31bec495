//! What every answer of the desk is protected by: state-changing requests
//! only from the site's own pages, and the security headers.
//!
//! "The site's own" origins come from `config.yaml`: the origin of
//! `base_url` (the handbook's pages; under `site-gen serve`, the address
//! it is bound to) and of `desk.endpoint` (where the desk's own pages are
//! served on AWS: the 422 form, the status page, `/track`, `/desk/`).

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use config::Config;
use tower_http::set_header::SetResponseHeaderLayer;

/// Said, with what the owner typed kept, when a post came from elsewhere.
pub const CROSS_SITE_MESSAGE: &str = "这次提交不是从本站的页面发出的。为防止他人冒用您的名义提交，系统没有受理。您填写的内容已保留，请核对无误后再次提交。";

/// The origins whose pages may post to the desk, e.g.
/// `["https://handbook.example.org", "https://abc.execute-api…"]`.
pub fn own_origins(config: &Config) -> Vec<String> {
    let mut origins = vec![origin_of(&config.base_url)];
    let endpoint = &config.desk.endpoint;
    if endpoint.starts_with("https://") || endpoint.starts_with("http://") {
        origins.push(origin_of(endpoint));
    }
    // `serve` binds 127.0.0.1; a browser pointed at localhost is the same server.
    if let Some(port) = origins[0].strip_prefix("http://127.0.0.1:") {
        origins.push(format!("http://localhost:{port}"));
    }
    origins.dedup();
    origins
}

/// `https://e.org:443/handbook?x` → `https://e.org`: scheme and host in
/// lower case, the default port left out, as browsers send `Origin`.
pub fn origin_of(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_ascii_lowercase();
    };
    let scheme = scheme.to_ascii_lowercase();
    let host = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(rest)
        .to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let host = host.strip_suffix(default_port).unwrap_or(&host);
    format!("{scheme}://{host}")
}

/// Whether a state-changing request came from another site's page: its
/// `Origin` is not one of `own`. A page with `Referrer-Policy:
/// no-referrer` (the status and lookup pages) posts `Origin: null`; then,
/// and without `Origin`, the browser's `Sec-Fetch-Site` decides (only
/// `same-origin` is ours), else the `Referer`. A request with none of them
/// (a script, an old browser) is let through: only a browser can be
/// tricked into posting, and browsers say where from.
pub fn is_cross_site(own: &[String], headers: &HeaderMap) -> bool {
    let value = |name: HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let origin = value(header::ORIGIN);
    if let Some(origin) = origin.filter(|o| *o != "null") {
        return !own.contains(&origin_of(origin));
    }
    if let Some(site) = value(HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    match value(header::REFERER) {
        Some(referer) => !own.contains(&origin_of(referer)),
        // `Origin: null` with nothing else: a sandboxed frame, a data: page.
        None => origin.is_some(),
    }
}

/// The desk's security headers on every answer of `router` that does not
/// set its own: a CSP without inline script, no sniffing, no framing, the
/// referrer cut to the origin elsewhere, and HSTS over HTTPS.
pub fn with_security_headers(router: Router, config: &Config, https: bool) -> Router {
    let own = own_origins(config).join(" ");
    let csp = format!(
        "default-src 'self' {own}; script-src 'self' {own}; style-src 'self' {own}; \
         img-src 'self' {own} data:; connect-src 'self' {own}; form-action 'self' {own}; \
         frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    );
    let fixed = |value: &'static str| HeaderValue::from_static(value);
    let mut router = router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            fixed("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            fixed("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            fixed("strict-origin-when-cross-origin"),
        ));
    // The origins are checked URLs from config.yaml; a value a header
    // cannot carry leaves the CSP out rather than the desk down.
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ));
    }
    if https {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            fixed("max-age=63072000; includeSubDomains"),
        ));
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn own() -> Vec<String> {
        let config = Config::parse(
            std::path::Path::new("config.yaml"),
            "title: T\nbase_url: https://Handbook.example.org/sub/\ndesk:\n  endpoint: https://api.example.net/prod\n",
        )
        .unwrap();
        own_origins(&config)
    }

    #[test]
    fn the_site_and_the_desk_endpoint_are_ours() {
        assert_eq!(
            own(),
            ["https://handbook.example.org", "https://api.example.net"]
        );
        assert_eq!(origin_of("http://127.0.0.1:8000"), "http://127.0.0.1:8000");
        assert_eq!(origin_of("https://e.org:443/x?y"), "https://e.org");
    }

    #[test]
    fn a_post_from_elsewhere_is_told_apart() {
        let own = own();
        let cross = |pairs: &[(&'static str, &str)]| is_cross_site(&own, &headers(pairs));
        assert!(!cross(&[("origin", "https://handbook.example.org")]));
        assert!(!cross(&[("origin", "https://api.example.net")]));
        // The handbook on CloudFront posting to the API is cross-site to
        // the browser, but its origin is ours.
        assert!(!cross(&[
            ("origin", "https://handbook.example.org"),
            ("sec-fetch-site", "cross-site")
        ]));
        assert!(cross(&[("origin", "https://evil.example")]));
        assert!(cross(&[("origin", "null")]));
        assert!(cross(&[
            ("origin", "null"),
            ("sec-fetch-site", "cross-site")
        ]));
        // A no-referrer page posting to itself.
        assert!(!cross(&[
            ("origin", "null"),
            ("sec-fetch-site", "same-origin")
        ]));
        assert!(cross(&[("sec-fetch-site", "same-site")]));
        assert!(cross(&[(
            "origin",
            "https://handbook.example.org.evil.example"
        )]));
        assert!(cross(&[("sec-fetch-site", "cross-site")]));
        assert!(cross(&[("referer", "https://evil.example/page")]));
        assert!(!cross(&[(
            "referer",
            "https://handbook.example.org/sub/forms/repair/"
        )]));
        assert!(!cross(&[]));
    }
}
