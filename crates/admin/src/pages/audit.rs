//! System > Configuration audit log: every configuration change, who made it,
//! when, at which path and scope. Never the value.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use web::clock::human;
use web::i18n::T;

use super::{render, Chrome, Page, PageResult};
use crate::store::{self, AdminUser};
use crate::AppState;
use web::page::SignedIn;

pub const AUDIT_PATH: &str = "/admin/audit";
const PAGE_SIZE: i64 = 50;

pub struct ChangeLine {
    when: String,
    actor: String,
    path: String,
    scope: String,
    change_label: &'static str,
    /// What the change is about in words (an Amazon store), or empty.
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: T,
    c: Chrome,
    changes: Vec<ChangeLine>,
    next_before: Option<i64>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<AdminUser>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let before = q
        .before
        .as_deref()
        .and_then(|b| b.parse::<i64>().ok())
        .filter(|b| *b > 0);
    let mut rows = store::config_changes(&state.db, before, PAGE_SIZE + 1).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let next_before = if more {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    // Scopes are shown by the code of their website or store view.
    let websites = store::websites(&state.db).await?;
    let views = store::store_views(&state.db).await?;
    let scope_name = |scope: &str, id: i64| -> String {
        let code = match scope {
            "websites" => websites.iter().find(|w| w.id == id).map(|w| w.code.clone()),
            "stores" => views.iter().find(|v| v.id == id).map(|v| v.code.clone()),
            _ => None,
        };
        match code {
            Some(c) => format!("{scope}: {c}"),
            None if scope == "default" => scope.to_owned(),
            None => format!("{scope}: #{id}"),
        }
    };
    let changes = rows
        .iter()
        .map(|r| ChangeLine {
            when: human(r.created_at),
            actor: r.actor.clone(),
            path: r.path.clone(),
            scope: scope_name(&r.scope, r.scope_id),
            change_label: change_label(&r.change),
            detail: r.detail.clone().unwrap_or_default(),
        })
        .collect();
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), AUDIT_PATH)
        .active("audit")
        .parts();
    let page = AuditPage {
        t,
        c,
        changes,
        next_before,
    };
    Ok(render(cookie, StatusCode::OK, &page))
}

