//! Two-step sign-in managed through the JSON API (SPEC §8): a company that
//! requires it sends members without one to set it up before any session;
//! turning it off ends the other sessions and is refused while required;
//! new recovery codes void the old; the operator's reset. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::two_factor::{actions, call, code, enable, login, next_step, status};
use crate::common::{company_messages, unique_email, App, Browser, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::json;

both_backends!(
    two_factor_company_requirement_asks_for_setup_at_sign_in,
    two_factor_turning_off_ends_the_other_sessions,
    two_factor_new_recovery_codes_void_the_old,
    two_factor_operator_reset_removes_every_second_step,
    two_factor_a_member_who_owes_it_sees_no_key_page_first,
);

const TOTP: &str = "/api/v1/account/two-factor/totp";
const CONFIRM: &str = "/api/v1/account/two-factor/totp/confirm";
const OFF: &str = "/api/v1/account/two-factor";

/// `PATCH /api/v1/company` `{"require_two_factor": on}`.
async fn patch(app: &App, sid: &str, on: bool) -> crate::common::Resp {
    let req = app.http.patch(app.url("/api/v1/company"));
    app.send(req.json(&json!({"require_two_factor": on})), Some(sid))
        .await
}

/// `DELETE /api/v1/account/two-factor` `{"code": code}`.
async fn off(app: &App, sid: &str, code: &str) -> crate::common::Resp {
    let req = app.http.delete(app.url(OFF));
    app.send(req.json(&json!({ "code": code })), Some(sid))
        .await
}

async fn two_factor_company_requirement_asks_for_setup_at_sign_in(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let owner = unique_email("tfa-owner");
    let owner_sid = app.signup(&owner, "Policy Co").await;
    let member = unique_email("tfa-member");
    let (_, member_sid) = app.join(&owner_sid, &member).await;

    // Only the owner sets it.
    let r = patch(&app, &member_sid, true).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::FORBIDDEN, "member"),
        "owner_only"
    );
    let r = patch(&app, &owner_sid, true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["require_two_factor"], true);
    assert_eq!(r.json()["name"], "Policy Co");

    // Nothing to set up and no session: the pending sign-in cannot verify.
    let b = Browser::new(&app);
    let r = login(&b, &member).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json(), json!({"two_factor": "setup_required"}));
    assert!(r.cookie("acct_sid").is_none() && r.cookie("acct_2fa").is_some());
    let r = call(
        &b,
        Method::POST,
        "/api/v1/login/two-factor",
        &json!({"code": "123456"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.cookie("acct_sid").is_none());

    // Setting up from the pending sign-in: a wrong code is 422, the right
    // one turns it on and starts the session.
    let r = call(&b, Method::POST, TOTP, &json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    let right = code(&app, &secret);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = call(&b, Method::POST, CONFIRM, &json!({"code": wrong})).await;
    let e = r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, "wrong setup code");
    assert_eq!(e, "invalid_code");
    assert!(r.cookie("acct_sid").is_none());
    let r = call(&b, Method::POST, CONFIRM, &json!({"code": right})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["recovery_codes"].as_array().unwrap().len(), 10);
    let sid = r.cookie("acct_sid").expect("the session starts");
    assert!(b.cookie("acct_2fa").is_none());
    assert_eq!(status(&app, &sid).await["enabled"], true);
    // The pending sign-in is used up.
    let r = call(&Browser::new(&app), Method::POST, TOTP, &json!({})).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNAUTHORIZED, "no session"),
        "not_signed_in"
    );

    // A member cannot turn it off while it is required.
    next_step(&app);
    let r = app
        .send(
            app.http
                .delete(app.url(OFF))
                .json(&json!({"code": code(&app, &secret)})),
            Some(&sid),
        )
        .await;
    let e = r.assert_api_error_status(StatusCode::CONFLICT, "required");
    assert_eq!(e, "two_factor_required");
    assert_eq!(status(&app, &sid).await["enabled"], true);

    // The owner has none either: set up at the next sign-in. Turned off
    // again, a password is enough.
    let r = login(&Browser::new(&app), &owner).await;
    assert_eq!(r.json(), json!({"two_factor": "setup_required"}));
    let r = patch(&app, &owner_sid, false).await;
    assert_eq!(r.json()["require_two_factor"], false);
    let r = login(&Browser::new(&app), &owner).await;
    assert!(r.cookie("acct_sid").is_some(), "{}", r.text);
    let all = actions(&app, &owner_sid).await;
    let policy = all.iter().filter(|a| *a == "company.two_factor_policy");
    assert_eq!(policy.count(), 2, "{all:?}");
    app.stop().await;
}

