//! Leaked keys: GitHub's secret-scanning partner call. A signed report
//! revokes the key at once, tells its company through the outbox and is
//! audited; unsigned or badly signed reports are refused and change nothing.
//! On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{find_keys, mistype, unique_email, App, TestDb, CLOCK_START};
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use reqwest::StatusCode;
use serde_json::{json, Value};
use web::ManualClock;

both_backends!(
    a_signed_report_revokes_and_notifies,
    unsigned_or_badly_signed_reports_are_refused,
);

/// A refused request: what it is, its headers, the error code expected.
type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);

const PATH: &str = "/api/v1/secret-scanning/verify";

fn github_key() -> SigningKey {
    SigningKey::from_slice(&[7u8; 32]).expect("a P-256 scalar")
}

fn other_key() -> SigningKey {
    SigningKey::from_slice(&[9u8; 32]).expect("a P-256 scalar")
}

fn public_pem(k: &SigningKey) -> String {
    k.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("PEM")
}

fn sign(k: &SigningKey, body: &[u8]) -> String {
    let sig: Signature = k.sign(body);
    base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())
}

async fn start(db: &TestDb, clock: &ManualClock, trusted: Vec<p256::ecdsa::VerifyingKey>) -> App {
    let cfg = account::Config {
        secret_scanning_keys: trusted,
        outbox_every: None,
        ..account::Config::default()
    };
    App::start_with(db, clock, cfg).await
}

async fn report(app: &App, body: &[u8], headers: &[(&str, &str)]) -> crate::common::Resp {
    let mut req = app
        .http
        .post(app.url(PATH))
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    crate::common::Resp::read(req.send().await.expect("request")).await
}

