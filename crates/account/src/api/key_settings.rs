//! Changing a key: its name, disabling and enabling it, its allowed
//! addresses and services (SPEC §10).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Deserializer};
use utoipa::ToSchema;
use web::extract::{ApiJson, Id};
use web::Error;

use crate::auth::CurrentUserWrite;
use crate::key_settings::{self, KeyChangeInput};
use crate::AppState;

use super::keys::KeyView;
use super::openapi::ErrorBody;

/// A field that may be sent as `null` (which is not the same as leaving it
/// out): left out is `None`, `null` is `Some(None)`.
pub(super) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// What to change; a field left out stays as it is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyChangeBody {
    name: Option<String>,
    /// `true` switches the key off (it verifies as `disabled`), `false` on again.
    disabled: Option<bool>,
    /// Addresses and CIDR ranges, at most 50; `null` or `[]`: any address.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>, max_items = 50)]
    allowed_ips: Option<Option<Vec<String>>>,
    /// Service names, at least one; `null`: every service.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>)]
    services: Option<Option<Vec<String>>>,
}

/// Changes a key. Every node verifies it as changed within a second.
#[utoipa::path(
    patch,
    path = "/api/v1/keys/{id}",
    operation_id = "update_key",
    tag = "keys",
    security(("session" = [])),
    params(("id" = String, Path, description = "The key's id.")),
    request_body(content = inline(KeyChangeBody)),
    responses(
        (status = 200, description = "The key, as it is now.", body = KeyView),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the role may not do this.", body = ErrorBody),
        (status = 404, description = "No key with this id.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid; the message names it.", body = ErrorBody),
    )
)]
pub async fn update_key(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
    ApiJson(body): ApiJson<KeyChangeBody>,
) -> Result<Response, Error> {
    let input = KeyChangeInput {
        name: body.name,
        disabled: body.disabled,
        allowed_ips: body.allowed_ips,
        services: body.services,
    };
    let row = key_settings::change_key(&state, &user, &id, input).await?;
    Ok(Json(KeyView::new(row, state.clock.now())).into_response())
}
