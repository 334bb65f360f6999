//! Company members and invitations: list, invite, withdraw, accept, remove.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::clock::rfc3339;
use web::extract::ApiJson;
use web::extract::Id;
use web::Error;

use super::openapi::ErrorBody;
use super::sessions::AccountAnswer;
use crate::auth::{CurrentPerson, CurrentUser, CurrentUserWrite};
use crate::members;
use crate::store::{self, InvitationRow, MemberRow, Role};
use crate::AppState;

/// A member of the company.
#[derive(Serialize, ToSchema)]
pub struct MemberView {
    id: String,
    email: String,
    name: String,
    role: Role,
    #[schema(format = DateTime)]
    joined_at: String,
}

impl From<MemberRow> for MemberView {
    fn from(m: MemberRow) -> Self {
        MemberView {
            id: m.id,
            email: m.email,
            name: m.name,
            role: m.role,
            joined_at: rfc3339(m.joined_at),
        }
    }
}

/// An invitation that can still be accepted.
#[derive(Serialize, ToSchema)]
pub struct InvitationView {
    id: String,
    email: String,
    role: Role,
    /// The inviting owner's email.
    invited_by: String,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

impl From<InvitationRow> for InvitationView {
    fn from(i: InvitationRow) -> Self {
        InvitationView {
            id: i.id,
            email: i.email,
            role: i.role,
            invited_by: i.invited_by,
            created_at: rfc3339(i.created_at),
            expires_at: rfc3339(i.expires_at),
        }
    }
}

/// The answer of `GET /api/v1/members`: `{"members": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct MemberList {
    members: Vec<MemberView>,
}

