//! Two-step sign-in through the JSON API (SPEC §8): a password alone starts
//! no session once a second step is on; wrong, replayed, expired and other
//! accounts' codes are refused; a recovery code works once; wrong codes in
//! parallel cannot pass the sign-in throttle; nothing secret is stored in
//! plain text. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::two_factor::{call, code, enable, login, next_step, status};
use crate::common::{company_messages, unique_email, App, Browser, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::json;

both_backends!(
    two_factor_a_code_after_the_password_starts_the_session,
    two_factor_wrong_replayed_expired_and_foreign_codes_are_refused,
    two_factor_a_recovery_code_works_once,
    two_factor_parallel_wrong_codes_cannot_pass_the_throttle,
    two_factor_nothing_secret_is_stored_in_plain_text,
);

const VERIFY: &str = "/api/v1/login/two-factor";

async fn two_factor_a_code_after_the_password_starts_the_session(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-ok");
    let sid = app.signup(&email, "TFA Co").await;
    let off = status(&app, &sid).await;
    assert_eq!(
        off,
        json!({"enabled": false, "totp": false, "passkeys": 0, "recovery_codes_left": 0})
    );
    // Without a second step the login is as before.
    let plain = Browser::new(&app);
    let r = login(&plain, &email).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.cookie("acct_sid").is_some() && r.cookie("acct_2fa").is_none());

    let (secret, _) = enable(&app, &sid).await;
    assert_eq!(
        status(&app, &sid).await,
        json!({"enabled": true, "totp": true, "passkeys": 0, "recovery_codes_left": 10})
    );

    let b = Browser::new(&app);
    let r = login(&b, &email).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"two_factor": "required", "methods": ["totp", "recovery_code"]})
    );
    assert!(r.cookie("acct_sid").is_none(), "no session yet");
    let pending = r.set_cookie_line("acct_2fa").expect("the pending cookie");
    assert!(
        pending.contains("Max-Age=300") && pending.contains("HttpOnly"),
        "{pending}"
    );
    // The pending sign-in is no session.
    let r = call(&b, Method::GET, "/api/v1/account", &json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let r = call(
        &b,
        Method::POST,
        VERIFY,
        &json!({"code": code(&app, &secret)}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["account"]["email"], email);
    let new_sid = r.cookie("acct_sid").expect("the session");
    assert!(
        b.cookie("acct_2fa").is_none(),
        "the pending cookie is cleared"
    );
    let r = app.get("/api/v1/account", Some(&new_sid)).await;
    assert_eq!(r.status, StatusCode::OK);

    // Neither or both fields: 422.
    let b2 = Browser::new(&app);
    login(&b2, &email).await;
    let r = call(&b2, Method::POST, VERIFY, &json!({})).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, "no code"),
        "invalid_field"
    );
    app.stop().await;
}

/// Asserts 401 `code` and no session.
fn refused(r: &crate::common::Resp, code: &str, what: &str) {
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNAUTHORIZED, what),
        code,
        "{what}"
    );
    assert!(r.cookie("acct_sid").is_none(), "{what}: no session");
}

