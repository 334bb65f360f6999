//! The JSON API: `/api/v1/...` and the Magento gateway routes at the host root.
//!
//! The routes are registered with their `#[utoipa::path]` descriptions
//! (`routes!`), so the OpenAPI document lists exactly what is routed.

mod account;
mod amazon;
mod audit;
mod companies;
mod company;
mod key_settings;
mod keys;
mod members;
pub mod openapi;
mod passkeys;
mod secret_scanning;
mod sessions;
mod throttle;
mod two_factor;
mod usage;
mod verify;

pub use verify::VerifyRoutes;

use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The documented routes, with the document they make.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(sessions::signup))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::logout))
        .routes(routes!(two_factor::login_two_factor))
        .routes(routes!(two_factor::begin_totp))
        .routes(routes!(two_factor::confirm_totp))
        .routes(routes!(two_factor::turn_off_two_factor))
        .routes(routes!(two_factor::regenerate_recovery_codes))
        .routes(routes!(passkeys::registration_options))
        .routes(routes!(passkeys::add_passkey, passkeys::list_passkeys))
        .routes(routes!(passkeys::remove_passkey))
        .routes(routes!(passkeys::confirm_options))
        .routes(routes!(passkeys::confirm))
        .routes(routes!(passkeys::login_options))
        .routes(routes!(passkeys::login_passkey))
        .routes(routes!(company::update_company))
        .routes(routes!(
            companies::list_companies,
            companies::create_company
        ))
        .routes(routes!(companies::switch_company))
        .routes(routes!(companies::close_company))
        .routes(routes!(account::request_password_reset))
        .routes(routes!(account::confirm_password_reset))
        .routes(routes!(account::change_password))
        .routes(routes!(account::revoke_other_sessions))
        .routes(routes!(account::get_account))
        .routes(routes!(account::send_email_verification))
        .routes(routes!(keys::list_keys, keys::create_key))
        .routes(routes!(usage::usage))
        .routes(routes!(keys::revoke_key, key_settings::update_key))
        .routes(routes!(keys::set_public_key))
        .routes(routes!(keys::roll_key))
        .routes(routes!(verify::verify_key))
        .routes(routes!(audit::list_events))
        .routes(routes!(members::list_members))
        .routes(routes!(members::remove_member, members::change_role))
        .routes(routes!(members::list_invitations, members::invite))
        .routes(routes!(members::accept))
        .routes(routes!(members::revoke_invitation))
        .routes(routes!(secret_scanning::verify_report))
        .routes(routes!(verify::gateway_apikeycheck))
        .routes(routes!(verify::merchant_registry_ping))
        .routes(routes!(verify::noop))
        .routes(routes!(
            amazon::list_amazon_stores,
            amazon::create_amazon_store
        ))
        .routes(routes!(
            amazon::get_amazon_store,
            amazon::update_amazon_store,
            amazon::delete_amazon_store
        ))
        .routes(routes!(amazon::create_amazon_connect_link))
        .routes(routes!(amazon::check_amazon_store))
}

pub fn router() -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    router.route("/api/openapi.json", get(openapi::openapi_json))
}
