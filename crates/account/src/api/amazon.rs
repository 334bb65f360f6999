//! `/amazon/v1/stores`: the Admin registers and manages its Amazon stores,
//! authenticated by the company's API key exactly as the gateway checks it
//! (`x-api-key` or `magento-api-key`, plus an RS256 `x-gw-signature` when
//! the key has a public key). A store belongs to the key's company.

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use web::clock::rfc3339;
use web::extract::{ApiJson, ClientIp, Id};
use web::Error;

use crate::amazon::connect;
use crate::amazon::renewal;
use crate::amazon::stores::{self, By, NewStoreInput};
use crate::error::KeyRefusal;
use crate::key_policy::AMAZON_SALES_CHANNEL;
use crate::store;
use crate::verify::{PingOutcome, Status};
use crate::AppState;

use super::openapi::ErrorBody;
use super::throttle::Throttle;

mod view;

use view::{StoreList, StoreView};

/// The caller: a valid key (signed when it has a public key), its company
/// and its environment (it sees only stores registered in that one).
pub struct StoreKey {
    pub key_id: Arc<str>,
    pub company_id: String,
    pub environment: keys::Environment,
}

impl StoreKey {
    /// The store `id` as this key sees it (another environment's: 404).
    async fn store(&self, state: &AppState, id: &str) -> Result<store::AmazonStoreRow, Error> {
        Ok(stores::get_for_key(state, &self.company_id, self.environment, id).await?)
    }
}

