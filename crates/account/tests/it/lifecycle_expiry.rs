//! Expiry you choose (verifying what the API Portal already does): 30, 90 or
//! 365 days, a date, or never with a warning; 365 preselected; keys expiring
//! within 14 days highlighted. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{form_input, unique_email, App, Browser, TestDb, CLOCK_START, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(expiry_choices_and_the_soon_highlight);

const PORTAL: &str = "/account/api-portal";
const DAY: i64 = 86400;

async fn expiry_choices_and_the_soon_highlight(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let email = unique_email("expiry");
    let sid = app.signup(&email, "Expiry Co").await;
    let browser = Browser::new(&app);
    browser.login(&email, PASSWORD).await;

    let page = browser.get(PORTAL).await;
    assert_eq!(page.status, StatusCode::OK);
    for choice in ["30", "90", "365", "custom", "never"] {
        assert!(
            page.text.contains(&format!("<option value=\"{choice}\"")),
            "offers {choice}"
        );
    }
    assert!(
        page.text.contains("<option value=\"365\" selected>"),
        "365 days preselected"
    );
    assert!(
        page.text
            .contains("A key that never expires stays usable if it leaks."),
        "the warning for no expiry"
    );

    // Each choice through the form sets the expiry it names.
    let cases = [
        ("30", "", Some(CLOCK_START + 30 * DAY)),
        ("90", "", Some(CLOCK_START + 90 * DAY)),
        ("365", "", Some(CLOCK_START + 365 * DAY)),
        (
            "custom",
            "2027-03-01",
            web::clock::parse_rfc3339("2027-03-01T23:59:59Z"),
        ),
        ("never", "", None),
    ];
    for (i, (choice, date, expected)) in cases.iter().enumerate() {
        let page = browser.get(PORTAL).await;
        let csrf = form_input(&page.text, PORTAL, "csrf").unwrap();
        let nonce = form_input(&page.text, PORTAL, "nonce").unwrap();
        let name = format!("Key {i}");
        let r = browser
            .post_form(
                PORTAL,
                &[
                    ("csrf", &csrf),
                    ("nonce", &nonce),
                    ("name", &name),
                    ("environment", "production"),
                    ("expiry", choice),
                    ("expiry_date", date),
                    ("signing", "none"),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{choice}: {}", r.text);
        let (_, keys) = app.list_keys(&sid).await;
        let k = keys.iter().find(|k| k["name"] == name.as_str()).unwrap();
        assert_eq!(
            k["expires_at"],
            expected.map_or(json!(null), |e| json!(web::clock::rfc3339(e))),
            "{choice}"
        );
    }

    // Within 14 days: highlighted; beyond: not.
    app.create_key(
        &sid,
        json!({"name": "Soon", "expires_at": web::clock::rfc3339(CLOCK_START + 14 * DAY)}),
    )
    .await;
    let page = browser.get(PORTAL).await;
    assert_eq!(
        page.text.matches("<tr class=\"soon\">").count(),
        1,
        "only the key expiring within 14 days"
    );
    assert_eq!(page.text.matches("Expires soon").count(), 1);
    // Sixteen days on, the 30-day key is within 14 days too.
    clock.advance(16 * DAY);
    let browser = Browser::new(&app);
    browser.login(&email, PASSWORD).await;
    let page = browser.get(PORTAL).await;
    assert_eq!(page.text.matches("<tr class=\"soon\">").count(), 1);
    assert!(page.text.contains("Expired"), "the 14-day key has expired");
    app.stop().await;
}
