//! Passkeys as the Admin's second step through its JSON API, with a
//! software authenticator (`testkit::webauthn`) on `localhost` (WebAuthn
//! takes no IP address): a sign-in that must set up may add a passkey
//! instead of an app (its session and recovery codes follow); a pending
//! sign-in proves itself with one, and has no session before; a replayed
//! answer, another origin's and another user's are refused; removing one
//! needs a code unless a second step was proved within 10 minutes, and the
//! last one stays while second steps are required. On both backends. The
//! pages: `two_factor_passkey_pages.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::webauthn::SoftAuthenticator;
use testkit::Resp;
use web::Secret;

use crate::common::{Admin, Env};
use crate::two_factor::start_required;

both_backends!(
    passkey_sets_up_and_signs_in,
    passkey_refuses_replayed_foreign_and_other_users_answers,
    passkey_removal_rules,
    passkey_optional_turns_on_and_off,
);

/// The Admin as a browser on `localhost` sees it.
pub fn localhost(admin: &Admin) -> String {
    admin.base.replace("127.0.0.1", "localhost")
}

pub async fn call(b: &testkit::Browser, method: Method, path: &str, body: &Value) -> Resp {
    b.send_raw(
        method,
        path,
        "application/json",
        body.to_string().into_bytes(),
    )
    .await
}

/// A new browser on `base` that typed `user`'s right password: it and the
/// login's answer (no session yet).
pub async fn password(base: &str, user: &str, password: &str) -> (testkit::Browser, Value) {
    let b = testkit::Browser::new(base);
    let body = json!({"username": user, "password": password});
    let r = call(&b, Method::POST, "/admin/api/v1/login", &body).await;
    assert_eq!(r.status, StatusCode::OK, "login: {}", r.text);
    assert!(
        r.cookie("adm_sid").is_none(),
        "no session before the second step"
    );
    assert!(b.cookie("adm_2fa").is_some(), "a pending sign-in");
    (b, r.json())
}

/// Adds a passkey named `name` made by `auth`: the answer.
pub async fn add(b: &testkit::Browser, auth: &mut SoftAuthenticator, name: &str) -> Resp {
    let path = "/admin/api/v1/account/two-factor/passkeys/options";
    let r = call(b, Method::POST, path, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "options: {}", r.text);
    let options = r.json();
    assert_eq!(options["rp"]["id"], "localhost", "{options}");
    let credential = auth.create(&options);
    let body = json!({"credential": credential, "name": name});
    call(
        b,
        Method::POST,
        "/admin/api/v1/account/two-factor/passkeys",
        &body,
    )
    .await
}

/// `user`'s first sign-in with second steps required, adding a passkey
/// instead of an app: the signed-in browser, its authenticator and the
/// recovery codes.
pub async fn set_up_with_passkey(
    admin: &Admin,
    user: &str,
    pass: &str,
) -> (testkit::Browser, SoftAuthenticator, Vec<String>) {
    let (b, answer) = password(&localhost(admin), user, pass).await;
    assert_eq!(answer, json!({"two_factor": "setup_required"}));
    let mut auth = SoftAuthenticator::new(&localhost(admin));
    let r = add(&b, &mut auth, "YubiKey 5").await;
    assert_eq!(r.status, StatusCode::CREATED, "add: {}", r.text);
    assert_eq!(r.json()["passkey"]["name"], "YubiKey 5");
    assert!(r.cookie("adm_sid").is_some(), "the session starts");
    let codes: Vec<String> =
        serde_json::from_value(r.json()["recovery_codes"].clone()).expect("recovery codes");
    assert_eq!(codes.len(), 10);
    assert!(signed_in(&b).await);
    (b, auth, codes)
}

