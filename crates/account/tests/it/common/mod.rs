//! What the account service's integration tests share: a fresh database on
//! either backend, the real server started in-process on port 0, and small
//! HTTP helpers that carry the session and CSRF cookies by hand (the
//! workspace's reqwest has no cookie store).
//!
//! Every scenario that touches storage runs on SQLite and on PostgreSQL:
//! `both_backends!(scenario_a, scenario_b)` turns each `async fn
//! scenario(db: &TestDb)` of the test file into a module with a `sqlite` and a
//! `postgres` test (`testkit::both_backends!`). What the other crates' tests
//! share too (databases, clients, forms, the SMTP sink) is in `testkit`.

#![allow(dead_code)]

pub mod amazon;
pub mod api_keys;
pub mod companies;
pub mod members;
pub mod two_factor;
pub use testkit::smtp;

#[allow(unused_imports)]
pub use api_keys::{find_keys, mistype};

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;
use web::ManualClock;

/// Where the clock of `App::start_with_clock` starts: 2027-01-15T08:00:00Z.
pub const CLOCK_START: i64 = 1_800_000_000;

/// Runs each named `async fn(&TestDb)` of the calling file on both backends.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        testkit::both_backends!($crate::common::TestDb; $($name),*);
    };
}

// Each test module uses some of these.
#[allow(unused_imports)]
pub use testkit::{
    contains_bytes, form_input, hidden_input, http_client, set_cookie_value, unique_email,
    AccountApi, Backend, Resp, PASSWORD,
};

testkit::scratch_fixture! {
    /// A fresh, empty database for one test (`testkit::Scratch`: `backend`,
    /// `url`, `dir`, `pg`); it goes away on drop.
    pub struct TestDb("account.db");
}

impl TestDb {
    /// Opens the database through the service's own `connect` (migrations run).
    pub async fn connect(&self) -> web::db::Db {
        account::connect(&self.url)
            .await
            .expect("connect and migrate")
    }

    pub fn sqlite_dir(&self) -> &Path {
        assert_eq!(
            self.backend,
            Backend::Sqlite,
            "the SQLite variant's directory"
        );
        self.dir.path()
    }

    /// Every byte stored by the database: all files of the SQLite directory,
    /// or on PostgreSQL every row of every account-service table as text.
    pub async fn stored_bytes(&self) -> Vec<u8> {
        match self.backend {
            Backend::Sqlite => {
                let mut out = Vec::new();
                let mut files: Vec<PathBuf> = std::fs::read_dir(self.sqlite_dir())
                    .expect("read the temp dir")
                    .map(|e| e.expect("dir entry").path())
                    .collect();
                files.sort();
                assert!(
                    files.iter().any(|f| f.ends_with("account.db")),
                    "the database file is in the temp dir: {files:?}"
                );
                for f in files {
                    out.extend(std::fs::read(&f).expect("read a database file"));
                }
                out
            }
            Backend::Postgres => {
                let mut conn = sqlx::AnyConnection::connect(&self.url)
                    .await
                    .expect("connect");
                let mut out = Vec::new();
                for table in [
                    "amazon_stores",
                    "api_keys",
                    "accounts",
                    "account_sessions",
                    "companies",
                    "password_resets",
                    "email_verifications",
                    "outbox",
                    "audit_events",
                ] {
                    let sql = format!("SELECT t::text AS row_text FROM {table} t");
                    let rows = sqlx::query_scalar::<_, String>(&sql)
                        .fetch_all(&mut conn)
                        .await
                        .expect("read rows as text");
                    for r in rows {
                        out.extend(r.into_bytes());
                        out.push(b'\n');
                    }
                }
                out
            }
        }
    }
}

/// A company's messages in the outbox, newest first, without the email
/// confirmations every sign-up mails (so a scenario sees its own messages).
pub async fn company_messages(
    state: &account::AppState,
    company_id: &str,
) -> Vec<account::store::MessageRow> {
    account::store::list_messages(&state.db, company_id, 100)
        .await
        .expect("read the outbox")
        .into_iter()
        .filter(|m| m.kind != account::email_verification::KIND)
        .collect()
}

