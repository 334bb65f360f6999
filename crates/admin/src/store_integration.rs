//! Store Integration: Amazon stores connected to Commerce websites. The
//! marketplaces offered, and the rules a new store's fields must meet before
//! the Admin saves its row.

use crate::error::AdminError;
use crate::store::{self, NewAmazonStore};
use crate::Services;

/// The marketplaces a store can be connected to.
pub const MARKETPLACES: &[(&str, &str)] = &[
    ("US", "marketplace.US"),
    ("CA", "marketplace.CA"),
    ("MX", "marketplace.MX"),
    ("GB", "marketplace.GB"),
];

/// The catalog key of a marketplace's name.
pub fn marketplace_label(code: &str) -> &'static str {
    MARKETPLACES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or("marketplace.unknown")
}

pub struct NewStoreInput {
    pub name: String,
    pub email: String,
    pub website: String,
    pub marketplace: String,
}

/// A form's field errors: (field, catalog key).
pub type FieldErrors = Vec<(&'static str, &'static str)>;

/// Validates and saves a store (the Admin's row only; see
/// `amazon_stores::add` for its registration); returns its id, or the field
/// errors (catalog keys).
pub async fn add_store(
    services: &Services,
    input: &NewStoreInput,
) -> Result<Result<String, FieldErrors>, AdminError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() {
        errors.push(("name", "store.error.name_required"));
    } else if web::text::has_hidden(name) {
        errors.push(("name", "store.error.name_hidden"));
    } else if name.chars().count() > 100 {
        errors.push(("name", "store.error.name_long"));
    }
    let email = web::normalize_email(&input.email);
    if email.is_none() {
        errors.push(("email", "store.error.email_invalid"));
    }
    let marketplace = input.marketplace.trim().to_ascii_uppercase();
    if !MARKETPLACES.iter().any(|(c, _)| *c == marketplace) {
        errors.push(("marketplace", "store.error.marketplace"));
    }
    let websites = store::websites(&services.db).await?;
    let website = websites.iter().find(|w| w.code == input.website.trim());
    if website.is_none() {
        errors.push(("website", "store.error.website"));
    }
    let (Some(email), Some(website)) = (email, website) else {
        return Ok(Err(errors));
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let id = keys::random_id("amz");
    store::insert_amazon_store(
        &services.db,
        &NewAmazonStore {
            id: &id,
            name,
            email: &email,
            website_id: website.id,
            marketplace: &marketplace,
            now: services.clock.now(),
        },
    )
    .await?;
    Ok(Ok(id))
}
