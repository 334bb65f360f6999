//! Signing key pairs and the RS256 JWTs of Magento's Services Connector 1.3.x.
//!
//! A store signs each gateway request with its private key; the account service
//! keeps only the public key and accepts a token only when it is RS256 (no
//! `none`, no HMAC keyed with the public key), verifies with that public key,
//! and has an `exp` in the future but not too far ahead.

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

pub const MIN_BITS: usize = 2048;

/// Seconds of clock skew allowed for `nbf`.
pub const NBF_LEEWAY: i64 = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JwtError {
    /// Not `header.payload.signature` in base64url JSON.
    Malformed,
    /// Any algorithm but RS256.
    Algorithm,
    Signature,
    Expired,
    /// `exp` further ahead than allowed.
    TooFarAhead,
    /// `nbf` still ahead (beyond the leeway for clock skew).
    NotYetValid,
    /// A `crit` header: extensions this verifier does not understand (RFC 7515 §4.1.11).
    Critical,
    /// The PEM is not an RSA key.
    BadKey,
    /// An RSA key of fewer than 2048 bits.
    KeyTooSmall,
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JwtError::Malformed => "the signature header is not a well-formed JWT",
            JwtError::Algorithm => "only RS256 signatures are accepted",
            JwtError::Signature => "the signature does not verify with the key's public key",
            JwtError::Expired => "the signature has expired",
            JwtError::TooFarAhead => "the signature's expiry is too far in the future",
            JwtError::NotYetValid => "the signature is not valid yet (nbf)",
            JwtError::Critical => "the signature names critical extensions that are not supported",
            JwtError::BadKey => "not an RSA key in PEM format",
            JwtError::KeyTooSmall => "the RSA key must have at least 2048 bits",
        })
    }
}

impl std::error::Error for JwtError {}

/// A public key that verifies RS256 signatures.
#[derive(Clone)]
pub struct PublicKey {
    key: VerifyingKey<Sha256>,
    inner: RsaPublicKey,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.fingerprint())
    }
}

impl PublicKey {
    /// Parses an SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, JwtError> {
        let pem = pem.trim();
        let inner = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .map_err(|_| JwtError::BadKey)?;
        if inner.n().bits() < MIN_BITS {
            return Err(JwtError::KeyTooSmall);
        }
        Ok(PublicKey {
            key: VerifyingKey::new(inner.clone()),
            inner,
        })
    }

    /// The key as SPKI PEM, the form stored.
    pub fn to_pem(&self) -> String {
        self.inner
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// `SHA256:` and the base64 SHA-256 of the DER, as ssh-keygen shows fingerprints.
    pub fn fingerprint(&self) -> String {
        let der = self
            .inner
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        format!(
            "SHA256:{}",
            STANDARD.encode(Sha256::digest(&der)).trim_end_matches('=')
        )
    }

    pub fn bits(&self) -> usize {
        self.inner.n().bits()
    }

    /// Verifies an RS256 JWT: the algorithm, the signature, and `now < exp <= now + max_ahead`.
    pub fn verify(&self, token: &str, now: i64, max_ahead: i64) -> Result<(), JwtError> {
        let mut parts = token.trim().split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: serde_json::Value = decode_json(h)?;
        if header.get("alg").and_then(|a| a.as_str()) != Some("RS256") {
            return Err(JwtError::Algorithm);
        }
        // No extension is understood here, so any `crit` must be refused.
        if header.get("crit").is_some() {
            return Err(JwtError::Critical);
        }
        let sig_bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwtError::Malformed)?;
        let sig = Signature::try_from(sig_bytes.as_slice()).map_err(|_| JwtError::Signature)?;
        let signed = &token.trim()[..h.len() + 1 + p.len()];
        self.key
            .verify(signed.as_bytes(), &sig)
            .map_err(|_| JwtError::Signature)?;
        let claims: serde_json::Value = decode_json(p)?;
        let exp = claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .ok_or(JwtError::Malformed)?;
        if exp <= now {
            return Err(JwtError::Expired);
        }
        if exp > now + max_ahead {
            return Err(JwtError::TooFarAhead);
        }
        match claims.get("nbf") {
            None => {}
            Some(nbf) => {
                let nbf = nbf.as_i64().ok_or(JwtError::Malformed)?;
                if nbf > now + NBF_LEEWAY {
                    return Err(JwtError::NotYetValid);
                }
            }
        }
        Ok(())
    }
}

fn decode_json(part: &str) -> Result<serde_json::Value, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(JwtError::Malformed)
    }
}

/// A private key that signs RS256 JWTs. `Debug` never shows it.
pub struct PrivateKey {
    key: SigningKey<Sha256>,
    inner: RsaPrivateKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([redacted])")
    }
}