/// The headers the Amazon routes read (through [`StoreKey`]).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // described only
pub struct StoreKeyHeaders {
    /// The company's API key (read first).
    #[param(rename = "x-api-key", value_type = String, required = false)]
    x_api_key: Option<String>,
    /// The key, when `x-api-key` is not sent.
    #[param(rename = "magento-api-key", value_type = String, required = false)]
    magento_api_key: Option<String>,
    /// An RS256 JWT signed with the key's private key: required when the key
    /// has a public key registered.
    #[param(rename = "x-gw-signature", value_type = String, required = false)]
    x_gw_signature: Option<String>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A key that is not valid (or was not checked): 401 `invalid`.
fn not_valid() -> Error {
    KeyRefusal::NotValid(Status::Invalid).into()
}

impl FromRequestParts<AppState> for StoreKey {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state)
            .await
            .map_err(|_| not_valid())?;
        let headers = &parts.headers;
        let presented = header(headers, "x-api-key").or_else(|| header(headers, "magento-api-key"));
        let throttle = Throttle::check(state, ip, presented)?;
        let Some(presented) = presented else {
            throttle.count(state, None, Status::Invalid).await;
            return Err(KeyRefusal::MissingToStores.into());
        };
        // The store routes are the Amazon Sales Channel's: a key limited to
        // other services, or called from elsewhere, may not use them.
        let caller = crate::verify::Caller {
            ip,
            service: Some(state.cfg.services.bit(AMAZON_SALES_CHANNEL)),
        };
        let verdict = state.verifier.verify(presented, caller).await?;
        if verdict.status != Status::Valid {
            throttle
                .count(state, verdict.key_id.as_ref(), verdict.status)
                .await;
            return Err(KeyRefusal::NotValid(verdict.status).into());
        }
        if verdict.public_key.is_some() {
            let token = header(headers, "x-gw-signature");
            let (outcome, _) = state
                .verifier
                .verify_signed(presented, token, caller)
                .await?;
            // Counted once, with what the call came to.
            let status = super::verify::ping_status(&outcome);
            throttle.count(state, verdict.key_id.as_ref(), status).await;
            match outcome {
                PingOutcome::Ok { .. } => {}
                PingOutcome::Key(status) => return Err(KeyRefusal::NotValid(status).into()),
                PingOutcome::Signature(_) => return Err(KeyRefusal::Unsigned.into()),
            }
        } else {
            throttle
                .count(state, verdict.key_id.as_ref(), Status::Valid)
                .await;
        }
        let key_id = verdict.key_id.ok_or_else(not_valid)?;
        let environment = verdict.environment.ok_or_else(not_valid)?;
        let company_id = store::company_of_key(&state.db, &key_id)
            .await?
            .ok_or_else(not_valid)?;
        Ok(StoreKey {
            key_id,
            company_id,
            environment,
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStoreBody {
    name: String,
    email: String,
    /// `US`, `CA`, `MX` or `GB`.
    country: String,
    /// The store's website (the Commerce website's base URL).
    website_url: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchStoreBody {
    /// `false` deactivates the store (its authorization is kept), `true` activates it.
    active: bool,
}

/// A connect link: open it in the merchant's browser.
#[derive(Serialize, ToSchema)]
pub struct ConnectLinkView {
    url: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

/// Lists the company's Amazon stores.
#[utoipa::path(
    get,
    path = "/amazon/v1/stores",
    operation_id = "list_amazon_stores",
    tag = "amazon",
    security(("api_key" = [])),
    params(StoreKeyHeaders),
    responses(
        (status = 200, description = "The company's stores.", body = StoreList),
        (status = 401, description = "No key, or the key is not valid.", body = ErrorBody),
        (status = 403, description = "The signature is missing or not acceptable.", body = ErrorBody),
        (status = 429, description = "Too many failed attempts from this client.", body = ErrorBody),
    )
)]
pub async fn list_amazon_stores(
    State(state): State<AppState>,
    key: StoreKey,
) -> Result<Response, Error> {
    let rows = stores::list_for_key(&state, &key.company_id, key.environment).await?;
    let stores = rows.into_iter().map(StoreView::from).collect();
    Ok(Json(StoreList { stores }).into_response())
}

/// Registers a store (status `authorization_pending`).
#[utoipa::path(
    post,
    path = "/amazon/v1/stores",
    operation_id = "create_amazon_store",
    tag = "amazon",
    security(("api_key" = [])),
    params(StoreKeyHeaders),
    request_body(content = inline(CreateStoreBody)),
    responses(
        (status = 201, description = "The new store.", body = StoreView),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "No key, or the key is not valid.", body = ErrorBody),
        (status = 403, description = "The signature is missing or not acceptable.", body = ErrorBody),
        (status = 429, description = "Too many failed attempts from this client.", body = ErrorBody),
        (status = 413, description = "The body is too large.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
    )
)]
pub async fn create_amazon_store(
    State(state): State<AppState>,
    key: StoreKey,
    ApiJson(body): ApiJson<CreateStoreBody>,
) -> Result<Response, Error> {
    let row = stores::register(
        &state,
        &key.company_id,
        key.environment,
        By::Key(&key.key_id),
        NewStoreInput {
            name: &body.name,
            email: &body.email,
            country: &body.country,
            website_url: &body.website_url,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(StoreView::from(row))).into_response())
}

/// One store of the company.
#[utoipa::path(
    get,
    path = "/amazon/v1/stores/{id}",
    operation_id = "get_amazon_store",
    tag = "amazon",
    security(("api_key" = [])),
    params(StoreKeyHeaders, ("id" = String, Path, description = "The store's id.")),
    responses(
        (status = 200, description = "The store.", body = StoreView),
        (status = 401, description = "No key, or the key is not valid.", body = ErrorBody),
        (status = 403, description = "The signature is missing or not acceptable.", body = ErrorBody),
        (status = 429, description = "Too many failed attempts from this client.", body = ErrorBody),
        (status = 404, description = "No store of the company has this id.", body = ErrorBody),
    )
)]
pub async fn get_amazon_store(
    State(state): State<AppState>,
    key: StoreKey,
    Id(id): Id,
) -> Result<Response, Error> {
    let row = key.store(&state, &id).await?;
    Ok(Json(StoreView::from(row)).into_response())
}

/// Activates or deactivates a store; its authorization is kept.
#[utoipa::path(
    patch,
    path = "/amazon/v1/stores/{id}",
    operation_id = "update_amazon_store",
    tag = "amazon",
    security(("api_key" = [])),
    params(StoreKeyHeaders, ("id" = String, Path, description = "The store's id.")),
    request_body(content = inline(PatchStoreBody)),
    responses(
        (status = 200, description = "The store as it is now.", body = StoreView),
        (status = 400, description = "The body is not JSON.", body = ErrorBody),
        (status = 401, description = "No key, or the key is not valid.", body = ErrorBody),
        (status = 403, description = "The signature is missing or not acceptable.", body = ErrorBody),
        (status = 429, description = "Too many failed attempts from this client.", body = ErrorBody),
        (status = 404, description = "No store of the company has this id.", body = ErrorBody),
        (status = 415, description = "The body is not application/json.", body = ErrorBody),
        (status = 422, description = "A field is not valid.", body = ErrorBody),
    )
)]
pub async fn update_amazon_store(
    State(state): State<AppState>,
    key: StoreKey,
    Id(id): Id,
    ApiJson(body): ApiJson<PatchStoreBody>,
) -> Result<Response, Error> {
    key.store(&state, &id).await?;
    let row = stores::set_active(
        &state,
        &key.company_id,
        &id,
        body.active,
        By::Key(&key.key_id),
    )
    .await?;
    Ok(Json(StoreView::from(row)).into_response())
}

