//! The SPEC's sequence end to end with the real binary: a key from the
//! account service's JSON API, `config:set`, `channel:amazon:verify` through
//! every status, `config:show` masking, and no plaintext key at rest.
//!
//! On SQLite everything runs from one `commerce serve`; on PostgreSQL the two
//! sides run as `commerce serve account` and `commerce serve admin`, each on
//! its own fresh database.

use std::path::Path;
use std::time::Duration;

use crate::common::{
    admin_key_status, admin_login, all_files, cli, contains_bytes, create_key, fresh_pg,
    revoke_key, serve_admin, signup, Out, Server, KEY_PATH, SERVE_BOTH,
};
use serde_json::json;

const FAULT_BOUND: Duration = Duration::from_millis(3500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    sequence(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    let (account_db, admin_db) = (fresh_pg().await, fresh_pg().await);
    sequence(Some((account_db.url.clone(), admin_db.url.clone()))).await;
}

/// The code of verify's `reason: <code>` line, when it printed one.
fn reason(out: &Out) -> Option<&str> {
    out.stdout.lines().nth(1)?.strip_prefix("reason: ")
}

/// The sentence verify printed under its reason line.
fn sentence(out: &Out) -> &str {
    out.stdout.lines().nth(2).unwrap_or_default()
}

struct Cli<'a> {
    dir: &'a Path,
    db: Vec<String>,
}

impl Cli<'_> {
    async fn run(&self, args: &[&str]) -> Out {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(self.db.iter().map(String::as_str));
        let out = cli(self.dir, &all).await;
        assert!(!out.stderr.contains("panicked"), "{args:?}: {out:?}");
        out
    }

    async fn set_key(&self, value: &str) {
        let out = self.run(&["config:set", KEY_PATH, value]).await;
        assert!(out.ok(), "config:set: {out:?}");
        if value.is_empty() {
            assert_eq!(out.stdout, format!("Cleared {KEY_PATH}.\n"));
        } else {
            assert_eq!(out.stdout, format!("Saved {KEY_PATH}.\n"));
            assert!(!out.stdout.contains(value) && !out.stderr.contains(value));
        }
    }

    /// `channel:amazon:verify --account-url URL`: the status printed as the
    /// first line, then, only when a reason is known, `reason: <code>` and its
    /// sentence (SPEC §3), nothing else; the exit code matching the status.
    async fn verify(&self, account_url: &str) -> (String, Out) {
        let out = self
            .run(&["channel:amazon:verify", "--account-url", account_url])
            .await;
        assert!(out.stdout.ends_with('\n'), "{out:?}");
        let lines: Vec<&str> = out.stdout.lines().collect();
        let status = lines
            .first()
            .and_then(|l| l.strip_prefix("status: "))
            .unwrap_or_else(|| panic!("a first line `status: …`: {out:?}"))
            .to_owned();
        match lines.len() {
            1 => {}
            3 => {
                let code = reason(&out).unwrap_or_else(|| panic!("`reason: …`: {out:?}"));
                assert!(
                    !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "a reason code: {out:?}"
                );
                let sentence = lines[2];
                assert!(
                    sentence.len() > 20 && sentence.ends_with('.') && !sentence.contains(code),
                    "a sentence in words: {out:?}"
                );
            }
            _ => panic!("the status, then at most a reason and its sentence: {out:?}"),
        }
        assert_eq!(
            out.ok(),
            status == "valid",
            "exit 0 only when valid: {out:?}"
        );
        (status, out)
    }

    /// `config:show` shows the key path masked (when set), and never a key.
    async fn show_masked(&self, secrets: &[&str]) {
        let out = self.run(&["config:show"]).await;
        assert!(out.ok(), "config:show: {out:?}");
        assert!(
            out.stdout
                .lines()
                .any(|l| l == format!("{KEY_PATH} = ******")),
            "the key masked: {}",
            out.stdout
        );
        for s in secrets {
            assert!(!out.stdout.contains(s), "config:show shows no key");
        }
        let one = self.run(&["config:show", KEY_PATH]).await;
        assert!(one.ok(), "{one:?}");
        assert_eq!(one.stdout, format!("{KEY_PATH} = ******\n"));
    }
}

