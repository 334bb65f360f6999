//! No secret leaks (hardening issue, item 6): the whole flow with the real
//! binary and debug logging, and every byte it lets out — stdout and stderr of
//! every process, every HTTP answer (status, headers, body), every file under
//! the data dir — is searched for the API keys, the private key, the
//! passwords and the session ids. The only places they may appear are the
//! ones where they are shown by design, once: the answer that creates a key,
//! the `Set-Cookie` that starts a session, and the first start's stdout line
//! with the generated admin password.

use crate::common::faults as kit;
use crate::common::leaks as leak_kit;

use std::time::Duration;

use crate::common::{all_files, contains_bytes, http, KEY_PATH, SERVE_BOTH};
use kit::Proc;
use leak_kit::{cli, cookie, new_key_in, remove_once, Resp, Secrets, Seen};
use reqwest::header::COOKIE;
use reqwest::StatusCode;
use serde_json::json;

const PRIVATE_KEY_PATH: &str =
    "services_connector/services_connector_integration/production_private_key";
const DEBUG: &[(&str, &str)] = &[("RUST_LOG", "debug")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_logs_answers_files_or_debug_output() {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let mut seen = Seen::default();
    let mut secrets = Secrets(Vec::new());

    let mut server = Proc::start(data, SERVE_BOTH, DEBUG, "Commerce Admin: ").await;
    let base = server.account_url();
    let admin = server.admin_base();
    let admin_password = server
        .value("Admin user created: admin / ")
        .and_then(|rest| rest.split_once(' ').map(|(p, _)| p.to_owned()))
        .expect("the generated admin password");
    secrets.add("the admin password", &admin_password);

    // The account: sign up, a failed and a good sign-in.
    let client = http();
    let suffix = keys::random_base62(12);
    let email = format!("leak-{}@example.com", suffix.to_lowercase());
    let password = format!("pw-{}-Secret", keys::random_base62(16));
    let wrong_password = format!("wrong-{}-pw", keys::random_base62(16));
    secrets.add("the account password", &password);
    secrets.add("a mistyped account password", &wrong_password);
    let signup = seen
        .exchange(
            "signup",
            client.post(format!("{base}/api/v1/signup")).json(
                &json!({"email": email, "password": password, "name": "Leak", "company": "Leak Shop"}),
            ),
            |r| r.cookie("acct_sid").into_iter().collect(),
        )
        .await;
    assert_eq!(signup.status, StatusCode::CREATED, "{}", signup.text());
    let sid1 = signup.cookie("acct_sid").expect("acct_sid");
    secrets.add("the signup session id", &sid1);
    let bad = seen
        .plain(
            "login, wrong password",
            client
                .post(format!("{base}/api/v1/login"))
                .json(&json!({"email": email, "password": wrong_password})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let login = seen
        .exchange(
            "login",
            client
                .post(format!("{base}/api/v1/login"))
                .json(&json!({"email": email, "password": password})),
            |r| r.cookie("acct_sid").into_iter().collect(),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());
    let sid = login.cookie("acct_sid").expect("acct_sid");
    secrets.add("the login session id", &sid);

    // Keys: one plain, one with a generated private key (both shown once).
    let created = |r: &Resp| {
        let v = r.json();
        let mut shown = vec![v["key"].as_str().expect("key").to_owned()];
        if let Some(pem) = v["private_key"].as_str() {
            let escaped = serde_json::to_string(pem).expect("JSON");
            shown.push(escaped.trim_matches('"').to_owned());
        }
        shown
    };
    let r = seen
        .exchange(
            "create key",
            client
                .post(format!("{base}/api/v1/keys"))
                .header(COOKIE, cookie(&sid))
                .json(&json!({"name": "Amazon Sales Channel"})),
            created,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let key1 = r.json()["key"].as_str().expect("key").to_owned();
    let id1 = r.json()["id"].as_str().expect("id").to_owned();
    secrets.key("the first key", &key1);
    let r = seen
        .exchange(
            "create signed key",
            client
                .post(format!("{base}/api/v1/keys"))
                .header(COOKIE, cookie(&sid))
                .json(&json!({"name": "Signed", "generate_private_key": true})),
            created,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let key2 = r.json()["key"].as_str().expect("key").to_owned();
    let id2 = r.json()["id"].as_str().expect("id").to_owned();
    let pem = r.json()["private_key"]
        .as_str()
        .expect("private_key")
        .to_owned();
    secrets.key("the signed key", &key2);
    secrets.pem("the private key", &pem);

    // A key through the API Portal's HTML form.
    let page = seen
        .plain(
            "portal page",
            client
                .get(format!("{base}/account/api-portal"))
                .header(COOKIE, cookie(&sid)),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.cookie("acct_csrf").expect("acct_csrf");
    let html = page.text();
    let nonce = html
        .split("name=\"nonce\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the form's nonce")
        .to_owned();
    let form = seen
        .exchange(
            "portal create",
            client
                .post(format!("{base}/account/api-portal"))
                .header(COOKIE, format!("acct_sid={sid}; acct_csrf={csrf}"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("nonce", nonce.as_str()),
                    ("name", "From the form"),
                    ("environment", "production"),
                    ("expiry", "365"),
                    ("signing", "none"),
                ]),
            |r| vec![new_key_in(&r.text())],
        )
        .await;
    assert_eq!(form.status, StatusCode::OK);
    let key3 = new_key_in(&form.text());
    secrets.key("the form's key", &key3);

    // Verification, good and bad, on every route.
    for (label, key) in [("verify key", &key1), ("verify signed key", &key2)] {
        let r = seen
            .plain(
                label,
                client
                    .post(format!("{base}/api/v1/keys/verify"))
                    .header("X-Api-Key", key.as_str()),
            )
            .await;
        assert_eq!(r.json()["status"], "valid", "{}", r.text());
    }
    let mistyped = format!(
        "{}{}",
        &key1[..keys::KEY_LEN - 1],
        if key1.ends_with('A') { 'B' } else { 'A' }
    );
    let r = seen
        .plain(
            "verify mistyped key",
            client
                .post(format!("{base}/api/v1/keys/verify"))
                .header("X-Api-Key", mistyped),
        )
        .await;
    assert_eq!(r.json()["status"], "invalid", "{}", r.text());
    let r = seen
        .plain(
            "gateway check",
            client
                .get(format!("{base}/gateway/apikeycheck"))
                .header("magento-api-key", key3.as_str()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let signer = keys::jwt::PrivateKey::from_pem(&pem).expect("the PEM parses");
    // The running binary signs and checks with the system clock; so does the test.
    let now = web::Clock::now(&web::SystemClock);
    let token = signer.sign(&keys::jwt::connector_claims(now));
    let r = seen
        .plain(
            "signed ping",
            client
                .get(format!("{base}/merchant-registry/v1/ping"))
                .header("x-api-key", key2.as_str())
                .header("x-gw-signature", token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Secrets in the wrong fields come back in no error.
    let r = seen
        .plain(
            "key in a wrong-typed field",
            client
                .post(format!("{base}/api/v1/keys"))
                .header(COOKIE, cookie(&sid))
                .json(&json!({"name": "x", "generate_private_key": key1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = seen
        .plain(
            "password in a wrong-typed field",
            client
                .post(format!("{base}/api/v1/login"))
                .json(&json!({"email": [password], "password": password})),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let r = seen
        .plain(
            "broken JSON with a key",
            client
                .post(format!("{base}/api/v1/keys"))
                .header(COOKIE, cookie(&sid))
                .header("content-type", "application/json")
                .body(format!("{{\"name\": \"{key1}\" ")),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    seen.plain(
        "list keys",
        client
            .get(format!("{base}/api/v1/keys"))
            .header(COOKIE, cookie(&sid)),
    )
    .await;
    seen.plain(
        "portal page after",
        client
            .get(format!("{base}/account/api-portal"))
            .header(COOKIE, cookie(&sid)),
    )
    .await;

    // The Admin: a failed and a good sign-in.
    let wrong_admin = format!("not-{}-it", keys::random_base62(16));
    secrets.add("a mistyped admin password", &wrong_admin);
    let r = seen
        .plain(
            "admin login, wrong password",
            client
                .post(format!("{admin}/admin/api/v1/login"))
                .json(&json!({"username": "admin", "password": wrong_admin})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = seen
        .exchange(
            "admin login",
            client
                .post(format!("{admin}/admin/api/v1/login"))
                .json(&json!({"username": "admin", "password": admin_password})),
            |r| r.cookie("adm_sid").into_iter().collect(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let adm_sid = r.cookie("adm_sid").expect("adm_sid");
    secrets.add("the admin session id", &adm_sid);
    let adm_cookie = format!("adm_sid={adm_sid}");

    // The key stored with config:set, checked by the CLI and the channel.
    let (code, _) = cli(&mut seen, data, &["config:set", KEY_PATH, &key1]).await;
    assert_eq!(code, Some(0));
    let (code, out) = cli(
        &mut seen,
        data,
        &["channel:amazon:verify", "--account-url", &base],
    )
    .await;
    assert_eq!((code, out.as_str()), (Some(0), "status: valid\n"));
    let r = seen
        .plain(
            "key status",
            client
                .get(format!("{admin}/admin/api/v1/channels/amazon/key-status"))
                .header(COOKIE, &adm_cookie),
        )
        .await;
    assert_eq!(r.json()["status"], "valid", "{}", r.text());
    seen.plain(
        "channel page",
        client
            .get(format!("{admin}/admin/amazon"))
            .header(COOKIE, &adm_cookie),
    )
    .await;
    // The signed key and its private key, signed pings from the Admin.
    let (code, _) = cli(&mut seen, data, &["config:set", KEY_PATH, &key2]).await;
    assert_eq!(code, Some(0));
    let (code, _) = cli(&mut seen, data, &["config:set", PRIVATE_KEY_PATH, &pem]).await;
    assert_eq!(code, Some(0));
    let (code, out) = cli(
        &mut seen,
        data,
        &["channel:amazon:verify", "--account-url", &base],
    )
    .await;
    assert_eq!((code, out.as_str()), (Some(0), "status: valid\n"));
    let (code, out) = cli(&mut seen, data, &["config:show"]).await;
    assert_eq!(code, Some(0), "{out}");

    // Revocation, then the channel and the account see it.
    for id in [&id1, &id2] {
        let r = seen
            .plain(
                "revoke",
                client
                    .delete(format!("{base}/api/v1/keys/{id}"))
                    .header(COOKIE, cookie(&sid)),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    let (code, out) = cli(
        &mut seen,
        data,
        &["channel:amazon:verify", "--account-url", &base],
    )
    .await;
    assert_eq!((code, out.as_str()), (Some(1), "status: revoked\n"));
    let r = seen
        .plain(
            "key status, revoked",
            client
                .get(format!("{admin}/admin/api/v1/channels/amazon/key-status"))
                .header(COOKIE, &adm_cookie),
        )
        .await;
    assert_eq!(r.json()["status"], "revoked", "{}", r.text());
    let r = seen
        .plain(
            "logout",
            client
                .post(format!("{base}/api/v1/logout"))
                .header(COOKIE, cookie(&sid)),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // The server stops; everything it printed, and the files it left.
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(15)).await, Some(0));
    let mut stdout = server.stdout_bytes();
    let password_line = server
        .lines()
        .into_iter()
        .find(|l| l.starts_with("Admin user created: admin / "))
        .expect("the password line");
    assert!(
        remove_once(&mut stdout, format!("{password_line}\n").as_bytes()),
        "the password line, once"
    );
    seen.add("serve stdout (but the password line)", stdout);
    let stderr = server.stderr_bytes();
    assert!(
        contains_bytes(&stderr, b"DEBUG"),
        "debug logging is on: {}",
        String::from_utf8_lossy(&stderr)
    );
    assert!(!contains_bytes(&stderr, b"panicked"));
    seen.add("serve stderr (the log)", stderr);
    let files = all_files(data);
    assert!(files.len() >= 3, "{files:?}");
    for (path, bytes) in files {
        seen.add(format!("file {}", path.display()), bytes);
    }

    // Debug output of the types that hold secrets.
    let private = keys::jwt::PrivateKey::from_pem(&pem).expect("the PEM parses");
    seen.add("Debug of PrivateKey", format!("{private:?}").into_bytes());
    let api_key = keys::ApiKey::parse(&key1).expect("the key parses");
    seen.add(
        "Debug of ApiKey",
        format!("{api_key:?} {api_key}").into_bytes(),
    );
    let secret = web::Secret::new(password.clone());
    seen.add(
        "Debug of Secret",
        format!("{secret:?} {secret}").into_bytes(),
    );

    let mut leaks = Vec::new();
    for (what, needle) in &secrets.0 {
        for (label, bytes) in &seen.items {
            if contains_bytes(bytes, needle.as_bytes()) {
                leaks.push(format!("{what} in {label}"));
            }
        }
    }
    leaks.dedup();
    assert!(leaks.is_empty(), "secrets leaked: {leaks:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_output_of_secret_holders_hides_them() {
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let shown = format!("{key:?} {key}");
    assert!(!shown.contains(&key.expose()[9..39]), "{shown}");
    assert!(shown.contains(&key.hint()), "still useful: {shown}");

    let secret = web::Secret::new("a-password-nobody-should-see");
    let shown = format!("{secret:?} {secret}");
    assert!(!shown.contains("nobody-should-see"), "{shown}");

    // A data key of the Admin's key file.
    let line = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
    let crypto = admin::crypto::Crypto::from_lines(line).expect("a key file line");
    let shown = format!("{crypto:?}");
    assert!(
        !shown.contains(line) && !shown.contains("q83vEjRW"),
        "{shown}"
    );
    // The value it encrypts is not in its output either.
    let sealed = crypto.encrypt(KEY_PATH, key.expose());
    assert!(!sealed.contains(&key.expose()[9..39]));

    // A database handle whose URL names something secret.
    let dir = tempfile::tempdir().expect("test setup");
    let secret_dir = dir.path().join("db-path-s3cr3t-token");
    std::fs::create_dir(&secret_dir).expect("test setup");
    let url = format!("sqlite://{}", secret_dir.join("account.db").display());
    let db = account::connect(&url).await.expect("open");
    let shown = format!("{db:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(db.url().contains("s3cr3t"), "it does hold the URL");
}
