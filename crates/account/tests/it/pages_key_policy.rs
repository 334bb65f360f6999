//! The key policy's pages (SPEC §10), as a browser uses them: Add New with
//! services and allowed addresses, a key's Settings page (save, disable,
//! enable; read-only for viewers, not found for other companies, refused
//! from a stale form) and the owner's maximum key lifetime on Members, which
//! limits the expiries Add New offers.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use crate::common::companies::{create as create_company, current, join_as};
use crate::common::{
    find_keys, hidden_input, unique_email, App, Browser, Resp, TestDb, CLOCK_START, PASSWORD,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::html_escaped;
use web::ManualClock;

const PORTAL: &str = "/account/api-portal";
const MEMBERS: &str = "/account/members";

both_backends!(
    add_new_limits_a_key,
    settings_save_disable_enable,
    settings_for_viewers_and_others,
    lifetime_limits_the_expiry_choices,
);

/// The service with `--service billing=Billing`.
async fn start(db: &TestDb) -> App {
    let cfg = account::Config {
        services: account::key_policy::ServiceCatalog::parse(&["billing=Billing"]).unwrap(),
        ..account::Config::default()
    };
    App::start_with(db, &ManualClock::new(CLOCK_START), cfg).await
}

/// A new company's owner: the API session and a browser signed in (in
/// `lang`), with the API Portal's CSRF token.
async fn owner(app: &App, company: &str, lang: &str) -> (String, Browser, String) {
    let email = unique_email("policy-pages");
    let sid = app.signup(&email, company).await;
    let (browser, csrf) = signed_in(app, &email, lang).await;
    (sid, browser, csrf)
}

async fn signed_in(app: &App, email: &str, lang: &str) -> (Browser, String) {
    let browser = Browser::with_language(app, lang);
    browser.set_cookie(account::auth::LANG_COOKIE, lang);
    let r = browser.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let portal = browser.get(PORTAL).await;
    assert_eq!(portal.status, StatusCode::OK, "{}", portal.text);
    (browser, hidden_input(&portal.text, "csrf").unwrap())
}

/// The verification status of `key` asked for `service`.
async fn status_for(app: &App, key: &str, service: &str) -> String {
    let r = app
        .http
        .post(app.url("/api/v1/keys/verify"))
        .header("X-Api-Key", key)
        .header("X-Service", service)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["status"].as_str().unwrap().to_owned()
}

fn settings(id: &str) -> String {
    format!("{PORTAL}/keys/{id}/settings")
}

/// `fields` with the services group shown and `services` checked.
fn boxes<'a>(fields: &[(&'a str, &'a str)], services: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut form = fields.to_vec();
    form.push(("services_shown", "1"));
    form.extend(services.iter().map(|s| ("services", *s)));
    form
}

/// Asserts the answer's status (the page in the message); the answer.
fn expect(r: Resp, status: StatusCode) -> Resp {
    assert_eq!(r.status, status, "{}", r.text);
    r
}

/// The first key (or the only one) the API lists with this name.
async fn listed(app: &App, sid: &str, name: &str) -> Value {
    let (_, keys) = app.list_keys(sid).await;
    keys.into_iter().find(|k| k["name"] == name).unwrap()
}

