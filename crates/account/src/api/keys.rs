//! The company's keys: list, create, roll, revoke.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web::clock::rfc3339;
use web::extract::ApiJson;
use web::extract::Id;
use web::Error;

use crate::api_keys::{self, NewKeyInput, Signing};
use crate::auth::{CurrentUser, CurrentUserWrite};
use crate::store::KeyRow;
use crate::AppState;
use crate::{AccountError, FieldError};

use super::openapi::{Environment, ErrorBody};
use crate::verify::Status;

/// A key as the API shows it: never the secret or its hash.
/// Answers that carry a key or a private key must not be kept by any cache.
pub(super) const NO_STORE: [(axum::http::HeaderName, axum::http::HeaderValue); 1] = [(
    axum::http::header::CACHE_CONTROL,
    axum::http::HeaderValue::from_static("no-store"),
)];

#[derive(Serialize, ToSchema)]
pub struct KeyView {
    id: String,
    name: String,
    #[schema(value_type = Environment)]
    environment: String,
    hint: String,
    status: Status,
    #[schema(format = DateTime)]
    created_at: String,
    created_by: String,
    /// `null`: the key does not expire.
    #[schema(format = DateTime, required = true)]
    expires_at: Option<String>,
    /// `null`: never used.
    #[schema(format = DateTime, required = true)]
    last_used_at: Option<String>,
    has_public_key: bool,
    #[schema(required = true)]
    public_key_fingerprint: Option<String>,
    /// The key that replaced this one when it was rolled.
    #[schema(required = true)]
    replaced_by: Option<String>,
    /// Switched off: verifies as `disabled` until enabled again.
    disabled: bool,
    /// The addresses and CIDR ranges the key may be used from, canonical
    /// (empty: any address).
    allowed_ips: Vec<String>,
    /// The services the key may be used for (`null`: every service).
    #[schema(required = true)]
    services: Option<Vec<String>>,
}

impl KeyView {
    pub(super) fn new(row: KeyRow, now: i64) -> Self {
        KeyView {
            status: api_keys::key_status(&row, now),
            id: row.id,
            name: row.name,
            environment: row.environment.as_str().to_owned(),
            hint: row.hint,
            created_at: rfc3339(row.created_at),
            created_by: row.created_by_email,
            expires_at: row.expires_at.map(rfc3339),
            last_used_at: row.last_used_at.map(rfc3339),
            has_public_key: row.public_key.is_some(),
            public_key_fingerprint: api_keys::fingerprint(row.public_key.as_deref()),
            replaced_by: row.replaced_by,
            disabled: row.disabled_at.is_some(),
            allowed_ips: crate::key_policy::allowed_list(row.allowed_ips.as_deref()),
            services: row
                .services
                .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect()),
        }
    }
}

/// The answer of `GET /api/v1/keys`: `{"keys": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct KeyList {
    keys: Vec<KeyView>,
}

/// Which page of the key list.
#[derive(Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyListQuery {
    /// From 1 (default 1).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 1000000)]
    page: Option<String>,
    /// Keys per page, 1 to 500 (default 100).
    #[param(value_type = i64, required = false, minimum = 1, maximum = 500)]
    per_page: Option<String>,
}

impl KeyListQuery {
    /// From the query string: a parameter given twice is refused (422) rather
    /// than left to a parser's choice; other parameters are ignored.
    fn read(query: Option<&str>) -> Result<KeyListQuery, AccountError> {
        let mut q = KeyListQuery::default();
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "page" => &mut q.page,
                "per_page" => &mut q.per_page,
                _ => continue,
            };
            if slot.replace(value.to_owned()).is_some() {
                let field = if name == "page" { "page" } else { "per_page" };
                return Err(AccountError::Invalid(FieldError::new(field, "error.page")));
            }
        }
        Ok(q)
    }
}

