//! What the key policy tests (SPEC §10, `key_policy_*.rs`) share: a service
//! that runs `billing` beside `amazon_sales_channel`, clients on chosen
//! loopback addresses, and one caller that asks about a key on every
//! verification route (`POST /api/v1/keys/verify`, `GET /gateway/apikeycheck`,
//! the signed ping) and on the Amazon store routes.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
#![allow(dead_code)] // each test file uses some of these

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use crate::common::{App, Resp, TestDb, CLOCK_START};
use keys::jwt::{connector_claims, PrivateKey};
use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use web::ManualClock;

/// The service an operator names beside the Amazon Sales Channel.
pub const BILLING: &str = "billing";
pub const AMAZON: &str = "amazon_sales_channel";

/// The account service's settings with `--service billing=Billing` and,
/// when given, `--trusted-proxy` ranges.
pub fn policy_config(trusted: &[&str]) -> account::Config {
    account::Config {
        services: account::key_policy::ServiceCatalog::parse(&["billing=Billing"]).unwrap(),
        trusted_proxies: web::proxies::TrustedProxies::parse(trusted).unwrap(),
        ..account::Config::default()
    }
}

/// The service with `policy_config(trusted)` on 127.0.0.1, its clock at `CLOCK_START`.
pub async fn start(db: &TestDb, trusted: &[&str]) -> (App, ManualClock) {
    let clock = ManualClock::new(CLOCK_START);
    let app = App::start_with(db, &clock, policy_config(trusted)).await;
    (app, clock)
}

/// The service with `policy_config(&[])` bound to `addr` (e.g. `[::1]:0`).
pub async fn start_on(db: &TestDb, addr: &str, clock: &ManualClock) -> App {
    let running = account::start_with_clock(
        db.connect().await,
        addr,
        policy_config(&[]),
        std::sync::Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    App::wrap_running(running)
}

/// A client whose connections come from `ip` (any 127/8 address is local).
pub fn client_from(ip: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip)
        .build()
        .unwrap()
}

pub fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// Creates a key with `body`; asserts 201 and returns (id, key, body).
pub async fn create(app: &App, sid: &str, body: Value) -> (String, String, Value) {
    let v = app.create_key(sid, body).await;
    let id = v["id"].as_str().unwrap().to_owned();
    let key = v["key"].as_str().unwrap().to_owned();
    (id, key, v)
}

/// A key with a signing key pair: (id, key, a signature for the ping at `CLOCK_START`).
pub async fn create_signed(app: &App, sid: &str, name: &str) -> (String, String, String) {
    let (id, key, v) = create(
        app,
        sid,
        json!({"name": name, "generate_private_key": true}),
    )
    .await;
    let private = PrivateKey::from_pem(v["private_key"].as_str().unwrap()).unwrap();
    (id, key, private.sign(&connector_claims(CLOCK_START)))
}

/// `PATCH /api/v1/keys/{id}` with `body` as the session `sid`.
pub async fn patch_key(app: &App, sid: &str, id: &str, body: &Value) -> Resp {
    let req = app
        .http
        .patch(app.url(&format!("/api/v1/keys/{id}")))
        .json(body);
    app.send(req, Some(sid)).await
}

/// `PATCH /api/v1/keys/{id}`; asserts 200 and returns the key as it is now.
pub async fn patch_ok(app: &App, sid: &str, id: &str, body: Value) -> Value {
    let r = patch_key(app, sid, id, &body).await;
    assert_eq!(r.status, StatusCode::OK, "PATCH {body}: {}", r.text);
    r.json()
}

/// Asserts a 422 `invalid_field` whose message starts with `field`.
pub fn assert_refused_field(r: &Resp, field: &str, what: &str) {
    let code = r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, what);
    assert_eq!(code, "invalid_field", "{what}: {}", r.text);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with(&format!("{field}: ")),
        "{what}: the message names {field}: {message}"
    );
}

/// Who asks about keys: a client (its address), what it says in
/// `X-Forwarded-For` and `X-Service` (raw bytes, so a test can send any).
pub struct Caller<'a> {
    pub app: &'a App,
    pub client: reqwest::Client,
    pub xff: Option<String>,
    pub service: Option<Vec<u8>>,
}