pub async fn login_options(b: &testkit::Browser) -> Value {
    let path = "/admin/api/v1/login/two-factor/passkey/options";
    let r = call(b, Method::POST, path, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()
}

pub async fn prove(b: &testkit::Browser, answer: &Value) -> Resp {
    let body = json!({"credential": answer});
    call(
        b,
        Method::POST,
        "/admin/api/v1/login/two-factor/passkey",
        &body,
    )
    .await
}

pub async fn signed_in(b: &testkit::Browser) -> bool {
    let r = b.get("/admin/api/v1/account/two-factor/passkeys").await;
    r.status == StatusCode::OK
}

async fn list(b: &testkit::Browser) -> Vec<Value> {
    let r = b.get("/admin/api/v1/account/two-factor/passkeys").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["passkeys"].as_array().expect("a list").clone()
}

async fn passkey_sets_up_and_signs_in(env: &Env) {
    let (admin, _clock) = start_required(env).await;
    let (owner, auth, _codes) = set_up_with_passkey(&admin, "admin", &admin.password).await;
    let keys = list(&owner).await;
    assert_eq!(keys.len(), 1);
    assert!(keys[0]["last_used_at"].is_null(), "{keys:?}");
    assert!(
        keys[0].get("static_state").is_none(),
        "no key material listed"
    );
    // A second passkey: no new recovery codes; the same one again is refused.
    let mut spare = SoftAuthenticator::new(&localhost(&admin));
    let r = add(&owner, &mut spare, "Laptop").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(r.json()["recovery_codes"].is_null());
    let r = add(&owner, &mut spare, "Again").await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "duplicate"),
        "passkey_registered"
    );

    // The next sign-in: the password offers the passkey, starts no session.
    let (b, answer) = password(&localhost(&admin), "admin", &admin.password).await;
    assert_eq!(
        answer,
        json!({"two_factor": "required", "methods": ["passkey", "recovery_code"]})
    );
    assert!(!signed_in(&b).await, "no session before the second step");
    let options = login_options(&b).await;
    let allowed = options["allowCredentials"].as_array().expect("allowed");
    assert_eq!(allowed.len(), 2, "{options}");
    let r = prove(&b, &auth.get(&options)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["user"]["username"], "admin");
    assert!(r.cookie("adm_sid").is_some());
    assert!(
        signed_in(&b).await,
        "a passkey alone keeps the session valid"
    );
    // The list shows which was used.
    let used: Vec<Value> = list(&owner)
        .await
        .into_iter()
        .filter(|k| !k["last_used_at"].is_null())
        .collect();
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!(used[0]["name"], "YubiKey 5");
    admin.stop().await;
}

async fn passkey_refuses_replayed_foreign_and_other_users_answers(env: &Env) {
    let (admin, clock) = start_required(env).await;
    let (_owner, mut auth, _) = set_up_with_passkey(&admin, "admin", &admin.password).await;

    // An answer made for another origin.
    let (b, _) = password(&localhost(&admin), "admin", &admin.password).await;
    let options = login_options(&b).await;
    let mut phish = SoftAuthenticator::new("http://localhost.evil.example");
    std::mem::swap(&mut phish.origin, &mut auth.origin);
    let forged = auth.get(&options);
    std::mem::swap(&mut phish.origin, &mut auth.origin);
    let r = prove(&b, &forged).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, "foreign"),
        "passkey_refused"
    );
    assert!(r.cookie("adm_sid").is_none());
    assert!(!signed_in(&b).await);

    // A right answer, used once; sent again it is refused.
    let options = login_options(&b).await;
    let answer = auth.get(&options);
    assert_eq!(prove(&b, &answer).await.status, StatusCode::OK);
    let (again, _) = password(&localhost(&admin), "admin", &admin.password).await;
    let r = prove(&again, &answer).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "no options"),
        "passkey_expired"
    );
    let _ = login_options(&again).await;
    let r = prove(&again, &answer).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(!signed_in(&again).await);

    // Another user's passkey cannot sign this one in.
    let db = &admin.running.state.db;
    let now = web::Clock::now(&clock);
    admin::auth::create_user(
        db,
        "mallory",
        "m@example.com",
        Secret::new(testkit::PASSWORD),
        now,
    )
    .await
    .expect("create mallory");
    let (_m, m_auth, _) = set_up_with_passkey(&admin, "mallory", testkit::PASSWORD).await;
    let (victim, _) = password(&localhost(&admin), "admin", &admin.password).await;
    let options = login_options(&victim).await;
    let r = prove(&victim, &m_auth.get(&options)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.cookie("adm_sid").is_none());
    assert!(!signed_in(&victim).await);

    // A sign-in that must set up has no passkey to prove.
    admin::two_factor::reset(db, "admin").await.expect("reset");
    let (fresh, answer) = password(&localhost(&admin), "admin", &admin.password).await;
    assert_eq!(answer, json!({"two_factor": "setup_required"}));
    let r = call(
        &fresh,
        Method::POST,
        "/admin/api/v1/login/two-factor/passkey/options",
        &json!({}),
    )
    .await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "setup"),
        "no_passkey"
    );
    let r = prove(&fresh, &auth.get(&options)).await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
    assert!(!signed_in(&fresh).await);

    // Passkeys are not offered on an IP address.
    let (ip, _) = password(&admin.base, "mallory", testkit::PASSWORD).await;
    let r = call(
        &ip,
        Method::POST,
        "/admin/api/v1/login/two-factor/passkey/options",
        &json!({}),
    )
    .await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "ip"),
        "passkeys_unavailable"
    );
    admin.stop().await;
}

