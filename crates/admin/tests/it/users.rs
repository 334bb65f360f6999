//! The Admin's own users (issue 12, item 9): usernames unique without regard
//! to case (the migration and the lookup), blank and too-long passwords
//! refused with the right message, and a password change that ends the
//! user's sessions. On SQLite and PostgreSQL.

use std::borrow::Cow;

use crate::common::{Admin, Env};
use admin::auth;
use admin::error::AdminError;
use reqwest::StatusCode;
use web::Secret;

both_backends!(
    usernames_are_unique_without_case,
    password_rules,
    password_change_ends_sessions,
    migration_renames_old_case_duplicates,
    strangers_cannot_lock_out_a_known_browser,
);

async fn usernames_are_unique_without_case(env: &Env) {
    let db = env.admin_db().await;
    auth::create_user(
        &db,
        "Bob",
        "bob@example.com",
        Secret::new("long enough pass"),
        1,
    )
    .await
    .expect("create Bob");
    for other in ["bob", "BOB", " bOb "] {
        let r = auth::create_user(
            &db,
            other,
            "bob2@example.com",
            Secret::new("another long password"),
            2,
        )
        .await;
        assert!(
            matches!(r, Err(AdminError::UsernameTaken)),
            "{other:?}: {r:?}"
        );
    }
    drop(db);
    // Signing in finds the user whatever the case typed.
    let admin = Admin::start(env, None).await;
    for typed in ["Bob", "bob", "BOB"] {
        let r = admin.api_login_raw(typed, "long enough pass").await;
        assert_eq!(r.status, StatusCode::OK, "{typed}: {}", r.text);
    }
    let r = admin.api_login_raw("bob", "long enough pas").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    admin.stop().await;
}

async fn password_rules(env: &Env) {
    let db = env.admin_db().await;
    let cases: [(String, &str); 5] = [
        (" ".repeat(12), "must not be blank"),
        ("\t".repeat(20), "must not be blank"),
        ("x".repeat(257), "at most 256 bytes"),
        ("é".repeat(200), "at most 256 bytes"),
        ("short pw".to_owned(), "at least 12 characters"),
    ];
    for (password, says) in &cases {
        let r = auth::create_user(
            &db,
            "carol",
            "carol@example.com",
            Secret::new(password.clone()),
            1,
        )
        .await;
        let msg = r.expect_err("refused").to_string();
        assert!(msg.contains(says), "{password:?}: {msg}");
        assert!(!msg.contains(password.trim()) || password.trim().is_empty());
    }
    assert_eq!(
        admin::store::user_with_hash(&db, "carol")
            .await
            .expect("lookup")
            .map(|(u, _)| u.username),
        None,
        "carol was never created"
    );
    // The longest accepted, and the same rules when changing a password.
    auth::create_user(
        &db,
        "carol",
        "carol@example.com",
        Secret::new("y".repeat(256)),
        1,
    )
    .await
    .expect("256 bytes is accepted");
    for (password, says) in &cases {
        let r = auth::set_password(&db, "carol", Secret::new(password.clone())).await;
        let msg = r.expect_err("refused").to_string();
        assert!(msg.contains(says), "{password:?}: {msg}");
    }
    let r = auth::set_password(&db, "nobody", Secret::new("long enough pass")).await;
    assert!(matches!(r, Err(AdminError::UnknownUser)), "{r:?}");
}

async fn password_change_ends_sessions(env: &Env) {
    let admin = Admin::start(env, None).await;
    let sid = admin.api_login().await;
    let other_sid = admin.api_login().await;
    let status = |sid: String| {
        let admin = &admin;
        async move { admin.key_status_raw(&sid).await.status }
    };
    assert_eq!(status(sid.clone()).await, StatusCode::OK);
    let name = auth::set_password(
        &admin.running.state.db,
        "ADMIN",
        Secret::new("a brand new password"),
    )
    .await
    .expect("set the password");
    assert_eq!(name, "admin", "the username as stored");
    for s in [sid, other_sid] {
        assert_eq!(
            status(s).await,
            StatusCode::UNAUTHORIZED,
            "the session ended"
        );
    }
    let r = admin.api_login_raw("admin", &admin.password).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let r = admin.api_login_raw("admin", "a brand new password").await;
    assert_eq!(r.status, StatusCode::OK);
    admin.stop().await;
}

