//! The scoped configuration store: fallback, scope rules, validation and
//! encryption at rest, on SQLite and PostgreSQL.

use crate::common::Env;
use admin::config::{
    self, ConfigStore, Scope, ScopeRef, GATEWAY_URL, MASK, PRODUCTION_API_KEY,
    PRODUCTION_PRIVATE_KEY, SANDBOX_API_KEY, SANDBOX_PRIVATE_KEY,
};
use admin::error::AdminError;
use keys::{ApiKey, Environment};

const STORE_NAME: &str = "general/store_information/name";
const NOW: i64 = 1_800_000_000;

both_backends!(
    fallback_store_website_default,
    secrets_are_default_scope_only,
    secrets_are_encrypted_at_rest_and_masked,
    validation_errors_and_clearing,
);

/// `cfg.get`, which must answer.
async fn get(cfg: &ConfigStore<'_>, path: &str, at: ScopeRef) -> Option<String> {
    cfg.get(path, at).await.expect("the config store answers")
}

/// `cfg.set` at `NOW`, which must answer; whether anything changed.
async fn set(cfg: &ConfigStore<'_>, path: &str, value: &str, at: ScopeRef) -> bool {
    cfg.set(path, value, at, NOW)
        .await
        .expect("the config store answers")
}

fn invalid_msg(r: Result<bool, AdminError>) -> &'static str {
    match r {
        Err(AdminError::InvalidConfig(e)) => e.msg,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn raw_value(db: &web::db::Db, at: ScopeRef, path: &str) -> Option<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT value FROM core_config_data WHERE scope = $1 AND scope_id = $2 AND path = $3",
    )
    .bind(at.scope.as_str())
    .bind(at.id)
    .bind(path)
    .fetch_optional(&db.pool)
    .await
    .expect("read core_config_data")
}

async fn fallback_store_website_default(env: &Env) {
    let db = env.admin_db().await;
    let crypto = env.crypto();
    let cfg = ConfigStore {
        db: &db,
        crypto: &crypto,
    };
    let website = config::resolve_scope(&db, Scope::Websites, Some("base"))
        .await
        .expect("the base website exists");
    let store = config::resolve_scope(&db, Scope::Stores, Some("default"))
        .await
        .expect("the default store view exists");
    assert_eq!(website.scope, Scope::Websites);
    assert_eq!(store.scope, Scope::Stores);

    // Nothing set: no value anywhere (the field has no default).
    assert_eq!(get(&cfg, STORE_NAME, store).await, None);

    // Set and read at default.
    assert!(set(&cfg, STORE_NAME, "Default Shop", ScopeRef::DEFAULT).await);
    assert_eq!(
        get(&cfg, STORE_NAME, ScopeRef::DEFAULT).await.as_deref(),
        Some("Default Shop")
    );
    // The store view and the website inherit it.
    assert_eq!(
        get(&cfg, STORE_NAME, store).await.as_deref(),
        Some("Default Shop")
    );
    assert_eq!(
        get(&cfg, STORE_NAME, website).await.as_deref(),
        Some("Default Shop")
    );
    assert_eq!(
        cfg.get_at(STORE_NAME, store)
            .await
            .expect("the config store answers"),
        None
    );

    // A website value wins over default for the store view under it.
    assert!(set(&cfg, STORE_NAME, "  Website Shop  ", website).await);
    assert_eq!(
        get(&cfg, STORE_NAME, store).await.as_deref(),
        Some("Website Shop"),
        "store view → website (trimmed)"
    );
    assert_eq!(
        get(&cfg, STORE_NAME, ScopeRef::DEFAULT).await.as_deref(),
        Some("Default Shop"),
        "the default value is untouched"
    );

    // A store-view value wins over both; clearing it falls back again.
    assert!(set(&cfg, STORE_NAME, "Store Shop", store).await);
    assert_eq!(
        get(&cfg, STORE_NAME, store).await.as_deref(),
        Some("Store Shop")
    );
    assert!(set(&cfg, STORE_NAME, "", store).await);
    assert_eq!(
        get(&cfg, STORE_NAME, store).await.as_deref(),
        Some("Website Shop")
    );

    // Clearing the website value: back to default; clearing again changes nothing.
    assert!(set(&cfg, STORE_NAME, "", website).await);
    assert_eq!(
        get(&cfg, STORE_NAME, store).await.as_deref(),
        Some("Default Shop")
    );
    assert_eq!(raw_value(&db, website, STORE_NAME).await, None);
    assert!(!set(&cfg, STORE_NAME, "   ", website).await);

    // Registry defaults apply when nothing is stored.
    assert_eq!(
        get(&cfg, GATEWAY_URL, ScopeRef::DEFAULT).await.as_deref(),
        Some(config::DEFAULT_GATEWAY_URL)
    );

    // Scope codes: missing and unknown are errors.
    let e = config::resolve_scope(&db, Scope::Websites, None)
        .await
        .expect_err("an error");
    assert_eq!(e.msg, "config.error.scope_code");
    let e = config::resolve_scope(&db, Scope::Stores, Some("nope"))
        .await
        .expect_err("an error");
    assert_eq!(e.msg, "config.error.unknown_scope");
    assert_eq!(
        config::resolve_scope(&db, Scope::Default, Some("ignored"))
            .await
            .expect("the config store answers"),
        ScopeRef::DEFAULT
    );
}