async fn remove(b: &testkit::Browser, id: &str, body: Value) -> Resp {
    let path = format!("/admin/api/v1/account/two-factor/passkeys/{id}");
    call(b, Method::DELETE, &path, &body).await
}

async fn passkey_removal_rules(env: &Env) {
    let (admin, clock) = start_required(env).await;
    let (b, _auth, codes) = set_up_with_passkey(&admin, "admin", &admin.password).await;
    let only = list(&b).await[0]["id"].as_str().expect("id").to_owned();
    // The last second step stays while every user needs one.
    let r = remove(&b, &only, json!({})).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::CONFLICT, "last"),
        "two_factor_required"
    );
    let mut ids = Vec::new();
    for name in ["Spare 1", "Spare 2"] {
        let mut a = SoftAuthenticator::new(&localhost(&admin));
        let r = add(&b, &mut a, name).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        ids.push(r.json()["passkey"]["id"].as_str().expect("id").to_owned());
    }
    // Set up just now (a second step of this session): no code needed.
    assert_eq!(
        remove(&b, &ids[0], json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    let r = remove(&b, &ids[0], json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // Eleven minutes on, a code is needed: none or a wrong one is refused.
    clock.advance(11 * 60);
    let r = remove(&b, &ids[1], json!({})).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNAUTHORIZED, "no code"),
        "invalid_code"
    );
    let r = remove(&b, &ids[1], json!({"code": "000000"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = remove(&b, &ids[1], json!({"code": codes[0]})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(list(&b).await.len(), 1);
    // Another user's passkey is not found, even with a code.
    let r = remove(&b, "pk_not_mine", json!({"code": codes[1]})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

    // The reset removes passkeys too: the next sign-in sets up again.
    let db = &admin.running.state.db;
    admin::two_factor::reset(db, "admin").await.expect("reset");
    assert!(!signed_in(&b).await, "the reset ended the session");
    let (_, answer) = password(&localhost(&admin), "admin", &admin.password).await;
    assert_eq!(answer, json!({"two_factor": "setup_required"}));
    admin.stop().await;
}

/// While second steps are optional, the first passkey turns them on (with
/// recovery codes) and removing the last turns them off.
async fn passkey_optional_turns_on_and_off(env: &Env) {
    let admin = Admin::start(env, None).await;
    let b = testkit::Browser::new(&localhost(&admin));
    let body = json!({"username": "admin", "password": admin.password});
    let r = call(&b, Method::POST, "/admin/api/v1/login", &body).await;
    assert!(r.cookie("adm_sid").is_some(), "password alone: {}", r.text);
    let mut auth = SoftAuthenticator::new(&localhost(&admin));
    let r = add(&b, &mut auth, "Key").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let codes = r.json()["recovery_codes"].clone();
    assert_eq!(codes.as_array().map(Vec::len), Some(10), "{codes}");
    let (other, answer) = password(&localhost(&admin), "admin", &admin.password).await;
    assert_eq!(answer["methods"], json!(["passkey", "recovery_code"]));
    let options = login_options(&other).await;
    assert_eq!(
        prove(&other, &auth.get(&options)).await.status,
        StatusCode::OK
    );

    // Not proved by this session: a code is needed.
    let id = list(&b).await[0]["id"].as_str().expect("id").to_owned();
    let r = remove(&b, &id, json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let r = remove(&b, &id, json!({"code": codes[0]})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(signed_in(&b).await, "this session stays");
    assert!(!signed_in(&other).await, "the other sessions end");
    let fresh = testkit::Browser::new(&localhost(&admin));
    let r = call(&fresh, Method::POST, "/admin/api/v1/login", &body).await;
    assert!(r.cookie("adm_sid").is_some(), "off again: {}", r.text);
    admin.stop().await;
}
