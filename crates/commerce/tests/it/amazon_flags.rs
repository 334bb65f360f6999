//! `serve account`'s Amazon flags (SPEC §5): bad values stop it with one
//! line; good ones make Connect store work against the Amazon stand-in,
//! through the real binary.

use std::sync::Arc;

use crate::common::{cli, create_key, http, signup, Server};
use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::amazon::AmazonStandIn;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_amazon_flags_stop_serve() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").expect("test setup");
    let secret = secret.to_str().expect("utf-8 path");
    let base = ["serve", "account", "--account-addr", "127.0.0.1:0"];
    let full = [
        "--amazon-application-id",
        "amzn1.sellerapps.app.x",
        "--lwa-client-id",
        "amzn1.application-oa2-client.x",
    ];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--amazon-application-id", "app"], "go together"),
        (vec!["--seller-central-url", "FR=https://x.example"], "FR"),
        (vec!["--seller-central-url", "US"], "CC=URL"),
        (
            vec!["--lwa-token-url", "ftp://x.example"],
            "--lwa-token-url",
        ),
        (
            [
                &full[..],
                &["--lwa-client-secret-file", "/nonexistent/secret"],
            ]
            .concat(),
            "--lwa-client-secret-file",
        ),
        (
            vec![
                "--amazon-application-id",
                "with space",
                "--lwa-client-id",
                "c",
                "--lwa-client-secret-file",
                secret,
            ],
            "--amazon-application-id",
        ),
    ];
    for (extra, names) in cases {
        let args: Vec<&str> = base.iter().copied().chain(extra.iter().copied()).collect();
        let out = cli(&data, &args).await;
        out.assert_clean_error(&format!("{extra:?}"));
        assert!(out.stderr.contains(names), "{extra:?}: {}", out.stderr);
        assert!(!out.stderr.contains("s3cret"));
    }
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let res = req.send().await.expect("request");
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_store_through_the_binary() {
    let standin = AmazonStandIn::start(Arc::new(web::SystemClock)).await;
    let cfg = standin.config();
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path().join("var");
    let secret = dir.path().join("lwa-secret");
    std::fs::write(&secret, format!("{}\n", cfg.client_secret)).expect("test setup");
    let sc = format!("US={}", standin.seller_central_url());
    let token_url = standin.token_url();
    let server = Server::start(
        &data,
        &[
            "serve",
            "account",
            "--account-addr",
            "127.0.0.1:0",
            "--amazon-application-id",
            &cfg.application_id,
            "--lwa-client-id",
            &cfg.client_id,
            "--lwa-client-secret-file",
            secret.to_str().expect("utf-8 path"),
            "--lwa-token-url",
            &token_url,
            "--seller-central-url",
            &sc,
            "--amazon-draft-app",
        ],
        "Account service: ",
    )
    .await;
    let base = server.account_url();
    let key_file = data.join("token.key");
    assert!(key_file.exists(), "the refresh tokens' key file is made");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let sid = signup(&base).await;
    let (_, key) = create_key(&base, &sid, json!({"name": "Amazon"})).await;
    let (status, _, text) = send(
        http()
            .post(format!("{base}/amazon/v1/stores"))
            .header("x-api-key", &key)
            .json(&json!({"name": "Shop", "email": "s@example.com", "country": "US", "website_url": "https://shop.example"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let id = serde_json::from_str::<Value>(&text).expect("JSON")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, _, text) = send(
        http()
            .post(format!("{base}/amazon/v1/stores/{id}/connect-links"))
            .header("x-api-key", &key),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let link = serde_json::from_str::<Value>(&text).expect("JSON")["url"]
        .as_str()
        .expect("url")
        .to_owned();

    // The merchant's browser: link → consent → callback.
    let browser = testkit::Browser::new("");
    let r = browser.get(&link).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let consent = r.location().expect("consent URL").to_owned();
    assert!(
        consent.starts_with(&standin.seller_central_url()),
        "{consent}"
    );
    assert!(consent.ends_with("&version=beta"), "draft app: {consent}");
    let url = reqwest::Url::parse(&consent).expect("URL");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    let r = browser
        .post_form(
            &format!("{}/apps/authorize/consent", standin.url),
            &[("state", &q["state"]), ("redirect_uri", &q["redirect_uri"])],
        )
        .await;
    let callback = r.location().expect("callback").to_owned();
    assert!(callback.starts_with(&format!("{base}/amazon/authorize/callback?")));
    let r = browser.get(&callback).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Store authorized"), "{}", r.text);

    let (_, _, text) = send(
        http()
            .get(format!("{base}/amazon/v1/stores/{id}"))
            .header("x-api-key", &key),
    )
    .await;
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("JSON")["status"],
        "active"
    );
    let log = server.stderr();
    let code: String = reqwest::Url::parse(&callback)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == "spapi_oauth_code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let link_token = link.rsplit('/').next().expect("token").to_owned();
    for secret in
        standin
            .refresh_tokens()
            .iter()
            .chain([&cfg.client_secret, &q["state"], &code, &link_token])
    {
        assert!(!log.contains(secret.as_str()), "the log holds no secret");
    }
    assert_eq!(server.terminate().await, Some(0));
}
