//! `account:2fa:reset --email E` with the real binary, on SQLite and on
//! PostgreSQL: a person who turned on an authenticator app and lost it is
//! reset by the operator while the service runs; their sessions end, the
//! password alone signs in again, the audit log says the operator did it;
//! an unknown or malformed email is one line on stderr and a non-zero exit.

use reqwest::StatusCode;
use serde_json::json;
use web::two_factor::totp::code_at;
use web::{Clock, SystemClock};

use crate::common::{account_api, cli_owned, with_db, Server, PASSWORD};

testkit::both_backends!(crate::common::Db; fn operator_resets_a_persons_second_steps);

async fn operator_resets_a_persons_second_steps(db: &crate::common::Db) {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    let url = db.url();
    let serve = with_db(
        &["serve", "account", "--account-addr", "127.0.0.1:0"],
        url.as_deref(),
    );
    let args: Vec<&str> = serve.iter().map(String::as_str).collect();
    let server = Server::start(&data, &args, "Account service: ").await;
    let api = account_api(&server.account_url());
    let email = testkit::unique_email("reset-me");
    let r = api.signup_raw(&email, PASSWORD, "Reset B.V.").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let sid = r.cookie("acct_sid").expect("a session");

    let r = api
        .post_json("/api/v1/account/two-factor/totp", Some(&sid), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let secret = r.json()["secret"].as_str().expect("secret").to_owned();
    let code = code_at(&secret, SystemClock.now()).expect("a code");
    let r = api
        .post_json(
            "/api/v1/account/two-factor/totp/confirm",
            Some(&sid),
            &json!({ "code": code }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let login = json!({"email": email, "password": PASSWORD});
    let r = api.post_json("/api/v1/login", None, &login).await;
    assert_eq!(r.json()["two_factor"], "required", "{}", r.text);

    let reset = |email: &str| with_db(&["account:2fa:reset", "--email", email], url.as_deref());
    let out = cli_owned(&data, reset(&email)).await;
    assert!(out.ok(), "{out:?}");
    assert!(out.stdout.contains(&email), "{out:?}");

    // The session the person had ended; the password alone signs in.
    let r = api.get("/api/v1/account", Some(&sid)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = api.post_json("/api/v1/login", None, &login).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new_sid = r.cookie("acct_sid").expect("a session after the reset");
    let me = api.get("/api/v1/account", Some(&new_sid)).await.json();
    assert_eq!(me["account"]["two_factor"]["enabled"], false, "{me}");
    let audit = api
        .get("/api/v1/audit?limit=20", Some(&new_sid))
        .await
        .json();
    let reset_event = audit["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "two_factor.reset")
        .cloned()
        .expect("the reset in the audit log");
    assert_eq!(reset_event["actor"], "operator", "{reset_event}");

    for bad in ["nobody@example.com", "x\u{1}y@example.com", "not an email"] {
        let out = cli_owned(&data, reset(bad)).await;
        out.assert_clean_error(bad);
        assert!(out.stderr.contains("no account"), "{bad:?}: {out:?}");
    }
    drop(server);
}
