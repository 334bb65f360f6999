//! `db:backup` with the real binary (issue 16, item 4): a copy taken while
//! clients create keys in a loop is sound (`PRAGMA integrity_check` = ok) and,
//! served, finds valid every key acknowledged before the backup began; bad
//! input gets one line on stderr and a non-zero exit.

use std::path::Path;
use std::time::Duration;

use crate::common::{cli, http, signup, verify, KeyLoad, Server};
use reqwest::StatusCode;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

const READY: &str = "Account service: ";

async fn serve_account(data: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["serve", "account", "--account-addr", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(data, &args, READY).await
}

async fn integrity_check(db: &Path) -> String {
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .connect()
        .await
        .expect("open the copy");
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .expect("integrity check");
    conn.close().await.expect("close");
    check
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_under_write_load_keeps_every_acknowledged_key() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    let server = serve_account(&data, &[]).await;
    let base = server.account_url();
    let sid = signup(&base).await;

    // Three clients create keys as fast as they are answered until told to stop.
    let load = KeyLoad::start(&base, &sid, 3, "load");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before = load.keys();
    let copy = dir.path().join("backups").join("account-copy.db");
    std::fs::create_dir(copy.parent().expect("a dir")).expect("make the backup dir");
    let copy_text = copy.to_str().expect("UTF-8");
    let out = cli(&data, &["db:backup", "--to", copy_text]).await;
    assert!(out.ok(), "{out:?}");
    assert!(out.stdout.contains("account-copy.db"), "{out:?}");
    // The load went on during the backup.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let load = load.stop(Duration::from_secs(20)).await;
    let refused = load.refused.lock().expect("lock").clone();
    assert!(
        refused.is_empty(),
        "every creation answered 201: {refused:?}"
    );
    let unanswered = load.unanswered.lock().expect("lock").clone();
    assert!(
        unanswered.is_empty(),
        "every creation answered: {unanswered:?}"
    );
    let total = load.keys().len();
    assert!(
        before.len() >= 5,
        "keys before the backup: {}",
        before.len()
    );
    assert!(total > before.len(), "keys created during and after it");

    // Only the copy is left in the backup dir (no temp file), private.
    let names: Vec<_> = std::fs::read_dir(copy.parent().expect("dir"))
        .expect("read the backup dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("account-copy.db")]);
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).expect("copy").permissions().mode();
        assert_eq!(mode & 0o077, 0, "the copy is private");
    }
    assert_eq!(integrity_check(&copy).await, "ok");
    assert_eq!(server.terminate().await, Some(0));

    // Restored: served from the copy, every key acknowledged before the backup verifies.
    let restored_dir = dir.path().join("restored");
    let url = format!("sqlite://{copy_text}");
    let restored = serve_account(&restored_dir, &["--database-url", &url]).await;
    let base = restored.account_url();
    let client = http();
    for key in &before {
        let (status, v) = verify(&client, &base, key).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(
            v["status"], "valid",
            "a key acknowledged before the backup: {v}"
        );
    }
    assert_eq!(restored.terminate().await, Some(0));
    assert_eq!(integrity_check(&copy).await, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_one_line_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    // A database to copy.
    let out = cli(
        &data,
        &["config:set", "general/store_information/name", "Shop"],
    )
    .await;
    assert!(out.ok(), "{out:?}");
    let admin_url = format!("sqlite://{}", data.join("admin.db").display());
    let ok = dir.path().join("ok.db");
    let ok_text = ok.to_str().expect("UTF-8");
    let out = cli(
        &data,
        &["db:backup", "--to", ok_text, "--database-url", &admin_url],
    )
    .await;
    assert!(out.ok(), "{out:?}");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").expect("test setup");
    let under_file = format!("{}/x.db", file.display());
    let missing_dir = format!("{}/missing/x.db", dir.path().display());
    let fresh = dir.path().join("new.db");
    let fresh = fresh.to_str().expect("UTF-8");
    let cases: &[(&str, Vec<&str>)] = &[
        (
            "missing --to",
            vec!["db:backup", "--database-url", &admin_url],
        ),
        (
            "an existing target",
            vec!["db:backup", "--to", ok_text, "--database-url", &admin_url],
        ),
        (
            "a dir without the permission",
            vec![
                "db:backup",
                "--to",
                "/sys/x.db",
                "--database-url",
                &admin_url,
            ],
        ),
        (
            "under a file",
            vec![
                "db:backup",
                "--to",
                &under_file,
                "--database-url",
                &admin_url,
            ],
        ),
        (
            "a missing dir",
            vec![
                "db:backup",
                "--to",
                &missing_dir,
                "--database-url",
                &admin_url,
            ],
        ),
        (
            "an empty --to",
            vec!["db:backup", "--to", "", "--database-url", &admin_url],
        ),
        ("no such database", vec!["db:backup", "--to", fresh]),
        (
            "a NUL byte, percent-encoded",
            vec![
                "db:backup",
                "--to",
                fresh,
                "--database-url",
                "sqlite://a%00b.db",
            ],
        ),
        (
            "an in-memory database",
            vec![
                "db:backup",
                "--to",
                fresh,
                "--database-url",
                "sqlite::memory:",
            ],
        ),
        (
            "another scheme",
            vec!["db:backup", "--to", fresh, "--database-url", "mysql://h/db"],
        ),
    ];
    for (what, args) in cases {
        let out = cli(&data, args).await;
        out.assert_clean_error(what);
    }
    assert!(!Path::new(fresh).exists(), "nothing written on a refusal");
    assert!(!std::fs::read(&ok).expect("the first copy").is_empty());

    // PostgreSQL: says to use pg_dump, never repeats the URL (it may hold a password).
    let out = cli(
        &data,
        &[
            "db:backup",
            "--to",
            fresh,
            "--database-url",
            "postgres://u:hunter2@127.0.0.1/db",
        ],
    )
    .await;
    out.assert_clean_error("a PostgreSQL URL");
    assert!(out.stderr.contains("pg_dump"), "{out:?}");
    assert!(!out.stderr.contains("hunter2"), "{out:?}");
}
