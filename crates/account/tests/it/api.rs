//! The account service's JSON API (SPEC §3), over real HTTP, on SQLite and
//! PostgreSQL: sign-up and sessions, input validation. Keys are in
//! `api_keys.rs`; isolation, expiry and the cross-origin guard in
//! `api_guards.rs`.

use crate::common::{unique_email, App, Resp, TestDb, PASSWORD};
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(signup_login_logout, signup_and_login_reject_bad_input);

async fn signup_login_logout(db: &TestDb) {
    let app = App::start(db).await;

    let health = app.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);

    // Sign-up: 201, the session cookie, the account (email normalised).
    let email = unique_email("owner");
    let r = app
        .signup_raw(&email.to_uppercase(), PASSWORD, "Acme B.V.")
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let line = r.set_cookie_line("acct_sid").expect("Set-Cookie acct_sid");
    assert!(line.contains("HttpOnly"), "{line}");
    assert!(line.contains("SameSite="), "{line}");
    let signup_sid = r.cookie("acct_sid").expect("acct_sid value");
    assert!(!signup_sid.is_empty());
    let body = r.json();
    assert_eq!(body["account"]["email"], json!(email), "{body}");
    assert_eq!(body["account"]["company"]["name"], json!("Acme B.V."));
    assert!(!r.text.contains(PASSWORD), "the password never comes back");

    // The cookie signs in.
    let (_, keys) = app.list_keys(&signup_sid).await;
    assert!(keys.is_empty());

    // No cookie, or a made-up one: 401 in the JSON error format.
    let anon = app.get("/api/v1/keys", None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    anon.assert_api_error("keys without a session");
    let forged = app
        .get("/api/v1/keys", Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);

    // The same email again, in another case: 409.
    let dup = app
        .signup_raw(&email.to_uppercase(), PASSWORD, "Other")
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.text);
    assert_eq!(dup.assert_api_error("duplicate email"), "email_taken");
    assert!(
        dup.cookie("acct_sid").is_none(),
        "no session for a refused sign-up"
    );
    let dup2 = app.signup_raw(&email, PASSWORD, "Other").await;
    assert_eq!(dup2.status, StatusCode::CONFLICT);

    // Login: 200 and a new session; the email is case-insensitive.
    let ok = app.login_raw(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let login_sid = ok.cookie("acct_sid").expect("login sets acct_sid");
    assert_ne!(login_sid, signup_sid, "a new session id at every sign-in");
    assert_eq!(ok.json()["account"]["email"], json!(email));
    app.list_keys(&login_sid).await;

    // Wrong password and unknown email: the same 401, same code and message.
    let wrong = app.login_raw(&email, "not the right password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.assert_api_error("wrong password"),
        "invalid_credentials"
    );
    assert!(wrong.cookie("acct_sid").is_none());
    let unknown = app.login_raw(&unique_email("nobody"), PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.assert_api_error("unknown email"),
        "invalid_credentials"
    );
    assert_eq!(
        wrong.json()["error"]["message"],
        unknown.json()["error"]["message"],
        "an unknown email cannot be told from a wrong password"
    );
    let malformed = app.login_raw("not-an-email", PASSWORD).await;
    assert_eq!(malformed.status, StatusCode::UNAUTHORIZED);

    // Logout: 204, clears the cookie, and the old session id no longer works.
    let out = app
        .post_json("/api/v1/logout", Some(&login_sid), &json!({}))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text);
    let cleared = out
        .set_cookie_line("acct_sid")
        .expect("logout clears acct_sid");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = app.get("/api/v1/keys", Some(&login_sid)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text);
    after.assert_api_error("keys after logout");
    let create_after = app
        .post_json("/api/v1/keys", Some(&login_sid), &json!({"name": "x"}))
        .await;
    assert_eq!(create_after.status, StatusCode::UNAUTHORIZED);

    // Signing out ends that session only.
    app.list_keys(&signup_sid).await;

    app.stop().await;
}

