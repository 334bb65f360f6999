//! The Admin's pages over real HTTP: sign-in, the Amazon Sales Channel gate
//! and Store Integration, the Magento Services configuration, CSRF and
//! origin checks, and Dutch.

mod common;

use common::{hidden_csrf, Account, Admin, Browser, Env};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    sign_in,
    gate_page_and_config,
    store_integration,
    forgeries_are_refused,
    dutch,
);

const CONFIG_PAGE: &str = "/admin/config/edit/section/magento_services";
/// Whether `html` holds `before` followed by `text` HTML-escaped (named or numeric entities).
fn contains_escaped(html: &str, before: &str, text: &str) -> bool {
    let named = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let numeric = text
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;");
    html.contains(&format!("{before}{named}")) || html.contains(&format!("{before}{numeric}"))
}

const KEY_FIELD: &str = "services_connector/services_connector_integration/production_api_key";

async fn sign_in(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let mut b = Browser::new(&admin);

    // Signed out: every page sends to the login page, with where to come back.
    let r = b.get("/admin/amazon").await;
    assert!(r.is_redirect(), "{}", r.status);
    assert_eq!(r.location(), Some("/admin/login?next=/admin/amazon"));
    let r = b.get(CONFIG_PAGE).await;
    assert_eq!(
        r.location(),
        Some("/admin/login?next=/admin/config/edit/section/magento_services")
    );
    let r = b.get("/admin").await;
    assert_eq!(r.location(), Some("/admin/amazon"));

    // The login page sets the CSRF cookie and puts the same token in the form.
    let page = b.get("/admin/login?next=/admin/amazon").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = b.csrf();
    assert_eq!(csrf.len(), 32);
    assert_eq!(hidden_csrf(&page.text).as_deref(), Some(csrf.as_str()));
    assert!(page.text.contains("name=\"next\" value=\"/admin/amazon\""));

    // A wrong password: 401 and the page says so, no session.
    let r = b
        .post_form(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", "not the password"),
                ("next", "/admin/amazon"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r
        .text
        .contains("The account sign-in was incorrect or your account is disabled temporarily."));
    assert!(b.cookie("adm_sid").is_none());

    // Without the CSRF token: refused as a forbidden request, as on the account site.
    let r = b
        .post_form(
            "/admin/login",
            &[("username", "admin"), ("password", &admin.password)],
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(b.cookie("adm_sid").is_none());

    // The right password: a redirect to `next`, and an HttpOnly session cookie.
    let r = b
        .post_form(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", &admin.password),
                ("next", "/admin/config/edit/section/general"),
            ],
        )
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    assert_eq!(r.location(), Some("/admin/config/edit/section/general"));
    let line = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|l| l.starts_with("adm_sid="))
        .expect("adm_sid set")
        .to_owned();
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Lax"),
        "{line}"
    );
    assert!(
        b.cookie("acct_sid").is_none(),
        "the Admin's cookies are its own"
    );

    // Signed in, the login page sends on; `next` never leaves the site.
    let r = b.get("/admin/login?next=https://evil.example/x").await;
    assert_eq!(r.location(), Some("/admin/amazon"));
    let r = b.get("/admin/login?next=//evil.example").await;
    assert_eq!(r.location(), Some("/admin/amazon"));
    assert_eq!(b.get("/admin/amazon").await.status, StatusCode::OK);

    // Sign out: the session is gone.
    let csrf = b.csrf();
    let r = b.post_form("/admin/logout", &[("csrf", &csrf)]).await;
    assert!(r.is_redirect());
    assert!(b.cookie("adm_sid").is_none());
    assert!(b.get("/admin/amazon").await.is_redirect());

    admin.stop().await;
    acct.stop().await;
}

