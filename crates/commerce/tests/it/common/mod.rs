//! Black-box helpers: run the real `commerce` binary, read what it prints,
//! talk HTTP to what it serves, and stop it with SIGTERM.

#![allow(dead_code)]

pub mod faults;
pub mod leaks;
mod load;

#[allow(unused_imports)] // not in the `faults` binary
pub use load::KeyLoad;

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_commerce");
pub const KEY_PATH: &str = "services_connector/services_connector_integration/production_api_key";

/// `serve` with both apps on free ports (ready at `Commerce Admin: `).
pub const SERVE_BOTH: &[&str] = &[
    "serve",
    "--account-addr",
    "127.0.0.1:0",
    "--admin-addr",
    "127.0.0.1:0",
];

/// `serve admin` on a free port (ready at `Commerce Admin: `), then `more`.
pub fn serve_admin<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["serve", "admin", "--admin-addr", "127.0.0.1:0"];
    args.extend_from_slice(more);
    args
}

/// The rest of the first line of `lines` that starts with `prefix`.
pub fn printed_value(lines: &[String], prefix: &str) -> Option<String> {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(prefix).map(str::to_owned))
}

/// The account service's URL in what `serve` printed.
pub fn printed_account_url(lines: &[String]) -> String {
    printed_value(lines, "Account service: ").expect("an 'Account service: URL' line")
}

/// The Admin's base URL (without `/admin`) in what `serve` printed.
pub fn printed_admin_base(lines: &[String]) -> String {
    let url = printed_value(lines, "Commerce Admin: ").expect("a 'Commerce Admin: URL/admin' line");
    url.strip_suffix("/admin")
        .unwrap_or_else(|| panic!("the Admin URL ends in /admin: {url}"))
        .to_owned()
}

/// The binary with a clean environment for its own settings. The Admin's
/// second steps are optional here (`COMMERCE_ADMIN_TWO_FACTOR`), so that the
/// tests that are not about signing in sign in with the password alone;
/// `two_factor.rs` runs the product's default, required (see
/// [`command_default_two_factor`]).
pub fn command(data_dir: &Path) -> Command {
    let mut c = command_default_two_factor(data_dir);
    c.env("COMMERCE_ADMIN_TWO_FACTOR", "optional");
    c
}

/// [`command`] without `COMMERCE_ADMIN_TWO_FACTOR`: second steps required.
pub fn command_default_two_factor(data_dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--data-dir")
        .arg(data_dir)
        .env_remove("RUST_LOG")
        .env_remove("COMMERCE_DATA_DIR")
        .env_remove("COMMERCE_DATABASE_URL")
        .env_remove("COMMERCE_ADMIN_DATABASE_URL")
        .env_remove("COMMERCE_ADMIN_TWO_FACTOR")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Asserts a clean failure: non-zero exit, one line on stderr, no panic.
    pub fn assert_clean_error(&self, what: &str) {
        assert!(
            self.code.is_some_and(|c| c != 0),
            "{what}: a non-zero exit, got {self:?}"
        );
        assert!(!self.stderr.contains("panicked"), "{what}: {self:?}");
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "{what}: one line on stderr: {:?}",
            self.stderr
        );
        assert!(
            !self.stderr.trim().is_empty(),
            "{what}: an explanation on stderr"
        );
    }
}