async fn secrets_are_default_scope_only(env: &Env) {
    let db = env.admin_db().await;
    let crypto = env.crypto();
    let cfg = ConfigStore {
        db: &db,
        crypto: &crypto,
    };
    let website = config::resolve_scope(&db, Scope::Websites, Some("base"))
        .await
        .expect("the config store answers");
    let store = config::resolve_scope(&db, Scope::Stores, Some("default"))
        .await
        .expect("the config store answers");
    let key = ApiKey::generate(Environment::Production);
    for path in [
        PRODUCTION_API_KEY,
        SANDBOX_API_KEY,
        PRODUCTION_PRIVATE_KEY,
        SANDBOX_PRIVATE_KEY,
    ] {
        for at in [website, store] {
            assert_eq!(
                invalid_msg(cfg.set(path, key.expose(), at, NOW).await),
                "config.error.scope_not_allowed",
                "{path} at {:?}",
                at.scope
            );
            assert_eq!(raw_value(&db, at, path).await, None, "nothing stored");
        }
    }
    // The gateway URL is default-only too.
    assert_eq!(
        invalid_msg(cfg.set(GATEWAY_URL, "http://x.test", website, NOW).await),
        "config.error.scope_not_allowed"
    );
    // The error reads as one English line for the CLI.
    let Err(AdminError::InvalidConfig(e)) = cfg.set(PRODUCTION_API_KEY, "x", website, NOW).await
    else {
        panic!("expected an error");
    };
    assert_eq!(
        e.to_string(),
        format!("{PRODUCTION_API_KEY}: This value can only be set at the default scope.")
    );
}

async fn secrets_are_encrypted_at_rest_and_masked(env: &Env) {
    let db = env.admin_db().await;
    let crypto = env.crypto();
    let cfg = ConfigStore {
        db: &db,
        crypto: &crypto,
    };
    let key = ApiKey::generate(Environment::Production);
    let plain = key.expose().to_owned();
    assert!(cfg
        .set(
            PRODUCTION_API_KEY,
            &format!(" {plain}\n"),
            ScopeRef::DEFAULT,
            NOW
        )
        .await
        .expect("the config store answers"));
    set(&cfg, STORE_NAME, "Visible Shop", ScopeRef::DEFAULT).await;

    let raw = raw_value(&db, ScopeRef::DEFAULT, PRODUCTION_API_KEY)
        .await
        .expect("a row for the key");
    assert!(raw.starts_with("1:3:"), "versioned ciphertext: {raw}");
    assert!(!raw.contains(&plain), "the row holds no plaintext");
    // Not even the random part of the key.
    assert!(!raw.contains(&plain[9..30]));
    assert_eq!(
        get(&cfg, PRODUCTION_API_KEY, ScopeRef::DEFAULT)
            .await
            .as_deref(),
        Some(plain.as_str()),
        "decrypts to the trimmed key"
    );

    // Saving the same key again encrypts with a fresh nonce.
    set(&cfg, PRODUCTION_API_KEY, &plain, ScopeRef::DEFAULT).await;
    let raw2 = raw_value(&db, ScopeRef::DEFAULT, PRODUCTION_API_KEY)
        .await
        .expect("the config store answers");
    assert_ne!(raw, raw2);

    // show_all masks secrets and shows the rest.
    let all = cfg.show_all().await.expect("the config store answers");
    let shown = |p: &str| {
        all.iter()
            .find(|(at, path, _)| *at == ScopeRef::DEFAULT && path == p)
            .map(|(_, _, v)| v.clone())
    };
    assert_eq!(shown(PRODUCTION_API_KEY).as_deref(), Some(MASK));
    assert_eq!(shown(STORE_NAME).as_deref(), Some("Visible Shop"));
    assert!(
        all.iter().all(|(_, _, v)| !v.contains(&plain)),
        "show_all never shows the key"
    );

    // The key file is what decrypts: reopened, it still works; another one does not.
    let reopened = env.crypto();
    let again = ConfigStore {
        db: &db,
        crypto: &reopened,
    };
    assert_eq!(
        again
            .get(PRODUCTION_API_KEY, ScopeRef::DEFAULT)
            .await
            .expect("the config store answers")
            .as_deref(),
        Some(plain.as_str())
    );
    let other_dir = tempfile::tempdir().expect("the config store answers");
    let other = admin::crypto::Crypto::open_or_create(&other_dir.path().join("crypt.key"))
        .expect("the config store answers");
    let wrong = ConfigStore {
        db: &db,
        crypto: &other,
    };
    assert_eq!(
        wrong
            .get(PRODUCTION_API_KEY, ScopeRef::DEFAULT)
            .await
            .expect("the config store answers"),
        None,
        "a foreign key file does not reveal the value"
    );

    // The ciphertext is bound to its path: copied to another path it does not decrypt.
    sqlx::query(
        "INSERT INTO core_config_data (scope, scope_id, path, value, updated_at) VALUES ('default', 0, $1, $2, $3)",
    )
    .bind(SANDBOX_API_KEY)
    .bind(&raw2)
    .bind(NOW)
    .execute(&db.pool)
    .await
    .expect("the config store answers");
    assert_eq!(get(&cfg, SANDBOX_API_KEY, ScopeRef::DEFAULT).await, None);

    // Private keys (several lines) are secrets too.
    let pem = "-----BEGIN PRIVATE KEY-----\r\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\r\n-----END PRIVATE KEY-----";
    set(&cfg, PRODUCTION_PRIVATE_KEY, pem, ScopeRef::DEFAULT).await;
    let raw_pem = raw_value(&db, ScopeRef::DEFAULT, PRODUCTION_PRIVATE_KEY)
        .await
        .expect("the config store answers");
    assert!(raw_pem.starts_with("1:3:") && !raw_pem.contains("MIIEvQ"));
    assert_eq!(
        get(&cfg, PRODUCTION_PRIVATE_KEY, ScopeRef::DEFAULT)
            .await
            .as_deref(),
        Some(pem.replace("\r\n", "\n").as_str())
    );
}

