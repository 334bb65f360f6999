//! Storage behaviour on SQLite and PostgreSQL: what survives a restart,
//! batched last-use times, revocation times, session lifetimes, and
//! uniqueness under concurrent sign-ups, and which unique constraint a
//! refused write ran into.

use crate::common::{unique_email, App, TestDb, CLOCK_START, PASSWORD};
use account::store;
use reqwest::StatusCode;
use serde_json::{json, Value};
use web::clock::rfc3339;

both_backends!(
    data_survives_a_restart,
    last_use_is_batched_and_never_moves_back,
    many_last_uses_are_written_in_one_flush,
    revoking_twice_keeps_the_first_time,
    sessions_end_when_idle_or_old,
    concurrent_signups_with_one_email,
    unique_email_is_enforced_by_storage,
    a_key_write_names_the_constraint_it_ran_into,
);

async fn data_survives_a_restart(db: &TestDb) {
    let email = unique_email("restart");
    let first = App::start(db).await;
    let sid = first.signup(&email, "Restart Co").await;
    let created = first.create_key(&sid, json!({"name": "Durable"})).await;
    let key = created["key"].as_str().expect("key").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(first.verify_status(&key).await, "valid");
    // Stopping flushes the batched last-use time.
    first.stop().await;

    // A new server on the same database (the migrations run again, harmlessly).
    let second = App::start(db).await;
    let listed = second.listed_key(&sid, &id).await;
    assert_eq!(
        listed["status"],
        json!("valid"),
        "the session and the key survived"
    );
    assert!(
        listed["last_used_at"].is_string(),
        "the last use was written at shutdown: {listed}"
    );
    assert_eq!(second.verify_status(&key).await, "valid");
    let login = second.login_raw(&email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let del = second
        .delete(&format!("/api/v1/keys/{id}"), Some(&sid))
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    second.stop().await;

    let third = App::start(db).await;
    assert_eq!(
        third.verify_status(&key).await,
        "revoked",
        "revocation is durable"
    );
    third.stop().await;
}

async fn last_use_is_batched_and_never_moves_back(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let sid = app.signup(&unique_email("last-use"), "Use Co").await;
    let created = app.create_key(&sid, json!({"name": "Busy"})).await;
    let key = created["key"].as_str().expect("key").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    let state = &app.running.state;
    let company = company_of(&app, &sid).await;
    let stored_last_used = || async {
        store::list_keys(&state.db, &company, 1000, 0)
            .await
            .expect("list")
            .into_iter()
            .find(|k| k.id == id)
            .expect("the key")
            .last_used_at
    };

    assert_eq!(
        state.verifier.flush_last_used().await.expect("flush"),
        0,
        "nothing to write yet"
    );
    for _ in 0..5 {
        assert_eq!(app.verify_status(&key).await, "valid");
    }
    assert_eq!(
        stored_last_used().await,
        None,
        "verification itself writes nothing"
    );
    assert_eq!(
        state.verifier.flush_last_used().await.expect("flush"),
        1,
        "one key, one write"
    );
    assert_eq!(stored_last_used().await, Some(CLOCK_START));
    assert_eq!(
        state.verifier.flush_last_used().await.expect("flush"),
        0,
        "flushed once"
    );

    clock.advance(100);
    assert_eq!(app.verify_status(&key).await, "valid");
    state.verifier.flush_last_used().await.expect("flush");
    assert_eq!(stored_last_used().await, Some(CLOCK_START + 100));
    let listed = app.listed_key(&sid, &id).await;
    assert_eq!(listed["last_used_at"], json!(rfc3339(CLOCK_START + 100)));

    // A late batch from another node with an older time does not move it back.
    store::record_last_used(&state.db, &[(id.clone(), CLOCK_START + 50)])
        .await
        .expect("record");
    assert_eq!(stored_last_used().await, Some(CLOCK_START + 100));
    store::record_last_used(
        &state.db,
        &[(id.clone(), CLOCK_START + 200), ("key_unknown".into(), 1)],
    )
    .await
    .expect("record");
    assert_eq!(stored_last_used().await, Some(CLOCK_START + 200));

    // Invalid and revoked keys are not "used".
    let del = app.delete(&format!("/api/v1/keys/{id}"), Some(&sid)).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    clock.advance(1000);
    assert_eq!(app.verify_status(&key).await, "revoked");
    assert_eq!(state.verifier.flush_last_used().await.expect("flush"), 0);
    assert_eq!(stored_last_used().await, Some(CLOCK_START + 200));
    app.stop().await;
}

/// More keys than one statement takes (500): every one is written, each
/// once, in one flush; an older batch moves none of them back.
async fn many_last_uses_are_written_in_one_flush(db: &TestDb) {
    const KEYS: usize = 1_201;
    let (app, clock) = App::start_clocked(db).await;
    let state = &app.running.state;
    let seeded = account::seed::seed_keys(&state.db, KEYS, KEYS, 0, CLOCK_START)
        .await
        .expect("seed");
    clock.advance(10);
    for key in &seeded.sample {
        let verdict = state
            .verifier
            .verify(key, account::verify::Caller::at([127, 0, 0, 1].into()))
            .await
            .expect("verify");
        assert_eq!(verdict.status, account::verify::Status::Valid);
    }
    assert_eq!(state.verifier.flush_last_used().await.expect("flush"), KEYS);
    let used_at = |at: i64| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM api_keys WHERE last_used_at = $1")
            .bind(at)
            .fetch_one(&state.db.pool)
            .await
            .expect("count")
    };
    assert_eq!(used_at(CLOCK_START + 10).await, KEYS as i64);

    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM api_keys WHERE last_used_at = $1")
        .bind(CLOCK_START + 10)
        .fetch_all(&state.db.pool)
        .await
        .expect("ids");
    let older: Vec<(String, i64)> = ids.iter().map(|id| (id.clone(), CLOCK_START + 5)).collect();
    store::record_last_used(&state.db, &older)
        .await
        .expect("record");
    assert_eq!(used_at(CLOCK_START + 10).await, KEYS as i64);
    // Newer for every other key, across the statements' boundaries.
    let newer: Vec<(String, i64)> = ids
        .iter()
        .step_by(2)
        .map(|id| (id.clone(), CLOCK_START + 20))
        .collect();
    store::record_last_used(&state.db, &newer)
        .await
        .expect("record");
    assert_eq!(used_at(CLOCK_START + 20).await, newer.len() as i64);
    assert_eq!(used_at(CLOCK_START + 10).await, (KEYS - newer.len()) as i64);
    app.stop().await;
}

