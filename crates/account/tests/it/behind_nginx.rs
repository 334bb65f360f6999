//! The service behind a real reverse proxy (SPEC §10, `--trusted-proxy`):
//! Debian's nginx on loopback, started and stopped by the test, appends the
//! address it was called from to `X-Forwarded-For`. The service trusts the
//! proxy's address only, so the failed-verification throttle holds each
//! client alone, the audit and the session list name the client, and an
//! address a client forges in the header is never taken. A key limited to
//! one client's address (SPEC §10 allowed IPs) is valid through nginx for
//! that client only.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{sid_cookie, unique_email, App, TestDb, CLOCK_START, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;
use web::ManualClock;

both_backends!(
    nginx_in_front_names_each_client,
    nginx_in_front_allowed_ips_see_the_client,
);

/// Debian's nginx (`COMMERCE_TEST_NGINX` overrides; the test command
/// installs `nginx-light` when it is missing).
fn nginx_binary() -> PathBuf {
    let path = std::env::var_os("COMMERCE_TEST_NGINX")
        .map_or_else(|| PathBuf::from("/usr/sbin/nginx"), PathBuf::from);
    assert!(
        path.exists(),
        "{} is missing: install Debian's nginx-light (scripts/test.sh does)",
        path.display()
    );
    path
}

/// nginx in the foreground, one process, everything under `dir`; killed
/// (by its PID) when dropped.
struct Nginx {
    child: Child,
    addr: SocketAddr,
}

impl Nginx {
    fn start(dir: &Path, upstream: SocketAddr) -> Nginx {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = dir.display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
             proxy_pass http://{upstream};\n      proxy_set_header Host $proxy_host;\n\
             proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
             proxy_http_version 1.1;\n    }}\n  }}\n}}\n"
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client whose connections come from `ip` (any 127/8 address is local).
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .build()
        .unwrap()
}

async fn verify(nginx: &Nginx, client: &reqwest::Client, key: &str) -> StatusCode {
    client
        .post(nginx.url("/api/v1/keys/verify"))
        .header("X-Api-Key", key.to_owned())
        // A forged entry: nginx appends the real address after it.
        .header("X-Forwarded-For", "203.0.113.5")
        .send()
        .await
        .unwrap()
        .status()
}

async fn nginx_in_front_names_each_client(db: &TestDb) {
    let cfg = account::Config {
        trusted_proxies: web::proxies::TrustedProxies::parse(&["127.0.0.1"]).unwrap(),
        ..account::Config::default()
    };
    let app = App::start_with(db, &ManualClock::new(CLOCK_START), cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path(), app.running.addr);
    let email = unique_email("nginx");
    let sid = app.signup(&email, "Proxied Co").await;
    let key = app.create_key(&sid, json!({"name": "store"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (guesser, store) = (client_from(77), client_from(78));

    // Through nginx: the guesser is throttled, the store beside it is not.
    assert_eq!(verify(&nginx, &store, &key).await, StatusCode::OK);
    let forged = keys::ApiKey::generate(keys::Environment::Production)
        .expose()
        .to_owned();
    let mut blocked = false;
    for _ in 0..700 {
        if verify(&nginx, &guesser, &forged).await == StatusCode::TOO_MANY_REQUESTS {
            blocked = true;
            break;
        }
    }
    assert!(
        blocked,
        "failed verifications are throttled behind the proxy"
    );
    assert_eq!(
        verify(&nginx, &guesser, &key).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        verify(&nginx, &store, &key).await,
        StatusCode::OK,
        "another client behind the same proxy is not held for it"
    );

    // Signing in through nginx: the audit names the client, not the proxy
    // and not the forged entry; so does the session list.
    let r = store
        .post(nginx.url("/api/v1/login"))
        .header("X-Forwarded-For", "203.0.113.5")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let session = testkit::set_cookie_value(r.headers(), "acct_sid").unwrap();
    let pool = db.connect().await.pool;
    let ip: Option<String> = sqlx::query_scalar(
        "SELECT ip FROM audit_events WHERE action = 'session.signed_in' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ip.as_deref(), Some("127.0.0.78"));
    let page = store
        .get(nginx.url("/account"))
        .header("Cookie", sid_cookie(&session))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("127.0.0.0/24"),
        "the session list shows the client's network"
    );
    assert!(!page.contains("203.0.113.0/24"), "never the forged entry");
    drop(nginx);
    app.stop().await;
}

/// The status `POST /api/v1/keys/verify` reports through nginx for `client`,
/// which sends `X-Forwarded-For: forged`; and the gateway's answer.
async fn status_through(
    nginx: &Nginx,
    client: &reqwest::Client,
    key: &str,
    forged: &str,
) -> (String, StatusCode) {
    let r = client
        .post(nginx.url("/api/v1/keys/verify"))
        .header("X-Api-Key", key.to_owned())
        .header("X-Forwarded-For", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.unwrap();
    let gateway = client
        .get(nginx.url("/gateway/apikeycheck"))
        .header("magento-api-key", key.to_owned())
        .header("X-Forwarded-For", forged)
        .send()
        .await
        .unwrap()
        .status();
    (v["status"].as_str().unwrap().to_owned(), gateway)
}

async fn nginx_in_front_allowed_ips_see_the_client(db: &TestDb) {
    let cfg = account::Config {
        trusted_proxies: web::proxies::TrustedProxies::parse(&["127.0.0.1"]).unwrap(),
        ..account::Config::default()
    };
    let app = App::start_with(db, &ManualClock::new(CLOCK_START), cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path(), app.running.addr);
    let sid = app.signup(&unique_email("nginx-ips"), "Proxied Co").await;
    let body = json!({"name": "store", "allowed_ips": ["127.0.0.78"]});
    let key = app.create_key(&sid, body).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (store, other) = (client_from(78), client_from(77));
    let valid = ("valid".to_owned(), StatusCode::OK);
    let refused = ("ip_not_allowed".to_owned(), StatusCode::UNAUTHORIZED);
    for _ in 0..2 {
        // The client nginx saw counts, whatever entry the client forged.
        assert_eq!(
            status_through(&nginx, &store, &key, "203.0.113.5").await,
            valid
        );
        assert_eq!(
            status_through(&nginx, &other, &key, "127.0.0.78").await,
            refused
        );
        assert_eq!(
            status_through(&nginx, &other, &key, "203.0.113.5").await,
            refused
        );
    }
    // Straight to the service from the proxy's own address: not the store.
    let r = client_from(1)
        .post(app.url("/api/v1/keys/verify"))
        .header("X-Api-Key", key.clone())
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ip_not_allowed", "{v}");
    drop(nginx);
    app.stop().await;
}
