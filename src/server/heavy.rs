//! Heavy pages: the HTML report and the CSV export can read a million
//! entries. They run on a runtime of their own, at most two at once, so they
//! never hold the server's async workers (which answer the panel, the API
//! and proxied fal streams); a third waits for nobody: it is told to retry.
//! On a server without a token, a page on another site cannot start them
//! (an `<img src=…/report.html>` would otherwise cost the server a report
//! per view).

use super::error::ApiError;
use super::guard::Access;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Heavy pages rendered at once; more are answered `503 overloaded`.
pub const AT_ONCE: usize = 2;

/// Seconds a refused caller is told to wait.
const RETRY_AFTER_SECONDS: &str = "5";

pub struct HeavyPages {
    runtime: tokio::runtime::Handle,
    permits: Arc<Semaphore>,
}

impl HeavyPages {
    /// Starts the runtime heavy pages run on: two worker threads, kept
    /// until the process ends.
    pub fn start() -> crate::error::Result<HeavyPages> {
        let (handle_to, handle) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("gencost-heavy".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(AT_ONCE)
                    .thread_name("gencost-heavy")
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => {
                        let _ = handle_to.send(Ok(runtime.handle().clone()));
                        runtime.block_on(std::future::pending::<()>());
                    }
                    Err(e) => {
                        let _ = handle_to.send(Err(e.to_string()));
                    }
                }
            })
            .map_err(|e| crate::Error::Io(format!("cannot start a thread: {e}")))?;
        let runtime = handle
            .recv()
            .map_err(|e| crate::Error::Io(e.to_string()))?
            .map_err(|e| crate::Error::Io(format!("cannot start the report runtime: {e}")))?;
        Ok(HeavyPages {
            runtime,
            permits: Arc::new(Semaphore::new(AT_ONCE)),
        })
    }

    /// Runs `work` on the heavy runtime if a place is free, else answers
    /// `503 overloaded` with `Retry-After`.
    pub async fn run<F>(&self, work: F) -> Result<Response, ApiError>
    where
        F: Future<Output = Result<Response, ApiError>> + Send + 'static,
    {
        let Ok(permit): Result<OwnedSemaphorePermit, _> = self.permits.clone().try_acquire_owned()
        else {
            return Ok(overloaded());
        };
        let done = self
            .runtime
            .spawn(async move {
                let answer = work.await;
                drop(permit);
                answer
            })
            .await;
        done.map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the page stopped: {e}"),
            )
        })?
    }
}

fn overloaded() -> Response {
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "overloaded",
        format!("{AT_ONCE} reports or exports are being made; try again in a few seconds"),
    )
    .into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    response
}

/// On a server without a token, only the panel itself (or a page listed
/// with `--allow-origin`) may start a heavy page: a request the browser
/// marks as coming from another site (`Sec-Fetch-Site`) is refused. Tools
/// that send no such header (curl, scripts) are not browsers' pages.
pub fn check_site(access: &Access, headers: &HeaderMap) -> Result<(), ApiError> {
    if access.has_token() {
        return Ok(());
    }
    let site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    let from_here = match site.as_deref() {
        None | Some("same-origin") | Some("none") => true,
        Some(_) => headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|origin| access.origin_listed(origin)),
    };
    if from_here {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            "a page on another site may not start a report or an export on this server (allow it with --allow-origin)",
        ))
    }
}
