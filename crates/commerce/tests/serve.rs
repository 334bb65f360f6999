//! `commerce serve`: first start, second start, health, SIGTERM. With the
//! embedded SQLite databases under the data dir, and with both sides on
//! PostgreSQL (`--database-url`, `--admin-database-url`).

mod common;

use common::{admin_key_status, admin_login, fresh_pg, http, Server};
use reqwest::StatusCode;

const SERVE: &[&str] = &[
    "serve",
    "--account-addr",
    "127.0.0.1:0",
    "--admin-addr",
    "127.0.0.1:0",
];

async fn healthz(base: &str) {
    let res = http()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(res.status(), StatusCode::OK, "{base}/healthz");
    assert_eq!(res.text().await.expect("test setup"), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_and_second_start_sqlite() {
    first_and_second_start(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_and_second_start_postgres() {
    let (account_db, admin_db) = (fresh_pg().await, fresh_pg().await);
    first_and_second_start(Some((account_db.url.clone(), admin_db.url.clone()))).await;
}

async fn first_and_second_start(pg: Option<(String, String)>) {
    let dir = tempfile::tempdir().expect("test setup");
    // A data dir that does not exist yet is created.
    let data = dir.path().join("var");
    let mut args: Vec<&str> = SERVE.to_vec();
    if let Some((account_db, admin_db)) = &pg {
        args.extend([
            "--database-url",
            account_db.as_str(),
            "--admin-database-url",
            admin_db.as_str(),
        ]);
    }

    let server = Server::start(&data, &args, "Commerce Admin: ").await;
    let lines = server.lines();
    // The three lines, in order (the Admin line comes last: it is the ready signal).
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("a line starting {prefix:?}: {lines:?}"))
    };
    let (a, b, c) = (
        at("Account service: http://127.0.0.1:"),
        at("Admin user created: admin / "),
        at("Commerce Admin: http://127.0.0.1:"),
    );
    assert!(a < b && b < c, "{lines:?}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("Admin user created"))
            .count(),
        1,
        "the password is printed once"
    );
    let account = server.account_url();
    let admin = server.admin_base();
    assert_ne!(account, admin);
    let password = server.admin_password().expect("a generated password");
    assert!(password.len() >= 16, "a strong password: {password}");

    healthz(&account).await;
    healthz(&admin).await;

    // The printed password signs in; the Admin is pointed at this account service.
    let (status, sid) = admin_login(&admin, "admin", &password).await;
    assert_eq!(status, StatusCode::OK);
    let sid = sid.expect("adm_sid");
    assert_eq!(admin_key_status(&admin, &sid).await, "missing");
    let (status, _) = admin_login(&admin, "admin", "not the password at all").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // What the first start created: the key file always; the databases
    // under the data dir only when they are the embedded ones.
    assert!(data.join("crypt.key").is_file());
    for f in ["account.db", "admin.db"] {
        assert_eq!(
            data.join(f).is_file(),
            pg.is_none(),
            "{f} under the data dir"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("crypt.key"))
            .expect("test setup")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is private");
    }
    let key_file = std::fs::read(data.join("crypt.key")).expect("test setup");

    let log = server.stderr();
    assert_eq!(server.terminate().await, Some(0), "SIGTERM exits 0");
    assert!(!log.contains(&password), "the password is not logged");
    assert!(!log.contains("panicked"));

    // Second start: no new admin, the same password, the same key file.
    let server = Server::start(&data, &args, "Commerce Admin: ").await;
    let lines = server.lines();
    assert!(
        lines.iter().all(|l| !l.contains("Admin user created")),
        "no second admin: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("Account service: ")),
        "{lines:?}"
    );
    let account = server.account_url();
    let admin = server.admin_base();
    healthz(&account).await;
    healthz(&admin).await;
    let (status, sid) = admin_login(&admin, "admin", &password).await;
    assert_eq!(status, StatusCode::OK);
    assert!(sid.is_some());
    assert_eq!(
        std::fs::read(data.join("crypt.key")).expect("test setup"),
        key_file
    );
    assert_eq!(server.terminate().await, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_one_clear_error_sqlite() {
    a_taken_port_is_one_clear_error(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_port_is_one_clear_error_postgres() {
    let pg = fresh_pg().await;
    a_taken_port_is_one_clear_error(Some(pg.url.clone())).await;
}

async fn a_taken_port_is_one_clear_error(db: Option<String>) {
    let dir = tempfile::tempdir().expect("test setup");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("test setup");
    let addr = taken.local_addr().expect("test setup").to_string();
    let mut args = vec!["serve", "account", "--account-addr", addr.as_str()];
    if let Some(url) = &db {
        args.extend(["--database-url", url.as_str()]);
    }
    let out = common::cli(dir.path(), &args).await;
    out.assert_clean_error("a port in use");
    assert!(out.stderr.contains(&addr), "{}", out.stderr);
    drop(taken);
}
