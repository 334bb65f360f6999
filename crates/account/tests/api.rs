//! The account service's JSON API (SPEC §3), over real HTTP, on SQLite and
//! PostgreSQL: sign-up and sessions, input validation, keys and their
//! lifecycle, verification and the Magento gateway check, company isolation,
//! expiry with a manual clock, and the cross-origin guard.

#[macro_use]
mod common;

use common::{mistype, unique_email, App, Resp, TestDb, CLOCK_START, PASSWORD};
use reqwest::header::{CONTENT_TYPE, COOKIE, ORIGIN};
use reqwest::StatusCode;
use serde_json::{json, Value};
use web::clock::rfc3339;
use web::ManualClock;

both_backends!(
    signup_login_logout,
    signup_and_login_reject_bad_input,
    key_lifecycle,
    create_key_rejects_bad_input,
    companies_are_isolated,
    expiry_follows_the_clock,
    cross_origin_writes_are_refused,
);

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

const VIEW_FIELDS: [&str; 8] = [
    "id",
    "name",
    "environment",
    "hint",
    "status",
    "created_at",
    "expires_at",
    "last_used_at",
];

fn assert_view_fields(k: &Value, what: &str) {
    let obj = k
        .as_object()
        .unwrap_or_else(|| panic!("{what}: an object: {k}"));
    for f in VIEW_FIELDS {
        assert!(obj.contains_key(f), "{what}: field {f} in {k}");
    }
    for f in obj.keys() {
        assert!(
            !f.contains("hash") && !f.contains("secret"),
            "{what}: no hash or secret field, found {f}"
        );
    }
}

