//! Data-key rotation (`encryption:key:change`), on SQLite and PostgreSQL:
//! after it every secret reads the same, is stored under the new version and
//! no longer as before; the old version still decrypts what it wrote; and an
//! interruption (the key file written but the transaction never committed)
//! leaves every value readable.

use crate::common::Env;
use admin::config::{
    ConfigStore, ScopeRef, PRODUCTION_API_KEY, PRODUCTION_PRIVATE_KEY, SANDBOX_API_KEY,
};
use admin::crypto::{Crypto, CryptoError, KeyFileLock};
use admin::rotation;
use admin::rotation::RotateError;
use keys::{ApiKey, Environment};

const STORE_NAME: &str = "general/store_information/name";
const NOW: i64 = 1_800_000_000;
const PEM: &str =
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";

both_backends!(
    rotation_reencrypts_every_secret,
    interrupted_rotation_leaves_everything_readable,
    concurrent_rotations_never_lose_a_secret,
    a_rotation_waits_for_none_and_refuses_while_another_holds_a_lock,
);

/// Every stored `(path, raw value)`, in a stable order.
async fn raw_values(db: &web::db::Db) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT path, value FROM core_config_data ORDER BY path, scope, scope_id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("read core_config_data")
}

/// Stores two keys and a private key (encrypted) and a store name (plain).
async fn seed(db: &web::db::Db, crypto: &Crypto) -> Vec<(&'static str, String)> {
    let cfg = ConfigStore { db, crypto };
    let values = vec![
        (
            PRODUCTION_API_KEY,
            ApiKey::generate(Environment::Production)
                .expose()
                .to_owned(),
        ),
        (
            SANDBOX_API_KEY,
            ApiKey::generate(Environment::Sandbox).expose().to_owned(),
        ),
        (PRODUCTION_PRIVATE_KEY, PEM.to_owned()),
        (STORE_NAME, "Main Shop".to_owned()),
    ];
    for (path, value) in &values {
        cfg.set(path, value, ScopeRef::DEFAULT, NOW)
            .await
            .expect("set a value");
    }
    values
}

async fn assert_readable(db: &web::db::Db, crypto: &Crypto, values: &[(&str, String)]) {
    let cfg = ConfigStore { db, crypto };
    for (path, value) in values {
        let read = cfg.get_at(path, ScopeRef::DEFAULT).await.expect("read");
        assert_eq!(read.as_deref(), Some(value.as_str()), "{path} reads back");
    }
}

async fn rotation_reencrypts_every_secret(env: &Env) {
    let db = env.admin_db().await;
    let first = env.crypto();
    let values = seed(&db, &first).await;
    let before = raw_values(&db).await;
    let old_private_key = first.encrypt("some/path", "written before");

    let (rotated, done) = rotation::change_key(&db, &env.key_file())
        .await
        .expect("rotate");
    assert_eq!(done.version, 2);
    assert_eq!(done.reencrypted, 3, "the three secrets, not the store name");
    let key_file = std::fs::read_to_string(env.key_file()).expect("read the key file");
    assert_eq!(key_file.lines().count(), 2, "the old key stays in the file");

    let after = raw_values(&db).await;
    for ((path, old), (_, new)) in before.iter().zip(&after) {
        if path == STORE_NAME {
            assert_eq!(old, new, "a plain value is left alone");
            continue;
        }
        assert!(old.starts_with("1:3:"), "{path} was under version 1");
        assert!(new.starts_with("2:3:"), "{path} is under version 2: {new}");
        assert_ne!(old, new, "{path}: the ciphertext changed");
    }
    for (path, value) in values.iter().filter(|(p, _)| *p != STORE_NAME) {
        assert!(
            !after.iter().any(|(_, raw)| raw.contains(value.as_str())),
            "{path}: not stored in the clear"
        );
    }
    assert_readable(&db, &rotated, &values).await;
    // A fresh start reads the file and sees the same.
    assert_readable(&db, &env.crypto(), &values).await;
    // The old version still decrypts what it wrote.
    assert_eq!(
        rotated
            .decrypt("some/path", &old_private_key)
            .expect("version 1 still decrypts"),
        "written before"
    );
    // The instance opened before the rotation reads the new version too.
    assert_readable(&db, &first, &values).await;

    // Again: version 3, every secret moves again.
    let (_, again) = rotation::change_key(&db, &env.key_file())
        .await
        .expect("rotate again");
    assert_eq!((again.version, again.reencrypted), (3, 3));
    assert_readable(&db, &env.crypto(), &values).await;
}

