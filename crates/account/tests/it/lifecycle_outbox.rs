//! Expiry notices through the outbox: 14 and 3 days before a key expires,
//! each sent exactly once over SMTP to a real SMTP server on loopback (a
//! small sink written here with tokio). The worker's time is the service's
//! clock and its passes are driven by the test. Without SMTP the messages
//! wait in the outbox page. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::sync::{Arc, Mutex};

use crate::common::smtp::{body_text, smtp_sink, Received};
use crate::common::{find_keys, unique_email, App, Browser, TestDb, CLOCK_START, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;
use web::ManualClock;

both_backends!(
    each_notice_is_sent_exactly_once,
    without_smtp_the_outbox_is_shown,
    invitations_are_mailed_once_with_a_working_link,
);

const DAY: i64 = 86400;

async fn start(db: &TestDb, clock: &ManualClock, smtp: Option<account::outbox::SmtpConfig>) -> App {
    let cfg = account::Config {
        smtp,
        outbox_every: None,
        ..account::Config::default()
    };
    App::start_with(db, clock, cfg).await
}

async fn key_expiring(app: &App, sid: &str, name: &str, in_secs: i64, now: i64) -> String {
    let k = app
        .create_key(
            sid,
            json!({"name": name, "expires_at": web::clock::rfc3339(now + in_secs)}),
        )
        .await;
    k["id"].as_str().unwrap().to_owned()
}

/// The subjects received so far, sorted.
fn subjects(inbox: &Arc<Mutex<Vec<Received>>>) -> Vec<String> {
    let mut s: Vec<String> = inbox
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.header("Subject").unwrap_or_default())
        .collect();
    s.sort();
    s
}

/// The subject of the email confirmation every sign-up mails.
const CONFIRM_SUBJECT: &str = "Confirm your email for Commerce Account";

/// Sends the sign-up's email confirmation and forgets it, so a scenario
/// counts only its own messages.
async fn drain_signup_mail(app: &App, inbox: &Arc<Mutex<Vec<Received>>>) {
    let pass = account::outbox::run_once(&app.running.state).await.unwrap();
    assert_eq!(pass.sent, 1, "{pass:?}");
    let mut got = inbox.lock().unwrap();
    assert_eq!(
        got.iter()
            .map(|m| m.header("Subject").unwrap_or_default())
            .collect::<Vec<_>>(),
        [CONFIRM_SUBJECT]
    );
    got.clear();
}

fn subject(name: &str) -> String {
    format!("Your API key \"{name}\" expires soon")
}

async fn each_notice_is_sent_exactly_once(db: &TestDb) {
    let (port, inbox) = smtp_sink().await;
    let smtp = account::outbox::SmtpConfig::parse(
        &format!("smtp://127.0.0.1:{port}"),
        "keys@commerce.example",
    )
    .expect("SMTP config");
    let clock = ManualClock::new(CLOCK_START);
    let app = start(db, &clock, Some(smtp)).await;
    let email = unique_email("notify");
    let sid = app.signup(&email, "Notify Co").await;
    drain_signup_mail(&app, &inbox).await;
    let now = CLOCK_START;
    key_expiring(&app, &sid, "Store A", 20 * DAY, now).await;
    key_expiring(&app, &sid, "Store B", 10 * DAY, now).await;
    key_expiring(&app, &sid, "Store C", 2 * DAY, now).await;
    app.create_key(&sid, json!({"name": "Store D"})).await;
    let revoked = key_expiring(&app, &sid, "Store R", 5 * DAY, now).await;
    app.delete(&format!("/api/v1/keys/{revoked}"), Some(&sid))
        .await;
    // A rolled key's grace period ending is no surprise: no notice for it.
    let rolled = key_expiring(&app, &sid, "Store S", 30 * DAY, now).await;
    let r = app
        .post_json(
            &format!("/api/v1/keys/{rolled}/roll"),
            Some(&sid),
            &json!({"grace_seconds": 86400}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let state = app.running.state.clone();

    // B is within 14 days, C within 3 (it gets only the 3-day notice).
    let pass = account::outbox::run_once(&state).await.expect("a pass");
    assert_eq!((pass.queued, pass.sent, pass.failed), (2, 2, 0), "{pass:?}");
    assert_eq!(subjects(&inbox), [subject("Store B"), subject("Store C")]);
    {
        let got = inbox.lock().unwrap();
        for m in got.iter() {
            assert_eq!(m.from, "<keys@commerce.example>");
            assert_eq!(m.to, [format!("<{email}>")]);
            assert!(find_keys(&m.data).is_empty(), "never a key in a message");
        }
    }
    // Nothing new: nothing is sent again.
    let pass = account::outbox::run_once(&state).await.unwrap();
    assert_eq!((pass.queued, pass.sent), (0, 0));
    assert_eq!(inbox.lock().unwrap().len(), 2);

    // A week later: A is within 14 days, B within 3; C has expired.
    clock.advance(7 * DAY);
    let pass = account::outbox::run_once(&state).await.unwrap();
    assert_eq!((pass.queued, pass.sent), (2, 2), "{pass:?}");
    for _ in 0..2 {
        account::outbox::run_once(&state).await.unwrap();
    }
    clock.advance(DAY);
    account::outbox::run_once(&state).await.unwrap();
    assert_eq!(inbox.lock().unwrap().len(), 4);

    // Ten days on: A is within 3 days.
    clock.advance(10 * DAY);
    account::outbox::run_once(&state).await.unwrap();
    account::outbox::run_once(&state).await.unwrap();
    clock.advance(5 * DAY);
    account::outbox::run_once(&state).await.unwrap();

    // Exactly once per key and threshold: A twice, B twice, C once; S's
    // successor (30 days from the roll) its 14-day notice, the old S none.
    assert_eq!(
        subjects(&inbox),
        [
            subject("Store A"),
            subject("Store A"),
            subject("Store B"),
            subject("Store B"),
            subject("Store C"),
            subject("Store S"),
        ]
    );
    let ids: std::collections::BTreeSet<String> = inbox
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.header("Message-ID").unwrap_or_default())
        .collect();
    assert_eq!(ids.len(), 6, "six distinct messages");

    // Each notice is in the audit log, and marked sent in the outbox.
    let sid = app
        .login_raw(&email, PASSWORD)
        .await
        .cookie("acct_sid")
        .unwrap();
    let audit = app.get("/api/v1/audit?limit=200", Some(&sid)).await.json();
    let notified: Vec<&serde_json::Value> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "key.expiry_notified")
        .collect();
    assert_eq!(notified.len(), 6);
    let mut days: Vec<i64> = notified
        .iter()
        .map(|e| e["detail"]["days"].as_i64().unwrap())
        .collect();
    days.sort();
    assert_eq!(days, [3, 3, 3, 14, 14, 14]);
    let pool = app.running.state.db.pool.clone();
    let unsent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(unsent, 0);
    app.stop().await;
}

