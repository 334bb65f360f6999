//! The channel page's *Last checks* and key-status's `last_checks` (issue
//! #32, item 5), against the real account service: every check of the
//! stored Production key is recorded (the page, key-status, the CLI's gate),
//! listed newest first with its reason and in runs of the same outcome, never
//! with the key; only the newest 50 rows are kept; and a write that fails
//! never fails the check.

use std::sync::Arc;

use crate::common::{Account, Admin, Browser, Env};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use web::clock::{human, rfc3339};
use web::{Clock, ManualClock, SystemClock};

both_backends!(
    checks_are_listed_newest_first,
    only_the_newest_fifty_are_kept,
    a_failed_write_never_fails_the_check,
);

const CHANNEL: &str = "/admin/amazon";

/// A row of the page's *Last checks* table.
#[derive(Debug)]
struct CheckRow {
    status: String,
    reason: String,
    count: usize,
    html: String,
}

/// The *Last checks* section of a channel page.
fn checks_section(page: &str) -> &str {
    let section = page
        .split_once("data-key-checks>")
        .expect("the page has a Last checks section")
        .1;
    section
        .split_once("</section>")
        .expect("the section ends")
        .0
}

/// The rows of the page's *Last checks* table, top down.
fn check_rows(page: &str) -> Vec<CheckRow> {
    checks_section(page)
        .split("<tr data-check-status=\"")
        .skip(1)
        .map(|tr| {
            let tr = tr.split_once("</tr>").expect("the row ends").0;
            let attr = |name: &str| {
                tr.split_once(&format!("{name}=\""))
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map(|(v, _)| v.to_owned())
                    .expect("the row's attribute")
            };
            CheckRow {
                status: tr.split_once('"').expect("the status").0.to_owned(),
                reason: attr("data-check-reason"),
                count: attr("data-check-count").parse().expect("a count"),
                html: tr.to_owned(),
            }
        })
        .collect()
}

/// `(status, reason, count)` of each row.
fn outcomes(rows: &[CheckRow]) -> Vec<(&str, &str, usize)> {
    rows.iter()
        .map(|r| (r.status.as_str(), r.reason.as_str(), r.count))
        .collect()
}

/// The channel page, asserting 200.
async fn channel(b: &Browser<'_>) -> String {
    let r = b.get(CHANNEL).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.text
}

/// The English text of a catalog key.
fn en(key: &str) -> String {
    testkit::html_escaped(admin::i18n::CATALOG.get(web::i18n::Lang::En, key))
}

/// Every stored row of `admin_key_checks`, every column as text.
async fn stored_rows(admin: &Admin) -> Vec<String> {
    let rows = sqlx::query(
        "SELECT id, checked_at, status, COALESCE(reason, '') AS reason FROM admin_key_checks ORDER BY id",
    )
    .fetch_all(&admin.running.state.db.pool)
    .await
    .expect("read the stored checks");
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get("id").expect("id");
            let at: i64 = r.try_get("checked_at").expect("checked_at");
            let status: String = r.try_get("status").expect("status");
            let reason: String = r.try_get("reason").expect("reason");
            format!("{id} {at} {status} {reason}")
        })
        .collect()
}

