//! The Admin's second-step policy and reset, on SQLite and PostgreSQL:
//! `optional` lets a user without a second step in (and a session may set
//! one up); a session started while optional counts for nothing once it is
//! required; the reset removes the second steps and ends the sessions.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use web::two_factor::totp::code_at;
use web::{Clock, ManualClock, SystemClock};

use crate::common::{Admin, Env};
use crate::two_factor::{first_sign_in, password_step, post_json};
use admin::two_factor::Policy;

both_backends!(
    optional_lets_a_user_without_a_second_step_in,
    reset_removes_second_steps_and_ends_sessions,
);

async fn optional_lets_a_user_without_a_second_step_in(env: &Env) {
    let clock = ManualClock::new(SystemClock.now());
    let admin = Admin::start_with(env, None, Policy::Optional, Arc::new(clock.clone())).await;
    let r = admin.api_login_raw("admin", &admin.password).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["user"]["username"], "admin");
    let sid = format!("adm_sid={}", r.cookie("adm_sid").expect("a session"));
    // A session may set up an app; then the second step is asked for.
    let r = post_json(
        &admin,
        "/admin/api/v1/account/two-factor/totp",
        &sid,
        &json!({}),
    )
    .await;
    let secret = r.json()["secret"].as_str().expect("secret").to_owned();
    let code = code_at(&secret, clock.now()).expect("code");
    let r = post_json(
        &admin,
        "/admin/api/v1/account/two-factor/totp/confirm",
        &sid,
        &json!({"code": code}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.json()["recovery_codes"].as_array().map(Vec::len),
        Some(10)
    );
    // Replacing the app makes no new recovery codes.
    let r = post_json(
        &admin,
        "/admin/api/v1/account/two-factor/totp",
        &sid,
        &json!({}),
    )
    .await;
    let secret2 = r.json()["secret"].as_str().expect("secret").to_owned();
    clock.advance(30);
    let code = code_at(&secret2, clock.now()).expect("code");
    let r = post_json(
        &admin,
        "/admin/api/v1/account/two-factor/totp/confirm",
        &sid,
        &json!({"code": code}),
    )
    .await;
    assert_eq!(r.json(), json!({"recovery_codes": null}), "{}", r.text);
    let (_, body) = password_step(&admin, "admin", &admin.password).await;
    assert_eq!(body["two_factor"], "required");
    admin.stop().await;
}

async fn reset_removes_second_steps_and_ends_sessions(env: &Env) {
    // A session started while second steps were optional counts for
    // nothing once they are required (a second Admin on the same database).
    let optional = Admin::start(env, None).await;
    let r = optional.api_login_raw("admin", &optional.password).await;
    let old = format!("adm_sid={}", r.cookie("adm_sid").expect("a session"));
    let clock = ManualClock::new(SystemClock.now());
    let mut required =
        Admin::start_with(env, None, Policy::Required, Arc::new(clock.clone())).await;
    required.password = optional.password.clone();
    let status = "/admin/api/v1/channels/amazon/key-status";
    assert_eq!(
        required.get(status, &old).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        required.get("/admin/amazon", &old).await.status,
        StatusCode::SEE_OTHER
    );

    let (_, _, sid) = first_sign_in(&required, &clock, "admin", &required.password).await;
    assert_eq!(required.get(status, &sid).await.status, StatusCode::OK);
    let db = &required.running.state.db;
    assert!(matches!(
        admin::two_factor::reset(db, "nobody").await,
        Err(admin::error::AdminError::UnknownUser)
    ));
    assert_eq!(
        admin::two_factor::reset(db, "ADMIN").await.expect("reset"),
        "admin"
    );
    assert_eq!(
        required.get(status, &sid).await.status,
        StatusCode::UNAUTHORIZED
    );
    let (_, body) = password_step(&required, "admin", &required.password).await;
    assert_eq!(body, json!({"two_factor": "setup_required"}));
    required.stop().await;
    optional.stop().await;
}
