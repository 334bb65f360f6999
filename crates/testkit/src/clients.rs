//! Clients of the two apps' JSON APIs as every crate's tests use them: an
//! owner who signs up on the account service and makes and revokes keys,
//! and an admin who signs in to the Admin and reads the key status.

use reqwest::header::COOKIE;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Value};

use crate::Resp;

/// The password of every test account of the account service (long enough
/// for the 12-character rule).
pub const PASSWORD: &str = "correct horse battery staple";

/// A fresh email per call, so scenarios never collide.
pub fn unique_email(tag: &str) -> String {
    format!(
        "{tag}-{}@example.com",
        keys::random_base62(8).to_lowercase()
    )
}

/// The account service's JSON API at `base`; the session travels in the
/// `acct_sid` cookie (or the name `with_sid_name` gives).
#[derive(Clone, Debug)]
pub struct AccountApi {
    pub base: String,
    pub http: reqwest::Client,
    sid_name: String,
}

impl AccountApi {
    pub fn new(base: &str, http: reqwest::Client) -> AccountApi {
        AccountApi {
            base: base.to_owned(),
            http,
            sid_name: "acct_sid".to_owned(),
        }
    }

    /// The session cookie's name, e.g. `__Host-acct_sid` under `--secure-cookies`.
    pub fn with_sid_name(mut self, name: &str) -> AccountApi {
        name.clone_into(&mut self.sid_name);
        self
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `Cookie: <session cookie>=sid`, by the name this server reads.
    pub fn sid_cookie(&self, sid: &str) -> String {
        format!("{}={sid}", self.sid_name)
    }

    /// The session an answer set.
    pub fn sid_of(&self, r: &Resp) -> Option<String> {
        r.cookie(&self.sid_name)
    }

    /// Sends `req` with the session `sid`, if any; the answer read in full.
    pub async fn send(&self, mut req: RequestBuilder, sid: Option<&str>) -> Resp {
        if let Some(s) = sid {
            req = req.header(COOKIE, self.sid_cookie(s));
        }
        Resp::read(req.send().await.expect("request")).await
    }

    pub async fn post_json(&self, path: &str, sid: Option<&str>, body: &Value) -> Resp {
        self.send(self.http.post(self.url(path)).json(body), sid)
            .await
    }

    pub async fn get(&self, path: &str, sid: Option<&str>) -> Resp {
        self.send(self.http.get(self.url(path)), sid).await
    }

    pub async fn delete(&self, path: &str, sid: Option<&str>) -> Resp {
        self.send(self.http.delete(self.url(path)), sid).await
    }

    /// `POST /api/v1/signup` of a new company owner; the raw response.
    pub async fn signup_raw(&self, email: &str, password: &str, company: &str) -> Resp {
        self.post_json(
            "/api/v1/signup",
            None,
            &json!({"email": email, "password": password, "name": "Test User", "company": company}),
        )
        .await
    }

    /// Signs up a new company owner with a fresh email; returns the session id.
    pub async fn signup_owner(&self) -> String {
        let r = self
            .signup_raw(&unique_email("owner"), PASSWORD, "Shop B.V.")
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "signup: {}", r.text);
        self.sid_of(&r).expect("signup sets the session cookie")
    }

    /// `POST /api/v1/login`; the raw response.
    pub async fn login_raw(&self, email: &str, password: &str) -> Resp {
        self.post_json(
            "/api/v1/login",
            None,
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Creates a key; asserts 201 and returns the body.
    pub async fn create_key_json(&self, sid: &str, body: &Value) -> Value {
        let r = self.post_json("/api/v1/keys", Some(sid), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "create key: {}", r.text);
        r.json()
    }

    /// Creates a key; returns `(id, key)`.
    pub async fn create_key_pair(&self, sid: &str, body: &Value) -> (String, String) {
        let v = self.create_key_json(sid, body).await;
        (
            v["id"].as_str().expect("id").to_owned(),
            v["key"].as_str().expect("key").to_owned(),
        )
    }

    /// Revokes a key; asserts 204.
    pub async fn revoke_key(&self, sid: &str, id: &str) {
        let r = self.delete(&format!("/api/v1/keys/{id}"), Some(sid)).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "revoke: {}", r.text);
    }
}

/// The Admin's JSON API at `base` (the origin, without `/admin`).
#[derive(Clone, Debug)]
pub struct AdminApi {
    pub base: String,
    pub http: reqwest::Client,
}

impl AdminApi {
    pub fn new(base: &str, http: reqwest::Client) -> AdminApi {
        AdminApi {
            base: base.to_owned(),
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET` with the given `Cookie` header (may be empty).
    pub async fn get(&self, path: &str, cookie: &str) -> Resp {
        let mut req = self.http.get(self.url(path));
        if !cookie.is_empty() {
            req = req.header(COOKIE, cookie);
        }
        Resp::read(req.send().await.expect("request")).await
    }

    /// `POST /admin/api/v1/login`; the raw response.
    pub async fn api_login_raw(&self, username: &str, password: &str) -> Resp {
        let req = self
            .http
            .post(self.url("/admin/api/v1/login"))
            .json(&json!({"username": username, "password": password}));
        Resp::read(req.send().await.expect("request")).await
    }

    /// `GET /admin/api/v1/channels/amazon/key-status` with session `sid`; the raw response.
    pub async fn key_status_raw(&self, sid: &str) -> Resp {
        self.get(
            "/admin/api/v1/channels/amazon/key-status",
            &format!("adm_sid={sid}"),
        )
        .await
    }

    /// The key status as a signed-in admin sees it; asserts 200.
    pub async fn key_status(&self, sid: &str) -> Value {
        let r = self.key_status_raw(sid).await;
        assert_eq!(r.status, StatusCode::OK, "key status: {}", r.text);
        r.json()
    }
}
