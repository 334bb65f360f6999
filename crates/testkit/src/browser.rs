//! A browser for HTML pages: keeps cookies, follows no redirects, may send an
//! `Accept-Language`, and sends `Origin` on form posts when asked to.

use std::collections::BTreeMap;
use std::sync::Mutex;

use reqwest::header::{HeaderMap, ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, ORIGIN, SET_COOKIE};

use crate::{form_input, http_client, Resp};

/// A browser on one site. Its cookie jar sits behind a lock, so requests
/// take `&self` and a test may fire several at once.
pub struct Browser {
    pub base: String,
    http: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
    pub accept_language: Option<String>,
    /// Sent as `Origin` with every form post, as browsers do; `None`: no `Origin`.
    pub origin: Option<String>,
}

impl Browser {
    /// A browser on the site at `base`, with no cookies yet.
    pub fn new(base: &str) -> Browser {
        Browser {
            base: base.to_owned(),
            http: http_client(),
            jar: Mutex::new(BTreeMap::new()),
            accept_language: None,
            origin: None,
        }
    }

    /// This browser, sending the site's own origin with its form posts.
    pub fn sending_origin(self) -> Browser {
        Browser {
            origin: Some(self.base.clone()),
            ..self
        }
    }

    /// This browser, asking for `lang` with every request.
    pub fn with_language(self, lang: &str) -> Browser {
        Browser {
            accept_language: Some(lang.to_owned()),
            ..self
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().expect("jar").get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .expect("jar")
            .insert(name.to_owned(), value.to_owned());
    }

    /// The `Cookie` header this browser sends; `None` while the jar is empty.
    pub fn cookie_header(&self) -> Option<String> {
        let jar = self.jar.lock().expect("jar");
        (!jar.is_empty()).then(|| {
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn remember(&self, headers: &HeaderMap) {
        let mut jar = self.jar.lock().expect("jar");
        for line in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let Some((name, value)) = line.split(';').next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let deleted = line
                .split(';')
                .any(|attr| attr.trim().eq_ignore_ascii_case("Max-Age=0"));
            if deleted || value.is_empty() {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    async fn send(&self, mut req: reqwest::RequestBuilder) -> Resp {
        if let Some(c) = self.cookie_header() {
            req = req.header(COOKIE, c);
        }
        if let Some(l) = &self.accept_language {
            req = req.header(ACCEPT_LANGUAGE, l.as_str());
        }
        let r = Resp::read(req.send().await.expect("request")).await;
        self.remember(&r.headers);
        r
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(self.url(path))).await
    }

    /// Posts a form, with this browser's `Origin` if it sends one.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        self.post_form_from(path, form, self.origin.as_deref())
            .await
    }

    /// Posts a form that holds only the CSRF token, as the pages' buttons do.
    pub async fn post_button(&self, path: &str, csrf: &str) -> Resp {
        self.post_form(path, &[("csrf", csrf)]).await
    }

    /// Opens `page` and posts its form that posts to `action`: that form's
    /// `csrf` token, then `fields`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let html = self.get(page).await;
        let csrf = form_input(&html.text, action, "csrf")
            .unwrap_or_else(|| panic!("{page} has a form posting to {action}: {}", html.text));
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post_form(action, &form).await
    }

    /// Posts a form with the given `Origin` (or none).
    pub async fn post_form_from(
        &self,
        path: &str,
        form: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Resp {
        let mut req = self.http.post(self.url(path)).form(form);
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        self.send(req).await
    }

    /// Posts a form with an extra request header (e.g. a foreign `Origin`,
    /// which then replaces this browser's own).
    pub async fn post_form_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        header: (&str, &str),
    ) -> Resp {
        let origin = self
            .origin
            .as_deref()
            .filter(|_| !header.0.eq_ignore_ascii_case("origin"));
        let mut req = self.http.post(self.url(path)).form(form);
        if let Some(o) = origin {
            req = req.header(ORIGIN, o);
        }
        self.send(req.header(header.0, header.1)).await
    }

    /// Posts a raw form body (bytes as given), with this browser's `Origin`
    /// if it sends one.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> Resp {
        let mut req = self
            .http
            .post(self.url(path))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(o) = &self.origin {
            req = req.header(ORIGIN, o.as_str());
        }
        self.send(req).await
    }

    /// Sends any body with any content type (no `Origin`).
    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        self.send(
            self.http
                .request(method, self.url(path))
                .header(CONTENT_TYPE, content_type)
                .body(body),
        )
        .await
    }
}
