//! Hardening, round 2 (issue 12) on the Admin: sign-in throttles hold under
//! parallel requests, and NUL bytes, invalid UTF-8 and invisible format
//! characters get a 4xx from every form and the JSON sign-in, on SQLite and
//! PostgreSQL, and are never stored.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{Account, Admin, Browser, Env, CONFIG_PAGE, KEY_FIELD};
use reqwest::StatusCode;

both_backends!(
    parallel_admin_logins_evaluate_at_most_the_limit,
    hostile_bytes_get_4xx_and_are_not_stored,
);

async fn parallel_admin_logins_evaluate_at_most_the_limit(env: &Env) {
    let admin = Admin::start(env, None).await;
    let attempts = (0..40).map(|i| {
        let admin = &admin;
        async move {
            let pw = if i == 25 {
                admin.password.clone()
            } else {
                "wrong password!!".to_owned()
            };
            admin.api_login_raw("admin", &pw).await
        }
    });
    let mut handles = Vec::new();
    for a in attempts {
        handles.push(a);
    }
    let answers = futures_util::future::join_all(handles).await;
    let evaluated = answers
        .iter()
        .filter(|r| matches!(r.status, StatusCode::OK | StatusCode::UNAUTHORIZED))
        .count();
    assert!(
        evaluated <= 10,
        "{evaluated} passwords checked against a limit of 10"
    );
    for r in &answers {
        assert!(
            matches!(
                r.status,
                StatusCode::OK | StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS
            ),
            "{} {}",
            r.status,
            r.text
        );
    }
    // A NUL in the username is a clear 4xx, not a 500, with no session.
    let r = admin.api_login_raw("adm\u{0}in", "whatever password").await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
    admin.stop().await;
}

async fn hostile_bytes_get_4xx_and_are_not_stored(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let (_, key) = acct
        .create_key(&owner, serde_json::json!({"name": "prod"}))
        .await;
    let b = Browser::new(&admin);
    b.sign_in().await;
    b.get(CONFIG_PAGE).await;
    let csrf = b.csrf();
    let field = KEY_FIELD.replace('/', "%2F");
    for bad in ["%FF", "%C3", "a%00b"] {
        let r = b
            .post_raw(
                CONFIG_PAGE,
                format!("csrf={csrf}&{field}={bad}").into_bytes(),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "config {bad}: {}",
            r.text
        );
        assert!(r.text.contains("<h1>"), "an error page");
        assert_eq!(admin.stored_key().await, None, "nothing stored for {bad}");
    }
    // Sections that do not exist, by hostile ids.
    for id in ["%00", "%FF", "%E2%80%AE"] {
        let r = b.get(&format!("/admin/config/edit/section/{id}")).await;
        assert!(r.status.is_client_error(), "{id}: {}", r.status);
    }
    admin.store_key(&key).await;
    b.get("/admin/amazon").await;
    let csrf = b.csrf();
    for bad in ["%FF", "a%00b"] {
        let body =
            format!("csrf={csrf}&name={bad}&email=shop%40example.com&website=base&marketplace=US");
        let r = b.post_raw("/admin/amazon/stores", body.into_bytes()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "store {bad}: {}",
            r.text
        );
    }
    for name in ["My%E2%80%AEStore", "Zero%E2%80%8BWidth"] {
        let body =
            format!("csrf={csrf}&name={name}&email=shop%40example.com&website=base&marketplace=US");
        let r = b.post_raw("/admin/amazon/stores", body.into_bytes()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "store {name}: {}",
            r.text
        );
        assert!(
            r.text.contains("invisible"),
            "the reason is named: {}",
            r.text
        );
    }
    let stores = admin::store::amazon_stores(&admin.running.state.db)
        .await
        .unwrap();
    assert!(stores.is_empty(), "no hostile store was saved");
    admin.stop().await;
    acct.stop().await;
}
