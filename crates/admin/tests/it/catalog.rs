//! Every message key the Admin's templates and code use exists in English
//! and in Dutch, and neither language has keys the other lacks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Prefixes of the catalog keys that code names as plain string literals.
const KEY_PREFIXES: &[&str] = &[
    "store.",
    "welcome.",
    "config.",
    "marketplace.",
    "locale.",
    "integration.",
    "login.",
    "channel.",
    "errorpage.",
    "reason.",
    "amazon.",
    "audit.",
    "two_factor.",
    "passkey.",
];

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The string literals of Rust source, skipping comments, char literals and
/// lifetimes, and honouring escapes.
fn string_literals(source: &str) -> Vec<String> {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\'' => {
                // A char literal ('x', '"', '\'') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    i += 2;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            b'"' => {
                let mut lit = Vec::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    if let Some(&c) = b.get(i) {
                        lit.push(c);
                    }
                    i += 1;
                }
                i += 1;
                out.push(String::from_utf8_lossy(&lit).into_owned());
            }
            _ => i += 1,
        }
    }
    out
}

/// String literals of a source file that look like catalog keys
/// (`prefix.rest` of letters, digits, `_` and `.`), file names excluded.
fn key_literals(source: &str) -> Vec<String> {
    string_literals(source)
        .into_iter()
        .filter(|lit| {
            KEY_PREFIXES.iter().any(|p| lit.starts_with(p))
                && lit
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                && !lit.ends_with('.')
                && ![".html", ".rs", ".txt"].iter().any(|e| lit.ends_with(e))
        })
        .collect()
}

fn used_keys() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut used = BTreeSet::new();
    let mut templates = Vec::new();
    files(&root.join("templates"), "html", &mut templates);
    assert!(templates.len() >= 5, "templates found: {templates:?}");
    for f in templates {
        let text = std::fs::read_to_string(&f).expect("read template");
        used.extend(web::i18n::used_keys(&text));
    }
    let mut sources = Vec::new();
    files(&root.join("src"), "rs", &mut sources);
    assert!(sources.len() >= 10, "sources found: {sources:?}");
    for f in sources {
        let text = std::fs::read_to_string(&f).expect("read source");
        used.extend(web::i18n::used_keys(&text));
        used.extend(key_literals(&text));
    }
    // The error pages' keys come from the shared crate.
    for kind in web::page::PageKind::ALL {
        let web::page::ErrorText { title, message } = kind.text();
        used.insert(title.to_owned());
        used.insert(message.to_owned());
    }
    used
}

#[test]
fn every_used_key_exists_in_both_languages() {
    let used: Vec<String> = used_keys().into_iter().collect();
    // The scan finds what it should (so an empty result means something).
    for expected in [
        "welcome.title",
        "welcome.sign_in",
        "welcome.add_key",
        "integration.title",
        "integration.expiry_warning",
        "store.error.name_required",
        "store.error.website",
        "marketplace.GB",
        "locale.nl_NL",
        "config.field.production_api_key",
        "config.error.scope_not_allowed",
        "config.save",
        "login.failed",
        "errorpage.csrf",
        "amazon.connect",
        "amazon.reauthorize",
        "amazon.error.not_configured",
        "amazon.reason.invalid_grant",
        "store.status.reauthorization_required",
        "audit.amazon_store.deleted",
    ] {
        assert!(
            used.iter().any(|k| k == expected),
            "{expected} found among the used keys"
        );
    }
    let problems = admin::i18n::CATALOG.problems(&used);
    assert!(problems.is_empty(), "catalog problems: {problems:#?}");
}

#[test]
fn the_documented_labels_are_the_english_texts() {
    let en = |k| admin::i18n::CATALOG.get(web::i18n::Lang::En, k);
    assert_eq!(en("channel.title"), "Amazon Sales Channel");
    assert_eq!(en("welcome.title"), "Welcome to Amazon Sales Channel");
    assert_eq!(en("welcome.sign_in"), "Sign in");
    assert_eq!(en("welcome.add_key"), "Add the key");
    assert_eq!(en("config.section.magento_services"), "Magento Services");
    assert_eq!(en("config.group.api_keys"), "API Keys");
    assert_eq!(en("config.field.production_api_key"), "Production Api key");
    assert_eq!(en("config.field.sandbox_api_key"), "Sandbox Api key");
    assert_eq!(en("config.save"), "Save Config");
    assert_eq!(en("integration.title"), "Store Integration");
    // SPEC §5's labels of Store Integration.
    assert_eq!(en("amazon.connect"), "Connect store");
    assert_eq!(en("amazon.reauthorize"), "Re-authorize");
    assert_eq!(en("amazon.activate"), "Activate");
    assert_eq!(en("amazon.deactivate"), "Deactivate");
    assert_eq!(en("amazon.delete"), "Delete");
    for (status, label) in [
        ("authorization_pending", "Authorization pending"),
        ("active", "Active"),
        ("inactive", "Inactive"),
        ("authorization_failed", "Authorization failed"),
        ("reauthorization_required", "Re-authorization required"),
    ] {
        let key = format!("store.status.{status}");
        assert_eq!(admin::i18n::CATALOG.get(web::i18n::Lang::En, &key), label);
    }
    // Dutch is a real translation, not a copy.
    let nl = |k| admin::i18n::CATALOG.get(web::i18n::Lang::Nl, k);
    assert_eq!(nl("welcome.title"), "Welkom bij Amazon Sales Channel");
    assert_ne!(
        nl("store.error.name_required"),
        en("store.error.name_required")
    );
}

#[test]
fn the_key_literal_scanner() {
    let src = r#"let a = "store.error.x"; // "odd comment
        let q = '"'; fn f<'a>(x: &'a str) {} t.get("nav.main"); path = "config.html";
        "config." "hello \" world" "welcome.steps_intro""#;
    assert_eq!(
        key_literals(src),
        vec!["store.error.x".to_owned(), "welcome.steps_intro".to_owned()]
    );
}
