//! Message catalogs: every label, message and validation error of a UI comes
//! from its catalog, one file per language (`key = text` lines), so another
//! language is one more file and no template changes.

use std::collections::HashMap;

use axum::http::{header, HeaderMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Nl,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Nl];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nl => "nl",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "nl" => Some(Lang::Nl),
            _ => None,
        }
    }

    /// The language's own name, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Nl => "Nederlands",
        }
    }

    /// The best supported language of an `Accept-Language` header.
    pub fn from_accept_language(headers: &HeaderMap) -> Option<Lang> {
        let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("");
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::from_code(tag) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map(|(_, l)| l)
    }

    /// The cookie first (the user's choice), then the browser's preference.
    pub fn negotiate(headers: &HeaderMap, cookie_name: &str) -> Lang {
        crate::cookies::get(headers, cookie_name)
            .and_then(Lang::from_code)
            .or_else(|| Lang::from_accept_language(headers))
            .unwrap_or_default()
    }
}

pub struct Catalog {
    en: HashMap<&'static str, &'static str>,
    nl: HashMap<&'static str, &'static str>,
}

fn parse(text: &'static str) -> HashMap<&'static str, &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

impl Catalog {
    pub fn new(en: &'static str, nl: &'static str) -> Self {
        Catalog {
            en: parse(en),
            nl: parse(nl),
        }
    }

    fn table(&self, lang: Lang) -> &HashMap<&'static str, &'static str> {
        match lang {
            Lang::En => &self.en,
            Lang::Nl => &self.nl,
        }
    }

    /// The text for `key`; a key missing from a language falls back to English,
    /// and a key missing everywhere shows itself (tests keep both from happening).
    pub fn get<'a>(&self, lang: Lang, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.table(lang)
            .get(key)
            .or_else(|| self.en.get(key))
            .copied()
            .unwrap_or(key)
    }

    pub fn keys(&self, lang: Lang) -> Vec<&'static str> {
        let mut k: Vec<_> = self.table(lang).keys().copied().collect();
        k.sort_unstable();
        k
    }

    /// Keys used by templates or code that a language lacks, and keys a
    /// language has that English does not: both must be empty.
    pub fn problems(&self, used: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for lang in Lang::ALL {
            for key in used {
                if !self.table(lang).contains_key(key.as_str()) {
                    out.push(format!("{}: missing {key}", lang.code()));
                }
            }
            for key in self.table(lang).keys() {
                if !self.en.contains_key(key) || !self.nl.contains_key(key) {
                    out.push(format!("{}: {key} is not in every language", lang.code()));
                }
            }
        }
        out
    }
}

/// The messages of one request: a catalog and the language chosen.
#[derive(Clone, Copy)]
pub struct T {
    pub catalog: &'static Catalog,
    pub lang: Lang,
}

impl T {
    pub fn get<'a>(&self, key: &'a str) -> &'a str {
        self.catalog.get(self.lang, key)
    }

    /// The text for `key` with `{name}` replaced by `value`.
    pub fn fmt(&self, key: &str, name: &str, value: &str) -> String {
        self.catalog
            .get(self.lang, key)
            .replace(&format!("{{{name}}}"), value)
    }

    pub fn lang(&self) -> &'static str {
        self.lang.code()
    }
}

/// Finds the keys a template or source file uses through `t.get("…")`,
/// `t.fmt("…"` or `msg!("…")`: what the catalog tests check.
pub fn used_keys(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for marker in ["t.get(\"", "t.fmt(\"", "msg(\""] {
        let mut rest = source;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn accept_language() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("nl-NL,nl;q=0.9,en;q=0.8"),
        );
        assert_eq!(Lang::from_accept_language(&h), Some(Lang::Nl));
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de,en;q=0.5,nl;q=0.4"),
        );
        assert_eq!(Lang::from_accept_language(&h), Some(Lang::En));
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("fr"));
        assert_eq!(Lang::negotiate(&h, "lang"), Lang::En);
        h.insert(header::COOKIE, HeaderValue::from_static("lang=nl"));
        assert_eq!(Lang::negotiate(&h, "lang"), Lang::Nl);
    }

    #[test]
    fn catalog_lookup_and_problems() {
        let c: &'static Catalog = Box::leak(Box::new(Catalog::new(
            "a = Hello {name}\nb = Bye",
            "a = Hallo {name}",
        )));
        let t = T {
            catalog: c,
            lang: Lang::Nl,
        };
        assert_eq!(t.fmt("a", "name", "Jan"), "Hallo Jan");
        assert_eq!(t.get("b"), "Bye");
        let p = c.problems(&["a".into(), "b".into(), "c".into()]);
        assert!(p.iter().any(|s| s == "nl: missing b"));
        assert!(p.iter().any(|s| s == "en: missing c"));
    }

    #[test]
    fn finds_used_keys() {
        let k = used_keys(r#"{{ t.get("x.y") }} {{ t.fmt("z", "a", b) }}"#);
        assert_eq!(k, vec!["x.y".to_owned(), "z".to_owned()]);
    }
}
