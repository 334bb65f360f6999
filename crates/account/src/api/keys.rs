//! The company's keys: list, create, revoke.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use web::clock::{parse_rfc3339, rfc3339};
use web::extract::ApiJson;
use web::Error;

use crate::auth::{CurrentUser, CurrentUserWrite};
use crate::domain::{self, FieldError, NewKeyInput};
use crate::store::{self, KeyRow};
use crate::AppState;

/// A key as the API shows it: never the secret or its hash.
#[derive(Serialize)]
pub struct KeyView {
    id: String,
    name: String,
    environment: String,
    hint: String,
    status: &'static str,
    created_at: String,
    created_by: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
}

impl KeyView {
    fn new(row: KeyRow, now: i64) -> Self {
        KeyView {
            status: domain::key_status(&row, now),
            id: row.id,
            name: row.name,
            environment: row.environment,
            hint: row.hint,
            created_at: rfc3339(row.created_at),
            created_by: row.created_by_email,
            expires_at: row.expires_at.map(rfc3339),
            last_used_at: row.last_used_at.map(rfc3339),
        }
    }
}

pub async fn list_keys(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Response, Error> {
    let rows = store::list_keys(&state.db, &user.company_id).await?;
    let now = state.clock.now();
    let keys: Vec<KeyView> = rows.into_iter().map(|r| KeyView::new(r, now)).collect();
    Ok(Json(serde_json::json!({ "keys": keys })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyBody {
    name: String,
    environment: Option<String>,
    expires_at: Option<String>,
}

#[derive(Serialize)]
struct CreatedKey {
    #[serde(flatten)]
    view: KeyView,
    key: String,
}

pub async fn create_key(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    ApiJson(body): ApiJson<CreateKeyBody>,
) -> Result<Response, Error> {
    let environment = domain::parse_environment(body.environment.as_deref())?;
    let expires_at = match body.expires_at.as_deref() {
        None => None,
        Some(s) => Some(
            parse_rfc3339(s)
                .ok_or_else(|| FieldError::new("expires_at", "error.expiry_format").to_error())?,
        ),
    };
    let (row, key) = domain::create_key(
        &state,
        &user,
        NewKeyInput {
            name: body.name,
            environment,
            expires_at,
        },
    )
    .await?;
    let created = CreatedKey {
        view: KeyView::new(row, state.clock.now()),
        key: key.expose().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

pub async fn revoke_key(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    domain::revoke_key(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
