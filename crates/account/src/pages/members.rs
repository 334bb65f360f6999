//! My Account > Members: who is in the company, invitations (owner), removal
//! (owner), and the page an invitation link opens.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::clock::human;
use web::extract::{ClientIp, Id};
use web::i18n::T;
use web::page::{CsrfForm, NoFields, SignedIn};
use web::{Error, Secret};

use super::{encode, Chrome, FormErrors, Page, PageResult};
use crate::auth::{self, MaybeUser};
use crate::members;
use crate::store::Role;
use crate::store::{self, Account};
use crate::{AccountError, AppState};

pub const MEMBERS: &str = "/account/members";

pub struct MemberLine {
    id: String,
    is_owner: bool,
    name: String,
    email: String,
    role_label: &'static str,
    joined: String,
    is_you: bool,
}

pub struct InvitationLine {
    id: String,
    email: String,
    role_label: &'static str,
    invited_by: String,
    expires: String,
}

/// The invitation just made, with its link (shown to the owner once, on this page).
pub struct NewInvitation {
    email: String,
    url: String,
}

fn role_label(role: Role) -> &'static str {
    if role.is_owner() {
        "role.owner"
    } else {
        "role.member"
    }
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    t: T,
    c: Chrome,
    is_owner: bool,
    members: Vec<MemberLine>,
    invitations: Vec<InvitationLine>,
    created: Option<NewInvitation>,
    smtp: bool,
    notice: &'static str,
    errors: FormErrors,
    form_email: String,
    form_role: String,
}

async fn members_page(
    state: &AppState,
    headers: &HeaderMap,
    user: Account,
    created: Option<NewInvitation>,
    notice: &'static str,
    errors: FormErrors,
    form: (String, String),
) -> Result<(MembersPage, Option<axum::http::HeaderValue>), Error> {
    let now = state.clock.now();
    let is_owner = user.role.is_owner();
    let members = store::list_members(&state.db, &user.company_id)
        .await?
        .into_iter()
        .map(|m| MemberLine {
            is_you: m.id == user.id,
            is_owner: m.role.is_owner(),
            role_label: role_label(m.role),
            joined: human(m.joined_at),
            id: m.id,
            name: m.name,
            email: m.email,
        })
        .collect();
    let invitations = if is_owner {
        store::pending_invitations(&state.db, &user.company_id, now)
            .await?
            .into_iter()
            .map(|i| InvitationLine {
                role_label: role_label(i.role),
                expires: human(i.expires_at),
                id: i.id,
                email: i.email,
                invited_by: i.invited_by,
            })
            .collect()
    } else {
        Vec::new()
    };
    let (t, c, cookie) = Page::new(state, headers, Some(user), MEMBERS).parts();
    let page = MembersPage {
        t,
        c,
        is_owner,
        members,
        invitations,
        created,
        smtp: state.cfg.smtp.is_some(),
        notice,
        errors,
        form_email: form.0,
        form_role: form.1,
    };
    Ok((page, cookie))
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let notice = match q.notice.as_deref() {
        Some("removed") => "members.removed",
        Some("withdrawn") => "members.withdrawn",
        Some("joined") => "members.joined",
        Some("role") => "members.role_changed",
        _ => "",
    };
    let (page, cookie) = members_page(
        &state,
        &headers,
        user,
        None,
        notice,
        FormErrors::default(),
        (String::new(), Role::Member.as_str().into()),
    )
    .await?;
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    email: String,
    role: Option<String>,
}

pub async fn invite(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<InviteForm>,
) -> PageResult {
    let base = members::link_base(&state, &headers)?;
    let mut errors = FormErrors::default();
    let mut created = None;
    match members::invite(&state, &user, &form.email, form.role.as_deref(), &base).await {
        Ok(inv) => {
            created = Some(NewInvitation {
                email: inv.invitation.email,
                url: inv.url,
            })
        }
        Err(e) => match e.field() {
            Some(fe) => errors.add(fe.field, fe.msg),
            None => return Err(e.into()),
        },
    }
    let status = if created.is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let form_values = if created.is_some() {
        (String::new(), Role::Member.as_str().to_owned())
    } else {
        (form.email, form.role.unwrap_or_default())
    };
    let (page, cookie) =
        members_page(&state, &headers, user, created, "", errors, form_values).await?;
    Ok(Page::render(cookie, status, &page))
}

pub async fn withdraw(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    Id(id): Id,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    members::revoke_invitation(&state, &user, &id).await?;
    Ok(Redirect::to(&format!("{MEMBERS}?notice=withdrawn")).into_response())
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: Option<String>,
}

pub async fn change_role(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    Id(id): Id,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> PageResult {
    members::change_role(&state, &user, &id, form.role.as_deref())
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to(&format!("{MEMBERS}?notice=role")).into_response())
}

#[derive(Template)]
#[template(path = "remove_member.html")]
struct RemovePage {
    t: T,
    c: Chrome,
    id: String,
    name: String,
    email: String,
    /// The member removes themself.
    leaving: bool,
    company: String,
}

pub async fn confirm_remove(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Id(id): Id,
) -> PageResult {
    let (member, leaving) = members::removable(&state, &user, &id).await?;
    let path = format!("{MEMBERS}/{id}/remove");
    let company = user.company_name.clone();
    let (t, c, cookie) = Page::new(&state, &headers, Some(user), &path).parts();
    let page = RemovePage {
        t,
        c,
        id: member.id,
        name: member.name,
        email: member.email,
        leaving,
        company,
    };
    Ok(Page::render(cookie, StatusCode::OK, &page))
}

pub async fn remove(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    Id(id): Id,
    CsrfForm(_): CsrfForm<NoFields>,
) -> PageResult {
    members::remove(&state, &user, &id).await?;
    if id == user.id {
        // Left: every session of the account has ended, this one too.
        let mut res = Redirect::to("/login").into_response();
        res.headers_mut().append(
            header::SET_COOKIE,
            web::cookies::clear(
                &web::sessions::cookie_name(&state),
                state.cfg.secure_cookies,
            ),
        );
        return Ok(res);
    }
    Ok(Redirect::to(&format!("{MEMBERS}?notice=removed")).into_response())
}

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
        | E::AlreadyInCompany
        | E::OwnerHasMembers
        | E::OwnerHasKeys => Some(e.page_text().1),
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

pub async fn show_join(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
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

pub async fn submit_join(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeUser(user): MaybeUser,
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
        return match members::accept_signed_in(&state, &user, &token).await {
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
