//! Random text from the OS CSPRNG: a key's secret part and identifiers.

/// The alphabet of keys and identifiers (and of a key's checksum).
pub(crate) const BASE62: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` uniformly distributed base62 characters from the OS CSPRNG.
pub fn random_base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        // The OS random source failing is not recoverable: no key can be made safely.
        getrandom::fill(&mut buf).expect("the OS random source is unavailable");
        for &b in &buf {
            // Rejection sampling keeps the distribution uniform: 248 = 4 * 62.
            if b < 248 && out.len() < len {
                out.push(char::from(BASE62[usize::from(b % 62)]));
            }
        }
    }
    out
}

/// A random identifier with a readable prefix, e.g. `key_3fQ...`. Not secret.
pub fn random_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base62(16))
}
