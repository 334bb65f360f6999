//! Secrets encrypted at rest, as Magento does with its `crypt/key`: the
//! Admin's config secrets and the account service's Amazon refresh tokens.
//!
//! The data keys live in a file outside the database (`crypt.key` in the data
//! dir, mode 0600), one base64 key per line; the last line is the current key.
//! A stored value is `VERSION:3:BASE64(nonce ‖ ciphertext)`, where VERSION is
//! the 1-based line of the key used and `3` names XChaCha20-Poly1305 (the
//! number Magento gives its libsodium cipher). The config path is the
//! associated data, so a value copied to another path does not decrypt.
//! Rotation: append a key, re-encrypt, and old values still decrypt meanwhile.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

mod key_file;
pub use key_file::KeyFileLock;

const CIPHER_XCHACHA: &str = "3";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the encryption key file {0} is unreadable or malformed")]
    KeyFile(String),
    #[error(
        "the encryption key file {0} is missing, yet the database holds values encrypted with it: \
         restore that file (a new key would make them unreadable; nothing was changed)"
    )]
    KeyMissing(String),
    #[error("the stored value is not in the encrypted format")]
    Format,
    #[error("the stored value was encrypted with a key this installation does not have")]
    UnknownKey,
    #[error("the stored value does not decrypt (wrong key or altered)")]
    Decrypt,
    #[error("another encryption:key:change is running on {0}; nothing was changed")]
    Busy(String),
}

pub struct Crypto {
    /// Version N is `keys[N - 1]`.
    keys: RwLock<Vec<XChaCha20Poly1305>>,
    /// Version 1's bytes, which rotation never changes: the root of keys
    /// derived for other uses ([`Crypto::derive_key`]).
    root: [u8; 32],
    /// The key file, read again when a value names a version it has not
    /// seen: another process (`encryption:key:change`) added a key.
    file: Option<PathBuf>,
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Crypto({} keys, redacted)", self.current_version())
    }
}

impl Crypto {
    /// Loads the key file, creating it with one fresh key (mode 0600) on first start.
    pub fn open_or_create(path: &Path) -> Result<Self, CryptoError> {
        let err = || CryptoError::KeyFile(path.display().to_string());
        if !path.exists() {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|_| err())?;
            }
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(path).map_err(|_| err())?;
            writeln!(f, "{}", B64.encode(new_key())).map_err(|_| err())?;
            f.sync_all().map_err(|_| err())?;
        }
        let text = fs::read_to_string(path).map_err(|_| err())?;
        Self::from_lines(&text)
            .map(|c| c.with_file(path))
            .ok_or_else(err)
    }

    fn with_file(mut self, path: &Path) -> Self {
        self.file = Some(path.to_path_buf());
        self
    }

    /// A fresh key held in memory only, for read-only commands on an
    /// installation without a key file (and so without encrypted values).
    pub fn ephemeral() -> Self {
        let root = new_key();
        let key = XChaCha20Poly1305::new((&root).into());
        Crypto {
            keys: RwLock::new(vec![key]),
            root,
            file: None,
        }
    }

    /// Keys from the key file's text: one base64 32-byte key per line. A
    /// last line without its newline that is not a key is an append cut
    /// short ([`KeyFileLock::add_key`] syncs the line before anything is
    /// encrypted under it): left out.
    pub fn from_lines(text: &str) -> Option<Self> {
        let text = key_file::complete_part(text);
        let raw: Option<Vec<[u8; 32]>> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| B64.decode(l).ok()?.try_into().ok())
            .collect();
        let raw = raw.filter(|k| !k.is_empty())?;
        let keys = raw
            .iter()
            .map(|k| XChaCha20Poly1305::new(k.into()))
            .collect();
        Some(Crypto {
            keys: RwLock::new(keys),
            root: raw[0],
            file: None,
        })
    }

    /// A key of its own for `label` (HMAC-SHA256 under version 1's key): the
    /// same on every node that shares the key file, and across rotations.
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        crate::device::derive_key(&self.root, label)
    }

    /// The current key's version (the line it is on in the key file).
    pub fn current_version(&self) -> usize {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Encrypts with the current key, binding the ciphertext to `path`.
    pub fn encrypt(&self, path: &str, plaintext: &str) -> String {
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let version = keys.len();
        let cipher = &keys[version - 1];
        let mut nonce = [0u8; 24];
        getrandom_fill(&mut nonce);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: path.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        format!("{version}:{CIPHER_XCHACHA}:{}", B64.encode(blob))
    }

    pub fn decrypt(&self, path: &str, stored: &str) -> Result<String, CryptoError> {
        let mut parts = stored.splitn(3, ':');
        let (Some(version), Some(cipher), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Format);
        };
        if cipher != CIPHER_XCHACHA {
            return Err(CryptoError::Format);
        }
        let version: usize = version.parse().map_err(|_| CryptoError::Format)?;
        if version == 0 {
            return Err(CryptoError::UnknownKey);
        }
        if version > self.current_version() {
            self.reload();
        }
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let key = keys.get(version - 1).ok_or(CryptoError::UnknownKey)?;
        let blob = B64.decode(data).map_err(|_| CryptoError::Format)?;
        if blob.len() < 24 + 16 {
            return Err(CryptoError::Format);
        }
        let (nonce, ct) = blob.split_at(24);
        let pt = key
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: path.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(pt).map_err(|_| CryptoError::Decrypt)
    }
}

