//! Account Information: Change password (the current one required; the
//! account's other sessions end, this one stays; a notice is mailed;
//! audited) and the signed-in browsers with Sign out other browsers. On
//! both backends, through the JSON API and the pages.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{form_input, unique_email, App, Browser, TestDb, CLOCK_START, PASSWORD};
use reqwest::header::{COOKIE, USER_AGENT};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    a_change_keeps_this_session_and_ends_the_others,
    a_wrong_current_password_changes_nothing,
    change_password_through_the_page,
    sign_out_other_browsers,
    the_page_lists_the_browsers,
    last_seen_is_written_at_most_once_a_minute,
);

const NEW_PASSWORD: &str = "another long passphrase 7";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// Signs in through the API with a browser's `User-Agent`; the session id.
async fn login_as(app: &App, email: &str, user_agent: &str) -> String {
    let r = app
        .http
        .post(app.url("/api/v1/login"))
        .header(USER_AGENT, user_agent)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let r = crate::common::Resp::read(r).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.cookie("acct_sid").unwrap()
}

async fn change(app: &App, sid: &str, current: &str, new: &str) -> crate::common::Resp {
    app.post_json(
        "/api/v1/account/password",
        Some(sid),
        &json!({"current_password": current, "new_password": new}),
    )
    .await
}

async fn alive(app: &App, sid: &str) -> bool {
    let r = app.get("/api/v1/keys", Some(sid)).await;
    match r.status {
        StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => false,
        s => panic!("unexpected {s}: {}", r.text),
    }
}

