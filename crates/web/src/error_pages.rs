//! Every error answer in its interface's own format: JSON routes answer
//! `{"error": {"code", "message", "request_id"}}`, pages answer the site's error page in
//! the visitor's language, whoever made the error (a handler, an extractor,
//! the router's 405, the timeout layer's 408). One middleware for both apps;
//! each app says how its error page looks (`ErrorPages`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::JsonError;
use crate::page::{ErrorCode, ErrorText};
use crate::Error;

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

/// The middleware, as a layer: `.layer(ErrorPagesLayer::new(state))`. A
/// tower service rather than `axum::middleware::from_fn`: an answer that
/// needs no reshaping (every success) passes through without a boxed
/// future or a clone of the request's headers; only an error page is
/// rendered in a future of its own.
#[derive(Clone)]
pub struct ErrorPagesLayer<A> {
    app: A,
}

impl<A: ErrorPages> ErrorPagesLayer<A> {
    pub fn new(app: A) -> Self {
        ErrorPagesLayer { app }
    }
}

impl<A: ErrorPages, S> tower::Layer<S> for ErrorPagesLayer<A> {
    type Service = ErrorPagesService<A, S>;
    fn layer(&self, inner: S) -> Self::Service {
        ErrorPagesService {
            app: self.app.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub struct ErrorPagesService<A, S> {
    app: A,
    inner: S,
}

/// What the answer's reshaping needs from its request.
pub struct Asked<A> {
    app: A,
    api: bool,
    /// Pages need the visitor's cookies and languages; JSON routes nothing.
    page_headers: HeaderMap,
    /// A cheap clone (shared bytes), kept for a JSON error's body.
    request_id: Option<HeaderValue>,
}

impl<A, S> tower::Service<Request> for ErrorPagesService<A, S>
where
    A: ErrorPages,
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Reshaped<A, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let api = is_api_path(req.uri().path());
        let mut page_headers = HeaderMap::new();
        if !api {
            for name in [header::COOKIE, header::ACCEPT_LANGUAGE] {
                for v in req.headers().get_all(&name) {
                    page_headers.append(name.clone(), v.clone());
                }
            }
        }
        let asked = Asked {
            app: self.app.clone(),
            api,
            page_headers,
            request_id: crate::request_id::of_headers(req.headers()).cloned(),
        };
        Reshaped::Running {
            fut: self.inner.call(req),
            asked: Some(asked),
        }
    }
}

pin_project_lite::pin_project! {
    /// The answer, reshaped when it is an error (see `reshape`).
    #[project = ReshapedProj]
    pub enum Reshaped<A, F> {
        Running { #[pin] fut: F, asked: Option<Asked<A>> },
        Rendering { page: Pin<Box<dyn Future<Output = Response> + Send>> },
    }
}

impl<A, F> Future for Reshaped<A, F>
where
    A: ErrorPages,
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                ReshapedProj::Running { fut, asked } => {
                    let res = match std::task::ready!(fut.poll(cx)) {
                        Ok(res) => res,
                        Err(never) => match never {},
                    };
                    let Some(asked) = asked.take() else {
                        // Polled again after it answered: a bug of the caller.
                        return Poll::Ready(Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response()));
                    };
                    if asked.api {
                        return Poll::Ready(Ok(json_answer(res, asked.request_id.as_ref())));
                    }
                    let page = match reshape(false, &res) {
                        None | Some(Reshape::Json(_)) => return Poll::Ready(Ok(res)),
                        Some(Reshape::Page {
                            text,
                            status,
                            retry_after,
                            ..
                        }) => {
                            let Asked {
                                app, page_headers, ..
                            } = asked;
                            Box::pin(async move {
                                let mut out = app.error_page(page_headers, text, status).await;
                                if let Some(v) = retry_after {
                                    out.headers_mut().insert(header::RETRY_AFTER, v);
                                }
                                out
                            })
                        }
                    };
                    self.set(Reshaped::Rendering { page });
                }
                ReshapedProj::Rendering { page } => return page.as_mut().poll(cx).map(Ok),
            }
        }
    }
}

