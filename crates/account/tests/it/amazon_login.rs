//! Authorizations started in Seller Central (the log-in URI, e.g. the
//! yearly Re-Authorize in Manage Your Apps) and the account site's Amazon
//! stores page, where an owner can disconnect a store.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::amazon::{authorize, path_of, query_param, AmazonApp};
use crate::common::{form_input, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;

/// The owner's email (the `AmazonApp` signs up a fresh one).
async fn owner_email(a: &AmazonApp) -> String {
    let r = a.app.get("/api/v1/account", Some(&a.sid)).await;
    let v = r.json();
    v["email"]
        .as_str()
        .or_else(|| v["account"]["email"].as_str())
        .unwrap_or_else(|| panic!("email in {v}"))
        .to_owned()
}

/// An attribute's value as a browser reads it.
fn unescape(v: &str) -> String {
    v.replace("&#38;", "&")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
}

async fn re_authorize_from_seller_central(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let first = a.register("First", "US").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = a.register("Second", "US").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Browser::new(&a.app);
    assert!(authorize(&a, &browser, &id)
        .await
        .text
        .contains("Store authorized"));

    // Manage Your Apps > Re-Authorize sends the seller to our log-in URI.
    let sc = testkit::Browser::new(&a.standin.url);
    let r = sc.get("/apps/manage/reauthorize").await;
    assert_eq!(r.status, StatusCode::FOUND);
    let login = r.location().unwrap().to_owned();
    assert!(
        login.starts_with(&a.app.url("/amazon/authorize/login?")),
        "{login}"
    );

    // Not signed in: to the sign-in page and back.
    let fresh = Browser::new(&a.app);
    let r = fresh.get(&path_of(&login)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let to_login = r.location().unwrap().to_owned();
    assert!(to_login.starts_with("/login?next="), "{to_login}");
    let email = owner_email(&a).await;
    let page = fresh.get(&to_login).await;
    let (csrf, next) = (
        form_input(&page.text, "/login", "csrf").unwrap(),
        unescape(&form_input(&page.text, "/login", "next").unwrap()),
    );
    let r = fresh
        .post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", &email),
                ("password", PASSWORD),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let back = r.location().unwrap().to_owned();
    assert_eq!(back, path_of(&login), "back to the log-in URI");

    // The company's stores, the seller's one picked already.
    let r = fresh.get(&back).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Choose the store to authorize"));
    assert!(r.text.contains("First") && r.text.contains("Second"));
    assert!(
        r.text.contains(&format!("value=\"{id}\" required checked")),
        "{}",
        r.text
    );
    assert!(!r
        .text
        .contains(&format!("value=\"{first}\" required checked")));
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains(&format!("form-action 'self' {}", a.standin.url)),
        "{csp}"
    );
    let action = "/amazon/authorize/login";
    let field = |name| unescape(&form_input(&r.text, action, name).unwrap());
    let (csrf, cb, amazon_state) = (
        field("csrf"),
        field("amazon_callback_uri"),
        field("amazon_state"),
    );

    // A store of another company cannot be picked; no CSRF token: refused.
    let r2 = fresh
        .post_form(
            action,
            &[
                ("csrf", &csrf),
                ("amazon_callback_uri", &cb),
                ("amazon_state", &amazon_state),
                ("store_id", "amzs_notours"),
            ],
        )
        .await;
    assert_eq!(r2.status, StatusCode::NOT_FOUND, "{}", r2.text);
    let r2 = fresh
        .post_form(
            action,
            &[
                ("amazon_callback_uri", &cb),
                ("amazon_state", &amazon_state),
                ("store_id", &id),
            ],
        )
        .await;
    assert_eq!(r2.status, StatusCode::FORBIDDEN);

    let r = fresh
        .post_form(
            action,
            &[
                ("csrf", &csrf),
                ("amazon_callback_uri", &cb),
                ("amazon_state", &amazon_state),
                ("store_id", &id),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(r.set_cookie_line("acct_amazon_state").is_some());
    let confirm = r.location().unwrap().to_owned();
    assert!(
        confirm.starts_with(&format!("{}/apps/authorize/confirm?", a.standin.url)),
        "{confirm}"
    );
    assert_eq!(
        query_param(&confirm, "redirect_uri").unwrap(),
        a.app.url("/amazon/authorize/callback")
    );
    assert_eq!(query_param(&confirm, "amazon_state").unwrap(), amazon_state);
    let state = query_param(&confirm, "state").unwrap();
    assert!(state.len() >= 43);

    // Seller Central confirms and sends the seller to the callback.
    let r = sc.get(&path_of(&confirm)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = sc
        .post_form(
            "/apps/authorize/consent",
            &[
                ("state", &state),
                ("redirect_uri", &a.app.url("/amazon/authorize/callback")),
                ("amazon_state", &amazon_state),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
    let callback = r.location().unwrap().to_owned();
    let r = fresh.get(&path_of(&callback)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Store authorized") && r.text.contains("Second"));
    let row = a.row(&id).await;
    let events = account::store::list_events(&a.app.running.state.db, &row.company_id, None, 50)
        .await
        .unwrap();
    assert!(events.iter().any(|e| e.action == "amazon_store.renewed"));
    assert_eq!(a.store(&first).await["status"], "authorization_pending");
    a.app.stop().await;
}

async fn only_seller_central_may_call_back(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    a.register("Store", "US").await;
    let browser = Browser::new(&a.app);
    assert_eq!(
        browser.login(&owner_email(&a).await, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let sc = a.standin.url.clone();
    for (uri, amazon_state) in [
        (
            "https://evil.example/apps/authorize/confirm".to_owned(),
            "s1",
        ),
        (sc.replace("http://", "https://"), "s1"),
        ("javascript:alert(1)".to_owned(), "s1"),
        (format!("{sc}/apps/authorize/confirm"), ""),
        (String::new(), "s1"),
    ] {
        let path = format!(
            "/amazon/authorize/login?amazon_callback_uri={}&amazon_state={amazon_state}",
            web::page::encode(&uri)
        );
        let r = browser.get(&path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text);
        assert!(r.text.contains("Seller Central address"), "{}", r.text);
    }
    a.app.stop().await;
}

async fn stores_page_and_disconnect(db: &TestDb) {
    let a = AmazonApp::start(db, true).await;
    let id = a.register("Shown store", "GB").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner = Browser::new(&a.app);
    assert_eq!(
        owner.login(&owner_email(&a).await, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let r = owner.get("/account/amazon-stores").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Shown store") && r.text.contains("Authorization pending"));
    assert!(!r.text.contains("Disconnect"), "nothing to disconnect yet");

    assert!(authorize(&a, &owner, &id)
        .await
        .text
        .contains("Store authorized"));
    let r = owner.get("/account/amazon-stores").await;
    assert!(
        r.text.contains("Active") && r.text.contains("A1STANDINSELLER"),
        "{}",
        r.text
    );
    let action = format!("/account/amazon-stores/{id}/disconnect");
    let csrf = form_input(&r.text, &action, "csrf").expect("a Disconnect form");

    // A member sees the stores, but cannot disconnect.
    let member_email = crate::common::unique_email("member");
    let (_, member_sid) = a.app.join(&a.sid, &member_email).await;
    let member = Browser::new(&a.app);
    member.set_cookie("acct_sid", &member_sid);
    let r = member.get("/account/amazon-stores").await;
    assert!(
        r.text.contains("Shown store") && !r.text.contains(&action),
        "{}",
        r.text
    );
    let member_csrf = member.cookie("acct_csrf").unwrap();
    let r = member.post_button(&action, &member_csrf).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(a.store(&id).await["status"], "active");

    // In Dutch.
    let nl = Browser::new(&a.app);
    nl.set_cookie("acct_sid", &a.sid);
    nl.set_cookie("acct_lang", "nl");
    let r = nl.get("/account/amazon-stores").await;
    assert!(
        r.text.contains("Amazon-winkels") && r.text.contains("Actief"),
        "{}",
        r.text
    );

    let r = owner.post_button(&action, &csrf).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let store = a.store(&id).await;
    assert_eq!(store["status"], "reauthorization_required");
    assert_eq!(store["reason"], "revoked");
    assert!(a.row(&id).await.refresh_token_enc.is_none());
    let r = owner.get(r.location().unwrap()).await;
    assert!(r.text.contains("was disconnected"), "{}", r.text);
    let events = account::store::list_events(
        &a.app.running.state.db,
        &a.row(&id).await.company_id,
        None,
        50,
    )
    .await
    .unwrap();
    assert!(events
        .iter()
        .any(|e| e.action == "amazon_store.disconnected"));
    a.app.stop().await;
}

both_backends!(
    re_authorize_from_seller_central,
    only_seller_central_may_call_back,
    stores_page_and_disconnect,
);
