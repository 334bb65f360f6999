//! Accounts, their companies and their passwords.

use sqlx::FromRow;
use web::db::Db;

use super::events::{insert_event, NewEvent};
use super::DbError;

/// A member's role in the company.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Role {
    /// Manages members and invitations; a company always keeps one.
    Owner,
    Member,
    /// Sees keys, members and audit; changes nothing.
    Viewer,
}

impl Role {
    /// The name in the database, the JSON API and audit details.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        match name {
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn is_owner(self) -> bool {
        self == Role::Owner
    }

    /// Whether the role may change the company's keys, stores and the like
    /// (a viewer only looks).
    pub fn can_write(self) -> bool {
        self != Role::Viewer
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl TryFrom<String> for Role {
    type Error = keys::NotStored;

    fn try_from(name: String) -> Result<Role, keys::NotStored> {
        Role::from_name(&name).ok_or(keys::NotStored("role"))
    }
}

/// A signed-in person in their current company: its id, name and their role
/// there. An account that belongs to no company (removed from its last
/// one, or its last one closed) has an empty `company_id` and `company_name`
/// and the role `viewer`: see [`Account::in_company`]. Sessions hand such an
/// account only to the routes that work without a company.
#[derive(Clone, Debug, FromRow)]
pub struct Account {
    pub id: String,
    pub company_id: String,
    pub company_name: String,
    pub email: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub locale: Option<String>,
    /// When its email was confirmed; `None`: not (yet).
    pub email_verified_at: Option<i64>,
}

impl Account {
    /// Whether the account has a current company (see the type's note).
    pub fn in_company(&self) -> bool {
        !self.company_id.is_empty()
    }
}

/// An account with its password hash, for sign-in only.
#[derive(FromRow)]
pub struct Credentials {
    #[sqlx(flatten)]
    pub account: Account,
    pub password_hash: String,
}

/// The columns of [`Account`] from `accounts a`, `memberships m` and
/// `companies c`, joined by LEFT JOIN (no membership: no company).
pub(super) const ACCOUNT_COLUMNS: &str =
    "a.id, COALESCE(m.company_id, '') AS company_id, COALESCE(c.name, '') AS company_name, \
     a.email, a.name, COALESCE(m.role, 'viewer') AS role, a.locale, a.email_verified_at";

/// The company an account acts in when nothing else says which: the one
/// it chose last (`accounts.company_id`) while it belongs to it, else the
/// one it joined first. `a` is the account.
pub(super) const DEFAULT_COMPANY: &str = "COALESCE((SELECT y.company_id FROM memberships y \
       WHERE y.account_id = a.id AND y.company_id = a.company_id), \
     (SELECT d.company_id FROM memberships d WHERE d.account_id = a.id \
       ORDER BY d.joined_at, d.company_id LIMIT 1))";

/// One account per email address, across all companies.
pub const ACCOUNT_EMAIL: web::db::Unique = web::db::Unique {
    postgres: "accounts_email_key",
    sqlite: "accounts.email",
};

/// Creates a company and its owner in one transaction. A taken email
/// violates [`ACCOUNT_EMAIL`] (see `web::db::on_unique`).
pub struct NewOwner<'a> {
    pub company_id: &'a str,
    pub company_name: &'a str,
    pub account_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub locale: Option<&'a str>,
    pub now: i64,
}

pub async fn create_company_with_owner(db: &Db, o: &NewOwner<'_>) -> Result<(), DbError> {
    let NewOwner {
        company_id,
        company_name,
        account_id,
        email,
        name,
        password_hash,
        locale,
        now,
    } = *o;
    let mut tx = db.pool.begin().await?;
    sqlx::query("INSERT INTO companies (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(company_id)
        .bind(company_name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO accounts (id, company_id, email, name, password_hash, locale, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(account_id)
    .bind(company_id)
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(locale)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    super::companies::add_membership(&mut tx, account_id, company_id, Role::Owner, now).await?;
    tx.commit().await
}

pub async fn credentials_by_email(db: &Db, email: &str) -> Result<Option<Credentials>, DbError> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, a.password_hash FROM accounts a \
         LEFT JOIN memberships m ON m.account_id = a.id AND m.company_id = {DEFAULT_COMPANY} \
         LEFT JOIN companies c ON c.id = m.company_id WHERE a.email = $1"
    );
    sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(&db.pool)
        .await
}

/// An account with its password hash, by id (a signed-in password change).
pub async fn credentials_by_id(db: &Db, id: &str) -> Result<Option<Credentials>, DbError> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS}, a.password_hash FROM accounts a \
         LEFT JOIN memberships m ON m.account_id = a.id AND m.company_id = {DEFAULT_COMPANY} \
         LEFT JOIN companies c ON c.id = m.company_id WHERE a.id = $1"
    );
    sqlx::query_as(&sql).bind(id).fetch_optional(&db.pool).await
}

/// Replaces an account's password hash, ends its sessions but `keep` (all
/// of them when `None`), makes its unused reset links useless and records
/// `event`: in one transaction.
pub async fn set_password(
    db: &Db,
    account_id: &str,
    hash: &str,
    keep: Option<&str>,
    event: &NewEvent<'_>,
) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    set_password_in(&mut tx, account_id, hash, keep, event).await?;
    tx.commit().await
}

pub(super) async fn set_password_in(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    hash: &str,
    keep: Option<&str>,
    event: &NewEvent<'_>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE password_resets SET used_at = $1 WHERE account_id = $2 AND used_at IS NULL",
    )
    .bind(event.at)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    super::email_verifications::cancel_email_changes_in(&mut *conn, account_id, event.at).await?;
    web::sessions::delete_others(&mut *conn, &super::SESSIONS, account_id, keep).await?;
    insert_event(conn, event).await
}

/// Changes an account's name and records `event`, in one transaction.
pub async fn set_name(
    db: &Db,
    account_id: &str,
    name: &str,
    event: &NewEvent<'_>,
) -> Result<(), DbError> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("UPDATE accounts SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    insert_event(&mut tx, event).await?;
    tx.commit().await
}

pub async fn set_locale(db: &Db, account_id: &str, locale: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE accounts SET locale = $1 WHERE id = $2")
        .bind(locale)
        .bind(account_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The company's owner, who receives its messages: email and language.
pub async fn company_owner(
    db: &Db,
    company_id: &str,
) -> Result<Option<(String, Option<String>)>, DbError> {
    sqlx::query_as(
        "SELECT a.email, a.locale FROM memberships m JOIN accounts a ON a.id = m.account_id \
         WHERE m.company_id = $1 AND m.role = 'owner' ORDER BY m.joined_at, a.id LIMIT 1",
    )
    .bind(company_id)
    .fetch_optional(&db.pool)
    .await
}
