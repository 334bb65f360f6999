//! Two-step sign-in on the Admin's pages (with CSRF, as a browser): the
//! setup right after the password and before any other page, the recovery
//! codes shown once, the **Two-step sign-in** page with its labels, and the
//! section of *System > Account Setting*. On SQLite and PostgreSQL.

use std::sync::Arc;

use reqwest::StatusCode;
use web::two_factor::totp::code_at;
use web::{Clock, ManualClock, SystemClock};

use crate::common::{hidden_csrf, Admin, Browser, Env};
use crate::two_factor::start_required;
use admin::two_factor::Policy;

both_backends!(
    setup_comes_before_any_page,
    second_step_page_signs_in,
    account_setting_section,
);

/// The setup key shown on a setup page, without its spaces.
fn shown_secret(html: &str) -> String {
    let at = html
        .find("id=\"totp-secret\"")
        .expect("the setup key field");
    let rest = &html[at..];
    let v = rest.find('>').expect("its text") + 1;
    let end = rest[v..].find("</textarea>").expect("the text's end");
    rest[v..v + end].replace(' ', "")
}

/// Password through the sign-in form; returns where it led.
async fn password_form(b: &Browser<'_>) -> String {
    let page = b.get("/admin/login?next=/admin/amazon").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = b.csrf();
    let password = b.admin.password.clone();
    let r = b
        .post_form(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", "admin"),
                ("password", &password),
                ("next", "/admin/amazon"),
            ],
        )
        .await;
    assert!(r.is_redirect(), "login: {} {}", r.status, r.text);
    assert!(
        b.cookie("adm_sid").is_none(),
        "no session after the password alone"
    );
    assert!(b.cookie("adm_2fa").is_some(), "a pending sign-in");
    r.location().expect("a location").to_owned()
}

