//! The Commerce Admin: admin users, the scoped configuration with encrypted
//! secrets, the Amazon Sales Channel gate and Store Integration.
//!
//! It talks to the account service over HTTP only, as a real store does.

pub mod account_api;
pub mod amazon_stores;
pub mod api;
pub mod auth;
pub mod config;
pub mod cookies;
pub mod crypto;
pub mod error;
pub mod gate;
pub mod i18n;
pub mod outbound;
pub mod pages;
pub mod rotation;
pub mod scope;
pub mod store;
pub mod store_integration;
pub mod two_factor;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use web::db::Db;
use web::ratelimit::{LoginLimiter, LoginLimits};
use web::{Clock, Secret, SystemClock};

use crate::config::ConfigStore;
use crate::crypto::Crypto;
use crate::gate::Gate;

pub static MIGRATIONS_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
pub static MIGRATIONS_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Clone, Debug, Default)]
pub struct Config {
    pub secure_cookies: bool,
    /// `--account-url`: where the account service is, over the configured gateway URL.
    pub account_url: Option<String>,
    /// `--redis-url`: sign-in throttles shared by every node.
    pub redis: Option<Arc<web::ratelimit::SharedCounters>>,
    /// `--admin-two-factor`: whether every user needs a second step
    /// (required unless set otherwise).
    pub two_factor: two_factor::Policy,
    /// `--trusted-proxy`: the proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: web::proxies::TrustedProxies,
}

/// What the Admin's domain code works with: storage, clock, encryption, the
/// channel gate, settings and throttles. Handlers hold [`AppState`], which
/// derefs to it; domain modules take `&Services`.
pub struct Services {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub crypto: Crypto,
    pub gate: Gate,
    pub cfg: Config,
    /// Sign-ins per client IP (50 in 15 minutes), per username from one
    /// client IP (10) and per username from anywhere (100: guessing spread
    /// over many addresses); a browser with a valid device cookie counts
    /// against its own 10 only, so strangers cannot lock its owner out.
    pub login: LoginLimiter,
    /// Device cookies, signed with a key derived from `crypt.key`.
    pub devices: web::device::DeviceCookies,
}

#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl web::page::CsrfSite for AppState {
    fn csrf_cookie(&self) -> &'static str {
        cookies::CSRF_COOKIE
    }

    fn secure_cookies(&self) -> bool {
        self.cfg.secure_cookies
    }
}

impl AppState {
    pub fn new(db: Db, crypto: Crypto, cfg: Config, clock: Arc<dyn Clock>) -> Self {
        let gate = Gate::new(cfg.account_url.clone(), clock.clone());
        let redis_secret = crypto.derive_key("commerce redis throttles v1");
        let devices = web::device::DeviceCookies::new(
            crypto.derive_key("commerce admin device cookie v1"),
            cookies::DEVICE_COOKIE,
        );
        AppState(Arc::new(Services {
            db,
            clock,
            crypto,
            gate,
            devices,
            login: LoginLimiter::new(LoginLimits {
                per_ip: 50,
                per_name_from_ip: 10,
                per_name: Some(100),
                window_secs: 900,
                capacity: 10_000,
            })
            // Counts in Redis named by HMACs under a key derived from crypt.key.
            .shared(
                cfg.redis.as_ref().map(|r| Arc::new(r.keyed(redis_secret))),
                "admin_signin",
            ),
            cfg,
        }))
    }
}

impl Services {
    /// The configuration store (values encrypted under `crypt.key` where the
    /// registry says so).
    pub fn config(&self) -> ConfigStore<'_> {
        ConfigStore {
            db: &self.db,
            crypto: &self.crypto,
        }
    }
}

/// The key file under the data dir.
pub fn crypt_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("crypt.key")
}

/// Whether a missing key file may be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyFileMode {
    /// Create it (first start, writing commands).
    Create,
    /// Never write it: a read-only command gets a key in memory.
    ReadOnly,
}

/// Opens the data key for `db`. When the key file is missing but `db` holds
/// encrypted values, refuses ([`crypto::CryptoError::KeyMissing`]) instead
/// of making a new key that cannot read them.
pub async fn open_crypto(db: &Db, key_file: &Path, mode: KeyFileMode) -> anyhow::Result<Crypto> {
    if !key_file.exists() {
        let encrypted: Vec<&str> = config::all_fields()
            .filter(|f| f.encrypted)
            .map(|f| f.path)
            .collect();
        if store::count_values_at_paths(db, &encrypted).await? > 0
            || store::two_factor::count_totp_secrets(db).await? > 0
        {
            return Err(crypto::CryptoError::KeyMissing(key_file.display().to_string()).into());
        }
        if mode == KeyFileMode::ReadOnly {
            return Ok(Crypto::ephemeral());
        }
    }
    Ok(Crypto::open_or_create(key_file)?)
}

pub async fn connect(url: &str) -> Result<Db, web::db::ConnectError> {
    web::db::connect(url, &MIGRATIONS_SQLITE, &MIGRATIONS_POSTGRES, 8).await
}

/// First start: when there is no admin user yet, creates `admin` with a
/// generated password and returns it (to print once).
pub async fn install(db: &Db, now: i64) -> anyhow::Result<Option<(String, Secret)>> {
    if store::count_users(db).await? > 0 {
        return Ok(None);
    }
    let password = Secret::new(keys::random_base62(20));
    auth::create_user(
        db,
        "admin",
        "admin@example.com",
        Secret::new(password.expose()),
        now,
    )
    .await
    .map_err(|e| anyhow::anyhow!("cannot create the first admin user: {e}"))?;
    Ok(Some(("admin".to_owned(), password)))
}

/// The app's routes in the edge's layers (`web::edge`); `hosts` are the host
/// names it answers to (DNS rebinding).
pub fn router(state: AppState, hosts: web::hosts::AllowedHosts) -> impl web::server::App {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|s: State<AppState>| async move {
                web::health::readyz(&s.db, s.cfg.redis.as_deref()).await
            }),
        )
        .merge(api::router())
        .merge(pages::router())
        .merge(web::assets::router())
        .fallback(pages::fallback);
    let hsts = state.cfg.secure_cookies;
    let trusted = state.cfg.trusted_proxies.clone();
    web::edge::stack(
        "admin",
        app.with_state(state.clone()),
        state,
        hosts,
        hsts,
        trusted,
        (),
    )
}

pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await??;
        Ok(())
    }

    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.task).await??;
        Ok(())
    }

    /// What sets the Admin's gauges (its database pool) before a scrape of `/metrics`.
    pub fn metrics_collector(&self) -> web::metrics::Collector {
        let db = self.state.db.clone();
        std::sync::Arc::new(move || {
            web::metrics::record_pool("admin", &db);
            Box::pin(async {})
        })
    }
}

pub async fn start(db: Db, crypto: Crypto, addr: &str, cfg: Config) -> anyhow::Result<Running> {
    start_with_clock(db, crypto, addr, cfg, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(
    db: Db,
    crypto: Crypto,
    addr: &str,
    cfg: Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Running> {
    let state = AppState::new(db, crypto, cfg, clock);
    let (listener, addr) = web::server::bind(addr).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let hosts = web::hosts::AllowedHosts::new(addr, None);
    let app = router(state.clone(), hosts);
    let task = tokio::spawn(web::server::serve(listener, app, async {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        state,
        shutdown: tx,
        task,
    })
}
