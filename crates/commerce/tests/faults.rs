//! Faults, with the real binary (hardening issue, item 5): PostgreSQL
//! restarted under load answers 503 `unavailable` meanwhile, never a 500 or a
//! panic, and recovers without a restart. It restarts the machine's shared
//! PostgreSQL, so it is ignored in the main run and run alone:
//! `cargo nextest run -p commerce --test faults --run-ignored only`.
//!
//! SIGKILL and SIGTERM: it/faults_signals.rs. The account service that accepts
//! connections but never answers is covered by `crates/admin/tests/it/gate.rs`
//! (`account_service_down_or_hung`).

// The kit of the `it` binary, shared with this one.
#[path = "it/common/mod.rs"]
mod common;

use common::faults as kit;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{fresh_pg, signup};
use kit::start_account;
use reqwest::header::COOKIE;
use serde_json::Value;

// ---------------------------------------------------------------------------
// PostgreSQL restarted under load.

fn pg_version() -> String {
    std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql (a Debian-style PostgreSQL install)")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .min()
        .expect("a PostgreSQL version under /etc/postgresql")
}

fn pg_ctl(action: &str) -> std::process::Output {
    std::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &pg_version(), "main", action])
        .output()
        .expect("run pg_ctlcluster")
}

fn pg_ready() -> bool {
    std::process::Command::new("pg_isready")
        .args(["-h", "127.0.0.1", "-p", "5432", "-q"])
        .status()
        .is_ok_and(|s| s.success())
}

fn wait_pg_ready(within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if pg_ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Starts PostgreSQL again when dropped, whatever happened in the test.
struct PgBackOnDrop;

impl Drop for PgBackOnDrop {
    fn drop(&mut self) {
        if !pg_ready() {
            let out = pg_ctl("start");
            if !out.status.success() {
                eprintln!("pg_ctlcluster start: {out:?}");
            }
            if !wait_pg_ready(Duration::from_secs(30)) {
                eprintln!("PostgreSQL did not come back within 30 s");
            }
        }
    }
}

#[derive(Debug)]
struct Seen {
    what: &'static str,
    started: Instant,
    took: Duration,
    /// `None`: no answer (transport error or client timeout).
    status: Option<u16>,
    body: String,
}

async fn load_loop(
    what: &'static str,
    pause: Duration,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    send: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(12))
        .build()
        .expect("client");
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let res = send(&client).send().await;
        let (status, body) = match res {
            Ok(r) => {
                let s = r.status().as_u16();
                (Some(s), r.text().await.unwrap_or_default())
            }
            Err(e) => (None, e.to_string()),
        };
        seen.lock().expect("lock").push(Seen {
            what,
            started,
            took: started.elapsed(),
            status,
            body,
        });
        tokio::time::sleep(pause).await;
    }
}

