//! Every message key the account site uses exists in English and Dutch, and
//! both catalogs have the same keys.

use std::path::{Path, PathBuf};

use account::i18n::CATALOG;
use web::i18n::{used_keys, Lang};

/// Prefixes of catalog keys that code passes around as string literals
/// (field errors, status and environment labels, error pages...).
const LITERAL_PREFIXES: [&str; 8] = [
    "error.",
    "errorpage.",
    "status.",
    "env.",
    "role.",
    "expiry.",
    "portal.",
    "login.",
];

fn files_under(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files_under(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The prefixes to look for: the fixed ones above, and every namespace the
/// English catalog has (`publickey.`, `revoke.`...), so a literal with a
/// typo in its key is caught too.
fn prefixes() -> Vec<String> {
    let mut out: Vec<String> = LITERAL_PREFIXES.iter().map(|p| (*p).to_owned()).collect();
    for key in CATALOG.keys(Lang::En) {
        if let Some((ns, _)) = key.split_once('.') {
            out.push(format!("{ns}."));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// String literals that look like catalog keys with one of the prefixes
/// (template file names like `"error.html"` aside).
fn literal_keys(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in prefixes() {
        let marker = format!("\"{prefix}");
        let mut rest = source;
        while let Some(i) = rest.find(&marker) {
            rest = &rest[i + 1..];
            let Some(end) = rest.find('"') else { break };
            let candidate = &rest[..end];
            let key_like = candidate.len() > prefix.len()
                && !candidate.ends_with(".html")
                && !candidate.ends_with(".txt")
                && candidate.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'
                });
            if key_like {
                out.push(candidate.to_owned());
            }
        }
    }
    out
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn used() -> Vec<String> {
    let root = crate_dir();
    let mut templates = Vec::new();
    files_under(&root.join("templates"), "html", &mut templates);
    let mut sources = Vec::new();
    files_under(&root.join("src"), "rs", &mut sources);
    assert!(templates.len() >= 5, "found the templates: {templates:?}");
    assert!(sources.len() >= 5, "found the sources: {sources:?}");

    let mut keys = Vec::new();
    for t in &templates {
        keys.extend(used_keys(
            &std::fs::read_to_string(t).expect("read template"),
        ));
    }
    for s in &sources {
        let text = std::fs::read_to_string(s).expect("read source");
        keys.extend(used_keys(&text));
        keys.extend(literal_keys(&text));
    }
    // The error page's title and message keys may come from the shared web
    // crate (any of its source files).
    let mut shared = Vec::new();
    files_under(&root.join("../web/src"), "rs", &mut shared);
    for f in &shared {
        let text = std::fs::read_to_string(f).expect("read a web source");
        keys.extend(
            literal_keys(&text)
                .into_iter()
                .filter(|k| k.starts_with("errorpage.")),
        );
    }
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn every_used_key_is_in_both_languages() {
    let used = used();
    // The scan really finds keys of each kind.
    for expected in [
        "portal.add_new",
        "portal.copy",
        "portal.title",
        "login.failed",
        "error.email_taken",
        "error.password_short",
        "status.revoked",
        "env.sandbox",
        "role.owner",
        "errorpage.csrf_title",
    ] {
        assert!(
            used.iter().any(|k| k == expected),
            "the scan finds {expected}"
        );
    }
    let problems = CATALOG.problems(&used);
    assert!(problems.is_empty(), "catalog problems: {problems:#?}");
}

#[test]
fn catalogs_have_the_same_keys_and_no_empty_text() {
    let en = CATALOG.keys(Lang::En);
    let nl = CATALOG.keys(Lang::Nl);
    assert_eq!(en, nl, "English and Dutch have the same keys");
    assert!(en.len() > 50);
    for key in &en {
        for lang in Lang::ALL {
            let text = CATALOG.get(lang, key);
            assert!(
                !text.trim().is_empty() && text != *key,
                "{}: {key} has a text",
                lang.code()
            );
        }
    }
}

#[test]
fn the_documented_labels_are_in_the_catalog() {
    for (key, en, nl) in [
        ("portal.title", "API Portal", "API-portaal"),
        ("portal.add_new", "Add New", "Nieuwe toevoegen"),
        ("portal.copy", "Copy", "Kopiëren"),
        ("nav.sign_in", "Sign in", "Aanmelden"),
    ] {
        assert_eq!(CATALOG.get(Lang::En, key), en);
        assert_eq!(CATALOG.get(Lang::Nl, key), nl);
    }
}

#[test]
fn the_scan_would_notice_a_missing_key() {
    let mut used = used();
    used.push("portal.no_such_key".to_owned());
    let problems = CATALOG.problems(&used);
    assert!(
        problems.iter().any(|p| p.contains("portal.no_such_key")),
        "{problems:?}"
    );
}
