//! Seller Central's pages: consent, the log-in flow's confirmation, and
//! *Manage Your Apps* > Re-Authorize.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;

use super::{issue, random, Ctx};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Seller Central (stand-in)</title></head><body><main><h1>{}</h1>{body}</main></body></html>",
        esc(title),
        esc(title)
    );
    // A strict policy, as Seller Central's own pages have; the consent form
    // posts here and is then redirected to the application's redirect URI.
    (
        status,
        [(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'",
        )],
        Html(html),
    )
        .into_response()
}

fn consent_page(
    app: &str,
    state: &str,
    redirect_uri: &str,
    amazon_state: Option<&str>,
) -> Response {
    let amazon_state = amazon_state
        .map(|s| {
            format!(
                "<input type=\"hidden\" name=\"amazon_state\" value=\"{}\">",
                esc(s)
            )
        })
        .unwrap_or_default();
    page(
        StatusCode::OK,
        "Authorize application",
        &format!(
            "<p>The application {} asks for access to your selling account.</p>\
             <form method=\"post\" action=\"/apps/authorize/consent\">\
             <input type=\"hidden\" name=\"state\" value=\"{}\">\
             <input type=\"hidden\" name=\"redirect_uri\" value=\"{}\">{amazon_state}\
             <button type=\"submit\">Confirm</button></form>",
            esc(app),
            esc(state),
            esc(redirect_uri)
        ),
    )
}

fn usable_redirect(uri: &str) -> bool {
    (uri.starts_with("http://") || uri.starts_with("https://")) && !uri.contains('#')
}

pub(crate) async fn consent(
    State(ctx): State<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let app = ctx.shared.lock().cfg.application_id.clone();
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    if get("application_id") != app {
        return page(
            StatusCode::BAD_REQUEST,
            "Unknown application",
            "<p>The application_id is not known.</p>",
        );
    }
    if get("state").is_empty() || !usable_redirect(get("redirect_uri")) {
        return page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "<p>state and redirect_uri are required.</p>",
        );
    }
    consent_page(&app, get("state"), get("redirect_uri"), None)
}

/// The log-in flow's `amazon_callback_uri`.
pub(crate) async fn login_consent(
    State(ctx): State<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let (app, known) = {
        let inner = ctx.shared.lock();
        let known = inner.amazon_states.get(get("amazon_state")) == Some(&false);
        (inner.cfg.application_id.clone(), known)
    };
    if !known || get("state").is_empty() || !usable_redirect(get("redirect_uri")) {
        return page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "<p>amazon_state, state and redirect_uri are required.</p>",
        );
    }
    consent_page(
        &app,
        get("state"),
        get("redirect_uri"),
        Some(get("amazon_state")),
    )
}

pub(crate) async fn confirm_consent(
    State(ctx): State<Ctx>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let (state, redirect_uri) = (get("state"), get("redirect_uri"));
    if state.is_empty() || !usable_redirect(redirect_uri) {
        return page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "<p>state and redirect_uri are required.</p>",
        );
    }
    let now = ctx.shared.clock.now();
    let mut inner = ctx.shared.lock();
    if let Some(amazon_state) = f.get("amazon_state") {
        match inner.amazon_states.get_mut(amazon_state) {
            Some(used @ false) => *used = true,
            _ => {
                return page(
                    StatusCode::BAD_REQUEST,
                    "Bad request",
                    "<p>amazon_state is not valid.</p>",
                )
            }
        }
    }
    let client_id = inner.cfg.client_id.clone();
    let seller = inner.cfg.seller_id.clone();
    let code = issue(&mut inner, &client_id, redirect_uri, now);
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!(
        "{redirect_uri}{sep}state={}&selling_partner_id={}&spapi_oauth_code={code}",
        web::page::encode(state),
        web::page::encode(&seller)
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// *Manage Your Apps* > **Authorize** / **Re-Authorize**: sends the seller to
/// the application's log-in URI.
pub(crate) async fn reauthorize(
    State(ctx): State<Ctx>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut inner = ctx.shared.lock();
    let Some(login_uri) = inner.cfg.login_uri.clone() else {
        return page(
            StatusCode::BAD_REQUEST,
            "No log-in URI",
            "<p>The application has no log-in URI.</p>",
        );
    };
    let amazon_state = format!("amzst{}", random(24));
    inner.amazon_states.insert(amazon_state.clone(), false);
    let seller = inner.cfg.seller_id.clone();
    let callback = format!("{}/apps/authorize/confirm", ctx.url);
    let sep = if login_uri.contains('?') { '&' } else { '?' };
    let mut location = format!(
        "{login_uri}{sep}amazon_callback_uri={}&amazon_state={amazon_state}&selling_partner_id={seller}",
        web::page::encode(&callback).replace('/', "%2F")
    );
    if q.get("version").is_some_and(|v| v == "beta") {
        location.push_str("&version=beta");
    }
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}