/// Lists the company's keys, newest first, a page at a time; a `Link`
/// header (`rel="next"`) names the next page when there is one.
#[utoipa::path(
    get,
    path = "/api/v1/keys",
    operation_id = "list_keys",
    tag = "keys",
    security(("session" = [])),
    params(KeyListQuery),
    responses(
        (status = 200, description = "A page of the company's keys.", body = KeyList,
            headers(("link" = String, description = "`<…?page=N&per_page=M>; rel=\"next\"` when another page follows"))),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "`no_company`: the account belongs to no company.", body = ErrorBody),
        (status = 422, description = "`page` or `per_page` out of range.", body = ErrorBody),
    )
)]
pub async fn list_keys(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, Error> {
    let q = KeyListQuery::read(query.as_deref())?;
    let page = api_keys::KeyPage::parse(q.page.as_deref(), q.per_page.as_deref())?;
    let (rows, more) = api_keys::list_page(&state, &user, page).await?;
    let now = state.clock.now();
    let keys: Vec<KeyView> = rows.into_iter().map(|r| KeyView::new(r, now)).collect();
    let mut res = Json(KeyList { keys }).into_response();
    if more {
        let next = format!(
            "</api/v1/keys?page={}&per_page={}>; rel=\"next\"",
            page.page + 1,
            page.per_page
        );
        if let Ok(v) = axum::http::HeaderValue::from_str(&next) {
            res.headers_mut().insert(axum::http::header::LINK, v);
        }
    }
    Ok(res)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyBody {
    name: String,
    environment: Option<String>,
    expires_at: Option<String>,
    generate_private_key: Option<bool>,
    public_key: Option<String>,
    /// IPv4 and IPv6 addresses or CIDR ranges the key may be used from, at
    /// most 50 (left out or empty: any address).
    #[schema(max_items = 50)]
    allowed_ips: Option<Vec<String>>,
    /// The services the key may be used for, at least one (left out: every
    /// service, including those added later).
    services: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    view: KeyView,
    /// The secret, shown this once.
    #[schema(pattern = "^cmk_(live|test)_[0-9A-Za-z]{36}$")]
    key: String,
    /// The generated private key (PEM), shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key: Option<String>,
}

/// Creates a key; the secret (and a generated private key) is shown this once.
#[utoipa::path(
    post,
    path = "/api/v1/keys",
    operation_id = "create_key",
    tag = "keys",
    security(("session" = [])),
    request_body(content = inline(CreateKeyBody)),
    responses(
        (status = 201, description = "The new key with its secret.", body = CreatedKey),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the role may not do this.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid (the message names it), or `lifetime_exceeded`: the key would outlive the company's maximum key lifetime.", body = ErrorBody),
    )
)]
pub async fn create_key(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    ApiJson(body): ApiJson<CreateKeyBody>,
) -> Result<Response, Error> {
    let environment = api_keys::parse_environment(body.environment.as_deref())?;
    let expires_at = match body.expires_at.as_deref() {
        None => None,
        Some(s) => Some(web::clock::parse_rfc3339_checked(s).map_err(|e| {
            web::Error::from(AccountError::Invalid(FieldError::new(
                "expires_at",
                api_keys::expiry_error(e),
            )))
        })?),
    };
    let signing = match (body.generate_private_key.unwrap_or(false), body.public_key) {
        (true, Some(_)) => {
            return Err(
                AccountError::Invalid(FieldError::new("public_key", "error.signing_both")).into(),
            )
        }
        (true, None) => Signing::Generate,
        (false, Some(pem)) => Signing::PublicKey(pem),
        (false, None) => Signing::None,
    };
    let created = api_keys::create_key(
        &state,
        &user,
        NewKeyInput {
            name: body.name,
            environment,
            expires_at,
            signing,
            nonce: None,
            allowed_ips: body.allowed_ips,
            services: body.services,
        },
    )
    .await?;
    let created = CreatedKey {
        view: KeyView::new(created.row, state.clock.now()),
        key: created.key.expose().to_owned(),
        private_key: created.private_key.map(|p| p.expose().to_owned()),
    };
    Ok((StatusCode::CREATED, NO_STORE, Json(created)).into_response())
}

/// Revokes a key.
#[utoipa::path(
    delete,
    path = "/api/v1/keys/{id}",
    operation_id = "revoke_key",
    tag = "keys",
    security(("session" = [])),
    params(("id" = String, Path, description = "The key's id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the role may not do this.", body = ErrorBody),
        (status = 404, description = "No key with this id.", body = ErrorBody),
    )
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
) -> Result<Response, Error> {
    api_keys::revoke_key(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicKeyBody {
    public_key: Option<String>,
}

/// Replaces a key's signing public key (`null` removes it).
#[utoipa::path(
    put,
    path = "/api/v1/keys/{id}/public-key",
    operation_id = "set_public_key",
    tag = "keys",
    security(("session" = [])),
    params(("id" = String, Path, description = "The key's id.")),
    request_body(content = inline(PublicKeyBody)),
    responses(
        (status = 200, description = "The key as it is now.", body = KeyView),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the role may not do this.", body = ErrorBody),
        (status = 404, description = "No key with this id.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
    )
)]
pub async fn set_public_key(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
    ApiJson(body): ApiJson<PublicKeyBody>,
) -> Result<Response, Error> {
    api_keys::set_public_key(&state, &user, &id, body.public_key.as_deref()).await?;
    let row = api_keys::company_key(&state, &user.company_id, &id).await?;
    Ok(Json(KeyView::new(row, state.clock.now())).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollBody {
    /// How long the old key keeps verifying as valid: 0 (now) to 604800 (7 days).
    grace_seconds: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RolledKey {
    #[serde(flatten)]
    created: CreatedKey,
    /// The old key as it is now: valid until `expires_at`, then expired.
    replaces: KeyView,
}

/// Rolls a key: 201 with the new key (shown this once) and the old key's new state.
#[utoipa::path(
    post,
    path = "/api/v1/keys/{id}/roll",
    operation_id = "roll_key",
    tag = "keys",
    security(("session" = [])),
    params(("id" = String, Path, description = "The key's id.")),
    request_body(content = inline(RollBody)),
    responses(
        (status = 201, description = "The new key with its secret, and the old key.", body = RolledKey),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "Not signed in.", body = ErrorBody),
        (status = 403, description = "Cross-origin request, or the role may not do this.", body = ErrorBody),
        (status = 404, description = "No key with this id.", body = ErrorBody),
        (status = 409, description = "The key cannot be rolled in its state.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
    )
)]
pub async fn roll_key(
    State(state): State<AppState>,
    CurrentUserWrite(user): CurrentUserWrite,
    Id(id): Id,
    ApiJson(body): ApiJson<RollBody>,
) -> Result<Response, Error> {
    let created = crate::key_roll::roll_key(&state, &user, &id, body.grace_seconds, None).await?;
    let now = state.clock.now();
    let old = api_keys::company_key(&state, &user.company_id, &id).await?;
    let rolled = RolledKey {
        created: CreatedKey {
            view: KeyView::new(created.row, now),
            key: created.key.expose().to_owned(),
            private_key: None,
        },
        replaces: KeyView::new(old, now),
    };
    Ok((StatusCode::CREATED, NO_STORE, Json(rolled)).into_response())
}