/// The setup at the first sign-in through the pages: returns the secret.
async fn set_up_by_pages(b: &Browser<'_>, clock: &ManualClock) -> String {
    let to = password_form(b).await;
    assert_eq!(to, "/admin/login/two-factor/setup?next=/admin/amazon");
    // Before the setup, every other page sends back to sign in.
    for page in ["/admin/amazon", "/admin/system/account", "/admin/config"] {
        let r = b.get(page).await;
        assert!(r.is_redirect(), "{page}: {}", r.status);
        assert!(r.location().unwrap_or("").starts_with("/admin/"), "{page}");
        assert!(b.cookie("adm_sid").is_none());
    }
    let page = b.get(&to).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains("<title>Set up two-step sign-in"),
        "{}",
        page.text
    );
    assert!(page.text.contains("<svg role=\"img\""), "a QR code");
    assert!(page.text.contains("Authentication code"));
    let secret = shown_secret(&page.text);
    assert_eq!(secret.len(), 32);
    let csrf = b.csrf();
    let r = b
        .post_form(
            "/admin/login/two-factor/setup",
            &[
                ("csrf", &csrf),
                ("code", "12345x"),
                ("next", "/admin/amazon"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(shown_secret(&r.text), secret, "the same key shown again");
    assert!(b.cookie("adm_sid").is_none());
    let code = code_at(&secret, clock.now()).expect("code");
    let r = b
        .post_form(
            "/admin/login/two-factor/setup",
            &[("csrf", &csrf), ("code", &code), ("next", "/admin/amazon")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Save your recovery codes"), "{}", r.text);
    assert_eq!(shown_codes(&r.text).len(), 10, "{}", r.text);
    assert!(r.text.contains("href=\"/admin/amazon\""), "on to the Admin");
    assert!(b.cookie("adm_sid").is_some(), "signed in");
    assert!(b.cookie("adm_2fa").is_none(), "the pending sign-in ended");
    secret
}

/// The recovery codes listed on a page (`<li>abcde-fghij</li>`).
fn shown_codes(html: &str) -> Vec<String> {
    html.split("<li>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</li>"))
        .map(|(code, _)| code.to_owned())
        .filter(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
        .collect()
}

async fn setup_comes_before_any_page(env: &Env) {
    let (admin, clock) = start_required(env).await;
    let b = Browser::new(&admin);
    set_up_by_pages(&b, &clock).await;
    let r = b.get("/admin/amazon").await;
    assert_eq!(r.status, StatusCode::OK);
    // A post without the CSRF token is refused.
    let b2 = Browser::new(&admin);
    b2.get("/admin/login").await;
    let r = b2
        .post_form("/admin/login/two-factor/setup", &[("code", "123456")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    admin.stop().await;
}

async fn second_step_page_signs_in(env: &Env) {
    let (admin, clock) = start_required(env).await;
    let secret = {
        let b = Browser::new(&admin);
        set_up_by_pages(&b, &clock).await
    };
    let b = Browser::new(&admin);
    let to = password_form(&b).await;
    assert_eq!(to, "/admin/login/two-factor?next=/admin/amazon");
    let page = b.get(&to).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "<title>Two-step sign-in",
        "<h1>Two-step sign-in</h1>",
        ">Authentication code</label>",
        ">Verify</button>",
        ">Use a recovery code</a>",
    ] {
        assert!(page.text.contains(text), "{text}: {}", page.text);
    }
    let csrf = hidden_csrf(&page.text).expect("csrf");
    // The code used for the setup is spent; wrong codes show an error.
    let used = code_at(&secret, clock.now()).expect("code");
    let r = b
        .post_form(
            "/admin/login/two-factor",
            &[("csrf", &csrf), ("code", &used), ("next", "/admin/amazon")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("role=\"alert\""));
    assert!(b.cookie("adm_sid").is_none());
    clock.advance(30);
    let code = code_at(&secret, clock.now()).expect("code");
    let r = b
        .post_form(
            "/admin/login/two-factor",
            &[("csrf", &csrf), ("code", &code), ("next", "/admin/amazon")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), Some("/admin/amazon"));
    assert!(b.cookie("adm_sid").is_some());
    // The recovery code form, in Dutch too.
    let nl = Browser::with_language(&admin, "nl");
    let to = password_form(&nl).await;
    let page = nl.get(&to.replace('?', "?method=recovery&")).await;
    assert!(page.text.contains("Herstelcode"), "{}", page.text);
    assert!(page.text.contains("Aanmelden in twee stappen"));
    admin.stop().await;
}

async fn account_setting_section(env: &Env) {
    let clock = ManualClock::new(SystemClock.now());
    let admin = Admin::start_with(env, None, Policy::Optional, Arc::new(clock.clone())).await;
    let b = Browser::new(&admin);
    b.sign_in().await;
    let page = b.get("/admin/system/account").await;
    assert!(
        page.text.contains("data-two-factor=\"off\""),
        "{}",
        page.text
    );
    assert!(page.text.contains(">Set up authenticator app</button>"));
    let csrf = b.csrf();
    let r = b
        .post_button("/admin/system/account/two-factor/totp", &csrf)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let secret = shown_secret(&r.text);
    let code = code_at(&secret, clock.now()).expect("code");
    let r = b
        .post_form(
            "/admin/system/account/two-factor/totp/confirm",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Save your recovery codes"));
    let page = b.get("/admin/system/account").await;
    assert!(page.text.contains("data-two-factor=\"on\""));
    assert!(
        page.text.contains("Recovery codes left: 10."),
        "{}",
        page.text
    );
    assert!(page.text.contains(">Turn off</button>"));
    // New recovery codes need a current code.
    let r = b
        .post_form(
            "/admin/system/account/two-factor/recovery-codes",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a spent code");
    clock.advance(30);
    let code = code_at(&secret, clock.now()).expect("code");
    let r = b
        .post_form(
            "/admin/system/account/two-factor/recovery-codes",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Save your recovery codes"));
    // Turned off with the next code.
    clock.advance(30);
    let code = code_at(&secret, clock.now()).expect("code");
    let r = b
        .post_form(
            "/admin/system/account/two-factor/off",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    let page = b.get(r.location().expect("back")).await;
    assert!(page.text.contains("data-two-factor=\"off\""));
    assert!(page.text.contains("Two-step sign-in is off."));
    let password = admin.password.clone();
    admin.stop().await;

    // While required, there is no Turn off, and a post is refused.
    let (mut admin, clock) = start_required(env).await;
    admin.password = password;
    let b = Browser::new(&admin);
    let secret = set_up_by_pages(&b, &clock).await;
    let page = b.get("/admin/system/account").await;
    assert!(page.text.contains("data-two-factor=\"on\""));
    assert!(!page.text.contains(">Turn off</button>"));
    let csrf = b.csrf();
    clock.advance(30);
    let code = code_at(&secret, clock.now()).expect("code");
    let r = b
        .post_form(
            "/admin/system/account/two-factor/off",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    admin.stop().await;
}