async fn interrupted_rotation_leaves_everything_readable(env: &Env) {
    let db = env.admin_db().await;
    let values = seed(&db, &env.crypto()).await;
    let before = raw_values(&db).await;

    // Interrupted after the key file was written, before the transaction ran.
    let rotated = KeyFileLock::acquire(&env.key_file())
        .and_then(|l| l.add_key())
        .expect("add a key version")
        .0;
    assert_eq!(raw_values(&db).await, before, "nothing re-encrypted yet");
    assert_readable(&db, &rotated, &values).await;
    assert_readable(&db, &env.crypto(), &values).await;

    // Interrupted inside the transaction: re-encrypted, then rolled back.
    let rotated = KeyFileLock::acquire(&env.key_file())
        .and_then(|l| l.add_key())
        .expect("add another version")
        .0;
    let mut tx = db.pool.begin().await.expect("begin");
    let done = rotation::reencrypt(&mut tx, &rotated)
        .await
        .expect("re-encrypt");
    assert_eq!(done, 3);
    tx.rollback().await.expect("roll back");
    assert_eq!(raw_values(&db).await, before, "the rollback undid it all");
    assert_readable(&db, &env.crypto(), &values).await;

    // A later full run finishes the job.
    let (crypto, done) = rotation::change_key(&db, &env.key_file())
        .await
        .expect("rotate");
    assert_eq!((done.version, done.reencrypted), (4, 3));
    assert_readable(&db, &crypto, &values).await;

    // A value that does not decrypt stops the run and changes nothing.
    sqlx::query("UPDATE core_config_data SET value = $1 WHERE path = $2")
        .bind("1:3:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .bind(SANDBOX_API_KEY)
        .execute(&db.pool)
        .await
        .expect("alter a value");
    let stored = raw_values(&db).await;
    let err = rotation::change_key(&db, &env.key_file())
        .await
        .expect_err("an altered value stops the rotation");
    let text = err.to_string();
    assert!(text.contains(SANDBOX_API_KEY), "names the path: {text}");
    assert!(!values.iter().any(|(_, v)| text.contains(v.as_str())));
    assert_eq!(raw_values(&db).await, stored, "nothing changed");
    // And the failed run took its key version out again.
    assert_eq!(key_lines(env), 4, "no line added by the failed run");
}

fn key_lines(env: &Env) -> usize {
    std::fs::read_to_string(env.key_file())
        .expect("read the key file")
        .lines()
        .count()
}

/// Whatever is left in the key file's dir besides the key file, its lock
/// and the databases: never a copy of the keys.
fn stray_key_copies(env: &Env) -> Vec<String> {
    std::fs::read_dir(env.key_file().parent().expect("dir"))
        .expect("read the dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("crypt.key") && n != "crypt.key" && n != "crypt.key.lock")
        .collect()
}

/// The probe's attack: rotations fired at once on one data dir. Each is
/// done or refused with [`CryptoError::Busy`]; the key file gains exactly one
/// line per rotation done; every value decrypts with the file as it is.
async fn concurrent_rotations_never_lose_a_secret(env: &Env) {
    let db = env.admin_db().await;
    let values = seed(&db, &env.crypto()).await;
    for round in 0..3 {
        let lines_before = key_lines(env);
        let runs = (0..6).map(|_| {
            let (db, file) = (db.clone(), env.key_file());
            tokio::spawn(async move { rotation::change_key(&db, &file).await })
        });
        let mut done = Vec::new();
        for run in runs {
            match run.await.expect("join") {
                Ok((_, rotated)) => done.push(rotated.version),
                Err(RotateError::KeyFile(CryptoError::Busy(_)) | RotateError::Busy) => {}
                Err(e) => panic!("round {round}: a rotation failed: {e}"),
            }
        }
        assert!(!done.is_empty(), "round {round}: one rotation at least ran");
        done.sort_unstable();
        let expected: Vec<usize> = (lines_before + 1..=lines_before + done.len()).collect();
        assert_eq!(done, expected, "round {round}: each version numbered once");
        assert_eq!(key_lines(env), lines_before + done.len());
        assert_readable(&db, &env.crypto(), &values).await;
        let current = format!("{}:3:", key_lines(env));
        for (path, raw) in raw_values(&db).await {
            if path != STORE_NAME {
                assert!(
                    raw.starts_with(&current),
                    "{path} is under the newest version"
                );
            }
        }
        assert_eq!(stray_key_copies(env), Vec::<String>::new());
    }
}

/// Deterministic: while the key file's lock is held a rotation is refused
/// at once; while the database's is held (another node, another copy of the
/// key file) it is refused on PostgreSQL and waits on SQLite; neither run
/// adds a line to the key file.
async fn a_rotation_waits_for_none_and_refuses_while_another_holds_a_lock(env: &Env) {
    let db = env.admin_db().await;
    let values = seed(&db, &env.crypto()).await;
    let held = KeyFileLock::acquire(&env.key_file()).expect("lock");
    let err = rotation::change_key(&db, &env.key_file())
        .await
        .expect_err("refused while the lock is held");
    assert!(
        matches!(err, RotateError::KeyFile(CryptoError::Busy(_))),
        "{err}"
    );
    assert!(
        err.to_string().contains("another encryption:key:change"),
        "{err}"
    );
    drop(held);
    assert_eq!(key_lines(env), 1);

    // Another node: the same database, its own copy of the key file.
    let other_dir = tempfile::tempdir().expect("dir");
    let other_file = other_dir.path().join("crypt.key");
    std::fs::copy(env.key_file(), &other_file).expect("copy the key file");
    let mut tx = db.pool.begin().await.expect("begin");
    rotation::lock_database(&mut tx, db.backend)
        .await
        .expect("the database's lock");
    match db.backend {
        web::db::Backend::Postgres => {
            let err = rotation::change_key(&db, &other_file)
                .await
                .expect_err("refused while another node rotates");
            assert!(matches!(err, RotateError::Busy), "{err}");
            tx.rollback().await.expect("release");
        }
        web::db::Backend::Sqlite => {
            // SQLite: the second writer waits for the first to finish.
            let waiting = tokio::spawn({
                let (db, file) = (db.clone(), other_file.clone());
                async move { rotation::change_key(&db, &file).await }
            });
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            assert!(!waiting.is_finished(), "it waits for the write lock");
            assert_eq!(
                std::fs::read_to_string(&other_file)
                    .expect("read")
                    .lines()
                    .count(),
                1,
                "no version numbered before the database's lock is held"
            );
            tx.rollback().await.expect("release");
            waiting.await.expect("join").expect("then it rotates");
        }
    }
    assert_eq!(key_lines(env), 1, "this node's file is untouched");
    let other = Crypto::open_or_create(&other_file).expect("the other node's keys");
    assert_readable(&db, &other, &values).await;
}
