//! `encryption:key:change` with the real binary (issue 16, item 5), on
//! SQLite and PostgreSQL: a second line in `crypt.key`, the stored secret
//! re-encrypted under version 2 and still the same value, nothing secret
//! printed; and with `crypt.key` gone the command refuses in one line.

use std::path::Path;

use crate::common::{cli, fresh_pg, KEY_PATH};
use sqlx::Connection;

async fn raw_value(url: &str) -> String {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect");
    sqlx::query_scalar::<_, String>("SELECT value FROM core_config_data WHERE path = $1")
        .bind(KEY_PATH)
        .fetch_one(&mut conn)
        .await
        .expect("the stored key")
}

async fn rotate_with_the_binary(data: &Path, url: &str) {
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let db = ["--database-url", url];
    let out = cli(
        data,
        &[&["config:set", KEY_PATH, key.expose()][..], &db].concat(),
    )
    .await;
    assert!(out.ok(), "{out:?}");
    let before = raw_value(url).await;
    assert!(before.starts_with("1:3:"), "{before}");

    let out = cli(data, &[&["encryption:key:change"][..], &db].concat()).await;
    assert!(out.ok(), "{out:?}");
    assert!(
        out.stdout.contains("version 2") && out.stdout.contains("re-encrypted 1 stored value"),
        "{out:?}"
    );
    let key_file = data.join("crypt.key");
    let lines = std::fs::read_to_string(&key_file).expect("the key file");
    assert_eq!(lines.lines().count(), 2);
    for line in lines.lines() {
        assert!(!out.stdout.contains(line) && !out.stderr.contains(line));
    }
    assert!(!out.stdout.contains(key.expose()) && !out.stderr.contains(key.expose()));

    let after = raw_value(url).await;
    assert!(after.starts_with("2:3:"), "{after}");
    assert_ne!(before, after);
    let crypto = admin::crypto::Crypto::open_or_create(&key_file).expect("the key file");
    assert_eq!(
        crypto.decrypt(KEY_PATH, &after).expect("decrypts"),
        key.expose()
    );
    assert_eq!(
        crypto
            .decrypt(KEY_PATH, &before)
            .expect("v1 still decrypts"),
        key.expose()
    );

    // Without the key file it refuses rather than make a key that reads nothing.
    std::fs::remove_file(&key_file).expect("remove the key file");
    let out = cli(data, &[&["encryption:key:change"][..], &db].concat()).await;
    out.assert_clean_error("no key file");
    assert!(!key_file.exists(), "no new key made");
    assert_eq!(raw_value(url).await, after, "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_change_on_sqlite() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    let url = format!("sqlite://{}", data.join("admin.db").display());
    rotate_with_the_binary(&data, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_change_on_postgres() {
    let dir = tempfile::tempdir().expect("test setup");
    let pg = fresh_pg().await;
    rotate_with_the_binary(dir.path(), &pg.url).await;
}

/// The probe's attack with the real binary: several `encryption:key:change`
/// started at once on one data dir. Each exits 0 or refuses in one line;
/// the key file gains one line per run that succeeded; the stored key still
/// decrypts (`config:show` shows it, masked); no copy of the keys is left.
async fn parallel_runs_with_the_binary(data: &Path, url: &str) {
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let db = ["--database-url", url];
    let out = cli(
        data,
        &[&["config:set", KEY_PATH, key.expose()][..], &db].concat(),
    )
    .await;
    assert!(out.ok(), "{out:?}");
    let args: Vec<String> = ["encryption:key:change", "--database-url", url]
        .map(String::from)
        .to_vec();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let (data, args) = (data.to_path_buf(), args.clone());
            tokio::spawn(async move {
                let args: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
                cli(&data, &args).await
            })
        })
        .collect();
    let mut outs = Vec::new();
    for run in runs {
        outs.push(run.await.expect("join"));
    }
    let mut succeeded = 0;
    for out in &outs {
        if out.ok() {
            succeeded += 1;
        } else {
            out.assert_clean_error("a concurrent rotation");
            assert!(
                out.stderr.contains("another encryption:key:change"),
                "{out:?}"
            );
        }
    }
    assert!(succeeded >= 1, "{outs:?}");
    let key_file = data.join("crypt.key");
    let lines = std::fs::read_to_string(&key_file).expect("the key file");
    assert_eq!(lines.lines().count(), 1 + succeeded, "{outs:?}");
    let crypto = admin::crypto::Crypto::open_or_create(&key_file).expect("the key file");
    let stored = raw_value(url).await;
    assert!(
        stored.starts_with(&format!("{}:3:", 1 + succeeded)),
        "{stored}"
    );
    assert_eq!(
        crypto.decrypt(KEY_PATH, &stored).expect("decrypts"),
        key.expose()
    );
    let shown = cli(data, &[&["config:show", KEY_PATH][..], &db].concat()).await;
    assert!(shown.ok(), "{shown:?}");
    let masked = shown
        .stdout
        .trim()
        .strip_prefix(&format!("{KEY_PATH} ="))
        .unwrap_or_default();
    assert!(
        !masked.trim().is_empty() && !masked.contains(key.expose()),
        "{shown:?}"
    );
    let stray: Vec<_> = std::fs::read_dir(data)
        .expect("the data dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_key_changes_on_sqlite() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    let url = format!("sqlite://{}", data.join("admin.db").display());
    parallel_runs_with_the_binary(&data, &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_key_changes_on_postgres() {
    let dir = tempfile::tempdir().expect("test setup");
    let pg = fresh_pg().await;
    parallel_runs_with_the_binary(dir.path(), &pg.url).await;
}