/// The words of a change (catalog key).
fn change_label(change: &str) -> &'static str {
    match change {
        "cleared" => "audit.cleared",
        store::PASSWORD_CHANGED => "audit.password_changed",
        "amazon_store.saved" => "audit.amazon_store.saved",
        "amazon_store.registered" => "audit.amazon_store.registered",
        "amazon_store.connect_requested" => "audit.amazon_store.connect_requested",
        "amazon_store.activated" => "audit.amazon_store.activated",
        "amazon_store.deactivated" => "audit.amazon_store.deactivated",
        "amazon_store.checked" => "audit.amazon_store.checked",
        "amazon_store.deleted" => "audit.amazon_store.deleted",
        _ => "audit.set",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use std::sync::Arc;

    use sqlx::Row;
    use web::{ManualClock, Secret};

    use crate::config::{self, ConfigStore, Scope, ScopeRef};
    use crate::crypto::Crypto;
    use crate::store;

    const SECRET: &str = "cmk_live_ThisIsTheStoredSecretValue000000";
    const START: i64 = 1_800_000_000;

    /// Every change is recorded once, with who, when, path and scope; the
    /// value never; and the page lists them newest first.
    async fn changes_are_audited(url: &str) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::connect(url).await.unwrap();
        let crypto = Crypto::open_or_create(&dir.path().join("crypt.key")).unwrap();
        let cfg = ConfigStore {
            db: &db,
            crypto: &crypto,
        };
        let d = ScopeRef::DEFAULT;
        let base = config::resolve_scope(&db, Scope::Websites, Some("base"))
            .await
            .unwrap();
        cfg.set_by("alice", config::PRODUCTION_API_KEY, SECRET, d, START)
            .await
            .unwrap();
        // The same value again is no change.
        cfg.set_by("alice", config::PRODUCTION_API_KEY, SECRET, d, START + 1)
            .await
            .unwrap();
        cfg.set_by(
            "bob",
            "general/store_information/name",
            "Shop",
            base,
            START + 2,
        )
        .await
        .unwrap();
        cfg.set_by("cli", config::PRODUCTION_API_KEY, "", d, START + 3)
            .await
            .unwrap();
        // A refused value changes nothing and is not recorded.
        assert!(cfg
            .set_by("bob", config::PRODUCTION_API_KEY, SECRET, base, START + 4)
            .await
            .is_err());

        let rows = store::config_changes(&db, None, 10).await.unwrap();
        let seen: Vec<(&str, &str, &str, i64, &str, i64)> = rows
            .iter()
            .map(|r| {
                (
                    r.actor.as_str(),
                    r.path.as_str(),
                    r.scope.as_str(),
                    r.scope_id,
                    r.change.as_str(),
                    r.created_at,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "cli",
                    config::PRODUCTION_API_KEY,
                    "default",
                    0,
                    "cleared",
                    START + 3
                ),
                (
                    "bob",
                    "general/store_information/name",
                    "websites",
                    base.id,
                    "set",
                    START + 2
                ),
                (
                    "alice",
                    config::PRODUCTION_API_KEY,
                    "default",
                    0,
                    "set",
                    START
                ),
            ]
        );
        // Paging: older than the newest.
        let older = store::config_changes(&db, Some(rows[0].id), 10)
            .await
            .unwrap();
        assert_eq!(older.len(), 2);
        // Never the value, in any column.
        let all = sqlx::query("SELECT actor, path, scope, change FROM config_audit")
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for r in &all {
            for col in ["actor", "path", "scope", "change"] {
                let v: String = r.try_get(col).unwrap();
                assert!(!v.contains("ThisIsTheStored") && !v.contains("Shop"), "{v}");
            }
        }

        // The page, for a signed-in admin.
        crate::auth::create_user(
            &db,
            "alice",
            "alice@example.com",
            Secret::new("a long admin password"),
            START,
        )
        .await
        .unwrap();
        let running = crate::start_with_clock(
            db.clone(),
            crypto,
            "127.0.0.1:0",
            // Not about signing in: the password alone.
            crate::Config {
                two_factor: crate::two_factor::Policy::Optional,
                ..crate::Config::default()
            },
            Arc::new(ManualClock::new(START + 10)),
        )
        .await
        .unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let signed_out = http
            .get(format!("{}/admin/audit", running.url()))
            .send()
            .await
            .unwrap();
        assert!(signed_out.status().is_redirection());
        let login = http
            .post(format!("{}/admin/api/v1/login", running.url()))
            .json(&serde_json::json!({"username": "alice", "password": "a long admin password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let sid = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|l| {
                l.split(';')
                    .next()?
                    .strip_prefix("adm_sid=")
                    .map(str::to_owned)
            })
            .unwrap();
        let page = http
            .get(format!("{}/admin/audit", running.url()))
            .header("cookie", format!("adm_sid={sid}"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        for text in [
            "Configuration audit log",
            config::PRODUCTION_API_KEY,
            "general/store_information/name",
            "websites: base",
            "Cleared",
            "bob",
            "cli",
        ] {
            assert!(html.contains(text), "the page shows {text}");
        }
        assert!(!html.contains("ThisIsTheStored"));
        let cleared = html.find("Cleared").unwrap();
        let set = html.find("websites: base").unwrap();
        assert!(cleared < set, "newest first");
        running.stop().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_are_audited_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        changes_are_audited(&format!("sqlite://{}/admin.db", dir.path().display())).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn changes_are_audited_postgres() {
        let url = testkit::fresh_postgres_url().await.unwrap();
        changes_are_audited(&url).await;
        // Drop the test's database.
        let admin_url = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        if let (Some(name), Ok(mut conn)) = (
            url.rsplit('/').next(),
            <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await,
        ) {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = sqlx::Executor::execute(&mut conn, drop.as_str()).await;
        }
    }
}
