//! `commerce serve --service NAME[=Label]` (SPEC §10): a name that is not
//! one (capitals, a space, a dash, a leading digit), a name given twice or
//! an empty label is one line on stderr naming the flag and a non-zero
//! exit, before anything is created; the services named are the ones keys
//! may be limited to and `X-Service` may ask for, beside
//! `amazon_sales_channel`, which always exists.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{account_api, cli, http, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_service_flag_is_one_line() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    let cases: [&[&str]; 7] = [
        &["--service", "Bad Name"],
        &["--service", "billing", "--service", "billing"],
        &[
            "--service",
            "billing=Billing",
            "--service",
            "billing=Invoices",
        ],
        &["--service", "billing-eu"],
        &["--service", "1billing"],
        &["--service", "billing="],
        &["--service", ""],
    ];
    for flags in cases {
        let mut args = vec![
            "serve",
            "--account-addr",
            "127.0.0.1:0",
            "--admin-addr",
            "127.0.0.1:0",
        ];
        args.extend(flags);
        let out = cli(&data, &args).await;
        out.assert_clean_error(&format!("{flags:?}"));
        assert!(
            out.stderr.contains("--service"),
            "{flags:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{flags:?}: {out:?}");
        assert!(!data.exists(), "{flags:?}: nothing was created");
    }
}

/// `POST /api/v1/keys/verify` with `X-Service`: the status reported.
async fn status_for(base: &str, key: &str, service: &str) -> String {
    let res = http()
        .post(format!("{base}/api/v1/keys/verify"))
        .header("X-Api-Key", key)
        .header("X-Service", service)
        .send()
        .await
        .expect("verify");
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = res.json().await.expect("JSON");
    v["status"].as_str().expect("status").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_services_named_are_the_ones_keys_may_use() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    let args = [
        "serve",
        "account",
        "--account-addr",
        "127.0.0.1:0",
        "--service",
        "billing=Billing API",
        "--service",
        "reports",
    ];
    let server = Server::start(&data, &args, "Account service: ").await;
    let base = server.account_url();
    let api = account_api(&base);
    let sid = api.signup_owner().await;
    let (_, key) = api
        .create_key_pair(&sid, &json!({"name": "billing", "services": ["billing"]}))
        .await;
    assert_eq!(status_for(&base, &key, "billing").await, "valid");
    for other in ["reports", "amazon_sales_channel", "shipping"] {
        assert_eq!(status_for(&base, &key, other).await, "insufficient_scope");
    }
    let r = api
        .post_json(
            "/api/v1/keys",
            Some(&sid),
            &json!({"name": "x", "services": ["shipping"]}),
        )
        .await;
    assert_eq!(
        r.assert_api_error_status(StatusCode::UNPROCESSABLE_ENTITY, "unknown service"),
        "invalid_field"
    );
    let (_, all) = api.create_key_pair(&sid, &json!({"name": "all"})).await;
    for service in ["reports", "amazon_sales_channel", "billing"] {
        assert_eq!(status_for(&base, &all, service).await, "valid");
    }
    assert_eq!(server.terminate().await, Some(0));
}