impl<'a> Caller<'a> {
    /// A client on the loopback address of the server's family (127.0.0.1
    /// or ::1) that names no service.
    pub fn new(app: &'a App) -> Caller<'a> {
        Caller {
            app,
            client: crate::common::http_client(),
            xff: None,
            service: None,
        }
    }

    pub fn from(mut self, ip: IpAddr) -> Self {
        self.client = client_from(ip);
        self
    }

    /// Sends `X-Forwarded-For: xff` (the client behind a trusted proxy).
    pub fn forwarded(mut self, xff: &str) -> Self {
        self.xff = Some(xff.to_owned());
        self
    }

    /// Sends `X-Service: name`.
    pub fn service(mut self, name: &str) -> Self {
        self.service = Some(name.as_bytes().to_vec());
        self
    }

    /// Sends `X-Service` with these bytes (which need not be text).
    pub fn service_bytes(mut self, raw: &[u8]) -> Self {
        self.service = Some(raw.to_vec());
        self
    }

    async fn call(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = self.client.request(method, self.app.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(xff) = &self.xff {
            req = req.header("X-Forwarded-For", xff);
        }
        if let Some(raw) = &self.service {
            req = req.header("X-Service", HeaderValue::from_bytes(raw).unwrap());
        }
        Resp::read(req.send().await.unwrap()).await
    }

    /// `POST /api/v1/keys/verify`, the raw answer.
    pub async fn verify_raw(&self, key: &str) -> Resp {
        self.call(Method::POST, "/api/v1/keys/verify", &[("X-Api-Key", key)])
            .await
    }

    /// `POST /api/v1/keys/verify`: asserts 200 and that `valid` agrees
    /// with `status`; the answer.
    pub async fn verify(&self, key: &str) -> Value {
        let r = self.verify_raw(key).await;
        assert_eq!(r.status, StatusCode::OK, "verify: {}", r.text);
        let v = r.json();
        assert_eq!(v["valid"], json!(v["status"] == "valid"), "{v}");
        v
    }

    /// The status `POST /api/v1/keys/verify` reports.
    pub async fn status(&self, key: &str) -> String {
        self.verify(key).await["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `GET /gateway/apikeycheck` with `magento-api-key`.
    pub async fn gateway(&self, key: &str) -> StatusCode {
        self.call(
            Method::GET,
            "/gateway/apikeycheck",
            &[("magento-api-key", key)],
        )
        .await
        .status
    }

    /// The signed ping: its status and the error code (empty on 200).
    pub async fn ping(&self, key: &str, signature: &str) -> (StatusCode, String) {
        let r = self
            .call(
                Method::GET,
                "/merchant-registry/v1/ping",
                &[("x-api-key", key), ("x-gw-signature", signature)],
            )
            .await;
        code_of(&r)
    }

    /// `GET /amazon/v1/stores` with the key (and a signature): its status
    /// and the error code (empty on 200).
    pub async fn stores(&self, key: &str, signature: Option<&str>) -> (StatusCode, String) {
        let mut headers = vec![("x-api-key", key)];
        if let Some(s) = signature {
            headers.push(("x-gw-signature", s));
        }
        code_of(&self.call(Method::GET, "/amazon/v1/stores", &headers).await)
    }

    /// Asserts that `key` is `want` (not `valid`) on the three verification
    /// routes, twice each (from storage, then from memory): 200 with
    /// `"valid": false` on verify, 401 on the gateway, 401 with the status
    /// as code on the ping (with a good `signature`).
    pub async fn assert_refused(&self, key: &str, signature: &str, want: &str) {
        assert_ne!(want, "valid");
        for round in 0..2 {
            let v = self.verify(key).await;
            assert_eq!(v["status"], want, "verify, round {round}: {v}");
            assert_eq!(self.gateway(key).await, StatusCode::UNAUTHORIZED, "{want}");
            let (status, code) = self.ping(key, signature).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::UNAUTHORIZED, want),
                "ping, round {round}"
            );
        }
    }

    /// Asserts that `key` (with a signing key) is valid on the three
    /// verification routes and the store routes, twice each.
    pub async fn assert_valid(&self, key: &str, signature: &str) {
        for round in 0..2 {
            let v = self.verify(key).await;
            assert_eq!(v["status"], "valid", "verify, round {round}: {v}");
            assert!(v.get("service").is_none(), "{v}");
            assert_eq!(self.gateway(key).await, StatusCode::OK, "gateway");
            assert_eq!(self.ping(key, signature).await.0, StatusCode::OK, "ping");
            let stores = self.stores(key, Some(signature)).await;
            assert_eq!(stores.0, StatusCode::OK, "stores: {}", stores.1);
        }
    }
}

/// A response's status and its JSON error code (empty when none).
fn code_of(r: &Resp) -> (StatusCode, String) {
    let code = serde_json::from_str::<Value>(&r.text)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    (r.status, code)
}

/// Polls `caller` until it reports `want` for `key`; panics after a second.
/// Until then it may only report `before` (the status the change replaces).
pub async fn within_a_second(caller: &Caller<'_>, key: &str, before: &str, want: &str) {
    let start = Instant::now();
    loop {
        let status = caller.status(key).await;
        if status == want {
            return;
        }
        assert_eq!(status, before, "only {before} until the change arrives");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "still {status} after {:?}, not {want}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The audit events of the company of `sid`, newest first: (action, target, detail).
pub async fn audit(app: &App, sid: &str) -> Vec<(String, String, Value)> {
    let r = app.get("/api/v1/audit?limit=200", Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "audit: {}", r.text);
    r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap_or_default().to_owned(),
                e["detail"].clone(),
            )
        })
        .collect()
}