async fn checks_are_listed_newest_first(env: &Env) {
    let acct = Account::start(env).await;
    let clock = ManualClock::new(SystemClock.now());
    let admin = Admin::start_with(
        env,
        Some(acct.base.clone()),
        admin::two_factor::Policy::Optional,
        Arc::new(clock.clone()),
    )
    .await;
    let owner = acct.signup().await;
    let (id, key) = acct
        .create_key(&owner, json!({"name": "Amazon Sales Channel"}))
        .await;
    admin.store_key(&key).await;
    let b = Browser::new(&admin);
    b.sign_in().await;

    // A valid key: Store Integration, checked now.
    let t1 = clock.now();
    let page = channel(&b).await;
    assert!(page.contains("data-key-status=\"valid\""));
    assert!(
        page.contains(&format!(
            "{} <time datetime=\"{}\">{}</time>",
            en("channel.checks.last_checked"),
            rfc3339(t1),
            human(t1)
        )),
        "Key last checked: this check: {}",
        checks_section(&page)
    );
    assert_eq!(outcomes(&check_rows(&page)), [("valid", "", 1)]);

    // Revoked in the API Portal.
    clock.advance(60);
    let t2 = clock.now();
    acct.revoke_key(&owner, &id).await;
    let page = channel(&b).await;
    assert!(page.contains("data-key-status=\"revoked\""));
    assert_eq!(
        outcomes(&check_rows(&page)),
        [("revoked", "", 1), ("valid", "", 1)]
    );

    // The account service stops: unreachable, for the reason `down`.
    let account_url = acct.base.clone();
    acct.stop().await;
    clock.advance(60);
    let t3 = clock.now();
    let page = channel(&b).await;
    assert!(page.contains(&format!("<time datetime=\"{}\">", rfc3339(t3))));
    let rows = check_rows(&page);
    assert_eq!(
        outcomes(&rows),
        [
            ("unreachable", "down", 1),
            ("revoked", "", 1),
            ("valid", "", 1)
        ]
    );
    // In words, with its time; the reason only where there is one.
    assert!(rows[0]
        .html
        .contains(&en("channel.checks.status.unreachable")));
    assert!(rows[0].html.contains(&en("channel.checks.reason.down")));
    assert!(rows[0].html.contains(&human(t3)), "{}", rows[0].html);
    assert!(rows[1].html.contains(&en("channel.checks.status.revoked")));
    assert!(rows[1].html.contains(&human(t2)));
    assert!(rows[2].html.contains(&en("channel.checks.status.valid")));
    assert!(rows[2].html.contains(&human(t1)));
    for row in &rows[1..] {
        assert!(!row.html.contains(&en("channel.checks.reason.down")));
    }

    // `channel:amazon:verify` checks through the gate as the page does: recorded too.
    clock.advance(60);
    let t4 = clock.now();
    let gate = admin::gate::Gate::new(Some(account_url), Arc::new(clock.clone()));
    let cli = gate.check(&admin.config(), None).await;
    assert_eq!(cli.status, admin::gate::KeyStatus::Unreachable);

    // key-status: every field as before, and the last checks, newest first.
    clock.advance(60);
    let t5 = clock.now();
    let sid = admin.api_login().await;
    let r = admin.key_status_raw(&sid).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!r.text.contains(&key), "the answer never holds the key");
    let v = r.json();
    assert_eq!(
        (&v["status"], &v["reason"]),
        (&json!("unreachable"), &json!("down"))
    );
    assert!(v["key_hint"].is_string(), "{v}");
    assert_eq!(v["expiring_soon"], json!(false));
    let down = |t| json!({"at": rfc3339(t), "status": "unreachable", "reason": "down"});
    assert_eq!(
        v["last_checks"],
        json!([
            down(t5),
            down(t4),
            down(t3),
            {"at": rfc3339(t2), "status": "revoked", "reason": null},
            {"at": rfc3339(t1), "status": "valid", "reason": null},
        ]),
        "{v}"
    );

    // Once more on the page: the same outcome in a row is one line.
    clock.advance(60);
    let t6 = clock.now();
    let page = channel(&b).await;
    let rows = check_rows(&page);
    assert_eq!(
        outcomes(&rows),
        [
            ("unreachable", "down", 4),
            ("revoked", "", 1),
            ("valid", "", 1)
        ]
    );
    assert!(rows[0].html.contains(&human(t6)));
    let run = admin::i18n::CATALOG
        .get(web::i18n::Lang::En, "channel.checks.run")
        .replace("{n}", "4")
        .replace("{first}", &human(t3));
    assert!(rows[0].html.contains(&run), "{}", rows[0].html);

    // Never the key: not on the page, not in a row, not in the database.
    assert!(!page.contains(&key), "the page never holds the key");
    for row in &rows {
        assert!(!row.html.contains(&key[9..]), "{}", row.html);
    }
    let stored = stored_rows(&admin).await;
    assert_eq!(stored.len(), 6, "{stored:?}");
    for row in &stored {
        assert!(!row.contains(&key) && !row.contains(&key[9..]), "{row}");
    }

    // In Dutch.
    let nl = Browser::with_language(&admin, "nl");
    nl.sign_in().await;
    let page = channel(&nl).await;
    assert!(page.contains("<html lang=\"nl\">"));
    let section = checks_section(&page);
    for words in [
        "Laatste controles",
        "Sleutel laatst gecontroleerd:",
        "Wanneer",
        "Uitkomst",
        "Reden",
        "Kon niet worden gecontroleerd",
        "Accountdienst niet bereikbaar of te traag",
        "5 controles na elkaar sinds",
        "Ingetrokken",
        "Geldig",
    ] {
        assert!(section.contains(words), "Dutch: {words}: {section}");
    }
    for english in ["Last checks", "Revoked", "Could not be checked"] {
        assert!(!section.contains(english), "no English: {english}");
    }
    admin.stop().await;
}

