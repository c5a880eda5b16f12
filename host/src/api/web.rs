//! The dashboard's files (`web/`, embedded in the binary by `build.rs`) and the headers every
//! answer of the host carries.
//!
//! `GET` of a file under `web/` answers it with its content type, a weak `ETag` (the first
//! bytes of its SHA-256; `If-None-Match` answers 304) and `Cache-Control: no-cache`, so a
//! browser revalidates each file and never runs a stale module after an upgrade. Any other
//! path outside `/api` that does not name a file is a route of the app: it answers
//! `index.html`, so `/servers/2/console` can be bookmarked and reloaded. Compression (gzip,
//! brotli) is a layer of the whole router.
//!
//! [`security_headers`] adds to every answer `X-Content-Type-Options: nosniff`,
//! `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, and a Content-Security-Policy:
//! the dashboard's ([`DASHBOARD_CSP`]: only its own scripts, styles and connections, no
//! inline script or style, no framing) on its files, `default-src 'none'` on everything else.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::ApiError;

/// Every served file under `web/`: its path relative to `web/` and its bytes.
static FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The policy of the dashboard's pages: everything from the host itself, nothing inline, no
/// plugins, no framing. `connect-src 'self'` covers the WebSocket on the same host.
pub const DASHBOARD_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The policy of everything else (JSON, problems, metrics): nothing may be loaded or framed.
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// An embedded file, ready to serve.
struct Asset {
    bytes: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

fn assets() -> &'static HashMap<&'static str, Asset> {
    static ASSETS: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        FILES
            .iter()
            .map(|&(path, bytes)| {
                let digest = Sha256::digest(bytes);
                let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
                let etag = HeaderValue::from_str(&format!("W/\"{hex}\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""));
                let asset = Asset {
                    bytes,
                    content_type: content_type(path),
                    etag,
                };
                (path, asset)
            })
            .collect()
    })
}

/// The content type of a served file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The router's fallback: API paths are 404 problems; other `GET`s are a dashboard file or,
/// for a route of the app, `index.html`.
pub async fn fallback(method: Method, headers: HeaderMap, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return super::error::not_found().await.into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return super::error::method_not_allowed().await.into_response();
    }
    let relative = path.trim_start_matches('/');
    let assets = assets();
    if let Some(asset) = assets.get(relative) {
        return serve(asset, &headers, method == Method::HEAD);
    }
    // A name with an extension in its last segment is a file that does not exist, not a route.
    let last = relative.rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return ApiError::not_found(format!("file {path}")).into_response();
    }
    match assets.get("index.html") {
        Some(index) => serve(index, &headers, method == Method::HEAD),
        None => ApiError::not_found("the dashboard").into_response(),
    }
}

fn serve(asset: &Asset, request: &HeaderMap, head: bool) -> Response {
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == asset.etag_str().trim_start_matches("W/")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else if head {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(asset.bytes))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::ETAG, asset.etag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DASHBOARD_CSP),
    );
    response
}

impl Asset {
    fn etag_str(&self) -> &str {
        self.etag.to_str().unwrap_or_default()
    }
}

/// Middleware: the security headers of every answer (see the module documentation). A
/// Content-Security-Policy already set (the dashboard's) is kept.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(API_CSP),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboard_is_embedded_with_content_types() {
        let assets = assets();
        let index = assets.get("index.html").expect("index.html is embedded");
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert!(index.etag_str().starts_with("W/\""));
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("vendor/uplot.css"), "text/css; charset=utf-8");
        assert!(!assets.contains_key("vendor/update.sh"));
        assert!(!assets.contains_key("vendor/SHA256SUMS"));
    }
}
