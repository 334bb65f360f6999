//! Migration 0017 (shared access) keeps the data of before: a database at
//! 0016, filled the old way (one company per account in
//! `accounts.company_id`, the role in `accounts.role`), migrated to the
//! end, holds the same companies and roles as memberships, and its
//! sessions and passwords work on in the same company. On both backends.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::borrow::Cow;

use crate::common::companies::{company_lines, current};
use crate::common::{unique_email, App, TestDb, CLOCK_START, PASSWORD};
use reqwest::StatusCode;
use sqlx::migrate::Migrator;
use sqlx::Row;
use web::ManualClock;

both_backends!(memberships_keep_the_companies_and_roles_of_before);

/// The migrations up to `version`, and none after.
fn up_to(all: &Migrator, version: i64) -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            all.migrations
                .iter()
                .filter(|m| m.version <= version)
                .cloned()
                .collect(),
        ),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    }
}

/// The accounts made the old way: (id, company, role, email, session id).
struct Old {
    id: &'static str,
    company: &'static str,
    role: &'static str,
    email: String,
    sid: String,
}

async fn memberships_keep_the_companies_and_roles_of_before(db: &TestDb) {
    let old_db = web::db::connect(
        &db.url,
        &up_to(&account::MIGRATIONS_SQLITE, 16),
        &up_to(&account::MIGRATIONS_POSTGRES, 16),
        2,
    )
    .await
    .unwrap();
    let pool = &old_db.pool;
    let missing = sqlx::query("SELECT COUNT(*) FROM memberships")
        .fetch_one(pool)
        .await;
    assert!(missing.is_err(), "at 0016 there are no memberships yet");

    // The service runs on a clock of the test's: the rows are from just now.
    let now = CLOCK_START;
    for (id, name) in [("co_oldone", "Old One"), ("co_oldtwo", "Old Two")] {
        sqlx::query("INSERT INTO companies (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(now - 1000)
            .execute(pool)
            .await
            .unwrap();
    }
    let hash = account::auth::hash_password(web::Secret::new(PASSWORD))
        .await
        .unwrap();
    let people: Vec<Old> = [
        ("acct_oldowner", "co_oldone", "owner"),
        ("acct_oldmember", "co_oldone", "member"),
        ("acct_oldsecond", "co_oldtwo", "owner"),
    ]
    .into_iter()
    .map(|(id, company, role)| Old {
        id,
        company,
        role,
        email: unique_email(role),
        sid: keys::random_base62(32),
    })
    .collect();
    for (i, p) in people.iter().enumerate() {
        // The first owner joined before `joined_at` was kept (NULL).
        let joined = (i > 0).then_some(now - 500 + i as i64);
        sqlx::query(
            "INSERT INTO accounts (id, company_id, email, name, password_hash, role, locale, \
             created_at, joined_at) VALUES ($1, $2, $3, 'Old Person', $4, $5, 'en', $6, $7)",
        )
        .bind(p.id)
        .bind(p.company)
        .bind(&p.email)
        .bind(&hash)
        .bind(p.role)
        .bind(now - 900)
        .bind(joined)
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO account_sessions (id_hash, account_id, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $3)",
        )
        .bind(keys::hash_str(&p.sid).to_hex())
        .bind(p.id)
        .bind(now - 10)
        .execute(pool)
        .await
        .unwrap();
    }
    old_db.pool.close().await;

    // Migrated to the end: each account's company and role is its membership.
    let migrated = db.connect().await;
    let rows = sqlx::query(
        "SELECT account_id, company_id, role, joined_at FROM memberships ORDER BY account_id",
    )
    .fetch_all(&migrated.pool)
    .await
    .unwrap();
    let got: Vec<(String, String, String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r.get("account_id"),
                r.get("company_id"),
                r.get("role"),
                r.get("joined_at"),
            )
        })
        .collect();
    let mut want: Vec<(String, String, String, i64)> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let joined = if i == 0 {
                now - 900
            } else {
                now - 500 + i as i64
            };
            (p.id.into(), p.company.into(), p.role.into(), joined)
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
    migrated.pool.close().await;

    // The sessions of before work on, in the same company with the same role.
    let app = App::start_with_clock(db, ManualClock::new(CLOCK_START)).await;
    let names = |company: &str| {
        if company == "co_oldone" {
            "Old One"
        } else {
            "Old Two"
        }
    };
    for p in &people {
        let (company, name, role) = current(&app, &p.sid).await;
        assert_eq!((company.as_str(), role.as_str()), (p.company, p.role));
        assert_eq!(name, names(p.company));
        assert_eq!(
            company_lines(&app, &p.sid).await,
            [(names(p.company).to_owned(), p.role.to_owned(), true)]
        );
        // And so does the password, into the same company.
        let r = app.login_raw(&p.email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json()["account"]["company"]["id"], p.company);
        assert_eq!(r.json()["account"]["role"], p.role);
    }
    let members = app
        .get("/api/v1/members", Some(&people[1].sid))
        .await
        .json();
    let roles: Vec<(&str, &str)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["id"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [("acct_oldowner", "owner"), ("acct_oldmember", "member")]
    );
    // The owner of before still owns: they list the invitations.
    let r = app.get("/api/v1/invitations", Some(&people[0].sid)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    app.stop().await;
}
