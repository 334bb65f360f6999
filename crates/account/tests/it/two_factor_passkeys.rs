//! Passkeys as a second step through the JSON API, with a software
//! authenticator (`testkit::webauthn`) on `localhost` (WebAuthn takes no IP
//! address): adding one turns two-step sign-in on with recovery codes; a
//! pending sign-in proves itself with the passkey; a replayed answer,
//! another site's and another account's are refused and start no session;
//! removing one needs a code unless a second step was proved within 10
//! minutes. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{unique_email, App, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::webauthn::SoftAuthenticator;
use testkit::Resp;

both_backends!(
    two_factor_passkey_signs_in_with_one_gesture,
    two_factor_passkey_refuses_replayed_foreign_and_other_accounts_answers,
    two_factor_passkey_removal_needs_a_recent_second_step_or_a_code,
    two_factor_hostile_input_gets_a_clean_refusal,
);

/// The app as a browser on `localhost` sees it.
fn localhost(app: &App) -> String {
    app.base.replace("127.0.0.1", "localhost")
}

async fn call(b: &testkit::Browser, method: Method, path: &str, body: &Value) -> Resp {
    b.send_raw(
        method,
        path,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await
}

/// Signs up in a browser on localhost; the browser keeps the session.
async fn signed_up(app: &App, email: &str) -> testkit::Browser {
    let b = testkit::Browser::new(&localhost(app));
    let r = call(
        &b,
        Method::POST,
        "/api/v1/signup",
        &json!({"email": email, "password": testkit::PASSWORD, "name": "Pat", "company": "Keys Co"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "signup: {}", r.text);
    b
}

/// Adds a passkey named `name` made by `auth`: the answer.
async fn add(b: &testkit::Browser, auth: &mut SoftAuthenticator, name: &str) -> Resp {
    let r = call(
        b,
        Method::POST,
        "/api/v1/account/two-factor/passkeys/options",
        &json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "options: {}", r.text);
    let options = r.json();
    assert_eq!(options["rp"]["id"], "localhost", "{options}");
    let credential = auth.create(&options);
    call(
        b,
        Method::POST,
        "/api/v1/account/two-factor/passkeys",
        &json!({"credential": credential, "name": name}),
    )
    .await
}

/// A new browser that typed the right password: its pending sign-in.
async fn pending(app: &App, email: &str) -> testkit::Browser {
    let b = testkit::Browser::new(&localhost(app));
    let r = call(
        &b,
        Method::POST,
        "/api/v1/login",
        &json!({"email": email, "password": testkit::PASSWORD}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["two_factor"], "required", "{}", r.text);
    assert!(r.cookie("acct_sid").is_none());
    b
}

async fn login_options(b: &testkit::Browser) -> Value {
    let r = call(
        b,
        Method::POST,
        "/api/v1/login/two-factor/passkey/options",
        &json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

async fn prove(b: &testkit::Browser, answer: &Value) -> Resp {
    call(
        b,
        Method::POST,
        "/api/v1/login/two-factor/passkey",
        &json!({"credential": answer}),
    )
    .await
}

async fn signed_in(b: &testkit::Browser) -> bool {
    b.get("/api/v1/account").await.status == StatusCode::OK
}

async fn two_factor_passkey_signs_in_with_one_gesture(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("pk-ok");
    let owner = signed_up(&app, &email).await;
    let mut auth = SoftAuthenticator::new(&localhost(&app));
    let r = add(&owner, &mut auth, "YubiKey 5").await;
    assert_eq!(r.status, StatusCode::CREATED, "add: {}", r.text);
    let added = r.json();
    assert_eq!(added["passkey"]["name"], "YubiKey 5");
    assert_eq!(
        added["recovery_codes"].as_array().unwrap().len(),
        10,
        "{added}"
    );
    let me = owner.get("/api/v1/account").await.json();
    let tf = &me["account"]["two_factor"];
    assert_eq!(tf["enabled"], true, "{tf}");
    assert_eq!(tf["passkeys"], 1);
    assert_eq!(tf["totp"], false);

    // A second passkey: no new recovery codes.
    let mut other = SoftAuthenticator::new(&localhost(&app));
    let r = add(&owner, &mut other, "Laptop").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.json()["recovery_codes"].is_null());
    // The same authenticator again is refused.
    let r = add(&owner, &mut auth, "Again").await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "refusal"),
        "passkey_registered"
    );

    let b = pending(&app, &email).await;
    let login = call(
        &b,
        Method::POST,
        "/api/v1/login",
        &json!({"email": email, "password": testkit::PASSWORD}),
    )
    .await;
    let methods = login.json()["methods"].clone();
    assert_eq!(methods, json!(["passkey", "recovery_code"]), "{methods}");
    let options = login_options(&b).await;
    assert_eq!(
        options["allowCredentials"].as_array().unwrap().len(),
        2,
        "{options}"
    );
    let r = prove(&b, &auth.get(&options)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["account"]["email"], email.as_str());
    assert!(signed_in(&b).await);
    let list = owner
        .get("/api/v1/account/two-factor/passkeys")
        .await
        .json();
    let used: Vec<&Value> = list["passkeys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| !k["last_used_at"].is_null())
        .collect();
    assert_eq!(used.len(), 1, "{list}");
    assert_eq!(used[0]["name"], "YubiKey 5");
    app.stop().await;
}

async fn two_factor_passkey_refuses_replayed_foreign_and_other_accounts_answers(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("pk-no");
    let owner = signed_up(&app, &email).await;
    let mut auth = SoftAuthenticator::new(&localhost(&app));
    assert_eq!(
        add(&owner, &mut auth, "Key").await.status,
        StatusCode::CREATED
    );

    // An answer made for another site's origin.
    let b = pending(&app, &email).await;
    let options = login_options(&b).await;
    let mut phish = SoftAuthenticator::new("http://localhost.evil.example");
    std::mem::swap(&mut phish.origin, &mut auth.origin);
    let forged = auth.get(&options);
    std::mem::swap(&mut phish.origin, &mut auth.origin);
    let r = prove(&b, &forged).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, "refusal"),
        "passkey_refused"
    );
    assert!(!signed_in(&b).await);

    // A right answer, used once; sent again it is refused.
    let options = login_options(&b).await;
    let answer = auth.get(&options);
    assert_eq!(prove(&b, &answer).await.status, StatusCode::OK);
    let again = pending(&app, &email).await;
    let r = prove(&again, &answer).await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
    let _ = login_options(&again).await;
    let r = prove(&again, &answer).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(!signed_in(&again).await);

    // Another account's passkey cannot sign this one in.
    let mallory = unique_email("pk-mallory");
    let m = signed_up(&app, &mallory).await;
    let mut m_auth = SoftAuthenticator::new(&localhost(&app));
    assert_eq!(
        add(&m, &mut m_auth, "Mine").await.status,
        StatusCode::CREATED
    );
    let victim = pending(&app, &email).await;
    let options = login_options(&victim).await;
    let r = prove(&victim, &m_auth.get(&options)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(!signed_in(&victim).await);
    // Passkeys are not offered on an IP address.
    let ip = testkit::Browser::new(&app.base);
    let r = call(
        &ip,
        Method::POST,
        "/api/v1/login",
        &json!({"email": email, "password": testkit::PASSWORD}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(
        &ip,
        Method::POST,
        "/api/v1/login/two-factor/passkey/options",
        &json!({}),
    )
    .await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "refusal"),
        "passkeys_unavailable"
    );
    app.stop().await;
}

async fn two_factor_passkey_removal_needs_a_recent_second_step_or_a_code(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let email = unique_email("pk-rm");
    let owner = signed_up(&app, &email).await;
    let mut auth = SoftAuthenticator::new(&localhost(&app));
    let codes = add(&owner, &mut auth, "Key").await.json()["recovery_codes"].clone();
    let mut second = SoftAuthenticator::new(&localhost(&app));
    let r = add(&owner, &mut second, "Spare").await;
    let spare = r.json()["passkey"]["id"].as_str().unwrap().to_owned();

    // Signed in with the passkey just now: no code needed.
    let b = pending(&app, &email).await;
    let options = login_options(&b).await;
    assert_eq!(prove(&b, &auth.get(&options)).await.status, StatusCode::OK);
    let r = call(
        &b,
        Method::DELETE,
        &format!("/api/v1/account/two-factor/passkeys/{spare}"),
        &json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = call(
        &b,
        Method::DELETE,
        &format!("/api/v1/account/two-factor/passkeys/{spare}"),
        &json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Eleven minutes on, a code is needed.
    clock.advance(11 * 60);
    let list = b.get("/api/v1/account/two-factor/passkeys").await.json();
    let key = list["passkeys"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/account/two-factor/passkeys/{key}");
    let r = call(&b, Method::DELETE, &path, &json!({})).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNAUTHORIZED, "refusal"),
        "invalid_code"
    );
    // A recovery code proves it; the last second step gone, it is off.
    let code = codes[0].as_str().unwrap();
    let r = call(&b, Method::DELETE, &path, &json!({"code": code})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let tf = b.get("/api/v1/account").await.json()["account"]["two_factor"].clone();
    assert_eq!(
        tf,
        json!({"enabled": false, "totp": false, "passkeys": 0, "recovery_codes_left": 0})
    );
    // The owner's first browser was signed out with it.
    assert!(!signed_in(&owner).await);
    app.stop().await;
}

/// NUL bytes, other control characters, huge and malformed input to the
/// second-step routes: a clear 4xx in the JSON error format, no session,
/// nothing stored.
async fn two_factor_hostile_input_gets_a_clean_refusal(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("pk-hostile");
    let owner = signed_up(&app, &email).await;
    let mut auth = SoftAuthenticator::new(&localhost(&app));
    assert_eq!(
        add(&owner, &mut auth, "Key").await.status,
        StatusCode::CREATED
    );

    let b = pending(&app, &email).await;
    let huge = "7".repeat(200_000);
    for body in [
        json!({"code": "12\u{0}456"}),
        json!({"code": "\u{0}"}),
        json!({"recovery_code": "abcde\u{0}fghij"}),
        json!({"recovery_code": "ａｂｃｄｅ-ｆｇｈｉｊ"}),
        json!({"code": huge}),
    ] {
        let r = call(&b, Method::POST, "/api/v1/login/two-factor", &body).await;
        let code = r.assert_api_error("a hostile code");
        assert!(
            [
                "invalid_code",
                "invalid_text",
                "payload_too_large",
                "body_too_large",
                "too_large"
            ]
            .contains(&code.as_str()),
            "{code}: {}",
            r.text
        );
    }
    let r = b
        .send_raw(
            Method::POST,
            "/api/v1/login/two-factor",
            "application/json",
            b"{\"code\": \"\xff\xfe\"}".to_vec(),
        )
        .await;
    r.assert_api_error("invalid UTF-8");
    for credential in [
        json!({}),
        json!({"id": "\u{0}", "response": {}}),
        json!("x".repeat(1000)),
    ] {
        let r = call(
            &b,
            Method::POST,
            "/api/v1/login/two-factor/passkey",
            &json!({"credential": credential}),
        )
        .await;
        r.assert_api_error("a malformed passkey answer");
    }
    assert!(!signed_in(&b).await);

    // A passkey name with a NUL, empty, or too long: 422, nothing stored.
    let mut other = SoftAuthenticator::new(&localhost(&app));
    let r = add(&owner, &mut other, "Key\u{0}").await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::BAD_REQUEST, "NUL"),
        "invalid_text"
    );
    for name in ["   ", &"n".repeat(61), "Key\u{200b}"] {
        let r = add(&owner, &mut other, name).await;
        let code = r.assert_api_error("name");
        assert!(
            r.status == StatusCode::UNPROCESSABLE_ENTITY || code == "invalid_text",
            "{name:?}: {}",
            r.text
        );
    }
    let list = owner
        .get("/api/v1/account/two-factor/passkeys")
        .await
        .json();
    assert_eq!(list["passkeys"].as_array().unwrap().len(), 1, "{list}");
    app.stop().await;
}
