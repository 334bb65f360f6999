//! Two-step sign-in through the pages, as a browser uses them (CSRF forms):
//! *Two-step sign-in* after the password, the setup a company's requirement
//! asks for right after it, and the section on Account Information. No
//! secret or recovery code is on any page after setup. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::two_factor::{code, enable, next_step};
use crate::common::{form_input, unique_email, App, Browser, Resp, TestDb};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    two_factor_pages_sign_in_asks_for_the_code,
    two_factor_pages_required_setup_comes_right_after_the_password,
    two_factor_pages_account_information_manages_it,
    two_factor_pages_joining_a_company_that_requires_it_sets_it_up_first,
    two_factor_pages_a_recent_second_step_confirms_changes,
);

const PORTAL: &str = "/account/api-portal";

/// The secret a setup page shows as text (in groups of four).
fn shown_secret(page: &str) -> String {
    let start = page
        .find("<code class=\"secret\">")
        .expect("the secret as text")
        + "<code class=\"secret\">".len();
    let end = start + page[start..].find("</code>").unwrap();
    page[start..end].replace(' ', "")
}

/// The recovery codes a page lists.
fn shown_codes(page: &str) -> Vec<String> {
    page.split("<li><code class=\"secret\">")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_owned())
        .collect()
}

/// Posts the form of `page` that posts to `action`, its CSRF token first.
async fn post(b: &Browser, page: &Resp, action: &str, fields: &[(&str, &str)]) -> Resp {
    let csrf = form_input(&page.text, action, "csrf")
        .unwrap_or_else(|| panic!("a form posting to {action}: {}", page.text));
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post_form(action, &form).await
}

