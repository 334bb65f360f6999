//! Every error answer in its interface's own format: JSON routes answer
//! `{"error": {"code", "message", "request_id"}}`, pages answer the site's error page in
//! the visitor's language, whoever made the error (a handler, an extractor,
//! the router's 405, the timeout layer's 408). One middleware for both apps;
//! each app says how its error page looks (`ErrorPages`).

use std::future::Future;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::error_format::{is_api_path, json_answer, reshape, Reshape};
use crate::error_text::ErrorText;

/// How an app renders its error page.
pub trait ErrorPages: Clone + Send + Sync + 'static {
    /// The page showing `text` with `status`; `headers` are the request's
    /// cookies and languages.
    fn error_page(
        &self,
        headers: HeaderMap,
        text: ErrorText,
        status: StatusCode,
    ) -> impl Future<Output = Response> + Send;
}

/// The middleware: `axum::middleware::from_fn_with_state(app, error_pages::answer_errors::<A>)`.
/// An error answer of a JSON route gets the JSON error format with the
/// request's id; one of a page route becomes the app's error page.
pub async fn answer_errors<A: ErrorPages>(
    State(app): State<A>,
    req: Request,
    next: Next,
) -> Response {
    if is_api_path(req.uri().path()) {
        // A cheap clone (shared bytes), kept for a JSON error's body.
        let request_id = crate::request_id::of_headers(req.headers()).cloned();
        let res = next.run(req).await;
        return json_answer(res, request_id.as_ref());
    }
    // Pages need the visitor's cookies and languages.
    let mut page_headers = HeaderMap::new();
    for name in [header::COOKIE, header::ACCEPT_LANGUAGE] {
        for v in req.headers().get_all(&name) {
            page_headers.append(name.clone(), v.clone());
        }
    }
    let res = next.run(req).await;
    match reshape(false, &res) {
        Some(Reshape::Page {
            text,
            status,
            retry_after,
        }) => {
            let mut out = app.error_page(page_headers, text, status).await;
            if let Some(v) = retry_after {
                out.headers_mut().insert(header::RETRY_AFTER, v);
            }
            out
        }
        None | Some(Reshape::Json(_)) => res,
    }
}
