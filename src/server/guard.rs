//! Who may talk to the server. A server on 127.0.0.1 is still reachable
//! from any web page the user opens, so besides the token it refuses what a
//! browser tab elsewhere could do: a foreign `Host` (DNS rebinding), a
//! state-changing request from a foreign `Origin` (CSRF), and CORS for any
//! origin not allowed by name.

use super::error::ApiError;
use super::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The cookie the panel's session travels in.
pub const SESSION_COOKIE: &str = "gencost_session";

/// How long a panel session lasts: a working day and then some. The
/// cookie says so too, and logging out ends it at once.
pub const SESSION_SECONDS: u64 = 12 * 3600;

/// Why a request was not let in.
pub enum Refusal {
    /// No token and no session came with it.
    Missing,
    /// A token came, and it is not this server's.
    Wrong,
}

/// What the server lets in: its token, the host names it answers to, the
/// origins allowed besides its own, and the panel sessions handed out.
pub struct Access {
    token: Option<String>,
    hosts: HashSet<String>,
    origins: HashSet<String>,
    /// Session ids and when each ends.
    sessions: Mutex<HashMap<String, Instant>>,
}

impl Access {
    pub fn new(
        bound: SocketAddr,
        token: Option<String>,
        allow_hosts: &[String],
        allow_origins: &[String],
    ) -> Access {
        let mut hosts: HashSet<String> = ["localhost", "127.0.0.1", "[::1]"]
            .into_iter()
            .map(String::from)
            .collect();
        hosts.insert(match bound {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        });
        hosts.extend(allow_hosts.iter().map(|h| h.trim().to_ascii_lowercase()));
        let origins = allow_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .collect();
        Access {
            token: token.map(|t| t.trim().to_string()),
            hosts,
            origins,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether `given` is the token, compared in constant time.
    pub fn is_token(&self, given: &str) -> bool {
        match &self.token {
            Some(token) => bool::from(token.as_bytes().ct_eq(given.as_bytes())),
            None => false,
        }
    }

    /// A new panel session (a random id), for a cookie.
    pub fn open_session(&self) -> String {
        let id = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let ends = Instant::now() + Duration::from_secs(SESSION_SECONDS);
        if let Ok(mut sessions) = self.sessions.lock() {
            let now = Instant::now();
            sessions.retain(|_, ends| *ends > now);
            sessions.insert(id.clone(), ends);
        }
        id
    }

    /// Ends the session the request carries, if any.
    pub fn close_session(&self, headers: &HeaderMap) {
        if let (Some(id), Ok(mut sessions)) =
            (cookie(headers, SESSION_COOKIE), self.sessions.lock())
        {
            sessions.retain(|s, _| !bool::from(s.as_bytes().ct_eq(id.as_bytes())));
        }
    }

    fn has_session(&self, headers: &HeaderMap) -> bool {
        let Some(id) = cookie(headers, SESSION_COOKIE) else {
            return false;
        };
        let now = Instant::now();
        self.sessions
            .lock()
            .map(|sessions| {
                sessions
                    .iter()
                    .any(|(s, ends)| bool::from(s.as_bytes().ct_eq(id.as_bytes())) && *ends > now)
            })
            .unwrap_or(false)
    }

    /// Lets in a request that carries the token (`Authorization: Bearer`,
    /// the scheme in any case, or the header `key_slot` names) or a live
    /// panel session; everything when the server has no token.
    pub fn authorize(&self, headers: &HeaderMap, key_slot: Option<&str>) -> Result<(), Refusal> {
        if self.token.is_none() {
            return Ok(());
        }
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(rest)
            })
            // ElevenLabs' clients carry their key in `xi-api-key`: on the
            // ElevenLabs route it carries this server's token.
            .or_else(|| {
                key_slot
                    .and_then(|name| headers.get(name))
                    .and_then(|v| v.to_str().ok())
            });
        match bearer {
            Some(given) if self.is_token(given.trim()) => Ok(()),
            Some(_) => Err(Refusal::Wrong),
            None if self.has_session(headers) => Ok(()),
            None if headers.contains_key(header::AUTHORIZATION) => Err(Refusal::Wrong),
            None => Err(Refusal::Missing),
        }
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let host = host.trim().to_ascii_lowercase();
        // Strip the port: `name:port`, `[v6]:port`.
        let name = match host.rfind(':') {
            Some(i) if !host[i..].contains(']') => &host[..i],
            _ => host.as_str(),
        };
        self.hosts.contains(name)
    }

    /// Allowed by `--allow-origin`.
    pub fn origin_listed(&self, origin: &str) -> bool {
        self.origins
            .contains(&origin.trim_end_matches('/').to_ascii_lowercase())
    }

    /// The panel's own origin (as the browser reached it) or a listed one.
    fn origin_allowed(&self, origin: &str, headers: &HeaderMap) -> bool {
        let own = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(|host| format!("http://{}", host.to_ascii_lowercase()));
        own.as_deref() == Some(origin.to_ascii_lowercase().as_str()) || self.origin_listed(origin)
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Checks every request before its handler, and adds CORS headers for
/// allowed origins.
pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let access = &state.access;
    let headers = request.headers();
    if !access.host_allowed(headers) {
        return ApiError::forbidden(
            "this server answers only to its own address (the Host header names another)",
        )
        .into_response();
    }
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if request.method() == Method::OPTIONS {
        return match origin {
            Some(origin) if access.origin_listed(&origin) => preflight(&origin),
            _ => ApiError::forbidden("cross-origin requests are allowed only from --allow-origin")
                .into_response(),
        };
    }
    if let Some(origin) = &origin {
        if changes_state(request.method()) && !access.origin_allowed(origin, headers) {
            return ApiError::forbidden(format!(
                "a request from the page {origin} may not change this ledger (allow it with --allow-origin)"
            ))
            .into_response();
        }
    }
    let path = request.uri().path();
    // The login page and what it needs; everything else wants the token.
    let open = matches!(
        path,
        "/" | "/session" | "/session/logout" | "/assets/panel.css" | "/assets/panel.js"
    );
    if !open {
        let key_slot = path.starts_with("/elevenlabs/").then_some("xi-api-key");
        if let Err(refusal) = access.authorize(headers, key_slot) {
            let error = match refusal {
                Refusal::Missing => ApiError::unauthorized(),
                Refusal::Wrong => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the token is not this server's (Authorization: Bearer TOKEN)",
                ),
            };
            let mut response = error.into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"gencost\""),
            );
            return response;
        }
    }
    let mut response = next.run(request).await;
    if let Some(origin) = origin.filter(|o| access.origin_listed(o)) {
        if let Ok(value) = HeaderValue::from_str(&origin) {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    response
}

/// The answer to a CORS preflight from an allowed origin.
fn preflight(origin: &str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(
            "authorization, content-type, accept, x-fal-target-url, x-gencost-client, x-gencost-project, x-gencost-deliverable",
        ),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}
