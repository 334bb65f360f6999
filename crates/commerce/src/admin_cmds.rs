//! The Admin's commands: users, configuration, the channel check.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use web::{Clock, Secret, SystemClock};

use crate::cli::{AdminDb, ScopeArg};
use crate::files;

/// Exit code of a refused value (bad input), as for a usage error.
const EXIT_USAGE: u8 = 2;

fn db_url(data_dir: &Path, db: &AdminDb) -> String {
    db.database_url
        .clone()
        .unwrap_or_else(|| files::sqlite_url(data_dir, "admin.db"))
}

/// The Admin's database, for a command that writes (creating the data dir).
/// Refuses when the key file is missing but encrypted values exist.
pub async fn open_db(data_dir: &Path, db: &AdminDb) -> anyhow::Result<web::db::Db> {
    let url = db_url(data_dir, db);
    files::ensure_dir(data_dir)?;
    let db = files::open_admin(&url).await?;
    refuse_without_key(&db, data_dir).await?;
    Ok(db)
}

/// The key file is never made behind the back of encrypted values.
async fn refuse_without_key(db: &web::db::Db, data_dir: &Path) -> anyhow::Result<()> {
    admin::open_crypto(
        db,
        &admin::crypt_key_path(data_dir),
        admin::KeyFileMode::ReadOnly,
    )
    .await
    .map(drop)
}

/// The database and the data key for a command that writes.
async fn open_parts(
    data_dir: &Path,
    db: &AdminDb,
) -> anyhow::Result<(web::db::Db, admin::crypto::Crypto)> {
    let db = open_db(data_dir, db).await?;
    let key = admin::crypt_key_path(data_dir);
    let crypto = admin::open_crypto(&db, &key, admin::KeyFileMode::Create).await?;
    Ok((db, crypto))
}

/// The database and the data key for a read-only command: nothing is created.
async fn open_parts_read_only(
    data_dir: &Path,
    db: &AdminDb,
) -> anyhow::Result<(web::db::Db, admin::crypto::Crypto)> {
    let db = files::open_admin_read_only(&db_url(data_dir, db)).await?;
    let key = admin::crypt_key_path(data_dir);
    let crypto = admin::open_crypto(&db, &key, admin::KeyFileMode::ReadOnly).await?;
    Ok((db, crypto))
}

pub async fn user_create(
    data_dir: &Path,
    db: &AdminDb,
    username: &str,
    password: String,
    email: &str,
) -> anyhow::Result<ExitCode> {
    let db = open_db(data_dir, db).await?;
    admin::auth::create_user(
        &db,
        username,
        email,
        Secret::new(password),
        SystemClock.now(),
    )
    .await
    .map_err(|e| anyhow!("{e}"))?;
    println!("Created admin user {}.", username.trim());
    Ok(ExitCode::SUCCESS)
}

/// `admin:user:password`: from FILE or standard input (`-`), or generated and
/// printed once; every session of the user ends.
pub async fn user_password(
    data_dir: &Path,
    db: &AdminDb,
    username: &str,
    password_file: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let (password, generated) = match password_file {
        Some(file) => (
            Secret::new(crate::text_input::read_text(file, "--password-file", 4096)?),
            false,
        ),
        None => (Secret::new(keys::random_base62(20)), true),
    };
    let db = open_db(data_dir, db).await?;
    let name = admin::auth::set_password(&db, username, Secret::new(password.expose()))
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let mut out = std::io::stdout().lock();
    if generated {
        writeln!(
            out,
            "New password for {name}: {} (shown once)",
            password.expose()
        )?;
    }
    writeln!(
        out,
        "Changed the password of {name}; their sessions were ended."
    )?;
    Ok(ExitCode::SUCCESS)
}