/// The real server, started in-process on a free port; its JSON API
/// (`testkit::AccountApi`: `base`, `http`, `post_json`, `get`, `delete`,
/// `sid_cookie`, `sid_of`...) by deref.
pub struct App {
    pub running: account::Running,
    pub api: AccountApi,
    pub clock: Option<ManualClock>,
}

impl Deref for App {
    type Target = AccountApi;

    fn deref(&self) -> &AccountApi {
        &self.api
    }
}

pub fn sid_cookie(sid: &str) -> String {
    format!("acct_sid={sid}")
}

impl App {
    pub async fn start(db: &TestDb) -> App {
        let conn = db.connect().await;
        let running = account::start(conn, "127.0.0.1:0", account::Config::default())
            .await
            .expect("start the account service");
        App::wrap(running, None)
    }

    pub async fn start_with_clock(db: &TestDb, clock: ManualClock) -> App {
        App::start_with(db, &clock, account::Config::default()).await
    }

    /// Starts on a manual clock at `CLOCK_START`; the clock too.
    pub async fn start_clocked(db: &TestDb) -> (App, ManualClock) {
        let clock = ManualClock::new(CLOCK_START);
        (App::start_with_clock(db, clock.clone()).await, clock)
    }

    /// Starts the service with a configuration of the test's own and `clock`.
    pub async fn start_with(db: &TestDb, clock: &ManualClock, cfg: account::Config) -> App {
        let conn = db.connect().await;
        let running = account::start_with_clock(conn, "127.0.0.1:0", cfg, Arc::new(clock.clone()))
            .await
            .expect("start the account service");
        App::wrap(running, Some(clock.clone()))
    }

    /// Starts on a manual clock at `CLOCK_START` with no outbox worker (the
    /// test reads the outbox itself); the clock too.
    pub async fn start_without_outbox(db: &TestDb) -> (App, ManualClock) {
        let clock = ManualClock::new(CLOCK_START);
        let cfg = account::Config {
            outbox_every: None,
            ..account::Config::default()
        };
        (App::start_with(db, &clock, cfg).await, clock)
    }

    /// Wraps a service started with a configuration of the test's own.
    pub fn wrap_running(running: account::Running) -> App {
        App::wrap(running, None)
    }

    fn wrap(running: account::Running, clock: Option<ManualClock>) -> App {
        assert_ne!(running.addr.port(), 0, "bound a real port");
        // The session cookie's name: `__Host-` prefixed under `--secure-cookies`.
        let sid_name = web::cookies::host_only("acct_sid", running.state.cfg.secure_cookies);
        let api = AccountApi::new(&running.url(), http_client()).with_sid_name(&sid_name);
        App {
            running,
            api,
            clock,
        }
    }