/// An installation from before the case-insensitive index may hold `Bob` and
/// `bob`: the migration keeps the older name and renames the later one,
/// rather than failing to start.
async fn migration_renames_old_case_duplicates(env: &Env) {
    sqlx::any::install_default_drivers();
    let full = match env.backend {
        crate::common::Backend::Sqlite => &admin::MIGRATIONS_SQLITE,
        crate::common::Backend::Postgres => &admin::MIGRATIONS_POSTGRES,
    };
    let mut before = sqlx::migrate::Migrator::DEFAULT;
    before.migrations = Cow::Owned(
        full.migrations
            .iter()
            .filter(|m| m.version < 3)
            .cloned()
            .collect(),
    );
    let url = if env.backend == crate::common::Backend::Sqlite {
        format!("{}?mode=rwc", env.url)
    } else {
        env.url.clone()
    };
    let pool = sqlx::AnyPool::connect(&url).await.expect("connect");
    before.run(&pool).await.expect("the migrations before 0003");
    for (id, name, at) in [("adm_first000", "Bob", 1), ("adm_second00", "bob", 2)] {
        sqlx::query(
            "INSERT INTO admin_users (id, username, email, password_hash, created_at) \
             VALUES ($1, $2, 'b@example.com', 'x', $3)",
        )
        .bind(id)
        .bind(name)
        .bind(at)
        .execute(&pool)
        .await
        .expect("an old duplicate");
    }
    pool.close().await;
    let db = env.admin_db().await;
    let bob = admin::store::user_with_hash(&db, "BOB")
        .await
        .expect("lookup")
        .expect("Bob is there");
    assert_eq!(
        (bob.0.id.as_str(), bob.0.username.as_str()),
        ("adm_first000", "Bob")
    );
    let renamed = admin::store::user_with_hash(&db, "bob-second00")
        .await
        .expect("lookup")
        .expect("the later one is renamed");
    assert_eq!(renamed.0.id, "adm_second00");
}

/// `POST /admin/api/v1/login` from the loopback address `127.0.0.N`, with a
/// device cookie when given.
async fn login_from(
    admin: &Admin,
    n: u32,
    password: &str,
    device: Option<&str>,
) -> crate::common::Resp {
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::from(
            0x7f00_0000 + n,
        )))
        .build()
        .expect("client");
    let mut req = client
        .post(admin.url("/admin/api/v1/login"))
        .json(&serde_json::json!({"username": "admin", "password": password}));
    if let Some(d) = device {
        req = req.header(reqwest::header::COOKIE, format!("adm_device={d}"));
    }
    crate::common::Resp::read(req.send().await.expect("request")).await
}

/// Guessing spread over many addresses is capped per username (100 in 15
/// minutes), and a browser that signed in before (its device cookie, signed
/// with a key derived from crypt.key) is never refused by that cap.
async fn strangers_cannot_lock_out_a_known_browser(env: &Env) {
    let admin = Admin::start(env, None).await;
    let r = login_from(&admin, 40, &admin.password, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let device = r.cookie("adm_device").expect("a device cookie");
    assert!(r.cookie("adm_sid").is_some(), "and the session");

    // Ten addresses, ten wrong passwords each, eight at a time (more would
    // meet the password hasher's queue limit: 503 busy).
    let attack = (0..100u32).map(|i| {
        let admin = &admin;
        async move {
            login_from(admin, 50 + i / 10, "not the password!!", None)
                .await
                .status
        }
    });
    let statuses: Vec<StatusCode> = testkit::at_most(8, attack).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );

    // An eleventh address without the cookie: the cap per username holds.
    let r = login_from(&admin, 70, &admin.password, None).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    // With it, from anywhere: signed in.
    let r = login_from(&admin, 70, &admin.password, Some(&device)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the known browser signs in: {}",
        r.text
    );
    // A cookie made with another key (another installation) does not count.
    let other = web::device::DeviceCookies::new([7; 32], "adm_device").issue("admin");
    let r = login_from(&admin, 70, &admin.password, Some(&other)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    admin.stop().await;
}
