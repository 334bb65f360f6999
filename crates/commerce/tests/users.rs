//! `commerce admin:user:create`, then signing in as that user over HTTP.
//! On the SQLite data dir and on PostgreSQL.

mod common;

use common::{admin_login, cli, fresh_pg, Server};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    create_user(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let pg = fresh_pg().await;
    create_user(Some(pg.url.clone())).await;
}

async fn create_user(db: Option<String>) {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let db_args: Vec<&str> = match &db {
        Some(url) => vec!["--database-url", url.as_str()],
        None => Vec::new(),
    };
    let run = |args: &[&str]| {
        let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        all.extend(db_args.iter().map(|s| (*s).to_owned()));
        async move {
            let argv: Vec<&str> = all.iter().map(String::as_str).collect();
            cli(data, &argv).await
        }
    };
    let password = "long enough pass";

    let out = run(&[
        "admin:user:create",
        "--username",
        "bob",
        "--password",
        password,
        "--email",
        "bob@example.com",
    ])
    .await;
    assert!(out.ok(), "{out:?}");
    assert_eq!(out.stdout, "Created admin user bob.\n");
    assert!(!out.stdout.contains(password) && !out.stderr.contains(password));

    // The same username again: refused.
    let out = run(&[
        "admin:user:create",
        "--username",
        "bob",
        "--password",
        "another long password",
        "--email",
        "bob2@example.com",
    ])
    .await;
    out.assert_clean_error("duplicate user");
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);

    // Too short a password, a bad email, a bad username: refused, password not echoed.
    let out = run(&[
        "admin:user:create",
        "--username",
        "carol",
        "--password",
        "short pw",
        "--email",
        "carol@example.com",
    ])
    .await;
    out.assert_clean_error("short password");
    assert!(out.stderr.contains("at least 12"), "{}", out.stderr);
    assert!(!out.stderr.contains("short pw"));
    let out = run(&[
        "admin:user:create",
        "--username",
        "carol",
        "--password",
        "long enough pass",
        "--email",
        "not-an-email",
    ])
    .await;
    out.assert_clean_error("bad email");
    let out = run(&[
        "admin:user:create",
        "--username",
        "carol smith",
        "--password",
        "long enough pass",
        "--email",
        "carol@example.com",
    ])
    .await;
    out.assert_clean_error("bad username");
    let out = run(&["admin:user:create", "--username", "carol"]).await;
    out.assert_clean_error("missing flags");

    // The Admin alone on that database: bob exists, so no generated admin; bob signs in.
    let mut serve = vec![
        "serve",
        "admin",
        "--admin-addr",
        "127.0.0.1:0",
        "--account-url",
        "http://127.0.0.1:9",
    ];
    serve.extend(db_args.iter().copied());
    let server = Server::start(data, &serve, "Commerce Admin: ").await;
    assert!(
        server
            .lines()
            .iter()
            .all(|l| !l.contains("Admin user created")),
        "{:?}",
        server.lines()
    );
    let base = server.admin_base();
    let (status, sid) = admin_login(&base, "bob", password).await;
    assert_eq!(status, StatusCode::OK);
    assert!(sid.is_some());
    let (status, sid) = admin_login(&base, "bob", "long enough pas").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(sid.is_none());
    let (status, _) = admin_login(&base, "carol", "long enough pass").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "carol was never created");
    let log = server.stderr();
    assert_eq!(server.terminate().await, Some(0));
    assert!(!log.contains(password));
}
