//! The Admin's two-step sign-in with the real binary: required by default
//! (the first sign-in sets up an authenticator app), `--admin-two-factor
//! optional` signs in with the password alone, `admin:user:2fa:reset`
//! removes a user's second steps and ends their sessions (an unknown user:
//! one line, a non-zero exit), and `encryption:key:change` re-encrypts the
//! authenticator secrets, which still work afterwards. On SQLite and on
//! PostgreSQL.

use reqwest::header::COOKIE;
use reqwest::StatusCode;
use serde_json::{json, Value};
use web::two_factor::totp::code_at;
use web::{Clock, SystemClock};

use crate::common::{command_default_two_factor, http, with_db, Server};

testkit::both_backends!(crate::common::Db; fn second_steps_with_the_binary);

struct Answer {
    status: StatusCode,
    body: Value,
    cookies: Vec<String>,
}

impl Answer {
    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.iter().find_map(|c| {
            let (k, v) = c.split(';').next()?.split_once('=')?;
            (k == name && !v.is_empty()).then(|| format!("{k}={v}"))
        })
    }
}

async fn post(base: &str, path: &str, cookie: &str, body: Value) -> Answer {
    let mut req = http().post(format!("{base}{path}")).json(&body);
    if !cookie.is_empty() {
        req = req.header(COOKIE, cookie);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let cookies = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let body = res.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        body,
        cookies,
    }
}

async fn login(base: &str, password: &str) -> Answer {
    post(
        base,
        "/admin/api/v1/login",
        "",
        json!({"username": "admin", "password": password}),
    )
    .await
}

async fn key_status(base: &str, sid: &str) -> StatusCode {
    http()
        .get(format!("{base}/admin/api/v1/channels/amazon/key-status"))
        .header(COOKIE, sid)
        .send()
        .await
        .expect("key status")
        .status()
}

/// The first sign-in: password, then the app set up. Returns (secret, session).
async fn set_up(base: &str, password: &str) -> (String, String) {
    let r = login(base, password).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, json!({"two_factor": "setup_required"}));
    assert_eq!(r.cookie("adm_sid"), None);
    let pending = r.cookie("adm_2fa").expect("a pending sign-in");
    assert_eq!(key_status(base, &pending).await, StatusCode::UNAUTHORIZED);
    let r = post(
        base,
        "/admin/api/v1/account/two-factor/totp",
        &pending,
        json!({}),
    )
    .await;
    let secret = r.body["secret"].as_str().expect("secret").to_owned();
    let code = code_at(&secret, SystemClock.now()).expect("code");
    let r = post(
        base,
        "/admin/api/v1/account/two-factor/totp/confirm",
        &pending,
        json!({"code": code}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["recovery_codes"].as_array().map(Vec::len), Some(10));
    (secret, r.cookie("adm_sid").expect("the session"))
}

async fn second_steps_with_the_binary(db: &crate::common::Db) {
    let db = db.url();
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let args = |a: &[&str]| with_db(a, db.as_deref());
    let serve = args(&[
        "serve",
        "admin",
        "--admin-addr",
        "127.0.0.1:0",
        "--account-url",
        "http://127.0.0.1:9",
    ]);
    let start = |more: &'static [&'static str]| start_admin(data, serve.clone(), more);

    // The default: the first start prints the password; the first sign-in
    // sets up the app.
    let server = start(&[]).await;
    let base = server.admin_base();
    let password = server.admin_password().expect("the generated password");
    let (secret, sid) = set_up(&base, &password).await;
    assert_eq!(key_status(&base, &sid).await, StatusCode::OK);

    // A new data key: the secret is re-encrypted and still works (the next
    // step's code: the current one was used).
    let out = run(data, &args(&["encryption:key:change"])).await;
    assert!(out.ok(), "{out:?}");
    assert!(
        out.stdout.contains("1 authenticator secret under it"),
        "{out:?}"
    );
    assert_eq!(server.terminate().await, Some(0));
    let server = start(&[]).await;
    let r = login(&base_of(&server), &password).await;
    assert_eq!(r.body["two_factor"], "required", "{:?}", r.body);
    let pending = r.cookie("adm_2fa").expect("pending");
    let next = code_at(&secret, SystemClock.now() + 30).expect("code");
    let r = post(
        &base_of(&server),
        "/admin/api/v1/login/two-factor",
        &pending,
        json!({"code": next}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let sid = r.cookie("adm_sid").expect("a session");
    assert_eq!(key_status(&base_of(&server), &sid).await, StatusCode::OK);

    // The reset: one line, the sessions ended, the setup asked for again.
    let out = run(
        data,
        &args(&["admin:user:2fa:reset", "--username", "ADMIN"]),
    )
    .await;
    assert!(out.ok(), "{out:?}");
    assert!(out.stdout.contains("admin"), "{out:?}");
    assert!(!out.stdout.contains(&secret), "{out:?}");
    assert_eq!(
        key_status(&base_of(&server), &sid).await,
        StatusCode::UNAUTHORIZED
    );
    let r = login(&base_of(&server), &password).await;
    assert_eq!(r.body, json!({"two_factor": "setup_required"}));
    let out = run(
        data,
        &args(&["admin:user:2fa:reset", "--username", "nobody"]),
    )
    .await;
    out.assert_clean_error("an unknown user");
    assert_eq!(server.terminate().await, Some(0));

    // --admin-two-factor optional: the password alone signs in.
    let server = start(&["--admin-two-factor", "optional"]).await;
    let r = login(&base_of(&server), &password).await;
    assert_eq!(r.status, StatusCode::OK);
    let sid = r.cookie("adm_sid").expect("a session");
    assert_eq!(key_status(&base_of(&server), &sid).await, StatusCode::OK);
    assert_eq!(server.terminate().await, Some(0));
}

async fn start_admin(data: &std::path::Path, serve: Vec<String>, more: &[&str]) -> Server {
    let mut argv: Vec<&str> = serve.iter().map(String::as_str).collect();
    argv.extend_from_slice(more);
    Server::start_command(command_default_two_factor(data), &argv, "Commerce Admin: ").await
}

fn base_of(server: &Server) -> String {
    server.admin_base()
}

/// `commerce ARGS` with second steps at their default.
async fn run(data: &std::path::Path, args: &[String]) -> crate::common::Out {
    let started = std::time::Instant::now();
    let out = command_default_two_factor(data)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()
        .await
        .expect("run commerce");
    crate::common::Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}
