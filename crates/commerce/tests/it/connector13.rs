//! Services Connector 1.3.x end to end with the real binary: a key pair from
//! the API Portal, both keys stored with `config:set`, and the signed check.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{cli, Server, KEY_PATH, SERVE_BOTH};
use serde_json::json;

const PRIVATE_KEY_PATH: &str =
    "services_connector/services_connector_integration/production_private_key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_pair_from_the_portal_makes_the_signed_check_valid() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), SERVE_BOTH, "Commerce Admin:").await;
    let account = server.account_url();
    let sid = crate::common::signup(&account).await;
    let created = crate::common::account_api(&account)
        .create_key_json(
            &sid,
            &json!({"name": "Amazon Sales Channel", "generate_private_key": true}),
        )
        .await;
    let key = created["key"].as_str().unwrap();
    let private_key = created["private_key"].as_str().unwrap();
    let verify = ["channel:amazon:verify", "--account-url", account.as_str()];

    assert!(cli(dir.path(), &["config:set", KEY_PATH, key]).await.ok());
    // The key alone, as the merchant documentation says to paste it: the check
    // fails and names the missing private key.
    let out = cli(dir.path(), &verify).await;
    assert!(!out.ok(), "{out:?}");
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("status: invalid"), "{out:?}");
    assert_eq!(lines.next(), Some("reason: private_key_missing"), "{out:?}");
    assert!(
        lines
            .next()
            .is_some_and(|l| l.contains("Production Private key")),
        "{out:?}"
    );
    assert!(
        cli(dir.path(), &["config:set", PRIVATE_KEY_PATH, private_key])
            .await
            .ok()
    );
    let out = cli(dir.path(), &verify).await;
    assert_eq!(out.stdout.trim(), "status: valid", "{out:?}");
    assert!(out.ok());
    let shown = cli(dir.path(), &["config:show", PRIVATE_KEY_PATH]).await;
    assert_eq!(shown.stdout.trim(), format!("{PRIVATE_KEY_PATH} = ******"));

    // Another store's private key: the signature is refused, the check is not valid.
    let other = keys::jwt::PrivateKey::generate().unwrap().to_pem();
    assert!(cli(dir.path(), &["config:set", PRIVATE_KEY_PATH, &other])
        .await
        .ok());
    let out = cli(dir.path(), &verify).await;
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[..2],
        ["status: invalid", "reason: signature_rejected"],
        "{out:?}"
    );
    assert!(lines[2].contains("refused the signature"), "{out:?}");
    assert_eq!(lines.len(), 3, "{out:?}");
    assert!(!out.ok());

    // A private key that cannot sign is named as such by the Admin, not as a bad API key.
    assert!(
        cli(dir.path(), &["config:set", PRIVATE_KEY_PATH, "not a key"])
            .await
            .ok()
    );
    let password = server.admin_password().unwrap();
    let (_, admin_sid) = crate::common::admin_login(&server.admin_base(), "admin", &password).await;
    let status = testkit::AdminApi::new(&server.admin_base(), crate::common::http())
        .key_status(&admin_sid.unwrap())
        .await;
    assert_eq!(status["reason"], "private_key_unusable", "{status}");

    // Cleared again: the key still expects signed calls, so it is named missing.
    assert!(cli(dir.path(), &["config:set", PRIVATE_KEY_PATH, ""])
        .await
        .ok());
    let out = cli(dir.path(), &verify).await;
    assert!(!out.ok());
    assert!(
        out.stdout
            .starts_with("status: invalid\nreason: private_key_missing\n"),
        "{out:?}"
    );

    // The account service keeps no private key anywhere under the data dir.
    let body_line = private_key.lines().nth(1).unwrap();
    for (path, bytes) in crate::common::all_files(dir.path()) {
        assert!(
            !crate::common::contains_bytes(&bytes, body_line.as_bytes()),
            "{path:?} holds the private key"
        );
    }
    server.terminate().await;
}
