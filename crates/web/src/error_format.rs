//! What an error answer must become to speak its interface's format: JSON
//! routes answer `{"error": {"code", "message", "request_id"}}`, page routes
//! the site's error page with the error's words ([`Reshape`]). The error
//! middleware (`web::error_pages`) and the edge's direct routes use it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::JsonError;
use crate::error_text::ErrorText;
use crate::Error;

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
    /// An error on a page route: render the error page with these words.
    Page {
        /// The page's words: the error's own, or its status's.
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
    // Ours when made by `web::Error`: it carries its page's words.
    let ours = res.extensions().get::<ErrorText>().copied();
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
        let mut out = Error::of_status(status).into_response();
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
    let text = ours.unwrap_or_else(|| Error::of_status(status).page_text());
    Some(Reshape::Page {
        text,
        status,
        retry_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_text::PageKind;

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
            assert_eq!(
                out.extensions().get::<JsonError>().map(|e| e.code),
                Some(code)
            );
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
            text,
            status,
            retry_after,
        }) = reshape(false, &bare(StatusCode::REQUEST_TIMEOUT))
        else {
            panic!("a page");
        };
        assert_eq!(
            (text, status),
            (PageKind::RequestTimeout.text(), StatusCode::REQUEST_TIMEOUT)
        );
        assert_eq!(retry_after.as_ref().map(|v| v.as_bytes()), Some(&b"7"[..]));
        let Some(Reshape::Page { text, .. }) =
            reshape(false, &Error::too_many_requests(3).into_response())
        else {
            panic!("a page");
        };
        assert_eq!(text, PageKind::TooManyRequests.text());
        // An error's own words stand.
        let own = Error::conflict("x", "y").with_page_text("a.title", "a.message");
        let Some(Reshape::Page { text, .. }) = reshape(false, &own.into_response()) else {
            panic!("a page");
        };
        assert_eq!((text.title, text.message), ("a.title", "a.message"));
        // A form re-shown with its errors (422 HTML) is already the answer.
        let form = (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::response::Html("<form></form>"),
        )
            .into_response();
        assert!(reshape(false, &form).is_none());
    }
}
