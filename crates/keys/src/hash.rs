//! SHA-256 of keys and of other secrets, as storage keeps them ([`KeyHash`]).

use std::fmt;

use sha2::{Digest, Sha256};

use crate::stored::NotStored;

/// SHA-256 of a key: what storage keeps instead of the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0])?;
            let lo = hex_val(pair[1])?;
            out[i] = (hi << 4) | lo;
        }
        Some(KeyHash(out))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl TryFrom<String> for KeyHash {
    type Error = NotStored;

    /// Reads the stored hex form (`sqlx(try_from = "String")` on a row field).
    fn try_from(hex: String) -> Result<Self, NotStored> {
        KeyHash::from_hex(&hex).ok_or(NotStored("key hash"))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({}…)", &self.to_hex()[..8])
    }
}

/// SHA-256 of any string, as stored for keys.
pub fn hash_str(s: &str) -> KeyHash {
    KeyHash(Sha256::digest(s.as_bytes()).into())
}

/// SHA-256 of several byte strings, each preceded by its length (so no two
/// different lists hash the same text), without joining them first.
pub fn hash_parts(parts: &[&[u8]]) -> KeyHash {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    KeyHash(h.finalize().into())
}