/// The company id of the session's account, read from storage.
async fn company_of(app: &App, sid: &str) -> String {
    let hash = keys::hash_str(sid).to_hex();
    let now = app.clock.as_ref().map_or(CLOCK_START, web::Clock::now);
    store::session_account(&app.running.state.db, &hash, now, 3600, 3600)
        .await
        .expect("session lookup")
        .expect("a live session")
        .company_id
}

async fn revoking_twice_keeps_the_first_time(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let sid = app.signup(&unique_email("revoke"), "Revoke Co").await;
    let created = app.create_key(&sid, json!({"name": "Twice"})).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let company = company_of(&app, &sid).await;

    clock.advance(10);
    let first = app.delete(&format!("/api/v1/keys/{id}"), Some(&sid)).await;
    assert_eq!(first.status, StatusCode::NO_CONTENT);
    clock.advance(10);
    let second = app.delete(&format!("/api/v1/keys/{id}"), Some(&sid)).await;
    assert_eq!(
        second.status,
        StatusCode::NO_CONTENT,
        "revoking again is harmless"
    );
    let row = store::get_key(&app.running.state.db, &company, &id)
        .await
        .expect("get")
        .expect("the key");
    assert_eq!(row.revoked_at, Some(CLOCK_START + 10));
    assert_eq!(
        store::get_key(&app.running.state.db, "co_other", &id)
            .await
            .expect("get")
            .map(|k| k.id),
        None,
        "another company does not see the key"
    );
    let event = store::NewEvent {
        company_id: Some("co_other"),
        actor_id: None,
        actor: Some("test"),
        action: "key.revoked",
        target: Some(&id),
        detail: None,
        ip: None,
        at: CLOCK_START,
    };
    assert!(
        store::revoke_key(
            &app.running.state.db,
            "co_other",
            None,
            &id,
            CLOCK_START,
            &event
        )
        .await
        .expect("revoke")
        .is_none(),
        "nor revoke it"
    );
    app.stop().await;
}

async fn sessions_end_when_idle_or_old(db: &TestDb) {
    let (app, clock) = App::start_clocked(db).await;
    let email = unique_email("session");
    let sid = app.signup(&email, "Session Co").await;
    let idle = account::auth::SESSION_IDLE_SECS;

    // In use: each request keeps it alive past the idle limit.
    clock.advance(idle - 60);
    app.list_keys(&sid).await;
    clock.advance(idle - 60);
    app.list_keys(&sid).await;
    // Left alone for longer than the idle limit: gone.
    clock.advance(idle + 1);
    let r = app.get("/api/v1/keys", Some(&sid)).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "idle session: {}",
        r.text
    );

    // Used steadily, a session still ends at the absolute limit.
    let login = app.login_raw(&email, PASSWORD).await;
    let sid2 = login.cookie("acct_sid").expect("sid");
    let start = web::Clock::now(&clock);
    let absolute = account::auth::SESSION_ABSOLUTE_SECS;
    while web::Clock::now(&clock) + idle / 2 < start + absolute {
        clock.advance(idle / 2);
        app.list_keys(&sid2).await;
    }
    clock.set(start + absolute - 1);
    app.list_keys(&sid2).await;
    clock.set(start + absolute);
    let r = app.get("/api/v1/keys", Some(&sid2)).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "old session: {}",
        r.text
    );
    app.stop().await;
}