async fn add_new_limits_a_key(db: &TestDb) {
    let app = start(db).await;
    let (sid, browser, csrf) = owner(&app, "Limits Co", "en").await;
    let portal = browser.get(PORTAL).await;
    for shown in [
        "name=\"services\" value=\"amazon_sales_channel\" checked",
        "name=\"services\" value=\"billing\" checked",
        "> Billing</label>",
        "<textarea id=\"key-ips\" name=\"allowed_ips\"",
        "Leave empty to allow any address.",
        "value=\"never\"",
    ] {
        assert!(portal.text.contains(shown), "{shown}: {}", portal.text);
    }
    let add = async |name: &str, expiry: &str, ips: &str, services: &[&str]| {
        let fields = [
            ("csrf", csrf.as_str()),
            ("name", name),
            ("expiry", expiry),
            ("signing", "none"),
            ("allowed_ips", ips),
        ];
        browser.post_form(PORTAL, &boxes(&fields, services)).await
    };

    // Billing only, from two addresses.
    let ips = "203.0.113.7\r\n2001:db8::/32\r\n";
    let r = expect(
        add("Billing sync", "90", ips, &["billing"]).await,
        StatusCode::OK,
    );
    let key = find_keys(&r.text)[0].clone();
    let made = listed(&app, &sid, "Billing sync").await;
    assert_eq!(made["services"], json!(["billing"]));
    assert_eq!(
        made["allowed_ips"],
        json!(["203.0.113.7/32", "2001:db8::/32"])
    );
    assert_eq!(status_for(&app, &key, "billing").await, "ip_not_allowed");
    let id = made["id"].as_str().unwrap();
    assert!(r.text.contains("Billing only"), "the row's summary");
    assert!(r.text.contains("2 allowed addresses"));
    assert!(r.text.contains(&format!("href=\"{}\"", settings(id))));
    let fresh = "name=\"services\" value=\"amazon_sales_channel\" checked";
    assert!(r.text.contains(fresh), "the form is fresh again");

    // Every box checked: every service (null), any address.
    let all = &["amazon_sales_channel", "billing"];
    expect(add("Everything", "30", " ", all).await, StatusCode::OK);
    let every = listed(&app, &sid, "Everything").await;
    assert_eq!(every["services"], Value::Null);
    assert_eq!(every["allowed_ips"], json!([]));

    // A bad address, and no service too: beside their fields, in both
    // languages, what was entered kept, no key made.
    let (_, dutch, dutch_csrf) = owner(&app, "Adressen BV", "nl").await;
    let en = (
        "Enter IPv4 or IPv6 addresses or CIDR ranges",
        "Choose at least one service.",
    );
    let nl = (
        "Vul IPv4- of IPv6-adressen of CIDR-bereiken in",
        "Kies ten minste één dienst.",
    );
    for (b, c, (ip_msg, svc_msg)) in [(&browser, &csrf, en), (&dutch, &dutch_csrf, nl)] {
        let form = |ips, services: &'static [&'static str]| {
            let fields = [
                ("csrf", c.as_str()),
                ("name", "Refused"),
                ("expiry", "30"),
                ("signing", "none"),
                ("allowed_ips", ips),
            ];
            boxes(&fields, services)
        };
        let r = b
            .post_form(PORTAL, &form("10.0.0.1\nnope", &["billing"]))
            .await;
        let r = expect(r, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text.contains(ip_msg), "{}", r.text);
        assert!(r.text.contains("aria-describedby=\"ips-hint ips-error\" aria-invalid=\"true\">10.0.0.1\nnope</textarea>"));
        assert!(r.text.contains("id=\"ips-error\""));
        assert!(
            r.text.contains("value=\"amazon_sales_channel\">"),
            "unchecked as sent"
        );
        assert!(r.text.contains("value=\"billing\" checked"));
        // Both at once: each beside its field.
        let r = expect(
            b.post_form(PORTAL, &form("nope", &[])).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert!(r.text.contains(&html_escaped(svc_msg)), "{}", r.text);
        assert!(r.text.contains("id=\"services-error\""));
        assert!(r.text.contains("id=\"ips-error\""));
        assert!(find_keys(&r.text).is_empty());
    }
    assert_eq!(app.list_keys(&sid).await.1.len(), 2);
    app.stop().await;
}

