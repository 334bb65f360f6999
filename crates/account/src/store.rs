//! Repository functions: the only place the account service's SQL lives, one
//! file per resource. Written once for SQLite and PostgreSQL; timestamps are
//! Unix seconds; rows are `#[derive(FromRow)]` structs with typed columns.

mod accounts;
mod actor;
mod events;
mod keys;
mod members;
mod outbox;
mod purge;
mod removed;

pub use accounts::*;
pub use actor::{Actor, Need, WriteError};
pub use events::*;
pub use keys::*;
pub use members::*;
pub use outbox::*;
pub use purge::{purge, Purged, KEEP_SECS};
pub use removed::removed_from;
pub use sqlx::Error as DbError;
