//! The browser's side of the consent: reading the links the apps and the
//! stand-in hand out, and confirming on the stand-in's consent page.

use reqwest::StatusCode;

use crate::Browser;

/// The value of query parameter `name` in `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` without its scheme and host (a path on the site that serves it).
pub fn path_of(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).expect("a URL");
    match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    }
}

/// Confirms on the stand-in's consent page: the callback URL Seller Central
/// sends the browser back to.
pub async fn consent(consent_url: &str) -> String {
    let sc = Browser::new("");
    let r = sc.get(consent_url).await;
    assert_eq!(r.status, StatusCode::OK, "consent page: {}", r.text);
    assert!(r.text.contains(">Confirm</button>"), "{}", r.text);
    let state = query_param(consent_url, "state").expect("state");
    let redirect_uri = query_param(consent_url, "redirect_uri").expect("redirect_uri");
    let base = consent_url.split("/apps/").next().expect("base");
    let r = sc
        .post_form(
            &format!("{base}/apps/authorize/consent"),
            &[("state", &state), ("redirect_uri", &redirect_uri)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
    r.location().expect("back to the callback").to_owned()
}
