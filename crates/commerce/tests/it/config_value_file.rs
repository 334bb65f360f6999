//! `config:set PATH --value-file FILE|-`: a value (a key, say) read from a
//! file or standard input instead of the command line, where `ps` and shell
//! history would show it. One trailing newline is dropped; bad use is one
//! line on stderr and a non-zero exit.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::process::Stdio;

use crate::common::{cli, command};
use tokio::io::AsyncWriteExt;

const GATEWAY: &str = "services_connector/production_gateway_url";
const KEY: &str = "services_connector/services_connector_integration/production_api_key";

async fn set_from_stdin(data: &std::path::Path, path: &str, input: &str) -> crate::common::Out {
    let mut child = command(data)
        .args(["config:set", path, "--value-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    crate::common::Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: std::time::Duration::ZERO,
    }
}

fn shown(out: &crate::common::Out, path: &str) -> String {
    out.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{path} = ")))
        .unwrap_or_else(|| panic!("{path} in {}", out.stdout))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_from_stdin_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();

    // From standard input: exactly the line, without its newline.
    let out = set_from_stdin(data, GATEWAY, "http://127.0.0.1:9100\r\n").await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let show = cli(data, &["config:show", GATEWAY]).await;
    assert_eq!(shown(&show, GATEWAY), "http://127.0.0.1:9100");

    // From a file.
    let file = data.join("gateway.txt");
    std::fs::write(&file, "http://127.0.0.1:9200\n").unwrap();
    let out = cli(
        data,
        &[
            "config:set",
            GATEWAY,
            "--value-file",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let show = cli(data, &["config:show", GATEWAY]).await;
    assert_eq!(shown(&show, GATEWAY), "http://127.0.0.1:9200");

    // A key through stdin is stored (masked when shown), never echoed.
    let key = keys::ApiKey::generate(keys::Environment::Production);
    let out = set_from_stdin(data, KEY, &format!("{}\n", key.expose())).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout.contains(key.expose()) && !out.stderr.contains(key.expose()));
    let show = cli(data, &["config:show", KEY]).await;
    let masked = shown(&show, KEY);
    assert!(
        !masked.is_empty() && !masked.contains(key.expose()),
        "{masked}"
    );
    // An empty input clears the value, as an empty VALUE does.
    let out = set_from_stdin(data, GATEWAY, "\n").await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.starts_with("Cleared"), "{}", out.stdout);

    // Bad use: both a value and a file, neither, a missing file.
    let out = cli(data, &["config:set", GATEWAY, "x", "--value-file", "-"]).await;
    out.assert_clean_error("value and file");
    let out = cli(data, &["config:set", GATEWAY]).await;
    out.assert_clean_error("neither");
    let missing = data.join("nope.txt");
    let out = cli(
        data,
        &[
            "config:set",
            GATEWAY,
            "--value-file",
            missing.to_str().unwrap(),
        ],
    )
    .await;
    out.assert_clean_error("missing file");
    assert!(out.stderr.contains("cannot read"), "{}", out.stderr);
}
