//! Anonymous users, CSRF tokens and the security headers.
//!
//! A browser is a user: the `tw_user` cookie holds `{uuid}.{base64url(HMAC-SHA256(key, uuid))}`,
//! so the server keeps no session table and a forged or edited cookie is simply a new user.
//! The CSRF token of a user is `base64url(HMAC-SHA256(key, "csrf:" + uuid))`: a page embeds it,
//! and every state-changing request that comes with a valid cookie must send it back (header
//! `X-CSRF-Token` or form field `csrf`). Requests without the cookie (API clients, curl) are
//! a fresh user each and need no token: no browser sends them on a user's behalf.
//!
//! Requests that another site's page makes (`Sec-Fetch-Site: cross-site`, or a foreign
//! `Origin`) are never given a cookie, and state-changing ones are refused: with SameSite=Lax a
//! cross-site POST arrives without the user's cookie, and answering it with a new one would
//! replace their identity (and hide their plans and lists).

use std::path::Path;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use tripwright_domain::OwnerId;

use super::error::{ErrorCode, WebError};
use super::state::WebApp;

/// Name of the user cookie.
pub(crate) const COOKIE: &str = "tw_user";
/// Name of the CSRF header.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// One year, the cookie's `Max-Age`.
const COOKIE_MAX_AGE: u64 = 365 * 24 * 3600;

type HmacSha256 = Hmac<Sha256>;

/// The server's signing key.
#[derive(Clone)]
pub(crate) struct SessionKeys {
    key: [u8; 32],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys([REDACTED])")
    }
}

impl SessionKeys {
    /// A key derived from a configured secret (the same on every replica).
    pub(crate) fn from_secret(secret: &str) -> Self {
        let digest = Sha256::digest(format!("tripwright-session:{secret}").as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(&digest);
        Self { key }
    }

    /// The key in `{data_dir}/session.key`, made (32 random bytes, mode 0600) when missing.
    pub(crate) fn load_or_create(data_dir: &Path) -> std::io::Result<Self> {
        let path = data_dir.join("session.key");
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                return Ok(Self { key });
            }
            Ok(bytes) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{} has {} bytes, expected 32; delete it to make a new key (everyone gets a new identity)",
                        path.display(),
                        bytes.len()
                    ),
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::create_dir_all(data_dir)?;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        write_private(&path, &key)?;
        Ok(Self { key })
    }

    fn mac(&self, message: &str) -> String {
        // HMAC takes keys of any length: new_from_slice cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn verify(&self, message: &str, tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(message.as_bytes());
        // Constant-time comparison.
        mac.verify_slice(&tag).is_ok()
    }

    /// The cookie value of `user`.
    pub(crate) fn cookie_value(&self, user: &str) -> String {
        format!("{user}.{}", self.mac(user))
    }

    /// The user of a cookie value, when its signature is right.
    pub(crate) fn user_of(&self, value: &str) -> Option<String> {
        let (user, tag) = value.split_once('.')?;
        let user = uuid::Uuid::parse_str(user).ok()?.to_string();
        self.verify(&user, tag).then_some(user)
    }

    /// The CSRF token of `user`.
    pub(crate) fn csrf(&self, user: &str) -> String {
        self.mac(&format!("csrf:{user}"))
    }

    fn csrf_ok(&self, user: &str, token: &str) -> bool {
        self.verify(&format!("csrf:{user}"), token)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// The user of a request, put in its extensions by [`session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    /// The user's id (a UUID).
    pub(crate) id: OwnerId,
    /// The user's CSRF token.
    pub(crate) csrf: String,
    /// No valid cookie came with the request: a client that will not be back as this user
    /// (curl, an API client without a cookie jar), whose plans are kept only for a while.
    pub(crate) fresh: bool,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for User {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<User>()
            .cloned()
            .ok_or_else(|| WebError::internal("the session layer did not run"))
    }
}

fn cookie_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
}

