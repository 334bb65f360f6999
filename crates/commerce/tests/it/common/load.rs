//! Load on the account service: clients creating keys as fast as they are
//! answered (`backup.rs`, `faults_signals.rs`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::COOKIE;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::http;

/// Clients creating keys on the account service as fast as they are
/// answered, each in a company of its own and a fresh one every 400 keys (a
/// company holds at most 500 live keys), until stopped or the server is gone.
pub struct KeyLoad {
    /// `(session id, key)` of every creation answered 201.
    pub acknowledged: Arc<Mutex<Vec<(String, String)>>>,
    /// Every other answer: `status body`.
    pub refused: Arc<Mutex<Vec<String>>>,
    /// Requests that got no answer (the connection failed); a client stops at its first.
    pub unanswered: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl KeyLoad {
    /// Starts `clients` clients on `base`, the first in `sid`'s company; keys
    /// are named `{tag} {client}-{n}`.
    pub fn start(base: &str, sid: &str, clients: usize, tag: &str) -> KeyLoad {
        let load = KeyLoad {
            acknowledged: Arc::default(),
            refused: Arc::default(),
            unanswered: Arc::default(),
            stop: Arc::default(),
            tasks: Vec::new(),
        };
        let tasks = (0..clients)
            .map(|t| {
                let (base, mut sid, tag) = (base.to_owned(), sid.to_owned(), tag.to_owned());
                let (acknowledged, refused) = (load.acknowledged.clone(), load.refused.clone());
                let (unanswered, stop) = (load.unanswered.clone(), load.stop.clone());
                tokio::spawn(async move {
                    let client = http();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        if n % 400 == 0 && (t > 0 || n > 0) {
                            // The server may be killed during a sign-up too.
                            match try_signup(&client, &base).await {
                                Ok(fresh) => sid = fresh,
                                Err(e) => {
                                    unanswered.lock().expect("lock").push(e);
                                    break;
                                }
                            }
                        }
                        let res = client
                            .post(format!("{base}/api/v1/keys"))
                            .header(COOKIE, format!("acct_sid={sid}"))
                            .json(&json!({"name": format!("{tag} {t}-{n}")}))
                            .send()
                            .await;
                        let answer = match res {
                            Ok(res) => {
                                let status = res.status();
                                res.json::<Value>().await.map(|body| (status, body))
                            }
                            Err(e) => Err(e),
                        };
                        let (status, body) = match answer {
                            Ok(answer) => answer,
                            Err(e) => {
                                unanswered.lock().expect("lock").push(e.to_string());
                                break;
                            }
                        };
                        if status == StatusCode::CREATED {
                            let key = body["key"].as_str().expect("key").to_owned();
                            acknowledged.lock().expect("lock").push((sid.clone(), key));
                        } else {
                            refused
                                .lock()
                                .expect("lock")
                                .push(format!("{status} {body}"));
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        KeyLoad { tasks, ..load }
    }

    /// The keys acknowledged so far.
    pub fn keys(&self) -> Vec<String> {
        let acknowledged = self.acknowledged.lock().expect("lock");
        acknowledged.iter().map(|(_, key)| key.clone()).collect()
    }

    /// Tells the clients to stop and waits (at most `within`) until they have.
    pub async fn stop(self, within: Duration) -> KeyLoad {
        self.stop.store(true, Ordering::Relaxed);
        self.join(within, "the clients stop").await
    }

    /// Waits (at most `within`) until every client has stopped by itself;
    /// `what` names the failure if they do not.
    pub async fn join(mut self, within: Duration, what: &str) -> KeyLoad {
        for t in std::mem::take(&mut self.tasks) {
            tokio::time::timeout(within, t)
                .await
                .unwrap_or_else(|_| panic!("{what}"))
                .expect("client task");
        }
        self
    }
}

/// Signs up a new company owner; the session id, or why there is none
/// (the server gone, or a refusal).
async fn try_signup(client: &reqwest::Client, base: &str) -> Result<String, String> {
    let res = client
        .post(format!("{base}/api/v1/signup"))
        .json(&json!({
            "email": testkit::unique_email("load"),
            "password": testkit::PASSWORD,
            "name": "Test User",
            "company": "Shop B.V.",
        }))
        .send()
        .await
        .map_err(|e| format!("signup: {e}"))?;
    if res.status() != StatusCode::CREATED {
        return Err(format!("signup: {}", res.status()));
    }
    testkit::set_cookie_value(res.headers(), "acct_sid").ok_or_else(|| "signup: no session".into())
}