async fn two_factor_pages_sign_in_asks_for_the_code(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-page");
    let sid = app.signup(&email, "Page Co").await;
    let (secret, codes) = enable(&app, &sid).await;

    let b = Browser::new(&app);
    let r = b.login(&email, crate::common::PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let to = r.location().unwrap().to_owned();
    assert!(to.starts_with("/login/two-factor?next="), "{to}");
    assert!(
        b.cookie("acct_sid").is_none(),
        "no session after the password"
    );
    assert!(b.cookie("acct_2fa").is_some());
    // Not signed in yet.
    assert_eq!(b.get(PORTAL).await.status, StatusCode::SEE_OTHER);

    let page = b.get(&to).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for text in [
        "<h1>Two-step sign-in</h1>",
        "Authentication code",
        ">Verify<",
        "Use a recovery code",
    ] {
        assert!(page.text.contains(text), "{text}: {}", page.text);
    }
    assert!(page.text.contains("<label for=\"code\">") && page.text.contains("id=\"code\""));
    assert!(
        !page.text.contains("Use a passkey"),
        "no passkey: none offered"
    );

    // A wrong code: the page again, 401, with the error tied to the field.
    let right = code(&app, &secret);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = post(
        &b,
        &page,
        "/login/two-factor",
        &[("code", wrong), ("next", PORTAL)],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(r.text.contains("aria-invalid=\"true\"") && r.text.contains("code-error"));
    assert!(b.cookie("acct_sid").is_none());
    let r = post(
        &b,
        &r,
        "/login/two-factor",
        &[("code", &right), ("next", PORTAL)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some(PORTAL));
    assert!(b.cookie("acct_sid").is_some() && b.cookie("acct_2fa").is_none());
    assert_eq!(b.get(PORTAL).await.status, StatusCode::OK);

    // With a recovery code instead.
    let b = Browser::new(&app);
    b.login(&email, crate::common::PASSWORD).await;
    let page = b.get("/login/two-factor?method=recovery").await;
    assert!(page
        .text
        .contains("<label for=\"recovery_code\">Recovery code</label>"));
    assert!(page.text.contains("Use your authenticator app"));
    let r = post(
        &b,
        &page,
        "/login/two-factor",
        &[("recovery_code", &codes[0])],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(b.cookie("acct_sid").is_some());

    // Without a pending sign-in the page sends back to sign in.
    let r = Browser::new(&app).get("/login/two-factor").await;
    assert!(r
        .location()
        .unwrap()
        .starts_with("/login?notice=two_factor_expired"));
    app.stop().await;
}

async fn two_factor_pages_required_setup_comes_right_after_the_password(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let owner = unique_email("tfa-page-owner");
    let owner_sid = app.signup(&owner, "Page Co").await;
    let member = unique_email("tfa-page-member");
    app.join(&owner_sid, &member).await;
    let req = app.http.patch(app.url("/api/v1/company"));
    let r = app
        .send(
            req.json(&json!({"require_two_factor": true})),
            Some(&owner_sid),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let b = Browser::new(&app);
    let r = b.login(&member, crate::common::PASSWORD).await;
    let to = r.location().unwrap().to_owned();
    assert!(to.starts_with("/login/two-factor/setup"), "{to}");
    // The verify page leads there too, and nothing else opens.
    let r = b.get("/login/two-factor").await;
    assert!(r.location().unwrap().starts_with("/login/two-factor/setup"));
    assert_eq!(b.get("/account").await.status, StatusCode::SEE_OTHER);

    let page = b.get(&to).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Set up authenticator app"));
    assert!(page.text.contains("<svg role=\"img\" aria-label=\"QR code"));
    let secret = shown_secret(&page.text);
    assert_eq!(secret.len(), 32);
    // Reloaded, the same secret (the app scanned stays right).
    assert_eq!(shown_secret(&b.get(&to).await.text), secret);

    let r = post(&b, &page, "/login/two-factor/setup", &[("code", "12345")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b.cookie("acct_sid").is_none());
    let r = post(
        &b,
        &page,
        "/login/two-factor/setup",
        &[("code", &code(&app, &secret))],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let codes = shown_codes(&r.text);
    assert_eq!(codes.len(), 10, "{}", r.text);
    assert!(r.text.contains("Recovery codes") && r.text.contains("Continue"));
    assert!(b.cookie("acct_sid").is_some());

    // After setup: no secret and no code on any page.
    for path in ["/account", "/account/members", PORTAL] {
        let p = b.get(path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}");
        assert!(!p.text.contains(&secret), "{path}: the secret");
        assert!(
            codes.iter().all(|c| !p.text.contains(c.as_str())),
            "{path}: a code"
        );
    }
    let account = b.get("/account").await;
    assert!(account
        .text
        .contains("Your company requires two-step sign-in."));
    assert!(!account
        .text
        .contains("action=\"/account/two-factor/turn-off\""));
    // Members shows who has it, and the owner's switch.
    let members = b.get("/account/members").await;
    assert!(members
        .text
        .contains("<th scope=\"col\">Two-step sign-in</th>"));
    assert!(
        !members.text.contains("Stop requiring two-step sign-in"),
        "members cannot"
    );
    app.stop().await;
}

async fn two_factor_pages_account_information_manages_it(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-page-account");
    app.signup(&email, "Page Co").await;
    let b = Browser::new(&app);
    b.login(&email, crate::common::PASSWORD).await;
    let account = b.get("/account").await;
    assert!(account
        .text
        .contains("<h2 id=\"two-factor-title\">Two-step sign-in</h2>"));
    assert!(account.text.contains("href=\"/account/two-factor/setup\""));

    let page = b.get("/account/two-factor/setup").await;
    let secret = shown_secret(&page.text);
    let action = "/account/two-factor/setup";
    let r = post(&b, &page, action, &[("code", &code(&app, &secret))]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let codes = shown_codes(&r.text);
    assert_eq!(codes.len(), 10);

    let account = b.get("/account?notice=two_factor_on").await;
    assert!(account.text.contains("Two-step sign-in is on."));
    assert!(account.text.contains("Recovery codes left: 10"));
    assert!(!account.text.contains(&secret));

    // New recovery codes: a wrong code is refused beside its field.
    next_step(&app);
    let regen = "/account/two-factor/recovery-codes";
    let r = post(&b, &account, regen, &[("code", "nonsense")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(r.text.contains("regen_code-error"));
    let r = post(&b, &account, regen, &[("code", &codes[0])]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(shown_codes(&r.text).len(), 10);

    // Turn off, with a current code; the owner's requirement switch.
    let account = b.get("/account").await;
    let off = "/account/two-factor/turn-off";
    let r = post(&b, &account, off, &[("code", &code(&app, &secret))]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let account = b.get(r.location().unwrap()).await;
    assert!(
        account.text.contains("Two-step sign-in is off."),
        "{}",
        account.text
    );

    let members = b.get("/account/members").await;
    let r = post(
        &b,
        &members,
        "/account/members/two-factor",
        &[("require", "on")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let members = b.get(r.location().unwrap()).await;
    assert!(members
        .text
        .contains("Two-step sign-in is now required of every member."));
    assert!(members.text.contains("Stop requiring two-step sign-in"));
    app.stop().await;
}

async fn two_factor_pages_joining_a_company_that_requires_it_sets_it_up_first(db: &TestDb) {
    let (app, _clock) = App::start_clocked(db).await;
    let owner_sid = app.signup(&unique_email("tfa-join-owner"), "Join Co").await;
    let req = app.http.patch(app.url("/api/v1/company"));
    let r = app
        .send(
            req.json(&json!({"require_two_factor": true})),
            Some(&owner_sid),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let email = unique_email("tfa-join");
    let (_, token, _) = crate::common::members::invite(&app, &owner_sid, &email, "member").await;

    let b = Browser::new(&app);
    let path = format!("/join/{token}");
    let page = b.get(&path).await;
    let fields = [
        ("name", "New Member"),
        ("password", crate::common::PASSWORD),
    ];
    let r = post(&b, &page, &path, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(r
        .location()
        .unwrap()
        .starts_with("/login/two-factor/setup?next="));
    assert!(
        b.cookie("acct_sid").is_none(),
        "no session before the setup"
    );
    let page = b.get(r.location().unwrap()).await;
    let secret = shown_secret(&page.text);
    let action = "/login/two-factor/setup";
    let r = post(&b, &page, action, &[("code", &code(&app, &secret))]).await;
    assert_eq!(shown_codes(&r.text).len(), 10, "{}", r.text);
    assert!(b.cookie("acct_sid").is_some());
    app.stop().await;
}

/// Signed in with a second step, the pages take changes without a code for
/// 10 minutes; after that a code is needed again.
async fn two_factor_pages_a_recent_second_step_confirms_changes(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let email = unique_email("tfa-recent");
    let sid = app.signup(&email, "Recent Co").await;
    let (secret, _) = enable(&app, &sid).await;

    // A session signed in with the password only (before two-step was on)
    // proved no second step: an empty code is refused.
    let regen = "/account/two-factor/recovery-codes";
    let plain = Browser::new(&app);
    plain.set_cookie("acct_sid", &sid);
    let account = plain.get("/account").await;
    let r = post(&plain, &account, regen, &[("code", "")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);

    // Signed in with the app's code: no code needed.
    let b = Browser::new(&app);
    let r = b.login(&email, crate::common::PASSWORD).await;
    let to = r.location().unwrap().to_owned();
    let page = b.get(&to).await;
    let r = post(
        &b,
        &page,
        "/login/two-factor",
        &[("code", &code(&app, &secret))],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let account = b.get("/account").await;
    let r = post(&b, &account, regen, &[("code", "")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(shown_codes(&r.text).len(), 10);

    // Eleven minutes on, a code again.
    clock.advance(11 * 60);
    let account = b.get("/account").await;
    let r = post(&b, &account, regen, &[("code", "")]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    app.stop().await;
}
