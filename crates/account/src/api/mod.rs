//! The JSON API: `/api/v1/...` and the Magento gateway routes at the host root.

mod audit;
mod keys;
mod members;
pub mod openapi;
mod secret_scanning;
mod sessions;
mod verify;

use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/signup", post(sessions::signup))
        .route("/api/v1/login", post(sessions::login))
        .route("/api/v1/logout", post(sessions::logout))
        .route("/api/v1/keys", get(keys::list_keys).post(keys::create_key))
        .route("/api/v1/keys/{id}", delete(keys::revoke_key))
        .route("/api/v1/keys/{id}/public-key", put(keys::set_public_key))
        .route("/api/v1/keys/{id}/roll", post(keys::roll_key))
        .route("/api/v1/keys/verify", post(verify::verify_key))
        .route("/api/v1/audit", get(audit::list_events))
        .route("/api/v1/members", get(members::list_members))
        .route(
            "/api/v1/members/{id}",
            delete(members::remove_member).patch(members::change_role),
        )
        .route(
            "/api/v1/invitations",
            get(members::list_invitations).post(members::invite),
        )
        .route("/api/v1/invitations/accept", post(members::accept))
        .route(
            "/api/v1/invitations/{id}",
            delete(members::revoke_invitation),
        )
        .route(
            "/api/v1/secret-scanning/verify",
            post(secret_scanning::verify_report),
        )
        .route("/gateway/apikeycheck", get(verify::gateway_apikeycheck))
        .route(
            "/merchant-registry/v1/ping",
            get(verify::merchant_registry_ping),
        )
        .route("/noop", get(verify::noop))
        .route("/api/openapi.json", get(openapi::openapi_json))
}
