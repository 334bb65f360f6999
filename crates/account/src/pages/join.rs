//! The page an invitation link opens: join the company, signed in or with a
//! new account.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::clock::human;
use web::extract::{ClientIp, Id};
use web::i18n::T;
use web::page::CsrfForm;
use web::{Error, Secret};

use super::members::{role_label, MEMBERS};
use super::{encode, Chrome, FormErrors, Page, PageResult};
use crate::auth::{self, MaybePerson};
use crate::members;
use crate::store::Account;
use crate::{AccountError, AppState};

#[derive(Template)]
#[template(path = "join.html")]
struct JoinPage {
    t: T,
    c: Chrome,
    token: String,
    /// Why the link cannot be used (a catalog key), or empty.
    problem: &'static str,
    company: String,
    email: String,
    invited_by: String,
    role_label: &'static str,
    expires: String,
    /// Why the signed-in account cannot join (a catalog key), or empty.
    blocked: &'static str,
    login_next: String,
    errors: FormErrors,
    form_name: String,
}

/// The catalog key of an error that stops a visitor from using a link.
/// The join page's own sentence for a refusal of its link, or `None` for
/// any other error (shown on the error page).
fn problem_key(e: &AccountError) -> Option<&'static str> {
    use AccountError as E;
    match e {
        E::LinkInvalid
        | E::InvitationUsed
        | E::InvitationRevoked
        | E::InvitationExpired
        | E::InvitationGoneMeanwhile
        | E::WrongAccount
        | E::AlreadyInCompany => Some(e.page_text().1),
        _ => None,
    }
}

async fn join_page(
    state: &AppState,
    headers: &HeaderMap,
    user: Option<Account>,
    token: &str,
    errors: FormErrors,
    form_name: String,
) -> Result<(StatusCode, JoinPage, Option<axum::http::HeaderValue>), Error> {
    let path = format!("/join/{token}");
    let opened = members::open(state, token).await;
    let blocked = match (&opened, &user) {
        (Ok(inv), Some(u)) => members::cannot_accept(state, u, inv).await?,
        _ => None,
    };
    let (t, c, cookie) = Page::new(state, headers, user, &path).parts();
    let mut page = JoinPage {
        t,
        c,
        token: token.to_owned(),
        problem: "",
        company: String::new(),
        email: String::new(),
        invited_by: String::new(),
        role_label: "role.member",
        expires: String::new(),
        blocked: "",
        login_next: encode(&path),
        errors,
        form_name,
    };
    let status = match opened {
        Ok(inv) => {
            page.company = inv.company_name;
            page.email = inv.email;
            page.invited_by = inv.invited_by;
            page.role_label = role_label(inv.role);
            page.expires = human(inv.expires_at);
            // A blocked visitor still sees the page: it says why and what to do.
            if let Some(e) = blocked {
                page.blocked = problem_key(&e).unwrap_or("join.invalid");
            }
            StatusCode::OK
        }
        Err(e) => {
            let Some(key) = problem_key(&e) else {
                return Err(e.into());
            };
            page.problem = key;
            Error::from(e).status()
        }
    };
    Ok((status, page, cookie))
}

pub async fn show(
    State(state): State<AppState>,
    MaybePerson(user): MaybePerson,
    headers: HeaderMap,
    Id(token): Id,
) -> PageResult {
    let (status, page, cookie) = join_page(
        &state,
        &headers,
        user,
        &token,
        FormErrors::default(),
        String::new(),
    )
    .await?;
    // The token is in the path; `Referrer-Policy: same-origin` (every page)
    // keeps it out of other sites' Referer.
    Ok(Page::render(cookie, status, &page))
}

#[derive(Deserialize)]
pub struct JoinForm {
    /// Present for a new account; absent when a signed-in account joins.
    name: Option<String>,
    password: Option<Secret>,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybePerson(user): MaybePerson,
    headers: HeaderMap,
    Id(token): Id,
    CsrfForm(form): CsrfForm<JoinForm>,
) -> PageResult {
    let done = |cookie: Option<axum::http::HeaderValue>| {
        let mut res = Redirect::to(&format!("{MEMBERS}?notice=joined")).into_response();
        if let Some(c) = cookie {
            res.headers_mut().append(header::SET_COOKIE, c);
        }
        Ok(res)
    };
    if let Some(user) = user {
        let hash = auth::session_hash(&state, &headers);
        return match members::accept_signed_in(&state, &user, &token, hash.as_deref()).await {
            Ok(_) => done(None),
            Err(e) if problem_key(&e).is_some() => {
                // The page says why; the status is the refusal's.
                let (_, page, cookie) = join_page(
                    &state,
                    &headers,
                    Some(user),
                    &token,
                    FormErrors::default(),
                    String::new(),
                )
                .await?;
                Ok(Page::render(cookie, Error::from(e).status(), &page))
            }
            Err(e) => Err(e.into()),
        };
    }
    let name = form.name.unwrap_or_default();
    let password = form.password.unwrap_or_else(|| Secret::new(""));
    let lang = crate::i18n::for_request(&headers, None).lang;
    let all = crate::accounts::signup_field_errors(None, &password, &name, None);
    if !all.is_empty() {
        let errors = super::field_errors(all);
        let (status, page, cookie) =
            join_page(&state, &headers, None, &token, errors, name).await?;
        // A link that no longer works says so first.
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(Page::render(cookie, status, &page));
    }
    match members::accept_new_account(&state, ip, &token, None, &name, password, lang.code()).await
    {
        Ok(account) => {
            // A company that requires a second step: set up before any session.
            if crate::two_factor::after_password(&state, &account).await?
                == crate::two_factor::Next::Setup
            {
                let email = account.email.clone();
                let cookie = crate::two_factor::begin(&state, &account, &email, true).await?;
                let next = encode(&format!("{MEMBERS}?notice=joined"));
                let to = format!("{}?next={next}", super::two_factor::SETUP);
                let mut res = Redirect::to(&to).into_response();
                res.headers_mut().append(header::SET_COOKIE, cookie);
                return Ok(res);
            }
            let cookie = auth::start_session(
                &state,
                &account.id,
                &web::sessions::Client::new(&headers, ip),
            )
            .await?;
            done(Some(cookie))
        }
        Err(e) => {
            if let Some(fe) = e.field() {
                let mut errors = FormErrors::default();
                errors.add(fe.field, fe.msg);
                let (_, page, cookie) =
                    join_page(&state, &headers, None, &token, errors, name).await?;
                return Ok(Page::render(
                    cookie,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &page,
                ));
            }
            if problem_key(&e).is_some() {
                let (status, page, cookie) =
                    join_page(&state, &headers, None, &token, FormErrors::default(), name).await?;
                return Ok(Page::render(cookie, status, &page));
            }
            Err(e.into())
        }
    }
}
