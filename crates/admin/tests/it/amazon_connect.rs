//! Connect store in the Admin against the real account service set up as
//! the SP-API application, with Amazon stood in on loopback
//! (`testkit::amazon`): the link Connect store opens, the authorization
//! through consent and callback, the status the Admin then shows, and
//! Deactivate / Activate / Check / Re-authorize / Delete, on SQLite and
//! PostgreSQL.

use std::sync::Arc;

use testkit::amazon::browse::consent;

use crate::common::{Account, Admin, Browser, Env, Resp};
use account::amazon::{AmazonConfig, ClientSecret, Country};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use testkit::amazon::AmazonStandIn;
use web::{Clock, ManualClock, SystemClock};

both_backends!(
    connect_authorize_and_manage,
    reauthorize_before_the_year_ends
);

const STORES: &str = "/admin/api/v1/channels/amazon/stores";
const SELLER: &str = "A1STANDINSELLER";

/// The account service set up against the stand-in, the Admin with a
/// Production key of one company, and that company's key.
struct World {
    standin: AmazonStandIn,
    acct: Account,
    admin: Admin,
    key: String,
}

async fn world(env: &Env, clock: ManualClock) -> World {
    let standin = AmazonStandIn::start(Arc::new(clock.clone())).await;
    let sc = standin.seller_central_url();
    let overrides: Vec<String> = Country::ALL
        .iter()
        .map(|c| format!("{}={sc}", c.code()))
        .collect();
    let app = standin.config();
    let amazon = AmazonConfig::new(
        &app.application_id,
        &app.client_id,
        ClientSecret::fixed(&app.client_secret),
    )
    .with_token_url(&standin.token_url())
    .expect("token url")
    .with_seller_central(&overrides)
    .expect("seller central");
    let cfg = account::Config {
        amazon: Some(amazon),
        ..account::Config::default()
    };
    let acct = Account::start_on(env.account_db().await, "127.0.0.1:0", cfg, clock).await;
    standin.set_login_uri(&format!("{}/amazon/authorize/login", acct.base));
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let (_, key) = acct.create_key(&owner, json!({"name": "prod"})).await;
    admin.store_key(&key).await;
    World {
        standin,
        acct,
        admin,
        key,
    }
}

impl World {
    async fn api(&self, method: Method, path: &str, sid: &str, body: Option<Value>) -> Resp {
        let mut req = self
            .admin
            .http
            .request(method, self.admin.url(path))
            .header("cookie", format!("adm_sid={sid}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::read(req.send().await.expect("request")).await
    }

    /// The store as the account service reports it to the company's key.
    async fn remote(&self, remote_id: &str) -> Resp {
        let r = self
            .acct
            .http
            .get(format!("{}/amazon/v1/stores/{remote_id}", self.acct.base))
            .header("x-api-key", &self.key)
            .send()
            .await
            .expect("request");
        Resp::read(r).await
    }

    async fn remote_call(&self, method: Method, path: &str, body: Value) -> Resp {
        let r = self
            .acct
            .http
            .request(method, format!("{}{path}", self.acct.base))
            .header("x-api-key", &self.key)
            .json(&body)
            .send()
            .await
            .expect("request");
        Resp::read(r).await
    }

    /// The merchant's browser on the account site follows a connect link,
    /// confirms on Seller Central's consent page and comes back to the
    /// callback: its page.
    async fn authorize(&self, link: &str) -> Resp {
        let site = testkit::Browser::new(&self.acct.base);
        let path = link
            .strip_prefix(&self.acct.base)
            .expect("a link on the account site");
        let r = site.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        let consent_url = r.location().expect("to Seller Central").to_owned();
        assert!(consent_url.starts_with(&self.standin.seller_central_url()));
        let callback = consent(&consent_url).await;
        let url = reqwest::Url::parse(&callback).expect("callback URL");
        site.get(&format!(
            "{}?{}",
            url.path(),
            url.query().unwrap_or_default()
        ))
        .await
    }
}

/// Adds a store through the Store Integration form; returns the Admin's row.
async fn add_store(w: &World, b: &Browser<'_>, name: &str) -> admin::store::AmazonStore {
    b.get("/admin/amazon").await;
    let csrf = b.csrf();
    let r = b
        .post_form(
            "/admin/amazon/stores",
            &[
                ("csrf", &csrf),
                ("name", name),
                ("email", "seller@example.com"),
                ("website", "base"),
                ("marketplace", "US"),
            ],
        )
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    admin::store::amazon_stores(&w.admin.running.state.db)
        .await
        .expect("read")
        .into_iter()
        .find(|s| s.name == name)
        .expect("saved")
}

/// The table row of a store on the channel page.
fn row<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<tr data-store=\"{id}\""))
        .expect("the store's row");
    let end = html[start..].find("</tr>").expect("row end");
    &html[start..start + end]
}

