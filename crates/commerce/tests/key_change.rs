//! `encryption:key:change` with the real binary (issue 16, item 5), on
//! SQLite and PostgreSQL: a second line in `crypt.key`, the stored secret
//! re-encrypted under version 2 and still the same value, nothing secret
//! printed; and with `crypt.key` gone the command refuses in one line.

mod common;

use std::path::Path;

use common::{cli, fresh_pg, KEY_PATH};
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