async fn signup_and_login_reject_bad_input(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("bad-input");
    let short = "elevenchars"; // 11 characters: one too few
    assert_eq!(short.len(), 11);

    let body = |email: &str, password: &str| json!({"email": email, "password": password, "name": "Test User", "company": "Acme"});
    let cases: Vec<(&str, Value)> = vec![
        ("bad email", body("not-an-email", PASSWORD)),
        ("email without domain dot", body("a@b", PASSWORD)),
        ("short password", body(&email, short)),
        (
            "empty name",
            json!({"email": email, "password": PASSWORD, "name": "  ", "company": "Acme"}),
        ),
        (
            "empty company",
            json!({"email": email, "password": PASSWORD, "name": "N", "company": ""}),
        ),
        (
            "too long name",
            json!({"email": email, "password": PASSWORD, "name": "n".repeat(101), "company": "Acme"}),
        ),
        (
            "missing company",
            json!({"email": email, "password": PASSWORD, "name": "N"}),
        ),
        (
            "missing password",
            json!({"email": email, "name": "N", "company": "Acme"}),
        ),
        (
            "unknown field",
            json!({"email": email, "password": PASSWORD, "name": "N", "company": "Acme", "role": "admin"}),
        ),
        (
            "wrong type",
            json!({"email": email, "password": 123456789012_i64, "name": "N", "company": "Acme"}),
        ),
        ("array body", json!([email, PASSWORD])),
        ("null body", Value::Null),
    ];
    for (what, b) in cases {
        let r = app.post_json("/api/v1/signup", None, &b).await;
        r.assert_api_error(what);
        assert!(r.cookie("acct_sid").is_none(), "{what}: no session");
        assert!(
            !r.text.contains(PASSWORD) && !r.text.contains(short),
            "{what}: no password in the error"
        );
    }
    let short_pw = app.signup_raw(&email, short, "Acme").await;
    assert_eq!(short_pw.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short_pw.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("password"));
    let bad_email = app.signup_raw("nope", PASSWORD, "Acme").await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Bodies that are not JSON objects at all.
    let raw = |ct: Option<&'static str>, body: &'static str| {
        let mut req = app.http.post(app.url("/api/v1/signup")).body(body);
        if let Some(ct) = ct {
            req = req.header(CONTENT_TYPE, ct);
        }
        req
    };
    let malformed = Resp::read(
        raw(Some("application/json"), "{\"email\": ")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        malformed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        malformed.text
    );
    malformed.assert_api_error("malformed JSON");
    let empty = Resp::read(
        raw(Some("application/json"), "")
            .send()
            .await
            .expect("send"),
    )
    .await;
    empty.assert_api_error("empty body");
    let text_plain = Resp::read(raw(Some("text/plain"), "{}").send().await.expect("send")).await;
    assert_eq!(text_plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    text_plain.assert_api_error("text/plain");
    let no_ct = Resp::read(raw(None, "{}").send().await.expect("send")).await;
    assert_eq!(no_ct.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let form = Resp::read(
        app.http
            .post(app.url("/api/v1/signup"))
            .form(&[("email", email.as_str()), ("password", PASSWORD)])
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    form.assert_api_error("form body");
    let huge = format!("{{\"email\": \"{}\"}}", "a".repeat(70 * 1024));
    let too_big = Resp::read(
        app.http
            .post(app.url("/api/v1/signup"))
            .header(CONTENT_TYPE, "application/json")
            .body(huge)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert!(
        too_big.status.is_client_error(),
        "oversized body: {}",
        too_big.status
    );

    // None of that created the account: the email is still free.
    let later = app.signup_raw(&email, PASSWORD, "Acme").await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.text);

    // Login input errors are 4xx too.
    let login_missing = app
        .post_json("/api/v1/login", None, &json!({"email": email}))
        .await;
    login_missing.assert_api_error("login without password");
    let login_extra = app
        .post_json(
            "/api/v1/login",
            None,
            &json!({"email": email, "password": PASSWORD, "x": 1}),
        )
        .await;
    login_extra.assert_api_error("login with an unknown field");
    let login_text = Resp::read(
        app.http
            .post(app.url("/api/v1/login"))
            .header(CONTENT_TYPE, "text/plain")
            .body("{}")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(login_text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    app.stop().await;
}