impl PrivateKey {
    /// A new RSA 2048 key from the OS random source.
    pub fn generate() -> Result<Self, JwtError> {
        let inner = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, MIN_BITS)
            .map_err(|_| JwtError::BadKey)?;
        Ok(Self::from_inner(inner))
    }

    fn from_inner(inner: RsaPrivateKey) -> Self {
        PrivateKey {
            key: SigningKey::new(inner.clone()),
            inner,
        }
    }

    /// Parses a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM.
    pub fn from_pem(pem: &str) -> Result<Self, JwtError> {
        let pem = pem.trim();
        let inner = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| JwtError::BadKey)?;
        if inner.n().bits() < MIN_BITS {
            return Err(JwtError::KeyTooSmall);
        }
        Ok(Self::from_inner(inner))
    }

    /// PKCS#8 PEM: shown to the user once, never stored by the account service.
    pub fn to_pem(&self) -> String {
        self.inner
            .to_pkcs8_pem(LineEnding::LF)
            .map(|z| z.to_string())
            .unwrap_or_default()
    }

    pub fn public_key(&self) -> PublicKey {
        let inner = self.inner.to_public_key();
        PublicKey {
            key: VerifyingKey::new(inner.clone()),
            inner,
        }
    }

    /// Signs `claims` as an RS256 JWT.
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        self.sign_with_header(&serde_json::json!({"alg": "RS256", "typ": "JWT"}), claims)
    }

    /// Signs `claims` under the given JOSE header (tests of header rules).
    pub fn sign_with_header(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> String {
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{payload}");
        let sig = self.key.sign(signed.as_bytes());
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }
}

/// The claims a Services Connector 1.3.x store signs: `exp` = now + 300 s and
/// fixed values naming the vendor's organisation (any are accepted).
pub fn connector_claims(now: i64) -> serde_json::Value {
    serde_json::json!({
        "exp": now + 300,
        "iss": "commerce-admin",
        "sub": "commerce-admin",
        "aud": "commerce-account-service",
        "https://ims-na1.adobelogin.com/s/ent_reactor_admin_sdk": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::LazyLock;

    static PAIR: LazyLock<PrivateKey> = LazyLock::new(|| PrivateKey::generate().unwrap());
    static OTHER: LazyLock<PrivateKey> = LazyLock::new(|| PrivateKey::generate().unwrap());
    const NOW: i64 = 1_800_000_000;

    #[test]
    fn sign_and_verify() {
        let public = PublicKey::from_pem(&PAIR.public_key().to_pem()).unwrap();
        assert_eq!(public.bits(), 2048);
        let token = PAIR.sign(&connector_claims(NOW));
        assert_eq!(public.verify(&token, NOW, 600), Ok(()));
        // PEM round trips.
        let again = PrivateKey::from_pem(&PAIR.to_pem()).unwrap();
        assert_eq!(
            public.verify(&again.sign(&connector_claims(NOW)), NOW, 600),
            Ok(())
        );
        assert!(public.fingerprint().starts_with("SHA256:"));
        assert_eq!(public.fingerprint(), PAIR.public_key().fingerprint());
    }

    #[test]
    fn refuses_bad_tokens() {
        let public = PAIR.public_key();
        let other = OTHER.sign(&connector_claims(NOW));
        assert_eq!(public.verify(&other, NOW, 600), Err(JwtError::Signature));
        let expired = PAIR.sign(&serde_json::json!({"exp": NOW - 1}));
        assert_eq!(public.verify(&expired, NOW, 600), Err(JwtError::Expired));
        let ahead = PAIR.sign(&serde_json::json!({"exp": NOW + 5 * 3600}));
        assert_eq!(public.verify(&ahead, NOW, 600), Err(JwtError::TooFarAhead));
        let early = PAIR.sign(&serde_json::json!({"exp": NOW + 300, "nbf": NOW + NBF_LEEWAY + 1}));
        assert_eq!(public.verify(&early, NOW, 600), Err(JwtError::NotYetValid));
        let skewed = PAIR.sign(&serde_json::json!({"exp": NOW + 300, "nbf": NOW + 30}));
        assert_eq!(public.verify(&skewed, NOW, 600), Ok(()));
        let crit = PAIR.sign_with_header(
            &serde_json::json!({"alg": "RS256", "crit": ["exp"], "exp": NOW + 300}),
            &connector_claims(NOW),
        );
        assert_eq!(public.verify(&crit, NOW, 600), Err(JwtError::Critical));
        let no_exp = PAIR.sign(&serde_json::json!({"iss": "x"}));
        assert_eq!(public.verify(&no_exp, NOW, 600), Err(JwtError::Malformed));
        assert_eq!(public.verify("garbage", NOW, 600), Err(JwtError::Malformed));
        assert_eq!(public.verify("a.b.c", NOW, 600), Err(JwtError::Malformed));
        // alg none, with or without a signature.
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(connector_claims(NOW).to_string());
        assert_eq!(
            public.verify(&format!("{none_header}.{payload}."), NOW, 600),
            Err(JwtError::Algorithm)
        );
        // A valid signature moved under another header is refused.
        let good = PAIR.sign(&connector_claims(NOW));
        let sig = good.rsplit('.').next().unwrap();
        let hs = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        assert_eq!(
            public.verify(&format!("{hs}.{payload}.{sig}"), NOW, 600),
            Err(JwtError::Algorithm)
        );
        // A tampered payload does not verify.
        let tampered_payload =
            URL_SAFE_NO_PAD.encode(serde_json::json!({"exp": NOW + 299}).to_string());
        let mut parts: Vec<&str> = good.split('.').collect();
        parts[1] = &tampered_payload;
        assert_eq!(
            public.verify(&parts.join("."), NOW, 600),
            Err(JwtError::Signature)
        );
    }

    #[test]
    fn refuses_bad_keys() {
        assert_eq!(
            PublicKey::from_pem("not a key").err(),
            Some(JwtError::BadKey)
        );
        let small = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
        let pem = small
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        assert_eq!(PublicKey::from_pem(&pem).err(), Some(JwtError::KeyTooSmall));
    }
}