async fn sequence(pg: Option<(String, String)>) {
    let dir = tempfile::tempdir().expect("test setup");
    let data = dir.path();
    let cli = Cli {
        dir: data,
        db: pg
            .as_ref()
            .map(|(_, admin)| vec!["--database-url".to_owned(), admin.clone()])
            .unwrap_or_default(),
    };

    // The servers.
    let (account_server, admin_server, account_url, admin_base, password) = match &pg {
        None => {
            let both = Server::start(data, SERVE_BOTH, "Commerce Admin: ").await;
            let (a, b, p) = (
                both.account_url(),
                both.admin_base(),
                both.admin_password().expect("password"),
            );
            (both, None, a, b, p)
        }
        Some((account_db, admin_db)) => {
            let account = Server::start(
                data,
                &[
                    "serve",
                    "account",
                    "--account-addr",
                    "127.0.0.1:0",
                    "--database-url",
                    account_db,
                ],
                "Account service: ",
            )
            .await;
            let account_url = account.account_url();
            let admin = Server::start(
                data,
                &serve_admin(&["--database-url", admin_db, "--account-url", &account_url]),
                "Commerce Admin: ",
            )
            .await;
            assert!(admin.value("Account service: ").is_none());
            let (b, p) = (
                admin.admin_base(),
                admin.admin_password().expect("password"),
            );
            (account, Some(admin), account_url, b, p)
        }
    };
    let (status, adm_sid) = admin_login(&admin_base, "admin", &password).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let adm_sid = adm_sid.expect("adm_sid");

    // Nothing stored: missing.
    let (status, out) = cli.verify(&account_url).await;
    assert_eq!(status, "missing");
    assert_eq!(reason(&out), None, "{out:?}");
    assert_eq!(admin_key_status(&admin_base, &adm_sid).await, "missing");
    let out = cli.run(&["config:show"]).await;
    assert!(out.ok(), "{out:?}");
    assert!(!out.stdout.contains(KEY_PATH), "{}", out.stdout);
    assert!(out
        .stdout
        .lines()
        .any(|l| l == "services_connector/production_gateway_url = http://127.0.0.1:8080"));
    let out = cli.run(&["config:show", KEY_PATH]).await;
    out.assert_clean_error("config:show of an unset path");

    // A Production key from the API Portal's JSON API.
    let owner = signup(&account_url).await;
    let (id, key) = create_key(
        &account_url,
        &owner,
        json!({"name": "Amazon Sales Channel"}),
    )
    .await;
    cli.set_key(&key).await;
    let (status, out) = cli.verify(&account_url).await;
    assert_eq!(out.stdout, "status: valid\n");
    assert_eq!(out.code, Some(0));
    assert_eq!(status, "valid");
    cli.show_masked(&[&key]).await;
    // The running Admin sees what the CLI stored.
    assert_eq!(admin_key_status(&admin_base, &adm_sid).await, "valid");

    // Without --account-url, the configured gateway URL is asked.
    let out = cli
        .run(&[
            "config:set",
            "services_connector/production_gateway_url",
            &account_url,
        ])
        .await;
    assert!(out.ok(), "{out:?}");
    let out = cli.run(&["channel:amazon:verify"]).await;
    assert_eq!(out.stdout, "status: valid\n", "{out:?}");
    assert_eq!(out.code, Some(0));

    // A random string: invalid.
    let junk = "definitely-not-a-key-7f3a9c";
    cli.set_key(junk).await;
    let (status, out) = cli.verify(&account_url).await;
    assert_eq!(status, "invalid");
    assert_eq!(reason(&out), Some("malformed"), "{out:?}");
    assert!(sentence(&out).contains("not a valid key"), "{out:?}");
    assert_ne!(out.code, Some(0));
    cli.show_masked(&[&key, junk]).await;

    // A Sandbox key in the Production field: invalid, and the reason in words.
    let (_, sandbox) = create_key(
        &account_url,
        &owner,
        json!({"name": "Amazon Sales Channel", "environment": "sandbox"}),
    )
    .await;
    cli.set_key(&sandbox).await;
    let (status, out) = cli.verify(&account_url).await;
    assert_eq!(status, "invalid");
    assert_eq!(reason(&out), Some("sandbox_key"), "{out:?}");
    assert_eq!(
        sentence(&out),
        "The key in Production Api key is a Sandbox key. The Amazon Sales Channel needs a Production key."
    );
    assert!(!out.stdout.contains(&sandbox), "never the key itself");
    assert_ne!(out.code, Some(0));
    assert_eq!(admin_key_status(&admin_base, &adm_sid).await, "invalid");

    // Cleared: missing.
    cli.set_key("").await;
    let (status, out) = cli.verify(&account_url).await;
    assert_eq!(status, "missing");
    assert_eq!(
        out.stdout, "status: missing\n",
        "no reason for a missing key"
    );

    // Revoked in the API Portal: revoked.
    cli.set_key(&key).await;
    assert_eq!(cli.verify(&account_url).await.0, "valid");
    revoke_key(&account_url, &owner, &id).await;
    let (status, out) = cli.verify(&account_url).await;
    assert_eq!(status, "revoked");
    assert_eq!(out.stdout, "status: revoked\n", "the status says it all");
    assert_ne!(out.code, Some(0));
    cli.show_masked(&[&key]).await;
    assert_eq!(admin_key_status(&admin_base, &adm_sid).await, "revoked");

    // A new key, then the account service stops: unreachable, quickly, key kept.
    let (_, key2) = create_key(&account_url, &owner, json!({"name": "second"})).await;
    cli.set_key(&key2).await;
    assert_eq!(cli.verify(&account_url).await.0, "valid");
    let account_log = account_server.stderr();
    assert_eq!(account_server.terminate().await, Some(0), "SIGTERM exits 0");
    let (status, out) = cli.verify(&account_url).await;
    assert_eq!(status, "unreachable");
    assert_eq!(reason(&out), Some("down"), "{out:?}");
    assert!(sentence(&out).contains("could not be reached"), "{out:?}");
    assert_ne!(out.code, Some(0));
    assert!(out.took < FAULT_BOUND, "unreachable after {:?}", out.took);
    cli.show_masked(&[&key, &key2]).await;
    let mut logs = account_log;
    if let Some(admin) = admin_server {
        // The Admin running alone says the same, and keeps the key.
        assert_eq!(admin_key_status(&admin_base, &adm_sid).await, "unreachable");
        logs.push_str(&admin.stderr());
        assert_eq!(admin.terminate().await, Some(0));
    }
    let (status, _) = cli.verify(&account_url).await;
    assert_eq!(status, "unreachable", "the key is still stored");

    // No key in any log line, and none at rest in any file of the data dir.
    let secrets = [key.as_str(), key2.as_str(), junk, sandbox.as_str()];
    for s in secrets {
        assert!(!logs.contains(s), "a key in the servers' log");
    }
    assert!(!logs.contains(&password), "the admin password in the log");
    let files = all_files(data);
    assert!(
        files.iter().any(|(p, _)| p.ends_with("crypt.key")),
        "{:?}",
        files.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    if pg.is_none() {
        for f in ["account.db", "admin.db"] {
            assert!(files.iter().any(|(p, _)| p.ends_with(f)), "{f}");
        }
    }
    for (path, bytes) in &files {
        for s in secrets {
            assert!(
                !contains_bytes(bytes, s.as_bytes()),
                "{} holds a plaintext key",
                path.display()
            );
        }
        // Not even the random part alone.
        assert!(!contains_bytes(bytes, &key2.as_bytes()[9..]));
    }

    // The stored row is the encrypted form (checked through the Admin's own store).
    let admin_url = match &pg {
        Some((_, admin)) => admin.clone(),
        None => format!("sqlite://{}/admin.db", data.display()),
    };
    let db = admin::connect(&admin_url).await.expect("open the Admin db");
    let rows = admin::store::all_config(&db).await.expect("rows");
    let (_, _, raw) = rows
        .iter()
        .find(|(_, p, _)| p == KEY_PATH)
        .expect("the key row");
    assert!(raw.starts_with("1:3:"), "{raw}");
    for (_, _, v) in &rows {
        for s in secrets {
            assert!(!v.contains(s));
        }
    }
    db.pool.close().await;
}
