//! The account site's HTML pages, as a browser uses them: the sign-in
//! redirect and its `next`, CSRF on every form, the API Portal with Add New
//! and the key shown once, revocation, sign-up and sign-out, and Dutch.

#[macro_use]
mod common;

use common::{find_keys, form_input, hidden_input, unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

const PORTAL: &str = "/account/api-portal";

both_backends!(
    signed_out_visitors_are_sent_to_sign_in,
    sign_in_ignores_a_foreign_next,
    forms_need_the_csrf_token,
    a_new_key_is_shown_once,
    revoke_through_the_pages,
    sign_up_and_sign_out_through_the_pages,
    dutch_labels,
    unreadable_forms_get_the_error_page,
);

fn assert_login_redirect(location: Option<&str>, what: &str) {
    let loc = location.unwrap_or_else(|| panic!("{what}: a Location header"));
    assert!(
        loc == "/login?next=%2Faccount%2Fapi-portal" || loc == "/login?next=/account/api-portal",
        "{what}: redirected to {loc}"
    );
}

async fn signed_out_visitors_are_sent_to_sign_in(db: &TestDb) {
    let app = App::start(db).await;
    let browser = Browser::new(&app);

    let r = browser.get(PORTAL).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_login_redirect(r.location(), "portal");
    let root = browser.get("/").await;
    assert!(root.status.is_redirection());
    assert_eq!(root.location(), Some(PORTAL));
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::SEE_OTHER);
    assert!(account
        .location()
        .is_some_and(|l| l.starts_with("/login?next=")));
    // A made-up session cookie is no session.
    browser.set_cookie("acct_sid", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let forged = browser.get(PORTAL).await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);

    // The login page it leads to: says why, carries `next`, sets the CSRF cookie.
    let login = browser.get("/login?next=/account/api-portal").await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        login.text.contains("Sign in to open the API Portal."),
        "the reason is shown"
    );
    assert_eq!(
        form_input(&login.text, "/login", "next").as_deref(),
        Some(PORTAL)
    );
    let csrf_line = login
        .set_cookie_line("acct_csrf")
        .expect("the CSRF cookie is set");
    assert!(
        csrf_line.contains("HttpOnly") && csrf_line.contains("SameSite="),
        "{csrf_line}"
    );
    assert_eq!(
        hidden_input(&login.text, "csrf"),
        browser.cookie("acct_csrf"),
        "the form's token is the cookie's"
    );
    assert!(
        login.text.contains("href=\"/signup?next="),
        "a visitor without an account can register"
    );
    let cache = login
        .headers
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        cache.contains("no-store"),
        "pages are not cached: {cache:?}"
    );
    app.stop().await;
}

