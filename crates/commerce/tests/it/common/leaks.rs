//! Helpers of the leak test (`leaks.rs`): HTTP answers kept whole, every
//! byte the system let out, and the secrets that must never come out.
//!
//! `common::leaks`: used by `leaks.rs`.

#![allow(dead_code)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use crate::common;

/// An HTTP answer, kept whole.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|l| l.split(';').next())
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim() == name)
            .map(|(_, v)| v.to_owned())
    }

    pub fn raw(&self) -> Vec<u8> {
        let mut raw = format!("HTTP {}\n", self.status).into_bytes();
        for (name, value) in &self.headers {
            raw.extend_from_slice(name.as_str().as_bytes());
            raw.extend_from_slice(b": ");
            raw.extend_from_slice(value.as_bytes());
            raw.push(b'\n');
        }
        raw.push(b'\n');
        raw.extend_from_slice(&self.body);
        raw
    }
}

/// Removes the first occurrence of `needle`; false when there is none.
pub fn remove_once(hay: &mut Vec<u8>, needle: &[u8]) -> bool {
    match hay.windows(needle.len()).position(|w| w == needle) {
        Some(i) => {
            hay.drain(i..i + needle.len());
            true
        }
        None => false,
    }
}

/// Everything the system let out, by where it came from.
#[derive(Default)]
pub struct Seen {
    pub items: Vec<(String, Vec<u8>)>,
}

impl Seen {
    pub fn add(&mut self, label: impl Into<String>, bytes: Vec<u8>) {
        self.items.push((label.into(), bytes));
    }

    /// Sends `req` and keeps its answer whole, except the secrets it shows by
    /// design (`by_design` names them), each taken out once: a second copy is a leak.
    pub async fn exchange(
        &mut self,
        label: &str,
        req: RequestBuilder,
        by_design: impl FnOnce(&Resp) -> Vec<String>,
    ) -> Resp {
        let res = req.send().await.unwrap_or_else(|e| panic!("{label}: {e}"));
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.bytes().await.expect("body").to_vec();
        let resp = Resp {
            status,
            headers,
            body,
        };
        let mut raw = resp.raw();
        for shown in by_design(&resp) {
            assert!(
                remove_once(&mut raw, shown.as_bytes()),
                "{label}: shows what it should"
            );
        }
        self.add(label, raw);
        resp
    }

    pub async fn plain(&mut self, label: &str, req: RequestBuilder) -> Resp {
        self.exchange(label, req, |_| Vec::new()).await
    }
}

/// `commerce --data-dir D ARGS...` with debug logging; both outputs kept.
pub async fn cli(seen: &mut Seen, data: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = common::command(data);
    cmd.args(args)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        cmd.spawn().expect("spawn").wait_with_output(),
    )
    .await
    .expect("finishes within 30 s")
    .expect("run commerce");
    let label = format!("commerce {}", args[0]);
    seen.add(format!("{label} stdout"), out.stdout.clone());
    seen.add(format!("{label} stderr"), out.stderr.clone());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The key the API Portal shows once after the form created it.
pub fn new_key_in(html: &str) -> String {
    let at = html.find("id=\"new-key-value\"").expect("the new key");
    let start = at + html[at..].find("cmk_live_").expect("the key");
    html[start..start + keys::KEY_LEN].to_owned()
}

pub fn cookie(sid: &str) -> String {
    format!("acct_sid={sid}")
}

/// What must never come out: the needle and what it is, for the message.
pub struct Secrets(pub Vec<(String, String)>);

impl Secrets {
    pub fn add(&mut self, what: &str, value: &str) {
        assert!(
            value.len() >= 12,
            "{what}: a needle long enough to be unique"
        );
        self.0.push((what.to_owned(), value.to_owned()));
    }

    /// A key, by its 30 random characters: also found mistyped or without its prefix.
    pub fn key(&mut self, what: &str, key: &str) {
        assert_eq!(key.len(), keys::KEY_LEN, "{what}: {key}");
        self.add(what, &key[9..39]);
    }

    /// A PEM, by each of its base64 lines.
    pub fn pem(&mut self, what: &str, pem: &str) {
        let lines: Vec<&str> = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----") && l.len() >= 16)
            .collect();
        assert!(lines.len() >= 10, "{what}: a PEM: {pem}");
        for l in lines {
            self.add(what, l);
        }
    }
}
