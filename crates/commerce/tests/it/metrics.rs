//! Prometheus metrics (SPEC §7) with the real binary: `--metrics-addr`
//! serves `GET /metrics` on a listener of its own, which a real Prometheus
//! text-format parser (Python's `prometheus_client`) reads; the counters move
//! with verifications, routes are labelled by their template, and the public
//! ports do not serve it. Without the flag nothing is recorded (the
//! recorder is never installed: see `web::metrics`).

use std::collections::HashMap;
use std::io::Write;
use std::process::Stdio;

use crate::common::{admin_key_status, admin_login, create_key, http, revoke_key, signup, Server};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// One sample: its name and labels, sorted, as text.
type Samples = HashMap<String, f64>;

fn sample(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels = labels.to_vec();
    labels.sort();
    let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{name}{{{}}}", labels.join(","))
}

/// The Python that has `prometheus_client` (scripts/test.sh makes it).
fn python() -> String {
    std::env::var("COMMERCE_TEST_PYTHON").unwrap_or_else(|_| {
        let venv = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../.cache/py-venv/bin/python"
        );
        if std::path::Path::new(venv).exists() {
            venv.to_owned()
        } else {
            "python3".to_owned()
        }
    })
}

const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {"types": {}, "samples": []}
for family in text_string_to_metric_families(sys.stdin.read()):
    out["types"][family.name] = family.type
    for s in family.samples:
        out["samples"].append([s.name, s.labels, s.value])
print(json.dumps(out))
"#;

/// Scrapes `/metrics` and parses it with `prometheus_client`.
async fn scrape(url: &str) -> (HashMap<String, String>, Samples) {
    let res = http().get(url).send().await.expect("scrape");
    assert_eq!(res.status(), StatusCode::OK);
    let ctype = res.headers()["content-type"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    let text = res.text().await.expect("text");
    let mut child = std::process::Command::new(python())
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "prometheus_client could not parse /metrics (install it: pip install prometheus_client): {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let types = parsed["types"]
        .as_object()
        .expect("types")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("type").to_owned()))
        .collect();
    let mut samples = Samples::new();
    for s in parsed["samples"].as_array().expect("samples") {
        let labels: Vec<(&str, &str)> = s[1]
            .as_object()
            .expect("labels")
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().expect("label value")))
            .collect();
        let name = s[0].as_str().expect("name");
        samples.insert(sample(name, &labels), s[2].as_f64().expect("value"));
    }
    (types, samples)
}

fn value(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples.get(&sample(name, labels)).copied().unwrap_or(0.0)
}