/// Deletes a store's registration and discards its refresh token.
#[utoipa::path(
    delete,
    path = "/amazon/v1/stores/{id}",
    operation_id = "delete_amazon_store",
    tag = "amazon",
    security(("api_key" = [])),
    params(StoreKeyHeaders, ("id" = String, Path, description = "The store's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "No key, or the key is not valid.", body = ErrorBody),
        (status = 403, description = "The signature is missing or not acceptable.", body = ErrorBody),
        (status = 429, description = "Too many failed attempts from this client.", body = ErrorBody),
        (status = 404, description = "No store of the company has this id.", body = ErrorBody),
    )
)]
pub async fn delete_amazon_store(
    State(state): State<AppState>,
    key: StoreKey,
    Id(id): Id,
) -> Result<Response, Error> {
    key.store(&state, &id).await?;
    stores::delete(&state, &key.company_id, &id, By::Key(&key.key_id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A single-use link (10 minutes) that starts the store's authorization in
/// the merchant's browser.
#[utoipa::path(
    post,
    path = "/amazon/v1/stores/{id}/connect-links",
    operation_id = "create_amazon_connect_link",
    tag = "amazon",
    security(("api_key" = [])),
    params(StoreKeyHeaders, ("id" = String, Path, description = "The store's id.")),
    responses(
        (status = 201, description = "The link.", body = ConnectLinkView),
        (status = 401, description = "No key, or the key is not valid.", body = ErrorBody),
        (status = 403, description = "The signature is missing or not acceptable.", body = ErrorBody),
        (status = 429, description = "Too many failed attempts from this client.", body = ErrorBody),
        (status = 404, description = "No store of the company has this id.", body = ErrorBody),
        (status = 503, description = "Amazon authorization is not set up (`amazon_not_configured`).", body = ErrorBody),
    )
)]
pub async fn create_amazon_connect_link(
    State(state): State<AppState>,
    key: StoreKey,
    Id(id): Id,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let base = crate::members::link_base(&state, &headers)?;
    key.store(&state, &id).await?;
    let link = connect::create_link(&state, &key.company_id, &id, &base).await?;
    let view = ConnectLinkView {
        url: link.url,
        expires_at: rfc3339(link.expires_at),
    };
    Ok((StatusCode::CREATED, super::keys::NO_STORE, Json(view)).into_response())
}

/// Proves the store's refresh token now and returns the store.
#[utoipa::path(
    post,
    path = "/amazon/v1/stores/{id}/check",
    operation_id = "check_amazon_store",
    tag = "amazon",
    security(("api_key" = [])),
    params(StoreKeyHeaders, ("id" = String, Path, description = "The store's id.")),
    responses(
        (status = 200, description = "The store after the check.", body = StoreView),
        (status = 401, description = "No key, or the key is not valid.", body = ErrorBody),
        (status = 403, description = "The signature is missing or not acceptable.", body = ErrorBody),
        (status = 429, description = "Too many failed attempts from this client.", body = ErrorBody),
        (status = 404, description = "No store of the company has this id.", body = ErrorBody),
        (status = 503, description = "Amazon authorization is not set up (`amazon_not_configured`).", body = ErrorBody),
    )
)]
pub async fn check_amazon_store(
    State(state): State<AppState>,
    key: StoreKey,
    Id(id): Id,
) -> Result<Response, Error> {
    let row = key.store(&state, &id).await?;
    stores::configured(&state)?;
    let (row, _) = renewal::check_store(&state, row).await?;
    Ok(Json(StoreView::from(row)).into_response())
}
