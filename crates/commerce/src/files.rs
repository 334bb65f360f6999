//! The data dir and the files in it: the dir is created 0700, SQLite
//! databases and their `-wal`/`-shm` files are 0600 (SQLite gives those two
//! the mode of the database file, so creating the database 0600 first covers
//! them), and read-only commands create nothing.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Creates the data dir (mode 0700, and any missing parent) when it is missing.
pub fn ensure_dir(data_dir: &Path) -> anyhow::Result<()> {
    // An existing dir is the operator's (it may be `.`): left as it is; the
    // files in it are private whatever the dir's mode.
    if data_dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(data_dir)
        .with_context(|| format!("cannot create the data dir {}", data_dir.display()))
}

pub fn sqlite_url(data_dir: &Path, file: &str) -> String {
    format!("sqlite://{}", data_dir.join(file).display())
}

/// The file of a `sqlite:` URL (as sqlx reads it), when it names one.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (file, params) = rest.split_once('?').unwrap_or((rest, ""));
    if file.is_empty() || file == ":memory:" || file.contains('%') || params.contains("memory") {
        return None;
    }
    Some(PathBuf::from(file))
}

/// Before opening a SQLite database: creates its file 0600 when missing, and
/// narrows an existing database and its `-wal`/`-shm` files to 0600.
pub fn prepare_sqlite(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    if !path.exists()
        && path
            .parent()
            .is_none_or(|p| p.as_os_str().is_empty() || p.is_dir())
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create {}", path.display()));
            }
        }
    }
    for p in with_sidecars(&path) {
        private(&p)?;
    }
    Ok(())
}

/// The database file and its `-wal` and `-shm` files.
pub fn with_sidecars(path: &Path) -> [PathBuf; 3] {
    let side = |suffix: &str| {
        let mut s = path.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    [path.to_path_buf(), side("-wal"), side("-shm")]
}

/// Narrows an existing file to 0600.
fn private(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(m) = fs::metadata(path) else {
            return Ok(());
        };
        if m.is_file() && m.permissions().mode() & 0o077 != 0 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot make {} private (0600)", path.display()))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens a database for writing: the SQLite file is prepared first.
pub async fn open_admin(url: &str) -> anyhow::Result<web::db::Db> {
    prepare_sqlite(url)?;
    let db = admin::connect(url).await?;
    prepare_sqlite(url)?;
    Ok(db)
}

pub async fn open_account(url: &str) -> anyhow::Result<web::db::Db> {
    prepare_sqlite(url)?;
    let db = account::connect(url).await?;
    prepare_sqlite(url)?;
    Ok(db)
}

/// Opens the Admin's database for a read-only command: a SQLite file that
/// does not exist yet is not created (nor its dir); an empty database in
/// memory stands in for it, so the command answers as on a fresh install.
pub async fn open_admin_read_only(url: &str) -> anyhow::Result<web::db::Db> {
    match sqlite_file(url) {
        Some(path) if !path.exists() => Ok(web::db::connect(
            "sqlite::memory:",
            &admin::MIGRATIONS_SQLITE,
            &admin::MIGRATIONS_POSTGRES,
            1,
        )
        .await?),
        _ => open_admin(url).await,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files() {
        assert_eq!(
            sqlite_file("sqlite:///tmp/x/admin.db"),
            Some(PathBuf::from("/tmp/x/admin.db"))
        );
        assert_eq!(
            sqlite_file("sqlite://./var/admin.db?mode=rwc"),
            Some(PathBuf::from("./var/admin.db"))
        );
        assert_eq!(sqlite_file("sqlite:a.db"), Some(PathBuf::from("a.db")));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x.db?mode=memory"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
