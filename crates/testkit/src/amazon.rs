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
use std::time::Duration;

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::json;
use web::Clock;

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

struct Code {
    client_id: String,
    redirect_uri: String,
    issued_at: i64,
    used: bool,
}

/// A forced answer of the token endpoint: status and `error` code.
#[derive(Clone, Debug)]
pub struct Forced {
    pub status: u16,
    pub error: String,
}

struct Inner {
    cfg: StandInConfig,
    codes: HashMap<String, Code>,
    /// Refresh token → revoked.
    refresh: HashMap<String, bool>,
    amazon_states: HashMap<String, bool>,
    hang: bool,
    forced: Option<Forced>,
    grants: Vec<String>,
}

struct Shared {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
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

fn random(len: usize) -> String {
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

fn issue(inner: &mut Inner, client_id: &str, redirect_uri: &str, now: i64) -> String {
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
struct Ctx {
    shared: Arc<Shared>,
    url: String,
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn accepted_secret(cfg: &StandInConfig) -> String {
    match &cfg.client_secret_file {
        Some(file) => std::fs::read_to_string(file)
            .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
            .unwrap_or_default(),
        None => cfg.client_secret.clone(),
    }
}

async fn token(
    State(ctx): State<Ctx>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let hang = ctx.shared.lock().hang;
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let Ok(Form(f)) = form else {
        ctx.shared.lock().grants.push(String::new());
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request must be application/x-www-form-urlencoded.",
        );
    };
    let field = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let now = ctx.shared.clock.now();
    let mut inner = ctx.shared.lock();
    inner.grants.push(field("grant_type").to_owned());
    if let Some(forced) = inner.forced.clone() {
        let status = StatusCode::from_u16(forced.status).unwrap_or(StatusCode::BAD_REQUEST);
        return lwa_error(status, &forced.error, "Forced by the test.");
    }
    if field("grant_type").is_empty() {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "grant_type is missing.",
        );
    }
    let secret = accepted_secret(&inner.cfg);
    if field("client_id") != inner.cfg.client_id
        || secret.is_empty()
        || field("client_secret") != secret
    {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        );
    }
    match field("grant_type") {
        "authorization_code" => {
            let (code, redirect_uri) = (field("code"), field("redirect_uri"));
            if code.is_empty() || redirect_uri.is_empty() {
                return lwa_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code and redirect_uri are required.",
                );
            }
            let client_id = inner.cfg.client_id.clone();
            let ok = match inner.codes.get_mut(code) {
                Some(c)
                    if !c.used
                        && now - c.issued_at < CODE_SECS
                        && c.client_id == client_id
                        && c.redirect_uri == redirect_uri =>
                {
                    c.used = true;
                    true
                }
                Some(c) => {
                    // A code presented twice is spent either way.
                    c.used = true;
                    false
                }
                None => false,
            };
            if !ok {
                return lwa_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The authorization code is invalid, expired, used or was issued for another client or redirect URI.",
                );
            }
            let refresh = format!("Atzr|{}", random(64));
            inner.refresh.insert(refresh.clone(), false);
            Json(json!({
                "access_token": format!("Atza|{}", random(64)),
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": refresh,
            }))
            .into_response()
        }
        "refresh_token" => match inner.refresh.get(field("refresh_token")) {
            Some(false) => Json(json!({
                "access_token": format!("Atza|{}", random(64)),
                "token_type": "bearer",
                "expires_in": 3600,
            }))
            .into_response(),
            _ => lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The refresh token is invalid or was revoked.",
            ),
        },
        _ => lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The grant type is not supported.",
        ),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Seller Central (stand-in)</title></head><body><main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        esc(title)
    );
    (status, Html(html)).into_response()
}