impl Crypto {
    /// Reads the key file again, taking it only when it holds more versions
    /// (lines are only ever appended).
    fn reload(&self) {
        let Some(file) = &self.file else { return };
        let Some(fresh) = fs::read_to_string(file)
            .ok()
            .and_then(|t| Self::from_lines(&t))
        else {
            return;
        };
        let fresh = fresh.keys.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if fresh.len() > keys.len() {
            tracing::info!(
                versions = fresh.len(),
                "read a new data key version from the key file"
            );
            *keys = fresh;
        }
    }
}

fn new_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    getrandom_fill(&mut k);
    k
}

pub(crate) fn getrandom_fill(buf: &mut [u8]) {
    // Without the OS random source no secret can be protected: stop.
    getrandom::fill(buf).expect("the OS random source is unavailable");
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn crypto() -> Crypto {
        Crypto::from_lines(&B64.encode(new_key())).unwrap()
    }

    #[test]
    fn round_trip_and_format() {
        let c = crypto();
        let stored = c.encrypt("a/b/c", "cmk_live_secret");
        assert!(stored.starts_with("1:3:"));
        assert!(!stored.contains("cmk_live_secret"));
        assert_eq!(c.decrypt("a/b/c", &stored).unwrap(), "cmk_live_secret");
        // Fresh nonce every time.
        assert_ne!(stored, c.encrypt("a/b/c", "cmk_live_secret"));
    }

    #[test]
    fn bound_to_path_and_key() {
        let c = crypto();
        let stored = c.encrypt("a/b/c", "x");
        assert!(matches!(
            c.decrypt("a/b/d", &stored),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            crypto().decrypt("a/b/c", &stored),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(
            c.decrypt("a/b/c", "garbage"),
            Err(CryptoError::Format)
        ));
        assert!(matches!(
            c.decrypt("a/b/c", "9:3:AAAA"),
            Err(CryptoError::UnknownKey)
        ));
    }

    #[test]
    fn rotation_keeps_old_values_readable() {
        let k1 = B64.encode(new_key());
        let old = Crypto::from_lines(&k1).unwrap();
        let stored = old.encrypt("p", "v1");
        let rotated = Crypto::from_lines(&format!("{k1}\n{}\n", B64.encode(new_key()))).unwrap();
        assert_eq!(rotated.decrypt("p", &stored).unwrap(), "v1");
        assert!(rotated.encrypt("p", "v2").starts_with("2:3:"));
    }

    proptest::proptest! {
        /// Whatever is stored (altered, truncated, garbage), decrypting fails
        /// cleanly or returns exactly what was encrypted; it never panics.
        #[test]
        fn decrypt_never_panics(stored in "\\PC{0,120}", cut in 0usize..200, flip in 0usize..200) {
            let c = crypto();
            let _ = c.decrypt("p", &stored);
            let good = c.encrypt("p", "value");
            let truncated: String = good.chars().take(cut).collect();
            let r = c.decrypt("p", &truncated);
            proptest::prop_assert!(r.as_deref().map_or(true, |v| v == "value"));
            let mut bytes = good.clone().into_bytes();
            if flip < bytes.len() {
                bytes[flip] = if bytes[flip] == b'A' { b'B' } else { b'A' };
            }
            if let Ok(altered) = String::from_utf8(bytes) {
                let r = c.decrypt("p", &altered);
                proptest::prop_assert!(r.is_err() || altered == good);
            }
        }
    }

    #[test]
    fn add_key_appends_a_version_and_keeps_the_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crypt.key");
        let first = Crypto::open_or_create(&path).unwrap();
        let stored = first.encrypt("p", "v1");
        let before = fs::read_to_string(&path).unwrap();
        let rotated = KeyFileLock::acquire(&path).unwrap().add_key().unwrap().0;
        assert_eq!(rotated.current_version(), 2);
        let after = fs::read_to_string(&path).unwrap();
        assert!(after.starts_with(&before), "the old line stays first");
        assert_eq!(after.lines().count(), 2);
        assert_eq!(rotated.decrypt("p", &stored).unwrap(), "v1");
        assert!(rotated.encrypt("p", "v2").starts_with("2:3:"));
        // Only the key file and its lock file are in the dir (no temp file).
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["crypt.key", "crypt.key.lock"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let missing = dir.path().join("missing.key");
        assert!(KeyFileLock::acquire(&missing)
            .and_then(|l| l.add_key())
            .is_err());
    }

    #[test]
    fn a_running_instance_reads_a_version_added_by_another() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crypt.key");
        let running = Crypto::open_or_create(&path).unwrap();
        let rotated = KeyFileLock::acquire(&path).unwrap().add_key().unwrap().0;
        let stored = rotated.encrypt("p", "v2");
        assert_eq!(running.decrypt("p", &stored).unwrap(), "v2");
        assert_eq!(running.current_version(), 2);
    }

    #[test]
    fn key_file_created_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crypt.key");
        let c = Crypto::open_or_create(&path).unwrap();
        let again = Crypto::open_or_create(&path).unwrap();
        assert_eq!(again.decrypt("p", &c.encrypt("p", "v")).unwrap(), "v");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