async fn two_factor_turning_off_ends_the_other_sessions(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-off");
    let first = app.signup(&email, "Off Co").await;
    let (secret, codes) = enable(&app, &first).await;
    let b = Browser::new(&app);
    login(&b, &email).await;
    let r = call(
        &b,
        Method::POST,
        "/api/v1/login/two-factor",
        &json!({"code": code(&app, &secret)}),
    )
    .await;
    let second = r.cookie("acct_sid").unwrap();

    let right = code(&app, &secret);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = off(&app, &second, wrong).await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNAUTHORIZED, "wrong"),
        "invalid_code"
    );
    // A recovery code does it too.
    let r = off(&app, &second, &codes[3]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        app.get("/api/v1/account", Some(&first)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(&app, &second).await,
        json!({"enabled": false, "totp": false, "passkeys": 0, "recovery_codes_left": 0})
    );
    // A password is enough again; the old codes are void.
    let r = login(&Browser::new(&app), &email).await;
    assert!(r.cookie("acct_sid").is_some(), "{}", r.text);
    let all = actions(&app, &second).await;
    assert!(all.contains(&"two_factor.disabled".to_owned()), "{all:?}");
    let me = app.get("/api/v1/account", Some(&second)).await.json();
    let company = me["account"]["company"]["id"].as_str().unwrap().to_owned();
    let mails = company_messages(&app.running.state, &company).await;
    assert!(mails.iter().any(|m| m.kind == "two_factor_turned_off"));
    app.stop().await;
}

async fn two_factor_new_recovery_codes_void_the_old(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-regen");
    let sid = app.signup(&email, "Regen Co").await;
    let path = "/api/v1/account/two-factor/recovery-codes";
    // Nothing to prove with before it is on.
    let r = app
        .post_json(path, Some(&sid), &json!({"code": "123456"}))
        .await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNAUTHORIZED, "off"),
        "invalid_code"
    );
    let (secret, old) = enable(&app, &sid).await;
    let r = app
        .post_json(path, Some(&sid), &json!({"code": code(&app, &secret)}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new: Vec<String> = serde_json::from_value(r.json()["recovery_codes"].clone()).unwrap();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)));

    let b = Browser::new(&app);
    login(&b, &email).await;
    let verify = "/api/v1/login/two-factor";
    let r = call(&b, Method::POST, verify, &json!({"recovery_code": old[0]})).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "an old code: {}",
        r.text
    );
    let r = call(&b, Method::POST, verify, &json!({"recovery_code": new[0]})).await;
    assert_eq!(r.status, StatusCode::OK, "a new code: {}", r.text);
    let all = actions(&app, &sid).await;
    assert!(
        all.contains(&"two_factor.recovery_codes_regenerated".to_owned()),
        "{all:?}"
    );
    app.stop().await;
}

async fn two_factor_operator_reset_removes_every_second_step(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-reset");
    let sid = app.signup(&email, "Reset Co").await;
    enable(&app, &sid).await;
    let state = &app.running.state;
    let unknown = account::two_factor::operator_reset(state, "nobody@example.com").await;
    assert!(matches!(
        unknown,
        Err(account::AccountError::AccountNotFound)
    ));
    let account = account::two_factor::operator_reset(state, &email.to_uppercase())
        .await
        .unwrap();
    assert_eq!(account.email, email);
    // Every session ended; a password alone signs in again.
    assert_eq!(
        app.get("/api/v1/account", Some(&sid)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = login(&Browser::new(&app), &email).await;
    let sid = r.cookie("acct_sid").expect("signed in with the password");
    assert_eq!(status(&app, &sid).await["enabled"], false);
    let all = actions(&app, &sid).await;
    assert!(all.contains(&"two_factor.reset".to_owned()), "{all:?}");
    let mails = company_messages(state, &account.company_id).await;
    assert!(mails
        .iter()
        .any(|m| m.kind == "two_factor_reset" && m.recipient == email));
    app.stop().await;
}

/// A member signed in before the owner required a second step is sent to
/// set one up before any key page; once set up, the API Portal opens.
async fn two_factor_a_member_who_owes_it_sees_no_key_page_first(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let owner = unique_email("owe-owner");
    let owner_sid = app.signup(&owner, "Owe Co").await;
    let member = unique_email("owe-member");
    let (_, member_sid) = app.join(&owner_sid, &member).await;
    let r = app.get("/account/api-portal", Some(&member_sid)).await;
    assert_eq!(r.status, StatusCode::OK, "before: {}", r.text);

    assert_eq!(patch(&app, &owner_sid, true).await.status, StatusCode::OK);
    for path in ["/account/api-portal", "/account/api-portal/keys/x/revoke"] {
        let r = app.get(path, Some(&member_sid)).await;
        assert!(r.is_redirect(), "{path}: {} {}", r.status, r.text);
        assert_eq!(
            r.location(),
            Some("/account?notice=two_factor_owed"),
            "{path}"
        );
    }
    // The owner has none either: the same.
    let r = app.get("/account/api-portal", Some(&owner_sid)).await;
    assert_eq!(r.location(), Some("/account?notice=two_factor_owed"));
    let page = app
        .get("/account?notice=two_factor_owed", Some(&member_sid))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("Set up an authenticator app or add a passkey"),
        "{}",
        page.text
    );

    enable(&app, &member_sid).await;
    let r = app.get("/account/api-portal", Some(&member_sid)).await;
    assert_eq!(r.status, StatusCode::OK, "after: {}", r.text);
    app.stop().await;
}
