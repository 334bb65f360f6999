//! Authenticator-app codes (RFC 6238): SHA-1, 6 digits, 30-second steps,
//! one step of clock drift either way. Which step a code matched is kept, so
//! that a code is accepted once: see [`super::store::claim_step`].

use totp_rs::{Algorithm, TOTP};

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// A new secret's bytes (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;

/// A new random secret, base32 without padding (what an authenticator app
/// is given and what is stored, encrypted).
pub fn new_secret() -> String {
    let mut raw = [0u8; SECRET_BYTES];
    crate::crypto::getrandom_fill(&mut raw);
    totp_rs::Secret::Raw(raw.to_vec()).to_encoded().to_string()
}

fn totp(secret_b32: &str) -> Option<TOTP> {
    let raw = totp_rs::Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .ok()?;
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS as u64, raw).ok()
}

/// The code of `secret_b32` at unix time `at` (the tests' authenticator).
pub fn code_at(secret_b32: &str, at: i64) -> Option<String> {
    Some(totp(secret_b32)?.generate(u64::try_from(at).ok()?))
}

/// The step (unix time / 30) whose code `code` is, among the steps one
/// before to one after `now`'s; `None` for a wrong code or one that is not
/// six digits (spaces are allowed between them).
pub fn matching_step(secret_b32: &str, code: &str, now: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32)?;
    let here = now.div_euclid(STEP_SECS);
    // Every step is computed, so the time taken does not say which matched.
    let mut found = None;
    for step in [here - 1, here, here + 1] {
        let Ok(at) = u64::try_from(step * STEP_SECS) else {
            continue;
        };
        let same: bool =
            subtle::ConstantTimeEq::ct_eq(t.generate(at).as_bytes(), code.as_bytes()).into();
        if same && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` link an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let issuer_enc = percent(issuer);
    format!(
        "otpauth://totp/{issuer_enc}:{}?secret={secret_b32}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent(account)
    )
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 test secret ("12345678901234567890") and vectors,
    /// cut to six digits.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc_6238_vectors() {
        assert_eq!(code_at(RFC_SECRET, 59).unwrap(), "287082");
        assert_eq!(code_at(RFC_SECRET, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(RFC_SECRET, 1_234_567_890).unwrap(), "005924");
        assert_eq!(code_at(RFC_SECRET, 2_000_000_000).unwrap(), "279037");
    }

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let s = new_secret();
        let now = 1_800_000_015;
        let here = now / STEP_SECS;
        let code = code_at(&s, now).unwrap();
        assert_eq!(matching_step(&s, &code, now), Some(here));
        assert_eq!(matching_step(&s, &code, now + STEP_SECS), Some(here));
        assert_eq!(matching_step(&s, &code, now - STEP_SECS), Some(here));
        assert_eq!(matching_step(&s, &code, now + 2 * STEP_SECS), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(matching_step(&s, &spaced, now), Some(here));
        assert_eq!(matching_step(&s, "12345", now), None);
        assert_eq!(matching_step(&s, "12345a", now), None);
        assert_eq!(matching_step(&s, "١٢٣٤٥٦", now), None);
    }

    #[test]
    fn another_secrets_code_is_wrong() {
        // RFC 6238's code for t = 59 under another (fixed) secret.
        let other = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        assert_ne!(code_at(other, 59).unwrap(), "287082");
        assert_eq!(matching_step(other, "287082", 59), None);
        assert_eq!(matching_step(RFC_SECRET, "287082", 59), Some(1));
    }

    #[test]
    fn secrets_are_160_bits_of_base32() {
        let s = new_secret();
        assert_eq!(s.len(), 32);
        assert!(s
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
        assert_ne!(s, new_secret());
    }

    #[test]
    fn the_link_names_issuer_and_account() {
        let uri = otpauth_uri("Commerce Admin", "ann@example.com", "ABC");
        assert_eq!(
            uri,
            "otpauth://totp/Commerce%20Admin:ann%40example.com?secret=ABC&issuer=Commerce%20Admin&algorithm=SHA1&digits=6&period=30"
        );
    }
}
