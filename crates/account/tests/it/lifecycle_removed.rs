//! A member removed by an owner who lands on the sign-in page with the
//! session cookie that ended at the removal is told so, in English and Dutch,
//! with the company's name; no one without that cookie learns anything, a
//! member who left of their own accord sees the usual page, and the notice
//! ends with the session's lifetime. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;

both_backends!(removed_members_are_told_on_the_sign_in_page);

const COMPANY: &str = "Removal Notice Co";
const EN: &str = "You were removed from Removal Notice Co by one of its owners";
const NL: &str = "U bent door een van de eigenaren verwijderd uit Removal Notice Co";

/// Invites `email` into the owner's company and joins with a new account:
/// (account id, session id).
async fn join(app: &App, owner: &str, email: &str) -> (String, String) {
    app.join(owner, email).await
}

/// The sign-in page as a browser holding `sid` (if any) in `lang` sees it.
async fn sign_in_page(app: &App, sid: Option<&str>, lang: &str) -> crate::common::Resp {
    let b = Browser::with_language(app, lang);
    if let Some(s) = sid {
        b.set_cookie("acct_sid", s);
    }
    let r = b.get("/login").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r
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
    let b = Browser::new(&app);
    b.set_cookie("acct_sid", &removed_sid);
    let r = b.get("/login").await;
    assert!(r.status.is_redirection(), "signed in: {}", r.status);

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

    // Either of the removed member's cookies: told, in English and in Dutch.
    for sid in [&removed_sid, &second_sid] {
        let r = sign_in_page(&app, Some(sid), "en").await;
        assert!(r.text.contains(EN), "{}", r.text);
        assert!(r.text.contains("<form method=\"post\" action=\"/login\""));
        let r = sign_in_page(&app, Some(sid), "nl").await;
        assert!(r.text.contains(NL), "{}", r.text);
        assert!(!r.text.contains(EN));
    }
    // Sent to sign in from the portal: the same notice, in place of the usual one.
    let b = Browser::new(&app);
    b.set_cookie("acct_sid", &removed_sid);
    let r = b.get("/account/api-portal").await;
    let to = r.location().expect("sent to sign in").to_owned();
    assert!(to.starts_with("/login"), "{to}");
    let r = b.get(&to).await;
    assert!(r.text.contains(EN), "{}", r.text);
    assert!(!r.text.contains("Sign in to open the API Portal."));

    // No one else learns anything: no cookie, a made-up one, the owner's,
    // the one who left, and the removed member's email alone.
    for sid in [
        None,
        Some("0123456789abcdef0123456789abcdef"),
        Some(leaver_sid.as_str()),
    ] {
        let r = sign_in_page(&app, sid, "en").await;
        assert!(!tells(&r), "{sid:?}: {}", r.text);
        assert!(!r.text.contains(COMPANY), "{sid:?}");
    }
    let r = app.get("/login", Some(&owner)).await;
    assert!(r.status.is_redirection(), "the owner is still signed in");
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

    // Signing in again works as always (a company of their own), and the new
    // session is a signed-in one.
    let b = Browser::new(&app);
    b.set_cookie("acct_sid", &removed_sid);
    let r = b.login(&removed_email, PASSWORD).await;
    assert!(r.status.is_redirection(), "signed in again: {}", r.text);
    assert_ne!(b.cookie("acct_sid").as_deref(), Some(removed_sid.as_str()));
    let me = app
        .get("/api/v1/members", b.cookie("acct_sid").as_deref())
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(!me.text.contains(COMPANY), "no longer in the company");

    // After a session's lifetime the old cookie tells nothing any more.
    clock.advance(account::auth::SESSION_ABSOLUTE_SECS + 1);
    let r = sign_in_page(&app, Some(&removed_sid), "en").await;
    assert!(!tells(&r), "{}", r.text);

    app.stop().await;
}
