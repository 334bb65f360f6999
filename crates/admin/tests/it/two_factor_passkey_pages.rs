//! Passkeys on the Admin's pages (as a browser on `localhost`, with CSRF):
//! the setup page offers **Add a passkey** beside the app, the
//! **Two-step sign-in** page offers **Use a passkey**, and *Account Setting*
//! lists the passkeys (name, added, last used) with **Remove** (a code
//! unless a second step was proved within 10 minutes; never the last one
//! while required) and **Add a passkey**. The ceremonies themselves run
//! through the JSON API the pages' script calls. On SQLite and PostgreSQL.

use reqwest::StatusCode;
use testkit::webauthn::SoftAuthenticator;

use crate::common::{hidden_csrf, Env};
use crate::two_factor::start_required;
use crate::two_factor_passkeys::{add, localhost, login_options, prove};

both_backends!(passkey_pages);

/// A browser on `localhost` that sends the Admin's origin with its forms.
fn browser(base: &str, lang: Option<&str>) -> testkit::Browser {
    let b = testkit::Browser::new(base).sending_origin();
    match lang {
        Some(l) => b.with_language(l),
        None => b,
    }
}

/// The password through the sign-in form: where it led (no session yet).
async fn password_form(b: &testkit::Browser, password: &str) -> String {
    let page = b.get("/admin/login?next=/admin/amazon").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden_csrf(&page.text).expect("csrf");
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "admin"),
        ("password", password),
        ("next", "/admin/amazon"),
    ];
    let r = b.post_form("/admin/login", &fields).await;
    assert!(r.is_redirect(), "login: {} {}", r.status, r.text);
    assert!(b.cookie("adm_sid").is_none(), "no session yet");
    r.location().expect("a location").to_owned()
}

/// Posts a passkey's Remove form of Account Setting with `code`.
async fn remove_form(b: &testkit::Browser, id: &str, code: &str) -> testkit::Resp {
    let csrf = b.cookie("adm_csrf").expect("a CSRF cookie");
    let path = format!("/admin/system/account/two-factor/passkeys/{id}/remove");
    b.post_form(&path, &[("csrf", &csrf), ("code", code)]).await
}

async fn passkey_pages(env: &Env) {
    let (admin, clock) = start_required(env).await;
    let base = localhost(&admin);
    let pw = admin.password.clone();

    // The setup page offers a passkey beside the app.
    let b = browser(&base, None);
    let to = password_form(&b, &pw).await;
    assert_eq!(to, "/admin/login/two-factor/setup?next=/admin/amazon");
    let page = b.get(&to).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for text in [
        "or add a passkey",
        "data-passkey=\"register\"",
        "data-passkey-options=\"/admin/api/v1/account/two-factor/passkeys/options\"",
        "data-passkey-finish=\"/admin/api/v1/account/two-factor/passkeys\"",
        "data-passkey-next=\"/admin/amazon\"",
        ">Add a passkey</h2>",
        ">Passkey name</label>",
        "id=\"passkey-codes\"",
        ">Authentication code</label>",
    ] {
        assert!(page.text.contains(text), "{text}: {}", page.text);
    }
    let mut auth = SoftAuthenticator::new(&base);
    let r = add(&b, &mut auth, "YubiKey 5").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert!(b.cookie("adm_sid").is_some(), "the setup's session");
    let codes: Vec<String> =
        serde_json::from_value(r.json()["recovery_codes"].clone()).expect("recovery codes");

    // The second step offers the passkey (and, without an app, a recovery
    // code instead of the app's code).
    let b = browser(&base, None);
    let to = password_form(&b, &pw).await;
    assert_eq!(to, "/admin/login/two-factor?next=/admin/amazon");
    let page = b.get(&to).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "<h1>Two-step sign-in</h1>",
        ">Use a passkey</button>",
        "data-passkey=\"authenticate\"",
        "data-passkey-options=\"/admin/api/v1/login/two-factor/passkey/options\"",
        "data-passkey-finish=\"/admin/api/v1/login/two-factor/passkey\"",
        ">Recovery code</label>",
        ">Verify</button>",
    ] {
        assert!(page.text.contains(text), "{text}: {}", page.text);
    }
    assert!(
        !page.text.contains("authenticator app</a>"),
        "no app to use"
    );
    let options = login_options(&b).await;
    assert_eq!(prove(&b, &auth.get(&options)).await.status, StatusCode::OK);

    // Account Setting lists it, used; a second one never used.
    let mut spare = SoftAuthenticator::new(&base);
    let r = add(&b, &mut spare, "Spare key").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let spare_id = r.json()["passkey"]["id"].as_str().expect("id").to_owned();
    let page = b.get("/admin/system/account").await;
    assert_eq!(page.status, StatusCode::OK);
    for text in [
        "data-two-factor=\"on\"",
        "On: you sign in with a passkey or security key.",
        ">Passkeys and security keys</h3>",
        "<strong>YubiKey 5</strong>",
        "<strong>Spare key</strong>",
        "last used ",
        "never used",
        "aria-label=\"Remove passkey Spare key\"",
        ">Code to remove Spare key</label>",
        ">Add a passkey</h3>",
    ] {
        assert!(page.text.contains(text), "{text}: {}", page.text);
    }
    assert_eq!(page.text.matches("Added 20").count(), 2, "{}", page.text);

    // Eleven minutes on, removing needs a code.
    clock.advance(11 * 60);
    let r = remove_form(&b, &spare_id, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert!(r.text.contains("role=\"alert\""), "{}", r.text);
    assert!(r.text.contains("This code is not correct"), "{}", r.text);
    assert!(r.text.contains("<strong>Spare key</strong>"));
    let r = remove_form(&b, &spare_id, &codes[0]).await;
    assert!(r.is_redirect(), "{} {}", r.status, r.text);
    let page = b.get(r.location().expect("back")).await;
    assert!(
        page.text.contains("The passkey is removed."),
        "{}",
        page.text
    );
    assert!(!page.text.contains("Spare key"));

    // The last one stays while second steps are required.
    let id = page
        .text
        .split("/two-factor/passkeys/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("the Remove form's passkey")
        .to_owned();
    let r = remove_form(&b, &id, &codes[1]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert!(
        r.text.contains("This is your last second step"),
        "{}",
        r.text
    );
    assert!(r.text.contains("<strong>YubiKey 5</strong>"));

    // In Dutch.
    let nl = browser(&base, Some("nl"));
    let to = password_form(&nl, &pw).await;
    let page = nl.get(&to).await;
    assert!(
        page.text.contains(">Passkey gebruiken</button>"),
        "{}",
        page.text
    );
    admin.stop().await;
}
