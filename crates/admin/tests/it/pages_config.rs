//! The Admin's configuration pages over real HTTP: the Amazon Sales Channel
//! gate and the Magento Services configuration, and Store Integration.

use crate::common::{Account, Admin, Browser, Env, CONFIG_PAGE, KEY_FIELD};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(gate_page_and_config, store_integration);

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

async fn gate_page_and_config(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let b = Browser::new(&admin);
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
    let b = Browser::new(&admin);
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
    assert!(r.text.contains("-name\">My US Store</td>"));
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
    assert!(contains_escaped(&r.text, "-name\">", "<b>Shop & Co</b>"));
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