async fn gate_page_and_config(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let mut b = Browser::new(&admin);
    b.sign_in().await;

    // No key: the welcome page, which says why, with both actions.
    let r = b.get("/admin/amazon").await;
    assert_eq!(r.status, StatusCode::OK);
    let html = &r.text;
    assert!(html.contains("Welcome to Amazon Sales Channel"));
    assert!(html.contains("data-key-status=\"missing\""));
    assert!(html.contains("No API key is stored yet."));
    let sign_in = format!(
        "<a class=\"button secondary\" href=\"{}/account/api-portal\" target=\"_blank\" rel=\"noopener\">Sign in</a>",
        acct.base
    );
    assert!(html.contains(&sign_in), "Sign in link in {html}");
    assert!(
        html.contains(
            "href=\"/admin/config/edit/section/magento_services#api_keys\">Add the key</a>"
        ),
        "Add the key link in {html}"
    );
    assert!(!html.contains("Store Integration"));
    assert_eq!(
        r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store")
    );

    // The configuration page, as the documentation names it.
    let r = b.get(CONFIG_PAGE).await;
    assert_eq!(r.status, StatusCode::OK);
    for label in [
        "Magento Services",
        "API Keys",
        "Production Api key",
        "Sandbox Api key",
        "Save Config",
        "id=\"api_keys\"",
    ] {
        assert!(r.text.contains(label), "{label} on the configuration page");
    }
    assert!(r.text.contains(&format!("name=\"{KEY_FIELD}\" value=\"\"")));
    assert!(!r.text.contains("You saved the configuration."));

    // Save Config with the key.
    let (_, key) = acct
        .create_key(&owner, json!({"name": "Amazon Sales Channel"}))
        .await;
    let csrf = b.csrf();
    let r = b
        .post_form(CONFIG_PAGE, &[("csrf", &csrf), (KEY_FIELD, &key)])
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    let saved_url = r.location().expect("a redirect").to_owned();
    assert!(saved_url.starts_with(CONFIG_PAGE) && saved_url.contains("saved=1"));
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));
    let r = b.get(&saved_url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("You saved the configuration."));
    assert!(
        r.text
            .contains(&format!("name=\"{KEY_FIELD}\" value=\"******\"")),
        "the field shows the mask"
    );
    assert!(!r.text.contains(&key), "the page never shows the key");
    assert!(!r.text.contains(&key[9..]));

    // The channel opens: Store Integration.
    let r = b.get("/admin/amazon").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("Store Integration"));
    assert!(r.text.contains("data-key-status=\"valid\""));
    assert!(!r.text.contains("Welcome to Amazon Sales Channel"));
    assert!(!r.text.contains(&key));

    // The mask sent back unchanged keeps the key.
    let r = b
        .post_form(CONFIG_PAGE, &[("csrf", &csrf), (KEY_FIELD, "******")])
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));

    // A form with an error saves nothing, and does not echo a typed secret.
    let (_, other) = acct.create_key(&owner, json!({"name": "other"})).await;
    let r = b
        .post_form(
            CONFIG_PAGE,
            &[
                ("csrf", &csrf),
                (KEY_FIELD, &other),
                ("services_connector/production_gateway_url", "not a url"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text
        .contains("Enter a URL that starts with http:// or https://."));
    assert!(r.text.contains("The configuration was not saved."));
    assert!(!r.text.contains(&other), "a typed secret is not echoed");
    assert!(!r.text.contains(&key));
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));

    // Saving it empty clears the key: the welcome page is back.
    let r = b
        .post_form(CONFIG_PAGE, &[("csrf", &csrf), (KEY_FIELD, "")])
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    assert_eq!(admin.stored_key().await, None);
    let r = b.get(CONFIG_PAGE).await;
    assert!(r.text.contains(&format!("name=\"{KEY_FIELD}\" value=\"\"")));
    let r = b.get("/admin/amazon").await;
    assert!(r.text.contains("Welcome to Amazon Sales Channel"));
    assert!(r.text.contains("data-key-status=\"missing\""));

    // A Sandbox key pasted into Production: the page names the mistake.
    let (_, sandbox) = acct
        .create_key(&owner, json!({"name": "sb", "environment": "sandbox"}))
        .await;
    admin.store_key(&sandbox).await;
    let r = b.get("/admin/amazon").await;
    assert!(r.text.contains("data-key-status=\"invalid\""));
    assert!(r.text.contains("is a Sandbox key"));

    // Unreachable: the page says the key was kept.
    admin.store_key(&key).await;
    acct.stop().await;
    let r = b.get("/admin/amazon").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("data-key-status=\"unreachable\""));
    assert!(r.text.contains("Your stored key was kept"));
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));

    // Other scopes show no secrets; unknown sections are 404.
    let r = b.get(&format!("{CONFIG_PAGE}?scope=websites:base")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains("Production Api key"));
    assert!(r
        .text
        .contains("Nothing in this section can be set at this scope."));
    let r = b.get("/admin/config/edit/section/nope").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = b.get(&format!("{CONFIG_PAGE}?scope=websites:nope")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    admin.stop().await;
}

