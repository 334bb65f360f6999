//! Two-step sign-in in the Admin's JSON API (SPEC §8), on SQLite and
//! PostgreSQL: with second steps required (the default), a password alone
//! reaches nothing but the setup; codes are refused when wrong, replayed or
//! another user's; recovery codes work once; parallel wrong codes cannot
//! exceed the sign-in throttle; secrets are never stored in plain text.
//! The policy and the reset: `two_factor_policy.rs`.

use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use web::two_factor::totp::code_at;
use web::{Clock, ManualClock, SystemClock};

use crate::common::{Admin, Env, Resp};
use admin::two_factor::Policy;

both_backends!(
    password_alone_reaches_only_the_setup,
    wrong_replayed_and_foreign_codes_are_refused,
    recovery_codes_work_once,
    parallel_wrong_codes_stay_within_the_throttle,
);

/// The Admin with second steps required, on a manual clock.
pub async fn start_required(env: &Env) -> (Admin, ManualClock) {
    let clock = ManualClock::new(SystemClock.now());
    let admin = Admin::start_with(env, None, Policy::Required, Arc::new(clock.clone())).await;
    (admin, clock)
}

/// `POST` JSON with the given `Cookie` header (may be empty) and the
/// Admin's own `Origin`, as its pages' scripts would send.
pub async fn post_json(admin: &Admin, path: &str, cookie: &str, body: &Value) -> Resp {
    let mut req = admin.http.post(admin.url(path)).json(body);
    if !cookie.is_empty() {
        req = req.header(reqwest::header::COOKIE, cookie);
    }
    Resp::read(req.send().await.expect("request")).await
}

/// Signs in with the password: the pending sign-in's cookie and the answer.
pub async fn password_step(admin: &Admin, user: &str, password: &str) -> (String, Value) {
    let r = admin.api_login_raw(user, password).await;
    assert_eq!(r.status, StatusCode::OK, "login: {}", r.text);
    assert_eq!(
        r.cookie("adm_sid"),
        None,
        "no session before the second step"
    );
    let pending = r.cookie("adm_2fa").expect("a pending sign-in cookie");
    (format!("adm_2fa={pending}"), r.json())
}

/// The first sign-in of `user`: the password, then the authenticator app
/// set up. Returns (the secret, the recovery codes, the session cookie).
pub async fn first_sign_in(
    admin: &Admin,
    clock: &ManualClock,
    user: &str,
    password: &str,
) -> (String, Vec<String>, String) {
    let (pending, body) = password_step(admin, user, password).await;
    assert_eq!(body, json!({"two_factor": "setup_required"}));
    let r = post_json(
        admin,
        "/admin/api/v1/account/two-factor/totp",
        &pending,
        &json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "begin: {}", r.text);
    let secret = r.json()["secret"].as_str().expect("secret").to_owned();
    let uri = r.json()["otpauth_uri"].as_str().expect("uri").to_owned();
    assert!(
        uri.starts_with("otpauth://totp/Commerce%20Admin:") && uri.contains(&secret),
        "{uri}"
    );
    let code = code_at(&secret, clock.now()).expect("code");
    let r = post_json(
        admin,
        "/admin/api/v1/account/two-factor/totp/confirm",
        &pending,
        &json!({"code": code}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "confirm: {}", r.text);
    let codes: Vec<String> =
        serde_json::from_value(r.json()["recovery_codes"].clone()).expect("recovery codes");
    assert_eq!(codes.len(), 10);
    let sid = r.cookie("adm_sid").expect("the session starts");
    (secret, codes, format!("adm_sid={sid}"))
}

/// The second step with `body` on a fresh password sign-in of `admin`.
async fn second_step(admin: &Admin, body: Value) -> Resp {
    let (pending, answer) = password_step(admin, "admin", &admin.password).await;
    assert_eq!(
        answer,
        json!({"two_factor": "required", "methods": ["totp", "recovery_code"]})
    );
    post_json(admin, "/admin/api/v1/login/two-factor", &pending, &body).await
}

fn assert_invalid_code(r: &Resp, what: &str) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text);
    assert_eq!(r.assert_api_error(what), "invalid_code");
    assert_eq!(r.cookie("adm_sid"), None, "{what}: no session");
}

