//! Key policy (SPEC §10) at the Amazon Sales Channel gate, against the real
//! account service: a key that is disabled, limited to other addresses or
//! limited to other services is `invalid` with a reason of its own (in
//! key-status and on the channel page, in English and Dutch), and valid
//! again as soon as the limit is lifted. Both ways of asking: unsigned
//! (`/api/v1/keys/verify`) and signed (`/merchant-registry/v1/ping`, with the
//! Production Private key stored). Store Integration names the same reason
//! when the account service refuses its calls.

use crate::common::{Account, Admin, Browser, Env};
use admin::gate::Reason;
use admin::i18n::CATALOG;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use web::i18n::Lang;

both_backends!(policy_on_the_verify_path, policy_on_the_ping_path);

const STORES: &str = "/admin/api/v1/channels/amazon/stores";

/// The account service with one service of the operator's besides the
/// Amazon Sales Channel, so that a key can be limited to another.
fn with_billing() -> account::Config {
    account::Config {
        services: account::key_policy::ServiceCatalog::parse(&["billing=Billing"])
            .expect("a service catalog"),
        ..account::Config::default()
    }
}

/// Each policy: its reason, the change that limits the key, and the change
/// that lifts the limit again.
fn policies() -> [(Reason, Value, Value); 3] {
    [
        (
            Reason::KeyDisabled,
            json!({"disabled": true}),
            json!({"disabled": false}),
        ),
        (
            Reason::IpNotAllowed,
            json!({"allowed_ips": ["203.0.113.7", "10.0.0.0/8"]}),
            json!({"allowed_ips": null}),
        ),
        (
            Reason::InsufficientScope,
            json!({"services": ["billing"]}),
            json!({"services": null}),
        ),
    ]
}

/// `PATCH /api/v1/keys/{id}` as the company's owner; asserts 200.
async fn patch_key(acct: &Account, owner: &str, id: &str, body: &Value) {
    let req = acct
        .http
        .patch(acct.url(&format!("/api/v1/keys/{id}")))
        .json(body);
    let r = acct.send(req, Some(owner)).await;
    assert_eq!(r.status, StatusCode::OK, "PATCH {body}: {}", r.text);
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

/// The gate calls the key valid: key-status, and the page opens Store Integration.
async fn says_valid(admin: &Admin, sid: &str, b: &mut Browser<'_>, what: &str) {
    let v = admin.key_status(sid).await;
    assert_eq!(v["status"], "valid", "{what}: {v}");
    assert!(v.get("reason").is_none(), "{what}: {v}");
    b.accept_language = None;
    let r = b.get("/admin/amazon").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("data-key-status=\"valid\""),
        "{what}: {}",
        r.text
    );
    assert!(!r.text.contains("data-reason="), "{what}");
}

/// The gate calls the key `invalid` for `reason`: key-status carries its
/// code; the page, in each language, its code and its sentence, and keeps
/// Store Integration closed.
async fn says_refused(admin: &Admin, sid: &str, b: &mut Browser<'_>, reason: Reason) {
    let v = admin.key_status(sid).await;
    assert_eq!(
        (&v["status"], &v["reason"]),
        (&json!("invalid"), &json!(reason.as_str())),
        "{v}"
    );
    assert!(v["key_hint"].is_string(), "the other fields stay: {v}");
    for lang in Lang::ALL {
        let text = CATALOG.get(lang, reason.catalog_key());
        assert_ne!(text, reason.catalog_key(), "{lang:?}: a sentence");
        b.accept_language = Some(lang.code().into());
        let r = b.get("/admin/amazon").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text.contains(&format!("<html lang=\"{}\">", lang.code())));
        assert!(
            r.text.contains("data-key-status=\"invalid\""),
            "{lang:?} {}: {}",
            reason.as_str(),
            r.text
        );
        assert!(
            r.text.contains(&format!(
                "data-reason=\"{0}\">{1} <code>{0}</code>",
                reason.as_str(),
                CATALOG.get(lang, "welcome.reason_code")
            )),
            "{lang:?} names {}: {}",
            reason.as_str(),
            r.text
        );
        assert!(
            r.text.contains(&testkit::html_escaped(text)),
            "{lang:?} says {}: {}",
            reason.as_str(),
            r.text
        );
        assert!(
            !r.text
                .contains(&testkit::html_escaped(CATALOG.get(lang, "welcome.invalid"))),
            "{lang:?}: the reason's sentence, not the plain 'not valid'"
        );
        assert!(
            !r.text.contains("id=\"integration-title\""),
            "Store Integration stays closed"
        );
    }
}

