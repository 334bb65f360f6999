//! The edge: headers, direct routes and errors of every layer.

use super::*;
use axum::http::{header, HeaderValue, StatusCode};
use axum::routing::get;
use tower::ServiceExt;

#[derive(Clone)]
struct Pages;

impl ErrorPages for Pages {
    async fn error_page(
        &self,
        _: axum::http::HeaderMap,
        text: crate::error_text::ErrorText,
        status: StatusCode,
    ) -> Response {
        use axum::response::IntoResponse;
        (status, format!("page: {}", text.title)).into_response()
    }
}

fn app() -> impl App {
    let router = Router::new()
        .route("/ok", get(|| async { "ok" }))
        .route(
            "/own-policy",
            get(|| async { ([(header::REFERRER_POLICY, "no-referrer")], "ok") }),
        )
        .route(
            "/api/v1/echo",
            axum::routing::post(|body: String| async move { body }),
        );
    let hosts = AllowedHosts::new("127.0.0.1:8080".parse().expect("addr"), None);
    stack("unit", router, Pages, hosts, true, Default::default(), ())
}

fn get_req(path: &str) -> Request {
    Request::builder()
        .uri(path)
        .header(header::HOST, "127.0.0.1:8080")
        .body(axum::body::Body::empty())
        .expect("request")
}

#[tokio::test]
async fn every_answer_gets_an_id_and_the_security_headers() {
    let res = app().oneshot(get_req("/ok")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers();
    assert_eq!(h["content-security-policy"], headers::CSP);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["strict-transport-security"], headers::HSTS);
    assert!(request_id::is_valid(h["x-request-id"].as_bytes()));

    // A route's own Referrer-Policy stands; a client's valid id comes back.
    let mut req = get_req("/own-policy");
    req.headers_mut()
        .insert(request_id::HEADER, HeaderValue::from_static("client-7"));
    let res = app().oneshot(req).await.unwrap();
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    assert_eq!(res.headers()["x-request-id"], "client-7");
}

/// A direct route: `GET /direct` answers 200 for `?ok`, else our 401.
#[derive(Clone)]
struct TestDirect;

impl Direct for TestDirect {
    type Future = std::future::Ready<DirectAnswer>;

    fn templates(&self) -> &'static [&'static str] {
        &["/direct"]
    }

    fn matches(&self, method: &Method, path: &str) -> Option<&'static str> {
        (*method == Method::GET && path == "/direct").then_some("/direct")
    }

    fn call(
        &self,
        _: &'static str,
        req: Request,
        client: IpAddr,
        headers: HeaderMap,
    ) -> Self::Future {
        let answer = if req.uri().query() == Some("ok") {
            let mut res = Response::new(axum::body::Body::from(client.to_string()));
            *res.headers_mut() = headers;
            DirectAnswer::Ready(res)
        } else {
            DirectAnswer::Unfinished(
                crate::Error::unauthorized("nope", "Not here.").into_response(),
            )
        };
        std::future::ready(answer)
    }
}

#[tokio::test]
async fn direct_routes_skip_the_router_and_keep_the_edge() {
    let router = Router::new().route("/ok", get(|| async { "ok" }));
    let hosts = AllowedHosts::new("127.0.0.1:8080".parse().expect("addr"), None);
    let app = stack(
        "unit",
        router,
        Pages,
        hosts,
        false,
        Default::default(),
        TestDirect,
    );

    // Not a route of the router, yet answered, with the edge's headers.
    let res = app.clone().oneshot(get_req("/direct?ok")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-security-policy"], headers::API_CSP);
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(request_id::is_valid(
        res.headers()["x-request-id"].as_bytes()
    ));
    // Made on the edge's headers: exactly what a routed JSON answer gets.
    let mut routed = HeaderMap::new();
    routed.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    routed.insert(request_id::HEADER, res.headers()["x-request-id"].clone());
    headers::secure(&mut routed, false);
    assert_eq!(res.headers(), &routed);
    let mut req = get_req("/direct?ok");
    req.headers_mut()
        .insert(request_id::HEADER, HeaderValue::from_static("direct-0"));
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "direct-0");

    // Its errors are JSON with the client's id; other methods go to the router.
    let mut req = get_req("/direct");
    req.headers_mut()
        .insert(request_id::HEADER, HeaderValue::from_static("direct-1"));
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["x-request-id"], "direct-1");
    assert_eq!(res.headers()["content-security-policy"], headers::API_CSP);
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["request_id"], "direct-1", "{body}");
    let mut req = get_req("/direct");
    *req.method_mut() = Method::POST;
    let res = app.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn errors_of_every_layer_are_reshaped_and_carry_the_id() {
    // Unknown route: the page, with the headers.
    let res = app().oneshot(get_req("/missing")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().contains_key("x-request-id"));
    assert_eq!(res.headers()["x-frame-options"], "DENY");

    // Another host: refused before routing.
    let mut req = get_req("/ok");
    req.headers_mut()
        .insert(header::HOST, HeaderValue::from_static("evil.example"));
    let res = app().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);

    // A body over the limit on a JSON route: 413 in the JSON format, with the id.
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/echo")
        .header(header::HOST, "127.0.0.1:8080")
        .header(request_id::HEADER, "big-1")
        .body(axum::body::Body::from(vec![b'a'; MAX_BODY + 1]))
        .expect("request");
    let res = app().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["request_id"], "big-1", "{body}");
}
