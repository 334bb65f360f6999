//! Hardening, round 3 (issue 28), the small ones, on SQLite and PostgreSQL:
//! emails that read like another refused everywhere an email is taken, an
//! absolute-form request URI naming a foreign host, a date that does not
//! exist named as such, and a failed sign-in's audit record written after
//! the answer (never lost).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::{unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_backends!(
    emails_that_read_like_another_are_refused,
    absolute_form_requests_name_an_allowed_host,
    a_date_that_does_not_exist_has_its_own_message,
    a_failed_sign_in_is_audited_after_the_answer,
    pipelined_requests_with_chunked_bodies_are_all_answered,
    a_company_holds_at_most_500_live_keys_and_the_list_is_paged,
    a_sandbox_key_sees_only_sandbox_stores,
);

/// Invisible or format characters, consecutive dots and mixed scripts in
/// one label: refused (422) at sign-up, invitation, email change and an
/// Amazon store's email.
async fn emails_that_read_like_another_are_refused(db: &TestDb) {
    let app = App::start(db).await;
    let owner = unique_email("owner");
    let sid = app.signup(&owner, "Owner Co").await;
    let key = app.create_key(&sid, json!({"name": "store"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::new(&app);
    assert_eq!(
        browser.login(&owner, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let bad = [
        "a\u{200b}b@example.com",
        "ab@exa\u{202e}mple.com",
        "a..b@example.com",
        "ab@example..com",
        "ab@p\u{0430}ypal.com",
    ];
    for email in bad {
        let r = app
            .post_json(
                "/api/v1/signup",
                None,
                &json!({"email": email, "password": PASSWORD, "name": "N", "company": "C"}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "sign-up {email:?}: {}",
            r.text
        );
        let r = app
            .post_json("/api/v1/invitations", Some(&sid), &json!({"email": email}))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invitation {email:?}: {}",
            r.text
        );
        let r = browser
            .submit(
                "/account",
                "/account/profile",
                &[
                    ("name", "Owner"),
                    ("email", email),
                    ("profile_password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "email change {email:?}"
        );
        let r = app
            .http
            .post(app.url("/amazon/v1/stores"))
            .header("x-api-key", &key)
            .json(&json!({"name": "Shop", "email": email, "country": "US",
                          "website_url": "https://shop.example"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "store email {email:?}"
        );
    }
    // Nothing of it reached the outbox.
    let queued = account::store::unsent_messages(&app.running.state.db, 0, i64::MAX, 10_000)
        .await
        .unwrap();
    assert!(queued.iter().all(|m| !bad.contains(&m.recipient.as_str())));
    app.stop().await;
}

/// `GET http://other.example/login HTTP/1.1` with an allowed `Host`: the
/// URI's authority is checked too (421), as the `Host` header is.
async fn absolute_form_requests_name_an_allowed_host(db: &TestDb) {
    let app = App::start(db).await;
    let addr = app.url("").trim_start_matches("http://").to_owned();
    let raw = |target: String| {
        let addr = addr.clone();
        async move {
            let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            s.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        }
    };
    let out = raw("http://evil.example/login".into()).await;
    assert!(out.starts_with("HTTP/1.1 421"), "{out}");
    let out = raw(format!("http://{addr}/login")).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let out = raw("/login".into()).await;
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    app.stop().await;
}

/// 2027-02-29 is in the format but not in the calendar: its own message,
/// in the API and on the API Portal's form.
async fn a_date_that_does_not_exist_has_its_own_message(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("dates");
    let sid = app.signup(&email, "Dates Co").await;
    let r = app
        .post_json(
            "/api/v1/keys",
            Some(&sid),
            &json!({"name": "leap", "expires_at": "2027-02-29T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("does not exist"), "{}", r.text);
    let r = app
        .post_json(
            "/api/v1/keys",
            Some(&sid),
            &json!({"name": "junk", "expires_at": "next tuesday"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.text.contains("does not exist"), "{}", r.text);

    let browser = Browser::new(&app);
    assert_eq!(
        browser.login(&email, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let r = browser
        .submit(
            "/account/api-portal",
            "/account/api-portal",
            &[
                ("name", "leap"),
                ("expiry", "custom"),
                ("expiry_date", "2027-02-29"),
                ("signing", "none"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains("That date does not exist in the calendar"),
        "{}",
        r.text
    );
    app.stop().await;
}

/// A wrong password for a known email answers without waiting for its audit
/// record (so it costs what an unknown email costs), and the record is
/// still written.
async fn a_failed_sign_in_is_audited_after_the_answer(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("audited");
    let sid = app.signup(&email, "Audited Co").await;
    let r = app.login_raw(&email, "not the password!").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let unknown = app
        .login_raw(&unique_email("nobody"), "not the password!")
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let (a, b) = (r.json(), unknown.json());
    assert_eq!(a["error"]["code"], b["error"]["code"], "the same answer");
    assert_eq!(
        a["error"]["message"], b["error"]["message"],
        "the same answer"
    );
    let mut found = false;
    for _ in 0..100 {
        let audit = app.get("/api/v1/audit", Some(&sid)).await;
        if audit.text.contains("session.sign_in_failed") {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(found, "the failed sign-in is in the audit log");
    app.stop().await;
}

/// Requests sent back to back before any answer, with chunked bodies (in
/// several chunks) and bodies of a known length, on the routes the edge
/// answers itself and on routed ones: each is answered, in order.
async fn pipelined_requests_with_chunked_bodies_are_all_answered(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("pipe"), "Pipe Co").await;
    let key = app.create_key(&sid, json!({"name": "k"})).await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let addr = app.url("").trim_start_matches("http://").to_owned();
    let chunked = |method: &str, path: &str, extra: &str, body: &str| {
        let (a, b) = body.split_at(body.len() / 2);
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n{extra}\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        )
    };
    let sized = |method: &str, path: &str, extra: &str, body: &str| {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n{extra}\r\n{body}",
            body.len()
        )
    };
    let with_key = format!("X-Api-Key: {key}\r\n");
    let gateway_key = format!("magento-api-key: {key}\r\n");
    let login = r#"{"email":"nobody@example.com","password":"not the password!"}"#;
    let requests = [
        (
            chunked(
                "POST",
                "/api/v1/keys/verify",
                &with_key,
                "{\"ignored\": true}",
            ),
            "200",
        ),
        (chunked("POST", "/api/v1/login", "", login), "401"),
        (
            chunked("GET", "/gateway/apikeycheck", &gateway_key, "ignored body"),
            "200",
        ),
        (sized("POST", "/api/v1/keys/verify", &with_key, "{}"), "200"),
        (chunked("POST", "/api/v1/login", "", login), "401"),
        (sized("GET", "/healthz", "Connection: close\r\n", ""), "200"),
    ];
    let all: String = requests.iter().map(|(r, _)| r.as_str()).collect();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(all.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        s.read_to_string(&mut out),
    )
    .await
    .expect("every answer, then the close")
    .unwrap();
    let statuses: Vec<&str> = out
        .match_indices("HTTP/1.1 ")
        .map(|(i, m)| &out[i + m.len()..i + m.len() + 3])
        .collect();
    let expected: Vec<&str> = requests.iter().map(|(_, s)| *s).collect();
    assert_eq!(statuses, expected, "{out}");
    app.stop().await;
}

/// At most 500 live keys per company, counted under the company's lock:
/// creations fired in parallel at 499 let exactly one through; a roll at
/// the cap is refused too; a revoked key makes room. The list comes a page
/// at a time with a `Link` to the next.
async fn a_company_holds_at_most_500_live_keys_and_the_list_is_paged(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("many");
    let sid = app.signup(&email, "Many Keys Co").await;
    let state = &app.running.state;
    let owner = account::store::credentials_by_email(&state.db, &email)
        .await
        .unwrap()
        .unwrap()
        .account;
    let now = web::Clock::now(&*state.clock);
    let made: Vec<(String, keys::ApiKey)> = (0..499)
        .map(|i| {
            (
                format!("key_bulk{i:04}"),
                keys::ApiKey::generate(keys::Environment::Production),
            )
        })
        .collect();
    let hashes: Vec<(keys::KeyHash, String)> =
        made.iter().map(|(_, k)| (k.hash(), k.hint())).collect();
    let rows: Vec<account::store::NewKey> = made
        .iter()
        .zip(&hashes)
        .enumerate()
        .map(|(i, ((id, _), (hash, hint)))| account::store::NewKey {
            id,
            company_id: &owner.company_id,
            created_by: &owner.id,
            name: "bulk",
            environment: keys::Environment::Production,
            key_hash: hash,
            hint,
            created_at: now - 1000 + i as i64,
            expires_at: None,
            public_key: None,
            create_nonce: None,
            allowed_ips: None,
            services: None,
        })
        .collect();
    account::store::insert_keys_bulk(&state.db, &rows)
        .await
        .unwrap();

    // Eight at once at 499: one gets the last place.
    let attempts = (0..8).map(|i| {
        let (app, sid) = (&app, sid.clone());
        async move {
            app.post_json(
                "/api/v1/keys",
                Some(&sid),
                &json!({"name": format!("race {i}")}),
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let created = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(
        created,
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert_eq!(r.json()["error"]["code"], "too_many_keys");
    }
    let r = app
        .post_json(
            &format!("/api/v1/keys/{}/roll", made[0].0),
            Some(&sid),
            &json!({"grace_seconds": 3600}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a roll adds a key too: {}",
        r.text
    );
    // A revoked key makes room for one more.
    let r = app
        .delete(&format!("/api/v1/keys/{}", made[1].0), Some(&sid))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app
        .post_json("/api/v1/keys", Some(&sid), &json!({"name": "room"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    // 501 keys in all (one revoked): pages of 200, 200 and 101.
    let mut seen = std::collections::HashSet::new();
    let mut next = Some("/api/v1/keys?per_page=200".to_owned());
    let mut sizes = Vec::new();
    while let Some(path) = next {
        let r = app.get(&path, Some(&sid)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let keys = r.json()["keys"].as_array().unwrap().clone();
        sizes.push(keys.len());
        for k in keys {
            assert!(
                seen.insert(k["id"].as_str().unwrap().to_owned()),
                "each key once"
            );
        }
        next = r
            .headers
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned())
            .map(|l| {
                assert!(l.ends_with(">; rel=\"next\""), "{l}");
                l[1..l.find('>').unwrap()].to_owned()
            });
    }
    assert_eq!(sizes, [200, 200, 101]);
    // Without a page: the first 100, newest first.
    let r = app.get("/api/v1/keys", Some(&sid)).await;
    let first = r.json()["keys"].as_array().unwrap().clone();
    assert_eq!(first.len(), 100);
    // (The two API-made keys may share their second: either comes first.)
    assert!(
        first[..2].iter().any(|k| k["name"] == "room"),
        "newest first"
    );
    assert!(r.headers.get("link").is_some());
    for bad in [
        "?per_page=0",
        "?per_page=501",
        "?page=0",
        "?page=x",
        "?per_page=-3",
    ] {
        let r = app.get(&format!("/api/v1/keys{bad}"), Some(&sid)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text
        );
    }
    app.stop().await;
}

/// A store registered with a Sandbox key is seen and acted on with Sandbox
/// keys only, and a Production store with Production keys only: the other
/// environment's store is 404 on every route, as another company's is.
async fn a_sandbox_key_sees_only_sandbox_stores(db: &TestDb) {
    let app = App::start(db).await;
    let sid = app.signup(&unique_email("envs"), "Envs Co").await;
    let key = |env: &'static str| {
        let (app, sid) = (&app, sid.clone());
        async move {
            app.create_key(&sid, json!({"name": env, "environment": env}))
                .await["key"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (live, test) = (key("production").await, key("sandbox").await);
    let call =
        |method: reqwest::Method, path: String, key: String, body: Option<serde_json::Value>| {
            let app = &app;
            async move {
                let mut req = app
                    .http
                    .request(method, app.url(&path))
                    .header("x-api-key", key);
                if let Some(b) = body {
                    req = req.json(&b);
                }
                crate::common::Resp::read(req.send().await.unwrap()).await
            }
        };
    let register = |key: String, name: &'static str| {
        let body = json!({"name": name, "email": "shop@example.com", "country": "US",
                          "website_url": "https://shop.example"});
        let call = &call;
        async move {
            let r = call(
                reqwest::Method::POST,
                "/amazon/v1/stores".into(),
                key,
                Some(body),
            )
            .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            r.json()["id"].as_str().unwrap().to_owned()
        }
    };
    let live_store = register(live.clone(), "Live shop").await;
    let test_store = register(test.clone(), "Test shop").await;
    for (key, mine, theirs) in [
        (&live, &live_store, &test_store),
        (&test, &test_store, &live_store),
    ] {
        let r = call(
            reqwest::Method::GET,
            "/amazon/v1/stores".into(),
            key.clone(),
            None,
        )
        .await;
        let ids: Vec<String> = r.json()["stores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            ids,
            std::slice::from_ref(mine),
            "only its own environment's store"
        );
        let r = call(
            reqwest::Method::GET,
            format!("/amazon/v1/stores/{mine}"),
            key.clone(),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        for (method, path, body) in [
            (
                reqwest::Method::GET,
                format!("/amazon/v1/stores/{theirs}"),
                None,
            ),
            (
                reqwest::Method::PATCH,
                format!("/amazon/v1/stores/{theirs}"),
                Some(json!({"active": false})),
            ),
            (
                reqwest::Method::POST,
                format!("/amazon/v1/stores/{theirs}/connect-links"),
                None,
            ),
            (
                reqwest::Method::POST,
                format!("/amazon/v1/stores/{theirs}/check"),
                None,
            ),
            (
                reqwest::Method::DELETE,
                format!("/amazon/v1/stores/{theirs}"),
                None,
            ),
        ] {
            let r = call(method.clone(), path.clone(), key.clone(), body).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{method} {path}: {}",
                r.text
            );
        }
    }
    // Both stores are still there.
    for (key, mine) in [(&live, &live_store), (&test, &test_store)] {
        let r = call(
            reqwest::Method::GET,
            format!("/amazon/v1/stores/{mine}"),
            key.clone(),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    app.stop().await;
}
