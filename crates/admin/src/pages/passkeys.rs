//! Passkeys on the pages, as on the account site: the *Add a passkey*
//! block (its script runs the WebAuthn ceremony against the JSON API, see
//! `api/passkeys.rs`) and the list on Account Setting (removing one is
//! `account_two_factor::remove_passkey`).

use web::clock::human;
use web::two_factor::passkey_store::PasskeyRow;

/// What the *Add a passkey* block needs: its heading level and where to go
/// once added.
pub struct PasskeyBlock {
    /// Under an `<h2>` section (Account Setting): an `<h3>`.
    pub level3: bool,
    pub next: String,
}

/// A passkey as Account Setting lists it.
pub struct PasskeyItem {
    pub id: String,
    pub name: String,
    pub added: String,
    /// Empty: never used.
    pub last_used: String,
}

impl From<&PasskeyRow> for PasskeyItem {
    fn from(r: &PasskeyRow) -> Self {
        PasskeyItem {
            id: r.id.clone(),
            name: r.name.clone(),
            added: human(r.created_at),
            last_used: r.last_used_at.map(human).unwrap_or_default(),
        }
    }
}
