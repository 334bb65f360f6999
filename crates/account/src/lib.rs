//! The account service: accounts and companies, the API Portal (pages and JSON
//! API), and the key verification that every Commerce store calls.

pub mod api;
pub mod audit;
pub mod auth;
pub mod domain;
pub mod i18n;
pub mod members;
pub mod outbox;
pub mod pages;
pub mod secret_scanning;
pub mod seed;
pub mod store;
pub mod verify;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use web::db::Db;
use web::ratelimit::Limiter;
use web::{Clock, SystemClock};

pub static MIGRATIONS_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
pub static MIGRATIONS_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// How the service runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Mark cookies `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// How often batched last-use times are written.
    pub last_used_flush: Duration,
    /// Most keys the verification cache holds.
    pub cache_capacity: usize,
    /// Where the outbox's messages are sent; `None` keeps them in the outbox.
    pub smtp: Option<outbox::SmtpConfig>,
    /// How often the outbox worker runs; `None` runs it only when asked
    /// (`outbox::run_once`).
    pub outbox_every: Option<Duration>,
    /// The public keys whose signatures secret-scanning reports must carry
    /// (GitHub's); empty turns the endpoint off.
    pub secret_scanning_keys: Vec<p256::ecdsa::VerifyingKey>,
    /// Signs invitation links; nodes sharing a database share it.
    pub link_key: members::LinkKey,
    /// The site's address for links in messages (`https://accounts.example`);
    /// `None` uses the address the inviting request came to.
    pub public_url: Option<String>,
    /// Invitations one company may send in an hour (mail cannot be abused).
    pub invitations_per_hour: i64,
    /// Sign-ups one client IP may make in an hour.
    pub signups_per_ip_hour: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            last_used_flush: Duration::from_secs(60),
            cache_capacity: 200_000,
            smtp: None,
            outbox_every: Some(Duration::from_secs(60)),
            secret_scanning_keys: Vec::new(),
            link_key: members::LinkKey::random(),
            public_url: None,
            invitations_per_hour: 30,
            signups_per_ip_hour: 20,
        }
    }
}

pub struct Inner {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub verifier: Arc<verify::Verifier>,
    pub cfg: Config,
    pub limits: Limits,
}

/// Throttles against guessing and abuse. Sign-in attempts are taken before
/// the password is checked and given back when it was right.
pub struct Limits {
    /// Sign-ins per client IP: 50 in 15 minutes.
    pub login_by_ip: Limiter,
    /// Sign-ins per email from one client IP: 10 in 15 minutes (a stranger
    /// elsewhere cannot lock the account out).
    pub login_by_email_ip: Limiter,
    /// Sign-ins per email from anywhere: 100 in 15 minutes (guessing spread
    /// over many addresses).
    pub login_by_email: Limiter,
    /// Sign-ups (new accounts, also by invitation) per client IP, an hour.
    pub signup_by_ip: Limiter,
    /// Failed verifications per client IP: 600 a minute. Once blocked, the
    /// IP's verifications are all answered 429 before any lookup.
    pub verify_by_ip: Limiter,
}

impl Limits {
    pub fn new(cfg: &Config) -> Self {
        Limits {
            login_by_ip: Limiter::new(50, 900, 100_000),
            login_by_email_ip: Limiter::new(10, 900, 100_000),
            login_by_email: Limiter::new(100, 900, 100_000),
            signup_by_ip: Limiter::new(cfg.signups_per_ip_hour, 3600, 100_000),
            verify_by_ip: Limiter::new(600, 60, 100_000),
        }
    }

    /// Takes one sign-in attempt from each throttle, or none (429).
    pub fn login_attempts<'a>(
        &'a self,
        ip: &'a str,
        pair: &'a str,
        email: &'a str,
        now: i64,
    ) -> Result<web::ratelimit::Reserved<'a>, web::Error> {
        Limiter::reserve_all(
            &[
                (&self.login_by_ip, ip),
                (&self.login_by_email_ip, pair),
                (&self.login_by_email, email),
            ],
            now,
        )
        .map_err(web::Error::too_many_requests)
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, clock: Arc<dyn Clock>, cfg: Config) -> Self {
        let limits = Limits::new(&cfg);
        let verifier = Arc::new(verify::Verifier::new(
            db.clone(),
            clock.clone(),
            cfg.cache_capacity,
        ));
        AppState(Arc::new(Inner {
            db,
            clock,
            verifier,
            cfg,
            limits,
        }))
    }
}

pub async fn connect(url: &str) -> Result<Db, web::db::ConnectError> {
    web::db::connect(url, &MIGRATIONS_SQLITE, &MIGRATIONS_POSTGRES, 16).await
}

/// The app's routes; `hosts` refuses requests for other host names (DNS rebinding).
pub fn router(state: AppState, hosts: Option<web::hosts::AllowedHosts>) -> Router {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .merge(api::router())
        .merge(pages::router())
        .merge(web::assets::router())
        .fallback(pages::fallback);
    let hsts = state.cfg.secure_cookies;
    let app = web::headers::limit(app)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::error_pages::layer::<AppState>,
        ))
        .with_state(state);
    let app = match hosts {
        Some(allowed) => app.layer(axum::middleware::from_fn_with_state(
            allowed,
            web::hosts::layer,
        )),
        None => app,
    };
    web::headers::secure(app, hsts)
}

async fn healthz() -> &'static str {
    "ok"
}

/// A running account service.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The last-use flusher and the key-change listener.
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, flushes last-use times.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await??;
        for t in &self.background {
            t.abort();
        }
        self.state.verifier.flush_last_used().await?;
        Ok(())
    }

    /// Resolves when the server stops on its own.
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.task).await??;
        Ok(())
    }
}

/// Binds `addr` (port 0 for a free port) and serves in the background.
pub async fn start(db: Db, addr: &str, cfg: Config) -> anyhow::Result<Running> {
    start_with_clock(db, addr, cfg, Arc::new(SystemClock)).await
}

pub async fn start_with_clock(
    db: Db,
    addr: &str,
    cfg: Config,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Running> {
    let state = AppState::new(db, clock, cfg);
    let (listener, addr) = web::server::bind(addr).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let hosts = web::hosts::AllowedHosts::new(addr, state.cfg.public_url.as_deref());
    let app = router(state.clone(), Some(hosts));
    let task = tokio::spawn(web::server::serve(listener, app, async {
        let _ = rx.await;
    }));
    let mut background = Vec::new();
    if state.db.backend == web::db::Backend::Postgres {
        background.push(tokio::spawn(verify::listen_for_changes(
            state.verifier.clone(),
            state.db.url().to_owned(),
        )));
    }
    let flusher = state.clone();
    background.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(flusher.cfg.last_used_flush);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = flusher.verifier.flush_last_used().await {
                tracing::warn!(error = %e, "could not write last-use times; will retry");
            }
        }
    }));
    if let Some(every) = state.cfg.outbox_every {
        background.push(tokio::spawn(outbox::worker(state.clone(), every)));
    }
    Ok(Running {
        addr,
        state,
        shutdown: tx,
        task,
        background,
    })
}