async fn settings_save_disable_enable(db: &TestDb) {
    let app = start(db).await;
    let (sid, browser, csrf) = owner(&app, "Settings Co", "en").await;
    let body = json!({"name": "Store", "services": ["billing"], "allowed_ips": ["203.0.113.7"]});
    let created = app.create_key(&sid, body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    let path = settings(&id);
    let save = async |ips: &str, services: &[&str]| {
        let fields = [
            ("csrf", csrf.as_str()),
            ("name", "Renamed"),
            ("allowed_ips", ips),
        ];
        browser.post_form(&path, &boxes(&fields, services)).await
    };
    let switch = async |to: &str| {
        browser
            .post_form(&path, &[("csrf", csrf.as_str()), ("disabled", to)])
            .await
    };

    let page = expect(browser.get(&path).await, StatusCode::OK);
    for shown in [
        "Settings of the key “Store”",
        "value=\"amazon_sales_channel\">",
        "value=\"billing\" checked",
        ">203.0.113.7</textarea>",
        ">Disable key</button>",
        "name=\"company\" value=",
    ] {
        assert!(page.text.contains(shown), "{shown}: {}", page.text);
    }

    // A bad address: beside the field, what was typed kept, nothing changed.
    let r = expect(
        save("300.1.1.1", &["billing"]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert!(r.text.contains("id=\"settings-ips-error\""));
    assert!(r.text.contains(">300.1.1.1</textarea>"));
    assert!(r.text.contains("value=\"Renamed\""));
    assert_eq!(app.listed_key(&sid, &id).await["name"], "Store");

    // Saved: renamed, every service, from here (127.0.0.1).
    let all = &["amazon_sales_channel", "billing"];
    let r = expect(
        save("127.0.0.1\n2001:db8::/32", all).await,
        StatusCode::SEE_OTHER,
    );
    assert_eq!(r.location(), Some(format!("{path}?notice=saved").as_str()));
    let now = app.listed_key(&sid, &id).await;
    assert_eq!(now["name"], "Renamed");
    assert_eq!(now["services"], Value::Null);
    assert_eq!(now["allowed_ips"], json!(["127.0.0.1/32", "2001:db8::/32"]));
    assert_eq!(
        status_for(&app, &key, "amazon_sales_channel").await,
        "valid"
    );
    let page = browser.get(&format!("{path}?notice=saved")).await;
    assert!(page
        .text
        .contains(&html_escaped("The key's settings were saved.")));

    // Amazon unchecked again: that service is refused, billing is not.
    expect(save("127.0.0.1", &["billing"]).await, StatusCode::SEE_OTHER);
    let amazon = status_for(&app, &key, "amazon_sales_channel").await;
    assert_eq!(amazon, "insufficient_scope");
    assert_eq!(status_for(&app, &key, "billing").await, "valid");

    // Disable, then enable: the notice, the portal's status, the verdict.
    let r = expect(switch("on").await, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        Some(format!("{path}?notice=disabled").as_str())
    );
    assert_eq!(app.verify_status(&key).await, "disabled");
    let name = app.listed_key(&sid, &id).await["name"].clone();
    assert_eq!(name, "Renamed", "nothing else changed");
    let page = browser.get(&format!("{path}?notice=disabled")).await;
    assert!(page.text.contains("The key was disabled."));
    assert!(page.text.contains(">Enable key</button>"));
    let portal = browser.get(PORTAL).await;
    assert!(portal.text.contains(">Disabled</span>"), "the row's status");
    let link = format!("href=\"{path}\"");
    assert!(portal.text.contains(&link), "still has Settings");
    expect(switch("off").await, StatusCode::SEE_OTHER);
    assert_eq!(app.verify_status(&key).await, "valid");
    app.stop().await;
}

async fn settings_for_viewers_and_others(db: &TestDb) {
    let app = start(db).await;
    let (sid, browser, _) = owner(&app, "Shared Co", "en").await;
    let body = json!({"name": "Watched", "allowed_ips": ["198.51.100.0/24"]});
    let created = app.create_key(&sid, body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let key = created["key"].as_str().unwrap().to_owned();
    let path = settings(&id);

    // A viewer sees the values and no form; a post is refused.
    let (viewer_email, _, _) = join_as(&app, &sid, "viewer").await;
    let (viewer, viewer_csrf) = signed_in(&app, &viewer_email, "en").await;
    let page = expect(viewer.get(&path).await, StatusCode::OK);
    assert!(page.text.contains("<code>198.51.100.0/24</code>"));
    assert!(page.text.contains("Every service"));
    assert!(page.text.contains("Viewer"), "the viewer note");
    let form = format!("action=\"{path}\"");
    assert!(!page.text.contains(&form), "no form");
    let r = viewer
        .post_form(&path, &[("csrf", &viewer_csrf), ("disabled", "on")])
        .await;
    expect(r, StatusCode::FORBIDDEN);
    let status = app.verify_status(&key).await;
    assert_eq!(status, "ip_not_allowed", "not disabled");

    // Another company: not found, to see or to change.
    let (_, other, other_csrf) = owner(&app, "Other Co", "en").await;
    let r = expect(other.get(&path).await, StatusCode::NOT_FOUND);
    assert!(r.text.contains("<html"), "the error page");
    let r = other
        .post_form(&path, &[("csrf", &other_csrf), ("disabled", "on")])
        .await;
    expect(r, StatusCode::NOT_FOUND);

    // A form shown for this company, sent after a switch to another: 409,
    // nothing changes.
    let page = browser.get(&path).await;
    let csrf = hidden_input(&page.text, "csrf").unwrap();
    let company = hidden_input(&page.text, "company").unwrap();
    assert_eq!(company, current(&app, &sid).await.0);
    let browser_sid = browser.cookie("acct_sid").unwrap();
    create_company(&app, &browser_sid, "Second Co").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("company", &company),
        ("disabled", "on"),
    ];
    let r = expect(browser.post_form(&path, &form).await, StatusCode::CONFLICT);
    assert!(r.text.contains("This form was for another company"));
    let status = app.verify_status(&key).await;
    assert_eq!(status, "ip_not_allowed", "not disabled");
    app.stop().await;
}

async fn lifetime_limits_the_expiry_choices(db: &TestDb) {
    let app = start(db).await;
    let (sid, browser, csrf) = owner(&app, "Lifetime Co", "en").await;
    let members = browser.get(MEMBERS).await;
    assert!(members.text.contains("Maximum key lifetime (days)"));
    assert!(members
        .text
        .contains("New keys may have any expiry, or none."));
    let set = async |days: &str| {
        let form = [("csrf", csrf.as_str()), ("max_key_lifetime_days", days)];
        browser
            .post_form("/account/members/key-lifetime", &form)
            .await
    };
    let add = async |name: &str, expiry: &str| {
        let form = [
            ("csrf", csrf.as_str()),
            ("name", name),
            ("expiry", expiry),
            ("signing", "none"),
        ];
        browser.post_form(PORTAL, &form).await
    };

    // Not a number, or out of range: beside the field.
    for typed in ["soon", "0", "4000"] {
        let r = expect(set(typed).await, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text.contains("id=\"key-lifetime-error\""));
        assert!(r.text.contains("Enter a number of days from 1 to 3660"));
        assert!(r.text.contains(&format!("value=\"{typed}\"")));
    }
    let r = expect(set("60").await, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/account/members?notice=lifetime_set"));
    let members = browser.get(MEMBERS).await;
    assert!(members.text.contains("must expire within 60 days"));

    // Add New offers only expiries within 60 days, and says why.
    let portal = browser.get(PORTAL).await;
    for shown in [
        "value=\"30\"".to_owned(),
        html_escaped("In 60 days (the maximum)"),
        html_escaped("Your company's keys must expire within 60 days"),
        "<option value=\"60\" selected>".to_owned(),
    ] {
        assert!(portal.text.contains(&shown), "{shown}");
    }
    for gone in [
        "value=\"90\"",
        "value=\"365\"",
        "value=\"never\"",
        "id=\"never-warning\"",
    ] {
        assert!(!portal.text.contains(gone), "{gone}");
    }
    for expiry in ["365", "never"] {
        let r = expect(
            add("Too long", expiry).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert!(
            r.text.contains("id=\"expiry-choice-error\""),
            "beside the choice"
        );
        assert!(r.text.contains("maximum key lifetime"));
    }
    expect(add("Within", "60").await, StatusCode::OK);
    let (_, keys) = app.list_keys(&sid).await;
    assert_eq!(keys.len(), 1);
    let expires = web::clock::rfc3339(CLOCK_START + 60 * 86400);
    assert_eq!(keys[0]["expires_at"], json!(expires));

    // Only owners set it; cleared, "never" is back.
    let (member_email, _, _) = join_as(&app, &sid, "member").await;
    let (member, member_csrf) = signed_in(&app, &member_email, "en").await;
    let form = [
        ("csrf", member_csrf.as_str()),
        ("max_key_lifetime_days", ""),
    ];
    let r = member
        .post_form("/account/members/key-lifetime", &form)
        .await;
    expect(r, StatusCode::FORBIDDEN);
    let theirs = member.get(MEMBERS).await;
    assert!(!theirs.text.contains("name=\"max_key_lifetime_days\""));
    let r = set("").await;
    assert_eq!(
        r.location(),
        Some("/account/members?notice=lifetime_cleared")
    );
    assert!(browser.get(PORTAL).await.text.contains("value=\"never\""));
    app.stop().await;
}
