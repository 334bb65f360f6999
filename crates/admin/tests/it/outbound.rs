//! The Admin's calls to the account service are bounded (issue 12, item 6):
//! an answer body is read up to 64 KiB and no further, no redirect is
//! followed (the key never reaches another host), and a gateway URL that is
//! not an absolute http(s) URL without userinfo, query or fragment is refused
//! when set (the form: 422 and a field error) and never asked when stored.
//! Against real misbehaving servers on 127.0.0.1:0.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use crate::common::{Admin, Browser, Env, CONFIG_PAGE};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_backends!(
    oversized_answers_are_cut,
    redirects_are_not_followed,
    bad_gateway_urls_refused_by_the_form,
    stored_bad_gateway_url_is_not_asked,
);

const GATEWAY_FIELD: &str = "services_connector/production_gateway_url";

/// Well under the 3 s client timeout: a cut answer does not wait for it.
const QUICK: Duration = Duration::from_millis(2000);

/// What a misbehaving account service answers.
#[derive(Clone, Copy)]
enum Answer {
    /// 200, chunked, a body that never ends.
    Endless,
    /// 200 with a valid `{"status":"valid"}` padded past 64 KiB.
    PaddedValid,
    /// 200 with a content-length of 1 GiB, then a trickle.
    HugeLength,
    /// This status with `location: URL`.
    Redirect(u16, &'static str),
}

/// Answers every request with `answer`; `location` fills a redirect's URL.
async fn misbehaving(answer: Answer, location: String) -> (String, tokio::task::JoinHandle<()>) {
    testkit::raw_server(move |mut socket| {
        let location = location.clone();
        async move {
            match answer {
                // Until the Admin hangs up.
                Answer::Endless => testkit::write_endless_chunks(&mut socket, 64 * 1024, b' ').await,
                Answer::PaddedValid => {
                    let body = format!(
                        "{{\"status\":\"valid\",\"pad\":\"{}\"}}",
                        "x".repeat(70 * 1024)
                    );
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(body.as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
                Answer::HugeLength => {
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n{\"status\":";
                    let _ = socket.write_all(head.as_bytes()).await;
                    // Hold the connection; the Admin must not wait for the rest.
                    let mut buf = vec![0u8; 8192];
                    let _ = socket.read(&mut buf).await;
                }
                Answer::Redirect(code, reason) => {
                    let head = format!(
                        "HTTP/1.1 {code} {reason}\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
            }
        }
    })
    .await
}

fn status(v: &Value) -> &str {
    v["status"].as_str().unwrap_or_default()
}

async fn timed_status(admin: &Admin, sid: &str) -> (Value, Duration) {
    let started = Instant::now();
    let v = admin.key_status(sid).await;
    (v, started.elapsed())
}

async fn oversized_answers_are_cut(env: &Env) {
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let mut sid: Option<String> = None;
    for (answer, what) in [
        (Answer::Endless, "an endless chunked body"),
        (Answer::PaddedValid, "a valid answer padded past 64 KiB"),
        (Answer::HugeLength, "a content-length of 1 GiB"),
    ] {
        let (url, server) = misbehaving(answer, String::new()).await;
        let (admin, s) = admin_at(env, url, &key, &mut sid).await;
        let (v, took) = timed_status(&admin, &s).await;
        // Not `valid` (the padded answer says so, past the cap), not a timeout:
        // the body was cut at the cap and refused at once.
        assert_eq!(status(&v), "unreachable", "{what}: {v}");
        assert_eq!(v["reason"], "bad_answer", "{what}: {v}");
        assert!(took < QUICK, "{what}: answered in {took:?}");
        assert_eq!(admin.stored_key().await.as_deref(), Some(key.expose()));
        server.abort();
        admin.stop().await;
    }
}

/// The Admin pointed at `url` with `key` stored (once: the database stays),
/// and an admin session (signed in once, kept in `sid`).
async fn admin_at(
    env: &Env,
    url: String,
    key: &keys::ApiKey,
    sid: &mut Option<String>,
) -> (Admin, String) {
    let admin = Admin::start(env, Some(url)).await;
    if admin.stored_key().await.is_none() {
        admin.store_key(key.expose()).await;
    }
    let s = match sid {
        Some(s) => s.clone(),
        None => sid.insert(admin.api_login().await).clone(),
    };
    (admin, s)
}

async fn redirects_are_not_followed(env: &Env) {
    let key = keys::ApiKey::generate(keys::Environment::Production);
    // The other host: a listener nobody should ever connect to. Its backlog
    // holds any connection made, accepted or not, so a non-blocking accept
    // after the check tells for sure.
    let other = std::net::TcpListener::bind("127.0.0.1:0").expect("test setup");
    other.set_nonblocking(true).expect("test setup");
    let other_url = format!(
        "http://{}/api/v1/keys/verify",
        other.local_addr().expect("test setup")
    );
    let mut sid: Option<String> = None;
    for (code, reason) in [
        (307, "Temporary Redirect"),
        (308, "Permanent Redirect"),
        (302, "Found"),
        (301, "Moved Permanently"),
    ] {
        let (url, server) = misbehaving(Answer::Redirect(code, reason), other_url.clone()).await;
        let (admin, s) = admin_at(env, url, &key, &mut sid).await;
        let (v, took) = timed_status(&admin, &s).await;
        assert_eq!(status(&v), "unreachable", "{code}: {v}");
        assert_eq!(v["reason"], "bad_answer", "{code}: {v}");
        assert!(took < QUICK, "{code}: answered in {took:?}");
        match other.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Ok((_, from)) => panic!("{code}: the redirect was followed (connection from {from})"),
            Err(e) => panic!("{code}: accept: {e}"),
        }
        assert_eq!(admin.stored_key().await.as_deref(), Some(key.expose()));
        server.abort();
        admin.stop().await;
    }
}

async fn bad_gateway_urls_refused_by_the_form(env: &Env) {
    let admin = Admin::start(env, Some("http://127.0.0.1:9".to_owned())).await;
    let b = Browser::new(&admin);
    b.sign_in().await;
    b.get(CONFIG_PAGE).await;
    let csrf = b.csrf();
    let good = "https://keys.example.com";
    let r = b
        .post_form(CONFIG_PAGE, &[("csrf", &csrf), (GATEWAY_FIELD, good)])
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    for (bad, says) in [
        (
            "http://user:secret@evil.example",
            "without a user name or password",
        ),
        (
            "http://keys.example.com@evil.example",
            "without a user name or password",
        ),
        ("https://keys.example.com/?next=evil", "without a query"),
        ("https://keys.example.com/#frag", "without a query"),
        (
            "ftp://keys.example.com",
            "Enter a URL that starts with http:// or https://.",
        ),
        (
            "keys.example.com",
            "Enter a URL that starts with http:// or https://.",
        ),
        (
            "http://",
            "Enter a URL that starts with http:// or https://.",
        ),
    ] {
        let r = b
            .post_form(CONFIG_PAGE, &[("csrf", &csrf), (GATEWAY_FIELD, bad)])
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
        assert!(r.text.contains(says), "{bad}: the page says {says:?}");
        assert!(r.text.contains("The configuration was not saved."), "{bad}");
        let kept = admin
            .config()
            .get(GATEWAY_FIELD, admin::config::ScopeRef::DEFAULT)
            .await
            .expect("read the config");
        assert_eq!(kept.as_deref(), Some(good), "{bad}: the good URL is kept");
    }
    admin.stop().await;
}

/// A URL stored by an older version (or straight into the database) is
/// checked again before every call: the key is not sent.
async fn stored_bad_gateway_url_is_not_asked(env: &Env) {
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("test setup");
    listener.set_nonblocking(true).expect("test setup");
    let addr = listener.local_addr().expect("test setup");
    let admin = Admin::start(env, None).await;
    admin.store_key(key.expose()).await;
    let sid = admin.api_login().await;
    for bad in [
        format!("http://user:pw@{addr}"),
        format!("http://{addr}/?x=1"),
        format!("http://{addr}#f"),
    ] {
        admin::store::upsert_config(
            &admin.running.state.db,
            admin::config::ScopeRef::DEFAULT,
            GATEWAY_FIELD,
            &bad,
            0,
        )
        .await
        .expect("test setup");
        let v = admin.key_status(&sid).await;
        assert_eq!(status(&v), "unreachable", "{bad}: {v}");
        assert_eq!(v["reason"], "gateway_url_invalid", "{bad}: {v}");
        match listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!("{bad}: the Admin connected: {other:?}"),
        }
    }
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.expose()));
    admin.stop().await;
}
