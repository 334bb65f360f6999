//! `channel:amazon:verify` with the real binary and a key its company
//! disabled in the API Portal (SPEC §10): `status: invalid`, the reason's
//! code and its sentence, a non-zero exit; enabled again, `status: valid`.

use crate::common::{account_api, cli, Server, KEY_PATH, SERVE_BOTH};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// `PATCH /api/v1/keys/{id}` as the company's owner; asserts 200.
async fn patch_key(account: &str, sid: &str, id: &str, body: Value) {
    let api = account_api(account);
    let req = api
        .http
        .patch(api.url(&format!("/api/v1/keys/{id}")))
        .json(&body);
    let r = api.send(req, Some(sid)).await;
    assert_eq!(r.status, StatusCode::OK, "PATCH {body}: {}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_a_disabled_key() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let server = Server::start(dir.path(), SERVE_BOTH, "Commerce Admin:").await;
    let account = server.account_url();
    let sid = crate::common::signup(&account).await;
    let (id, key) =
        crate::common::create_key(&account, &sid, json!({"name": "Amazon Sales Channel"})).await;
    assert!(cli(dir.path(), &["config:set", KEY_PATH, &key]).await.ok());
    let verify = ["channel:amazon:verify", "--account-url", account.as_str()];
    let out = cli(dir.path(), &verify).await;
    assert_eq!(out.stdout.trim(), "status: valid", "{out:?}");
    assert!(out.ok(), "{out:?}");

    patch_key(&account, &sid, &id, json!({"disabled": true})).await;
    let out = cli(dir.path(), &verify).await;
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.get(..2),
        Some(&["status: invalid", "reason: key_disabled"][..]),
        "{out:?}"
    );
    assert_eq!(
        lines.get(2),
        Some(&admin::gate::Reason::KeyDisabled.sentence()),
        "{out:?}"
    );
    assert!(lines[2].contains("disabled in the API Portal"), "{out:?}");
    assert_eq!(lines.len(), 3, "{out:?}");
    assert!(!out.ok(), "not valid: a non-zero exit {out:?}");
    assert!(
        !out.stdout.contains(&key) && !out.stderr.contains(&key),
        "the key is never printed"
    );

    patch_key(&account, &sid, &id, json!({"disabled": false})).await;
    let out = cli(dir.path(), &verify).await;
    assert_eq!(out.stdout.trim(), "status: valid", "{out:?}");
    assert!(out.ok(), "{out:?}");
    server.terminate().await;
}