/// `admin:user:2fa:reset`: the user's second steps removed and every
/// session of theirs ended (Magento's `security:tfa:reset`).
pub async fn user_2fa_reset(
    data_dir: &Path,
    db: &AdminDb,
    username: &str,
) -> anyhow::Result<ExitCode> {
    let db = open_db(data_dir, db).await?;
    let name = admin::two_factor::reset(&db, username)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "Removed the two-step sign-in of {name} and ended their sessions; they set it up again at their next sign-in."
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn config_set(
    data_dir: &Path,
    db: &AdminDb,
    path: &str,
    value: &str,
    scope: ScopeArg,
    scope_code: Option<&str>,
) -> anyhow::Result<ExitCode> {
    // A value that cannot be set is refused before anything is opened or created.
    if let Some(f) = admin::config::field(path) {
        if let Err(e) = admin::config::validate(f, value) {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    }
    let (db, crypto) = open_parts(data_dir, db).await?;
    let (config, at) = config_at(&db, &crypto, scope, scope_code).await?;
    // The command line is the actor the configuration audit log names.
    match config
        .set_by("cli", path, value, at, SystemClock.now())
        .await
    {
        Ok(_) => {}
        Err(admin::error::AdminError::InvalidConfig(e)) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        Err(e) => bail!("{e}"),
    }
    if value.trim().is_empty() {
        println!("Cleared {path}.");
    } else {
        println!("Saved {path}.");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn config_show(
    data_dir: &Path,
    db: &AdminDb,
    path: Option<&str>,
    scope: ScopeArg,
    scope_code: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let fields: Vec<&admin::config::Field> = match path {
        Some(p) => vec![admin::config::field(p)
            .ok_or_else(|| anyhow!("{p}: there is no such configuration path"))?],
        None => admin::config::all_fields().collect(),
    };
    let (db, crypto) = open_parts_read_only(data_dir, db).await?;
    let (config, at) = config_at(&db, &crypto, scope, scope_code).await?;
    let mut out = std::io::stdout().lock();
    let mut shown = 0;
    for f in fields {
        if let Some(v) = config.get(f.path, at).await? {
            let v = if f.is_secret() {
                admin::config::MASK.to_owned()
            } else {
                v
            };
            writeln!(out, "{} = {v}", f.path)?;
            shown += 1;
        }
    }
    if let (Some(p), 0) = (path, shown) {
        bail!("{p}: no value is set");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn channel_verify(
    data_dir: &Path,
    db: &AdminDb,
    account_url: Option<String>,
) -> anyhow::Result<ExitCode> {
    let account_url = match account_url {
        Some(u) => match admin::outbound::check_base_url(&u) {
            Ok(u) => Some(u),
            Err(e) => {
                eprintln!("error: --account-url {e}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        },
        None => None,
    };
    let (db, crypto) = open_parts_read_only(data_dir, db).await?;
    let config = admin::config::ConfigStore {
        db: &db,
        crypto: &crypto,
    };
    let gate = admin::gate::Gate::new(account_url, std::sync::Arc::new(SystemClock));
    let check = gate.check(&config, None).await;
    println!("status: {}", check.status.as_str());
    // SPEC §3: then, when known, `reason: <code>` and a sentence.
    if let Some(reason) = check.reason {
        println!("reason: {}", reason.as_str());
        println!("{}", reason.sentence());
    }
    Ok(if check.status == admin::gate::KeyStatus::Valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `encryption:key:change`: a new data key version in `crypt.key`, then every
/// stored secret re-encrypted under it in one transaction. Prints counts,
/// never a key or a value.
pub async fn key_change(data_dir: &Path, db: &AdminDb) -> anyhow::Result<ExitCode> {
    let (db, _) = open_parts(data_dir, db).await?;
    let key_file = admin::crypt_key_path(data_dir);
    let (crypto, done) = admin::rotation::change_key(&db, &key_file).await?;
    // The Admin users' authenticator secrets, under the same key. The old
    // versions stay in the key file, so a stop between the two leaves every
    // secret readable.
    let totp = web::two_factor::reencrypt(&db, &admin::two_factor::RULES.tables, &crypto)
        .await
        .map_err(|e| anyhow!("re-encrypting the authenticator secrets: {}", e.message()))?;
    println!(
        "Added data key version {} to {}; re-encrypted {} stored value{} and {} authenticator secret{} under it.",
        done.version,
        key_file.display(),
        done.reencrypted,
        if done.reencrypted == 1 { "" } else { "s" },
        totp,
        if totp == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}

/// The configuration store, and the scope a command names (`--scope`,
/// `--scope-code`), found in the database.
async fn config_at<'a>(
    db: &'a web::db::Db,
    crypto: &'a admin::crypto::Crypto,
    scope: ScopeArg,
    scope_code: Option<&str>,
) -> anyhow::Result<(admin::config::ConfigStore<'a>, admin::config::ScopeRef)> {
    let at = admin::config::resolve_scope(db, scope_of(scope), scope_code)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok((admin::config::ConfigStore { db, crypto }, at))
}

fn scope_of(s: ScopeArg) -> admin::config::Scope {
    match s {
        ScopeArg::Default => admin::config::Scope::Default,
        ScopeArg::Websites => admin::config::Scope::Websites,
        ScopeArg::Stores => admin::config::Scope::Stores,
    }
}