async fn password_alone_reaches_only_the_setup(env: &Env) {
    let (admin, clock) = start_required(env).await;
    let (pending, _) = password_step(&admin, "admin", &admin.password).await;
    // Nothing but the setup answers to a pending sign-in.
    let r = admin
        .get("/admin/api/v1/channels/amazon/key-status", &pending)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    for page in ["/admin/amazon", "/admin/system/account", "/admin/audit"] {
        let r = admin.get(page, &pending).await;
        assert!(r.is_redirect(), "{page}: {}", r.status);
        assert!(
            r.location().unwrap_or("").starts_with("/admin/login"),
            "{page}"
        );
    }
    // A sign-in that must set up has no code to prove.
    let r = post_json(
        &admin,
        "/admin/api/v1/login/two-factor",
        &pending,
        &json!({"code": "123456"}),
    )
    .await;
    assert_invalid_code(&r, "setup pending");
    // Without any sign-in, no setup either.
    let r = post_json(
        &admin,
        "/admin/api/v1/account/two-factor/totp",
        "",
        &json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A wrong code does not confirm.
    let r = post_json(
        &admin,
        "/admin/api/v1/account/two-factor/totp",
        &pending,
        &json!({}),
    )
    .await;
    let secret = r.json()["secret"].as_str().expect("secret").to_owned();
    let right = code_at(&secret, clock.now()).expect("code");
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = post_json(
        &admin,
        "/admin/api/v1/account/two-factor/totp/confirm",
        &pending,
        &json!({"code": wrong}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.assert_api_error("wrong confirm"), "invalid_code");
    assert_eq!(r.cookie("adm_sid"), None);
    drop(pending);

    let (secret, codes, sid) = first_sign_in(&admin, &clock, "admin", &admin.password).await;
    let r = admin
        .get("/admin/api/v1/channels/amazon/key-status", &sid)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Secrets are stored encrypted, recovery codes hashed.
    let db = &admin.running.state.db;
    let row = sqlx::query("SELECT secret_enc, pending_secret_enc FROM admin_totp")
        .fetch_one(&db.pool)
        .await
        .expect("the row");
    let enc: String = row.try_get(0).expect("secret_enc");
    assert!(!enc.contains(&secret) && !enc.contains(&secret.to_lowercase()));
    let pend: Option<String> = row.try_get(1).expect("pending");
    assert_eq!(pend, None, "confirmed: nothing left to set up");
    let hashes: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM admin_recovery_codes")
        .fetch_all(&db.pool)
        .await
        .expect("codes");
    assert_eq!(hashes.len(), 10);
    for c in &codes {
        let bare = c.replace('-', "");
        assert!(hashes
            .iter()
            .all(|h| !h.contains(c.as_str()) && !h.contains(&bare)));
    }
    if env.backend == crate::common::Backend::Sqlite {
        for (path, bytes) in testkit::all_files(env.dir.path()) {
            assert!(
                !crate::common::contains_bytes(&bytes, secret.as_bytes()),
                "the secret in plain text in {}",
                path.display()
            );
        }
    }
    admin.stop().await;
}

async fn wrong_replayed_and_foreign_codes_are_refused(env: &Env) {
    let (admin, clock) = start_required(env).await;
    let (secret, _, _) = first_sign_in(&admin, &clock, "admin", &admin.password).await;
    // The code that confirmed the app was used: the same step again is refused.
    let used = code_at(&secret, clock.now()).expect("code");
    assert_invalid_code(
        &second_step(&admin, json!({"code": used})).await,
        "replayed",
    );
    let wrong = if used == "000000" { "111111" } else { "000000" };
    assert_invalid_code(&second_step(&admin, json!({"code": wrong})).await, "wrong");
    // Another user's current code.
    admin::auth::create_user(
        &admin.running.state.db,
        "bob",
        "bob@example.com",
        web::Secret::new("bob's long password"),
        clock.now(),
    )
    .await
    .expect("bob");
    clock.advance(30);
    let (bob_secret, _, _) = first_sign_in(&admin, &clock, "bob", "bob's long password").await;
    let bobs = code_at(&bob_secret, clock.now()).expect("code");
    if bobs != code_at(&secret, clock.now()).expect("code") {
        assert_invalid_code(
            &second_step(&admin, json!({"code": bobs})).await,
            "bob's code",
        );
    }
    // The next step's code works, once.
    clock.advance(30);
    let next = code_at(&secret, clock.now()).expect("code");
    let r = second_step(&admin, json!({"code": next})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["user"]["username"], "admin");
    let sid = r.cookie("adm_sid").expect("a session");
    assert!(r
        .set_cookie_line("adm_2fa")
        .is_some_and(|l| l.contains("Max-Age=0")));
    let r = admin
        .get(
            "/admin/api/v1/channels/amazon/key-status",
            &format!("adm_sid={sid}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_invalid_code(
        &second_step(&admin, json!({"code": next})).await,
        "replayed next",
    );
    // Neither both nor none.
    let r = second_step(&admin, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    admin.stop().await;
}

async fn recovery_codes_work_once(env: &Env) {
    let (admin, clock) = start_required(env).await;
    let (_, codes, _) = first_sign_in(&admin, &clock, "admin", &admin.password).await;
    let r = second_step(&admin, json!({"recovery_code": codes[0]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.cookie("adm_sid").is_some());
    let r = second_step(&admin, json!({"recovery_code": codes[0]})).await;
    assert_invalid_code(&r, "a used recovery code");
    // Typed in capitals and without the dash, another one works.
    let typed = codes[1].replace('-', "").to_uppercase();
    let r = second_step(&admin, json!({"recovery_code": typed})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    admin.stop().await;
}

async fn parallel_wrong_codes_stay_within_the_throttle(env: &Env) {
    let (admin, clock) = start_required(env).await;
    let (secret, _, _) = first_sign_in(&admin, &clock, "admin", &admin.password).await;
    clock.advance(30);
    let right = code_at(&secret, clock.now()).expect("code");
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    // Three pending sign-ins, four wrong codes each (fewer than one pending
    // sign-in's own limit), all at once: the sign-in throttle (10 per
    // username from one address) refuses the rest.
    let mut pendings = Vec::new();
    for _ in 0..3 {
        pendings.push(password_step(&admin, "admin", &admin.password).await.0);
    }
    let mut tasks = Vec::new();
    for i in 0..12 {
        let pending = pendings[i % 3].clone();
        let (http, url) = (
            admin.http.clone(),
            admin.url("/admin/api/v1/login/two-factor"),
        );
        let body = json!({"code": wrong});
        tasks.push(tokio::spawn(async move {
            let req = http
                .post(url)
                .header(reqwest::header::COOKIE, pending)
                .json(&body);
            req.send().await.expect("request").status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(refused + throttled, 12, "{statuses:?}");
    assert!(refused <= 10 && throttled >= 2, "{statuses:?}");
    // The right code now waits too: no session.
    let r = post_json(
        &admin,
        "/admin/api/v1/login/two-factor",
        &pendings[0],
        &json!({"code": right}),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.cookie("adm_sid"), None);
    admin.stop().await;
}