/// The company's members, owners first; every member may see them.
#[utoipa::path(
    get,
    path = "/api/v1/members",
    operation_id = "list_members",
    tag = "members",
    security(("session" = [])),
    responses(
        (status = 200, description = "The members.", body = MemberList),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "`no_company`: the account belongs to no company.", body = ErrorBody),
    )
)]
pub async fn list_members(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, Error> {
    let rows = store::list_members(&state.db, &user.company_id).await?;
    let members: Vec<MemberView> = rows.into_iter().map(MemberView::from).collect();
    Ok(Json(MemberList { members }).into_response())
}

/// The owner removes a member, or a member removes themself (leaves).
///
/// Every session of that account ends at once, the account moves to a new
/// empty company of its own, and the company's keys stay. Owners cannot
/// remove themselves (409).
#[utoipa::path(
    delete,
    path = "/api/v1/members/{id}",
    operation_id = "remove_member",
    tag = "members",
    security(("session" = [])),
    params(("id" = String, Path, description = "The member's account id.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the role may not do this.", body = ErrorBody),
        (status = 404, description = "No member with this id.", body = ErrorBody),
        (status = 409, description = "An owner cannot remove themself.", body = ErrorBody),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
) -> Result<Response, Error> {
    members::remove(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    #[schema(value_type = Role)]
    role: String,
}

/// The answer of a role change: `{"member": {...}}`.
#[derive(Serialize, ToSchema)]
pub struct MemberAnswer {
    member: MemberView,
}

/// The owner makes another member an owner, or an owner a member.
///
/// It applies from the member's next request. Owners cannot change their own
/// role (409).
#[utoipa::path(
    patch,
    path = "/api/v1/members/{id}",
    operation_id = "change_member_role",
    tag = "members",
    security(("session" = [])),
    params(("id" = String, Path, description = "The member's account id.")),
    request_body(content = inline(RoleBody)),
    responses(
        (status = 200, description = "The member with the new role.", body = MemberAnswer),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the role may not do this.", body = ErrorBody),
        (status = 404, description = "No member with this id.", body = ErrorBody),
        (status = 409, description = "An owner cannot change their own role.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
    )
)]
pub async fn change_role(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<Response, Error> {
    let member = members::change_role(&state, &user, &id, Some(&body.role)).await?;
    Ok(Json(MemberAnswer {
        member: MemberView::from(member),
    })
    .into_response())
}

/// The answer of `GET /api/v1/invitations`: `{"invitations": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct InvitationList {
    invitations: Vec<InvitationView>,
}

/// The company's invitations that can still be accepted, newest first (owner only).
#[utoipa::path(
    get,
    path = "/api/v1/invitations",
    operation_id = "list_invitations",
    tag = "members",
    security(("session" = [])),
    responses(
        (status = 200, description = "Pending invitations.", body = InvitationList),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "The role may not do this.", body = ErrorBody),
    )
)]
pub async fn list_invitations(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, Error> {
    members::require_owner(&user)?;
    let rows = store::pending_invitations(&state.db, &user.company_id, state.clock.now()).await?;
    let invitations: Vec<InvitationView> = rows.into_iter().map(InvitationView::from).collect();
    Ok(Json(InvitationList { invitations }).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    /// `member` when left out.
    #[schema(value_type = Option<Role>)]
    role: Option<String>,
}

/// The answer of an invitation: `{"invitation": {...}, "url": link}`.
#[derive(Serialize, ToSchema)]
pub struct Invited {
    invitation: InvitationView,
    /// The invitation link.
    url: String,
}

/// The owner invites someone by email (owner only).
///
/// The link (single use, valid 7 days) is returned and sent through the
/// outbox; an earlier pending invitation of the same email stops working.
#[utoipa::path(
    post,
    path = "/api/v1/invitations",
    operation_id = "invite_member",
    tag = "members",
    security(("session" = [])),
    request_body(content = inline(InviteBody)),
    responses(
        (status = 201, description = "Invited.", body = Invited),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the role may not do this.", body = ErrorBody),
        (status = 409, description = "The email is already a member.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
        (status = 429, description = "Too many invitations.", body = ErrorBody),
    )
)]
pub async fn invite(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    headers: HeaderMap,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<Response, Error> {
    let base = members::link_base(&state, &headers)?;
    let invited = members::invite(&state, &user, &body.email, body.role.as_deref(), &base).await?;
    Ok((
        StatusCode::CREATED,
        Json(Invited {
            invitation: InvitationView::from(invited.invitation),
            url: invited.url,
        }),
    )
        .into_response())
}

/// The owner withdraws a pending invitation: its link stops working.
#[utoipa::path(
    delete,
    path = "/api/v1/invitations/{id}",
    operation_id = "withdraw_invitation",
    tag = "members",
    security(("session" = [])),
    params(("id" = String, Path, description = "The invitation's id.")),
    responses(
        (status = 204, description = "Withdrawn."),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the role may not do this.", body = ErrorBody),
        (status = 404, description = "No pending invitation with this id.", body = ErrorBody),
    )
)]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
) -> Result<Response, Error> {
    members::revoke_invitation(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The part of the invitation link after `/join/`.
    token: String,
}

/// A signed-in account accepts an invitation made for its email.
///
/// It joins the inviting company with the invitation's role and keeps every
/// company it had; the company becomes the session's current one. An
/// account that is a member already gets 409.
#[utoipa::path(
    post,
    path = "/api/v1/invitations/accept",
    operation_id = "accept_invitation",
    tag = "members",
    security(("session" = [])),
    request_body(content = inline(AcceptBody)),
    responses(
        (status = 200, description = "Joined.", body = AccountAnswer),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the invitation is for another email.", body = ErrorBody),
        (status = 404, description = "No such invitation.", body = ErrorBody),
        (status = 409, description = "The account is a member of the company already.", body = ErrorBody),
        (status = 410, description = "The invitation has expired or was used.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
        (status = 503, description = "Busy; try again.", body = ErrorBody),
    )
)]
pub async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    CurrentPerson(user): CurrentPerson,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Response, Error> {
    crate::auth::check_same_origin(&headers, state.cfg.secure_cookies)?;
    let hash = crate::auth::session_hash(&state, &headers);
    let account = members::accept_signed_in(&state, &user, &body.token, hash.as_deref()).await?;
    Ok(Json(AccountAnswer::new(&account)).into_response())
}