/// The latest answers to requests of `what` started after `since`, newest last.
fn answers_since(seen: &Mutex<Vec<Seen>>, what: &str, since: Instant) -> Vec<Option<u16>> {
    seen.lock()
        .expect("lock")
        .iter()
        .filter(|s| s.what == what && s.started >= since)
        .map(|s| s.status)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts PostgreSQL; run alone: see scripts/test.sh"]
async fn postgres_restarted_under_load_503_then_recovers() {
    assert!(pg_ready(), "PostgreSQL runs before the test");
    let pg = fresh_pg().await;
    let url = pg.url.clone();
    let dir = tempfile::tempdir().expect("test setup");
    let mut server = start_account(dir.path(), &["--database-url", &url]).await;
    let base = server.account_url();
    let sid = signup(&base).await;

    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let mut tasks = Vec::new();
    // The session is read from the database on every request…
    for _ in 0..4 {
        let (base, sid) = (base.clone(), sid.clone());
        tasks.push(tokio::spawn(load_loop(
            "keys",
            Duration::from_millis(5),
            stop.clone(),
            seen.clone(),
            move |c| {
                c.get(format!("{base}/api/v1/keys"))
                    .header(COOKIE, format!("acct_sid={sid}"))
            },
        )));
    }
    // …and so is a well-formed key never seen before (slow enough to stay
    // under the throttle of failed verifications).
    let verify_base = base.clone();
    tasks.push(tokio::spawn(load_loop(
        "verify",
        Duration::from_millis(100),
        stop.clone(),
        seen.clone(),
        move |c| {
            c.post(format!("{verify_base}/api/v1/keys/verify")).header(
                "X-Api-Key",
                keys::ApiKey::generate(keys::Environment::Production).expose(),
            )
        },
    )));

    tokio::time::sleep(Duration::from_millis(1000)).await;
    let warm: Vec<_> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|s| s.status)
        .collect();
    assert!(
        !warm.is_empty() && warm.iter().all(|s| *s == Some(200)),
        "{warm:?}"
    );

    // PostgreSQL goes away: keep it away 2 s, and until the service has said
    // 503 on both routes (at most 12 s).
    let guard = PgBackOnDrop;
    let down_at = Instant::now();
    let out = pg_ctl("stop");
    assert!(out.status.success(), "pg_ctlcluster stop: {out:?}");
    let deadline = down_at + Duration::from_secs(12);
    loop {
        let unavailable = ["keys", "verify"]
            .iter()
            .all(|w| answers_since(&seen, w, down_at).contains(&Some(503)));
        let long_enough = down_at.elapsed() >= Duration::from_secs(2);
        if (unavailable && long_enough) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let down_for = down_at.elapsed();

    // Back: within 10 s the service answers again, without a restart.
    let out = pg_ctl("start");
    assert!(out.status.success(), "pg_ctlcluster start: {out:?}");
    assert!(wait_pg_ready(Duration::from_secs(30)), "PostgreSQL is back");
    drop(guard);
    let up_at = Instant::now();
    let mut recovered = None;
    while up_at.elapsed() < Duration::from_secs(10) {
        let ok = ["keys", "verify"].iter().all(|w| {
            let a = answers_since(&seen, w, up_at);
            a.len() >= 3 && a[a.len() - 3..].iter().all(|s| *s == Some(200))
        });
        if ok {
            recovered = Some(up_at.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(15), t)
            .await
            .expect("the load stops")
            .expect("load task");
    }

    let seen = std::mem::take(&mut *seen.lock().expect("lock"));
    let count = |code: u16| seen.iter().filter(|s| s.status == Some(code)).count();
    eprintln!(
        "{} requests: {} × 200, {} × 503, {} × 401; down for {down_for:?}; recovered after {recovered:?}; slowest {:?}",
        seen.len(),
        count(200),
        count(503),
        count(401),
        seen.iter().map(|s| s.took).max().unwrap_or_default()
    );
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    for s in &seen {
        assert!(
            matches!(s.status, Some(200 | 401 | 503)),
            "only 200, 401 or 503, never a 500 nor no answer: {s:?}\nstderr: {stderr}"
        );
        if s.status == Some(503) {
            let v: Value = serde_json::from_str(&s.body).expect("a JSON error");
            assert_eq!(v["error"]["code"], "unavailable", "{s:?}");
        }
        assert!(s.took < Duration::from_secs(8), "no hang: {s:?}");
    }
    for w in ["keys", "verify"] {
        assert!(
            answers_since_vec(&seen, w, down_at).contains(&Some(503)),
            "{w}: 503 while PostgreSQL was away (down for {down_for:?})"
        );
    }
    assert!(
        recovered.is_some(),
        "answers 200 again within 10 s of PostgreSQL's return"
    );

    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(15)).await, Some(0));
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}

fn answers_since_vec(seen: &[Seen], what: &str, since: Instant) -> Vec<Option<u16>> {
    seen.iter()
        .filter(|s| s.what == what && s.started >= since)
        .map(|s| s.status)
        .collect()
}
