//! Company members and invitations: list, invite, withdraw, accept, remove.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use web::clock::rfc3339;
use web::extract::ApiJson;
use web::extract::Id;
use web::Error;

use super::sessions::AccountAnswer;
use crate::auth::{CurrentUser, CurrentUserWrite};
use crate::members;
use crate::store::{self, InvitationRow, MemberRow};
use crate::AppState;

#[derive(Serialize)]
struct MemberView {
    id: String,
    email: String,
    name: String,
    role: String,
    joined_at: String,
}

impl From<MemberRow> for MemberView {
    fn from(m: MemberRow) -> Self {
        MemberView {
            id: m.id,
            email: m.email,
            name: m.name,
            role: m.role.as_str().to_owned(),
            joined_at: rfc3339(m.joined_at),
        }
    }
}

#[derive(Serialize)]
struct InvitationView {
    id: String,
    email: String,
    role: String,
    invited_by: String,
    created_at: String,
    expires_at: String,
}

impl From<InvitationRow> for InvitationView {
    fn from(i: InvitationRow) -> Self {
        InvitationView {
            id: i.id,
            email: i.email,
            role: i.role.as_str().to_owned(),
            invited_by: i.invited_by,
            created_at: rfc3339(i.created_at),
            expires_at: rfc3339(i.expires_at),
        }
    }
}

/// The company's members; every member may see them.
pub async fn list_members(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, Error> {
    let rows = store::list_members(&state.db, &user.company_id).await?;
    let members: Vec<MemberView> = rows.into_iter().map(MemberView::from).collect();
    Ok(Json(json!({ "members": members })).into_response())
}

/// The owner removes a member; their sessions end at once.
pub async fn remove_member(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
) -> Result<Response, Error> {
    members::remove(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    role: String,
}

/// The owner changes another member's role.
pub async fn change_role(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<Response, Error> {
    let member = members::change_role(&state, &user, &id, Some(&body.role)).await?;
    Ok(Json(json!({ "member": MemberView::from(member) })).into_response())
}

/// The company's invitations that can still be accepted (owner only).
pub async fn list_invitations(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, Error> {
    members::require_owner(&user)?;
    let rows = store::pending_invitations(&state.db, &user.company_id, state.clock.now()).await?;
    let invitations: Vec<InvitationView> = rows.into_iter().map(InvitationView::from).collect();
    Ok(Json(json!({ "invitations": invitations })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    role: Option<String>,
}

/// The owner invites someone by email: 201 with the invitation and its link
/// (also sent through the outbox).
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
        Json(json!({
            "invitation": InvitationView::from(invited.invitation),
            "url": invited.url,
        })),
    )
        .into_response())
}

/// The owner withdraws a pending invitation.
pub async fn revoke_invitation(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
) -> Result<Response, Error> {
    members::revoke_invitation(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    token: String,
}

/// A signed-in account accepts an invitation made for its email.
pub async fn accept(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Response, Error> {
    let account = members::accept_signed_in(&state, &user, &body.token).await?;
    Ok(Json(AccountAnswer::new(&account)).into_response())
}
