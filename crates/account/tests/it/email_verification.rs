//! Confirm your email and Change name and email: sign-up mails a
//! confirmation link (the account still signs in and creates keys),
//! *Resend* mails another, `GET /api/v1/account` shows `email_verified`; a
//! new email takes effect only when its link is used and the old address
//! is told. Used, expired and forged links get their own page. On both
//! backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{form_input, unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    sign_up_mails_a_confirmation_link,
    resend_and_refused_links,
    change_name_and_email,
    a_stolen_session_cannot_take_the_account_by_email,
);

/// The confirmation messages queued for `email`, oldest first.
async fn messages(app: &App, email: &str) -> Vec<account::store::MessageRow> {
    account::store::unsent_messages(&app.running.state.db, 0, i64::MAX, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.recipient == email)
        .collect()
}

/// The token of the newest confirmation link mailed to `email`.
async fn token(app: &App, email: &str) -> String {
    let m = messages(app, email)
        .await
        .into_iter()
        .rfind(|m| m.verification_id.is_some())
        .expect("a confirmation link was queued");
    let body = account::outbox::message_body(&app.running.state, &m);
    let at = body.find("/confirm-email/").unwrap() + "/confirm-email/".len();
    body[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

async fn me(app: &App, sid: &str) -> serde_json::Value {
    let r = app.get("/api/v1/account", Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.json()["account"].clone()
}

/// Opens the link's page and presses its button; the answer.
async fn use_link(browser: &Browser, token: &str) -> crate::common::Resp {
    let path = format!("/confirm-email/{token}");
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = form_input(&page.text, &path, "csrf").unwrap();
    browser.post_button(&path, &csrf).await
}

async fn sign_up_mails_a_confirmation_link(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("confirm");
    let r = app.signup_raw(&email, PASSWORD, "Confirm Co").await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json()["account"]["email_verified"], false);
    let sid = r.cookie("acct_sid").unwrap();
    assert_eq!(me(&app, &sid).await["email_verified"], false);
    // Unconfirmed, the walk goes on: keys can be made.
    app.create_key(&sid, json!({"name": "Amazon Sales Channel"}))
        .await;
    let link = token(&app, &email).await;

    let browser = Browser::new(&app);
    assert_eq!(
        browser.login(&email, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let page = browser.get("/account").await;
    assert!(page.text.contains("Confirm your email"), "{}", page.text);
    assert!(page.text.contains("action=\"/account/email-verification\""));

    let r = use_link(&browser, &link).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some("/account?notice=email_confirmed"));
    assert_eq!(me(&app, &sid).await["email_verified"], true);
    // A member who joined by an invitation's mailed link is confirmed already.
    let (_, member) = app.join(&sid, &unique_email("invited")).await;
    assert_eq!(me(&app, &member).await["email_verified"], true);
    let page = browser.get("/account?notice=email_confirmed").await;
    assert!(page.text.contains("Your email is confirmed."));
    assert!(!page.text.contains("action=\"/account/email-verification\""));
    // Once only.
    let page = browser.get(&format!("/confirm-email/{link}")).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.text.contains("This confirmation link no longer works"));
    let stored = db.stored_bytes().await;
    assert!(
        !crate::common::contains_bytes(&stored, link.as_bytes()),
        "the token is stored"
    );
    assert!(!crate::common::contains_bytes(
        &stored,
        link.split_once('.').unwrap().1.as_bytes()
    ));
    app.stop().await;
}

async fn resend_and_refused_links(db: &TestDb) {
    let (app, clock) = App::start_without_outbox(db).await;
    let email = unique_email("resend");
    let sid = app.signup(&email, "Resend Co").await;
    let first = token(&app, &email).await;
    let r = app
        .post_json("/api/v1/account/email-verification", Some(&sid), &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let second = token(&app, &email).await;
    assert_ne!(first, second);
    let r = app
        .post_json("/api/v1/account/email-verification", None, &json!({}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    assert_eq!(me(&app, &sid).await["email_verified"], false);
    // Expired after three days; forged never worked.
    clock.advance(3 * 86400);
    let browser = Browser::new(&app);
    let (id, tag) = second.split_once('.').unwrap();
    let reset_kind = app
        .running
        .state
        .cfg
        .link_key
        .token_for(account::link_key::Purpose::PasswordReset, id);
    for bad in [
        second.as_str(),
        &format!("{id}.{}x", &tag[..tag.len() - 1]),
        &reset_kind,
        "nonsense",
    ] {
        let page = browser.get(&format!("/confirm-email/{bad}")).await;
        assert_eq!(page.status, StatusCode::GONE, "{bad}: {}", page.text);
        assert!(page.text.contains("This confirmation link no longer works"));
    }
    // The Dutch page.
    let page = Browser::with_language(&app, "nl")
        .get("/confirm-email/nonsense")
        .await;
    assert!(page.text.contains("Deze bevestigingslink werkt niet meer"));
    app.stop().await;
}

async fn change_name_and_email(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let old = unique_email("old");
    let new = unique_email("new");
    let sid = app.signup(&old, "Moving Co").await;
    let taken = unique_email("taken");
    app.signup(&taken, "Other Co").await;
    let browser = Browser::new(&app);
    assert_eq!(
        browser.login(&old, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let page = browser.get("/account").await;
    assert!(page.text.contains("Change name and email"));
    let csrf = form_input(&page.text, "/account/profile", "csrf").unwrap();

    // Another account's email: refused on the form.
    let r = browser
        .post_form(
            "/account/profile",
            &[
                ("csrf", &csrf),
                ("name", "Moved"),
                ("email", &taken),
                ("profile_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("An account with this email already exists"));

    let r = browser
        .post_form(
            "/account/profile",
            &[
                ("csrf", &csrf),
                ("name", "New Name"),
                ("email", &new),
                ("profile_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some("/account?notice=email_change_sent"));
    // The name at once; the email not yet.
    let a = me(&app, &sid).await;
    assert_eq!(a["name"], "New Name");
    assert_eq!(a["email"], old.as_str());
    assert_eq!(app.login_raw(&old, PASSWORD).await.status, StatusCode::OK);

    let link = token(&app, &new).await;
    let r = use_link(&browser, &link).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let a = me(&app, &sid).await;
    assert_eq!(a["email"], new.as_str());
    assert_eq!(a["email_verified"], true);
    assert_eq!(app.login_raw(&new, PASSWORD).await.status, StatusCode::OK);
    assert_eq!(
        app.login_raw(&old, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The old address is told.
    let told: Vec<_> = messages(&app, &old)
        .await
        .into_iter()
        .filter(|m| m.kind == account::email_verification::CHANGED_KIND)
        .collect();
    assert_eq!(told.len(), 1);
    assert!(told[0].body.contains(&new));
    let r = app.get("/api/v1/audit", Some(&sid)).await;
    assert!(r.text.contains("email.changed"), "{}", r.text);
    assert!(r.text.contains("profile.name_changed"), "{}", r.text);
    app.stop().await;
}

/// Asks for a change of the email to `new` on Account Information, with
/// `password` (none: the field left empty); the answer.
async fn ask_change(browser: &Browser, new: &str, password: &str) -> crate::common::Resp {
    let page = browser.get("/account").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let csrf = form_input(&page.text, "/account/profile", "csrf").unwrap();
    browser
        .post_form(
            "/account/profile",
            &[
                ("csrf", &csrf),
                ("name", "Owner"),
                ("email", new),
                ("profile_password", password),
            ],
        )
        .await
}

/// The cancel link in the newest notice of a requested change mailed to `old`.
async fn cancel_link(app: &App, old: &str) -> String {
    let m = messages(app, old)
        .await
        .into_iter()
        .rfind(|m| m.kind == account::email_verification::REQUESTED_KIND)
        .expect("the old address was told");
    let body = account::outbox::message_body(&app.running.state, &m);
    let at = body.find("/cancel-email-change/").expect("a cancel link");
    body[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

/// The probe's attack: with only a stolen session cookie, the email moved to
/// the attacker's address, the change outlived sign-out and a password
/// change, and confirming it then resetting the password took the account.
/// Now: the current password is needed; the old address is told at once,
/// with a link that cancels; and sign-out, a password change or reset and
/// *Sign out other browsers* each end the pending change.
async fn a_stolen_session_cannot_take_the_account_by_email(db: &TestDb) {
    let (app, clock) = App::start_without_outbox(db).await;
    let owner = unique_email("owner");
    let attacker = unique_email("attacker");
    let sid = app.signup(&owner, "Target Co").await;
    let thief = Browser::new(&app);
    assert_eq!(
        thief.login(&owner, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    // The session alone: refused, nothing mailed to the attacker.
    for password in ["", "not the password at all"] {
        let r = ask_change(&thief, &attacker, password).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert!(
            r.text.contains("id=\"profile_password-error\""),
            "{}",
            r.text
        );
        assert!(messages(&app, &attacker).await.is_empty(), "nothing mailed");
    }
    assert_eq!(me(&app, &sid).await["email"], owner.as_str());

    // Each of these ends a change asked for with the password.
    let mut owner_password = PASSWORD.to_owned();
    for ends in ["sign out", "password change", "other browsers", "reset"] {
        let browser = Browser::new(&app);
        let r = browser.login(&owner, &owner_password).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{ends}: {}", r.text);
        let r = ask_change(&browser, &attacker, &owner_password).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{ends}: {}", r.text);
        // The old address is told at request time, with a way to cancel.
        // (Unsent messages only: one whose change ended is not sent any more.)
        let told: Vec<_> = messages(&app, &owner)
            .await
            .into_iter()
            .filter(|m| m.kind == account::email_verification::REQUESTED_KIND)
            .collect();
        assert_eq!(told.len(), 1, "{ends}: the old address is told at once");
        assert!(
            told[0].body.contains(&attacker),
            "{ends}: names the new address"
        );
        let link = token(&app, &attacker).await;
        match ends {
            "sign out" => {
                let r = browser.submit("/account", "/logout", &[]).await;
                assert_eq!(r.status, StatusCode::SEE_OTHER);
            }
            "password change" => {
                let page = browser.get("/account").await;
                let csrf = form_input(&page.text, "/account/password", "csrf").unwrap();
                let new_password = format!("{PASSWORD}-changed");
                let r = browser
                    .post_form(
                        "/account/password",
                        &[
                            ("csrf", &csrf),
                            ("current_password", &owner_password),
                            ("new_password", &new_password),
                        ],
                    )
                    .await;
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
                owner_password = new_password;
            }
            "other browsers" => {
                let page = browser.get("/account").await;
                let path = "/account/sessions/revoke-others";
                let csrf = form_input(&page.text, path, "csrf").unwrap();
                let r = browser.post_button(path, &csrf).await;
                assert_eq!(r.status, StatusCode::SEE_OTHER);
            }
            _ => {
                assert_eq!(app.request_reset(&owner).await.status, StatusCode::ACCEPTED);
                let reset = app.reset_token(&owner).await;
                let new_password = format!("{PASSWORD}-reset");
                let r = app.confirm_reset(&reset, &new_password).await;
                assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
                owner_password = new_password;
            }
        }
        let r = thief.get(&format!("/confirm-email/{link}")).await;
        assert_eq!(
            r.status,
            StatusCode::GONE,
            "{ends}: the change ended: {}",
            r.text
        );
        let r = app.login_raw(&owner, &owner_password).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{ends}: the owner keeps the account"
        );
    }

    // The old address's link cancels a change: its page, its button, done.
    // (An hour later: confirmation mails per account are throttled.)
    clock.advance(3600);
    let browser = Browser::new(&app);
    assert_eq!(
        browser.login(&owner, &owner_password).await.status,
        StatusCode::SEE_OTHER
    );
    let r = ask_change(&browser, &attacker, &owner_password).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let confirm = token(&app, &attacker).await;
    let cancel = cancel_link(&app, &owner).await;
    let stranger = Browser::new(&app);
    let page = stranger.get(&cancel).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(&attacker), "names the address asked for");
    let csrf = form_input(&page.text, &cancel, "csrf").unwrap();
    let r = stranger.post_button(&cancel, &csrf).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("The change was cancelled"), "{}", r.text);
    let r = thief.get(&format!("/confirm-email/{confirm}")).await;
    assert_eq!(
        r.status,
        StatusCode::GONE,
        "the cancelled change cannot be confirmed"
    );
    let again = stranger.get(&cancel).await;
    assert_eq!(again.status, StatusCode::GONE, "the cancel link works once");
    assert!(
        again.text.contains("This link no longer works"),
        "{}",
        again.text
    );
    // A confirmation token is no cancel token, nor the other way round.
    let swapped = stranger
        .get(&format!("/cancel-email-change/{confirm}"))
        .await;
    assert_eq!(swapped.status, StatusCode::GONE);
    // The owner still has the account and its address; the audit says what happened.
    let r = app.login_raw(&owner, &owner_password).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sid = r.cookie("acct_sid").expect("a session");
    assert_eq!(me(&app, &sid).await["email"], owner.as_str());
    let r = app.get("/api/v1/audit", Some(&sid)).await;
    assert!(r.text.contains("email.change_cancelled"), "{}", r.text);
    assert!(!r.text.contains("\"email.changed\""), "{}", r.text);
    app.stop().await;
}
