//! What the Admin's integration tests share: fresh databases on either
//! backend, the real account service and the real Admin started in-process on
//! port 0, and HTTP helpers that carry cookies by hand (the workspace's
//! reqwest has no cookie store).
//!
//! Every scenario that touches storage runs on SQLite and on PostgreSQL:
//! `both_backends!(a, b)` turns each `async fn a(env: &Env)` of the calling
//! file into a module with a `sqlite` and a `postgres` test
//! (`testkit::both_backends!`). What the other crates' tests share too
//! (databases, the account service's and the Admin's JSON clients) is in
//! `testkit`.

#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::{Connection, Executor};
use web::{Clock, ManualClock, SystemClock};

/// The Magento Services configuration page.
pub const CONFIG_PAGE: &str = "/admin/config/edit/section/magento_services";

/// The Production API key's field on the configuration page.
pub const KEY_FIELD: &str = "services_connector/services_connector_integration/production_api_key";

/// Runs each named `async fn(&Env)` of the calling file on both backends.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        testkit::both_backends!($crate::common::Env; $($name),*);
    };
}

// Each test module uses some of these.
#[allow(unused_imports)]
pub use testkit::{contains_bytes, hidden_csrf, http_client, Backend, Resp, PASSWORD};
use testkit::{AccountApi, AdminApi};

testkit::scratch_fixture! {
    /// Fresh databases for one test (the Admin's and, when asked for, the
    /// account service's, on the same backend) and a temp dir for SQLite files
    /// and the key file.
    pub struct Env("admin.db");
}

impl Env {
    pub fn key_file(&self) -> std::path::PathBuf {
        self.dir.path().join("crypt.key")
    }

    pub fn crypto(&self) -> admin::crypto::Crypto {
        admin::crypto::Crypto::open_or_create(&self.key_file()).expect("open the key file")
    }

    pub async fn admin_db(&self) -> web::db::Db {
        admin::connect(&self.url)
            .await
            .expect("connect and migrate the Admin database")
    }

    /// The account service's database: on SQLite a file beside the Admin's;
    /// on PostgreSQL a fresh schema of its own in this test's fresh database
    /// (creating a second database per test costs more than the test).
    pub async fn account_db(&self) -> web::db::Db {
        let url = match self.backend {
            Backend::Sqlite => format!("sqlite://{}/account.db", self.dir.path().display()),
            Backend::Postgres => {
                let schema = format!("acct_{}", keys::random_base62(8).to_lowercase());
                let mut conn = sqlx::AnyConnection::connect(&self.url)
                    .await
                    .expect("connect to the test database");
                conn.execute(format!("CREATE SCHEMA {schema}").as_str())
                    .await
                    .expect("create the account schema");
                format!("{}?options[search_path]={schema}", self.url)
            }
        };
        account::connect(&url)
            .await
            .expect("connect and migrate the account database")
    }
}

/// The account service, started in-process on a free port; its JSON API
/// (`testkit::AccountApi`: `base`, `http`, `create_key_pair`, `revoke_key`...)
/// by deref.
pub struct Account {
    pub running: account::Running,
    pub api: AccountApi,
    pub clock: ManualClock,
    /// Its database, kept to start it again on the same data.
    pub db: web::db::Db,
}

impl Account {
    /// Starts on a manual clock set to the real time now (so the Admin, on
    /// the system clock, agrees about "now" until the test moves it).
    pub async fn start(env: &Env) -> Account {
        Self::start_with(env, account::Config::default()).await
    }

    /// Starts with the given configuration (e.g. Amazon set up).
    pub async fn start_with(env: &Env, cfg: account::Config) -> Account {
        let clock = ManualClock::new(SystemClock.now());
        Self::start_on(env.account_db().await, "127.0.0.1:0", cfg, clock).await
    }

    /// Starts on `db` at `addr` (`127.0.0.1:0` for a free port).
    pub async fn start_on(
        db: web::db::Db,
        addr: &str,
        cfg: account::Config,
        clock: ManualClock,
    ) -> Account {
        let running = account::start_with_clock(db.clone(), addr, cfg, Arc::new(clock.clone()))
            .await
            .expect("start the account service");
        assert_ne!(running.addr.port(), 0);
        Account {
            api: AccountApi::new(&running.url(), http_client()),
            running,
            clock,
            db,
        }
    }

    /// Stops, then starts again at the same address on the same data.
    pub async fn restart(self, cfg: account::Config) -> Account {
        let addr = self.running.addr.to_string();
        let (db, clock) = (self.db.clone(), self.clock.clone());
        self.stop().await;
        Self::start_on(db, &addr, cfg, clock).await
    }

    pub async fn stop(self) {
        self.running.stop().await.expect("stop the account service");
    }

    /// Signs up a new company owner; returns the session id.
    pub async fn signup(&self) -> String {
        self.signup_owner().await
    }

    /// Creates a key; returns `(id, key)`.
    pub async fn create_key(&self, sid: &str, body: Value) -> (String, String) {
        self.create_key_pair(sid, &body).await
    }
}

impl Deref for Account {
    type Target = AccountApi;

    fn deref(&self) -> &AccountApi {
        &self.api
    }
}

