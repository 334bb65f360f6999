//! Files and keys with the real binary (issue 12, item 10): the data dir is
//! created 0700 and the databases with their -wal/-shm files 0600; the
//! read-only commands create no data dir; and when encrypted values exist but
//! `crypt.key` is gone, every command refuses with one line instead of making
//! a new key (and reporting the stored key `missing`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::{cli, cli_owned, fresh_pg, serve_admin, with_db, Server, KEY_PATH, SERVE_BOTH};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_and_databases_are_private() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("nested").join("var");
    let server = Server::start(&data, SERVE_BOTH, "Commerce Admin: ").await;
    // Some writes while it runs, so the WAL files are there.
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let out = cli(&data, &["config:set", KEY_PATH, key.expose()]).await;
    assert!(out.ok(), "{out:?}");
    crate::common::signup(&server.account_url()).await;
    assert_eq!(mode(&data), 0o700, "the data dir");
    let mut seen = Vec::new();
    for db in ["admin.db", "account.db"] {
        for suffix in ["", "-wal", "-shm"] {
            let name = format!("{db}{suffix}");
            let path = data.join(&name);
            assert!(path.exists(), "{name} exists while serving");
            assert_eq!(mode(&path), 0o600, "{name}");
            seen.push(name);
        }
    }
    // Nothing in the data dir is readable by others.
    for entry in std::fs::read_dir(&data).expect("read the data dir") {
        let path = entry.expect("entry").path();
        assert_eq!(mode(&path) & 0o077, 0, "{}", path.display());
    }
    assert_eq!(server.terminate().await, Some(0));

    // A database left readable by an older version is narrowed on the next start.
    let admin_db = data.join("admin.db");
    std::fs::set_permissions(&admin_db, std::fs::Permissions::from_mode(0o644)).expect("setup");
    let out = cli(
        &data,
        &["config:set", "general/store_information/name", "Shop"],
    )
    .await;
    assert!(out.ok(), "{out:?}");
    assert_eq!(mode(&admin_db), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_create_nothing() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    let out = cli(&data, &["config:show"]).await;
    assert!(out.ok(), "{out:?}");
    assert!(
        out.stdout
            .contains("services_connector/production_gateway_url = http://127.0.0.1:8080"),
        "the defaults are shown: {out:?}"
    );
    let out = cli(&data, &["config:show", KEY_PATH]).await;
    out.assert_clean_error("no key set");
    let out = cli(
        &data,
        &[
            "channel:amazon:verify",
            "--account-url",
            "http://127.0.0.1:9",
        ],
    )
    .await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.stdout.lines().next(), Some("status: missing"));
    assert!(!data.exists(), "no data dir was created");

    // An existing data dir without a database: still nothing created in it.
    std::fs::create_dir(&data).expect("setup");
    let out = cli(&data, &["config:show"]).await;
    assert!(out.ok(), "{out:?}");
    let out = cli(&data, &["channel:amazon:verify"]).await;
    assert_eq!(out.stdout.lines().next(), Some("status: missing"));
    let left: Vec<_> = std::fs::read_dir(&data).expect("read").collect();
    assert!(left.is_empty(), "nothing written: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_key_file_is_refused_sqlite() {
    missing_key_file_is_refused(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_key_file_is_refused_postgres() {
    let pg = fresh_pg().await;
    missing_key_file_is_refused(Some(pg.url.clone())).await;
}

async fn missing_key_file_is_refused(db: Option<String>) {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let run = |a: &[&str]| cli_owned(data, with_db(a, db.as_deref()));
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let out = run(&["config:set", KEY_PATH, key.expose()]).await;
    assert!(out.ok(), "{out:?}");
    let key_file = data.join("crypt.key");
    assert!(key_file.exists());
    let saved = std::fs::read(&key_file).expect("setup");
    std::fs::remove_file(&key_file).expect("setup");

    let commands: Vec<Vec<&str>> = vec![
        vec!["config:show"],
        vec!["config:show", KEY_PATH],
        vec![
            "channel:amazon:verify",
            "--account-url",
            "http://127.0.0.1:9",
        ],
        vec!["config:set", "general/store_information/name", "Shop"],
        vec!["config:set", KEY_PATH, key.expose()],
        vec![
            "admin:user:create",
            "--username",
            "eve",
            "--password",
            "long enough pass",
            "--email",
            "eve@example.com",
        ],
        vec!["admin:user:password", "--username", "admin"],
        serve_admin(&["--account-url", "http://127.0.0.1:9"]),
    ];
    let mut commands = commands;
    if db.is_none() {
        // Both sides: refused before the account service listens.
        commands.push(SERVE_BOTH.to_vec());
    }
    for c in &commands {
        let out = run(c).await;
        out.assert_clean_error(&format!("{c:?}"));
        assert!(
            out.stderr.contains("crypt.key") && out.stderr.contains("missing"),
            "{c:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{c:?}: nothing on stdout: {out:?}");
        assert!(!key_file.exists(), "{c:?} made a new key file");
        assert!(!out.stderr.contains(key.expose()));
    }

    // With the file back, all is as before.
    std::fs::write(&key_file, &saved).expect("restore the key file");
    let out = run(&["config:show", KEY_PATH]).await;
    assert_eq!(out.stdout, format!("{KEY_PATH} = ******\n"), "{out:?}");
}