/// Signs up an owner; returns the session and the company id.
async fn owner(app: &App, tag: &str) -> (String, String, String) {
    let email = unique_email(tag);
    let r = app
        .signup_raw(&email, crate::common::PASSWORD, "Leaky Co")
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let company = r.json()["account"]["company"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (r.cookie("acct_sid").unwrap(), company, email)
}

async fn a_signed_report_revokes_and_notifies(db: &TestDb) {
    let clock = ManualClock::new(CLOCK_START);
    // The trusted keys come from a PEM file with two keys, as the CLI reads it.
    let pem_file = format!(
        "{}\n{}",
        public_pem(&other_key()),
        public_pem(&github_key())
    );
    let trusted = account::secret_scanning::parse_public_keys(&pem_file).expect("two keys");
    assert_eq!(trusted.len(), 2);
    let app = start(db, &clock, trusted).await;
    let (sid, company, email) = owner(&app, "leak").await;
    let leaked = app
        .create_key(&sid, json!({"name": "Amazon Sales Channel"}))
        .await;
    let leaked_key = leaked["key"].as_str().unwrap().to_owned();
    let leaked_id = leaked["id"].as_str().unwrap().to_owned();
    let kept = app.create_key(&sid, json!({"name": "Other store"})).await;
    let kept_key = kept["key"].as_str().unwrap().to_owned();
    assert_eq!(app.verify_status(&leaked_key).await, "valid");

    let url = "https://github.com/someone/shop/blob/main/.env";
    let body = json!([
        {"token": leaked_key, "type": "commerce_api_key", "url": url, "source": "content"},
        {"token": mistype(&leaked_key), "type": "commerce_api_key", "url": url, "source": "content"},
        {"token": "cmk_live_notarealkeyatall", "type": "commerce_api_key", "url": url, "source": "commit"},
    ])
    .to_string();
    clock.advance(10);
    let r = report(
        &app,
        body.as_bytes(),
        &[
            (
                "Github-Public-Key-Identifier",
                "bcb53661c06b4728e59d897fb6165d5c9cda0fd9cdf9d09ead458168deb7518c",
            ),
            (
                "Github-Public-Key-Signature",
                &sign(&github_key(), body.as_bytes()),
            ),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let answers = r.json();
    assert_eq!(
        answers,
        json!([
            {"token_raw": leaked_key, "token_type": "commerce_api_key", "label": "true_positive"},
            {"token_raw": mistype(&leaked_key), "token_type": "commerce_api_key", "label": "false_positive"},
            {"token_raw": "cmk_live_notarealkeyatall", "token_type": "commerce_api_key", "label": "false_positive"},
        ])
    );

    // Revoked at once; the company's other key is untouched.
    assert_eq!(app.verify_status(&leaked_key).await, "revoked");
    assert_eq!(app.verify_status(&kept_key).await, "valid");
    assert_eq!(app.listed_key(&sid, &leaked_id).await["status"], "revoked");

    // Audited, by the scanner, with where it was found.
    let audit = app.get("/api/v1/audit", Some(&sid)).await.json();
    let first = &audit["events"][0];
    assert_eq!(first["action"], "key.leaked");
    assert_eq!(first["actor"], "secret-scanning");
    assert_eq!(first["target"], leaked_id.as_str());
    assert_eq!(first["detail"]["url"], url);
    assert_eq!(
        first["created_at"],
        web::clock::rfc3339(CLOCK_START + 10).as_str()
    );
    assert!(find_keys(&audit.to_string()).is_empty());

    // The owner is told through the outbox (never with the key).
    let state = &app.running.state;
    let messages = crate::common::company_messages(state, &company).await;
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.recipient, email);
    assert_eq!(m.kind, "key_leaked");
    assert!(m.subject.contains("Amazon Sales Channel"), "{}", m.subject);
    assert!(m.body.contains(url), "{}", m.body);
    assert!(find_keys(&m.body).is_empty() && find_keys(&m.subject).is_empty());
    assert!(
        m.sent_at.is_none(),
        "no SMTP configured: it waits in the outbox"
    );

    // The same report again: still a true positive, nothing new happens.
    clock.advance(10);
    let again = report(
        &app,
        body.as_bytes(),
        &[
            ("Github-Public-Key-Identifier", "any"),
            (
                "Github-Public-Key-Signature",
                &sign(&github_key(), body.as_bytes()),
            ),
        ],
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()[0]["label"], "true_positive");
    let messages = crate::common::company_messages(state, &company).await;
    assert_eq!(messages.len(), 1, "one alert per key");
    let audit = app.get("/api/v1/audit", Some(&sid)).await.json();
    let leaks = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "key.leaked")
        .count();
    assert_eq!(leaks, 1, "one audit event per key");

    // An empty report is fine too.
    let empty = b"[]";
    let r = report(
        &app,
        empty,
        &[
            ("Github-Public-Key-Identifier", "any"),
            ("Github-Public-Key-Signature", &sign(&github_key(), empty)),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!([]));
    app.stop().await;
}

async fn unsigned_or_badly_signed_reports_are_refused(db: &TestDb) {
    let clock = ManualClock::new(CLOCK_START);
    let trusted = account::secret_scanning::parse_public_keys(&public_pem(&github_key())).unwrap();
    let app = start(db, &clock, trusted).await;
    let (sid, company, _) = owner(&app, "noleak").await;
    let k = app.create_key(&sid, json!({"name": "Store"})).await;
    let key = k["key"].as_str().unwrap().to_owned();
    let body = json!([{"token": key, "type": "commerce_api_key", "url": "https://x.example", "source": "content"}])
        .to_string();
    let good_sig = sign(&github_key(), body.as_bytes());
    let other_body = json!([]).to_string();

    // (what, headers, expected error code)
    let cases: Vec<Case> = vec![
        ("unsigned", vec![], "missing_signature"),
        (
            "no identifier",
            vec![("Github-Public-Key-Signature", good_sig.clone())],
            "missing_signature",
        ),
        (
            "another key's signature",
            vec![
                ("Github-Public-Key-Identifier", "x".into()),
                (
                    "Github-Public-Key-Signature",
                    sign(&other_key(), body.as_bytes()),
                ),
            ],
            "invalid_signature",
        ),
        (
            "the signature of another body",
            vec![
                ("Github-Public-Key-Identifier", "x".into()),
                (
                    "Github-Public-Key-Signature",
                    sign(&github_key(), other_body.as_bytes()),
                ),
            ],
            "invalid_signature",
        ),
        (
            "not base64",
            vec![
                ("Github-Public-Key-Identifier", "x".into()),
                ("Github-Public-Key-Signature", "%%%".into()),
            ],
            "invalid_signature",
        ),
        (
            "not DER",
            vec![
                ("Github-Public-Key-Identifier", "x".into()),
                ("Github-Public-Key-Signature", "aGVsbG8=".into()),
            ],
            "invalid_signature",
        ),
    ];
    for (what, headers, code) in cases {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = report(&app, body.as_bytes(), &h).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.text);
        assert_eq!(r.assert_api_error(what), code, "{what}");
        assert!(!r.text.contains(&key), "{what}: the key is not echoed");
    }
    // Nothing happened to the key, nothing was queued or recorded.
    assert_eq!(app.verify_status(&key).await, "valid");
    let state = &app.running.state;
    assert!(crate::common::company_messages(state, &company)
        .await
        .is_empty());
    let audit: Value = app.get("/api/v1/audit", Some(&sid)).await.json();
    assert!(!audit.to_string().contains("key.leaked"));

    // A well-signed body that is not a report: 400.
    let junk = b"{\"token\": 1}";
    let r = report(
        &app,
        junk,
        &[
            ("Github-Public-Key-Identifier", "x"),
            ("Github-Public-Key-Signature", &sign(&github_key(), junk)),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    app.stop().await;

    // Without trusted keys configured the endpoint is off.
    let off = App::start(db).await;
    let r = report(
        &off,
        body.as_bytes(),
        &[
            ("Github-Public-Key-Identifier", "x"),
            ("Github-Public-Key-Signature", &good_sig),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(off.verify_status(&key).await, "valid");
    off.stop().await;
}

#[test]
fn trusted_keys_from_githubs_json() {
    let doc = json!({"public_keys": [
        {"key_identifier": "abc", "key": public_pem(&github_key()), "is_current": true}
    ]})
    .to_string();
    let keys = account::secret_scanning::parse_public_keys(&doc).unwrap();
    assert_eq!(keys.len(), 1);
    let body = b"[]";
    assert!(account::secret_scanning::signature_ok(
        &keys,
        body,
        &sign(&github_key(), body)
    ));
    assert!(!account::secret_scanning::signature_ok(
        &keys,
        body,
        &sign(&other_key(), body)
    ));
    assert!(account::secret_scanning::parse_public_keys("nothing here").is_err());
    assert!(account::secret_scanning::parse_public_keys(
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
    )
    .is_err());
}
