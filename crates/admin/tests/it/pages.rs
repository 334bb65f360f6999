//! The Admin's pages over real HTTP: sign-in, CSRF and origin checks, and
//! Dutch. The Amazon Sales Channel gate, Store Integration and the Magento
//! Services configuration: pages_config.rs.

use crate::common::{hidden_csrf, Account, Admin, Browser, Env, CONFIG_PAGE, KEY_FIELD};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(sign_in, forgeries_are_refused, dutch);

async fn sign_in(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let b = Browser::new(&admin);

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
    let r = b.post_button("/admin/logout", &csrf).await;
    assert!(r.is_redirect());
    assert!(b.cookie("adm_sid").is_none());
    assert!(b.get("/admin/amazon").await.is_redirect());

    admin.stop().await;
    acct.stop().await;
}

async fn forgeries_are_refused(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let owner = acct.signup().await;
    let (_, key) = acct.create_key(&owner, json!({"name": "prod"})).await;
    admin.store_key(&key).await;
    let b = Browser::new(&admin);
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
    let other = Browser::new(&admin);
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
    let anon = Browser::new(&admin);
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
    assert_eq!(en.cookie("adm_lang").as_deref(), Some("en"));
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
