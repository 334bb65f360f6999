//! The secret that signs the links the service mails (HMAC-SHA256):
//! invitations, password resets and email confirmations, each under a purpose of its own so a
//! token of one kind never opens the other. A setting (`Config::link_key`),
//! so it lives apart from the modules that use it.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret that signs invitation links. Nodes that share a database must
/// share it (`--link-key-file`); a new one makes earlier links stop working.
#[derive(Clone)]
pub struct LinkKey(Arc<Vec<u8>>);

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey([redacted])")
    }
}

/// What a link opens; each signs under its own label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Invitation,
    PasswordReset,
    EmailVerification,
    /// The link mailed to the old address that cancels an email change.
    EmailChangeCancel,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            // The first label is the one invitation links always had.
            Purpose::Invitation => b"commerce invitation v1:",
            Purpose::PasswordReset => b"commerce password reset v1:",
            Purpose::EmailVerification => b"commerce email verification v1:",
            Purpose::EmailChangeCancel => b"commerce email change cancel v1:",
        }
    }
}

const KEY_CHARS: usize = 43; // base62: 256 bits

impl LinkKey {
    /// A fresh key (for one process, or tests).
    pub fn random() -> LinkKey {
        LinkKey(Arc::new(keys::random_base62(KEY_CHARS).into_bytes()))
    }

    /// Reads the key file, or creates it (mode 0600) with a fresh key.
    pub fn open_or_create(path: &Path) -> Result<LinkKey, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key = text.trim();
                if key.len() < 32 || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(format!(
                        "{} is not a link key (at least 32 letters and digits)",
                        path.display()
                    ));
                }
                Ok(LinkKey(Arc::new(key.as_bytes().to_vec())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = keys::random_base62(KEY_CHARS);
                write_private(path, &format!("{key}\n"))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(LinkKey(Arc::new(key.into_bytes())))
            }
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    fn mac(&self, purpose: Purpose, id: &str) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of every length"),
        };
        mac.update(purpose.label());
        mac.update(id.as_bytes());
        mac
    }

    /// The token of an invitation's link.
    /// A key of its own for `label`, derived from this secret (device
    /// cookies sign with one), so nodes that share the link key share it.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        web::device::derive_key(&self.0, label)
    }

    pub fn token(&self, id: &str) -> String {
        self.token_for(Purpose::Invitation, id)
    }

    /// The invitation id of a token made by this key (checked in constant time).
    pub fn check<'a>(&self, token: &'a str) -> Option<&'a str> {
        self.check_for(Purpose::Invitation, token)
    }

    /// The token of a link for `purpose`.
    pub fn token_for(&self, purpose: Purpose, id: &str) -> String {
        let tag = self.mac(purpose, id).finalize().into_bytes();
        format!("{id}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// The id of a token this key made for `purpose` (checked in constant time).
    pub fn check_for<'a>(&self, purpose: Purpose, token: &'a str) -> Option<&'a str> {
        let (id, tag) = token.split_once('.')?;
        if id.is_empty()
            || id.len() > 64
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return None;
        }
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(purpose, id).verify_slice(&tag).ok()?;
        Some(id)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_only_its_own_kind_of_link() {
        let key = LinkKey::random();
        let invite = key.token("inv_abc");
        let reset = key.token_for(Purpose::PasswordReset, "inv_abc");
        assert_ne!(invite, reset);
        assert_eq!(key.check(&invite), Some("inv_abc"));
        assert_eq!(key.check(&reset), None);
        assert_eq!(
            key.check_for(Purpose::PasswordReset, &reset),
            Some("inv_abc")
        );
        assert_eq!(key.check_for(Purpose::PasswordReset, &invite), None);
        assert_eq!(
            LinkKey::random().check_for(Purpose::PasswordReset, &reset),
            None
        );
    }
}
