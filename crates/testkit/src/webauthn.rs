//! A software authenticator for the Rust tests: it answers WebAuthn
//! options the way a browser's `credential.toJSON()` does, with a P-256 key
//! (ES256), `none` attestation and the CTAP2 data layout (W3C WebAuthn
//! Level 3, §6.1 authenticator data, §6.5.1 attested credential data, COSE
//! keys of RFC 9053). The browser suite uses Chromium's own virtual
//! authenticator; this one lets the storage tests run on both backends.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// One authenticator holding one credential once [`Self::create`] ran.
pub struct SoftAuthenticator {
    key: SigningKey,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    /// The page's origin the browser reports (`http://localhost:1234`).
    pub origin: String,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("random bytes");
    b
}

fn b64(v: &Value) -> Vec<u8> {
    B64URL
        .decode(v.as_str().expect("a base64url string"))
        .expect("base64url")
}

/// CBOR (RFC 8949) of what the attestation object needs.
fn cbor_head(major: u8, n: usize, out: &mut Vec<u8>) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        _ => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
    }
}

fn cbor_bytes(b: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, b.len(), out);
    out.extend_from_slice(b);
}

fn cbor_text(s: &str, out: &mut Vec<u8>) {
    cbor_head(3, s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

/// A CBOR integer from -24 to 23.
fn cbor_small(i: i8, out: &mut Vec<u8>) {
    if i >= 0 {
        out.push(i as u8);
    } else {
        out.push(0x20 | (-1 - i) as u8);
    }
}

impl SoftAuthenticator {
    pub fn new(origin: &str) -> SoftAuthenticator {
        SoftAuthenticator {
            key: SigningKey::from_slice(&random::<32>()).expect("a P-256 key"),
            credential_id: random::<16>().to_vec(),
            user_handle: Vec::new(),
            origin: origin.to_owned(),
        }
    }

    fn client_data(&self, kind: &str, challenge: &Value) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    /// The COSE_Key of the public key: {1: 2 (EC2), 3: -7 (ES256), -1: 1
    /// (P-256), -2: x, -3: y}.
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut out = vec![0xa5];
        cbor_small(1, &mut out);
        cbor_small(2, &mut out);
        cbor_small(3, &mut out);
        cbor_small(-7, &mut out);
        cbor_small(-1, &mut out);
        cbor_small(1, &mut out);
        cbor_small(-2, &mut out);
        cbor_bytes(point.x().expect("x"), &mut out);
        cbor_small(-3, &mut out);
        cbor_bytes(point.y().expect("y"), &mut out);
        out
    }

    /// rpIdHash, flags (user present and verified, and `extra`), counter 0.
    fn auth_data(rp_id: &str, extra_flags: u8) -> Vec<u8> {
        let mut d = Sha256::digest(rp_id.as_bytes()).to_vec();
        d.push(0x01 | 0x04 | extra_flags);
        d.extend([0, 0, 0, 0]);
        d
    }

    /// Answers `navigator.credentials.create` with `options`
    /// (PublicKeyCredentialCreationOptionsJSON): the credential's JSON.
    pub fn create(&mut self, options: &Value) -> Value {
        let o = options.get("publicKey").unwrap_or(options);
        let rp_id = o["rp"]["id"].as_str().expect("rp.id");
        self.user_handle = b64(&o["user"]["id"]);
        let client_data = self.client_data("webauthn.create", &o["challenge"]);
        let mut auth_data = Self::auth_data(rp_id, 0x40);
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_key());
        let mut att = vec![0xa3];
        cbor_text("fmt", &mut att);
        cbor_text("none", &mut att);
        cbor_text("attStmt", &mut att);
        att.push(0xa0);
        cbor_text("authData", &mut att);
        cbor_bytes(&auth_data, &mut att);
        let id = B64URL.encode(&self.credential_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": B64URL.encode(&client_data),
                "attestationObject": B64URL.encode(&att),
                "authenticatorData": B64URL.encode(&auth_data),
                "transports": ["internal"],
                "publicKeyAlgorithm": -7,
            },
        })
    }

    /// Answers `navigator.credentials.get` with `options`
    /// (PublicKeyCredentialRequestOptionsJSON): the assertion's JSON.
    pub fn get(&self, options: &Value) -> Value {
        let o = options.get("publicKey").unwrap_or(options);
        let rp_id = o["rpId"].as_str().expect("rpId");
        let client_data = self.client_data("webauthn.get", &o["challenge"]);
        let auth_data = Self::auth_data(rp_id, 0);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let sig: DerSignature = self.key.sign(&signed);
        let id = B64URL.encode(&self.credential_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": B64URL.encode(&client_data),
                "authenticatorData": B64URL.encode(&auth_data),
                "signature": B64URL.encode(sig.as_bytes()),
                "userHandle": B64URL.encode(&self.user_handle),
            },
        })
    }
}
