//! Reasons in words: when the gate knows why a key is not valid, the
//! key-status JSON carries the reason's code and the Amazon Sales Channel page
//! names it, with its sentence, in English and in Dutch.

use crate::common::{Account, Admin, Browser, Env};
use admin::gate::Reason;
use admin::i18n::CATALOG;
use reqwest::StatusCode;
use serde_json::json;
use web::i18n::Lang;

both_backends!(reasons_in_json_and_page);

/// Every reason has a sentence of its own in each language: not the key
/// itself, not another reason's, and not left in English in Dutch.
#[test]
fn every_reason_has_a_sentence_in_both_languages() {
    for lang in Lang::ALL {
        let mut seen = std::collections::BTreeSet::new();
        for r in Reason::ALL {
            let s = CATALOG.get(lang, r.catalog_key());
            assert_ne!(
                s,
                r.catalog_key(),
                "{lang:?}: {} has no sentence",
                r.as_str()
            );
            assert!(s.ends_with('.'), "{lang:?}: {s}");
            assert!(
                seen.insert(s),
                "{lang:?}: {} repeats a sentence",
                r.as_str()
            );
        }
    }
    for r in Reason::ALL {
        assert_ne!(
            CATALOG.get(Lang::En, r.catalog_key()),
            CATALOG.get(Lang::Nl, r.catalog_key()),
            "{} is translated",
            r.as_str()
        );
        assert_eq!(r.sentence(), CATALOG.get(Lang::En, r.catalog_key()));
    }
}

/// The channel page in `lang` names `reason`: its code and its sentence.
async fn page_names(b: &mut Browser<'_>, lang: Lang, status: &str, reason: Reason) {
    b.accept_language = Some(lang.code().into());
    let r = b.get("/admin/amazon").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains(&format!("<html lang=\"{}\">", lang.code())));
    assert!(
        r.text.contains(&format!("data-key-status=\"{status}\"")),
        "{status}: {}",
        r.text
    );
    assert!(
        r.text.contains(&format!(
            "data-reason=\"{0}\">{1} <code>{0}</code>",
            reason.as_str(),
            CATALOG.get(lang, "welcome.reason_code")
        )),
        "{lang:?} names {}: {}",
        reason.as_str(),
        r.text
    );
    let sentence = testkit::html_escaped(CATALOG.get(lang, reason.catalog_key()));
    assert!(
        r.text.contains(&sentence),
        "{lang:?} says {}: {sentence}",
        reason.as_str()
    );
    // Only this reason's sentence, not another's.
    for other in Reason::ALL.into_iter().filter(|o| *o != reason) {
        assert!(!r.text.contains(&testkit::html_escaped(
            CATALOG.get(lang, other.catalog_key())
        )));
    }
}

async fn reasons_in_json_and_page(env: &Env) {
    let acct = Account::start(env).await;
    let admin = Admin::start(env, Some(acct.base.clone())).await;
    let sid = admin.api_login().await;
    let mut b = Browser::new(&admin);
    b.sign_in().await;
    let owner = acct.signup().await;

    // No key: no reason anywhere.
    let v = admin.key_status(&sid).await;
    assert_eq!(v["status"], "missing", "{v}");
    assert!(v.get("reason").is_none(), "{v}");
    let r = b.get("/admin/amazon").await;
    assert!(!r.text.contains("data-reason="), "no reason to name");

    // Not a key at all.
    admin.store_key("not-a-key-at-all").await;
    let v = admin.key_status(&sid).await;
    assert_eq!(
        (&v["status"], &v["reason"]),
        (&json!("invalid"), &json!("malformed"))
    );
    for lang in Lang::ALL {
        page_names(&mut b, lang, "invalid", Reason::Malformed).await;
    }

    // A Sandbox key in the Production field.
    let (_, sandbox) = acct
        .create_key(
            &owner,
            json!({"name": "Amazon Sales Channel", "environment": "sandbox"}),
        )
        .await;
    admin.store_key(&sandbox).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(
        (&v["status"], &v["reason"]),
        (&json!("invalid"), &json!("sandbox_key"))
    );
    assert!(v["key_hint"].is_string(), "the other fields stay: {v}");
    assert_eq!(v["expiring_soon"], json!(false), "{v}");
    for lang in Lang::ALL {
        page_names(&mut b, lang, "invalid", Reason::SandboxKey).await;
    }

    // A key made with a key pair (the API Portal's recommended choice),
    // stored without its private key: the calls would be refused, so it is
    // not valid, and the page links to Production Private key.
    let (_, paired) = acct
        .create_key(
            &owner,
            json!({"name": "Amazon Sales Channel", "generate_private_key": true}),
        )
        .await;
    admin.store_key(&paired).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(
        (&v["status"], &v["reason"]),
        (&json!("invalid"), &json!("private_key_missing")),
        "{v}"
    );
    for lang in Lang::ALL {
        page_names(&mut b, lang, "invalid", Reason::PrivateKeyMissing).await;
        let r = b.get("/admin/amazon").await;
        assert!(
            r.text.contains(&format!(
                "<a href=\"{}\" data-private-key-link>{}</a>",
                admin::pages::channel::PRIVATE_KEY_FIELD_URL,
                CATALOG.get(lang, "welcome.add_private_key")
            )),
            "{lang:?}: {}",
            r.text
        );
        assert!(
            !r.text.contains("id=\"integration-title\""),
            "Store Integration stays closed"
        );
    }
    // The link leads to the field itself.
    let config = b.get("/admin/config/edit/section/magento_services").await;
    let anchor = admin::pages::channel::PRIVATE_KEY_FIELD_URL
        .split_once('#')
        .map(|(_, a)| a)
        .unwrap_or_default();
    assert!(
        config.text.contains(&format!("id=\"{anchor}\"")),
        "{}",
        config.text
    );

    // A valid key: no reason.
    let (_, key) = acct.create_key(&owner, json!({"name": "prod"})).await;
    admin.store_key(&key).await;
    let v = admin.key_status(&sid).await;
    assert_eq!(v["status"], "valid", "{v}");
    assert!(v.get("reason").is_none(), "{v}");
    b.accept_language = None;
    let r = b.get("/admin/amazon").await;
    assert!(!r.text.contains("data-reason="));

    // The account service is down: unreachable, because it is down.
    acct.stop().await;
    let v = admin.key_status(&sid).await;
    assert_eq!(
        (&v["status"], &v["reason"]),
        (&json!("unreachable"), &json!("down"))
    );
    for lang in Lang::ALL {
        page_names(&mut b, lang, "unreachable", Reason::Down).await;
    }

    admin.stop().await;
}
