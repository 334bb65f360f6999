//! `commerce serve`: first start, second start, health, SIGTERM. With the
//! embedded SQLite databases under the data dir, and with both sides on
//! PostgreSQL (`--database-url`, `--admin-database-url`).

use crate::common::{admin_key_status, admin_login, fresh_pg, http, Server, SERVE_BOTH};
use reqwest::StatusCode;

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
    let mut args: Vec<&str> = SERVE_BOTH.to_vec();
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
    let out = crate::common::cli(dir.path(), &args).await;
    out.assert_clean_error("a port in use");
    assert!(out.stderr.contains(&addr), "{}", out.stderr);
    drop(taken);
}

/// The process's resident memory and its peak so far, in KiB (`/proc`).
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in {status}"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The probe's attack: 1,500 connections each sending an unfinished
/// 390 KB header raised the account service from 240 to 648 MB, and it
/// stayed there. Now each head is cut at 32 KB with 431, connections at
/// once are capped, and memory stays bounded and comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_huge_headers_do_not_hold_memory() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().expect("test setup");
    let server = Server::start(
        dir.path(),
        &["serve", "account", "--account-addr", "127.0.0.1:0"],
        "Account service:",
    )
    .await;
    let base = server.account_url();
    let addr = base.trim_start_matches("http://").to_owned();
    healthz(&base).await;
    let (idle, _) = rss_kib(server.pid());

    const CONNECTIONS: usize = 1500;
    const HEADER: usize = 390 * 1024;
    let mut attack = tokio::task::JoinSet::new();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(CONNECTIONS));
    for _ in 0..CONNECTIONS {
        let (addr, gate) = (addr.clone(), gate.clone());
        attack.spawn(async move {
            let _open = gate.acquire_owned().await.expect("gate");
            let mut s = tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect");
            let mut head =
                format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nX-Filler: ").into_bytes();
            head.resize(HEADER, b'a');
            // The server stops reading after its cap: a write may fail.
            let _ = s.write_all(&head).await;
            let mut answer = Vec::new();
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(20),
                s.read_to_end(&mut answer),
            )
            .await;
            String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 431")
        });
    }
    let mut refused = 0;
    while let Some(r) = attack.join_next().await {
        refused += usize::from(r.expect("join"));
    }
    let (after, peak) = rss_kib(server.pid());
    assert!(
        refused >= CONNECTIONS * 9 / 10,
        "answered 431: {refused} of {CONNECTIONS}"
    );
    assert!(peak < 300 * 1024, "peak RSS {peak} KiB (idle {idle} KiB)");
    assert!(
        after < idle + 64 * 1024,
        "RSS {after} KiB after the attack, idle {idle} KiB, peak {peak} KiB"
    );
    // Still serving.
    healthz(&base).await;
    eprintln!("idle {idle} KiB, peak {peak} KiB, after {after} KiB, 431 answers {refused}");
    server.terminate().await;
}
