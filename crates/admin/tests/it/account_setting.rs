//! System > Account Setting: the signed-in Admin user changes their own
//! password, the current one required. The user's other sessions end, this
//! one stays, the change is in the audit log (never the password), and the
//! page is in English and Dutch. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{Admin, Browser, Env};
use reqwest::StatusCode;

both_backends!(
    change_own_password_ends_other_sessions,
    refusals_are_shown_on_the_form,
);

const PATH: &str = "/admin/system/account";
const NEW_PASSWORD: &str = "a brand new admin passphrase";

async fn status(admin: &Admin, sid: &str) -> StatusCode {
    admin.key_status_raw(sid).await.status
}

async fn change_own_password_ends_other_sessions(env: &Env) {
    let admin = Admin::start(env, None).await;
    let other = admin.api_login().await;
    let browser = Browser::new(&admin);
    browser.sign_in().await;

    let page = browser.get("/admin/amazon").await;
    assert!(
        page.text.contains("href=\"/admin/system/account\""),
        "the sidebar links it"
    );
    let page = browser.get(PATH).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Account Setting"));
    let csrf = browser.csrf();
    let password = admin.password.clone();
    let r = browser
        .post_form(
            PATH,
            &[
                ("csrf", &csrf),
                ("current_password", &password),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = browser.get(r.location().unwrap()).await;
    assert_eq!(page.status, StatusCode::OK, "this session stays");
    assert!(page.text.contains("Your password was changed."));
    assert_eq!(status(&admin, &other).await, StatusCode::UNAUTHORIZED);

    assert_eq!(
        admin.api_login_raw("admin", &password).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        admin.api_login_raw("admin", NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    // The audit log has it, with who, and never the password.
    let audit = browser.get("/admin/audit").await;
    assert!(audit.text.contains("Password changed"), "{}", audit.text);
    assert!(audit.text.contains("admin/user/password"));
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, change FROM config_audit WHERE path = 'admin/user/password'")
            .fetch_all(&admin.running.state.db.pool)
            .await
            .unwrap();
    assert_eq!(rows, [("admin".to_owned(), "password_changed".to_owned())]);
    let all: Vec<String> =
        sqlx::query_scalar("SELECT actor || path || scope || change FROM config_audit")
            .fetch_all(&admin.running.state.db.pool)
            .await
            .unwrap();
    assert!(all.iter().all(|r| !r.contains(NEW_PASSWORD)));
    admin.stop().await;
}

async fn refusals_are_shown_on_the_form(env: &Env) {
    let admin = Admin::start(env, None).await;
    let other = admin.api_login().await;
    let browser = Browser::with_language(&admin, "nl");
    browser.sign_in().await;
    let page = browser.get(PATH).await;
    assert!(page.text.contains("Accountinstelling"), "{}", page.text);
    let csrf = browser.csrf();
    let password = admin.password.clone();
    let r = browser
        .post_form(
            PATH,
            &[
                ("csrf", &csrf),
                ("current_password", "not the password at all"),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("Het huidige wachtwoord is onjuist."));
    let r = browser
        .post_form(
            PATH,
            &[
                ("csrf", &csrf),
                ("current_password", &password),
                ("new_password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("minstens 12 tekens"));
    // Nothing changed.
    assert_eq!(status(&admin, &other).await, StatusCode::OK);
    assert_eq!(
        admin.api_login_raw("admin", &password).await.status,
        StatusCode::OK
    );
    admin.stop().await;
}