async fn key_lifecycle(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("keys"), "Keys Inc").await;

    // Production key.
    let prod = app
        .create_key(
            &sid,
            json!({"name": "Amazon Sales Channel", "environment": "production"}),
        )
        .await;
    assert_view_fields(&prod, "created production key");
    let prod_key = prod["key"]
        .as_str()
        .expect("key in the create response")
        .to_owned();
    assert!(prod_key.starts_with("cmk_live_"), "{prod_key}");
    assert_eq!(prod_key.len(), keys::KEY_LEN);
    assert!(prod_key[9..].bytes().all(|b| b.is_ascii_alphanumeric()));
    assert!(keys::ApiKey::parse(&prod_key).is_ok(), "the checksum holds");
    assert_eq!(prod["name"], json!("Amazon Sales Channel"));
    assert_eq!(prod["environment"], json!("production"));
    assert_eq!(prod["status"], json!("valid"));
    assert_eq!(prod["expires_at"], Value::Null);
    assert_eq!(prod["last_used_at"], Value::Null);
    assert!(web::clock::parse_rfc3339(prod["created_at"].as_str().expect("created_at")).is_some());
    let hint = prod["hint"].as_str().expect("hint");
    assert!(
        hint.starts_with("cmk_live_") && hint.ends_with(&prod_key[prod_key.len() - 4..]),
        "{hint}"
    );
    assert!(
        !hint.contains(&prod_key[9..prod_key.len() - 4]),
        "the hint hides the secret part"
    );
    let prod_id = prod["id"].as_str().expect("id").to_owned();

    // Sandbox key; the environment defaults to production when left out.
    let sandbox = app
        .create_key(
            &sid,
            json!({"name": "Staging store", "environment": "sandbox"}),
        )
        .await;
    let sandbox_key = sandbox["key"].as_str().expect("key").to_owned();
    assert!(sandbox_key.starts_with("cmk_test_"), "{sandbox_key}");
    assert_eq!(sandbox["environment"], json!("sandbox"));
    let sandbox_id = sandbox["id"].as_str().expect("id").to_owned();
    let default_env = app.create_key(&sid, json!({"name": "Default env"})).await;
    assert_eq!(default_env["environment"], json!("production"));
    assert!(default_env["key"]
        .as_str()
        .expect("key")
        .starts_with("cmk_live_"));
    let upper = app
        .create_key(&sid, json!({"name": "Upper", "environment": "Sandbox"}))
        .await;
    assert_eq!(upper["environment"], json!("sandbox"));
    let mut all_keys: Vec<String> = vec![prod_key.clone(), sandbox_key.clone()];
    for k in [&default_env, &upper] {
        all_keys.push(k["key"].as_str().expect("key").to_owned());
    }
    for (i, a) in all_keys.iter().enumerate() {
        assert!(all_keys[i + 1..].iter().all(|b| b != a), "keys are unique");
    }

    // The list: every key, the same fields, never the secret or its hash.
    let (raw, listed) = app.list_keys(&sid).await;
    assert_eq!(listed.len(), 4, "{raw}");
    for k in &listed {
        assert_view_fields(k, "listed key");
        assert!(k.get("key").is_none(), "no key field in the list: {k}");
        assert_eq!(k["status"], json!("valid"));
    }
    for key in &all_keys {
        assert!(!raw.contains(key.as_str()), "the list never contains a key");
        assert!(!raw.contains(&key[9..]), "nor its secret part");
        assert!(!raw.contains(&keys::hash_str(key).to_hex()), "nor its hash");
    }
    let listed_prod = listed
        .iter()
        .find(|k| k["id"] == json!(prod_id))
        .expect("listed");
    assert_eq!(listed_prod["hint"], prod["hint"]);
    assert_eq!(listed_prod["name"], prod["name"]);
    assert_eq!(listed_prod["created_at"], prod["created_at"]);

    // Verification.
    let v = app.verify(&prod_key).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    let body = v.json();
    assert_eq!(body["valid"], json!(true), "{body}");
    assert_eq!(body["status"], json!("valid"));
    assert_eq!(body["environment"], json!("production"));
    assert!(!v.text.contains(&prod_key));
    assert_eq!(app.verify_status(&sandbox_key).await, "valid");
    // One changed character, a truncation, a swapped prefix: invalid.
    assert_eq!(app.verify_status(&mistype(&prod_key)).await, "invalid");
    let bad = app.verify(&mistype(&prod_key)).await.json();
    assert_eq!(bad["valid"], json!(false));
    assert_eq!(
        app.verify_status(&prod_key[..prod_key.len() - 1]).await,
        "invalid"
    );
    assert_eq!(app.verify_status("").await, "invalid");
    assert_eq!(app.verify_status("cmk_live_").await, "invalid");
    let env_swapped = prod_key.replacen("cmk_live_", "cmk_test_", 1);
    assert_eq!(
        app.verify_status(&env_swapped).await,
        "invalid",
        "the checksum covers the prefix"
    );
    let unknown = keys::ApiKey::generate(keys::Environment::Production);
    assert_eq!(
        app.verify_status(unknown.expose()).await,
        "invalid",
        "well-formed but not issued"
    );
    // Missing header: 400.
    let missing = Resp::read(
        app.http
            .post(app.url("/api/v1/keys/verify"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    missing.assert_api_error("verify without a key");

    // The Magento gateway check: exactly 200 when valid, 401 otherwise.
    assert_eq!(
        app.gateway(Some(("magento-api-key", &prod_key))).await,
        StatusCode::OK
    );
    assert_eq!(
        app.gateway(Some(("x-api-key", &prod_key))).await,
        StatusCode::OK
    );
    assert_eq!(
        app.gateway(Some(("Magento-Api-Key", &sandbox_key))).await,
        StatusCode::OK
    );
    assert_eq!(
        app.gateway(Some(("magento-api-key", &mistype(&prod_key))))
            .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.gateway(Some(("magento-api-key", unknown.expose())))
            .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.gateway(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.gateway(Some(("authorization", &prod_key))).await,
        StatusCode::UNAUTHORIZED,
        "only the two documented headers count"
    );

    // Last use: batched in memory, written by a flush, then listed.
    assert_eq!(
        app.listed_key(&sid, &prod_id).await["last_used_at"],
        Value::Null
    );
    let written = app
        .running
        .state
        .verifier
        .flush_last_used()
        .await
        .expect("flush");
    assert!(
        written >= 2,
        "the two verified keys are flushed, got {written}"
    );
    let used = app.listed_key(&sid, &prod_id).await;
    let last_used = used["last_used_at"]
        .as_str()
        .expect("last_used_at is set after a flush");
    assert!(
        web::clock::parse_rfc3339(last_used).is_some(),
        "{last_used}"
    );
    let never = app
        .listed_key(&sid, default_env["id"].as_str().expect("id"))
        .await;
    assert_eq!(
        never["last_used_at"],
        Value::Null,
        "a key never verified stays unused"
    );

    // Revocation: 204, then `revoked` everywhere, at once (the cache is invalidated).
    let del = app
        .delete(&format!("/api/v1/keys/{prod_id}"), Some(&sid))
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.text);
    let after = app.verify(&prod_key).await.json();
    assert_eq!(after["status"], json!("revoked"), "{after}");
    assert_eq!(after["valid"], json!(false));
    assert_eq!(
        app.gateway(Some(("magento-api-key", &prod_key))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.gateway(Some(("x-api-key", &prod_key))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.listed_key(&sid, &prod_id).await["status"],
        json!("revoked")
    );
    // The other keys are untouched.
    assert_eq!(app.verify_status(&sandbox_key).await, "valid");
    assert_eq!(
        app.listed_key(&sid, &sandbox_id).await["status"],
        json!("valid")
    );
    // An id that does not exist: 404.
    let nothing = app
        .delete("/api/v1/keys/key_doesnotexist", Some(&sid))
        .await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);
    nothing.assert_api_error("revoke unknown id");
    // Without a session: 401, and the key stays valid.
    let anon = app
        .delete(&format!("/api/v1/keys/{sandbox_id}"), None)
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.verify_status(&sandbox_key).await, "valid");

    app.stop().await;

    // At rest: no plaintext key anywhere in storage, though the rows are there.
    let stored = db.stored_bytes().await;
    assert!(
        common::contains_bytes(&stored, prod_id.as_bytes()),
        "the scan reads the stored rows (the key id is found)"
    );
    assert!(
        common::contains_bytes(&stored, keys::hash_str(&prod_key).to_hex().as_bytes()),
        "the hash is what is stored"
    );
    for key in &all_keys {
        assert!(
            !common::contains_bytes(&stored, key.as_bytes()),
            "a plaintext key is stored ({:?})",
            db.backend
        );
        assert!(
            !common::contains_bytes(&stored, &key.as_bytes()[9..]),
            "the secret part of a key is stored ({:?})",
            db.backend
        );
    }
    assert!(
        !common::contains_bytes(&stored, PASSWORD.as_bytes()),
        "no plaintext password"
    );
}

async fn create_key_rejects_bad_input(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("key-input"), "Input Co").await;

    let cases: Vec<(&str, Value, StatusCode)> = vec![
        (
            "missing name",
            json!({"environment": "production"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "blank name",
            json!({"name": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "long name",
            json!({"name": "x".repeat(101)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "control chars",
            json!({"name": "a\u{7}b"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "bad environment",
            json!({"name": "n", "environment": "staging"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "bad expiry",
            json!({"name": "n", "expires_at": "tomorrow"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "past expiry",
            json!({"name": "n", "expires_at": "2001-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "far expiry",
            json!({"name": "n", "expires_at": "2999-01-01T00:00:00Z"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "number expiry",
            json!({"name": "n", "expires_at": 12345}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "unknown field",
            json!({"name": "n", "key": "cmk_live_chosen"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("array", json!(["n"]), StatusCode::UNPROCESSABLE_ENTITY),
    ];
    for (what, body, status) in cases {
        let r = app.post_json("/api/v1/keys", Some(&sid), &body).await;
        assert_eq!(r.status, status, "{what}: {}", r.text);
        r.assert_api_error(what);
        assert!(
            !r.text.contains("cmk_live_chosen"),
            "{what}: input not echoed"
        );
    }
    let text = Resp::read(
        app.http
            .post(app.url("/api/v1/keys"))
            .header(COOKIE, common::sid_cookie(&sid))
            .header(CONTENT_TYPE, "text/plain")
            .body("{\"name\":\"n\"}")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let broken = Resp::read(
        app.http
            .post(app.url("/api/v1/keys"))
            .header(COOKIE, common::sid_cookie(&sid))
            .header(CONTENT_TYPE, "application/json")
            .body("{\"name\":")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    broken.assert_api_error("broken JSON");

    let (_, keys) = app.list_keys(&sid).await;
    assert!(keys.is_empty(), "no bad request created a key: {keys:?}");
    app.stop().await;
}

async fn companies_are_isolated(db: &TestDb) {
    let app = App::start(db).await;
    let a = app.signup(&unique_email("a"), "Company A").await;
    let b = app.signup(&unique_email("b"), "Company B").await;

    let a_key = app.create_key(&a, json!({"name": "A's store"})).await;
    let a_id = a_key["id"].as_str().expect("id").to_owned();
    let a_secret = a_key["key"].as_str().expect("key").to_owned();
    let b_key = app.create_key(&b, json!({"name": "B's store"})).await;
    let b_id = b_key["id"].as_str().expect("id").to_owned();

    // B sees only its own key, and cannot revoke A's.
    let (b_raw, b_list) = app.list_keys(&b).await;
    assert_eq!(b_list.len(), 1, "{b_raw}");
    assert_eq!(b_list[0]["id"], json!(b_id));
    assert!(!b_raw.contains(&a_id) && !b_raw.contains("A's store"));
    let steal = app.delete(&format!("/api/v1/keys/{a_id}"), Some(&b)).await;
    assert_eq!(steal.status, StatusCode::NOT_FOUND, "{}", steal.text);
    steal.assert_api_error("revoke another company's key");
    assert_eq!(
        app.verify_status(&a_secret).await,
        "valid",
        "A's key survives B's attempt"
    );
    assert_eq!(app.listed_key(&a, &a_id).await["status"], json!("valid"));

    // A sees only its own key too.
    let (a_raw, a_list) = app.list_keys(&a).await;
    assert_eq!(a_list.len(), 1);
    assert!(!a_raw.contains(&b_id));

    // A can revoke its own.
    let del = app.delete(&format!("/api/v1/keys/{a_id}"), Some(&a)).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(app.verify_status(&a_secret).await, "revoked");
    app.stop().await;
}

async fn expiry_follows_the_clock(db: &TestDb) {
    let clock = ManualClock::new(CLOCK_START);
    let app = App::start_with_clock(db, clock.clone()).await;
    let sid = app.signup(&unique_email("expiry"), "Clock Co").await;

    let exp = CLOCK_START + 2;
    let created = app
        .create_key(
            &sid,
            json!({"name": "Short-lived", "expires_at": rfc3339(exp)}),
        )
        .await;
    assert_eq!(created["expires_at"], json!(rfc3339(exp)));
    assert_eq!(created["status"], json!("valid"));
    let key = created["key"].as_str().expect("key").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    // A key without expiry, for contrast.
    let forever = app.create_key(&sid, json!({"name": "Forever"})).await;
    let forever_key = forever["key"].as_str().expect("key").to_owned();

    let v = app.verify(&key).await.json();
    assert_eq!(v["status"], json!("valid"), "{v}");
    assert_eq!(v["expires_at"], json!(rfc3339(exp)));
    assert_eq!(
        app.gateway(Some(("magento-api-key", &key))).await,
        StatusCode::OK
    );

    clock.advance(3);
    let v = app.verify(&key).await.json();
    assert_eq!(v["status"], json!("expired"), "{v}");
    assert_eq!(v["valid"], json!(false));
    assert_eq!(
        app.gateway(Some(("magento-api-key", &key))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.listed_key(&sid, &id).await["status"], json!("expired"));
    assert_eq!(app.verify_status(&forever_key).await, "valid");

    // Revocation wins over expiry.
    let del = app.delete(&format!("/api/v1/keys/{id}"), Some(&sid)).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(app.verify_status(&key).await, "revoked");

    // An expiry that is now or already past: 422, and nothing is created.
    let now = CLOCK_START + 3;
    for (what, at) in [
        ("past", now - 1),
        ("now", now),
        ("long ago", now - 86400 * 400),
    ] {
        let r = app
            .post_json(
                "/api/v1/keys",
                Some(&sid),
                &json!({"name": "Late", "expires_at": rfc3339(at)}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            r.text
        );
        r.assert_api_error(what);
    }
    // An offset other than Z is understood.
    let offset = app
        .create_key(
            &sid,
            json!({"name": "Offset", "expires_at": "2027-01-15T10:00:00+01:00"}),
        )
        .await;
    assert_eq!(offset["expires_at"], json!(rfc3339(CLOCK_START + 3600)));
    let (_, keys) = app.list_keys(&sid).await;
    assert_eq!(keys.len(), 3, "only the accepted keys exist");
    app.stop().await;
}

async fn cross_origin_writes_are_refused(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("origin");
    let sid = app.signup(&email, "Origin Co").await;
    let evil = "http://evil.example";

    let post_with_origin = |origin: String| {
        app.http
            .post(app.url("/api/v1/keys"))
            .header(COOKIE, common::sid_cookie(&sid))
            .header(ORIGIN, origin)
            .json(&json!({"name": "From elsewhere"}))
    };
    let r = Resp::read(
        post_with_origin(evil.to_owned())
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    r.assert_api_error("cross-origin create");
    assert!(!r.text.contains("cmk_"), "no key in a refused answer");
    let (_, keys) = app.list_keys(&sid).await;
    assert!(keys.is_empty(), "nothing was created");

    // The same request from the service's own origin is fine.
    let same = Resp::read(post_with_origin(app.origin()).send().await.expect("send")).await;
    assert_eq!(same.status, StatusCode::CREATED, "{}", same.text);
    let id = same.json()["id"].as_str().expect("id").to_owned();
    let key = same.json()["key"].as_str().expect("key").to_owned();

    // Cross-origin revoke, login, signup and logout are refused too.
    let del = Resp::read(
        app.http
            .delete(app.url(&format!("/api/v1/keys/{id}")))
            .header(COOKIE, common::sid_cookie(&sid))
            .header(ORIGIN, evil)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(del.status, StatusCode::FORBIDDEN);
    assert_eq!(app.verify_status(&key).await, "valid");
    for (path, body) in [
        (
            "/api/v1/login",
            json!({"email": email, "password": PASSWORD}),
        ),
        (
            "/api/v1/signup",
            json!({"email": unique_email("x"), "password": PASSWORD, "name": "n", "company": "c"}),
        ),
        ("/api/v1/logout", json!({})),
    ] {
        let r = Resp::read(
            app.http
                .post(app.url(path))
                .header(COOKIE, common::sid_cookie(&sid))
                .header(ORIGIN, evil)
                .json(&body)
                .send()
                .await
                .expect("send"),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
        assert!(r.cookie("acct_sid").is_none(), "{path}: no cookie change");
    }
    // The session survived the cross-origin logout attempt.
    app.list_keys(&sid).await;
    app.stop().await;
}