async fn sign_in_ignores_a_foreign_next(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("pages-login");
    app.signup(&email, "Pages Co").await;

    for evil in [
        "//evil.example",
        "https://evil.example/x",
        "/\\evil.example",
    ] {
        let browser = Browser::new(&app);
        let page = browser
            .get(&format!(
                "/login?next={}",
                evil.replace('/', "%2F").replace('\\', "%5C")
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(
            !page.text.contains("evil.example"),
            "{evil}: not carried into the page"
        );
        let csrf = hidden_input(&page.text, "csrf").expect("csrf input");
        assert_eq!(Some(csrf.clone()), browser.cookie("acct_csrf"));
        let next = form_input(&page.text, "/login", "next").expect("next input");
        // Post the foreign `next` anyway, as a tampered form would.
        let r = browser
            .post_form(
                "/login",
                &[
                    ("csrf", &csrf),
                    ("email", &email),
                    ("password", PASSWORD),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{evil}: {}", r.text);
        assert_eq!(r.location(), Some(PORTAL), "{evil}: not sent away");
        assert_eq!(next, PORTAL);
        assert!(r.cookie("acct_sid").is_some(), "signed in");

        let portal = browser.get(PORTAL).await;
        assert_eq!(portal.status, StatusCode::OK);
        assert!(portal.text.contains("API Portal"), "the API Portal tab");
        assert!(portal.text.contains("Add New"), "the Add New button");
        assert!(portal.text.contains(&email), "who is signed in");
        // Signed in, /login goes straight on, and still not to a foreign site.
        let again = browser.get(&format!("/login?next={evil}")).await;
        assert_eq!(again.status, StatusCode::SEE_OTHER);
        assert_eq!(again.location(), Some(PORTAL));
    }

    // A local `next` is kept.
    let browser = Browser::new(&app);
    let page = browser.get("/login?next=/account").await;
    let csrf = hidden_input(&page.text, "csrf").expect("csrf input");
    let r = browser
        .post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", &email),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(r.location(), Some("/account"));
    let account = browser.get("/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.text.contains("Pages Co") && account.text.contains("Owner"));

    // A wrong password re-shows the form with a message, and signs no one in.
    let browser = Browser::new(&app);
    let r = browser.login(&email, "wrong password!!").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("The email or password is not correct."));
    assert!(
        !r.text.contains("wrong password!!"),
        "the password is not echoed"
    );
    assert!(browser.cookie("acct_sid").is_none());
    let unknown = browser.login(&unique_email("nobody"), PASSWORD).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn forms_need_the_csrf_token(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("csrf");
    app.signup(&email, "CSRF Co").await;
    let browser = Browser::new(&app);
    let page = browser.get("/login").await;
    let csrf = hidden_input(&page.text, "csrf").expect("csrf input");

    // Sign-in without the token, with a wrong one, or without the cookie: 403.
    let none = browser
        .post_form("/login", &[("email", &email), ("password", PASSWORD)])
        .await;
    assert_eq!(
        none.status,
        StatusCode::FORBIDDEN,
        "no token: {}",
        none.text
    );
    assert!(none.cookie("acct_sid").is_none());
    let wrong = browser
        .post_form(
            "/login",
            &[
                ("csrf", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"),
                ("email", &email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(
        wrong.text.contains("Please try again"),
        "an error page, not a bare status"
    );
    let cookieless = Browser::new(&app);
    let r = cookieless
        .post_form(
            "/login",
            &[("csrf", &csrf), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "the token alone is not enough"
    );
    // The right token from another site: 403.
    let foreign = browser
        .post_form_with(
            "/login",
            &[("csrf", &csrf), ("email", &email), ("password", PASSWORD)],
            ("Origin", "http://evil.example"),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert!(browser.cookie("acct_sid").is_none(), "still signed out");

    // Signed in, the portal's forms need the token too.
    let ok = browser
        .post_form(
            "/login",
            &[("csrf", &csrf), ("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let add = [
        ("name", "No token"),
        ("environment", "production"),
        ("expiry", "365"),
    ];
    let r = browser.post_form(PORTAL, &add).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "create without token: {}",
        r.text
    );
    assert!(find_keys(&r.text).is_empty());
    let with_wrong: Vec<(&str, &str)> = add
        .iter()
        .copied()
        .chain([("csrf", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")])
        .collect();
    let r = browser.post_form(PORTAL, &with_wrong).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let with_right: Vec<(&str, &str)> = add
        .iter()
        .copied()
        .chain([("csrf", csrf.as_str())])
        .collect();
    let r = browser
        .post_form_with(PORTAL, &with_right, ("Origin", "http://evil.example"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "cross-origin create");
    let portal = browser.get(PORTAL).await;
    assert!(
        portal.text.contains("No keys yet."),
        "no form above created a key"
    );

    // Sign-out and language switch need it as well.
    let r = browser.post_form("/logout", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get(PORTAL).await.status,
        StatusCode::OK,
        "still signed in"
    );
    let r = browser.post_form("/lang", &[("lang", "nl")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.cookie("acct_lang"),
        None,
        "the language did not change"
    );
    let new_email = unique_email("csrf-signup");
    let signup = [
        ("name", "n"),
        ("company", "c"),
        ("email", new_email.as_str()),
        ("password", PASSWORD),
    ];
    let r = Browser::new(&app).post_form("/signup", &signup).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "sign-up without token: {}",
        r.text
    );
    let free = app.signup_raw(&new_email, PASSWORD, "c").await;
    assert_eq!(
        free.status,
        StatusCode::CREATED,
        "the refused form created no account"
    );
    app.stop().await;
}

/// Signs in through the pages and returns the browser and the portal's CSRF token.
async fn signed_in_browser(app: &App, email: &str) -> (Browser, String) {
    let browser = Browser::new(app);
    let r = browser.login(email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let portal = browser.get(PORTAL).await;
    assert_eq!(portal.status, StatusCode::OK);
    let csrf = hidden_input(&portal.text, "csrf").expect("csrf input");
    (browser, csrf)
}

async fn a_new_key_is_shown_once(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("portal");
    let sid = app.signup(&email, "Portal Co").await;
    let (browser, csrf) = signed_in_browser(&app, &email).await;

    let r = browser
        .post_form(
            PORTAL,
            &[
                ("csrf", &csrf),
                ("name", "Amazon Sales Channel"),
                ("environment", "production"),
                ("expiry", "365"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let shown = find_keys(&r.text);
    assert_eq!(shown.len(), 1, "the new key is on the page once: {shown:?}");
    let key = shown[0].clone();
    assert!(key.starts_with("cmk_live_"));
    assert!(
        r.text.contains(&format!("value=\"{key}\"")),
        "in a field to copy from"
    );
    assert!(
        r.text.contains("data-copy-target=\"new-key-value\""),
        "a Copy button"
    );
    assert!(r.text.contains(">Copy</button>"), "labelled Copy");
    assert!(r.text.contains("Amazon Sales Channel"));
    let cache = r
        .headers
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        cache.contains("no-store"),
        "a page showing a key is not cached"
    );

    // The key works, and the API lists it with the name and expiry chosen.
    assert_eq!(app.verify_status(&key).await, "valid");
    let (_, keys) = app.list_keys(&sid).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["name"], json!("Amazon Sales Channel"));
    assert!(
        keys[0]["expires_at"].is_string(),
        "365 days: an expiry is set"
    );

    // A reload shows the key's name and hint, never the key again.
    let reload = browser.get(PORTAL).await;
    assert_eq!(reload.status, StatusCode::OK);
    assert!(!reload.text.contains(&key), "the key is shown only once");
    assert!(find_keys(&reload.text).is_empty());
    assert!(reload.text.contains("Amazon Sales Channel"));
    assert!(
        reload.text.contains(&key[key.len() - 4..]),
        "the hint's last characters"
    );
    assert!(!reload.text.contains("data-copy-target"));

    // Sandbox, never expiring.
    let r = browser
        .post_form(
            PORTAL,
            &[
                ("csrf", &csrf),
                ("name", "Staging"),
                ("environment", "sandbox"),
                ("expiry", "never"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let sandbox = find_keys(&r.text);
    assert_eq!(sandbox.len(), 1);
    assert!(sandbox[0].starts_with("cmk_test_"));
    assert_eq!(app.verify_status(&sandbox[0]).await, "valid");

    // Form errors: re-shown with 422, the input kept, no key made.
    let r = browser
        .post_form(
            PORTAL,
            &[
                ("csrf", &csrf),
                ("name", "  "),
                ("environment", "production"),
                ("expiry", "30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("This field is required."));
    assert!(find_keys(&r.text).is_empty());
    let r = browser
        .post_form(
            PORTAL,
            &[
                ("csrf", &csrf),
                ("name", "Dated"),
                ("environment", "production"),
                ("expiry", "custom"),
                ("expiry_date", "2001-01-01"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("value=\"Dated\""), "the name is kept");
    assert!(find_keys(&r.text).is_empty());
    for (field, value) in [("environment", "staging"), ("expiry", "7")] {
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("name", "Odd"),
            ("environment", "production"),
            ("expiry", "30"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let r = browser.post_form(PORTAL, &form).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}"
        );
    }
    let (_, keys) = app.list_keys(&sid).await;
    assert_eq!(keys.len(), 2, "only the two good forms made keys");
    app.stop().await;
}

async fn revoke_through_the_pages(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("revoke-page");
    let sid = app.signup(&email, "Revoke Co").await;
    let created = app.create_key(&sid, json!({"name": "To revoke"})).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let key = created["key"].as_str().expect("key").to_owned();
    let (browser, csrf) = signed_in_browser(&app, &email).await;

    let portal = browser.get(PORTAL).await;
    let link = format!("{PORTAL}/keys/{id}/revoke");
    assert!(portal.text.contains(&link), "a Revoke link per valid key");
    let confirm = browser.get(&link).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.text.contains("To revoke"));
    assert!(!confirm.text.contains(&key));

    // Another company can neither see nor revoke it.
    let other_email = unique_email("other");
    app.signup(&other_email, "Other Co").await;
    let (other, other_csrf) = signed_in_browser(&app, &other_email).await;
    let r = other.get(&link).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text.contains("<html"), "an error page");
    let r = other.post_form(&link, &[("csrf", &other_csrf)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(app.verify_status(&key).await, "valid");

    // The owner confirms: back to the portal with a notice, and the key is revoked.
    let r = browser.post_form(&link, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some("/account/api-portal?notice=revoked"));
    assert_eq!(app.verify_status(&key).await, "revoked");
    let after = browser.get("/account/api-portal?notice=revoked").await;
    assert!(after.text.contains("The key was revoked."));
    assert!(after.text.contains("Revoked"), "the status badge");
    assert!(
        !after.text.contains(&link),
        "no Revoke link for a revoked key"
    );
    app.stop().await;
}

async fn sign_up_and_sign_out_through_the_pages(db: &TestDb) {
    let app = App::start(db).await;
    let browser = Browser::new(&app);
    let page = browser.get("/signup?next=/account/api-portal").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden_input(&page.text, "csrf").expect("csrf input");
    let email = unique_email("form-signup");

    // A short password: the form again, 422, with the fields kept.
    let r = browser
        .post_form(
            "/signup",
            &[
                ("csrf", &csrf),
                ("name", "Form User"),
                ("company", "Form Co"),
                ("email", &email),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("at least 12 characters"));
    assert!(r.text.contains(&format!("value=\"{email}\"")) && r.text.contains("value=\"Form Co\""));
    assert!(browser.cookie("acct_sid").is_none());

    let form = [
        ("csrf", csrf.as_str()),
        ("name", "Form User"),
        ("company", "Form Co"),
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("next", PORTAL),
    ];
    let r = browser.post_form("/signup", &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some(PORTAL));
    assert!(browser.cookie("acct_sid").is_some());
    let portal = browser.get(PORTAL).await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(portal.text.contains(&email));

    // The same email again from another browser: 422 with the reason.
    let second = Browser::new(&app);
    let p = second.get("/signup").await;
    let c2 = hidden_input(&p.text, "csrf").expect("csrf input");
    let mut form2 = form;
    form2[0] = ("csrf", c2.as_str());
    let r = second.post_form("/signup", &form2).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("already exists"));

    // Sign out: back to /login, and the old session no longer opens the portal.
    let sid = browser.cookie("acct_sid").expect("sid");
    let r = browser.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some("/login"));
    assert!(
        browser.cookie("acct_sid").is_none(),
        "the cookie is cleared"
    );
    assert_eq!(browser.get(PORTAL).await.status, StatusCode::SEE_OTHER);
    let replay = app.get("/api/v1/keys", Some(&sid)).await;
    assert_eq!(
        replay.status,
        StatusCode::UNAUTHORIZED,
        "the session is gone on the server too"
    );
    app.stop().await;
}

async fn dutch_labels(db: &TestDb) {
    let app = App::start(db).await;

    // A Dutch browser: the login page in Dutch.
    let nl = Browser::with_language(&app, "nl-NL,nl;q=0.9,en;q=0.5");
    let login = nl.get("/login").await;
    assert!(login.text.contains("<html lang=\"nl\">"), "lang attribute");
    assert!(login.text.contains("Aanmelden") && login.text.contains("Wachtwoord"));

    // Sign up in Dutch: the portal is in Dutch.
    let csrf = hidden_input(&nl.get("/signup").await.text, "csrf").expect("csrf");
    let email = unique_email("nl");
    let r = nl
        .post_form(
            "/signup",
            &[
                ("csrf", &csrf),
                ("name", "Jan"),
                ("company", "Jansen B.V."),
                ("email", &email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let portal = nl.get(PORTAL).await;
    assert_eq!(portal.status, StatusCode::OK);
    assert!(portal.text.contains("Nieuwe toevoegen"), "Add New in Dutch");
    assert!(portal.text.contains("API-portaal"));
    assert!(!portal.text.contains("Add New"));
    let r = nl
        .post_form(
            PORTAL,
            &[("csrf", &csrf), ("name", "Winkel"), ("expiry", "90")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains(">Kopiëren</button>"), "Copy in Dutch");
    assert_eq!(find_keys(&r.text).len(), 1);

    // An English browser sees English; choosing Dutch switches it.
    let en = Browser::with_language(&app, "en-US,en;q=0.9");
    let login = en.get("/login").await;
    assert!(login.text.contains("<html lang=\"en\">"));
    assert!(!login.text.contains("Wachtwoord"));
    let en_email = unique_email("en");
    app.signup(&en_email, "English Ltd").await;
    let r = en.login(&en_email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let portal = en.get(PORTAL).await;
    assert!(portal.text.contains("Add New") && !portal.text.contains("Nieuwe toevoegen"));
    let token = hidden_input(&portal.text, "csrf").expect("csrf");
    let r = en
        .post_form(
            "/lang",
            &[("csrf", &token), ("lang", "nl"), ("next", PORTAL)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), Some(PORTAL));
    assert_eq!(en.cookie("acct_lang").as_deref(), Some("nl"));
    let portal = en.get(PORTAL).await;
    assert!(
        portal.text.contains("Nieuwe toevoegen"),
        "switched to Dutch"
    );
    // The choice is saved on the account: another English browser signing in gets Dutch.
    let fresh = Browser::with_language(&app, "en");
    fresh.login(&en_email, PASSWORD).await;
    let portal = fresh.get(PORTAL).await;
    assert!(
        portal.text.contains("Nieuwe toevoegen"),
        "the saved language wins over the browser's"
    );
    // Error pages are translated too.
    let r = nl
        .post_form(
            "/login",
            &[("csrf", "x"), ("email", "a"), ("password", "b")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("Probeer het opnieuw"), "a Dutch error page");
    app.stop().await;
}

async fn unreadable_forms_get_the_error_page(db: &TestDb) {
    let app = App::start(db).await;
    let browser = Browser::with_language(&app, "nl");
    let page = browser.get("/signup").await;
    let csrf = common::form_input(&page.text, "/signup", "csrf").expect("csrf on the sign-up page");
    // A field missing (a hand-made or truncated post): the site's error page
    // in the visitor's language, 422, never a plain-text line.
    let r = browser
        .post_form("/signup", &[("csrf", &csrf), ("email", "a@b.example")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("<html lang=\"nl\""), "{}", r.text);
    assert!(r.text.contains("Dit formulier kon niet worden gelezen"));
    assert!(!r.text.contains("a@b.example"), "no submitted value echoed");
    // Not a form at all.
    let r = browser
        .send_raw(
            reqwest::Method::POST,
            "/login",
            "application/json",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);
    assert!(r.text.contains("Dit formulier kon niet worden gelezen"));
    app.stop().await;
}
