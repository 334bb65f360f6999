//! A member removed by an owner from their only company stays signed in,
//! in no company: with a session cookie that was in the company at the
//! removal they are told so on the companies page (where the sign-in page
//! and the portal send them), in English and Dutch, with the company's
//! name; no one without that cookie learns anything, a member who left of
//! their own accord sees the usual page, and the notice ends with the
//! session's lifetime. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;

both_backends!(removed_members_are_told_on_the_sign_in_page);

const COMPANY: &str = "Removal Notice Co";
const COMPANIES: &str = "/account/companies";
const EN: &str = "You were removed from Removal Notice Co by one of its owners";
const NL: &str = "U bent door een van de eigenaren verwijderd uit Removal Notice Co";

/// Invites `email` into the owner's company and joins with a new account:
/// (account id, session id).
async fn join(app: &App, owner: &str, email: &str) -> (String, String) {
    app.join(owner, email).await
}

/// The companies page as a browser holding `sid` in `lang` sees it (the
/// language chosen with the site's language cookie, which wins over the
/// account's own).
async fn companies_page(app: &App, sid: &str, lang: &str) -> crate::common::Resp {
    let b = Browser::with_language(app, lang);
    b.set_cookie("acct_sid", sid);
    b.set_cookie(account::auth::LANG_COOKIE, lang);
    let r = b.get(COMPANIES).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r
}

/// The sign-in page as a browser holding `sid` (if any) sees it: the page,
/// or where it sends a signed-in browser.
async fn sign_in_page(app: &App, sid: Option<&str>) -> crate::common::Resp {
    let b = Browser::new(app);
    if let Some(s) = sid {
        b.set_cookie("acct_sid", s);
    }
    b.get("/login").await
}

fn tells(r: &crate::common::Resp) -> bool {
    r.text.contains(EN) || r.text.contains(NL)
}

async fn removed_members_are_told_on_the_sign_in_page(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let owner = app.signup(&unique_email("owner"), COMPANY).await;
    let removed_email = unique_email("removed");
    let (removed_id, removed_sid) = join(&app, &owner, &removed_email).await;
    let (leaver_id, leaver_sid) = join(&app, &owner, &unique_email("leaver")).await;
    // A second session of the same member (another browser).
    let second = app.login_raw(&removed_email, PASSWORD).await;
    let second_sid = second.cookie("acct_sid").unwrap();

    // While a member: the sign-in page sends them on, and says nothing.
    let r = sign_in_page(&app, Some(&removed_sid)).await;
    assert!(r.status.is_redirection(), "signed in: {}", r.status);
    assert_ne!(r.location(), Some(COMPANIES));

    // The owner removes one; the other leaves of their own accord.
    clock.advance(60);
    let r = app
        .delete(&format!("/api/v1/members/{removed_id}"), Some(&owner))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .delete(&format!("/api/v1/members/{leaver_id}"), Some(&leaver_sid))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    // Either of the removed member's cookies: still signed in, sent from the
    // sign-in page to the companies page, and told there, in English and in
    // Dutch.
    for sid in [&removed_sid, &second_sid] {
        let r = sign_in_page(&app, Some(sid)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        assert_eq!(r.location(), Some(COMPANIES));
        let r = companies_page(&app, sid, "en").await;
        assert!(r.text.contains(EN), "{}", r.text);
        let r = companies_page(&app, sid, "nl").await;
        assert!(r.text.contains(NL), "{}", r.text);
        assert!(!r.text.contains(EN));
    }
    // Sent on from the portal: the same notice.
    let b = Browser::new(&app);
    b.set_cookie("acct_sid", &removed_sid);
    let mut to = "/account/api-portal".to_owned();
    for _ in 0..3 {
        let r = b.get(&to).await;
        if !r.status.is_redirection() {
            break;
        }
        to = r.location().expect("a redirect").to_owned();
    }
    assert!(to.starts_with(COMPANIES), "{to}");
    let r = b.get(&to).await;
    assert!(r.text.contains(EN), "{}", r.text);

    // No one else learns anything: no cookie, a made-up one, the one who
    // left, the owner, and the removed member's email alone.
    for sid in [None, Some("0123456789abcdef0123456789abcdef")] {
        let r = sign_in_page(&app, sid).await;
        assert_eq!(r.status, StatusCode::OK, "{sid:?}: {}", r.text);
        assert!(!tells(&r), "{sid:?}: {}", r.text);
        assert!(!r.text.contains(COMPANY), "{sid:?}");
    }
    let r = companies_page(&app, &leaver_sid, "en").await;
    assert!(!tells(&r) && !r.text.contains(COMPANY), "{}", r.text);
    let r = companies_page(&app, &owner, "en").await;
    assert!(!tells(&r), "{}", r.text);
    assert!(
        r.text.contains(COMPANY),
        "the owner's own company is listed"
    );
    let r = app
        .get(
            &format!("/login?next=/account/members&email={removed_email}"),
            None,
        )
        .await;
    assert!(!tells(&r) && !r.text.contains(COMPANY));

    // Only hashes are kept: no cookie value in the database.
    let stored = db.stored_bytes().await;
    for sid in [&removed_sid, &second_sid] {
        assert!(!crate::common::contains_bytes(&stored, sid.as_bytes()));
    }

    // Signing in again works as always, in no company; the new session was
    // never in the company, so it is told nothing.
    let b = Browser::new(&app);
    let r = b.login(&removed_email, PASSWORD).await;
    assert!(r.status.is_redirection(), "signed in again: {}", r.text);
    let fresh = b.cookie("acct_sid").expect("a new session");
    assert_ne!(fresh, removed_sid);
    let me = app.get("/api/v1/companies", Some(&fresh)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(!me.text.contains(COMPANY), "no longer in the company");
    let r = companies_page(&app, &fresh, "en").await;
    assert!(!tells(&r), "{}", r.text);

    // After a session's lifetime the old cookie tells nothing any more.
    clock.advance(account::auth::SESSION_ABSOLUTE_SECS + 1);
    let r = sign_in_page(&app, Some(&removed_sid)).await;
    assert_eq!(r.status, StatusCode::OK, "signed out by now: {}", r.text);
    assert!(!tells(&r), "{}", r.text);

    app.stop().await;
}