async fn two_factor_wrong_replayed_expired_and_foreign_codes_are_refused(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-refused");
    let sid = app.signup(&email, "TFA Co").await;
    let (secret, _) = enable(&app, &sid).await;
    let other = unique_email("tfa-other");
    let other_sid = app.signup(&other, "Other Co").await;
    let (other_secret, _) = enable(&app, &other_sid).await;

    let b = Browser::new(&app);
    login(&b, &email).await;
    // Wrong.
    let right = code(&app, &secret);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = call(&b, Method::POST, VERIFY, &json!({"code": wrong})).await;
    refused(&r, "invalid_code", "wrong");
    // Another account's code.
    let theirs = code(&app, &other_secret);
    if theirs != right {
        let r = call(&b, Method::POST, VERIFY, &json!({"code": theirs})).await;
        refused(&r, "invalid_code", "another account's code");
    }
    // Not a code at all.
    let r = call(&b, Method::POST, VERIFY, &json!({"recovery_code": "x"})).await;
    refused(&r, "invalid_code", "not a recovery code");
    // The right one still works for this sign-in.
    let r = call(&b, Method::POST, VERIFY, &json!({"code": right})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Replayed: the same code for a new sign-in.
    let b = Browser::new(&app);
    login(&b, &email).await;
    let r = call(&b, Method::POST, VERIFY, &json!({"code": right})).await;
    refused(&r, "invalid_code", "replayed");

    // Expired: the pending sign-in lasts 5 minutes.
    next_step(&app);
    let b = Browser::new(&app);
    login(&b, &email).await;
    clock.advance(301);
    let r = call(
        &b,
        Method::POST,
        VERIFY,
        &json!({"code": code(&app, &secret)}),
    )
    .await;
    refused(&r, "sign_in_expired", "expired");

    // No pending sign-in at all, or a made-up cookie.
    let nobody = Browser::new(&app);
    let r = call(&nobody, Method::POST, VERIFY, &json!({"code": "123456"})).await;
    refused(&r, "sign_in_expired", "no sign-in");
    nobody.set_cookie("acct_2fa", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let r = call(&nobody, Method::POST, VERIFY, &json!({"code": "123456"})).await;
    refused(&r, "sign_in_expired", "forged cookie");

    // Five wrong codes end the sign-in: the right one comes too late.
    next_step(&app);
    let b = Browser::new(&app);
    login(&b, &email).await;
    for _ in 0..5 {
        let r = call(&b, Method::POST, VERIFY, &json!({"code": "999999"})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = call(
        &b,
        Method::POST,
        VERIFY,
        &json!({"code": code(&app, &secret)}),
    )
    .await;
    refused(&r, "sign_in_expired", "after five wrong codes");
    app.stop().await;
}

async fn two_factor_a_recovery_code_works_once(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-recovery");
    let sid = app.signup(&email, "TFA Co").await;
    let (_, codes) = enable(&app, &sid).await;

    let b = Browser::new(&app);
    login(&b, &email).await;
    // Typed in capitals and with spaces, it is the same code.
    let typed = format!(" {} ", codes[0].to_uppercase());
    let r = call(&b, Method::POST, VERIFY, &json!({"recovery_code": typed})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.cookie("acct_sid").is_some());
    assert_eq!(status(&app, &sid).await["recovery_codes_left"], 9);

    let b = Browser::new(&app);
    let r = login(&b, &email).await;
    assert_eq!(r.json()["methods"], json!(["totp", "recovery_code"]));
    let r = call(
        &b,
        Method::POST,
        VERIFY,
        &json!({"recovery_code": codes[0]}),
    )
    .await;
    refused(&r, "invalid_code", "a used recovery code");
    let r = call(
        &b,
        Method::POST,
        VERIFY,
        &json!({"recovery_code": codes[1]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "another code: {}", r.text);

    // Audited and mailed, each time; never the code itself.
    let actions = crate::common::two_factor::actions(&app, &sid).await;
    let used = actions
        .iter()
        .filter(|a| *a == "two_factor.recovery_code_used");
    assert_eq!(used.count(), 2, "{actions:?}");
    assert!(actions.contains(&"two_factor.enabled".to_owned()));
    let state = &app.running.state;
    let me = app.get("/api/v1/account", Some(&sid)).await.json();
    let company = me["account"]["company"]["id"].as_str().unwrap().to_owned();
    let mails = company_messages(state, &company).await;
    let notices: Vec<_> = mails
        .iter()
        .filter(|m| m.kind == "recovery_code_used")
        .collect();
    assert_eq!(notices.len(), 2);
    assert!(notices[0].body.contains(&email) && notices[0].body.contains("Recovery codes left: 8"));
    for m in &mails {
        assert!(
            !codes.iter().any(|c| m.body.contains(c.as_str())),
            "no code mailed"
        );
    }
    app.stop().await;
}

async fn two_factor_parallel_wrong_codes_cannot_pass_the_throttle(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-parallel");
    let sid = app.signup(&email, "TFA Co").await;
    let (secret, _) = enable(&app, &sid).await;

    // Twelve sign-ins wait for their second step (a right password gives its
    // attempt back)...
    let mut browsers = Vec::new();
    for _ in 0..12 {
        let b = Browser::new(&app);
        let r = login(&b, &email).await;
        assert_eq!(r.json()["two_factor"], "required", "{}", r.text);
        browsers.push(b);
    }
    // ...and each sends a wrong code at the same moment: at most 10 (per
    // email from one address, in 15 minutes) are checked.
    let right = code(&app, &secret);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let body = json!({ "code": wrong });
    let answers = futures_util::future::join_all(
        browsers
            .iter()
            .map(|b| call(b, Method::POST, VERIFY, &body)),
    )
    .await;
    let checked = answers
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + throttled, 12, "only refusals");
    assert!(
        checked <= 10 && throttled >= 2,
        "{checked} checked, {throttled} throttled"
    );
    assert!(answers.iter().all(|r| r.cookie("acct_sid").is_none()));
    // The throttle holds the right code back too, and the password.
    let r = call(&browsers[0], Method::POST, VERIFY, &json!({"code": right})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    let r = login(&Browser::new(&app), &email).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    app.stop().await;
}

async fn two_factor_nothing_secret_is_stored_in_plain_text(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-stored");
    let sid = app.signup(&email, "TFA Co").await;
    let (secret, codes) = enable(&app, &sid).await;
    // A second secret being set up (not confirmed) is kept too.
    let r = app
        .post_json("/api/v1/account/two-factor/totp", Some(&sid), &json!({}))
        .await;
    let pending_secret = r.json()["secret"].as_str().unwrap().to_owned();

    let pool = &app.running.state.db.pool;
    let (enc, pending_enc): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT secret_enc, pending_secret_enc FROM account_totp")
            .fetch_one(pool)
            .await
            .unwrap();
    let (enc, pending_enc) = (enc.unwrap(), pending_enc.unwrap());
    for s in [&secret, &pending_secret] {
        assert!(!enc.contains(s.as_str()) && !pending_enc.contains(s.as_str()));
    }
    let hashes: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM account_recovery_codes")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(hashes.len(), 10);
    for c in &codes {
        let bare = c.replace('-', "");
        assert!(hashes
            .iter()
            .all(|h| !h.contains(c.as_str()) && !h.contains(&bare)));
        assert!(hashes.iter().all(|h| h.len() == 64), "hashes only");
    }
    if db.backend == crate::common::Backend::Sqlite {
        app.stop().await;
        let bytes = db.stored_bytes().await;
        for s in [&secret, &pending_secret] {
            assert!(
                !crate::common::contains_bytes(&bytes, s.as_bytes()),
                "a secret in the files"
            );
        }
        for c in &codes {
            let bare = c.replace('-', "");
            assert!(!crate::common::contains_bytes(&bytes, c.as_bytes()));
            assert!(!crate::common::contains_bytes(&bytes, bare.as_bytes()));
        }
    } else {
        app.stop().await;
    }
}