async fn validation_errors_and_clearing(env: &Env) {
    let db = env.admin_db().await;
    let crypto = env.crypto();
    let cfg = ConfigStore {
        db: &db,
        crypto: &crypto,
    };
    // Unknown path.
    assert_eq!(
        invalid_msg(cfg.set("nope/x/y", "v", ScopeRef::DEFAULT, NOW).await),
        "config.error.unknown_path"
    );
    assert_eq!(raw_value(&db, ScopeRef::DEFAULT, "nope/x/y").await, None);

    // Bad URLs for the gateway; the default stays in effect.
    for bad in ["not a url", "ftp://x.test", "http://", "http://a b.test"] {
        assert_eq!(
            invalid_msg(cfg.set(GATEWAY_URL, bad, ScopeRef::DEFAULT, NOW).await),
            "config.error.url",
            "{bad:?}"
        );
    }
    assert_eq!(raw_value(&db, ScopeRef::DEFAULT, GATEWAY_URL).await, None);
    // A good one is stored without the trailing slash.
    set(
        &cfg,
        GATEWAY_URL,
        "https://keys.example.com/",
        ScopeRef::DEFAULT,
    )
    .await;
    assert_eq!(
        get(&cfg, GATEWAY_URL, ScopeRef::DEFAULT).await.as_deref(),
        Some("https://keys.example.com")
    );
    // A bad value does not replace a good one.
    assert!(cfg
        .set(GATEWAY_URL, "javascript:alert(1)", ScopeRef::DEFAULT, NOW)
        .await
        .is_err());
    assert_eq!(
        get(&cfg, GATEWAY_URL, ScopeRef::DEFAULT).await.as_deref(),
        Some("https://keys.example.com")
    );

    // Select fields accept only their options.
    assert_eq!(
        invalid_msg(
            cfg.set("general/locale/code", "xx_XX", ScopeRef::DEFAULT, NOW)
                .await
        ),
        "config.error.option"
    );
    // Control characters and overlong values are refused.
    assert_eq!(
        invalid_msg(cfg.set(STORE_NAME, "a\u{7}b", ScopeRef::DEFAULT, NOW).await),
        "config.error.control"
    );
    assert_eq!(
        invalid_msg(
            cfg.set(
                PRODUCTION_API_KEY,
                &"x".repeat(2000),
                ScopeRef::DEFAULT,
                NOW
            )
            .await
        ),
        "config.error.too_long"
    );

    // An empty value clears a stored secret.
    let key = ApiKey::generate(Environment::Production);
    cfg.set(PRODUCTION_API_KEY, key.expose(), ScopeRef::DEFAULT, NOW)
        .await
        .expect("the config store answers");
    assert!(raw_value(&db, ScopeRef::DEFAULT, PRODUCTION_API_KEY)
        .await
        .is_some());
    assert!(set(&cfg, PRODUCTION_API_KEY, "", ScopeRef::DEFAULT).await);
    assert_eq!(get(&cfg, PRODUCTION_API_KEY, ScopeRef::DEFAULT).await, None);
    assert_eq!(
        raw_value(&db, ScopeRef::DEFAULT, PRODUCTION_API_KEY).await,
        None
    );
    // Clearing the gateway URL brings the default back.
    set(&cfg, GATEWAY_URL, " ", ScopeRef::DEFAULT).await;
    assert_eq!(
        get(&cfg, GATEWAY_URL, ScopeRef::DEFAULT).await.as_deref(),
        Some(config::DEFAULT_GATEWAY_URL)
    );
}
