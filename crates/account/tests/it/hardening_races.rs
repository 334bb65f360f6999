//! Hardening, round 2 (issue 12): limits under real parallel requests, on
//! SQLite and PostgreSQL. Each scenario fires its requests at once at the
//! real server and checks what got through. Members and invitations under
//! parallel requests: hardening_races_members.rs.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::{IpAddr, Ipv4Addr};

use crate::common::{unique_email, App, Resp, TestDb, CLOCK_START, PASSWORD};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    parallel_logins_evaluate_at_most_the_limit,
    a_stranger_cannot_lock_an_account_out_from_elsewhere,
    strangers_on_ten_addresses_cannot_lock_out_a_known_browser,
    parallel_signups_from_one_address_are_throttled,
    a_blocked_address_gets_429_for_every_key,
    parallel_verifications_from_one_address,
    forged_keys_cannot_evict_real_ones,
);

/// A client whose connections come from `ip` (any 127.x.y.z reaches the server).
fn client_from(ip: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip)
        .build()
        .unwrap()
}

fn loopback(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x7f00_0000 + n))
}

async fn login_from(app: &App, client: &reqwest::Client, email: &str, password: &str) -> Resp {
    let r = client
        .post(app.url("/api/v1/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    Resp::read(r).await
}

async fn login_with_device(
    app: &App,
    client: &reqwest::Client,
    email: &str,
    password: &str,
    device: Option<&str>,
) -> Resp {
    let mut req = client
        .post(app.url("/api/v1/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(d) = device {
        req = req.header(reqwest::header::COOKIE, format!("acct_device={d}"));
    }
    Resp::read(req.send().await.unwrap()).await
}

/// The probe's attack: ten wrong passwords from each of ten addresses made
/// the right password from an eleventh answer 429 for 15 minutes. The cap
/// per email stays (for browsers never seen), but a browser that signed in
/// to the account before (its device cookie) is never refused by it; its
/// own wrong guesses count against that device only.
async fn strangers_on_ten_addresses_cannot_lock_out_a_known_browser(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("locked");
    app.signup(&email, "Locked Co").await;
    let other = unique_email("other");
    app.signup(&other, "Other Co").await;

    // The owner's browser signed in before: it holds a device cookie.
    let home = client_from(loopback(40));
    let r = login_with_device(&app, &home, &email, PASSWORD, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let device = r.cookie("acct_device").expect("a device cookie");
    let line = r.set_cookie_line("acct_device").unwrap();
    assert!(
        line.contains("HttpOnly") && line.contains("Max-Age="),
        "{line}"
    );
    let r = login_with_device(&app, &home, &other, PASSWORD, None).await;
    let other_device = r.cookie("acct_device").expect("a device cookie");

    // Ten addresses, ten wrong passwords each, all at once.
    let attack = (0..10u32).flat_map(|a| (0..10).map(move |_| a)).map(|a| {
        let (app, email) = (&app, email.clone());
        async move {
            let client = client_from(loopback(50 + a));
            login_with_device(app, &client, &email, "not the password!", None)
                .await
                .status
        }
    });
    let statuses: Vec<StatusCode> = testkit::at_most(8, attack).await;
    assert!(statuses
        .iter()
        .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS));

    // An eleventh address, no device cookie: the cap per email holds.
    let eleventh = client_from(loopback(70));
    let r = login_with_device(&app, &eleventh, &email, PASSWORD, None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    // Another account's device cookie is no device cookie for this email.
    let r = login_with_device(&app, &eleventh, &email, PASSWORD, Some(&other_device)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    let last = if device.ends_with('A') { "B" } else { "A" };
    let forged = format!("{}{last}", &device[..device.len() - 1]);
    let r = login_with_device(&app, &eleventh, &email, PASSWORD, Some(&forged)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "an altered cookie");
    // The owner's browser, from any address: signed in.
    for client in [&home, &eleventh] {
        let r = login_with_device(&app, client, &email, PASSWORD, Some(&device)).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "the known browser signs in: {}",
            r.text
        );
    }
    // A stolen device cookie does not make guessing free: ten wrong
    // passwords lock that device, in parallel too.
    let guesses = (0..16).map(|_| {
        let (app, email, device, eleventh) = (&app, email.clone(), device.clone(), &eleventh);
        async move {
            login_with_device(app, eleventh, &email, "wrong guess!!", Some(&device))
                .await
                .status
        }
    });
    let statuses: Vec<StatusCode> = testkit::at_most(16, guesses).await;
    let evaluated = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        evaluated <= 10,
        "at most the device's 10 were checked: {statuses:?}"
    );
    let r = login_with_device(&app, &home, &email, PASSWORD, Some(&device)).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the device is locked now"
    );
    app.stop().await;
}

async fn parallel_logins_evaluate_at_most_the_limit(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("burst");
    app.signup(&email, "Burst Co").await;
    let client = client_from(loopback(11));
    // 39 wrong passwords and the right one, all at once.
    let attempts = (0..40).map(|i| {
        let (app, client, email) = (&app, &client, email.clone());
        async move {
            let pw = if i == 20 {
                PASSWORD
            } else {
                "wrong password guess"
            };
            login_from(app, client, &email, pw).await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let evaluated = answers
        .iter()
        .filter(|r| matches!(r.status, StatusCode::OK | StatusCode::UNAUTHORIZED))
        .count();
    let throttled: Vec<_> = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(
        evaluated <= 10,
        "at most the limit (10) of passwords were checked, got {evaluated}"
    );
    assert_eq!(
        evaluated + throttled.len(),
        40,
        "only 200/401/429: {answers:?}"
    );
    assert!(throttled
        .iter()
        .all(|r| r.headers.get(RETRY_AFTER).is_some()));
    // The audit trail agrees: at most 10 sign-in outcomes were recorded.
    let pool = db.connect().await;
    let outcomes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action IN ('session.signed_in', 'session.sign_in_failed')",
    )
    .fetch_one(&pool.pool)
    .await
    .unwrap();
    assert!(outcomes <= 10, "audited outcomes: {outcomes}");
    app.stop().await;
}

async fn a_stranger_cannot_lock_an_account_out_from_elsewhere(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("victim");
    app.signup(&email, "Victim Co").await;
    let stranger = client_from(loopback(21));
    for _ in 0..12 {
        login_from(&app, &stranger, &email, "not the password!").await;
    }
    let r = login_from(&app, &stranger, &email, PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the stranger is stopped"
    );
    let owner = client_from(loopback(22));
    let r = login_from(&app, &owner, &email, PASSWORD).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the owner elsewhere signs in: {}",
        r.text
    );
    app.stop().await;
}

async fn parallel_signups_from_one_address_are_throttled(db: &TestDb) {
    let app = App::start(db).await;
    let client = client_from(loopback(31));
    let signups = (0..60).map(|i| {
        let client = &client;
        let app = &app;
        async move {
            let r = client
                .post(app.url("/api/v1/signup"))
                .json(&json!({
                    "email": unique_email(&format!("many{i}")),
                    "password": PASSWORD,
                    "name": "Someone",
                    "company": "Many Co",
                }))
                .send()
                .await
                .unwrap();
            Resp::read(r).await
        }
    });
    let answers = futures_util::future::join_all(signups).await;
    let created = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let default_limit = account::Config::default().signups_per_ip_hour as usize;
    assert!(
        created <= default_limit,
        "{created} sign-ups from one address"
    );
    assert!(created >= 1, "some sign-ups went through");
    for r in &answers {
        assert!(
            matches!(
                r.status,
                StatusCode::CREATED
                    | StatusCode::TOO_MANY_REQUESTS
                    | StatusCode::SERVICE_UNAVAILABLE
            ),
            "{} {}",
            r.status,
            r.text
        );
        if r.status != StatusCode::CREATED {
            assert!(
                r.headers.get(RETRY_AFTER).is_some(),
                "Retry-After on {}",
                r.status
            );
            r.assert_api_error("throttled sign-up");
        }
    }
    // Another address may still sign up.
    let other = client_from(loopback(32));
    let r = other
        .post(app.url("/api/v1/signup"))
        .json(&json!({"email": unique_email("other"), "password": PASSWORD, "name": "O", "company": "O"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    app.stop().await;
}

/// The verification throttle (600 failures a minute per address) under
/// parallel requests: valid keys, answered from memory, are never counted;
/// parallel forged keys are evaluated up to the limit, plus at most the
/// requests already in flight when it was reached, and then every key from
/// that address is refused on every route. The clock stands still, so no
/// window ends during the test.
async fn parallel_verifications_from_one_address(db: &TestDb) {
    const LIMIT: usize = 600;
    const IN_FLIGHT: usize = 32;
    let app = App::start_with_clock(db, web::ManualClock::new(CLOCK_START)).await;
    let sid = app.signup(&unique_email("par-verify"), "Parallel Co").await;
    let key = app.create_key(&sid, json!({"name": "store"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = client_from(loopback(43));
    let verify = |k: String| {
        let req = client
            .post(app.url("/api/v1/keys/verify"))
            .header("X-Api-Key", k);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            let body: serde_json::Value = r.json().await.unwrap();
            (status, body)
        }
    };

    // 200 valid verifications at once: all answered, none counted.
    let valid = futures_util::future::join_all((0..200).map(|_| verify(key.clone()))).await;
    for (status, body) in &valid {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["valid"], true, "{body}");
    }

    // 800 forged keys, 32 in flight at a time.
    let forged: Vec<String> = (0..800)
        .map(|_| {
            keys::ApiKey::generate(keys::Environment::Production)
                .expose()
                .to_owned()
        })
        .collect();
    let answers: Vec<_> = testkit::at_most(IN_FLIGHT, forged.into_iter().map(verify)).await;
    let evaluated = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::OK && b["valid"] == false)
        .count();
    let throttled = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(evaluated + throttled, 800, "only 200 or 429");
    assert!(
        (LIMIT..=LIMIT + IN_FLIGHT).contains(&evaluated),
        "{evaluated} forged keys evaluated: the limit is {LIMIT}, plus at most {IN_FLIGHT} in flight"
    );

    // Now blocked: the valid key too, on every route, in parallel.
    let after = futures_util::future::join_all((0..20).map(|i| {
        let req = match i % 3 {
            0 => client
                .post(app.url("/api/v1/keys/verify"))
                .header("X-Api-Key", key.clone()),
            1 => client
                .get(app.url("/gateway/apikeycheck"))
                .header("magento-api-key", key.clone()),
            _ => client
                .get(app.url("/merchant-registry/v1/ping"))
                .header("x-api-key", key.clone()),
        };
        async move { req.send().await.unwrap().status() }
    }))
    .await;
    assert!(
        after.iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{after:?}"
    );
    app.stop().await;
}

async fn a_blocked_address_gets_429_for_every_key(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("keys"), "Keys Co").await;
    let key = app.create_key(&sid, json!({"name": "store"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let attacker = client_from(loopback(41));
    let verify = |client: &reqwest::Client, k: &str| {
        client
            .post(app.url("/api/v1/keys/verify"))
            .header("X-Api-Key", k.to_owned())
            .send()
    };
    let forged = keys::ApiKey::generate(keys::Environment::Production)
        .expose()
        .to_owned();
    let mut blocked = false;
    for _ in 0..700 {
        if verify(&attacker, &forged).await.unwrap().status() == StatusCode::TOO_MANY_REQUESTS {
            blocked = true;
            break;
        }
    }
    assert!(blocked, "failures are throttled");
    // Blocked: even a valid key gets 429 (no yes/no oracle), on every route.
    assert_eq!(
        verify(&attacker, &key).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let gw = attacker
        .get(app.url("/gateway/apikeycheck"))
        .header("magento-api-key", key.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(gw.status(), StatusCode::TOO_MANY_REQUESTS);
    let ping = attacker
        .get(app.url("/merchant-registry/v1/ping"))
        .header("x-api-key", key.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected.
    let store = client_from(loopback(42));
    let r = verify(&store, &key).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get(CONTENT_TYPE).unwrap(), "application/json");
    app.stop().await;
}

async fn forged_keys_cannot_evict_real_ones(db: &TestDb) {
    let conn = db.connect().await;
    let cfg = account::Config {
        cache_capacity: 1024,
        ..account::Config::default()
    };
    let running = account::start(conn, "127.0.0.1:0", cfg).await.unwrap();
    let app = App::wrap_running(running);
    let sid = app.signup(&unique_email("cache"), "Cache Co").await;
    let mut real = Vec::new();
    for i in 0..20 {
        real.push(
            app.create_key(&sid, json!({"name": format!("k{i}")})).await["key"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let verifier = &app.running.state.verifier;
    for k in &real {
        assert_eq!(
            verifier
                .verify(k, account::verify::Caller::at([127, 0, 0, 1].into()))
                .await
                .unwrap()
                .status
                .as_str(),
            "valid"
        );
    }
    assert_eq!(verifier.cached_entries(), real.len());
    // A flood of well-formed keys that are not stored.
    for _ in 0..3000 {
        let forged = keys::ApiKey::generate(keys::Environment::Production);
        assert_eq!(
            verifier
                .verify(
                    forged.expose(),
                    account::verify::Caller::at([127, 0, 0, 1].into())
                )
                .await
                .unwrap()
                .status
                .as_str(),
            "invalid"
        );
    }
    assert_eq!(
        verifier.cached_entries(),
        real.len(),
        "every real key is still cached"
    );
    assert!(
        verifier.cached_unknown() <= 1024,
        "the negative cache is bounded"
    );
    assert!(verifier.cached_unknown() > 0, "unknown keys are remembered");
    app.stop().await;
}
