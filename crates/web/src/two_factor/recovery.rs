//! Recovery codes: ten single-use codes for a person without their
//! authenticator. Each is 50 random bits shown once as `abcde-fghij`
//! (lower-case base32); only a SHA-256 hash of each is stored, which is
//! enough for codes this random.

/// How many codes a set holds.
pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new set of codes, as shown to the person.
pub fn generate() -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let mut raw = [0u8; 10];
            crate::crypto::getrandom_fill(&mut raw);
            let chars: String = raw
                .iter()
                .map(|b| ALPHABET[usize::from(b & 31)] as char)
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A code as typed, in the form it was hashed in: lower case, without
/// spaces or dashes; `None` when it cannot be a code.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == 10 && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The stored hash of a (normalized) code.
pub fn hash(normalized: &str) -> String {
    keys::hash_str(normalized).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_distinct_and_read_back() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let mut uniq = codes.clone();
        uniq.sort();
        uniq.dedup();
        assert_eq!(uniq.len(), COUNT);
        for c in &codes {
            assert_eq!(c.len(), 11);
            let n = normalize(c).unwrap();
            assert_eq!(normalize(&c.to_uppercase()).as_deref(), Some(n.as_str()));
            assert_eq!(normalize(&format!(" {} ", n)).as_deref(), Some(n.as_str()));
            assert_eq!(hash(&n).len(), 64);
        }
    }

    #[test]
    fn what_cannot_be_a_code_is_refused() {
        assert_eq!(normalize("abcde-fghi"), None);
        assert_eq!(normalize("abcde-fghij1"), None);
        assert_eq!(normalize("abcde-fghi1"), None);
        assert_eq!(normalize("abcde\0fghij"), None);
        assert_eq!(normalize("123456"), None);
    }
}
