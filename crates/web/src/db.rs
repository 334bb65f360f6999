//! Database connections. Both apps keep their SQL in their own `store` module
//! written once for SQLite and PostgreSQL (`$1` placeholders work on both);
//! only the migrations differ, one folder per backend.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The URL it was opened with (may hold a password: never log it).
    url: String,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Db {
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// What went wrong opening a database, in words for one line on stderr.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL (use sqlite://PATH or postgres://...)")]
    Scheme,
    #[error("cannot open the database: {0}")]
    Open(sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(sqlx::migrate::MigrateError),
}

pub fn backend_of(url: &str) -> Option<Backend> {
    if url.starts_with("sqlite:") {
        Some(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(Backend::Postgres)
    } else {
        None
    }
}

/// Opens a pool and runs the migrations of the matching backend.
pub async fn connect(
    url: &str,
    sqlite: &Migrator,
    postgres: &Migrator,
    max_connections: u32,
) -> Result<Db, ConnectError> {
    sqlx::any::install_default_drivers();
    let backend = backend_of(url).ok_or(ConnectError::Scheme)?;
    let url = match backend {
        // Create the file on first start.
        Backend::Sqlite if !url.contains("mode=") => {
            if url.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            }
        }
        _ => url.to_owned(),
    };
    let options = AnyConnectOptions::from_str(&url).map_err(ConnectError::Open)?;
    let pool = AnyPoolOptions::new()
        .max_connections(max_connections)
        // While the database is away, answer 503 after 3 s rather than hold requests longer.
        .acquire_timeout(Duration::from_secs(3))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers run beside the writer; FULL sync means an
                    // acknowledged write survives a crash; foreign keys are off by default.
                    conn.execute(
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                         PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(ConnectError::Open)?;
    let migrator = match backend {
        Backend::Sqlite => sqlite,
        Backend::Postgres => postgres,
    };
    migrator.run(&pool).await.map_err(ConnectError::Migrate)?;
    Ok(Db { pool, backend, url })
}

/// True when the error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

/// One unique constraint, as each backend names it in its errors: PostgreSQL
/// by the constraint's (or unique index's) name, SQLite by its columns
/// (`UNIQUE constraint failed: table.a, table.b`).
#[derive(Clone, Copy, Debug)]
pub struct Unique {
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

/// True when the error violates exactly this unique constraint, so a table
/// with two of them can tell which one a write ran into.
pub fn on_unique(e: &sqlx::Error, unique: &Unique) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    if !db.is_unique_violation() {
        return false;
    }
    match db.constraint() {
        Some(name) => name == unique.postgres,
        None => db
            .message()
            .strip_prefix("UNIQUE constraint failed: ")
            .is_some_and(|columns| columns == unique.sqlite),
    }
}
