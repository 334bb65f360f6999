//! Request ids (SPEC §7), with the real binary: every answer carries an
//! `x-request-id` (the client's when valid, else a fresh one), JSON errors
//! carry it as `request_id`, each request's log lines carry it
//! (`--log-format json`), and the Admin forwards it to the account service.

use crate::common::faults as kit;

use std::time::{Duration, Instant};

use crate::common::{cli, create_key, http, signup, KEY_PATH};
use kit::Proc;
use reqwest::header::{HeaderValue, COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

const HEADER: &str = "x-request-id";
/// The request's span is `info`; the answer's line is `debug` under web::request_id.
const LOG: (&str, &str) = ("RUST_LOG", "info,sqlx=warn,web::request_id=debug");

fn id_of(res: &reqwest::Response) -> String {
    res.headers()
        .get(HEADER)
        .unwrap_or_else(|| panic!("an {HEADER} on {}", res.url()))
        .to_str()
        .expect("ASCII")
        .to_owned()
}

fn valid(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The JSON lines of the log; every line must be one.
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a JSON line ({e}): {l}")))
        .collect()
}

/// Waits (at most 5 s) until a log line of the request `id` on `route` shows up.
async fn logged(proc: &Proc, id: &str, route: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = json_lines(&proc.stderr())
            .into_iter()
            .find(|l| l["span"]["request_id"].as_str() == Some(id) && l["span"]["route"] == route);
        if let Some(line) = found {
            return line;
        }
        assert!(
            Instant::now() < deadline,
            "no log line of request {id} on {route}: {}",
            proc.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_errors_and_log_lines_carry_the_request_id() {
    let dir = tempfile::tempdir().expect("test setup");
    let args = [
        "--log-format",
        "json",
        "serve",
        "account",
        "--account-addr",
        "127.0.0.1:0",
    ];
    let proc = Proc::start(dir.path(), &args, &[LOG], "Account service: ").await;
    let base = proc.account_url();
    let get = |path: &str| http().get(format!("{base}{path}"));

    // A fresh id on every answer, a different one each time.
    let a = id_of(&get("/healthz").send().await.expect("healthz"));
    let b = id_of(&get("/healthz").send().await.expect("healthz"));
    assert!(valid(&a) && valid(&b) && a != b, "{a} {b}");

    // A valid client id is kept.
    let mine = "client-42_x.Y";
    let res = get("/healthz")
        .header(HEADER, mine)
        .send()
        .await
        .expect("x");
    assert_eq!(id_of(&res), mine);
    let longest = "a".repeat(64);
    let res = get("/healthz")
        .header(HEADER, &longest)
        .send()
        .await
        .expect("x");
    assert_eq!(id_of(&res), longest);

    // A hostile one (too long, bad characters, non-ASCII, twice) is replaced.
    let hostile: [&[u8]; 5] = [
        &[b'a'; 65],
        b"id with spaces",
        b"<script>alert(1)</script>",
        b"\xff\xfeid",
        b"",
    ];
    for bad in hostile {
        let res = get("/healthz")
            .header(
                HEADER,
                HeaderValue::from_bytes(bad).expect("a header value"),
            )
            .send()
            .await
            .expect("x");
        assert_eq!(res.status(), StatusCode::OK);
        let got = id_of(&res);
        assert!(valid(&got) && got.as_bytes() != bad, "{bad:?} -> {got}");
    }
    let res = get("/healthz")
        .header(HEADER, "one")
        .header(HEADER, "two")
        .send()
        .await
        .expect("x");
    let got = id_of(&res);
    assert!(valid(&got) && got != "one" && got != "two", "{got}");

    // JSON errors carry the answer's id: a handler's 401, the router's 404,
    // an extractor's refusal.
    for (req, status) in [
        (get("/api/v1/keys"), StatusCode::UNAUTHORIZED),
        (get("/api/v1/no-such-route"), StatusCode::NOT_FOUND),
        (
            http()
                .post(format!("{base}/api/v1/signup"))
                .header("content-type", "application/json")
                .body("{not json"),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        for sent in [None, Some("err-id-1")] {
            let req = req.try_clone().expect("clonable");
            let req = match sent {
                Some(id) => req.header(HEADER, id),
                None => req,
            };
            let res = req.send().await.expect("error answer");
            assert_eq!(res.status(), status, "{}", res.url());
            let id = id_of(&res);
            if let Some(sent) = sent {
                assert_eq!(id, sent);
            }
            let body: Value = res.json().await.expect("JSON");
            assert_eq!(body["error"]["request_id"], json!(id), "{body}");
            assert!(body["error"]["code"].is_string(), "{body}");
        }
    }

    // The log is JSON lines; the request's lines carry its id, method and
    // route template; hostile bytes never reach it.
    let line = logged(&proc, mine, "/healthz").await;
    assert_eq!(line["span"]["method"], "GET", "{line}");
    logged(&proc, "err-id-1", "/api/v1/keys").await;
    let log = proc.stderr();
    assert!(!log.contains("<script>"), "{log}");
    assert!(!log.contains("id with spaces"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_forwards_its_request_id_to_the_account_service() {
    let dir = tempfile::tempdir().expect("test setup");
    let args = [
        "--log-format",
        "json",
        "serve",
        "--account-addr",
        "127.0.0.1:0",
        "--admin-addr",
        "127.0.0.1:0",
    ];
    let proc = Proc::start(dir.path(), &args, &[LOG], "Commerce Admin: ").await;
    let account = proc.account_url();
    let admin = proc.admin_base();
    let sid = signup(&account).await;
    let (_, key) = create_key(&account, &sid, json!({"name": "Amazon Sales Channel"})).await;
    assert!(cli(dir.path(), &["config:set", KEY_PATH, &key]).await.ok());
    let password = proc
        .value("Admin user created: admin / ")
        .and_then(|rest| rest.split_once(' ').map(|(p, _)| p.to_owned()))
        .expect("the generated password");
    let (status, adm) = crate::common::admin_login(&admin, "admin", &password).await;
    assert_eq!(status, StatusCode::OK);
    let adm = adm.expect("adm_sid");
    // Sign-in decisions are logged at info in the request's span, never a password.
    let (status, _) = crate::common::admin_login(&admin, "admin", "a wrong password!!").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let decisions: Vec<Value> = json_lines(&proc.stderr())
            .into_iter()
            .filter(|l| l["fields"]["message"] == "admin sign-in")
            .collect();
        let outcomes: Vec<&str> = decisions
            .iter()
            .filter_map(|l| l["fields"]["outcome"].as_str())
            .collect();
        if outcomes.contains(&"signed_in") && outcomes.contains(&"refused") {
            for l in &decisions {
                assert_eq!(l["level"], "INFO", "{l}");
                assert!(valid(l["span"]["request_id"].as_str().unwrap_or("")), "{l}");
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no sign-in decisions: {}",
            proc.stderr()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = proc.stderr();
    assert!(
        !log.contains(&password) && !log.contains("a wrong password"),
        "{log}"
    );

    // One open of the channel page: the Admin asks the account service,
    // and the account service's log names the same request.
    let id = "channel-open-7f3a";
    let res = http()
        .get(format!("{admin}/admin/amazon"))
        .header(COOKIE, format!("adm_sid={adm}"))
        .header(HEADER, id)
        .send()
        .await
        .expect("channel page");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(id_of(&res), id);
    assert!(res.text().await.expect("page").contains("<html"));
    logged(&proc, id, "/admin/amazon").await;
    let asked = logged(&proc, id, "/api/v1/keys/verify").await;
    assert_eq!(asked["span"]["method"], "POST", "{asked}");

    // Without a client id the Admin's fresh one is forwarded just the same.
    let res = http()
        .get(format!("{admin}/admin/api/v1/channels/amazon/key-status"))
        .header(COOKIE, format!("adm_sid={adm}"))
        .send()
        .await
        .expect("key status");
    assert_eq!(res.status(), StatusCode::OK);
    let fresh = id_of(&res);
    assert!(valid(&fresh), "{fresh}");
    logged(&proc, &fresh, "/api/v1/keys/verify").await;
}

#[tokio::test]
async fn a_bad_log_format_is_refused_in_one_line() {
    let dir = tempfile::tempdir().expect("test setup");
    let out = cli(dir.path(), &["--log-format", "xml", "serve"]).await;
    out.assert_clean_error("--log-format xml");
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--log-format"), "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_log_lines_carry_the_request_id_too() {
    let dir = tempfile::tempdir().expect("test setup");
    let args = ["serve", "account", "--account-addr", "127.0.0.1:0"];
    let proc = Proc::start(dir.path(), &args, &[LOG], "Account service: ").await;
    let res = http()
        .get(format!("{}/healthz", proc.account_url()))
        .header(HEADER, "text-id-1")
        .send()
        .await
        .expect("healthz");
    assert_eq!(id_of(&res), "text-id-1");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !proc.stderr().contains("request_id=text-id-1") {
        assert!(Instant::now() < deadline, "{}", proc.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = proc.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("request_id=text-id-1"))
        .expect("the line");
    assert!(line.contains("route=/healthz"), "{line}");
    assert!(serde_json::from_str::<Value>(line).is_err(), "text: {line}");
}
