//! Amazon stores in Store Integration against the real account service
//! (SQLite and PostgreSQL): a store saved while the account service is down
//! is kept and registered on the next open; Amazon not set up on the account
//! service is named, never a 500; the Admin's JSON API refuses bad input
//! clearly. The authorization itself: amazon_connect.rs.

use crate::common::{Account, Admin, Browser, Env};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_backends!(
    saved_while_down_then_registered_on_next_open,
    amazon_not_configured,
    api_refusals,
    signed_requests,
);

const STORES: &str = "/admin/api/v1/channels/amazon/stores";

/// A signed-up company with a Production key stored in the Admin; returns the key.
async fn with_key(acct: &Account, admin: &Admin) -> String {
    let owner = acct.signup().await;
    let (_, key) = acct.create_key(&owner, json!({"name": "prod"})).await;
    admin.store_key(&key).await;
    key
}

/// A call to the Admin's JSON API as a signed-in admin.
async fn api(
    admin: &Admin,
    method: Method,
    path: &str,
    sid: &str,
    body: Option<Value>,
) -> crate::common::Resp {
    let mut req = admin
        .http
        .request(method, admin.url(path))
        .header("cookie", format!("adm_sid={sid}"));
    if let Some(b) = body {
        req = req.json(&b);
    }
    crate::common::Resp::read(req.send().await.expect("request")).await
}

/// The company's stores as the account service lists them to its key.
async fn remote_stores(acct: &Account, key: &str) -> Vec<Value> {
    let r = acct
        .http
        .get(format!("{}/amazon/v1/stores", acct.base))
        .header("x-api-key", key)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    v["stores"].as_array().expect("stores").clone()
}

fn store_form<'a>(csrf: &'a str, name: &'a str) -> [(&'a str, &'a str); 5] {
    [
        ("csrf", csrf),
        ("name", name),
        ("email", "shop@example.com"),
        ("website", "base"),
        ("marketplace", "US"),
    ]
}