/// An answer of a JSON route as sent: any error in the JSON error format,
/// with the request's id in its body.
pub fn json_answer(res: Response, request_id: Option<&HeaderValue>) -> Response {
    match reshape(true, &res) {
        Some(Reshape::Json(out)) => with_request_id(out, request_id),
        _ => with_request_id(res, request_id),
    }
}

/// Writes a JSON error of ours again with the request's id in it; any other
/// answer is left as it is.
pub fn with_request_id(res: Response, request_id: Option<&HeaderValue>) -> Response {
    if !(res.status().is_client_error() || res.status().is_server_error()) {
        return res;
    }
    let Some(id) = request_id.and_then(|v| v.to_str().ok()) else {
        return res;
    };
    let Some(error) = res.extensions().get::<JsonError>() else {
        return res;
    };
    let body = error.body(Some(id)).to_string();
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Every error code with a page of its own (the catalogs must have their keys).
pub const ERROR_PAGE_CODES: &[&str] = &[
    "csrf",
    "invalid_form",
    "invalid_text",
    "not_found",
    "too_many_requests",
    "unavailable",
    "busy",
    "forbidden",
    "bad_request",
    "request_timeout",
    "internal",
];

/// The code of an error response that carries none of ours (a 405 of the
/// router, a 408 of the timeout layer, a 413 of the body limit).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 | 403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "too_many_requests",
        400..=499 => "bad_request",
        503 => "unavailable",
        _ => "internal",
    }
}

/// Paths answered in the JSON error format (everything else is a page).
pub fn is_api_path(path: &str) -> bool {
    [
        "/api/",
        "/admin/api/",
        "/gateway/",
        "/merchant-registry/",
        "/amazon/v1/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
        || path == "/noop"
        || path == "/healthz"
        || path == "/readyz"
}

/// What an error response must become so that it speaks its interface's
/// format: `None` leaves it as it is.
pub enum Reshape {
    /// A bare error (no body of ours) on a JSON route.
    Json(Response),
    /// An error on a page route: render the error page for this code.
    Page {
        code: &'static str,
        /// The page's text: the error's own, or its code's.
        text: ErrorText,
        status: StatusCode,
        retry_after: Option<HeaderValue>,
    },
}

/// Decides how the error middleware treats a response (to a JSON route when `api`).
pub fn reshape(api: bool, res: &Response) -> Option<Reshape> {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return None;
    }
    let ours = res.extensions().get::<ErrorCode>().copied();
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
    if api {
        if ours.is_some() || content_type.starts_with("application/json") {
            return None;
        }
        let code = code_for_status(status);
        let message = match code {
            "method_not_allowed" => "This method is not allowed here.",
            "request_timeout" => "The request took too long.",
            "payload_too_large" => "The request body is too large.",
            "not_found" => "There is nothing at this address.",
            "internal" | "unavailable" => "Something went wrong on our side.",
            _ => "The request could not be read.",
        };
        let mut out = Error::new(status, code, message).into_response();
        for name in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(v) = res.headers().get(&name) {
                out.headers_mut().insert(name, v.clone());
            }
        }
        return Some(Reshape::Json(out));
    }
    // A page re-shown with its errors (422 HTML) is already the answer.
    if ours.is_none() && content_type.starts_with("text/html") {
        return None;
    }
    let code = ours.map_or_else(|| code_for_status(status), |ErrorCode(c)| c);
    let text = res
        .extensions()
        .get::<ErrorText>()
        .copied()
        .unwrap_or_else(|| ErrorText::of_code(code));
    Some(Reshape::Page {
        code,
        text,
        status,
        retry_after,
    })
}

