use std::sync::Arc;

use super::*;

#[tokio::test]
async fn blocks_after_max_failures_until_the_window_ends() {
    let l = Limiter::new(3, 60, 100);
    for _ in 0..2 {
        l.fail("a", 1000).await;
    }
    assert_eq!(l.blocked("a", 1000), None);
    l.fail("a", 1010).await;
    assert_eq!(l.blocked("a", 1010), Some(50));
    assert_eq!(l.blocked("b", 1010), None);
    assert_eq!(l.blocked("a", 1060), None);
    l.fail("a", 1060).await;
    assert_eq!(l.blocked("a", 1060), None, "a new window starts");
}

#[tokio::test]
async fn reserve_takes_attempts_up_to_the_limit_and_refund_gives_one_back() {
    let l = Limiter::new(3, 60, 100);
    assert!(l.reserve("a", 1000).await.is_ok());
    assert!(l.reserve("a", 1000).await.is_ok());
    assert!(l.reserve("a", 1000).await.is_ok());
    assert_eq!(l.reserve("a", 1010).await, Err(50));
    l.refund("a", 1010).await;
    assert!(l.reserve("a", 1010).await.is_ok());
    assert_eq!(l.reserve("a", 1010).await, Err(50));
    assert!(l.reserve("a", 1060).await.is_ok(), "a new window starts");
}

#[test]
fn parallel_reservations_never_pass_the_limit() {
    let l = Arc::new(Limiter::new(10, 900, 100));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let l = l.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let mut passed = 0;
                    for _ in 0..50 {
                        passed += usize::from(l.reserve("k", 5).await.is_ok());
                    }
                    passed
                })
            })
        })
        .collect();
    let passed: usize = threads.into_iter().map(|t| t.join().expect("thread")).sum();
    assert_eq!(passed, 10);
}

#[tokio::test]
async fn memory_is_bounded() {
    let l = Limiter::new(3, 60, 160);
    for i in 0..10_000 {
        l.fail(&format!("ip-{i}"), 1000 + i).await;
    }
    assert!(l.len() <= 160, "{}", l.len());
}

#[tokio::test]
async fn login_attempts_count_per_ip_per_name_and_per_name_anywhere() {
    let l = LoginLimiter::new(LoginLimits {
        per_ip: 5,
        per_name_from_ip: 2,
        per_name: Some(3),
        window_secs: 60,
        capacity: 100,
    });
    assert!(l.reserve("1.1.1.1", " A@x.example", 0).await.is_ok());
    assert!(l.reserve("1.1.1.1", "a@x.example ", 0).await.is_ok());
    assert_eq!(
        l.reserve("1.1.1.1", "A@X.example", 10).await.err(),
        Some(50)
    );
    // Another address may still try the name, until it is used up anywhere.
    assert!(l.reserve("2.2.2.2", "a@x.example", 10).await.is_ok());
    assert!(l.reserve("3.3.3.3", "a@x.example", 10).await.is_err());
    // A right password gives its attempts back.
    let ok = l
        .reserve("1.1.1.1", "b@x.example", 10)
        .await
        .expect("another name");
    ok.refund().await;
    assert!(l.reserve("1.1.1.1", "b@x.example", 10).await.is_ok());
    // Without a per-name throttle, names are counted per address only.
    let admin = LoginLimiter::new(LoginLimits {
        per_ip: 50,
        per_name_from_ip: 1,
        per_name: None,
        window_secs: 60,
        capacity: 100,
    });
    assert!(admin.reserve("1.1.1.1", "admin", 0).await.is_ok());
    assert!(admin.reserve("1.1.1.1", "Admin", 0).await.is_err());
    assert!(admin.reserve("2.2.2.2", "admin", 0).await.is_ok());
}

// With Redis (the one this machine runs on 127.0.0.1:6379; scripts/test.sh
// starts it): each test has a prefix of its own, so runs never share counts.

const REDIS: &str = "redis://127.0.0.1:6379/";