async fn store_integration(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let mut b = Browser::new(&admin);
    b.sign_in().await;
    b.get("/admin/amazon").await;
    let csrf = b.csrf();
    let stores = || async {
        admin::store::amazon_stores(&admin.running.state.db)
            .await
            .expect("test setup")
    };

    // Behind a closed gate no store is added.
    let good: [(&str, &str); 5] = [
        ("csrf", &csrf),
        ("name", "My US Store"),
        ("email", "shop@example.com"),
        ("website", "base"),
        ("marketplace", "US"),
    ];
    let r = b.post_form("/admin/amazon/stores", &good).await;
    assert!(r.is_redirect());
    assert_eq!(r.location(), Some("/admin/amazon"));
    assert!(stores().await.is_empty());

    let (_, key) = acct.create_key(&owner, json!({"name": "prod"})).await;
    admin.store_key(&key).await;
    let r = b.get("/admin/amazon").await;
    assert!(r.text.contains("Store Integration"));
    assert!(r.text.contains("No Amazon stores yet."));
    for m in ["United States", "Canada", "Mexico", "United Kingdom"] {
        assert!(r.text.contains(m), "marketplace {m} offered");
    }
    assert!(r
        .text
        .contains("<option value=\"base\" selected>Main Website</option>"));

    // Each bad field alone: 422, its message, and nothing saved.
    let cases: [(&str, &str, &str); 5] = [
        ("name", "", "Name is required"),
        ("name", "   ", "Name is required"),
        ("email", "not-an-email", "Email is invalid"),
        ("marketplace", "JP", "This marketplace is not supported yet"),
        ("website", "nope", "Unknown website"),
    ];
    let all_messages = [
        "Name is required",
        "Email is invalid",
        "This marketplace is not supported yet",
        "Unknown website",
    ];
    for (field, value, message) in cases {
        let form: Vec<(&str, &str)> = good
            .iter()
            .map(|&(k, v)| if k == field { (k, value) } else { (k, v) })
            .collect();
        let r = b.post_form("/admin/amazon/stores", &form).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value:?}: {}",
            r.text
        );
        assert!(r.text.contains(message), "{field}={value:?}: {message}");
        assert!(r.text.contains("Please correct the fields marked below."));
        for other in all_messages.iter().filter(|m| **m != message) {
            assert!(
                !r.text.contains(other),
                "{field}: only its own error, not {other}"
            );
        }
        assert!(stores().await.is_empty(), "{field}: nothing saved");
    }
    // All wrong at once: every message.
    let r = b
        .post_form(
            "/admin/amazon/stores",
            &[
                ("csrf", &csrf),
                ("name", ""),
                ("email", "x@"),
                ("website", "nope"),
                ("marketplace", "JP"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for m in all_messages {
        assert!(r.text.contains(m), "{m}");
    }
    // The typed values are kept in the form (escaped).
    let r = b
        .post_form(
            "/admin/amazon/stores",
            &[
                ("csrf", &csrf),
                ("name", "Kept <Name>"),
                ("email", "bad"),
                ("website", "base"),
                ("marketplace", "US"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        contains_escaped(&r.text, "value=\"", "Kept <Name>"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("Kept <Name>"));

    // A valid store: redirect, then listed as awaiting authorization.
    let r = b.post_form("/admin/amazon/stores", &good).await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    assert_eq!(r.location(), Some("/admin/amazon?saved=1"));
    let r = b.get("/admin/amazon?saved=1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("The Amazon store was saved."));
    assert!(r.text.contains("<td>My US Store</td>"));
    assert!(r.text.contains("Authorization pending"));
    assert!(r.text.contains("<td>United States</td>"));
    assert!(r.text.contains("<td>Main Website</td>"));
    assert!(r.text.contains("<td>shop@example.com</td>"));
    let saved = stores().await;
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].marketplace, "US");
    assert_eq!(saved[0].status, "authorization_pending");

    // Lower-case marketplace codes are accepted; names are escaped on the page.
    let r = b
        .post_form(
            "/admin/amazon/stores",
            &[
                ("csrf", &csrf),
                ("name", "<b>Shop & Co</b>"),
                ("email", " UK@Example.com "),
                ("website", "base"),
                ("marketplace", "gb"),
            ],
        )
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    let r = b.get("/admin/amazon").await;
    assert!(contains_escaped(&r.text, "<td>", "<b>Shop & Co</b>"));
    assert!(!r.text.contains("<b>Shop"));
    assert!(r.text.contains("<td>United Kingdom</td>"));
    assert_eq!(stores().await.len(), 2);

    // With the key cleared, the stores are behind the gate again.
    let r = b.get("/admin/amazon").await;
    assert!(r.text.contains("My US Store"));
    admin.store_key("").await;
    let r = b.get("/admin/amazon").await;
    assert!(!r.text.contains("My US Store"));
    assert!(r.text.contains("Welcome to Amazon Sales Channel"));

    admin.stop().await;
    acct.stop().await;
}

async fn forgeries_are_refused(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let (_, key) = acct.create_key(&owner, json!({"name": "prod"})).await;
    admin.store_key(&key).await;
    let mut b = Browser::new(&admin);
    b.sign_in().await;
    let csrf = b.csrf();

    // Configuration: no token, a wrong token, another site's origin: 403, nothing changes.
    let r = b.post_form(CONFIG_PAGE, &[(KEY_FIELD, "")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r
        .text
        .contains("This form has expired or did not come from this site."));
    let wrong = "A".repeat(32);
    let r = b
        .post_form(CONFIG_PAGE, &[("csrf", &wrong), (KEY_FIELD, "")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .post_form_from(
            CONFIG_PAGE,
            &[("csrf", &csrf), (KEY_FIELD, "")],
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));

    // Store Integration: the same.
    let store = [
        ("name", "Forged"),
        ("email", "f@example.com"),
        ("website", "base"),
        ("marketplace", "US"),
    ];
    let r = b.post_form("/admin/amazon/stores", &store).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut with_csrf = vec![("csrf", csrf.as_str())];
    with_csrf.extend_from_slice(&store);
    let r = b
        .post_form_from(
            "/admin/amazon/stores",
            &with_csrf,
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(admin::store::amazon_stores(&admin.running.state.db)
        .await
        .expect("test setup")
        .is_empty());

    // Login from another site: refused even with the right token and password.
    let mut other = Browser::new(&admin);
    other.get("/admin/login").await;
    let csrf2 = other.csrf();
    let password = admin.password.clone();
    let r = other
        .post_form_from(
            "/admin/login",
            &[
                ("csrf", &csrf2),
                ("username", "admin"),
                ("password", &password),
            ],
            Some("http://evil.example"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(other.cookie("adm_sid").is_none());

    // Signed-out posts with a valid token go to the login page and change nothing.
    let mut anon = Browser::new(&admin);
    anon.get("/admin/login").await;
    let csrf3 = anon.csrf();
    let r = anon
        .post_form(CONFIG_PAGE, &[("csrf", &csrf3), (KEY_FIELD, "")])
        .await;
    assert!(r.is_redirect());
    assert!(r.location().unwrap_or("").starts_with("/admin/login"));
    assert_eq!(admin.stored_key().await.as_deref(), Some(key.as_str()));

    admin.stop().await;
    acct.stop().await;
}

async fn dutch(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let mut b = Browser::new(&admin);
    b.accept_language = Some("nl-NL,nl;q=0.9,en;q=0.5".into());
    b.sign_in().await;

    let r = b.get("/admin/amazon").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("<html lang=\"nl\">"));
    assert!(r.text.contains("Welkom bij Amazon Sales Channel"));
    assert!(!r.text.contains("Welcome to Amazon Sales Channel"));
    assert!(r.text.contains(">Aanmelden</a>"));

    // Store errors in Dutch too.
    let owner = acct.signup().await;
    let (_, key) = acct.create_key(&owner, json!({"name": "prod"})).await;
    admin.store_key(&key).await;
    let csrf = b.csrf();
    let r = b
        .post_form(
            "/admin/amazon/stores",
            &[
                ("csrf", &csrf),
                ("name", ""),
                ("email", "x"),
                ("website", "base"),
                ("marketplace", "JP"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("Naam is verplicht"));
    assert!(r.text.contains("E-mailadres is ongeldig"));
    assert!(r
        .text
        .contains("Deze marktplaats wordt nog niet ondersteund"));

    // The language switcher: the choice wins over the browser and is saved for the user.
    let mut en = Browser::new(&admin);
    en.accept_language = Some("nl".into());
    en.sign_in().await;
    let csrf = en.csrf();
    let r = en
        .post_form(
            "/admin/lang",
            &[("csrf", &csrf), ("lang", "en"), ("next", "/admin/amazon")],
        )
        .await;
    assert!(r.is_redirect());
    assert_eq!(r.location(), Some("/admin/amazon"));
    assert_eq!(en.cookie("adm_lang"), Some("en"));
    let r = en.get("/admin/amazon").await;
    assert!(r.text.contains("Store Integration"));
    assert!(r.text.contains("<html lang=\"en\">"));

    // A new session of the same user, in a Dutch browser without the cookie: English.
    let sid = admin.api_login().await;
    let r = admin
        .http
        .get(admin.url("/admin/amazon"))
        .header("cookie", format!("adm_sid={sid}"))
        .header("accept-language", "nl")
        .send()
        .await
        .expect("test setup");
    let text = r.text().await.expect("test setup");
    assert!(
        text.contains("<html lang=\"en\">"),
        "the saved language wins"
    );

    admin.stop().await;
    acct.stop().await;
}
