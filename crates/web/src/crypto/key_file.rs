//! Adding a data key to the key file, one rotation at a time.
//!
//! A rotation holds an exclusive lock on `<key file>.lock` (an OS file lock,
//! released when the process ends, however it ends) while it numbers the
//! new version, appends it, and re-encrypts: a second rotation on the same
//! key file is refused at once, so no two runs can both write "version N".
//!
//! The new key is appended in place and synced before anything is encrypted
//! under it. No temporary copy of the file is ever made (such a copy holds
//! every data key, and a run killed between writing and renaming it would
//! leave it behind); copies that older versions left are removed. An append
//! cut short leaves a last line without its newline, which is not read as a
//! key and is cut off by the next rotation.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use base64::Engine;

use super::{new_key, Crypto, CryptoError, B64};

/// The exclusive right to add a key to one key file ([`KeyFileLock::acquire`]).
#[derive(Debug)]
pub struct KeyFileLock {
    path: PathBuf,
    /// Held open: the lock lasts as long as this value (or the process).
    _lock: File,
}

/// The part of a key file's text that is complete: all of it, unless its
/// last line lacks the newline and is not a key (an append cut short).
pub(super) fn complete_part(text: &str) -> &str {
    if text.ends_with('\n') {
        return text;
    }
    let cut = text.rfind('\n').map_or(0, |i| i + 1);
    let last = text[cut..].trim();
    let is_key = B64.decode(last).is_ok_and(|bytes| bytes.len() == 32);
    if last.is_empty() || is_key {
        text
    } else {
        &text[..cut]
    }
}

impl KeyFileLock {
    /// Takes the lock of `key_file`, or refuses ([`CryptoError::Busy`]) when
    /// another rotation holds it. Removes temporary copies of the key file
    /// that an interrupted older version left.
    pub fn acquire(key_file: &Path) -> Result<KeyFileLock, CryptoError> {
        let shown = key_file.display().to_string();
        let err = || CryptoError::KeyFile(shown.clone());
        let mut lock_name = key_file.file_name().ok_or_else(err)?.to_owned();
        lock_name.push(".lock");
        let lock_path = key_file.with_file_name(lock_name);
        let mut opts = OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let lock = opts.open(&lock_path).map_err(|_| err())?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(CryptoError::Busy(shown)),
            Err(fs::TryLockError::Error(_)) => return Err(err()),
        }
        remove_stale_copies(key_file);
        Ok(KeyFileLock {
            path: key_file.to_path_buf(),
            _lock: lock,
        })
    }

    /// Appends a fresh key as the key file's new last line, synced, and
    /// returns the keys with it and the file's length before (for
    /// [`KeyFileLock::undo`]). The version is numbered here, under the lock.
    pub fn add_key(&self) -> Result<(Crypto, u64), CryptoError> {
        let err = || CryptoError::KeyFile(self.path.display().to_string());
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path)
            .map_err(|_| err())?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|_| err())?;
        let complete = complete_part(&text);
        Crypto::from_lines(complete).ok_or_else(err)?;
        // An append cut short is cut off; a complete file without its final
        // newline gets one, so the new key starts a line of its own.
        let mut kept = complete.len() as u64;
        file.set_len(kept).map_err(|_| err())?;
        file.seek(SeekFrom::End(0)).map_err(|_| err())?;
        if !complete.is_empty() && !complete.ends_with('\n') {
            file.write_all(b"\n").map_err(|_| err())?;
            kept += 1;
        }
        let line = format!("{}\n", B64.encode(new_key()));
        file.write_all(line.as_bytes()).map_err(|_| err())?;
        file.sync_all().map_err(|_| err())?;
        let mut new_text = complete.to_owned();
        if !new_text.is_empty() && !new_text.ends_with('\n') {
            new_text.push('\n');
        }
        new_text.push_str(&line);
        let crypto = Crypto::from_lines(&new_text).ok_or_else(err)?;
        Ok((crypto.with_file(&self.path), kept))
    }

    /// Takes the key added by [`KeyFileLock::add_key`] out again: only for a
    /// rotation that stopped before its transaction was committed, so that
    /// nothing was ever stored under that version.
    pub fn undo(&self, len_before: u64) -> Result<(), CryptoError> {
        let err = || CryptoError::KeyFile(self.path.display().to_string());
        let file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(|_| err())?;
        file.set_len(len_before).map_err(|_| err())?;
        file.sync_all().map_err(|_| err())
    }
}

/// Removes `<key file>.tmp-*`: copies of the key file that an interrupted
/// rotation of an older version left behind.
fn remove_stale_copies(key_file: &Path) {
    let (Some(dir), Some(name)) = (key_file.parent(), key_file.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.tmp-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            if let Err(e) = fs::remove_file(entry.path()) {
                tracing::warn!(error = %e, "a stale copy of the key file could not be removed");
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_second_rotation_is_refused_while_one_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crypt.key");
        Crypto::open_or_create(&path).unwrap();
        let first = KeyFileLock::acquire(&path).unwrap();
        assert!(matches!(
            KeyFileLock::acquire(&path),
            Err(CryptoError::Busy(_))
        ));
        drop(first);
        assert!(KeyFileLock::acquire(&path).is_ok(), "free again");
    }

    #[test]
    fn an_append_cut_short_is_not_a_key_and_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crypt.key");
        let first = Crypto::open_or_create(&path).unwrap();
        let stored = first.encrypt("p", "v1");
        let whole = fs::read_to_string(&path).unwrap();
        // A run killed halfway through its append.
        fs::write(&path, format!("{whole}QUJDRE")).unwrap();
        let read = Crypto::open_or_create(&path).unwrap();
        assert_eq!(read.current_version(), 1);
        assert_eq!(read.decrypt("p", &stored).unwrap(), "v1");
        let (rotated, before) = KeyFileLock::acquire(&path).unwrap().add_key().unwrap();
        assert_eq!(before, whole.len() as u64);
        assert_eq!(rotated.current_version(), 2);
        let after = fs::read_to_string(&path).unwrap();
        assert!(after.starts_with(&whole) && !after.contains("QUJDRE"));
        assert_eq!(after.lines().count(), 2);
        assert_eq!(rotated.decrypt("p", &stored).unwrap(), "v1");
    }

    #[test]
    fn undo_takes_the_new_line_out_and_stale_copies_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crypt.key");
        Crypto::open_or_create(&path).unwrap();
        let whole = fs::read_to_string(&path).unwrap();
        let stale = dir.path().join("crypt.key.tmp-AbC123xy");
        fs::write(&stale, &whole).unwrap();
        let lock = KeyFileLock::acquire(&path).unwrap();
        assert!(!stale.exists(), "a stale copy holds every key: removed");
        let (_, before) = lock.add_key().unwrap();
        lock.undo(before).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), whole);
    }
}
