//! Fresh databases that go away by themselves: a PostgreSQL database per
//! test (dropped also when the test panics) or a SQLite file in a temp dir,
//! and `both_backends!`, which runs one scenario on each.

use std::path::Path;

use sqlx::{Connection, Executor};
use tempfile::TempDir;

/// The two storage backends every storage test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(&Fixture)` of the calling module on both
/// backends: `both_backends!(Fixture; a, b)` makes modules `a` and `b`, each
/// with a `sqlite` and a `postgres` test. `Fixture` has `fn sqlite() -> Self`
/// and `async fn postgres() -> Self` (dropping it drops the database).
///
/// `both_backends!(Fixture; fn scenario)` makes the two tests `sqlite` and
/// `postgres` right in the calling module instead.
#[macro_export]
macro_rules! both_backends {
    ($fixture:ty; fn $name:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sqlite() {
            let fixture = <$fixture>::sqlite();
            $name(&fixture).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            // Dropped at the end, also on panic (testkit::PgDb).
            let fixture = <$fixture>::postgres().await;
            $name(&fixture).await;
        }
    };
    ($fixture:ty; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let fixture = <$fixture>::sqlite();
                    super::$name(&fixture).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    // Dropped at the end, also on panic (testkit::PgDb).
                    let fixture = <$fixture>::postgres().await;
                    super::$name(&fixture).await;
                }
            }
        )*
    };
}

/// Defines a fixture for `both_backends!`: a newtype over `Scratch` (its
/// fields by deref) whose SQLite variant's file is named `$file`.
/// `scratch_fixture! { pub struct TestDb("account.db"); }`
#[macro_export]
macro_rules! scratch_fixture {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($file:literal);) => {
        $(#[$meta])*
        $vis struct $name($crate::Scratch);

        impl ::std::ops::Deref for $name {
            type Target = $crate::Scratch;

            fn deref(&self) -> &$crate::Scratch {
                &self.0
            }
        }

        impl $name {
            pub fn sqlite() -> $name {
                $name($crate::Scratch::sqlite($file))
            }

            pub async fn postgres() -> $name {
                $name($crate::Scratch::postgres().await)
            }
        }
    };
}

/// The server every test database is made on: `TEST_POSTGRES_URL`
/// (default `postgres://postgres@127.0.0.1:5432/test`).
fn server_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh, empty PostgreSQL database on the test server, named `t_…` at
/// random; its URL. `PgDb::fresh` drops it again by itself.
pub async fn fresh_postgres_url() -> Result<String, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let server = server_url();
    let name = format!("t_{}", keys::random_base62(12).to_lowercase());
    let mut conn = sqlx::AnyConnection::connect(&server).await?;
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await?;
    let base = server
        .rsplit_once('/')
        .map(|(b, _)| b.to_owned())
        .unwrap_or(server);
    Ok(format!("{base}/{name}"))
}

/// Drops a database made by `fresh_postgres_url`, closing its connections.
/// Only `t_…` names are dropped.
pub async fn drop_postgres_db(url: &str) -> Result<(), sqlx::Error> {
    sqlx::any::install_default_drivers();
    let Some(name) = url.rsplit('/').next().filter(|n| {
        n.starts_with("t_") && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }) else {
        return Ok(());
    };
    let mut conn = sqlx::AnyConnection::connect(&server_url()).await?;
    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await?;
    Ok(())
}

/// A fresh PostgreSQL database, dropped (`WITH (FORCE)`) when this value
/// goes, also when the test panics: a panicking test leaks nothing.
#[derive(Debug)]
pub struct PgDb {
    pub url: String,
}

impl PgDb {
    /// Creates a fresh database on `TEST_POSTGRES_URL`'s server.
    pub async fn fresh() -> PgDb {
        let url = fresh_postgres_url()
            .await
            .expect("a fresh PostgreSQL database (is PostgreSQL running on 127.0.0.1:5432?)");
        PgDb { url }
    }

    /// The database's name, the last segment of its URL.
    pub fn name(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or_default()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let url = self.url.clone();
        // Drop cannot await, and the test's runtime may be unwinding: a
        // thread with its own small runtime and its own connection does it.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                let _ = rt.block_on(drop_postgres_db(&url));
            }
        })
        .join();
    }
}

/// A fresh, empty database for one test: a SQLite file (named `file`) in a
/// temp dir, or a fresh PostgreSQL database; both go away on drop.
pub struct Scratch {
    pub backend: Backend,
    pub url: String,
    /// Always there: SQLite files, key files, anything else the test writes.
    pub dir: TempDir,
    /// The PostgreSQL database, dropped with this value.
    pub pg: Option<PgDb>,
}

impl Scratch {
    pub fn sqlite(file: &str) -> Scratch {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/{file}", dir.path().display());
        Scratch {
            backend: Backend::Sqlite,
            url,
            dir,
            pg: None,
        }
    }

    pub async fn postgres() -> Scratch {
        let pg = PgDb::fresh().await;
        Scratch {
            backend: Backend::Postgres,
            url: pg.url.clone(),
            dir: tempfile::tempdir().expect("temp dir"),
            pg: Some(pg),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}