/// Saves a store while the key is valid; it is registered at once.
async fn registered_store(admin: &Admin, sid: &str) -> String {
    let body = json!({"name": "Policy Store", "email": "p@example.com", "website": "base", "country": "US"});
    let r = api(admin, Method::POST, STORES, sid, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let v = r.json();
    assert!(v["remote_id"].is_string(), "registered: {v}");
    v["id"].as_str().expect("id").to_owned()
}

/// Store Integration's calls are refused for `reason`, and say so by its
/// code and sentence: the listing's problem, and an action on the store.
async fn stores_say(admin: &Admin, sid: &str, store: &str, reason: Reason) {
    let listed = api(admin, Method::GET, STORES, sid, None).await.json();
    assert_eq!(listed["synced"], false, "{listed}");
    assert_eq!(listed["problem"]["code"], reason.as_str(), "{listed}");
    assert_eq!(listed["problem"]["message"], reason.sentence(), "{listed}");
    let r = api(
        admin,
        Method::POST,
        &format!("{STORES}/{store}/check"),
        sid,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.json()["error"]["code"], reason.as_str(), "{}", r.text);
}

/// Limits the key each way in turn: refused for that reason, then valid
/// again once lifted (the account service forgets its cached verdict at
/// once, so nothing waits); last, a key limited to the channel's own service.
async fn each_policy(acct: &Account, owner: &str, key_id: &str, admin: &Admin) {
    let sid = admin.api_login().await;
    let mut b = Browser::new(admin);
    b.sign_in().await;
    says_valid(admin, &sid, &mut b, "before any limit").await;
    let store = registered_store(admin, &sid).await;
    for (reason, limit, lift) in policies() {
        patch_key(acct, owner, key_id, &limit).await;
        says_refused(admin, &sid, &mut b, reason).await;
        stores_say(admin, &sid, &store, reason).await;
        patch_key(acct, owner, key_id, &lift).await;
        says_valid(admin, &sid, &mut b, reason.as_str()).await;
        let listed = api(admin, Method::GET, STORES, &sid, None).await.json();
        assert_eq!(listed["synced"], true, "{}: {listed}", reason.as_str());
    }
    // The gate asks for the Amazon Sales Channel by its name: a key limited
    // to it (and another) is valid.
    let only = json!({"services": ["amazon_sales_channel", "billing"]});
    patch_key(acct, owner, key_id, &only).await;
    says_valid(admin, &sid, &mut b, "limited to the channel's service").await;
}

async fn policy_on_the_verify_path(env: &Env) {
    let acct = Account::start_with(env, with_billing()).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let (id, key) = acct
        .create_key(&owner, json!({"name": "Amazon Sales Channel"}))
        .await;
    admin.store_key(&key).await;
    each_policy(&acct, &owner, &id, &admin).await;
    admin.stop().await;
    acct.stop().await;
}

async fn policy_on_the_ping_path(env: &Env) {
    let acct = Account::start_with(env, with_billing()).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let created = acct
        .create_key_json(
            &owner,
            &json!({"name": "Amazon Sales Channel", "generate_private_key": true}),
        )
        .await;
    let id = created["id"].as_str().expect("id");
    admin.store_key(created["key"].as_str().expect("key")).await;
    admin
        .config()
        .set(
            admin::config::PRODUCTION_PRIVATE_KEY,
            created["private_key"].as_str().expect("private_key"),
            admin::config::ScopeRef::DEFAULT,
            web::Clock::now(&web::SystemClock),
        )
        .await
        .expect("store the private key");
    each_policy(&acct, &owner, id, &admin).await;
    admin.stop().await;
    acct.stop().await;
}