fn counters() -> Arc<SharedCounters> {
    let prefix = format!("test-{}", keys::random_base62(12));
    Arc::new(SharedCounters::new(REDIS, &prefix).expect("counters"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_sharing_redis_never_pass_the_limit_together() {
    let shared = counters();
    assert!(shared.ping().await, "Redis answers on {REDIS}");
    // Two nodes: two limiters with their own memory, one Redis count.
    let nodes: Vec<Arc<Limiter>> = (0..2)
        .map(|_| Arc::new(Limiter::new(10, 900, 100).shared(Some(shared.clone()), "signup_ip")))
        .collect();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let node = nodes[i % 2].clone();
            tokio::spawn(async move { node.reserve("203.0.113.7", 1000).await.is_ok() })
        })
        .collect();
    let mut passed = 0;
    for t in tasks {
        passed += usize::from(t.await.expect("task"));
    }
    assert_eq!(passed, 10, "each node alone would have let 10 through");
    // A refund on one node frees an attempt on the other.
    nodes[0].refund("203.0.113.7", 1000).await;
    assert!(nodes[1].reserve("203.0.113.7", 1000).await.is_ok());
    assert_eq!(nodes[0].reserve("203.0.113.7", 1010).await, Err(790));
    // The next window starts afresh; another key was never counted.
    assert!(nodes[0].reserve("203.0.113.7", 1800).await.is_ok());
    assert!(nodes[1].reserve("203.0.113.8", 1010).await.is_ok());
}

#[tokio::test]
async fn failures_counted_on_another_node_block_here_after_one_more() {
    let shared = counters();
    let a = Limiter::new(5, 60, 100).shared(Some(shared.clone()), "verify_ip");
    let b = Limiter::new(5, 60, 100).shared(Some(shared), "verify_ip");
    for _ in 0..5 {
        a.fail("198.51.100.1", 120).await;
    }
    assert_eq!(a.blocked("198.51.100.1", 120), Some(60));
    // Node b has not seen this client fail: its next failure learns the count.
    assert_eq!(b.blocked("198.51.100.1", 121), None);
    b.fail("198.51.100.1", 121).await;
    assert_eq!(b.blocked("198.51.100.1", 121), Some(59));
    assert_eq!(b.blocked("198.51.100.1", 180), None, "the window ended");
}

#[tokio::test]
async fn a_redis_that_does_not_answer_degrades_to_counting_here() {
    // Nothing listens on port 1: every Redis call fails.
    let down = Arc::new(SharedCounters::new("redis://127.0.0.1:1/", "down").expect("counters"));
    assert!(!down.ping().await);
    let l = Limiter::new(3, 60, 100).shared(Some(down), "signin_ip");
    let started = std::time::Instant::now();
    for _ in 0..3 {
        assert!(l.reserve("192.0.2.1", 0).await.is_ok(), "not refused");
    }
    assert_eq!(l.reserve("192.0.2.1", 0).await, Err(60), "still limited");
    // One deadline at most, then Redis is left alone for a while.
    assert!(
        started.elapsed() < shared::DEADLINE * 3,
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_bad_url_or_prefix_is_refused() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        assert!(matches!(
            SharedCounters::new("http://127.0.0.1:6379", "p"),
            Err(SharedError::Url(_))
        ));
        assert!(matches!(
            SharedCounters::new(REDIS, "has space"),
            Err(SharedError::Prefix)
        ));
        assert!(format!(
            "{:?}",
            SharedCounters::new("redis://:hunter2@127.0.0.1/", "p")
        )
        .contains("prefix"));
        assert!(!format!(
            "{:?}",
            SharedCounters::new("redis://:hunter2@127.0.0.1/", "p")
        )
        .contains("hunter2"));
    });
}