/// Whether another site's page sent the request. Browsers say so in `Sec-Fetch-Site`
/// (`cross-site`, or `same-site` for a sibling subdomain); older ones only send `Origin`,
/// which must then name the host asked (or the one a proxy forwarded). Clients that are not
/// browsers send neither, and no page can make them act for a user.
fn is_cross_site(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "cross-site" | "same-site");
    }
    let Some(origin) = text(header::ORIGIN.as_str()) else {
        return false;
    };
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    let asked = [text("x-forwarded-host"), text(header::HOST.as_str())];
    !asked
        .into_iter()
        .flatten()
        .any(|host| host.eq_ignore_ascii_case(origin_host))
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[derive(serde::Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// Identifies the user (setting a new cookie when there is none or it is invalid), checks the
/// CSRF token of state-changing requests from cookie holders, and adds the security headers.
pub(crate) async fn session(
    State((app, max_body_bytes)): State<(Arc<WebApp>, usize)>,
    request: Request,
    next: Next,
) -> Response {
    let keys = &app.keys;
    let foreign = is_cross_site(request.headers());
    if foreign && is_unsafe(request.method()) {
        // Another site's page (a form that submits itself): refused before anything, and
        // without a cookie, so it can neither act for the user nor replace their identity.
        let wants_page = request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
        let response = if wants_page {
            // A browser that was sent here by the other site's form: a page, in words.
            let nobody = User {
                id: OwnerId::new(String::new()),
                csrf: String::new(),
                fresh: true,
            };
            let path = request.uri().path().to_owned();
            super::pages::refused(&nobody, false, &path, WebError::cross_site())
        } else {
            WebError::cross_site().into_response()
        };
        return app.secure(response);
    }
    let known = cookie_of(request.headers()).and_then(|v| keys.user_of(v));
    let fresh = known.is_none();
    // A new identity is kept (sent as a cookie) only when the request is not another site's:
    // a cross-site request carries no SameSite=Lax cookie, and answering it with a new one
    // would replace the user's.
    let mint = fresh && !foreign;
    let id = known.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let csrf = keys.csrf(&id);
    let mut request = request;
    if !fresh && is_unsafe(request.method()) {
        let header_token = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let token = match header_token {
            Some(t) => Some(t),
            None if is_form(request.headers()) => {
                let (parts, body) = request.into_parts();
                let bytes = match to_bytes(body, max_body_bytes).await {
                    Ok(b) => b,
                    Err(e) => {
                        return app.secure(body_error(&e).into_response());
                    }
                };
                let token = serde_urlencoded::from_bytes::<CsrfField>(&bytes)
                    .ok()
                    .and_then(|f| f.csrf);
                request = Request::from_parts(parts, Body::from(bytes));
                token
            }
            None => None,
        };
        if !token.is_some_and(|t| keys.csrf_ok(&id, &t)) {
            return app.secure(WebError::csrf().into_response());
        }
    }
    request.extensions_mut().insert(User {
        id: OwnerId::new(id.clone()),
        csrf,
        fresh,
    });
    let mut response = next.run(request).await;
    // A handler that set the identity itself (a recovery) has the last word.
    let set_by_handler = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(format!("{COOKIE}=").as_bytes()));
    if mint && !set_by_handler {
        set_identity(&app, &mut response, &keys.cookie_value(&id));
    }
    app.secure(response)
}

/// Sets the identity cookie to `value` (a signed user id) on `response`.
pub(crate) fn set_identity(app: &WebApp, response: &mut Response, value: &str) {
    let mut cookie =
        format!("{COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={COOKIE_MAX_AGE}");
    if app.secure_cookies {
        cookie.push_str("; Secure");
    }
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Why a body could not be read: over the limit (413), or not well framed (400).
pub(crate) fn body_error(e: &axum::Error) -> WebError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return WebError::too_large();
        }
        source = err.source();
    }
    WebError::bad_request(
        ErrorCode::BadRequest,
        "the request body could not be read (it was cut off or badly framed)",
    )
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_tokens_verify_only_with_their_key() {
        let keys = SessionKeys::from_secret("one");
        let user = uuid::Uuid::new_v4().to_string();
        let cookie = keys.cookie_value(&user);
        assert_eq!(keys.user_of(&cookie), Some(user.clone()));
        assert_eq!(SessionKeys::from_secret("two").user_of(&cookie), None);
        // An edited id or tag is refused.
        let other = uuid::Uuid::new_v4().to_string();
        let (_, tag) = cookie.split_once('.').expect("dot");
        assert_eq!(keys.user_of(&format!("{other}.{tag}")), None);
        assert_eq!(keys.user_of(&format!("{user}.{tag}x")), None);
        assert_eq!(keys.user_of("garbage"), None);
        assert_eq!(keys.user_of("not-a-uuid.abc"), None);
        let csrf = keys.csrf(&user);
        assert!(keys.csrf_ok(&user, &csrf));
        assert!(!keys.csrf_ok(&other, &csrf));
        assert_ne!(csrf, tag, "the CSRF token is not the cookie's tag");
    }

    #[test]
    fn the_key_file_is_made_once_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = SessionKeys::load_or_create(dir.path()).expect("made");
        let b = SessionKeys::load_or_create(dir.path()).expect("read back");
        assert_eq!(a.key, b.key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("session.key"))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join("session.key"), b"short").expect("write");
        let err = SessionKeys::load_or_create(dir.path()).expect_err("bad length");
        assert!(err.to_string().contains("expected 32"), "{err}");
    }

    #[test]
    fn other_sites_are_told_apart_by_fetch_metadata_then_origin() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        assert!(!is_cross_site(&headers(&[])), "curl and API clients");
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!is_cross_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "none")])));
        let ours = [
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ];
        assert!(!is_cross_site(&headers(&ours)));
        let theirs = [
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8080"),
        ];
        assert!(is_cross_site(&headers(&theirs)));
        assert!(is_cross_site(&headers(&[
            ("origin", "null"),
            ("host", "a")
        ])));
        let proxied = [
            ("origin", "https://trips.example.org"),
            ("host", "10.0.0.7:8080"),
            ("x-forwarded-host", "trips.example.org"),
        ];
        assert!(!is_cross_site(&headers(&proxied)));
        // Fetch metadata wins over a matching Origin.
        let both = [
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://a"),
            ("host", "a"),
        ];
        assert!(is_cross_site(&headers(&both)));
    }

    #[test]
    fn the_cookie_header_is_parsed_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tw_user=abc.def ; b=2"),
        );
        assert_eq!(cookie_of(&h), Some("abc.def"));
        assert!(!is_unsafe(&Method::GET));
        assert!(is_unsafe(&Method::DELETE));
    }
}