    /// Invites `email` into the owner's company as a member and joins with a
    /// new account: (account id, session id).
    pub async fn join(&self, owner_sid: &str, email: &str) -> (String, String) {
        let r = self
            .post_json(
                "/api/v1/invitations",
                Some(owner_sid),
                &json!({"email": email, "role": "member"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "invite: {}", r.text);
        let url = r.json()["url"].as_str().expect("url").to_owned();
        let token = url.split("/join/").nth(1).expect("token").to_owned();
        let r = self
            .post_json(
                "/api/v1/signup",
                None,
                &json!({"email": email, "password": PASSWORD, "name": "Member", "invitation": token}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "join: {}", r.text);
        let id = r.json()["account"]["id"].as_str().expect("id").to_owned();
        (id, self.sid_of(&r).expect("acct_sid"))
    }

    /// The server's own origin, as a browser would send it.
    pub fn origin(&self) -> String {
        self.base.clone()
    }

    pub async fn stop(self) {
        self.running.stop().await.expect("stop cleanly");
    }

    /// The password reset messages queued for `email`, oldest first.
    pub async fn reset_messages(&self, email: &str) -> Vec<account::store::MessageRow> {
        let state = &self.running.state;
        account::store::unsent_messages(&state.db, 0, i64::MAX, 10_000)
            .await
            .expect("read the outbox")
            .into_iter()
            .filter(|m| m.recipient == email && m.reset_id.is_some())
            .collect()
    }

    /// The token of the newest password reset link queued for `email`, as
    /// it is mailed. The link is written just after the 202 answer, so this
    /// waits for it (a few seconds at most).
    pub async fn reset_token(&self, email: &str) -> String {
        for _ in 0..500 {
            if let Some(m) = self.reset_messages(email).await.pop() {
                let body = account::outbox::message_body(&self.running.state, &m);
                let at = body
                    .find("/password-reset/")
                    .expect("a reset link in the body");
                let token: String = body[at + "/password-reset/".len()..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                return token;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("no reset link was queued for {email}");
    }

    /// `POST /api/v1/password-reset`.
    pub async fn request_reset(&self, email: &str) -> Resp {
        self.post_json("/api/v1/password-reset", None, &json!({"email": email}))
            .await
    }

    /// `POST /api/v1/password-reset/confirm`.
    pub async fn confirm_reset(&self, token: &str, password: &str) -> Resp {
        self.post_json(
            "/api/v1/password-reset/confirm",
            None,
            &json!({"token": token, "password": password}),
        )
        .await
    }

    /// Signs up a new company owner and returns the session id.
    pub async fn signup(&self, email: &str, company: &str) -> String {
        let r = self.signup_raw(email, PASSWORD, company).await;
        assert_eq!(r.status, StatusCode::CREATED, "signup: {}", r.text);
        self.sid_of(&r).expect("signup sets acct_sid")
    }

    /// Creates a key; asserts 201 and returns the body.
    pub async fn create_key(&self, sid: &str, body: Value) -> Value {
        self.create_key_json(sid, &body).await
    }

    /// `GET /api/v1/keys`: asserts 200 and returns the raw text and the `keys` array.
    pub async fn list_keys(&self, sid: &str) -> (String, Vec<Value>) {
        let r = self.get("/api/v1/keys", Some(sid)).await;
        assert_eq!(r.status, StatusCode::OK, "list keys: {}", r.text);
        let keys = r.json()["keys"].as_array().expect("keys array").clone();
        (r.text, keys)
    }

    /// The listed key with this id.
    pub async fn listed_key(&self, sid: &str, id: &str) -> Value {
        let (_, keys) = self.list_keys(sid).await;
        keys.into_iter()
            .find(|k| k["id"] == id)
            .unwrap_or_else(|| panic!("key {id} is listed"))
    }

    /// `POST /api/v1/keys/verify` with `X-Api-Key`.
    pub async fn verify(&self, key: &str) -> Resp {
        let r = self
            .http
            .post(self.url("/api/v1/keys/verify"))
            .header("X-Api-Key", key)
            .send()
            .await
            .expect("request");
        Resp::read(r).await
    }

    /// The `status` that verification reports; asserts 200 and that `valid` agrees.
    pub async fn verify_status(&self, key: &str) -> String {
        let r = self.verify(key).await;
        assert_eq!(r.status, StatusCode::OK, "verify: {}", r.text);
        let v = r.json();
        let status = v["status"].as_str().expect("status").to_owned();
        assert_eq!(
            v["valid"],
            json!(status == "valid"),
            "valid agrees with status: {v}"
        );
        status
    }

    /// `GET /gateway/apikeycheck` with the key in header `header` (or no header).
    pub async fn gateway(&self, header: Option<(&str, &str)>) -> StatusCode {
        let mut req = self.http.get(self.url("/gateway/apikeycheck"));
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        req.send().await.expect("request").status()
    }
}

/// A browser on the account site (`testkit::Browser`: keeps cookies, follows
/// no redirects, may send an `Accept-Language`; no `Origin` of its own) that
/// can sign in through the login form.
pub struct Browser(testkit::Browser);

impl Deref for Browser {
    type Target = testkit::Browser;

    fn deref(&self) -> &testkit::Browser {
        &self.0
    }
}

impl Browser {
    pub fn new(app: &App) -> Browser {
        Browser(testkit::Browser::new(&app.base))
    }

    pub fn with_language(app: &App, lang: &str) -> Browser {
        Browser(testkit::Browser::new(&app.base).with_language(lang))
    }

    /// Signs in through the login form (GET for the CSRF token, then POST).
    pub async fn login(&self, email: &str, password: &str) -> Resp {
        let page = self.get("/login").await;
        assert_eq!(page.status, StatusCode::OK, "login page: {}", page.text);
        let csrf = hidden_input(&page.text, "csrf").expect("csrf field on the login page");
        self.post_form(
            "/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }
}
