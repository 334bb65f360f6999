//! Keys memory does not hold, read from storage in batches: under load many
//! misses wait at once, and one query for a batch costs about what one
//! query for one key does (a pool checkout, on SQLite a hop to the
//! connection's thread and back, on PostgreSQL a round trip). A few worker
//! tasks take what is waiting, up to [`KEY_STATES_MAX`] hashes, and answer
//! each waiter; alone, a miss is a batch of one.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use keys::KeyHash;
use tokio::sync::{mpsc, oneshot, Mutex};
use web::db::Db;

use crate::store::{self, StoredKey, KEY_STATES_MAX};

/// A waiting lookup: the hash and where its answer goes.
type Wanted = (
    KeyHash,
    oneshot::Sender<Result<Option<StoredKey>, sqlx::Error>>,
);

/// Workers reading batches at once.
const WORKERS: usize = 4;
/// Lookups that may wait for a worker before senders wait too.
const QUEUE: usize = 4096;

pub(super) struct Loader {
    /// Started with the first miss (inside the runtime that serves).
    queue: OnceLock<mpsc::Sender<Wanted>>,
}

impl Loader {
    pub(super) fn new() -> Self {
        Loader {
            queue: OnceLock::new(),
        }
    }

    /// What storage holds for `hash` (`None`: no such key).
    pub(super) async fn load(
        &self,
        db: &Db,
        hash: KeyHash,
    ) -> Result<Option<StoredKey>, sqlx::Error> {
        let queue = self.queue.get_or_init(|| start(db.clone()));
        let (tx, rx) = oneshot::channel();
        if queue.send((hash, tx)).await.is_err() {
            // The workers are gone (the runtime is shutting down): read alone.
            return store::key_state(db, &hash).await;
        }
        match rx.await {
            Ok(answer) => answer,
            Err(_) => store::key_state(db, &hash).await,
        }
    }
}

fn start(db: Db) -> mpsc::Sender<Wanted> {
    let (tx, rx) = mpsc::channel::<Wanted>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..WORKERS {
        tokio::spawn(work(db.clone(), rx.clone()));
    }
    tx
}

/// Takes what is waiting (at least one), reads it in one query, answers.
async fn work(db: Db, rx: Arc<Mutex<mpsc::Receiver<Wanted>>>) {
    let mut batch: Vec<Wanted> = Vec::with_capacity(KEY_STATES_MAX);
    loop {
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut batch, KEY_STATES_MAX).await == 0 {
                return;
            }
        }
        let mut hashes: Vec<KeyHash> = batch.iter().map(|(h, _)| *h).collect();
        hashes.sort_unstable_by_key(|h| h.0);
        hashes.dedup();
        match store::key_states(&db, &hashes).await {
            Ok(found) => {
                let by_hash: HashMap<String, StoredKey> =
                    found.into_iter().map(|f| (f.key_hash, f.key)).collect();
                // The same key may be waited for more than once in a batch.
                for (hash, reply) in batch.drain(..) {
                    let _ = reply.send(Ok(by_hash.get(&hash.to_hex()).cloned()));
                }
            }
            Err(e) => {
                let text = e.to_string();
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(sqlx::Error::Io(std::io::Error::other(text.clone()))));
                }
            }
        }
    }
}
