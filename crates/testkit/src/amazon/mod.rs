//! Amazon, stood in on loopback: the Login with Amazon token endpoint and
//! Seller Central's consent pages, following Amazon's documented contract
//! (see docs/amazon-authorization.md).
//!
//! - `POST /auth/o2/token`: form-encoded, client_secret_post. Codes are
//!   single use, valid 5 minutes (by the clock given) and bound to the client
//!   and the redirect URI; errors are `{"error", "error_description"}` with
//!   400 (`invalid_request`, `invalid_grant`, `unsupported_grant_type`) or
//!   401 (`invalid_client`).
//! - `GET /apps/authorize/consent?application_id&state&redirect_uri[&version]`:
//!   a page with a **Confirm** button; confirming redirects (302) to
//!   `redirect_uri?state&selling_partner_id&spapi_oauth_code`.
//! - `GET /apps/manage/reauthorize`: starts the log-in URI flow (302 to the
//!   configured log-in URI with `amazon_callback_uri`, `amazon_state`,
//!   `selling_partner_id`), and `GET /apps/authorize/confirm` is that flow's
//!   `amazon_callback_uri`: the same consent.
//!
//! Tests steer it: issue a code directly, revoke refresh tokens, rotate the
//! accepted client secret, make the token endpoint hang or answer an error,
//! count its requests.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::routing::{get, post};
use axum::Router;
use web::Clock;

pub mod browse;
mod seller_central;
mod token;

use seller_central::{confirm_consent, consent, login_consent, reauthorize};
use token::token;

/// How long an authorization code can be exchanged.
pub const CODE_SECS: i64 = 300;

/// Who the stand-in believes the application is.
#[derive(Clone, Debug)]
pub struct StandInConfig {
    pub application_id: String,
    pub client_id: String,
    /// The accepted client secret (see [`AmazonStandIn::set_client_secret`]).
    pub client_secret: String,
    /// When given, the accepted secret is read from this file on every request.
    pub client_secret_file: Option<PathBuf>,
    /// The seller that consents.
    pub seller_id: String,
    /// The application's log-in URI (for `/apps/manage/reauthorize`).
    pub login_uri: Option<String>,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            application_id: "amzn1.sellerapps.app.standin-0000".into(),
            client_id: "amzn1.application-oa2-client.standin0000".into(),
            client_secret: "amzn1.oa2-cs.v1.standin-secret-0000".into(),
            client_secret_file: None,
            seller_id: "A1STANDINSELLER".into(),
            login_uri: None,
        }
    }
}

pub(crate) struct Code {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) issued_at: i64,
    pub(crate) used: bool,
}

/// A forced answer of the token endpoint: status and `error` code.
#[derive(Clone, Debug)]
pub struct Forced {
    pub status: u16,
    pub error: String,
}

pub(crate) struct Inner {
    pub(crate) cfg: StandInConfig,
    pub(crate) codes: HashMap<String, Code>,
    /// Refresh token → revoked.
    pub(crate) refresh: HashMap<String, bool>,
    pub(crate) amazon_states: HashMap<String, bool>,
    pub(crate) hang: bool,
    pub(crate) forced: Option<Forced>,
    pub(crate) grants: Vec<String>,
}

pub(crate) struct Shared {
    pub(crate) inner: Mutex<Inner>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The running stand-in; stops when dropped.
pub struct AmazonStandIn {
    /// `http://127.0.0.1:PORT`: Seller Central's base URL.
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AmazonStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) fn random(len: usize) -> String {
    keys::random_base62(len)
}

impl AmazonStandIn {
    /// Starts with the default application on 127.0.0.1:0.
    pub async fn start(clock: Arc<dyn Clock>) -> AmazonStandIn {
        Self::start_with(StandInConfig::default(), clock, "127.0.0.1:0").await
    }

    pub async fn start_with(
        cfg: StandInConfig,
        clock: Arc<dyn Clock>,
        addr: &str,
    ) -> AmazonStandIn {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("the stand-in binds");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                cfg,
                codes: HashMap::new(),
                refresh: HashMap::new(),
                amazon_states: HashMap::new(),
                hang: false,
                forced: None,
                grants: Vec::new(),
            }),
            clock,
        });
        let app = Router::new()
            .route("/auth/o2/token", post(token))
            .route(
                "/apps/authorize/consent",
                get(consent).post(confirm_consent),
            )
            .route("/apps/authorize/confirm", get(login_consent))
            .route("/apps/manage/reauthorize", get(reauthorize))
            .with_state(Ctx {
                shared: shared.clone(),
                url: url.clone(),
            });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        AmazonStandIn { url, shared, task }
    }

    /// The LWA token URL (`--lwa-token-url`).
    pub fn token_url(&self) -> String {
        format!("{}/auth/o2/token", self.url)
    }

    /// Seller Central's base URL (`--seller-central-url CC=URL`).
    pub fn seller_central_url(&self) -> String {
        self.url.clone()
    }

    pub fn config(&self) -> StandInConfig {
        self.shared.lock().cfg.clone()
    }

    /// A code as consent gives it, for this client and redirect URI.
    pub fn issue_code(&self, redirect_uri: &str) -> String {
        let mut inner = self.shared.lock();
        let client_id = inner.cfg.client_id.clone();
        issue(
            &mut inner,
            &client_id,
            redirect_uri,
            self.shared.clock.now(),
        )
    }

    /// Every refresh token handed out so far.
    pub fn refresh_tokens(&self) -> Vec<String> {
        self.shared.lock().refresh.keys().cloned().collect()
    }

    /// The seller revokes the application: every refresh token stops working.
    pub fn revoke_refresh_tokens(&self) {
        for revoked in self.shared.lock().refresh.values_mut() {
            *revoked = true;
        }
    }

    /// Rotates the client secret: only `secret` is accepted from now on.
    pub fn set_client_secret(&self, secret: &str) {
        let mut inner = self.shared.lock();
        inner.cfg.client_secret = secret.to_owned();
        inner.cfg.client_secret_file = None;
    }

    pub fn set_login_uri(&self, uri: &str) {
        self.shared.lock().cfg.login_uri = Some(uri.to_owned());
    }

    pub fn set_seller_id(&self, seller_id: &str) {
        self.shared.lock().cfg.seller_id = seller_id.to_owned();
    }

    /// The token endpoint answers nothing (until set back) while this is on.
    pub fn set_hang(&self, hang: bool) {
        self.shared.lock().hang = hang;
    }

    /// The token endpoint answers this error to every request (until `None`).
    pub fn force_error(&self, forced: Option<(u16, &str)>) {
        self.shared.lock().forced = forced.map(|(status, error)| Forced {
            status,
            error: error.to_owned(),
        });
    }

    /// The `grant_type` of every token request so far.
    pub fn grants(&self) -> Vec<String> {
        self.shared.lock().grants.clone()
    }

    pub fn token_requests(&self) -> usize {
        self.shared.lock().grants.len()
    }
}

pub(crate) fn issue(inner: &mut Inner, client_id: &str, redirect_uri: &str, now: i64) -> String {
    let code = format!("ANDa{}", random(20));
    inner.codes.insert(
        code.clone(),
        Code {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            issued_at: now,
            used: false,
        },
    );
    code
}

#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) url: String,
}
