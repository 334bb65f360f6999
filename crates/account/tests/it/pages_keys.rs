//! The API Portal's pages, as a browser uses them: Add New and the key shown
//! once, and revocation.

use crate::common::{find_keys, hidden_input, unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

const PORTAL: &str = "/account/api-portal";

both_backends!(a_new_key_is_shown_once, revoke_through_the_pages);

/// Signs in through the pages and returns the browser and the portal's CSRF token.
async fn signed_in_browser(app: &App, email: &str) -> (Browser, String) {
    let browser = Browser::new(app);
    let r = browser.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let portal = browser.get(PORTAL).await;
    assert_eq!(portal.status, StatusCode::OK);
    let csrf = hidden_input(&portal.text, "csrf").expect("csrf input");
    (browser, csrf)
}

async fn a_new_key_is_shown_once(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("portal");
    let sid = app.signup(&email, "Portal Co").await;
    let (browser, csrf) = signed_in_browser(&app, &email).await;

    let r = browser
        .post_form(
            PORTAL,
            &[
                ("csrf", &csrf),
                ("name", "Amazon Sales Channel"),
                ("environment", "production"),
                ("expiry", "365"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let shown = find_keys(&r.text);
    assert_eq!(shown.len(), 1, "the new key is on the page once: {shown:?}");
    let key = shown[0].clone();
    assert!(key.starts_with("cmk_live_"));
    assert!(
        r.text.contains(&format!("value=\"{key}\"")),
        "in a field to copy from"
    );
    assert!(
        r.text.contains("data-copy-target=\"new-key-value\""),
        "a Copy button"
    );
    assert!(r.text.contains(">Copy</button>"), "labelled Copy");
    assert!(r.text.contains("Amazon Sales Channel"));
    let cache = r.header("cache-control");
    assert!(
        cache.contains("no-store"),
        "a page showing a key is not cached"
    );

    // The key works, and the API lists it with the name and expiry chosen.
    assert_eq!(app.verify_status(&key).await, "valid");
    let (_, keys) = app.list_keys(&sid).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], json!("Amazon Sales Channel"));
    assert!(
        keys[0]["expires_at"].is_string(),
        "365 days: an expiry is set"
    );

    // A reload shows the key's name and hint, never the key again.
    let reload = browser.get(PORTAL).await;
    assert_eq!(reload.status, StatusCode::OK);
    assert!(!reload.text.contains(&key), "the key is shown only once");
    assert!(find_keys(&reload.text).is_empty());
    assert!(reload.text.contains("Amazon Sales Channel"));
    assert!(
        reload.text.contains(&key[key.len() - 4..]),
        "the hint's last characters"
    );
    assert!(!reload.text.contains("data-copy-target"));

    // Sandbox, never expiring.
    let r = browser
        .post_form(
            PORTAL,
            &[
                ("csrf", &csrf),
                ("name", "Staging"),
                ("environment", "sandbox"),
                ("expiry", "never"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sandbox = find_keys(&r.text);
    assert_eq!(sandbox.len(), 1);
    assert!(sandbox[0].starts_with("cmk_test_"));
    assert_eq!(app.verify_status(&sandbox[0]).await, "valid");

    // Form errors: re-shown with 422, the input kept, no key made.
    let r = browser
        .post_form(
            PORTAL,
            &[
                ("csrf", &csrf),
                ("name", "  "),
                ("environment", "production"),
                ("expiry", "30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("This field is required."));
    assert!(find_keys(&r.text).is_empty());
    let r = browser
        .post_form(
            PORTAL,
            &[
                ("csrf", &csrf),
                ("name", "Dated"),
                ("environment", "production"),
                ("expiry", "custom"),
                ("expiry_date", "2001-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("value=\"Dated\""), "the name is kept");
    assert!(find_keys(&r.text).is_empty());
    for (field, value) in [("environment", "staging"), ("expiry", "7")] {
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("name", "Odd"),
            ("environment", "production"),
            ("expiry", "30"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let r = browser.post_form(PORTAL, &form).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
    }
    let (_, keys) = app.list_keys(&sid).await;
    assert_eq!(keys.len(), 2, "only the two good forms made keys");
    app.stop().await;
}

async fn revoke_through_the_pages(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("revoke-page");
    let sid = app.signup(&email, "Revoke Co").await;
    let created = app.create_key(&sid, json!({"name": "To revoke"})).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let key = created["key"].as_str().expect("key").to_owned();
    let (browser, csrf) = signed_in_browser(&app, &email).await;

    let portal = browser.get(PORTAL).await;
    let link = format!("{PORTAL}/keys/{id}/revoke");
    assert!(portal.text.contains(&link), "a Revoke link per valid key");
    let confirm = browser.get(&link).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.text.contains("To revoke"));
    assert!(!confirm.text.contains(&key));

    // Another company can neither see nor revoke it.
    let other_email = unique_email("other");
    app.signup(&other_email, "Other Co").await;
    let (other, other_csrf) = signed_in_browser(&app, &other_email).await;
    let r = other.get(&link).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("<html"), "an error page");
    let r = other.post_button(&link, &other_csrf).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.verify_status(&key).await, "valid");

    // The owner confirms: back to the portal with a notice, and the key is revoked.
    let r = browser.post_button(&link, &csrf).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some("/account/api-portal?notice=revoked"));
    assert_eq!(app.verify_status(&key).await, "revoked");
    let after = browser.get("/account/api-portal?notice=revoked").await;
    assert!(after.text.contains("The key was revoked."));
    assert!(after.text.contains("Revoked"), "the status badge");
    assert!(
        !after.text.contains(&link),
        "no Revoke link for a revoked key"
    );
    app.stop().await;
}
