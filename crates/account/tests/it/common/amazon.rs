//! Connect to Amazon in tests: the account service set up as the SP-API
//! application against `testkit::amazon::AmazonStandIn` (the LWA token
//! endpoint and Seller Central on loopback), a company with a Production
//! key, and the Admin's calls to `/amazon/v1/...` with that key.

use std::sync::Arc;

use account::amazon::{AmazonConfig, ClientSecret, Country};
use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::amazon::AmazonStandIn;
use web::ManualClock;

use super::{App, Browser, Resp, TestDb, CLOCK_START};

/// The account service with Amazon set up, its stand-in, and a company.
pub struct AmazonApp {
    pub app: App,
    pub standin: AmazonStandIn,
    pub clock: ManualClock,
    /// The company owner's session and the company's Production key.
    pub sid: String,
    pub key: String,
    /// The client secret file the service reads.
    pub secret_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// The Amazon settings pointing at the stand-in, with the secret in a file.
pub fn amazon_config(standin: &AmazonStandIn, secret_file: &std::path::Path) -> AmazonConfig {
    let sc = standin.seller_central_url();
    let overrides: Vec<String> = Country::ALL
        .iter()
        .map(|c| format!("{}={sc}", c.code()))
        .collect();
    let cfg = standin.config();
    std::fs::write(secret_file, format!("{}\n", cfg.client_secret)).expect("write the secret");
    let mut amazon = AmazonConfig::new(
        &cfg.application_id,
        &cfg.client_id,
        ClientSecret::from_file(secret_file).expect("secret file"),
    )
    .with_token_url(&standin.token_url())
    .expect("token url")
    .with_seller_central(&overrides)
    .expect("seller central");
    amazon.token_timeout = std::time::Duration::from_secs(2);
    amazon
}

impl AmazonApp {
    /// Amazon set up (`configured`) or not.
    pub async fn start(db: &TestDb, configured: bool) -> AmazonApp {
        Self::start_with(db, configured, |_| {}).await
    }

    pub async fn start_with(
        db: &TestDb,
        configured: bool,
        tune: impl FnOnce(&mut account::Config),
    ) -> AmazonApp {
        let clock = ManualClock::new(CLOCK_START);
        let standin = AmazonStandIn::start(Arc::new(clock.clone())).await;
        let dir = tempfile::tempdir().expect("temp dir");
        let secret_file = dir.path().join("lwa-client-secret");
        let mut cfg = account::Config::default();
        if configured {
            cfg.amazon = Some(amazon_config(&standin, &secret_file));
        }
        tune(&mut cfg);
        let app = App::start_with(db, &clock, cfg).await;
        standin.set_login_uri(&app.url("/amazon/authorize/login"));
        let sid = app
            .signup(&super::unique_email("amazon-owner"), "Amazon Co")
            .await;
        let created = app
            .create_key(&sid, json!({"name": "Amazon Sales Channel"}))
            .await;
        let key = created["key"].as_str().expect("key").to_owned();
        AmazonApp {
            app,
            standin,
            clock,
            sid,
            key,
            secret_file,
            _dir: dir,
        }
    }

    /// `PATCH /amazon/v1/stores/{id}` with `body`, as the Admin calls it.
    pub async fn patch_store(&self, id: &str, body: Value) -> Resp {
        let path = format!("/amazon/v1/stores/{id}");
        self.call(reqwest::Method::PATCH, &path, Some(body)).await
    }

    /// A call of the Admin: `method path` with the company's key and a JSON body.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Resp {
        self.call_with_key(&self.key, method, path, body).await
    }

    pub async fn call_with_key(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self
            .app
            .http
            .request(method, self.app.url(path))
            .header("x-api-key", key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::read(req.send().await.expect("request")).await
    }

    /// Registers a store; asserts 201 and returns it.
    pub async fn register(&self, name: &str, country: &str) -> Value {
        let r = self
            .call(
                reqwest::Method::POST,
                "/amazon/v1/stores",
                Some(json!({
                    "name": name,
                    "email": "seller@example.com",
                    "country": country,
                    "website_url": "https://shop.example.com",
                })),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "register: {}", r.text);
        r.json()
    }

    /// A store as the API shows it now.
    pub async fn store(&self, id: &str) -> Value {
        let r = self
            .call(
                reqwest::Method::GET,
                &format!("/amazon/v1/stores/{id}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "get store: {}", r.text);
        r.json()
    }

    /// A connect link's path on the account site (`/amazon/connect/…`).
    pub async fn connect_link(&self, id: &str) -> String {
        let r = self
            .call(
                reqwest::Method::POST,
                &format!("/amazon/v1/stores/{id}/connect-links"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "connect link: {}", r.text);
        let url = r.json()["url"].as_str().expect("url").to_owned();
        // Under --secure-cookies the site names itself https://.
        let https = self.app.base.replacen("http://", "https://", 1);
        url.strip_prefix(&self.app.base)
            .or_else(|| url.strip_prefix(&https))
            .expect("a link on the account site")
            .to_owned()
    }

    /// The stored row of a store (what the database holds).
    pub async fn row(&self, id: &str) -> account::store::AmazonStoreRow {
        account::store::amazon_store_by_id(&self.app.running.state.db, id)
            .await
            .expect("read the store")
            .expect("the store exists")
    }
}

pub use testkit::amazon::browse::{consent, path_of, query_param};

/// Opens a connect link in `browser`: the consent URL it is sent to.
pub async fn open_link(a: &AmazonApp, browser: &Browser, store: &str) -> String {
    let link = a.connect_link(store).await;
    let r = browser.get(&link).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.headers["referrer-policy"], "no-referrer");
    r.location().expect("to Seller Central").to_owned()
}

/// Connects a store through the whole flow in `browser`; the callback's page.
pub async fn authorize(a: &AmazonApp, browser: &Browser, store: &str) -> Resp {
    let consent_url = open_link(a, browser, store).await;
    let callback = consent(&consent_url).await;
    browser.get(&path_of(&callback)).await
}