async fn only_the_newest_fifty_are_kept(env: &Env) {
    let clock = ManualClock::new(SystemClock.now());
    let admin = Admin::start_with(
        env,
        // Not asked: no key, or one that is not a key.
        Some("http://127.0.0.1:9".into()),
        admin::two_factor::Policy::Optional,
        Arc::new(clock.clone()),
    )
    .await;
    let sid = admin.api_login().await;
    let start = clock.now();
    // 60 checks, the outcome changing each time: missing, invalid, missing…
    for i in 1..=60 {
        clock.advance(1);
        admin
            .store_key(if i % 2 == 0 { "not-a-key" } else { "" })
            .await;
        let v = admin.key_status(&sid).await;
        let want = if i % 2 == 0 { "invalid" } else { "missing" };
        assert_eq!(v["status"], want, "{i}: {v}");
    }
    let db = &admin.running.state.db;
    assert_eq!(
        admin::store::key_checks::count(db).await.expect("count"),
        50
    );
    // The newest 50: checks 11 to 60.
    let kept = admin::store::key_checks::recent(db, 100)
        .await
        .expect("read");
    assert_eq!(kept.len(), 50);
    assert_eq!(kept[0].checked_at, start + 60);
    assert_eq!(kept[49].checked_at, start + 11);
    assert_eq!(
        (kept[0].status.as_str(), kept[0].reason.as_deref()),
        ("invalid", Some("malformed"))
    );
    assert_eq!(
        (kept[1].status.as_str(), kept[1].reason.as_deref()),
        ("missing", None)
    );

    // key-status lists 10, newest first; the page at most 10 lines.
    clock.advance(1);
    let v = admin.key_status(&sid).await;
    let last = v["last_checks"].as_array().expect("last_checks");
    assert_eq!(last.len(), 10, "{v}");
    assert_eq!(last[0]["at"], rfc3339(start + 61));
    assert_eq!(last[9]["at"], rfc3339(start + 52));
    let b = Browser::new(&admin);
    b.sign_in().await;
    let rows = check_rows(&channel(&b).await);
    assert_eq!(rows.len(), 10, "{rows:?}");
    // The 60th, key-status's and the page's own check were all `invalid`: one line.
    assert_eq!((rows[0].status.as_str(), rows[0].count), ("invalid", 3));
    assert!(rows[1..].iter().all(|r| r.count == 1), "{rows:?}");
    assert_eq!(
        admin::store::key_checks::count(db).await.expect("count"),
        50,
        "however often it is opened"
    );
    admin.stop().await;
}

async fn a_failed_write_never_fails_the_check(env: &Env) {
    let admin = Admin::start(env, Some("http://127.0.0.1:9".into())).await;
    let sid = admin.api_login().await;
    sqlx::query("DROP TABLE admin_key_checks")
        .execute(&admin.running.state.db.pool)
        .await
        .expect("drop the table");
    let v: Value = admin.key_status(&sid).await;
    assert_eq!(v["status"], "missing", "{v}");
    let last = v["last_checks"].as_array().expect("last_checks");
    assert_eq!(last.len(), 1, "this check alone: {v}");
    assert_eq!(
        (&last[0]["status"], &last[0]["reason"]),
        (&json!("missing"), &Value::Null)
    );
    let b = Browser::new(&admin);
    b.sign_in().await;
    let page = channel(&b).await;
    assert!(page.contains("data-key-status=\"missing\""));
    assert_eq!(outcomes(&check_rows(&page)), [("missing", "", 1)]);
    admin.stop().await;
}