fn consent_page(
    app: &str,
    state: &str,
    redirect_uri: &str,
    amazon_state: Option<&str>,
) -> Response {
    let amazon_state = amazon_state
        .map(|s| {
            format!(
                "<input type=\"hidden\" name=\"amazon_state\" value=\"{}\">",
                esc(s)
            )
        })
        .unwrap_or_default();
    page(
        StatusCode::OK,
        "Authorize application",
        &format!(
            "<p>The application {} asks for access to your selling account.</p>\
             <form method=\"post\" action=\"/apps/authorize/consent\">\
             <input type=\"hidden\" name=\"state\" value=\"{}\">\
             <input type=\"hidden\" name=\"redirect_uri\" value=\"{}\">{amazon_state}\
             <button type=\"submit\">Confirm</button></form>",
            esc(app),
            esc(state),
            esc(redirect_uri)
        ),
    )
}

fn usable_redirect(uri: &str) -> bool {
    (uri.starts_with("http://") || uri.starts_with("https://")) && !uri.contains('#')
}

async fn consent(State(ctx): State<Ctx>, Query(q): Query<HashMap<String, String>>) -> Response {
    let app = ctx.shared.lock().cfg.application_id.clone();
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("application_id") != app {
        return page(
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "<p>The application_id is not known.</p>",
        );
    }
    if get("state").is_empty() || !usable_redirect(get("redirect_uri")) {
        return page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "<p>state and redirect_uri are required.</p>",
        );
    }
    consent_page(&app, get("state"), get("redirect_uri"), None)
}

/// The log-in flow's `amazon_callback_uri`.
async fn login_consent(
    State(ctx): State<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let (app, known) = {
        let inner = ctx.shared.lock();
        let known = inner.amazon_states.get(get("amazon_state")) == Some(&false);
        (inner.cfg.application_id.clone(), known)
    };
    if !known || get("state").is_empty() || !usable_redirect(get("redirect_uri")) {
        return page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "<p>amazon_state, state and redirect_uri are required.</p>",
        );
    }
    consent_page(
        &app,
        get("state"),
        get("redirect_uri"),
        Some(get("amazon_state")),
    )
}

async fn confirm_consent(
    State(ctx): State<Ctx>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let (state, redirect_uri) = (get("state"), get("redirect_uri"));
    if state.is_empty() || !usable_redirect(redirect_uri) {
        return page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "<p>state and redirect_uri are required.</p>",
        );
    }
    let now = ctx.shared.clock.now();
    let mut inner = ctx.shared.lock();
    if let Some(amazon_state) = f.get("amazon_state") {
        match inner.amazon_states.get_mut(amazon_state) {
            Some(used @ false) => *used = true,
            _ => {
                return page(
                    StatusCode::BAD_REQUEST,
                    "Bad request",
                    "<p>amazon_state is not valid.</p>",
                )
            }
        }
    }
    let client_id = inner.cfg.client_id.clone();
    let seller = inner.cfg.seller_id.clone();
    let code = issue(&mut inner, &client_id, redirect_uri, now);
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!(
        "{redirect_uri}{sep}state={}&selling_partner_id={}&spapi_oauth_code={code}",
        web::page::encode(state),
        web::page::encode(&seller)
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// *Manage Your Apps* > **Authorize** / **Re-Authorize**: sends the seller to
/// the application's log-in URI.
async fn reauthorize(State(ctx): State<Ctx>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = ctx.shared.lock();
    let Some(login_uri) = inner.cfg.login_uri.clone() else {
        return page(
            StatusCode::BAD_REQUEST,
            "No log-in URI",
            "<p>The application has no log-in URI.</p>",
        );
    };
    let amazon_state = format!("amzst{}", random(24));
    inner.amazon_states.insert(amazon_state.clone(), false);
    let seller = inner.cfg.seller_id.clone();
    let callback = format!("{}/apps/authorize/confirm", ctx.url);
    let sep = if login_uri.contains('?') { '&' } else { '?' };
    let mut location = format!(
        "{login_uri}{sep}amazon_callback_uri={}&amazon_state={amazon_state}&selling_partner_id={seller}",
        web::page::encode(&callback).replace('/', "%2F")
    );
    if q.get("version").is_some_and(|v| v == "beta") {
        location.push_str("&version=beta");
    }
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}