async fn audit_actions(app: &App, sid: &str) -> Vec<String> {
    let r = app.get("/api/v1/audit", Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_change_keeps_this_session_and_ends_the_others(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("change");
    let this = app.signup(&email, "Change Co").await;
    let other = login_as(&app, &email, FIREFOX).await;
    let third = login_as(&app, &email, SAFARI).await;

    let r = change(&app, &this, PASSWORD, NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(alive(&app, &this).await, "this session stays");
    assert!(!alive(&app, &other).await, "another session survived");
    assert!(!alive(&app, &third).await, "another session survived");
    let page = app.get("/account", Some(&other)).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);

    assert_eq!(
        app.login_raw(&email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login_raw(&email, NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    // The notice, to the account's address.
    let messages = account::store::unsent_messages(&app.running.state.db, 0, i64::MAX, 1000)
        .await
        .unwrap();
    let notice: Vec<_> = messages
        .iter()
        .filter(|m| m.recipient == email && m.kind == account::password_change::KIND)
        .collect();
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].subject, "Your password was changed");
    assert!(!notice[0].body.contains(NEW_PASSWORD));
    assert!(audit_actions(&app, &this)
        .await
        .contains(&"password.changed".to_owned()));
    let stored = db.stored_bytes().await;
    assert!(!crate::common::contains_bytes(
        &stored,
        NEW_PASSWORD.as_bytes()
    ));
    app.stop().await;
}

async fn a_wrong_current_password_changes_nothing(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("wrong");
    let this = app.signup(&email, "Wrong Co").await;
    let other = login_as(&app, &email, FIREFOX).await;

    let r = change(&app, &this, "not the password at all", NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "wrong_password");
    let r = change(&app, &this, PASSWORD, "short").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("new_password"), "{}", r.text);
    // Not signed in: 401; cross-origin: 403.
    let r = change(
        &app,
        "0123456789abcdef0123456789abcdef",
        PASSWORD,
        NEW_PASSWORD,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app
        .http
        .post(app.url("/api/v1/account/password"))
        .header(COOKIE, crate::common::sid_cookie(&this))
        .header("origin", "https://evil.example")
        .json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    assert!(
        alive(&app, &other).await,
        "a refused change ended a session"
    );
    assert_eq!(app.login_raw(&email, PASSWORD).await.status, StatusCode::OK);
    app.stop().await;
}

async fn change_password_through_the_page(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("page");
    app.signup(&email, "Page Co").await;
    let other = login_as(&app, &email, FIREFOX).await;
    let browser = Browser::new(&app);
    assert_eq!(
        browser.login(&email, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Change password"));
    let csrf = form_input(&page.text, "/account/password", "csrf").unwrap();
    let r = browser
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", "not the password at all"),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("The current password is not correct."));
    let r = browser
        .post_form(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some("/account?notice=password_changed"));
    let page = browser.get("/account?notice=password_changed").await;
    assert_eq!(page.status, StatusCode::OK, "this browser stays signed in");
    assert!(page.text.contains("Your password was changed."));
    assert!(!alive(&app, &other).await);

    // In Dutch, for an account made in Dutch.
    let nl_email = unique_email("nl");
    let r = app
        .http
        .post(app.url("/api/v1/signup"))
        .header("accept-language", "nl")
        .json(&json!({"email": nl_email, "password": PASSWORD, "name": "Nl", "company": "Nl Co"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let nl = Browser::with_language(&app, "nl");
    assert_eq!(
        nl.login(&nl_email, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let page = nl.get("/account").await;
    assert!(page.text.contains("Wachtwoord wijzigen"));
    assert!(page.text.contains("Andere browsers afmelden"));
    app.stop().await;
}

async fn sign_out_other_browsers(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("others");
    let this = app.signup(&email, "Others Co").await;
    let a = login_as(&app, &email, FIREFOX).await;
    let b = login_as(&app, &email, SAFARI).await;
    // Someone else's session is not touched.
    let stranger = app.signup(&unique_email("stranger"), "Stranger Co").await;

    let r = app
        .post_json("/api/v1/sessions/revoke-others", Some(&this), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert!(alive(&app, &this).await);
    assert!(!alive(&app, &a).await);
    assert!(!alive(&app, &b).await);
    assert!(alive(&app, &stranger).await);
    assert!(audit_actions(&app, &this)
        .await
        .contains(&"session.revoked_others".to_owned()));
    let r = app
        .post_json("/api/v1/sessions/revoke-others", None, &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // The page's button.
    let c = login_as(&app, &email, FIREFOX).await;
    let browser = Browser::new(&app);
    assert_eq!(
        browser.login(&email, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let r = browser
        .submit("/account", "/account/sessions/revoke-others", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(!alive(&app, &c).await);
    assert!(!alive(&app, &this).await);
    let page = browser.get("/account?notice=sessions_revoked").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Your other browsers were signed out."));
    app.stop().await;
}

async fn the_page_lists_the_browsers(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("list");
    app.signup(&email, "List Co").await;
    login_as(&app, &email, FIREFOX).await;
    let this = login_as(&app, &email, SAFARI).await;
    let page = app
        .http
        .get(app.url("/account"))
        .header(COOKIE, crate::common::sid_cookie(&this))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Firefox on Linux"), "{page}");
    assert!(page.contains("Safari on iOS"), "{page}");
    assert_eq!(page.matches("(this browser)").count(), 1, "{page}");
    let this_row = page.split("aria-current=\"true\"").nth(1).unwrap();
    let this_row = this_row.split("</tr>").next().unwrap();
    assert!(this_row.contains("Safari on iOS"), "{this_row}");
    // A coarse address, never the full one.
    assert!(page.contains("127.0.0.0/24"));
    assert!(!page.contains("127.0.0.1<"));
    assert_eq!(page.matches("<td data-label=\"Browser\">").count(), 3);
    app.stop().await;
}

async fn last_seen_is_written_at_most_once_a_minute(db: &TestDb) {
    let (app, clock) = App::start_without_outbox(db).await;
    let email = unique_email("seen");
    let sid = app.signup(&email, "Seen Co").await;
    let last_seen = || async {
        sqlx::query_scalar::<_, i64>("SELECT last_seen_at FROM account_sessions")
            .fetch_all(&app.running.state.db.pool)
            .await
            .unwrap()
    };
    clock.advance(30);
    assert!(alive(&app, &sid).await);
    assert_eq!(last_seen().await, [CLOCK_START], "written within a minute");
    clock.advance(31);
    assert!(alive(&app, &sid).await);
    assert_eq!(last_seen().await, [CLOCK_START + 61]);
    app.stop().await;
}
