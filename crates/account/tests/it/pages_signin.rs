//! The account site's sign-in and sign-up pages, as a browser uses them: the
//! sign-in redirect and its `next`, sign-up and sign-out.

use crate::common::{form_input, hidden_input, unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;

const PORTAL: &str = "/account/api-portal";

both_backends!(
    signed_out_visitors_are_sent_to_sign_in,
    sign_in_ignores_a_foreign_next,
    sign_up_and_sign_out_through_the_pages,
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
    let cache = login.header("cache-control");
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
    let r = browser.post_button("/logout", &csrf).await;
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
