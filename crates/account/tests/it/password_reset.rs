//! Forgot your password?: `POST /api/v1/password-reset` answers 202 alike
//! for every email and queues a single-use link valid one hour; the link
//! sets a new password and ends every session of the account. Used, expired
//! and forged links are refused (410 `link_expired`, and a page of their
//! own); neither the token nor the password is stored; the throttles hold
//! under parallel requests. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::smtp::{body_text, smtp_sink};
use crate::common::{
    form_input, hidden_input, unique_email, App, Browser, TestDb, CLOCK_START, PASSWORD,
};
use reqwest::StatusCode;
use serde_json::json;
use web::ManualClock;

both_backends!(
    a_reset_sets_the_password_and_ends_every_session,
    used_expired_and_forged_links_are_refused,
    an_unknown_email_gets_the_same_answer,
    no_token_or_password_is_stored,
    the_reset_throttles_hold_under_parallel_requests,
    the_link_is_mailed_over_smtp,
    forgot_your_password_through_the_pages,
    forgot_your_password_in_dutch,
);

const NEW_PASSWORD: &str = "a brand new passphrase 42";

async fn a_reset_sets_the_password_and_ends_every_session(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("reset");
    let sid1 = app.signup(&email, "Reset Co").await;
    let sid2 = app
        .login_raw(&email, PASSWORD)
        .await
        .cookie("acct_sid")
        .unwrap();

    let r = app.request_reset(&email).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let token = app.reset_token(&email).await;
    // Asking is not using: the sessions still work.
    assert_eq!(app.get("/api/v1/keys", Some(&sid1)).await.status, 200);

    let r = app.confirm_reset(&token, NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for sid in [&sid1, &sid2] {
        let r = app.get("/api/v1/keys", Some(sid)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a session survived");
        let page = app.get("/account", Some(sid)).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "the page still opens");
    }
    assert_eq!(
        app.login_raw(&email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app.login_raw(&email, NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sid = r.cookie("acct_sid").unwrap();

    // Both the request and the reset are in the audit trail, with no secret.
    let audit = app.get("/api/v1/audit", Some(&sid)).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    let actions: Vec<String> = audit.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actions.contains(&"password.reset".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"password.reset_requested".to_owned()),
        "{actions:?}"
    );
    assert!(!audit.text.contains(&token) && !audit.text.contains(NEW_PASSWORD));
    app.stop().await;
}

/// A 410 `link_expired` in the JSON error format.
fn assert_link_expired(r: &crate::common::Resp, what: &str) {
    assert_eq!(r.status, StatusCode::GONE, "{what}: {}", r.text);
    assert_eq!(r.json()["error"]["code"], "link_expired", "{what}");
}

/// The link's own page: 410 and the words for a link that no longer works.
async fn assert_link_page(app: &App, token: &str, what: &str) {
    let page = Browser::new(app)
        .get(&format!("/password-reset/{token}"))
        .await;
    assert_eq!(page.status, StatusCode::GONE, "{what}: {}", page.text);
    assert!(page.text.contains("This link no longer works"), "{what}");
    assert!(!page.text.contains("name=\"password\""), "{what}: a form");
}

async fn used_expired_and_forged_links_are_refused(db: &TestDb) {
    let (app, clock) = App::start_without_outbox(db).await;
    let email = unique_email("links");
    app.signup(&email, "Links Co").await;

    // Used: once only.
    app.request_reset(&email).await;
    let used = app.reset_token(&email).await;
    let page = Browser::new(&app)
        .get(&format!("/password-reset/{used}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(
        app.confirm_reset(&used, NEW_PASSWORD).await.status,
        StatusCode::NO_CONTENT
    );
    assert_link_expired(
        &app.confirm_reset(&used, "yet another passphrase").await,
        "used",
    );
    assert_link_page(&app, &used, "used").await;
    assert_eq!(
        app.login_raw(&email, NEW_PASSWORD).await.status,
        StatusCode::OK,
        "the second use changed nothing"
    );

    // Expired: one hour, by the service's clock.
    app.request_reset(&email).await;
    let expiring = app.reset_token(&email).await;
    assert_ne!(expiring, used);
    clock.advance(3600);
    assert_link_expired(&app.confirm_reset(&expiring, PASSWORD).await, "expired");
    assert_link_page(&app, &expiring, "expired").await;

    // Forged: another tag, another id, an invitation's token, garbage.
    let (id, tag) = expiring.split_once('.').unwrap();
    let flipped = format!(
        "{id}.{}{}",
        if tag.starts_with('A') { "B" } else { "A" },
        &tag[1..]
    );
    let other_id = format!("pwr_doesnotexist.{tag}");
    let owner = app.signup(&unique_email("owner"), "Inviting Co").await;
    let inv = app
        .post_json(
            "/api/v1/invitations",
            Some(&owner),
            &json!({"email": unique_email("invitee")}),
        )
        .await;
    let inv_token = inv.json()["url"]
        .as_str()
        .unwrap()
        .split("/join/")
        .nth(1)
        .unwrap()
        .to_owned();
    for forged in [flipped.as_str(), &other_id, &inv_token, "nonsense", "a.b"] {
        assert_link_expired(&app.confirm_reset(forged, PASSWORD).await, forged);
        assert_link_page(&app, forged, forged).await;
    }
    assert_eq!(
        app.login_raw(&email, NEW_PASSWORD).await.status,
        StatusCode::OK,
        "no refused link changed the password"
    );
    app.stop().await;
}

async fn an_unknown_email_gets_the_same_answer(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let known = unique_email("known");
    app.signup(&known, "Known Co").await;
    let unknown = unique_email("unknown");

    let a = app.request_reset(&known).await;
    let b = app.request_reset(&unknown).await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert_eq!(b.status, StatusCode::ACCEPTED);
    assert_eq!(a.text.as_bytes(), b.text.as_bytes(), "the bodies differ");
    let names = |r: &crate::common::Resp| {
        let mut n: Vec<String> = r
            .headers
            .keys()
            .filter(|k| *k != "date" && *k != "x-request-id")
            .map(|k| format!("{k}={:?}", r.headers[k]))
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&a), names(&b), "the headers differ");

    // The known one is mailed, the unknown one not.
    app.reset_token(&known).await;
    assert!(app.reset_messages(&unknown).await.is_empty());
    // A malformed email says nothing about accounts either way.
    let r = app.request_reset("not an email").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    app.stop().await;
}

async fn no_token_or_password_is_stored(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("stored");
    app.signup(&email, "Stored Co").await;
    app.request_reset(&email).await;
    let token = app.reset_token(&email).await;
    // A second, unused link too.
    app.request_reset(&email).await;
    let pending = loop {
        let t = app.reset_token(&email).await;
        if t != token {
            break t;
        }
    };
    assert_eq!(
        app.confirm_reset(&token, NEW_PASSWORD).await.status,
        StatusCode::NO_CONTENT
    );
    let stored = db.stored_bytes().await;
    for (what, secret) in [
        ("token", token.as_str()),
        ("its tag", token.split_once('.').unwrap().1),
        ("the unused token", pending.as_str()),
        ("its tag", pending.split_once('.').unwrap().1),
        ("the new password", NEW_PASSWORD),
    ] {
        assert!(
            !crate::common::contains_bytes(&stored, secret.as_bytes()),
            "{what} is stored"
        );
    }
    // The reset made the other link useless.
    assert_link_expired(&app.confirm_reset(&pending, PASSWORD).await, "pending");
    app.stop().await;
}

async fn the_reset_throttles_hold_under_parallel_requests(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("flood");
    app.signup(&email, "Flood Co").await;
    let per_email = account::limits::RESETS_PER_EMAIL as usize;
    let per_ip = account::limits::RESETS_PER_IP as usize;

    // One email, many requests at once.
    let answers =
        futures_util::future::join_all((0..per_email * 4).map(|_| app.request_reset(&email))).await;
    let accepted = answers
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    let limited = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(accepted, per_email, "accepted for one email");
    assert_eq!(limited, per_email * 3);
    assert!(answers
        .iter()
        .all(|r| r.status == StatusCode::ACCEPTED || r.headers.contains_key("retry-after")));

    // Many emails from one address at once: the address's limit holds.
    let emails: Vec<String> = (0..per_ip * 2)
        .map(|i| unique_email(&format!("ip{i}")))
        .collect();
    let answers = futures_util::future::join_all(emails.iter().map(|e| app.request_reset(e))).await;
    let accepted = answers
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    // The first email's accepted requests count against the address too
    // (a refused one gives the address's attempt back).
    assert_eq!(accepted, per_ip - per_email, "accepted from one address");
    // Only as many links as were accepted were queued for the known email.
    for _ in 0..500 {
        if app.reset_messages(&email).await.len() == per_email {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(app.reset_messages(&email).await.len(), per_email);
    app.stop().await;
}

async fn the_link_is_mailed_over_smtp(db: &TestDb) {
    let (port, inbox) = smtp_sink().await;
    let smtp = account::outbox::SmtpConfig::parse(
        &format!("smtp://127.0.0.1:{port}"),
        "keys@commerce.test",
    )
    .unwrap();
    let clock = ManualClock::new(CLOCK_START);
    let cfg = account::Config {
        smtp: Some(smtp),
        outbox_every: None,
        ..account::Config::default()
    };
    let app = App::start_with(db, &clock, cfg).await;
    let email = unique_email("mailed");
    app.signup(&email, "Mailed Co").await;
    app.request_reset(&email).await;
    let token = app.reset_token(&email).await;
    let pass = account::outbox::run_once(&app.running.state).await.unwrap();
    // The reset link, and the sign-up's email confirmation.
    assert_eq!(pass.sent, 2, "{pass:?}");
    let mails: Vec<_> = inbox
        .lock()
        .unwrap()
        .iter()
        .filter(|m| body_text(m).contains("/password-reset/"))
        .cloned()
        .collect();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, [format!("<{email}>")]);
    let text = body_text(&mails[0]);
    assert!(
        text.contains(&format!("{}/password-reset/{token}", app.base)),
        "the mail holds the link: {text}"
    );
    // Sent once: another pass sends nothing.
    let pass = account::outbox::run_once(&app.running.state).await.unwrap();
    assert_eq!(pass.sent, 0);
    assert_eq!(
        app.confirm_reset(&token, NEW_PASSWORD).await.status,
        StatusCode::NO_CONTENT
    );
    app.stop().await;
}

/// Sign in → Forgot your password? → the link → a new password → sign in.
async fn walk_the_pages(app: &App, browser: &Browser, email: &str, words: [&str; 4]) {
    let [forgot, sent, set_title, done] = words;
    let login = browser.get("/login").await;
    assert!(login.text.contains(forgot), "the sign-in page links it");
    assert!(login.text.contains("href=\"/password-reset\""));
    let page = browser.get("/password-reset").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden_input(&page.text, "csrf").unwrap();
    let r = browser
        .post_form("/password-reset", &[("csrf", &csrf), ("email", email)])
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert!(r.text.contains(sent), "{}", r.text);

    let token = app.reset_token(email).await;
    let path = format!("/password-reset/{token}");
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(set_title), "{}", page.text);
    let csrf = form_input(&page.text, &path, "csrf").unwrap();
    // Too short first: the form says so and the link still works.
    let r = browser
        .post_form(&path, &[("csrf", &csrf), ("password", "short")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = browser
        .post_form(&path, &[("csrf", &csrf), ("password", NEW_PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let to = r.location().unwrap().to_owned();
    assert_eq!(to, "/login?notice=password_reset");
    let login = browser.get(&to).await;
    assert!(login.text.contains(done), "{}", login.text);
    let r = browser.login(email, NEW_PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "signed in: {}", r.text);
    // The used link has its own page now.
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::GONE);
}

async fn forgot_your_password_through_the_pages(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("pages");
    app.signup(&email, "Pages Co").await;
    let browser = Browser::new(&app);
    walk_the_pages(
        &app,
        &browser,
        &email,
        [
            "Forgot your password?",
            "a link to set a new password is on its way",
            "Set a new password",
            "Your new password is set",
        ],
    )
    .await;
    app.stop().await;
}

async fn forgot_your_password_in_dutch(db: &TestDb) {
    let (app, _clock) = App::start_without_outbox(db).await;
    let email = unique_email("nl");
    app.signup(&email, "Dutch Co").await;
    let browser = Browser::with_language(&app, "nl");
    walk_the_pages(
        &app,
        &browser,
        &email,
        [
            "Wachtwoord vergeten?",
            "een link om een nieuw wachtwoord in te stellen onderweg",
            "Stel een nieuw wachtwoord in",
            "Uw nieuwe wachtwoord is ingesteld",
        ],
    )
    .await;
    let page = Browser::with_language(&app, "nl")
        .get("/password-reset/nonsense")
        .await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.text.contains("Deze link werkt niet meer"));
    app.stop().await;
}