/// The catalog keys (title, message) of an error page for an error code.
pub fn error_page_keys(code: &str) -> (&'static str, &'static str) {
    match code {
        "csrf" => ("errorpage.csrf_title", "errorpage.csrf"),
        "invalid_form" => ("errorpage.csrf_title", "errorpage.invalid_form"),
        "not_found" => ("errorpage.not_found_title", "errorpage.not_found"),
        "too_many_requests" => ("errorpage.busy_title", "errorpage.too_many"),
        "unavailable" | "busy" => ("errorpage.busy_title", "errorpage.unavailable"),
        "invalid_text" => ("errorpage.bad_request_title", "errorpage.invalid_text"),
        "request_timeout" => ("errorpage.bad_request_title", "errorpage.timeout"),
        "forbidden"
        | "owner_only"
        | "not_member"
        | "cannot_remove_self"
        | "cannot_change_own_role"
        | "owner_cannot_leave"
        | "last_owner"
        | "cross_origin" => ("errorpage.forbidden_title", "errorpage.forbidden"),
        "internal" => ("errorpage.internal_title", "errorpage.internal"),
        "bad_request"
        | "invalid_field"
        | "method_not_allowed"
        | "payload_too_large"
        | "unsupported_media_type"
        | "changed_meanwhile"
        | "key_not_rollable"
        | "too_many_pending"
        | "already_member"
        | "email_taken"
        | "invitation_rate" => ("errorpage.bad_request_title", "errorpage.bad_request"),
        _ => ("errorpage.internal_title", "errorpage.internal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bare(status: StatusCode) -> Response {
        let mut r = status.into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
        r
    }

    #[test]
    fn bare_errors_of_json_routes_become_json() {
        // The timeout layer's 408 and the router's 405 carry no body of ours.
        for (status, code) in [
            (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            (StatusCode::BAD_REQUEST, "bad_request"),
        ] {
            let Some(Reshape::Json(out)) = reshape(true, &bare(status)) else {
                panic!("{status}: reshaped to JSON");
            };
            assert_eq!(out.status(), status);
            assert_eq!(out.headers()[header::CONTENT_TYPE], "application/json");
            assert_eq!(out.headers()[header::RETRY_AFTER], "7");
            assert_eq!(out.extensions().get::<ErrorCode>().map(|c| c.0), Some(code));
        }
        // Our own JSON errors and successes are left alone.
        assert!(reshape(true, &Error::not_found("x").into_response()).is_none());
        assert!(reshape(true, &StatusCode::OK.into_response()).is_none());
    }

    #[tokio::test]
    async fn json_errors_get_the_request_id() {
        let id = HeaderValue::from_static("req-1");
        let out = with_request_id(Error::not_found("gone").into_response(), Some(&id));
        assert_eq!(out.status(), StatusCode::NOT_FOUND);
        assert_eq!(out.headers()[header::CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(out.into_body(), 1024).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"error": {"code": "not_found", "message": "gone", "request_id": "req-1"}})
        );
        // Without an id, and for answers that are not our JSON errors, nothing changes.
        let plain = Error::not_found("gone").into_response();
        let body = axum::body::to_bytes(with_request_id(plain, None).into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(
            &body[..],
            br#"{"error":{"code":"not_found","message":"gone"}}"#
        );
        let ok = with_request_id(StatusCode::OK.into_response(), Some(&id));
        assert_eq!(ok.status(), StatusCode::OK);
    }

    #[test]
    fn errors_of_pages_become_the_error_page() {
        let Some(Reshape::Page {
            code,
            status,
            retry_after,
            ..
        }) = reshape(false, &bare(StatusCode::REQUEST_TIMEOUT))
        else {
            panic!("a page");
        };
        assert_eq!(
            (code, status),
            ("request_timeout", StatusCode::REQUEST_TIMEOUT)
        );
        assert_eq!(retry_after.as_ref().map(|v| v.as_bytes()), Some(&b"7"[..]));
        let Some(Reshape::Page { code, .. }) =
            reshape(false, &Error::too_many_requests(3).into_response())
        else {
            panic!("a page");
        };
        assert_eq!(code, "too_many_requests");
        // A form re-shown with its errors (422 HTML) is already the answer.
        let form = (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::response::Html("<form></form>"),
        )
            .into_response();
        assert!(reshape(false, &form).is_none());
        for code in ERROR_PAGE_CODES {
            let (title, message) = error_page_keys(code);
            assert!(title.starts_with("errorpage.") && message.starts_with("errorpage."));
        }
    }
}
