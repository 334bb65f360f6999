//! What each command does, wiring the account service and the Admin together.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use web::{Clock, Secret, SystemClock};

use crate::cli::{AdminDb, Cli, Command, ScopeArg, ServeArgs, Side};

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let data_dir = cli.data_dir;
    match cli.command {
        Command::Serve(args) => serve(&data_dir, args).await.map(|()| ExitCode::SUCCESS),
        Command::AdminUserCreate {
            username,
            password,
            email,
            db,
        } => {
            let db = admin_db(&data_dir, &db).await?;
            admin::auth::create_user(
                &db,
                &username,
                &email,
                Secret::new(password),
                SystemClock.now(),
            )
            .await
            .map_err(|e| anyhow!("{e}"))?;
            println!("Created admin user {username}.");
            Ok(ExitCode::SUCCESS)
        }
        Command::ConfigSet {
            path,
            value,
            value_file,
            scope,
            scope_code,
            db,
        } => {
            let value = match (value, value_file) {
                (Some(v), _) => v,
                (None, Some(file)) => read_value(&file)?,
                (None, None) => return Err(anyhow!("give VALUE or --value-file FILE")),
            };
            let (db, crypto) = admin_parts(&data_dir, &db).await?;
            let config = admin::config::ConfigStore {
                db: &db,
                crypto: &crypto,
            };
            let at = admin::config::resolve_scope(&db, scope_of(scope), scope_code.as_deref())
                .await
                .map_err(|e| anyhow!("{e}"))?;
            // The command line is the actor the configuration audit log names.
            config
                .set_by("cli", &path, &value, at, SystemClock.now())
                .await
                .map_err(|e| anyhow!("{e}"))?;
            if value.trim().is_empty() {
                println!("Cleared {path}.");
            } else {
                println!("Saved {path}.");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ConfigShow {
            path,
            scope,
            scope_code,
            db,
        } => {
            let (db, crypto) = admin_parts(&data_dir, &db).await?;
            let config = admin::config::ConfigStore {
                db: &db,
                crypto: &crypto,
            };
            let at = admin::config::resolve_scope(&db, scope_of(scope), scope_code.as_deref())
                .await
                .map_err(|e| anyhow!("{e}"))?;
            let fields: Vec<&admin::config::Field> = match &path {
                Some(p) => vec![admin::config::field(p)
                    .ok_or_else(|| anyhow!("{p}: there is no such configuration path"))?],
                None => admin::config::all_fields().collect(),
            };
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
            if let (Some(p), 0) = (&path, shown) {
                bail!("{p}: no value is set");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::AccountSeedKeys {
            count,
            sample,
            out,
            database_url,
        } => {
            ensure_dir(&data_dir)?;
            let url = database_url.unwrap_or_else(|| sqlite_url(&data_dir, "account.db"));
            let db = account::connect(&url).await?;
            let keys = account::seed::seed_keys(&db, count, sample, SystemClock.now()).await?;
            std::fs::write(&out, keys.join("\n") + "\n")
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "Seeded {count} keys; wrote {} of them to {}.",
                keys.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::ChannelAmazonVerify { account_url, db } => {
            let (db, crypto) = admin_parts(&data_dir, &db).await?;
            let config = admin::config::ConfigStore {
                db: &db,
                crypto: &crypto,
            };
            let gate = admin::gate::Gate::new(account_url);
            let check = gate.check(&config).await;
            println!("status: {}", check.status.as_str());
            Ok(if check.status == admin::gate::KeyStatus::Valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn scope_of(s: ScopeArg) -> admin::config::Scope {
    match s {
        ScopeArg::Default => admin::config::Scope::Default,
        ScopeArg::Websites => admin::config::Scope::Websites,
        ScopeArg::Stores => admin::config::Scope::Stores,
    }
}

/// A configuration value from a file or (`-`) standard input, without one
/// trailing newline. Errors never quote the content.
fn read_value(file: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    const MAX: u64 = 1 << 20;
    let mut text = String::new();
    let read = if file == Path::new("-") {
        std::io::stdin().take(MAX + 1).read_to_string(&mut text)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX + 1).read_to_string(&mut text))
    };
    let name = if file == Path::new("-") {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    read.map_err(|e| anyhow!("--value-file: cannot read {name}: {e}"))?;
    if text.len() as u64 > MAX {
        return Err(anyhow!("--value-file: {name} is larger than 1 MiB"));
    }
    if let Some(t) = text.strip_suffix('\n') {
        let t = t.strip_suffix('\r').unwrap_or(t);
        text = t.to_owned();
    }
    Ok(text)
}

/// `http(s)://host[:port][/path]`, without a query, fragment or trailing slash.
fn check_public_url(url: &str) -> anyhow::Result<String> {
    let u = url.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or_else(|| anyhow!("--public-url must start with http:// or https://"))?;
    if rest.is_empty()
        || rest.starts_with('/')
        || rest.contains(['?', '#', '@', ' '])
        || rest.chars().any(char::is_control)
    {
        return Err(anyhow!(
            "--public-url must look like https://accounts.example.com"
        ));
    }
    Ok(u.to_owned())
}

fn ensure_dir(data_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data dir {}", data_dir.display()))
}

fn sqlite_url(data_dir: &Path, file: &str) -> String {
    format!("sqlite://{}", data_dir.join(file).display())
}

async fn admin_db(data_dir: &Path, db: &AdminDb) -> anyhow::Result<web::db::Db> {
    ensure_dir(data_dir)?;
    let url = db
        .database_url
        .clone()
        .unwrap_or_else(|| sqlite_url(data_dir, "admin.db"));
    Ok(admin::connect(&url).await?)
}

async fn admin_parts(
    data_dir: &Path,
    db: &AdminDb,
) -> anyhow::Result<(web::db::Db, admin::crypto::Crypto)> {
    let db = admin_db(data_dir, db).await?;
    let crypto = admin::crypto::Crypto::open_or_create(&admin::crypt_key_path(data_dir))?;
    Ok((db, crypto))
}

async fn serve(data_dir: &Path, args: ServeArgs) -> anyhow::Result<()> {
    ensure_dir(data_dir)?;
    let run_account = args.side != Some(Side::Admin);
    let run_admin = args.side != Some(Side::Account);
    let mut out = std::io::stdout().lock();

    let account = if run_account {
        let url = args
            .database_url
            .clone()
            .unwrap_or_else(|| sqlite_url(data_dir, "account.db"));
        let smtp = match (&args.smtp_url, &args.mail_from) {
            (Some(url), Some(from)) => Some(
                account::outbox::SmtpConfig::parse(url, from)
                    .map_err(|e| anyhow!("--smtp-url/--mail-from: {e}"))?,
            ),
            _ => None,
        };
        let secret_scanning_keys = match &args.secret_scanning_public_key {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| {
                    format!(
                        "--secret-scanning-public-key: cannot read {}",
                        path.display()
                    )
                })?;
                account::secret_scanning::parse_public_keys(&text)
                    .map_err(|e| anyhow!("--secret-scanning-public-key {}: {e}", path.display()))?
            }
            None => Vec::new(),
        };
        let link_key_path = args
            .link_key_file
            .clone()
            .unwrap_or_else(|| data_dir.join("account-link.key"));
        let link_key = account::members::LinkKey::open_or_create(&link_key_path)
            .map_err(|e| anyhow!("--link-key-file: {e}"))?;
        let public_url = match &args.public_url {
            Some(u) => Some(check_public_url(u)?),
            None => None,
        };
        let db = account::connect(&url).await?;
        let cfg = account::Config {
            link_key,
            public_url,
            secure_cookies: args.secure_cookies,
            last_used_flush: Duration::from_secs(args.last_used_flush_secs),
            smtp,
            secret_scanning_keys,
            ..account::Config::default()
        };
        let running = account::start(db, &args.account_addr, cfg)
            .await
            .with_context(|| format!("cannot listen on {}", args.account_addr))?;
        writeln!(out, "Account service: {}", running.url())?;
        Some(running)
    } else {
        None
    };

    let admin = if run_admin {
        let url = if run_account {
            args.admin_database_url.clone()
        } else {
            args.database_url
                .clone()
                .or(args.admin_database_url.clone())
        }
        .unwrap_or_else(|| sqlite_url(data_dir, "admin.db"));
        let db = admin::connect(&url).await?;
        let crypto = admin::crypto::Crypto::open_or_create(&admin::crypt_key_path(data_dir))?;
        if let Some((user, password)) = admin::install(&db, SystemClock.now()).await? {
            writeln!(
                out,
                "Admin user created: {user} / {} (shown once; change it with admin:user:create)",
                password.expose()
            )?;
        }
        let account_url = args
            .account_url
            .clone()
            .or_else(|| account.as_ref().map(|a| a.url()));
        let cfg = admin::Config {
            secure_cookies: args.secure_cookies,
            account_url,
        };
        let running = admin::start(db, crypto, &args.admin_addr, cfg)
            .await
            .with_context(|| format!("cannot listen on {}", args.admin_addr))?;
        writeln!(out, "Commerce Admin: {}/admin", running.url())?;
        Some(running)
    } else {
        None
    };
    out.flush()?;
    drop(out);

    shutdown_signal().await;
    tracing::info!("shutting down: finishing requests in flight");
    if let Some(a) = admin {
        a.stop().await?;
    }
    if let Some(a) = account {
        a.stop().await?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
