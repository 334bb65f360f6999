//! The `amazon-standin` program the browser suite runs: it prints where it
//! listens, answers as the LWA token endpoint and Seller Central do, and
//! reads a rotated client secret file.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn the_program_serves_both_sides() {
    let dir = tempfile::tempdir().expect("test setup");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "first-secret\n").expect("test setup");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_amazon-standin"))
        .args([
            "--application-id",
            "amzn1.sellerapps.app.e2e",
            "--client-id",
            "e2e-client",
        ])
        .arg("--client-secret-file")
        .arg(&secret)
        .args(["--login-uri", "http://127.0.0.1:9/amazon/authorize/login"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn amazon-standin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("a line in time")
            .expect("read")
            .expect("a line")
    };
    let lwa = next().await;
    let sc = next().await;
    let token_url = lwa.strip_prefix("LWA: ").expect("LWA: line").to_owned();
    let sc = sc
        .strip_prefix("SELLER_CENTRAL: ")
        .expect("SELLER_CENTRAL: line")
        .to_owned();
    assert!(token_url.ends_with("/auth/o2/token"), "{token_url}");

    let http = testkit::http_client();
    let exchange = |client_secret: &'static str| {
        http.post(&token_url)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "ANDanothing"),
                ("redirect_uri", "http://x/cb"),
                ("client_id", "e2e-client"),
                ("client_secret", client_secret),
            ])
            .send()
    };
    let r = exchange("wrong").await.expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(v["error"], "invalid_client");
    let r = exchange("first-secret").await.expect("request");
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "a client that is known, a code that is not"
    );
    std::fs::write(&secret, "second-secret\n").expect("rotate");
    assert_eq!(
        exchange("first-secret").await.expect("request").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        exchange("second-secret").await.expect("request").status(),
        StatusCode::BAD_REQUEST
    );

    let r = http
        .get(format!("{sc}/apps/authorize/consent?application_id=amzn1.sellerapps.app.e2e&state=s&redirect_uri=http://x/cb"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("body").contains(">Confirm</button>"));
    let r = http
        .get(format!("{sc}/apps/manage/reauthorize"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FOUND);
    let to = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        to.starts_with("http://127.0.0.1:9/amazon/authorize/login?amazon_callback_uri="),
        "{to}"
    );
    child.kill().await.expect("kill");
}