async fn connect_authorize_and_manage(env: &Env) {
    let w = world(env, ManualClock::new(SystemClock.now())).await;
    let sid = w.admin.api_login().await;
    let b = Browser::new(&w.admin);
    b.sign_in().await;
    let s = add_store(&w, &b, "Luma US").await;
    let rid = s.remote_id.clone().expect("registered on save");
    let csrf = b.csrf();

    // Connect store: a form opening a new tab, whose answer is the account site's link.
    let page = b.get("/admin/amazon?saved=1").await;
    let tr = row(&page.text, &s.id);
    assert!(tr.contains("data-status=\"authorization_pending\""), "{tr}");
    assert!(tr.contains(&format!(
        "action=\"/admin/amazon/stores/{}/connect\" target=\"_blank\"",
        s.id
    )));
    assert!(tr.contains("data-connect") && tr.contains(">Connect store</button>"));
    assert!(!tr.contains(">Activate</button>") && !tr.contains(">Check</button>"));
    let r = b
        .post_button(&format!("/admin/amazon/stores/{}/connect", s.id), &csrf)
        .await;
    // A page of its own goes on to the link (a redirect of the form's answer
    // would be held to the Admin's `form-action 'self'` by the browser).
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let refresh = r
        .text
        .split("<meta http-equiv=\"refresh\" content=\"0;url=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a refresh to the link");
    let link = refresh.replace("&#x2f;", "/").replace("&amp;", "&");
    assert!(
        link.starts_with(&format!("{}/amazon/connect/", w.acct.base)),
        "{link}"
    );
    assert!(
        r.text.contains(&format!("href=\"{refresh}\"")),
        "and a link to it"
    );
    // Without the CSRF token: refused, no link.
    let r = b
        .post_form(&format!("/admin/amazon/stores/{}/connect", s.id), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The merchant authorizes in Seller Central; the Admin, opened again, shows Active.
    let done = w.authorize(&link).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let page = b.get("/admin/amazon").await;
    let tr = row(&page.text, &s.id);
    assert!(
        tr.contains("<span class=\"badge valid\" data-status=\"active\">Active</span>"),
        "{tr}"
    );
    assert!(tr.contains(SELLER), "{tr}");
    assert!(tr.contains("Authorized until"));
    assert!(!tr.contains("data-connect"), "authorized: no Connect store");
    assert!(tr.contains(">Deactivate</button>") && tr.contains(">Check</button>"));
    assert!(
        !page.text.contains("data-ending"),
        "a year to go: no warning"
    );
    let listed = w.api(Method::GET, STORES, &sid, None).await.json();
    let store = &listed["stores"][0];
    assert_eq!(store["id"], s.id.as_str());
    assert_eq!(store["remote_id"], rid.as_str());
    assert_eq!(store["status"], "active");
    assert_eq!(store["seller_id"], SELLER);
    assert_eq!(store["website"], "base");
    assert!(store["authorized_at"].is_string() && store["authorization_expires_at"].is_string());
    // In Dutch too.
    let nl = Browser::with_language(&w.admin, "nl");
    nl.sign_in().await;
    let r = nl.get("/admin/amazon").await;
    assert!(row(&r.text, &s.id).contains(">Actief</span>"));
    assert!(row(&r.text, &s.id).contains(">Deactiveren</button>"));

    // Deactivate (page): inactive here and on the account service, authorization kept.
    let r = b
        .post_form(
            &format!("/admin/amazon/stores/{}/active", s.id),
            &[("csrf", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(
        r.location(),
        Some("/admin/amazon?done=deactivated"),
        "{}",
        r.text
    );
    let page = b.get("/admin/amazon?done=deactivated").await;
    assert!(page.text.contains("The Amazon store was deactivated."));
    let tr = row(&page.text, &s.id);
    assert!(
        tr.contains(">Inactive</span>") && tr.contains(">Activate</button>"),
        "{tr}"
    );
    let remote = w.remote(&rid).await.json();
    assert_eq!(remote["status"], "inactive");
    assert_eq!(
        remote["seller_id"], SELLER,
        "an inactive store keeps its authorization"
    );
    // Activate (API).
    let r = w
        .api(
            Method::PATCH,
            &format!("{STORES}/{}", s.id),
            &sid,
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "active");
    // Check: the account service proves the refresh token now.
    let r = w
        .api(
            Method::POST,
            &format!("{STORES}/{}/check", s.id),
            &sid,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json()["status"], "active");
    assert!(w.standin.grants().iter().any(|g| g == "refresh_token"));

    // Revoked at Amazon: Check (page) says so, with what to do.
    w.standin.revoke_refresh_tokens();
    let r = b
        .post_button(&format!("/admin/amazon/stores/{}/check", s.id), &csrf)
        .await;
    assert_eq!(
        r.location(),
        Some("/admin/amazon?done=checked"),
        "{}",
        r.text
    );
    let page = b.get("/admin/amazon?done=checked").await;
    let tr = row(&page.text, &s.id);
    assert!(tr.contains(">Re-authorization required</span>"), "{tr}");
    assert!(tr.contains("data-reason=\"revoked\"") && tr.contains("The authorization was revoked"));
    assert!(tr.contains(">Re-authorize</button>") && tr.contains("data-connect"));

    // Re-authorize (API link): active again.
    let r = w
        .api(
            Method::POST,
            &format!("{STORES}/{}/connect", s.id),
            &sid,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let link = r.json()["url"].as_str().expect("url").to_owned();
    assert_eq!(w.authorize(&link).await.status, StatusCode::OK);
    let page = b.get("/admin/amazon").await;
    assert!(row(&page.text, &s.id).contains("data-status=\"active\""));

    // Changed on the account service's side: the next open shows it.
    let r = w
        .remote_call(
            Method::PATCH,
            &format!("/amazon/v1/stores/{rid}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = b.get("/admin/amazon").await;
    assert!(row(&page.text, &s.id).contains(">Inactive</span>"));

    // Delete: a confirmation step, then gone on both sides.
    let r = b
        .get(&format!("/admin/amazon/stores/{}/delete", s.id))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("Delete the Amazon store Luma US?"),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains(&format!("action=\"/admin/amazon/stores/{}/delete\"", s.id)));
    assert!(
        admin::store::amazon_store(&w.admin.running.state.db, &s.id)
            .await
            .expect("read")
            .is_some(),
        "asking deletes nothing"
    );
    let r = b
        .post_button(&format!("/admin/amazon/stores/{}/delete", s.id), &csrf)
        .await;
    assert_eq!(
        r.location(),
        Some("/admin/amazon?done=deleted"),
        "{}",
        r.text
    );
    let page = b.get("/admin/amazon?done=deleted").await;
    assert!(page.text.contains("The Amazon store was deleted"));
    assert!(page.text.contains("No Amazon stores yet."));
    assert_eq!(w.remote(&rid).await.status, StatusCode::NOT_FOUND);

    // The Admin's audit log: what was done, by whom, never a key, link, state or code.
    let audit = b.get("/admin/audit").await.text;
    for event in [
        "Amazon store registered: Luma US (US)",
        "Amazon store: connect requested: Luma US (US)",
        "Amazon store deactivated: Luma US (US)",
        "Amazon store activated: Luma US (US)",
        "Amazon store deleted: Luma US (US)",
    ] {
        assert!(audit.contains(event), "{event}: {audit}");
    }
    let link_token = link.rsplit('/').next().expect("token");
    for secret in [w.key.as_str(), link_token] {
        assert!(!audit.contains(secret));
    }

    w.admin.stop().await;
    w.acct.stop().await;
}

async fn reauthorize_before_the_year_ends(env: &Env) {
    // Authorized 340 days ago (by the account service's clock): 25 days to go.
    let clock = ManualClock::new(SystemClock.now() - 340 * 86400);
    let w = world(env, clock).await;
    let sid = w.admin.api_login().await;
    let b = Browser::new(&w.admin);
    b.sign_in().await;
    let s = add_store(&w, &b, "Old Store").await;
    let r = w
        .api(
            Method::POST,
            &format!("{STORES}/{}/connect", s.id),
            &sid,
            None,
        )
        .await;
    let link = r.json()["url"].as_str().expect("url").to_owned();
    assert_eq!(w.authorize(&link).await.status, StatusCode::OK);

    let page = b.get("/admin/amazon").await;
    let tr = row(&page.text, &s.id);
    assert!(tr.contains("data-status=\"active\""), "{tr}");
    assert!(
        tr.contains(">Re-authorize</button>") && tr.contains("data-connect"),
        "{tr}"
    );
    let expires = admin::store::amazon_store(&w.admin.running.state.db, &s.id)
        .await
        .expect("read")
        .and_then(|s| s.authorization_expires_at)
        .expect("expiry");
    assert!((expires - SystemClock.now() - 25 * 86400).abs() < 3600);
    let date = web::clock::human_date(expires);
    assert!(
        page.text
            .contains(&format!("Authorization for Old Store ends on {date}.")),
        "{}",
        page.text
    );
    let nl = Browser::with_language(&w.admin, "nl");
    nl.sign_in().await;
    let r = nl.get("/admin/amazon").await;
    assert!(r
        .text
        .contains(&format!("De autorisatie van Old Store loopt af op {date}.")));
    assert!(row(&r.text, &s.id).contains(">Opnieuw autoriseren</button>"));

    // A year after the authorization it lapses: the account service's daily
    // round says so, and the Admin shows it.
    w.acct.clock.advance(366 * 86400);
    account::amazon::renewal::check_due(&w.acct.running.state)
        .await
        .expect("the daily round");
    let page = b.get("/admin/amazon").await;
    let tr = row(&page.text, &s.id);
    assert!(tr.contains(">Re-authorization required</span>"), "{tr}");
    assert!(tr.contains("data-reason=\"expired\""));
    assert!(!page.text.contains("data-ending"));

    w.admin.stop().await;
    w.acct.stop().await;
}
