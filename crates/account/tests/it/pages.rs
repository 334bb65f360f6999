//! The account site's HTML pages, as a browser uses them: CSRF on every form,
//! Dutch, and forms that cannot be read. Sign-in and sign-up are in
//! pages_signin.rs, the API Portal's keys in pages_keys.rs.

use crate::common::{find_keys, hidden_input, unique_email, App, Browser, TestDb, PASSWORD};
use reqwest::StatusCode;

const PORTAL: &str = "/account/api-portal";

both_backends!(
    forms_need_the_csrf_token,
    dutch_labels,
    the_new_key_panel_says_where_the_private_key_goes,
    unreadable_forms_get_the_error_page,
);

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
    assert!(
        r.text
            .contains("Deze sleutel is gemaakt met een sleutelpaar"),
        "the key pair's note in Dutch"
    );
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
    let csrf =
        crate::common::form_input(&page.text, "/signup", "csrf").expect("csrf on the sign-up page");
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

/// A key made with a key pair works only with its private key: the panel
/// that shows the key says so right after **Copy** (before the private key),
/// so a merchant who copies only the key reads it before leaving the page.
async fn the_new_key_panel_says_where_the_private_key_goes(db: &TestDb) {
    let app = App::start(db).await;
    let email = unique_email("pair");
    app.signup(&email, "Pair Ltd").await;
    let b = Browser::with_language(&app, "en-US,en;q=0.9");
    let r = b.login(&email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let csrf = hidden_input(&b.get(PORTAL).await.text, "csrf").expect("csrf");
    let add = |name: &'static str, signing: &'static str| {
        let csrf = csrf.clone();
        let b = &b;
        async move {
            let r = b
                .post_form(
                    PORTAL,
                    &[
                        ("csrf", csrf.as_str()),
                        ("name", name),
                        ("expiry", "90"),
                        ("signing", signing),
                    ],
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            r.text
        }
    };
    const GENERATED: &str =
        "This key was made with a key pair: it works only together with its private key";

    // The recommended choice: the note, after Copy and before the private key.
    let page = add("Generated", "generate").await;
    let copy = page.find(">Copy</button>").expect("Copy");
    let note = page.find(GENERATED).expect("the note");
    let private = page
        .find("id=\"new-private-key\"")
        .expect("the private key");
    assert!(
        copy < note && note < private,
        "Copy, the note, the private key"
    );
    assert!(page.contains("Production Private key"));
    assert!(
        page.contains("aria-describedby=\"copy-status new-key-signed\""),
        "the key's field is described by the note"
    );

    // No key pair: no note.
    let page = add("Plain", "none").await;
    assert!(page.contains(">Copy</button>"));
    assert!(!page.contains("data-signed-key"), "{page}");
}