async fn concurrent_signups_with_one_email(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("race");
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let req = app.http.post(app.url("/api/v1/signup")).json(&json!({
            "email": email,
            "password": PASSWORD,
            "name": "Racer",
            "company": format!("Company {i}"),
        }));
        tasks
            .spawn(async move { crate::common::Resp::read(req.send().await.expect("send")).await });
    }
    let results: Vec<crate::common::Resp> = tasks.join_all().await;
    let created = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let conflicts = results
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        (created, conflicts),
        (1, 5),
        "exactly one sign-up wins, the rest are 409: {:?}",
        results
            .iter()
            .map(|r| (r.status, r.text.as_str()))
            .collect::<Vec<_>>()
    );
    app.stop().await;
}

async fn unique_email_is_enforced_by_storage(db: &TestDb) {
    let conn = db.connect().await;
    let owner = |company_id: &'static str, account_id: &'static str| store::NewOwner {
        company_id,
        company_name: "Direct",
        account_id,
        email: "direct@example.com",
        name: "Direct",
        password_hash: "not-a-real-hash",
        locale: None,
        now: CLOCK_START,
    };
    store::create_company_with_owner(&conn, &owner("co_1", "acct_1"))
        .await
        .expect("first owner");
    let err = store::create_company_with_owner(&conn, &owner("co_2", "acct_2"))
        .await
        .expect_err("the same email twice");
    assert!(
        web::db::on_unique(&err, &store::ACCOUNT_EMAIL),
        "a violation of the email's uniqueness: {err}"
    );
    assert!(
        !web::db::on_unique(&err, &store::KEY_NONCE),
        "and of no other constraint: {err}"
    );
    // The failed transaction left no company behind.
    let companies: Value = json!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM companies")
            .fetch_one(&conn.pool)
            .await
            .expect("count")
    );
    assert_eq!(companies, json!(1));
    conn.pool.close().await;
}

/// `api_keys` has two unique constraints: a resubmitted form (its nonce) is
/// told apart from a clash of key hashes, on both backends.
async fn a_key_write_names_the_constraint_it_ran_into(db: &TestDb) {
    let conn = db.connect().await;
    store::create_company_with_owner(
        &conn,
        &store::NewOwner {
            company_id: "co_1",
            company_name: "Nonce",
            account_id: "acct_1",
            email: "nonce@example.com",
            name: "Nonce",
            password_hash: "not-a-real-hash",
            locale: None,
            now: CLOCK_START,
        },
    )
    .await
    .expect("owner");
    let actor = store::Actor {
        account_id: "acct_1",
        company_id: "co_1",
    };
    let event = store::NewEvent {
        company_id: Some("co_1"),
        actor_id: Some("acct_1"),
        actor: Some("nonce@example.com"),
        action: "key.created",
        target: None,
        detail: None,
        ip: None,
        at: CLOCK_START,
    };
    fn key<'a>(id: &'a str, hash: &'a keys::KeyHash, nonce: &'a str) -> store::NewKey<'a> {
        store::NewKey {
            id,
            company_id: "co_1",
            created_by: "acct_1",
            name: "K",
            environment: keys::Environment::Production,
            key_hash: hash,
            hint: "cmk_live_...abcd",
            created_at: CLOCK_START,
            expires_at: None,
            public_key: None,
            create_nonce: Some(nonce),
            allowed_ips: None,
            services: None,
        }
    }
    let hashes = [keys::KeyHash([1; 32]), keys::KeyHash([2; 32])];
    store::insert_key(&conn, &actor, &key("key_1", &hashes[0], "n1"), &event)
        .await
        .expect("first key");

    let resubmitted = store::insert_key(&conn, &actor, &key("key_2", &hashes[1], "n1"), &event)
        .await
        .expect_err("the same nonce twice");
    assert!(resubmitted.on_unique(&store::KEY_NONCE), "{resubmitted}");
    assert!(
        !resubmitted.on_unique(&store::ACCOUNT_EMAIL),
        "{resubmitted}"
    );

    let clash = store::insert_key(&conn, &actor, &key("key_3", &hashes[0], "n3"), &event)
        .await
        .expect_err("the same hash twice");
    assert!(
        !clash.on_unique(&store::KEY_NONCE),
        "a clash of hashes is no resubmission: {clash}"
    );
    let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
        .fetch_one(&conn.pool)
        .await
        .expect("count");
    assert_eq!(keys, 1, "neither refused write left a key");
    conn.pool.close().await;
}
