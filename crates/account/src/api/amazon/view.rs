//! The JSON views of Amazon stores (SPEC §5): never the refresh token.

use serde::Serialize;
use utoipa::ToSchema;
use web::clock::rfc3339;

use crate::store::AmazonStoreRow;

/// A store's status.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // described only: statuses travel as text
pub enum AmazonStoreStatus {
    AuthorizationPending,
    Active,
    Inactive,
    AuthorizationFailed,
    ReauthorizationRequired,
}

/// An Amazon store as the API shows it (never its refresh token).
#[derive(Serialize, ToSchema)]
pub struct StoreView {
    id: String,
    name: String,
    email: String,
    /// `US`, `CA`, `MX` or `GB`.
    country: String,
    website_url: String,
    #[schema(value_type = AmazonStoreStatus)]
    status: &'static str,
    /// Why it is not authorized: `invalid_grant`, `invalid_client`,
    /// `unsupported_grant_type`, `token_endpoint_unreachable`,
    /// `missing_code`, `expired` or `revoked`; else `null`.
    #[schema(required = true)]
    reason: Option<&'static str>,
    /// The `selling_partner_id` Seller Central gave.
    #[schema(required = true)]
    seller_id: Option<String>,
    #[schema(format = DateTime, required = true)]
    authorized_at: Option<String>,
    /// The authorization lasts a year: re-authorize before this.
    #[schema(format = DateTime, required = true)]
    authorization_expires_at: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    /// The last failed authorization attempt, or `null` (none since the
    /// last successful one). A store that was authorized keeps its
    /// authorization when an attempt fails: only this records it.
    #[schema(required = true)]
    last_attempt: Option<LastAttemptView>,
}

/// A failed authorization attempt: when, and why.
#[derive(Serialize, ToSchema)]
pub struct LastAttemptView {
    #[schema(format = DateTime)]
    at: String,
    /// `invalid_grant`, `invalid_client`, `unsupported_grant_type`,
    /// `token_endpoint_unreachable` or `missing_code`.
    reason: &'static str,
}

impl From<AmazonStoreRow> for StoreView {
    fn from(row: AmazonStoreRow) -> Self {
        StoreView {
            status: row.status().as_str(),
            reason: row.reason().map(|r| r.as_str()),
            authorized_at: row.authorized_at.map(rfc3339),
            authorization_expires_at: row.authorization_expires_at.map(rfc3339),
            created_at: rfc3339(row.created_at),
            last_attempt: row.last_attempt().map(|(at, reason)| LastAttemptView {
                at: rfc3339(at),
                reason: reason.as_str(),
            }),
            id: row.id,
            name: row.name,
            email: row.email,
            country: row.country,
            website_url: row.website_url,
            seller_id: row.seller_id,
        }
    }
}

/// `{"stores": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct StoreList {
    pub(super) stores: Vec<StoreView>,
}
