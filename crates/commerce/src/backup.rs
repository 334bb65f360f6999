//! `db:backup`: an online, consistent copy of a SQLite database while it
//! serves. SQLite's `VACUUM INTO` reads one snapshot (a read transaction, so
//! writers in WAL mode go on) into a new file; the copy is written under a
//! temporary name beside the target, checked, synced, and only then given
//! the target's name, so a half-written backup never carries that name.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use web::db::Backend;

use crate::files;

/// Exit code of a refused request (bad input), as for a usage error.
const EXIT_USAGE: u8 = 2;

pub async fn backup(data_dir: &Path, to: &Path, url: Option<&str>) -> anyhow::Result<ExitCode> {
    let url = match url {
        Some(u) => u.to_owned(),
        None => files::sqlite_url(data_dir, "account.db"),
    };
    if url.contains('\0') {
        bail!("--database-url must not contain NUL bytes");
    }
    match web::db::backend_of(&url) {
        Some(Backend::Sqlite) => {}
        Some(Backend::Postgres) => {
            // The URL may hold a password: not repeated.
            eprintln!(
                "error: db:backup copies SQLite databases; for PostgreSQL use pg_dump \
                 (pg_dump --format=custom --file=FILE DATABASE_URL; see docs/operations.md)"
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        None => bail!("--database-url: unsupported database URL (use sqlite://PATH)"),
    }
    let source = files::sqlite_file(&url)
        .ok_or_else(|| anyhow!("--database-url must name a SQLite database file"))?;
    if !source.is_file() {
        bail!("{}: there is no database file there", source.display());
    }
    let target = check_target(to)?;
    let tmp = Temp::create(&target)?;
    copy(&source, &tmp.0).await?;
    fs::File::open(&tmp.0)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", tmp.0.display()))?;
    tmp.keep_as(&target)?;
    let size = fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    println!(
        "Backed up {} to {} ({size} bytes).",
        source.display(),
        target.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The target: a new file in an existing dir, its path valid UTF-8 (SQLite takes it as text).
fn check_target(to: &Path) -> anyhow::Result<PathBuf> {
    let text = to
        .to_str()
        .ok_or_else(|| anyhow!("--to: the path is not valid UTF-8"))?;
    if text.is_empty() {
        bail!("--to: give a file name");
    }
    if text.contains('\0') {
        bail!("--to must not contain NUL bytes");
    }
    if to.symlink_metadata().is_ok() {
        bail!(
            "--to {}: already exists (a backup never overwrites a file; choose a new name)",
            to.display()
        );
    }
    if to.file_name().is_none() {
        bail!("--to {}: not a file name", to.display());
    }
    let dir = parent(to);
    if !dir.is_dir() {
        bail!(
            "--to {}: the directory {} does not exist",
            to.display(),
            dir.display()
        );
    }
    Ok(to.to_path_buf())
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// `VACUUM INTO` the (empty) temp file, then `PRAGMA integrity_check` on it.
async fn copy(source: &Path, into: &Path) -> anyhow::Result<()> {
    let mut conn = SqliteConnectOptions::new()
        .filename(source)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(10))
        .disable_statement_logging()
        .connect()
        .await
        .with_context(|| format!("cannot open {}", source.display()))?;
    let into_text = into
        .to_str()
        .ok_or_else(|| anyhow!("the temp path is not UTF-8"))?;
    sqlx::query("VACUUM INTO ?")
        .bind(into_text)
        .execute(&mut conn)
        .await
        .with_context(|| format!("cannot copy {}", source.display()))?;
    conn.close().await?;

    let mut copy = SqliteConnectOptions::new()
        .filename(into)
        .read_only(true)
        .disable_statement_logging()
        .connect()
        .await
        .context("cannot open the copy to check it")?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await
        .context("cannot check the copy")?;
    copy.close().await?;
    if check != "ok" {
        bail!("the copy fails SQLite's integrity check ({check}); nothing was kept");
    }
    Ok(())
}

/// A temp file beside the target (0600, empty, as `VACUUM INTO` wants it),
/// removed on drop unless it was given the target's name.
struct Temp(PathBuf);

impl Temp {
    fn create(target: &Path) -> anyhow::Result<Temp> {
        let dir = parent(target);
        let mut name = std::ffi::OsString::from(".");
        name.push(target.file_name().unwrap_or_default());
        name.push(format!(".tmp-{}", keys::random_base62(8)));
        let path = dir.join(name);
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(&path)
            .with_context(|| format!("--to: cannot write in {}", dir.display()))?;
        Ok(Temp(path))
    }

    /// Gives the copy the target's name; never replaces a file that appeared
    /// there meanwhile (a hard link fails on an existing name; a rename would not).
    fn keep_as(self, target: &Path) -> anyhow::Result<()> {
        match fs::hard_link(&self.0, target) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                bail!(
                    "--to {}: already exists (a backup never overwrites a file)",
                    target.display()
                )
            }
            // A file system without hard links: checked just before, renamed.
            Err(_) if target.symlink_metadata().is_err() => fs::rename(&self.0, target)
                .with_context(|| format!("cannot name the copy {}", target.display()))?,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot name the copy {}", target.display()))
            }
        }
        fs::File::open(parent(target))
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync {}", parent(target).display()))?;
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}
