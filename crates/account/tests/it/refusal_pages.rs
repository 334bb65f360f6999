//! Refusals on pages show the site's error page with their own text, in the
//! visitor's language (never the internal-error page): an owner changing
//! their own role or removing themself, and an owner at the cap of pending
//! invitations. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{unique_email, App, Browser, TestDb};
use reqwest::StatusCode;
use serde_json::json;
use web::ManualClock;

both_backends!(refusals_show_their_own_page_in_both_languages);

/// The catalog line of `key` in a locale file.
fn catalog(lang: &str, key: &str) -> String {
    let text = match lang {
        "nl" => include_str!("../../locales/nl.txt"),
        _ => include_str!("../../locales/en.txt"),
    };
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("{key} in {lang}"));
    // Pages escape apostrophes and the like.
    line.replace('\'', "&#x27;")
}

fn assert_refused(r: &crate::common::Resp, status: StatusCode, lang: &str, key: &str) {
    assert_eq!(r.status, status, "{key}: {}", r.text);
    let escaped = catalog(lang, key);
    let plain = escaped.replace("&#x27;", "'");
    assert!(
        r.text.contains(&escaped) || r.text.contains(&plain),
        "{key} in {lang}: {}",
        r.text
    );
    assert!(
        !r.text.contains(&catalog(lang, "errorpage.internal")),
        "{key} is not the internal error"
    );
}

async fn refusals_show_their_own_page_in_both_languages(db: &TestDb) {
    let cfg = account::Config {
        invitations_per_hour: 1000,
        ..account::Config::default()
    };
    let clock = ManualClock::new(1_900_000_000);
    let app = App::start_with(db, &clock, cfg).await;
    let owner = app.signup(&unique_email("owner"), "Refusals Co").await;
    let members = app.get("/api/v1/members", Some(&owner)).await.json();
    let own_id = members["members"][0]["id"].as_str().unwrap().to_owned();
    // The most invitations that may wait at a time.
    for i in 0..100 {
        let r = app
            .post_json(
                "/api/v1/invitations",
                Some(&owner),
                &json!({"email": unique_email(&format!("inv{i}"))}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }

    for lang in ["en", "nl"] {
        let browser = Browser::new(&app);
        browser.set_cookie("acct_sid", &owner);
        browser.set_cookie("acct_lang", lang);
        let page = browser.get("/account/members").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let csrf = crate::common::hidden_input(&page.text, "csrf").unwrap();

        let r = browser
            .post_form(
                &format!("/account/members/{own_id}/role"),
                &[("csrf", &csrf), ("role", "member")],
            )
            .await;
        assert_refused(
            &r,
            StatusCode::CONFLICT,
            lang,
            "errorpage.cannot_change_own_role",
        );

        let r = browser
            .get(&format!("/account/members/{own_id}/remove"))
            .await;
        assert_refused(
            &r,
            StatusCode::CONFLICT,
            lang,
            "errorpage.cannot_remove_self",
        );

        let r = browser
            .post_form(
                "/account/members",
                &[
                    ("csrf", &csrf),
                    ("email", &unique_email("one-more")),
                    ("role", "member"),
                ],
            )
            .await;
        assert_refused(
            &r,
            StatusCode::CONFLICT,
            lang,
            "errorpage.too_many_invitations",
        );
    }
    // The JSON API keeps its codes.
    let r = app
        .post_json(
            "/api/v1/invitations",
            Some(&owner),
            &json!({"email": unique_email("api")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.assert_api_error("cap"), "too_many_invitations");
}