/// Throttle counts are named by an HMAC under the app's secret: nothing in
/// Redis is a bare hash of an email or address that a reader could test
/// guesses against; nodes with the same secret share a count.
#[tokio::test]
async fn redis_keys_are_hmacs_under_the_apps_secret() {
    use sha2::{Digest, Sha256};
    let base = counters();
    let (a, b) = (base.keyed([1; 32]), base.keyed([2; 32]));
    let email = "owner@example.com";
    let name = a.key("signin", email, 7);
    let bare: String = Sha256::digest(email.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!name.contains(&bare), "{name}");
    assert!(!name.contains(email));
    assert_eq!(
        name,
        base.keyed([1; 32]).key("signin", email, 7),
        "same secret, same name"
    );
    assert_ne!(
        name,
        b.key("signin", email, 7),
        "another secret, another name"
    );
    // A trailing colon, as Redis users write prefixes, is taken.
    let colon = SharedCounters::new(REDIS, "team-app:").expect("a trailing colon");
    assert!(
        colon.key("t", "k", 1).starts_with("team-app:rl:t:1:"),
        "{}",
        colon.key("t", "k", 1)
    );
    assert!(matches!(
        SharedCounters::new(REDIS, "a::"),
        Err(SharedError::Prefix)
    ));
}

/// A TCP relay to the local Redis that can be cut (every connection
/// dropped, new ones refused) and restored: Redis going away and coming back.
struct Relay {
    url: String,
    up: Arc<std::sync::atomic::AtomicBool>,
    conns: Arc<std::sync::Mutex<tokio::task::JoinSet<()>>>,
}

impl Relay {
    async fn start() -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("redis://{}/", listener.local_addr().expect("addr"));
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns = Arc::new(std::sync::Mutex::new(tokio::task::JoinSet::new()));
        let (up2, conns2) = (up.clone(), conns.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: refused
                }
                conns2.lock().expect("lock").spawn(async move {
                    if let Ok(mut redis) = tokio::net::TcpStream::connect("127.0.0.1:6379").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut redis).await;
                    }
                });
            }
        });
        Relay { url, up, conns }
    }

    fn set(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::SeqCst);
        if !up {
            self.conns.lock().expect("lock").abort_all();
        }
    }
}

/// Failures counted in this process while Redis was away are carried into
/// Redis once it answers again: the outage forgets nothing, and another
/// node sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_made_while_redis_was_away_are_not_forgotten() {
    let relay = Relay::start().await;
    let prefix = format!("test-{}", keys::random_base62(12));
    let through_relay = SharedCounters::new(&relay.url, &prefix)
        .expect("counters")
        .pausing(std::time::Duration::ZERO)
        .keyed([9; 32]);
    let node = Limiter::new(10, 600, 100).shared(Some(Arc::new(through_relay)), "signin_ip");
    let direct = Arc::new(
        SharedCounters::new(REDIS, &prefix)
            .expect("counters")
            .keyed([9; 32]),
    );
    let other = Limiter::new(10, 600, 100).shared(Some(direct.clone()), "signin_ip");
    assert!(
        node.reserve("192.0.2.9", 100).await.is_ok(),
        "through the relay"
    );

    relay.set(false);
    for _ in 0..4 {
        assert!(node.reserve("192.0.2.9", 100).await.is_ok(), "counted here");
    }
    relay.set(true);
    // The next step that reaches Redis carries the four; at most a few steps
    // may still meet the old connection and count here too (carried later).
    let mut steps = 5;
    let redis_count = |direct: Arc<SharedCounters>| async move {
        let client = redis::Client::open(REDIS).expect("client");
        let mut conn = client
            .get_multiplexed_async_connection()
            .await
            .expect("conn");
        let key = direct.key("signin_ip", "192.0.2.9", 0);
        redis::cmd("GET")
            .arg(key)
            .query_async::<Option<i64>>(&mut conn)
            .await
            .expect("GET")
            .unwrap_or(0)
    };
    for _ in 0..5 {
        assert!(node.reserve("192.0.2.9", 100).await.is_ok());
        steps += 1;
        if redis_count(direct.clone()).await == steps {
            break;
        }
    }
    assert_eq!(
        redis_count(direct).await,
        steps,
        "every attempt is in Redis"
    );
    // Another node sees them: only the rest of the ten is left.
    let left = 10 - steps;
    for _ in 0..left {
        assert!(other.reserve("192.0.2.9", 101).await.is_ok());
    }
    assert!(
        other.reserve("192.0.2.9", 101).await.is_err(),
        "the outage's attempts count"
    );
}
