//! What each command does, wiring the account service and the Admin together.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use web::{Clock, SystemClock};

use crate::cli::{Cli, Command, LogFormat, ServeArgs, Side, TwoFactorArg};
use crate::{admin_cmds, backup, files, text_input};

/// The log on stderr, as text or (`--log-format json`) one JSON object a
/// line; a request's lines carry its span (method, route, request_id).
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let data_dir = cli.data_dir;
    match cli.command {
        Command::Serve(args) => serve(&data_dir, args).await,
        Command::AdminUserCreate {
            username,
            password,
            email,
            db,
        } => admin_cmds::user_create(&data_dir, &db, &username, password, &email).await,
        Command::AdminUserPassword {
            username,
            password_file,
            db,
        } => admin_cmds::user_password(&data_dir, &db, &username, password_file.as_deref()).await,
        Command::AdminUser2faReset { username, db } => {
            admin_cmds::user_2fa_reset(&data_dir, &db, &username).await
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
                (None, Some(file)) => text_input::read_text(&file, "--value-file", 1 << 20)?,
                (None, None) => return Err(anyhow!("give VALUE or --value-file FILE")),
            };
            admin_cmds::config_set(&data_dir, &db, &path, &value, scope, scope_code.as_deref())
                .await
        }
        Command::ConfigShow {
            path,
            scope,
            scope_code,
            db,
        } => {
            admin_cmds::config_show(
                &data_dir,
                &db,
                path.as_deref(),
                scope,
                scope_code.as_deref(),
            )
            .await
        }
        Command::AccountSeedKeys {
            count,
            sample,
            out,
            signed,
            signed_out,
            policy,
            database_url,
        } => {
            files::ensure_dir(&data_dir)?;
            let url = database_url.unwrap_or_else(|| files::sqlite_url(&data_dir, "account.db"));
            let db = files::open_account(&url).await?;
            let signed = if signed_out.is_some() {
                signed.min(count)
            } else {
                0
            };
            let now = SystemClock.now();
            let seeded =
                account::seed::seed_keys_with(&db, count, sample, signed, now, policy).await?;
            std::fs::write(&out, seeded.sample.join("\n") + "\n")
                .with_context(|| format!("cannot write {}", out.display()))?;
            if let Some(path) = &signed_out {
                let lines: Vec<String> = seeded
                    .signed
                    .iter()
                    .map(|(key, token)| format!("{key} {token}\n"))
                    .collect();
                std::fs::write(path, lines.concat())
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            println!(
                "Seeded {count} keys; wrote {} of them to {}.",
                seeded.sample.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Account2faReset {
            email,
            database_url,
        } => account_two_factor_reset(&data_dir, &email, database_url).await,
        Command::ChannelAmazonVerify { account_url, db } => {
            admin_cmds::channel_verify(&data_dir, &db, account_url).await
        }
        Command::DbBackup { to, database_url } => {
            backup::backup(&data_dir, &to, database_url.as_deref()).await
        }
        Command::EncryptionKeyChange { db } => admin_cmds::key_change(&data_dir, &db).await,
    }
}

/// `account:2fa:reset`: the operator removes a person's second steps.
async fn account_two_factor_reset(
    data_dir: &Path,
    email: &str,
    database_url: Option<String>,
) -> anyhow::Result<ExitCode> {
    let url = match database_url {
        Some(u) => u,
        None => {
            let path = data_dir.join("account.db");
            if !path.exists() {
                return Err(anyhow!("no account database at {}", path.display()));
            }
            files::sqlite_url(data_dir, "account.db")
        }
    };
    let db = files::open_account(&url).await?;
    let services = account::Services::new(
        db,
        std::sync::Arc::new(SystemClock),
        account::Config::default(),
    );
    match account::two_factor::operator_reset(&services, email).await {
        Ok(a) => {
            println!(
                "Removed every second step of {} and ended their sessions; they were told by mail and set one up again at their next sign-in.",
                a.email
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(account::AccountError::AccountNotFound) => {
            Err(anyhow!("no account has the email {email:?}"))
        }
        Err(e) => Err(anyhow!("cannot reset: {e}")),
    }
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

async fn serve(data_dir: &Path, args: ServeArgs) -> anyhow::Result<ExitCode> {
    // A bad --account-url is refused before anything starts, not reported
    // later as `unreachable`.
    let account_url = match &args.account_url {
        Some(u) => {
            Some(admin::outbound::check_base_url(u).map_err(|e| anyhow!("--account-url {e}"))?)
        }
        None => None,
    };
    let trusted_proxies = web::proxies::TrustedProxies::parse(&args.trusted_proxy)
        .map_err(|e| anyhow!("--trusted-proxy: {e}"))?;
    let services =
        account::key_policy::ServiceCatalog::parse(&args.service).map_err(|e| anyhow!("{e}"))?;
    files::ensure_dir(data_dir)?;
    // Before the apps are built: their metric handles are no-ops otherwise.
    let metrics_listener = match &args.metrics_addr {
        Some(addr) => {
            web::metrics::install();
            Some(
                web::server::bind(addr)
                    .await
                    .with_context(|| format!("--metrics-addr: cannot listen on {addr}"))?,
            )
        }
        None => None,
    };
    let redis = match &args.redis_url {
        Some(url) => Some(Arc::new(
            web::ratelimit::SharedCounters::new(url, &args.redis_prefix)
                .map_err(|e| anyhow!("--redis-url: {e}"))?,
        )),
        None => None,
    };
    let run_account = args.side != Some(Side::Admin);
    let run_admin = args.side != Some(Side::Account);
    // The Admin's database and data key first: a missing crypt.key beside
    // encrypted values stops the command before anything listens.
    let mut admin_parts = if run_admin {
        let url = if run_account {
            args.admin_database_url.clone()
        } else {
            args.database_url
                .clone()
                .or(args.admin_database_url.clone())
        }
        .unwrap_or_else(|| files::sqlite_url(data_dir, "admin.db"));
        let db = files::open_admin(&url).await?;
        let crypto = admin::open_crypto(
            &db,
            &admin::crypt_key_path(data_dir),
            admin::KeyFileMode::Create,
        )
        .await?;
        Some((db, crypto))
    } else {
        None
    };
    let mut out = std::io::stdout().lock();

    let account = if run_account {
        let url = args
            .database_url
            .clone()
            .unwrap_or_else(|| files::sqlite_url(data_dir, "account.db"));
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
        let (amazon, token_crypto) = crate::amazon::settings(data_dir, &args.amazon)?;
        let db = files::open_account(&url).await?;
        let cfg = account::Config {
            amazon,
            token_crypto,
            link_key,
            public_url,
            secure_cookies: args.secure_cookies,
            last_used_flush: Duration::from_secs(args.last_used_flush_secs),
            cache_capacity: usize::try_from(args.verify_cache_keys).unwrap_or(usize::MAX),
            smtp,
            secret_scanning_keys,
            redis: redis.clone(),
            trusted_proxies: trusted_proxies.clone(),
            services,
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
        let (db, crypto) = admin_parts
            .take()
            .ok_or_else(|| anyhow!("the Admin was not opened"))?;
        if let Some((user, password)) = admin::install(&db, SystemClock.now()).await? {
            writeln!(
                out,
                "Admin user created: {user} / {} (shown once; change it with admin:user:password)",
                password.expose()
            )?;
        }
        let account_url = account_url.or_else(|| account.as_ref().map(|a| a.url()));
        let cfg = admin::Config {
            secure_cookies: args.secure_cookies,
            account_url,
            redis: redis.clone(),
            two_factor: match args.admin_two_factor {
                TwoFactorArg::Required => admin::two_factor::Policy::Required,
                TwoFactorArg::Optional => admin::two_factor::Policy::Optional,
            },
            trusted_proxies: trusted_proxies.clone(),
        };
        let running = admin::start(db, crypto, &args.admin_addr, cfg)
            .await
            .with_context(|| format!("cannot listen on {}", args.admin_addr))?;
        writeln!(out, "Commerce Admin: {}/admin", running.url())?;
        Some(running)
    } else {
        None
    };
    let metrics = match metrics_listener {
        Some((listener, bound)) => {
            let collectors = account
                .iter()
                .map(account::Running::metrics_collector)
                .chain(admin.iter().map(admin::Running::metrics_collector))
                .collect();
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(web::metrics::serve(listener, collectors, async {
                let _ = rx.await;
            }));
            writeln!(out, "Metrics: http://{bound}/metrics")?;
            Some((tx, task))
        }
        None => None,
    };
    out.flush()?;
    drop(out);

    shutdown_signal().await;
    if let Some((tx, task)) = metrics {
        let _ = tx.send(());
        task.await??;
    }
    tracing::info!("shutting down: finishing requests in flight");
    if let Some(a) = admin {
        a.stop().await?;
    }
    if let Some(a) = account {
        a.stop().await?;
    }
    Ok(ExitCode::SUCCESS)
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
