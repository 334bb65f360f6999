//! `commerce admin:user:create`, then signing in as that user over HTTP.
//! On the SQLite data dir and on PostgreSQL.

use crate::common::{admin_login, cli_owned, db_args, serve_admin, with_db, Server};
use reqwest::StatusCode;

testkit::both_backends!(crate::common::Db; fn create_user);

async fn create_user(db: &crate::common::Db) {
    let db = db.url();
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let db_args = db_args(db.as_deref());
    let run = |args: &[&str]| cli_owned(data, with_db(args, db.as_deref()));
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
    let mut serve = serve_admin(&["--account-url", "http://127.0.0.1:9"]);
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