/// The Admin, started in-process on a free port, with its first admin's
/// password; its JSON API (`testkit::AdminApi`: `base`, `http`, `url`, `get`,
/// `api_login_raw`, `key_status`) by deref.
pub struct Admin {
    pub running: admin::Running,
    pub api: AdminApi,
    pub password: String,
}

impl Deref for Admin {
    type Target = AdminApi;

    fn deref(&self) -> &AdminApi {
        &self.api
    }
}

impl Admin {
    /// Installs (first admin user) and starts the Admin pointed at
    /// `account_url`, with second steps optional: the tests that are not
    /// about signing in sign in with the password alone (`two_factor.rs`
    /// tests the product's default, required).
    pub async fn start(env: &Env, account_url: Option<String>) -> Admin {
        Self::start_with(
            env,
            account_url,
            admin::two_factor::Policy::Optional,
            Arc::new(SystemClock),
        )
        .await
    }

    /// Installs and starts the Admin with the given second-step policy and clock.
    pub async fn start_with(
        env: &Env,
        account_url: Option<String>,
        two_factor: admin::two_factor::Policy,
        clock: Arc<dyn Clock>,
    ) -> Admin {
        let db = env.admin_db().await;
        let password = admin::install(&db, SystemClock.now())
            .await
            .expect("install")
            .map(|(user, p)| {
                assert_eq!(user, "admin");
                p.expose().to_owned()
            })
            .unwrap_or_default();
        let running = admin::start_with_clock(
            db,
            env.crypto(),
            "127.0.0.1:0",
            admin::Config {
                redis: None,
                secure_cookies: false,
                account_url,
                two_factor,
                trusted_proxies: Default::default(),
            },
            clock,
        )
        .await
        .expect("start the Admin");
        assert_ne!(running.addr.port(), 0);
        Admin {
            api: AdminApi::new(&running.url(), http_client()),
            running,
            password,
        }
    }

    pub fn config(&self) -> admin::config::ConfigStore<'_> {
        self.running.state.config()
    }

    /// The stored Production key, decrypted.
    pub async fn stored_key(&self) -> Option<String> {
        self.config()
            .get(
                admin::config::PRODUCTION_API_KEY,
                admin::config::ScopeRef::DEFAULT,
            )
            .await
            .expect("read the stored key")
    }

    pub async fn store_key(&self, value: &str) {
        self.config()
            .set(
                admin::config::PRODUCTION_API_KEY,
                value,
                admin::config::ScopeRef::DEFAULT,
                SystemClock.now(),
            )
            .await
            .expect("store the key");
    }

    /// The Amazon stores in the Admin's database.
    pub async fn amazon_stores(&self) -> Vec<admin::store::AmazonStore> {
        admin::store::amazon_stores(&self.running.state.db)
            .await
            .expect("read")
    }

    /// Signs in as `admin` through the JSON API; returns the session id.
    pub async fn api_login(&self) -> String {
        let r = self.api_login_raw("admin", &self.password).await;
        assert_eq!(r.status, StatusCode::OK, "admin login: {}", r.text);
        r.cookie("adm_sid").expect("login sets adm_sid")
    }

    pub async fn stop(self) {
        self.running.stop().await.expect("stop the Admin");
    }
}

/// A browser on the Admin's pages (`testkit::Browser`: keeps cookies,
/// optionally sends an `Accept-Language`) that sends the Admin's `Origin` on
/// posts as browsers do, and can sign in.
pub struct Browser<'a> {
    pub admin: &'a Admin,
    web: testkit::Browser,
}

impl Deref for Browser<'_> {
    type Target = testkit::Browser;

    fn deref(&self) -> &testkit::Browser {
        &self.web
    }
}

impl DerefMut for Browser<'_> {
    fn deref_mut(&mut self) -> &mut testkit::Browser {
        &mut self.web
    }
}

impl<'a> Browser<'a> {
    pub fn new(admin: &'a Admin) -> Browser<'a> {
        Browser {
            admin,
            web: testkit::Browser::new(&admin.base).sending_origin(),
        }
    }

    /// A browser asking for `lang` (`Accept-Language`).
    pub fn with_language(admin: &'a Admin, lang: &str) -> Browser<'a> {
        Browser {
            admin,
            web: testkit::Browser::new(&admin.base)
                .sending_origin()
                .with_language(lang),
        }
    }

    /// The CSRF token the pages put in their forms (the `adm_csrf` cookie).
    pub fn csrf(&self) -> String {
        self.cookie("adm_csrf")
            .expect("an adm_csrf cookie: open a page first")
    }

    /// Signs in through the login form as `admin`.
    pub async fn sign_in(&self) {
        let page = self.get("/admin/login?next=/admin/amazon").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = self.csrf();
        assert_eq!(hidden_csrf(&page.text).as_deref(), Some(csrf.as_str()));
        let password = self.admin.password.clone();
        let r = self
            .post_form(
                "/admin/login",
                &[
                    ("csrf", &csrf),
                    ("username", "admin"),
                    ("password", &password),
                    ("next", "/admin/amazon"),
                ],
            )
            .await;
        assert!(r.is_redirect(), "login: {} {}", r.status, r.text);
        assert!(self.cookie("adm_sid").is_some(), "signed in");
    }
}