/// Runs `commerce --data-dir DIR ARGS...` to completion (at most 30 s).
pub async fn cli(data_dir: &Path, args: &[&str]) -> Out {
    let started = Instant::now();
    let child = command(data_dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn commerce");
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("commerce {args:?} did not finish in 30 s"))
        .expect("run commerce");
    Out {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// `--database-url URL` when `db` names a database (PostgreSQL), else nothing
/// (SQLite files in the data dir).
pub fn db_args(db: Option<&str>) -> Vec<&str> {
    db.map(|url| vec!["--database-url", url])
        .unwrap_or_default()
}

/// `args` followed by `db_args(db)`, owned.
pub fn with_db(args: &[&str], db: Option<&str>) -> Vec<String> {
    args.iter()
        .chain(db_args(db).iter())
        .map(|s| (*s).to_owned())
        .collect()
}

/// `cli` with owned arguments (what a closure can hand over).
pub async fn cli_owned(data_dir: &Path, args: Vec<String>) -> Out {
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(data_dir, &argv).await
}

/// A running `commerce serve ...`.
pub struct Server {
    child: Child,
    /// Every stdout line so far.
    pub stdout: Arc<Mutex<Vec<String>>>,
    /// Everything on stderr so far (the log).
    pub stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the binary and waits until it has printed a line starting with `ready`.
    pub async fn start(data_dir: &Path, args: &[&str], ready: &str) -> Server {
        Self::start_command(command(data_dir), args, ready).await
    }

    /// [`Server::start`] with the command to run (e.g. [`command_default_two_factor`]).
    pub async fn start_command(mut cmd: Command, args: &[&str], ready: &str) -> Server {
        let mut child = cmd
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn commerce serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let err_buf = stderr.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                err_buf
                    .lock()
                    .expect("lock")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, lines.next_line())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "commerce {args:?} printed no {ready:?} in 30 s; stderr: {}",
                        stderr.lock().expect("lock")
                    )
                })
                .expect("read stdout");
            let Some(line) = line else {
                panic!(
                    "commerce {args:?} ended before {ready:?}: stdout {:?}, stderr {}",
                    stdout.lock().expect("lock"),
                    stderr.lock().expect("lock")
                );
            };
            let done = line.starts_with(ready);
            stdout.lock().expect("lock").push(line);
            if done {
                break;
            }
        }
        let out_buf = stdout.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                out_buf.lock().expect("lock").push(line);
            }
        });
        Server {
            child,
            stdout,
            stderr,
        }
    }

    /// The process id of the running binary.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("still running")
    }

    pub fn lines(&self) -> Vec<String> {
        self.stdout.lock().expect("lock").clone()
    }

    /// The rest of the stdout line that starts with `prefix`.
    pub fn value(&self, prefix: &str) -> Option<String> {
        printed_value(&self.lines(), prefix)
    }

    /// The URL of the account service it printed.
    pub fn account_url(&self) -> String {
        printed_account_url(&self.lines())
    }

    /// The Admin's base URL (without `/admin`) it printed.
    pub fn admin_base(&self) -> String {
        printed_admin_base(&self.lines())
    }

    /// The generated password of `Admin user created: admin / PASSWORD (...)`.
    pub fn admin_password(&self) -> Option<String> {
        let rest = self.value("Admin user created: admin / ")?;
        let (password, note) = rest.split_once(' ')?;
        assert!(note.starts_with('('), "a note after the password: {rest}");
        Some(password.to_owned())
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }

    /// Sends SIGTERM and waits (at most 15 s) for the exit code.
    pub async fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().expect("still running");
        let status = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM {pid}");
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("exits within 15 s of SIGTERM")
            .expect("wait");
        status.code()
    }
}

// Each test module uses some of these.
#[allow(unused_imports)]
pub use testkit::{all_files, contains_bytes, PgDb, PASSWORD};
use testkit::{AccountApi, AdminApi};

/// A client for the child process: no redirects, a 20 s timeout.
pub fn http() -> reqwest::Client {
    testkit::http_client_with_timeout(Duration::from_secs(20))
}

/// The account service at `account_url` (`testkit::AccountApi`).
pub fn account_api(account_url: &str) -> AccountApi {
    AccountApi::new(account_url, http())
}

/// Signs up on the account service's JSON API; returns the session id.
pub async fn signup(account_url: &str) -> String {
    account_api(account_url).signup_owner().await
}

/// `POST /api/v1/keys/verify`: the status code and the JSON answer.
pub async fn verify(client: &reqwest::Client, base: &str, key: &str) -> (StatusCode, Value) {
    let res = client
        .post(format!("{base}/api/v1/keys/verify"))
        .header("X-Api-Key", key)
        .send()
        .await
        .expect("verify");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Creates a key; returns `(id, key)`.
pub async fn create_key(account_url: &str, sid: &str, body: Value) -> (String, String) {
    account_api(account_url).create_key_pair(sid, &body).await
}

pub async fn revoke_key(account_url: &str, sid: &str, id: &str) {
    account_api(account_url).revoke_key(sid, id).await;
}

/// `POST /admin/api/v1/login`: the status and the session id when signed in.
pub async fn admin_login(
    admin_base: &str,
    username: &str,
    password: &str,
) -> (StatusCode, Option<String>) {
    let r = AdminApi::new(admin_base, http())
        .api_login_raw(username, password)
        .await;
    (r.status, r.cookie("adm_sid"))
}

/// The Admin's key status as the channel page sees it.
pub async fn admin_key_status(admin_base: &str, sid: &str) -> String {
    let v = AdminApi::new(admin_base, http()).key_status(sid).await;
    v["status"].as_str().expect("status").to_owned()
}

/// The database of a test of the binary on both backends
/// (`testkit::both_backends!(Db; fn scenario)`): SQLite files in the data
/// dir, or a fresh PostgreSQL database, dropped with this value.
pub struct Db(Option<PgDb>);

impl Db {
    pub fn sqlite() -> Db {
        Db(None)
    }

    pub async fn postgres() -> Db {
        Db(Some(PgDb::fresh().await))
    }

    /// The `--database-url` to pass, if any.
    pub fn url(&self) -> Option<String> {
        self.0.as_ref().map(|pg| pg.url.clone())
    }
}

/// A fresh PostgreSQL database, dropped when this value goes (also on panic).
pub async fn fresh_pg() -> PgDb {
    PgDb::fresh().await
}
