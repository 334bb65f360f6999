//! The Admin's JSON API for Amazon stores (SPEC §5 "The Admin"): each store
//! is the account service's fields, plus `website` (the Commerce website
//! code), the Admin's own `id` and the account service's `remote_id`; the
//! status is the last known when the account service cannot be asked.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use web::extract::ApiJson;
use web::{cookies, Error};

use crate::amazon_stores::{self, Caller, SyncProblem};
use crate::auth::Admin;
use crate::error::AdminError;
use crate::store::AmazonStore;
use crate::store_integration::NewStoreInput;
use crate::AppState;

const STORES: &str = "/admin/api/v1/channels/amazon/stores";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(STORES, get(list_stores).post(create_store))
        .route(
            "/admin/api/v1/channels/amazon/stores/{id}",
            patch(update_store).delete(delete_store),
        )
        .route(
            "/admin/api/v1/channels/amazon/stores/{id}/connect",
            post(connect_store),
        )
        .route(
            "/admin/api/v1/channels/amazon/stores/{id}/check",
            post(check_store),
        )
}

#[derive(Serialize)]
pub struct StoreView {
    pub id: String,
    pub remote_id: Option<String>,
    pub name: String,
    pub email: String,
    pub country: String,
    pub website: String,
    pub website_url: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub seller_id: Option<String>,
    pub authorized_at: Option<String>,
    pub authorization_expires_at: Option<String>,
    pub created_at: String,
    /// Why a store is not registered with the account service yet (a
    /// [`SyncProblem`] code); left out when it is, or when nothing stood in the way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_problem: Option<&'static str>,
}

impl StoreView {
    fn with_problem(s: AmazonStore, problem: Option<SyncProblem>) -> Self {
        let unregistered = s.remote_id.is_none();
        StoreView {
            registration_problem: problem.filter(|_| unregistered).map(SyncProblem::code),
            ..StoreView::from(s)
        }
    }
}

impl From<AmazonStore> for StoreView {
    fn from(s: AmazonStore) -> Self {
        StoreView {
            id: s.id,
            remote_id: s.remote_id,
            name: s.name,
            email: s.email,
            country: s.marketplace,
            website: s.website_code,
            website_url: s.website_url,
            status: s.status,
            reason: s.reason,
            seller_id: s.seller_id,
            authorized_at: s.authorized_at.map(web::clock::rfc3339),
            authorization_expires_at: s.authorization_expires_at.map(web::clock::rfc3339),
            created_at: web::clock::rfc3339(s.created_at),
            registration_problem: None,
        }
    }
}

/// State-changing calls come from this site or from no browser at all.
fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), Error> {
    if cookies::origin_matches_host(headers, state.cfg.secure_cookies) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "cross_origin",
            "Cross-origin requests are not allowed.",
        ))
    }
}

async fn list_stores(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let listed = amazon_stores::sync(&Caller::new(&state, &user.username, &headers)).await?;
    let synced = listed.synced();
    let problem = listed
        .problem
        .map(|p| serde_json::json!({"code": p.code(), "message": p.message()}));
    let stores: Vec<StoreView> = listed
        .stores
        .into_iter()
        .map(|s| StoreView::with_problem(s, listed.problem))
        .collect();
    Ok(
        Json(serde_json::json!({"stores": stores, "synced": synced, "problem": problem}))
            .into_response(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStoreBody {
    name: String,
    email: String,
    website: String,
    country: String,
}

async fn create_store(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewStoreBody>,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let input = NewStoreInput {
        name: body.name,
        email: body.email,
        website: body.website,
        marketplace: body.country,
    };
    let caller = Caller::new(&state, &user.username, &headers);
    let (saved, problem) = amazon_stores::add(&caller, &input)
        .await
        .map_err(|e| match e {
            // The API calls the marketplace `country`.
            AdminError::InvalidStore(errors) => AdminError::InvalidStore(
                errors
                    .into_iter()
                    .map(|(f, m)| (if f == "marketplace" { "country" } else { f }, m))
                    .collect(),
            ),
            e => e,
        })?;
    let view = StoreView::with_problem(saved, problem);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    active: bool,
}

async fn update_store(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let caller = Caller::new(&state, &user.username, &headers);
    let s = amazon_stores::set_active(&caller, &id, body.active).await?;
    Ok(Json(StoreView::from(s)).into_response())
}

async fn delete_store(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let caller = Caller::new(&state, &user.username, &headers);
    amazon_stores::delete(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn connect_store(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let caller = Caller::new(&state, &user.username, &headers);
    let url = amazon_stores::connect(&caller, &id).await?;
    Ok(Json(serde_json::json!({ "url": url })).into_response())
}

async fn check_store(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    same_origin(&state, &headers)?;
    let caller = Caller::new(&state, &user.username, &headers);
    let s = amazon_stores::check(&caller, &id).await?;
    Ok(Json(StoreView::from(s)).into_response())
}
