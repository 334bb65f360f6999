//! The account service: accounts and companies, the API Portal (pages and JSON
//! API), and the key verification that every Commerce store calls.

pub mod accounts;
pub mod amazon;
pub mod api;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod companies;
pub mod config;
pub mod email_verification;
pub mod error;
pub mod fields;
pub mod gauges;
pub mod i18n;
pub mod key_policy;
pub mod key_roll;
pub mod key_settings;
pub mod limits;
pub mod link_key;
pub mod members;
pub mod outbox;
pub mod pages;
pub mod password_change;
pub mod password_reset;
pub mod secret_scanning;
pub mod seed;
pub mod services;
pub mod sessions;
pub mod smtp;
pub mod store;
pub mod two_factor;
pub mod usage;
pub mod verify;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use web::db::Db;
use web::{Clock, SystemClock};

pub use config::Config;
pub use error::{AccountError, FieldError};
pub use limits::Limits;
pub use services::Services;

pub static MIGRATIONS_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
pub static MIGRATIONS_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The handlers' state: the services, shared.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, clock: Arc<dyn Clock>, cfg: Config) -> Self {
        AppState(Arc::new(Services::new(db, clock, cfg)))
    }

    /// The services, shared, for background tasks that outlive a request.
    pub fn services(&self) -> Arc<Services> {
        self.0.clone()
    }
}

pub async fn connect(url: &str) -> Result<Db, web::db::ConnectError> {
    web::db::connect(url, &MIGRATIONS_SQLITE, &MIGRATIONS_POSTGRES, 16).await
}

/// The app's routes in the edge's layers (`web::edge`); `hosts` are the host
/// names it answers to (DNS rebinding).
pub fn router(state: AppState, hosts: web::hosts::AllowedHosts) -> impl web::server::App {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(api::router())
        .merge(pages::router(state.clone()))
        .merge(web::assets::router())
        .fallback(pages::fallback);
    let hsts = state.cfg.secure_cookies;
    let trusted = state.cfg.trusted_proxies.clone();
    let direct = api::VerifyRoutes(state.clone());
    web::edge::stack(
        "account",
        app.with_state(state.clone()),
        state,
        hosts,
        hsts,
        trusted,
        direct,
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> axum::response::Response {
    web::health::readyz(&state.db, state.cfg.redis.as_deref()).await
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

    /// Stops accepting, lets in-flight requests finish, flushes last-use
    /// times and usage counts.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await??;
        for t in &self.background {
            t.abort();
        }
        self.state.verifier.flush_last_used().await?;
        self.state.verifier.flush_usage().await?;
        Ok(())
    }

    /// Resolves when the server stops on its own.
    /// What sets this service's gauges before a scrape of `/metrics`.
    pub fn metrics_collector(&self) -> web::metrics::Collector {
        gauges::collector(self.state.services())
    }

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
    let app = router(state.clone(), hosts);
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
            if let Err(e) = flusher.verifier.flush_usage().await {
                tracing::warn!(error = %e, "could not write usage counts; will retry");
            }
        }
    }));
    if state.cfg.amazon.is_some() {
        background.push(tokio::spawn(amazon::renewal::task(state.services())));
    }
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