async fn without_smtp_the_outbox_is_shown(db: &TestDb) {
    let clock = ManualClock::new(CLOCK_START);
    let app = start(db, &clock, None).await;
    let email = unique_email("no-smtp");
    let sid = app.signup(&email, "Quiet Co").await;
    key_expiring(&app, &sid, "Store Q", 5 * DAY, CLOCK_START).await;
    let state = app.running.state.clone();
    let pass = account::outbox::run_once(&state).await.unwrap();
    assert_eq!((pass.queued, pass.sent), (1, 0));
    account::outbox::run_once(&state).await.unwrap();

    let browser = Browser::new(&app);
    browser.login(&email, PASSWORD).await;
    let page = browser.get("/account/outbox").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Email is not configured"));
    assert_eq!(page.text.matches("expires soon").count(), 1, "one message");
    assert!(page.text.contains(&email), "to whom");
    assert!(page.text.contains("Not sent"));
    assert!(page.text.contains(&web::clock::human(CLOCK_START)), "when");
    assert!(find_keys(&page.text).is_empty());
    let portal = browser.get("/account/api-portal").await;
    assert!(portal.text.contains("href=\"/account/outbox\""));

    // With SMTP configured later, the waiting message goes out once.
    app.stop().await;
    let (port, inbox) = smtp_sink().await;
    let smtp = account::outbox::SmtpConfig::parse(
        &format!("smtp://127.0.0.1:{port}"),
        "keys@commerce.example",
    )
    .unwrap();
    let app = start(db, &clock, Some(smtp)).await;
    let state = app.running.state.clone();
    let pass = account::outbox::run_once(&state).await.unwrap();
    // The notice, and the sign-up's email confirmation.
    assert_eq!((pass.queued, pass.sent), (0, 2));
    account::outbox::run_once(&state).await.unwrap();
    assert_eq!(
        subjects(&inbox),
        [CONFIRM_SUBJECT.to_owned(), subject("Store Q")]
    );
    app.stop().await;
}

async fn invitations_are_mailed_once_with_a_working_link(db: &TestDb) {
    let (port, inbox) = smtp_sink().await;
    let smtp = account::outbox::SmtpConfig::parse(
        &format!("smtp://127.0.0.1:{port}"),
        "keys@commerce.example",
    )
    .unwrap();
    let clock = ManualClock::new(CLOCK_START);
    let app = start(db, &clock, Some(smtp)).await;
    let owner = app.signup(&unique_email("inviter"), "Mail Co").await;
    drain_signup_mail(&app, &inbox).await;
    let guest = unique_email("guest");
    let r = app
        .post_json(
            "/api/v1/invitations",
            Some(&owner),
            &json!({"email": guest}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let url = r.json()["url"].as_str().unwrap().to_owned();

    let state = app.running.state.clone();
    let pass = account::outbox::run_once(&state).await.unwrap();
    assert_eq!((pass.sent, pass.failed), (1, 0), "{pass:?}");
    account::outbox::run_once(&state).await.unwrap();
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "sent exactly once");
    assert_eq!(got[0].to, [format!("<{guest}>")]);
    assert_eq!(
        got[0].header("Subject").as_deref(),
        Some("You are invited to join Mail Co")
    );
    let text = body_text(&got[0]);
    assert!(
        text.contains(&url),
        "the mail carries the link {url}: {text}"
    );

    // The mailed link works: the guest joins with it.
    let token = url.split("/join/").nth(1).unwrap();
    let r = app
        .post_json(
            "/api/v1/signup",
            None,
            &json!({"email": guest, "password": PASSWORD, "name": "Guest", "invitation": token}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["account"]["company"]["name"], "Mail Co");
    app.stop().await;
}

#[test]
fn smtp_urls() {
    use account::outbox::SmtpConfig;
    let c = SmtpConfig::parse("smtp://127.0.0.1:2525", "a@b.example").unwrap();
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 2525));
    assert_eq!(
        SmtpConfig::parse("smtp://localhost", "a@b.example")
            .unwrap()
            .port,
        25
    );
    for bad in [
        "http://x:25",
        "smtp://",
        "smtp://h:0",
        "smtp://h:99999",
        "smtp://u:p@h:25",
    ] {
        assert!(SmtpConfig::parse(bad, "a@b.example").is_err(), "{bad}");
    }
    assert!(SmtpConfig::parse("smtp://h:25", "not an address").is_err());
}
