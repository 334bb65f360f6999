//! My Account > Members: who is in the company, invitations (owner) and
//! removal (owner). The page an invitation link opens is `join`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use web::clock::human;
use web::extract::Id;
use web::i18n::T;
use web::page::{CsrfForm, NoFields, SignedIn};
use web::Error;

use super::{field_refusal, Chrome, FormErrors, NoticeQuery, Page, PageResult, COMPANIES};
use crate::members;
use crate::store::Role;
use crate::store::{self, Account};
use crate::AppState;

pub const MEMBERS: &str = "/account/members";

pub struct MemberLine {
    id: String,
    /// The roles an owner may give them instead of theirs.
    other_roles: Vec<RoleAction>,
    name: String,
    email: String,
    role_label: &'static str,
    joined: String,
    is_you: bool,
    /// Signs in with a second step.
    two_factor: bool,
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

/// A role change an owner can make: the role, its button and the
/// button's accessible name (catalog keys; the name takes `{email}`).
pub struct RoleAction {
    value: &'static str,
    label: &'static str,
    aria: &'static str,
}

/// The role changes offered for a member whose role is `role`.
fn other_roles(role: Role) -> Vec<RoleAction> {
    [Role::Owner, Role::Member, Role::Viewer]
        .into_iter()
        .filter(|r| *r != role)
        .map(|r| {
            let (label, aria) = match r {
                Role::Owner => ("members.make_owner", "members.make_owner_label"),
                Role::Member => ("members.make_member", "members.make_member_label"),
                Role::Viewer => ("members.make_viewer", "members.make_viewer_label"),
            };
            RoleAction {
                value: r.as_str(),
                label,
                aria,
            }
        })
        .collect()
}

pub(super) fn role_label(role: Role) -> &'static str {
    match role {
        Role::Owner => "role.owner",
        Role::Member => "role.member",
        Role::Viewer => "role.viewer",
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
    /// The company requires two-step sign-in of every member.
    require_two_factor: bool,
    /// The company's maximum key lifetime in days (empty: no limit).
    lifetime_days: String,
    /// The lifetime field as typed (or the limit set).
    form_lifetime: String,
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
    let with_two_factor = store::members_with_two_factor(&state.db, &user.company_id).await?;
    let require_two_factor =
        store::company_requires_two_factor(&state.db, &user.company_id).await?;
    let max_days = store::key_lifetime(&state.db, &user.company_id).await?;
    let members = store::list_members(&state.db, &user.company_id)
        .await?
        .into_iter()
        .map(|m| MemberLine {
            two_factor: with_two_factor.contains(&m.id),
            is_you: m.id == user.id,
            other_roles: other_roles(m.role),
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
        require_two_factor,
        lifetime_days: max_days.map(|d| d.to_string()).unwrap_or_default(),
        form_lifetime: max_days.map(|d| d.to_string()).unwrap_or_default(),
    };
    Ok((page, cookie))
}

pub async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let notice = q.key(&[
        ("removed", "members.removed"),
        ("withdrawn", "members.withdrawn"),
        ("joined", "members.joined"),
        ("role", "members.role_changed"),
        ("two_factor_required", "members.policy_required_notice"),
        ("two_factor_optional", "members.policy_optional_notice"),
        ("lifetime_set", "members.lifetime_set_notice"),
        ("lifetime_cleared", "members.lifetime_cleared_notice"),
    ]);
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
        Err(e) => errors = field_refusal(e)?.errors,
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

#[derive(Deserialize)]
pub struct LifetimeForm {
    #[serde(default)]
    max_key_lifetime_days: String,
}

/// `POST /account/members/key-lifetime`: the owner sets the company's
/// maximum key lifetime in days (empty: no limit); new keys must expire
/// within it. A number out of range is shown beside the field.
pub async fn set_key_lifetime(
    State(state): State<AppState>,
    SignedIn(user): SignedIn<Account>,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LifetimeForm>,
) -> PageResult {
    if !user.role.is_owner() {
        return Err(crate::AccountError::OwnerOnly.into());
    }
    let typed = form.max_key_lifetime_days.trim();
    let days = match typed {
        "" => Ok(None),
        // Not a number at all: the same message as one out of range.
        n => n.parse::<i64>().map(Some).map_err(|_| {
            crate::AccountError::Invalid(crate::FieldError::new(
                "max_key_lifetime_days",
                "error.lifetime_days",
            ))
        }),
    };
    let result = match days {
        Ok(days) => crate::key_settings::set_max_lifetime(&state, &user, days)
            .await
            .map(|()| days),
        Err(e) => Err(e),
    };
    let refusal = match result {
        Ok(days) => {
            let notice = if days.is_some() {
                "lifetime_set"
            } else {
                "lifetime_cleared"
            };
            return Ok(Redirect::to(&format!("{MEMBERS}?notice={notice}")).into_response());
        }
        Err(e) => field_refusal(e)?,
    };
    let form_values = (String::new(), Role::Member.as_str().to_owned());
    let (mut page, cookie) = members_page(
        &state,
        &headers,
        user,
        None,
        "",
        refusal.errors,
        form_values,
    )
    .await?;
    page.form_lifetime = typed.to_owned();
    Ok(Page::render(cookie, refusal.status, &page))
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
        // Left: on to the companies the account still has (or to make one).
        return Ok(Redirect::to(&format!("{COMPANIES}?notice=left")).into_response());
    }
    Ok(Redirect::to(&format!("{MEMBERS}?notice=removed")).into_response())
}
