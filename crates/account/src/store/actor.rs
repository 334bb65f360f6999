//! Who may write: every write that depends on the actor's membership or role
//! checks both inside its own transaction, after taking the company's write
//! lock, so a removal or a role change that commits first is always seen
//! (a member removed while their request is in flight creates nothing; two
//! owners demoting each other cannot leave the company without an owner).

use sqlx::AnyConnection;

use super::DbError;

/// The signed-in account a write is done for, in the company it acts on.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub account_id: &'a str,
    pub company_id: &'a str,
}

impl<'a> Actor<'a> {
    pub fn of(a: &'a super::Account) -> Actor<'a> {
        Actor {
            account_id: &a.id,
            company_id: &a.company_id,
        }
    }
}

/// Why a write was refused (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the account is no longer a member of the company")]
    NotMember,
    #[error("only an owner may do this")]
    NotOwner,
    #[error("a viewer changes nothing")]
    ReadOnly,
    #[error("the company would be left without an owner")]
    LastOwner,
    #[error("too many at once; retry in {0} s")]
    RateLimited(u64),
    #[error("too many pending")]
    TooManyPending(i64),
    /// The company holds this many live keys already.
    #[error("too many live keys")]
    TooManyKeys(i64),
    /// The new key outlives the company's maximum key lifetime (days).
    #[error("outlives the company's key lifetime")]
    LifetimeExceeded(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl WriteError {
    /// True when the write ran into this unique constraint.
    pub fn on_unique(&self, unique: &web::db::Unique) -> bool {
        matches!(self, WriteError::Db(e) if web::db::on_unique(e, unique))
    }
}

/// What the actor must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Any role (leaving the company).
    Member,
    /// An owner or a member: changes to keys and the like.
    Write,
    Owner,
}

/// Takes the company's write lock and checks the actor's membership (and
/// role) as committed now. Call it first in the transaction.
pub(crate) async fn authorize(
    conn: &mut AnyConnection,
    actor: &Actor<'_>,
    need: Need,
) -> Result<(), WriteError> {
    // A write on the company row: on PostgreSQL a row lock that every other
    // membership-dependent write of the company waits for; on SQLite the
    // database's write lock, taken before anything is read.
    sqlx::query("UPDATE companies SET name = name WHERE id = $1")
        .bind(actor.company_id)
        .execute(&mut *conn)
        .await?;
    let role: Option<String> = sqlx::query_scalar(
        "SELECT role FROM memberships WHERE account_id = $1 AND company_id = $2",
    )
    .bind(actor.account_id)
    .bind(actor.company_id)
    .fetch_optional(&mut *conn)
    .await?;
    match role.as_deref() {
        None => Err(WriteError::NotMember),
        Some(r) if need == Need::Owner && r != "owner" => Err(WriteError::NotOwner),
        Some("viewer") if need == Need::Write => Err(WriteError::ReadOnly),
        Some(_) => Ok(()),
    }
}

/// Refuses a change that left the company without an owner.
pub(crate) async fn keeps_an_owner(
    conn: &mut AnyConnection,
    company_id: &str,
) -> Result<(), WriteError> {
    let owners: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships WHERE company_id = $1 AND role = 'owner'",
    )
    .bind(company_id)
    .fetch_one(&mut *conn)
    .await?;
    if owners == 0 {
        Err(WriteError::LastOwner)
    } else {
        Ok(())
    }
}
