//! Password hashing with argon2id on a small pool of threads of its own.
//!
//! One argon2id hash needs about 19 MiB of memory. The pool runs at most one
//! hash per core at a time, and a short queue holds the requests waiting for
//! one; when the queue is full the request is answered 503 with
//! `Retry-After` at once. So a burst of sign-ups or sign-ins costs at most
//! `workers × 19 MiB`, and the same few threads (and their allocator arenas)
//! are reused, so the memory is not kept per burst.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, LazyLock, Mutex};

use argon2::password_hash::{self, rand_core::OsRng, PasswordHash, SaltString};
use argon2::Argon2;

use crate::{Error, Secret};

/// The form of a password change, on both sites: the current password and the new one.
#[derive(serde::Deserialize)]
pub struct ChangeForm {
    pub current_password: Secret,
    pub new_password: Secret,
}

/// Seconds a client is asked to wait when the queue is full.
pub const BUSY_RETRY_SECS: u64 = 1;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads and their queue.
pub struct Pool {
    jobs: SyncSender<Job>,
    workers: usize,
    queue: usize,
}

impl Pool {
    /// `workers` threads; at most `queue` requests wait for one of them.
    pub fn new(workers: usize, queue: usize) -> Pool {
        let workers = workers.max(1);
        let (jobs, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{i}"))
                .spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password thread");
            }
        }
        Pool {
            jobs,
            workers,
            queue,
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Runs `f` on a hashing thread, or answers 503 (busy) when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        self.submit(f)?
            .await
            .map_err(|_| Error::internal("a password thread dropped its job"))
    }

    /// Queues `f` now; the receiver gets its result.
    pub fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<tokio::sync::oneshot::Receiver<T>, Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_)) => {
                tracing::warn!("password hashing queue full; answering 503");
                Err(Error::busy(BUSY_RETRY_SECS))
            }
            Err(TrySendError::Disconnected(_)) => {
                Err(Error::internal("the password threads have stopped"))
            }
        }
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job.
        let job = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => {
                // A panic in argon2 ends this job only, not the thread.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

/// The process's pool: one worker per core, and a queue of 16 per worker.
static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let workers = cores.clamp(1, 8);
    Pool::new(workers, workers * 16)
});

pub fn pool() -> &'static Pool {
    &POOL
}

// The argon2id work memory (≈19 MiB), one per hashing thread, reused by
// every hash it computes: allocating it per hash leaves the allocator
// holding freed copies (seen: 370 MB after 20 sequential hashes).
thread_local! {
    static MEMORY: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// argon2 of `password` with `salt` (raw bytes) into `out`, in this thread's memory.
fn compute(argon: &Argon2<'_>, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
    let blocks = argon.params().block_count();
    MEMORY.with(|m| {
        let mut memory = m.borrow_mut();
        if memory.len() < blocks {
            memory.resize(blocks, argon2::Block::default());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks])
    })
}

/// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) for `password`.
fn hash_now(password: &[u8]) -> Result<String, password_hash::Error> {
    let argon = Argon2::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut raw_salt = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut raw_salt)?;
    let output = password_hash::Output::init_with(argon2::Params::DEFAULT_OUTPUT_LEN, |out| {
        compute(&argon, password, salt_bytes, out).map_err(password_hash::Error::from)
    })?;
    let phc = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: password_hash::ParamsString::try_from(argon.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored` (constant-time compare).
fn matches(password: &[u8], stored: &str) -> bool {
    let check = || -> Result<bool, password_hash::Error> {
        let phc = PasswordHash::new(stored)?;
        let algorithm = argon2::Algorithm::try_from(phc.algorithm)?;
        let version = phc
            .version
            .map(argon2::Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let params = argon2::Params::try_from(&phc)?;
        let argon = Argon2::new(algorithm, version, params);
        let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
            return Ok(false);
        };
        let mut raw_salt = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut raw_salt)?;
        let actual = password_hash::Output::init_with(expected.len(), |out| {
            compute(&argon, password, salt_bytes, out).map_err(password_hash::Error::from)
        })?;
        // `Output`'s equality is constant-time.
        Ok(actual == expected)
    };
    check().unwrap_or(false)
}

pub async fn hash(password: Secret) -> Result<String, Error> {
    POOL.run(move || hash_now(password.expose().as_bytes()))
        .await?
        .map_err(Error::internal)
}

/// A real hash of a random password, checked when the user is unknown.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_now(keys::random_base62(20).as_bytes()).unwrap_or_default());

/// Checks a password; with no stored hash it still spends the same time, so
/// an unknown user cannot be told from a wrong password by timing.
pub async fn verify(password: Secret, stored: Option<String>) -> Result<bool, Error> {
    POOL.run(move || {
        let hash_text = stored.as_deref().unwrap_or(&DUMMY_HASH);
        let ok = matches(password.expose().as_bytes(), hash_text);
        ok && stored.is_some()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash(Secret::new("correct horse battery")).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify(Secret::new("correct horse battery"), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify(Secret::new("wrong horse battery"), Some(h))
            .await
            .unwrap());
        assert!(!verify(Secret::new("anything"), None).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_of_the_standard_hasher_still_verify_and_ours_are_standard() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let salt = SaltString::generate(&mut OsRng);
        let old = Argon2::default()
            .hash_password(b"an older stored password", &salt)
            .unwrap()
            .to_string();
        assert!(
            verify(Secret::new("an older stored password"), Some(old.clone()))
                .await
                .unwrap()
        );
        assert!(!verify(Secret::new("an older stored passwore"), Some(old))
            .await
            .unwrap());
        let ours = hash(Secret::new("a new password here")).await.unwrap();
        let phc = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"a new password here", &phc)
            .is_ok());
        assert!(!verify(Secret::new("x"), Some("not a hash".into()))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn memory_is_reused_across_hashes() {
        fn rss_kb() -> u64 {
            let s = std::fs::read_to_string("/proc/self/status").unwrap();
            let l = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
            l.split_whitespace().nth(1).unwrap().parse().unwrap()
        }
        for _ in 0..4 {
            hash(Secret::new("warm up the threads")).await.unwrap();
        }
        let before = rss_kb();
        for _ in 0..30 {
            hash(Secret::new("correct horse battery")).await.unwrap();
        }
        let grown = rss_kb().saturating_sub(before);
        assert!(
            grown < 40 * 1024,
            "30 hashes grew the process by {grown} kB"
        );
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        let pool = Pool::new(1, 2);
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(Mutex::new(wait));
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let blocked = |n: i32| {
            let wait = wait.clone();
            let started = started_tx.clone();
            move || {
                let _ = started.send(());
                let _ = wait.lock().map(|w| w.recv());
                n
            }
        };
        // One job runs (blocked) and two wait in the queue: the pool is full.
        let first = pool.submit(blocked(1)).unwrap();
        started_rx.recv().unwrap();
        let queued = [
            pool.submit(blocked(2)).unwrap(),
            pool.submit(blocked(3)).unwrap(),
        ];
        let busy = pool.submit(|| 0).unwrap_err();
        assert_eq!(busy.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.retry_after(), Some(BUSY_RETRY_SECS));
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        assert_eq!(first.await.unwrap(), 1);
        let [a, b] = queued;
        assert_eq!((a.await.unwrap(), b.await.unwrap()), (2, 3));
        // With room again, a job runs.
        assert_eq!(pool.run(|| 9).await.unwrap(), 9);
    }
}