async fn verify(account_url: &str, key: &str) -> String {
    let v: Value = http()
        .post(format!("{account_url}/api/v1/keys/verify"))
        .header("x-api-key", key)
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("JSON");
    v["status"].as_str().expect("status").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_move_with_verifications_and_a_real_parser_reads_them() {
    let dir = tempfile::tempdir().expect("test setup");
    let args = [
        "serve",
        "--account-addr",
        "127.0.0.1:0",
        "--admin-addr",
        "127.0.0.1:0",
        "--metrics-addr",
        "127.0.0.1:0",
    ];
    let server = Server::start(dir.path(), &args, "Metrics: ").await;
    let metrics = server.value("Metrics: ").expect("the metrics address");
    let account = server.account_url();

    let sid = signup(&account).await;
    let (id, key) = create_key(&account, &sid, json!({"name": "Shop"})).await;
    let (types, before) = scrape(&metrics).await;
    assert_eq!(types["commerce_http_request_duration_seconds"], "histogram");
    assert_eq!(types["commerce_http_requests"], "counter");

    // Three valid verifications (one miss, then cache hits), two invalid.
    for _ in 0..3 {
        assert_eq!(verify(&account, &key).await, "valid");
    }
    let forged = keys::ApiKey::generate(keys::Environment::Production)
        .expose()
        .to_owned();
    for _ in 0..2 {
        assert_eq!(verify(&account, &forged).await, "invalid");
    }
    let (_, after) = scrape(&metrics).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        value(&after, name, labels) - value(&before, name, labels)
    };
    assert_eq!(
        moved("commerce_verifications_total", &[("status", "valid")]),
        3.0
    );
    assert_eq!(
        moved("commerce_verifications_total", &[("status", "invalid")]),
        2.0
    );
    let verify_route = [
        ("app", "account"),
        ("route", "/api/v1/keys/verify"),
        ("status", "200"),
    ];
    assert_eq!(moved("commerce_http_requests_total", &verify_route), 5.0);
    let timed = [("app", "account"), ("route", "/api/v1/keys/verify")];
    assert_eq!(
        moved("commerce_http_request_duration_seconds_count", &timed),
        5.0
    );
    let le_inf = [
        ("app", "account"),
        ("le", "+Inf"),
        ("route", "/api/v1/keys/verify"),
    ];
    assert_eq!(
        moved("commerce_http_request_duration_seconds_bucket", &le_inf),
        5.0
    );
    // The key and the forged one each missed the cache once.
    assert_eq!(moved("commerce_verify_cache_misses_total", &[]), 2.0);
    assert!(value(&after, "commerce_verify_cache_entries", &[]) >= 1.0);
    assert!(value(&after, "commerce_outbox_pending", &[]) >= 0.0);
    assert!(after.contains_key(&sample("commerce_outbox_pending", &[])));
    assert!(after.contains_key(&sample(
        "commerce_db_pool_connections",
        &[("app", "account"), ("state", "idle")]
    )));

    // Routes by their template: the key's id is never a label value.
    revoke_key(&account, &sid, &id).await;
    assert_eq!(verify(&account, &key).await, "revoked");
    let (_, revoked) = scrape(&metrics).await;
    let delete = [
        ("app", "account"),
        ("route", "/api/v1/keys/{id}"),
        ("status", "204"),
    ];
    assert_eq!(
        value(&revoked, "commerce_http_requests_total", &delete),
        1.0
    );
    assert!(value(&revoked, "commerce_verify_cache_invalidations_total", &[]) >= 1.0);
    assert_eq!(
        value(
            &revoked,
            "commerce_verifications_total",
            &[("status", "revoked")]
        ),
        1.0
    );
    assert!(
        revoked.keys().all(|k| !k.contains(&id)),
        "a raw path in the labels"
    );
    let unmatched = [
        ("app", "account"),
        ("route", "unmatched"),
        ("status", "404"),
    ];
    let res = http()
        .get(format!("{account}/no/such/{id}"))
        .send()
        .await
        .expect("404");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The Admin: its requests and the gate's outcome.
    let admin = server.admin_base();
    let password = server.admin_password().expect("the first Admin password");
    let (status, admin_sid) = admin_login(&admin, "admin", &password).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        admin_key_status(&admin, &admin_sid.expect("adm_sid")).await,
        "missing"
    );
    let (_, last) = scrape(&metrics).await;
    assert_eq!(
        value(&last, "commerce_http_requests_total", &unmatched),
        1.0
    );
    assert_eq!(
        value(
            &last,
            "commerce_admin_gate_checks_total",
            &[("reason", "none"), ("status", "missing")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &last,
            "commerce_http_requests_total",
            &[
                ("app", "admin"),
                ("route", "/admin/api/v1/login"),
                ("status", "200")
            ]
        ),
        1.0
    );

    // Never on the public ports.
    for base in [account.as_str(), admin.as_str()] {
        let res = http()
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("public /metrics");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{base}");
    }
    // The metrics listener checks Host as the apps do (DNS rebinding).
    let res = http()
        .get(format!("{metrics}/metrics"))
        .header(reqwest::header::HOST, "evil.example")
        .send()
        .await
        .expect("metrics with a foreign Host");
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_cannot_be_bound_is_one_line_on_stderr() {
    let dir = tempfile::tempdir().expect("test setup");
    for bad in ["not-an-address", "203.0.113.1:9100"] {
        let out = crate::common::cli(
            dir.path(),
            &[
                "serve",
                "account",
                "--account-addr",
                "127.0.0.1:0",
                "--metrics-addr",
                bad,
            ],
        )
        .await;
        out.assert_clean_error(bad);
        assert!(out.stderr.contains("--metrics-addr"), "{}", out.stderr);
    }
}