async fn saved_while_down_then_registered_on_next_open(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let key = with_key(&acct, &admin).await;
    let sid = admin.api_login().await;
    let b = Browser::new(&admin);
    b.sign_in().await;
    let r = b.get("/admin/amazon").await;
    assert!(r.text.contains("No Amazon stores yet."));
    let csrf = b.csrf();

    // The account service goes down; the merchant saves the form it had open.
    let (db, addr, clock) = (acct.db.clone(), acct.running.addr, acct.clock.clone());
    acct.stop().await;
    let r = b
        .post_form("/admin/amazon/stores", &store_form(&csrf, "Down Store"))
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    assert_eq!(r.location(), Some("/admin/amazon?saved=1"));
    let r = b.get("/admin/amazon?saved=1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("data-key-status=\"unreachable\""));
    assert!(
        r.text.contains("Your Amazon store was saved."),
        "{}",
        r.text
    );
    // And through the API: 201, saved, not registered yet.
    let r = api(
        &admin,
        Method::POST,
        STORES,
        &sid,
        Some(json!({"name": "Api Store", "email": "api@example.com", "website": "base", "country": "GB"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let created = r.json();
    assert_eq!(created["remote_id"], Value::Null);
    assert_eq!(created["status"], "authorization_pending");
    assert_eq!(created["country"], "GB");
    assert_eq!(created["website"], "base");
    let saved = admin.amazon_stores().await;
    assert_eq!(saved.len(), 2);
    assert!(saved.iter().all(|s| s.remote_id.is_none()));
    // Listing while down: the last known, said so.
    let r = api(&admin, Method::GET, STORES, &sid, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let listed = r.json();
    assert_eq!(listed["synced"], false);
    assert_eq!(listed["stores"].as_array().map(Vec::len), Some(2));
    // Connecting needs the account service: a clear 503, nothing changed.
    let id = created["id"].as_str().expect("id").to_owned();
    let r = api(
        &admin,
        Method::POST,
        &format!("{STORES}/{id}/connect"),
        &sid,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "account_service_unreachable");

    // It comes back (same address, same data): the next open registers both.
    let acct = Account::start_on(db, &addr.to_string(), account::Config::default(), clock).await;
    let r = b.get("/admin/amazon").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("data-key-status=\"valid\""), "{}", r.text);
    assert!(!r.text.contains("data-unregistered"), "{}", r.text);
    assert!(!r.text.contains("data-last-known"));
    assert!(r.text.contains("Down Store") && r.text.contains("Api Store"));
    let saved = admin.amazon_stores().await;
    let remote = remote_stores(&acct, &key).await;
    assert_eq!(remote.len(), 2, "registered once each: {remote:?}");
    for s in &saved {
        let rid = s.remote_id.as_deref().expect("registered");
        let r = remote
            .iter()
            .find(|r| r["id"] == rid)
            .expect("listed remotely");
        assert_eq!(r["name"], s.name.as_str());
        assert_eq!(r["country"], s.marketplace.as_str());
        assert_eq!(r["status"], "authorization_pending");
        assert_eq!(r["website_url"], admin.base.as_str(), "the Admin's address");
    }
    // Opening again registers nothing twice.
    b.get("/admin/amazon").await;
    assert_eq!(remote_stores(&acct, &key).await.len(), 2);
    // The audit log names the registrations, never a secret.
    let r = b.get("/admin/audit").await;
    assert!(
        r.text.contains("Amazon store registered: Down Store (US)"),
        "{}",
        r.text
    );
    assert!(!r.text.contains(&key));

    // Down again: what needs it is refused clearly and nothing is removed.
    acct.stop().await;
    let down = &saved[0];
    let r = b
        .post_button(&format!("/admin/amazon/stores/{}/connect", down.id), &csrf)
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(
        r.text.contains("The account service did not answer"),
        "{}",
        r.text
    );
    let r = api(
        &admin,
        Method::DELETE,
        &format!("{STORES}/{}", down.id),
        &sid,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "account_service_unreachable");
    let r = b
        .post_button(&format!("/admin/amazon/stores/{}/delete", down.id), &csrf)
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    let kept = admin.amazon_stores().await;
    assert_eq!(
        kept.len(),
        2,
        "nothing removed while the account service is down"
    );

    admin.stop().await;
}

async fn amazon_not_configured(env: &Env) {
    // Listing and registering work without Amazon; connecting does not.
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    with_key(&acct, &admin).await;
    let sid = admin.api_login().await;
    let b = Browser::new(&admin);
    b.sign_in().await;
    b.get("/admin/amazon").await;
    let csrf = b.csrf();
    let r = b
        .post_form("/admin/amazon/stores", &store_form(&csrf, "Plain Store"))
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    let r = b.get("/admin/amazon?saved=1").await;
    assert!(r.text.contains("The Amazon store was saved."));
    assert!(r.text.contains(">Connect store</button>"), "{}", r.text);
    assert!(r.text.contains("data-connect"));
    let s = admin.amazon_stores().await.remove(0);
    assert!(s.remote_id.is_some(), "registered without Amazon set up");

    // Connect store: the new tab explains, in the admin's language.
    let r = b
        .post_button(&format!("/admin/amazon/stores/{}/connect", s.id), &csrf)
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(
        r.text.contains("Amazon authorization is not set up"),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains("The service operator has not set up Amazon authorization"));
    let nl = Browser::with_language(&admin, "nl");
    nl.sign_in().await;
    nl.get("/admin/amazon").await;
    let r = nl
        .post_form(
            &format!("/admin/amazon/stores/{}/connect", s.id),
            &[("csrf", &nl.csrf())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.text.contains("Amazon-autorisatie is niet ingesteld"),
        "{}",
        r.text
    );
    // The API passes the account service's code on.
    for path in ["connect", "check"] {
        let r = api(
            &admin,
            Method::POST,
            &format!("{STORES}/{}/{path}", s.id),
            &sid,
            None,
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{path}: {}",
            r.text
        );
        assert_eq!(r.json()["error"]["code"], "amazon_not_configured", "{path}");
    }
    // Deactivating and deleting need no Amazon.
    let r = api(
        &admin,
        Method::PATCH,
        &format!("{STORES}/{}", s.id),
        &sid,
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "inactive");
    let r = api(
        &admin,
        Method::DELETE,
        &format!("{STORES}/{}", s.id),
        &sid,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    admin.stop().await;
    acct.stop().await;
}

async fn api_refusals(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let sid = admin.api_login().await;

    // Not signed in: 401.
    let r = admin.get(STORES, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // No key stored: the list is empty; connecting a store says why it cannot.
    let r = api(&admin, Method::GET, STORES, &sid, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["stores"], json!([]));
    // Bad fields: 422 naming each, nothing saved.
    let r = api(
        &admin,
        Method::POST,
        STORES,
        &sid,
        Some(json!({"name": "", "email": "x@", "website": "nope", "country": "JP"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let message = r.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for field in ["name", "email", "website", "country"] {
        assert!(
            message.contains(&format!("{field}: ")),
            "{field}: {message}"
        );
    }
    assert!(!message.contains("marketplace: "), "{message}");
    for body in [
        json!({"name": "A"}),
        json!({"name": "A", "email": "a@example.com", "website": "base", "country": "US", "x": 1}),
    ] {
        let r = api(&admin, Method::POST, STORES, &sid, Some(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    }
    assert!(admin.amazon_stores().await.is_empty());
    // Saved without a key: kept, not registered; connect names the key.
    let r = api(
        &admin,
        Method::POST,
        STORES,
        &sid,
        Some(
            json!({"name": "No Key", "email": "a@example.com", "website": "base", "country": "us"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let r = api(
        &admin,
        Method::POST,
        &format!("{STORES}/{id}/connect"),
        &sid,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "key_not_usable");
    // Unknown stores: 404; a bad PATCH body: 422.
    for (method, path) in [
        (Method::POST, format!("{STORES}/amz_nope/connect")),
        (Method::POST, format!("{STORES}/amz_nope/check")),
        (Method::DELETE, format!("{STORES}/amz_nope")),
    ] {
        let r = api(&admin, method, &path, &sid, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
    }
    let r = api(
        &admin,
        Method::PATCH,
        &format!("{STORES}/{id}"),
        &sid,
        Some(json!({"active": "yes"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    // From another site: refused.
    let r = admin
        .http
        .delete(admin.url(&format!("{STORES}/{id}")))
        .header("cookie", format!("adm_sid={sid}"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The pages refuse the same clearly.
    let b = Browser::new(&admin);
    b.sign_in().await;
    b.get("/admin/amazon").await;
    let csrf = b.csrf();
    let r = b.get("/admin/amazon/stores/amz_nope/delete").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b
        .post_form(
            &format!("/admin/amazon/stores/{id}/active"),
            &[("csrf", &csrf), ("active", "maybe")],
        )
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.text);
    let r = b
        .post_button(&format!("/admin/amazon/stores/{id}/connect"), &csrf)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(r.text.contains("The API key cannot be used"), "{}", r.text);

    // Unregistered, it deletes without the account service.
    let r = api(
        &admin,
        Method::DELETE,
        &format!("{STORES}/{id}"),
        &sid,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);

    admin.stop().await;
    acct.stop().await;
}

async fn set_private(admin: &Admin, pem: &str) {
    admin
        .config()
        .set(
            admin::config::PRODUCTION_PRIVATE_KEY,
            pem,
            admin::config::ScopeRef::DEFAULT,
            web::Clock::now(&web::SystemClock),
        )
        .await
        .expect("store the private key");
}

/// With a Production Private key configured, the stores client signs as the
/// gate does (one helper): a key registered with a public key is served,
/// and a private key of another pair is refused on both.
async fn signed_requests(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let pair = keys::jwt::PrivateKey::generate().expect("a key pair");
    let (_, key) = acct
        .create_key(
            &owner,
            json!({"name": "signed", "public_key": pair.public_key().to_pem()}),
        )
        .await;
    admin.store_key(&key).await;
    let sid = admin.api_login().await;
    let body =
        json!({"name": "Signed", "email": "s@example.com", "website": "base", "country": "CA"});

    // Without its private key the gate does not call the key valid, and says why.
    let status = admin.key_status(&sid).await;
    assert_eq!(
        (&status["status"], &status["reason"]),
        (&json!("invalid"), &json!("private_key_missing")),
        "{status}"
    );

    // Unsigned, a key with a public key is refused: saved, not registered,
    // and the answer says why (the account service answered: not "unreachable").
    let r = api(&admin, Method::POST, STORES, &sid, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["remote_id"], Value::Null);
    assert_eq!(r.json()["registration_problem"], "signature_required");
    let r = api(&admin, Method::GET, STORES, &sid, None).await;
    let listed = r.json();
    assert_eq!(listed["synced"], false);
    assert_eq!(listed["problem"]["code"], "signature_required", "{listed}");
    assert!(
        listed["problem"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Production Private key")),
        "{listed}"
    );
    assert_eq!(
        listed["stores"][0]["registration_problem"],
        "signature_required"
    );

    // Signed with the pair's private key: registered on the next open.
    set_private(&admin, &pair.to_pem()).await;
    assert_eq!(admin.key_status(&sid).await["status"], "valid");
    let r = api(&admin, Method::GET, STORES, &sid, None).await;
    let listed = r.json();
    assert_eq!(listed["synced"], true, "{listed}");
    assert_eq!(listed["problem"], Value::Null, "{listed}");
    assert!(listed["stores"][0]["remote_id"].is_string(), "{listed}");
    assert!(listed["stores"][0].get("registration_problem").is_none());
    // The account service really asks for the signature.
    let unsigned = acct
        .http
        .get(format!("{}/amazon/v1/stores", acct.base))
        .header("x-api-key", &key)
        .send()
        .await
        .expect("request");
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);

    // Another pair's private key: refused, said so, nothing lost.
    let other = keys::jwt::PrivateKey::generate().expect("a key pair");
    set_private(&admin, &other.to_pem()).await;
    assert_eq!(admin.key_status(&sid).await["reason"], "signature_rejected");
    let r = api(&admin, Method::GET, STORES, &sid, None).await;
    let listed = r.json();
    assert_eq!(listed["synced"], false);
    assert_eq!(listed["problem"]["code"], "signature_rejected", "{listed}");
    assert_eq!(listed["stores"].as_array().map(Vec::len), Some(1));
    let id = listed["stores"][0]["id"].as_str().expect("id").to_owned();
    let r = api(
        &admin,
        Method::POST,
        &format!("{STORES}/{id}/connect"),
        &sid,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], "signature_rejected");

    admin.stop().await;
    acct.stop().await;
}

/// An account service that finds the key valid and refuses every store call
/// with `status` and error `code`, as the real one does for the refusals
/// that cannot be brought about between the gate's check and the stores' sync.
async fn refusing_account_service(
    status: u16,
    code: &'static str,
) -> (String, tokio::task::JoinHandle<()>) {
    use axum::routing::{any, post};
    let refuse = move || async move {
        let status = axum::http::StatusCode::from_u16(status).expect("a status");
        let body = json!({"error": {"code": code, "message": "refused"}});
        (status, axum::Json(body))
    };
    let app = axum::Router::new()
        .route(
            "/api/v1/keys/verify",
            post(|| async {
                axum::Json(json!({"valid": true, "status": "valid", "environment": "production"}))
            }),
        )
        .route("/amazon/v1/stores", any(refuse))
        .route("/amazon/v1/stores/{*rest}", any(refuse));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

/// Store Integration names each refusal of the account service for what it
/// is, on the page (in English and Dutch), on the unregistered store's row,
/// and in the JSON API; only a service that did not answer is "could not be asked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_refusal_has_its_own_message() {
    use admin::amazon_stores::SyncProblem;
    use admin::i18n::CATALOG;
    use web::i18n::Lang;

    let cases = [
        (403, "invalid_signature", SyncProblem::SignatureRequired),
        (401, "revoked", SyncProblem::KeyRefused),
        (503, "amazon_not_configured", SyncProblem::NotConfigured),
        (422, "invalid_field", SyncProblem::Refused),
        (500, "internal", SyncProblem::Unreachable),
    ];
    // Each problem says something of its own, in both languages.
    for lang in Lang::ALL {
        let mut seen = std::collections::BTreeSet::new();
        for p in SyncProblem::ALL {
            for key in [p.catalog_key(), p.row_key()] {
                let text = CATALOG.get(lang, key);
                assert_ne!(text, key, "{lang:?}: {key} has no text");
                assert!(seen.insert(text), "{lang:?}: {key} repeats another's text");
            }
        }
    }
    for (status, code, problem) in cases {
        let env = Env::sqlite();
        let (url, task) = refusing_account_service(status, code).await;
        let admin = Admin::start(&env, Some(url)).await;
        admin
            .store_key(keys::ApiKey::generate(keys::Environment::Production).expose())
            .await;
        let sid = admin.api_login().await;
        let body = json!({"name": "Refused", "email": "r@example.com", "website": "base", "country": "US"});
        let r = api(&admin, Method::POST, STORES, &sid, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.json()["registration_problem"], problem.code(), "{status}");
        let listed = api(&admin, Method::GET, STORES, &sid, None).await.json();
        assert_eq!(listed["synced"], false);
        assert_eq!(
            listed["problem"]["code"],
            problem.code(),
            "{status}: {listed}"
        );
        assert_eq!(listed["problem"]["message"], problem.message());
        assert_eq!(listed["stores"][0]["registration_problem"], problem.code());

        let mut b = Browser::new(&admin);
        b.sign_in().await;
        for lang in Lang::ALL {
            b.accept_language = Some(lang.code().into());
            let page = b.get("/admin/amazon").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(
                page.text.contains("data-key-status=\"valid\""),
                "{}",
                page.text
            );
            let says = |key: &str| {
                page.text
                    .contains(&testkit::html_escaped(CATALOG.get(lang, key)))
            };
            assert!(
                page.text
                    .contains(&format!("data-sync-problem=\"{}\"", problem.code())),
                "{status}: {}",
                page.text
            );
            assert!(
                says(problem.catalog_key()),
                "{lang:?} {status}: {}",
                page.text
            );
            assert!(
                says(problem.row_key()),
                "{lang:?} {status}: the row says why"
            );
            // Only this problem's words; "could not be asked" only when it did not answer.
            for other in SyncProblem::ALL.into_iter().filter(|o| *o != problem) {
                assert!(!says(other.catalog_key()), "{lang:?} {status}: {other:?}");
            }
            let unreachable = page.text.contains("data-last-known");
            assert_eq!(unreachable, problem == SyncProblem::Unreachable, "{status}");
        }
        admin.stop().await;
        task.abort();
    }
}
