//! Repository functions: the only place the account service's SQL lives, one
//! file per resource. Written once for SQLite and PostgreSQL; timestamps are
//! Unix seconds; rows are `#[derive(FromRow)]` structs with typed columns.

mod accounts;
mod actor;
mod amazon;
mod companies;
mod email_verifications;
mod events;
mod invitations;
mod key_batches;
mod key_lookup;
mod key_policy;
mod keys;
mod members;
mod outbox;
mod password_resets;
mod purge;
mod removed;
mod sessions;
mod two_factor;
mod usage;

/// A query on the `Any` pool, for helpers that bind a row's columns.
type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

pub use accounts::*;
pub use actor::{Actor, Need, WriteError};
pub use amazon::*;
pub use companies::*;
pub use email_verifications::*;
pub use events::*;
pub use invitations::*;
pub use key_batches::{insert_keys_bulk, record_last_used};
pub use key_lookup::*;
pub use key_policy::*;
pub use keys::*;
pub use members::*;
pub use outbox::*;
pub use password_resets::*;
pub use purge::{purge, Purged, KEEP_SECS};
pub use removed::removed_from;
pub use sessions::*;
pub use sqlx::Error as DbError;
pub use two_factor::*;
pub use usage::*;
