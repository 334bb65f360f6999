//! Leaked keys: the secret-scanning partner endpoint in GitHub's format.
//!
//! GitHub finds a key matching our published regex in a public place and
//! POSTs a JSON array of `{token, type, url, source}`, signed with ECDSA P-256
//! over SHA-256 of the raw body: the base64 DER signature in
//! `Github-Public-Key-Signature`, the signing key named by
//! `Github-Public-Key-Identifier`. We check the signature against the public
//! keys we were configured with, revoke every live key reported, tell its
//! company through the outbox, record it in the audit log, and answer
//! `[{token_raw, token_type, label}]`.

use base64::Engine;
use keys::ApiKey;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::{Deserialize, Serialize};
use web::Error;

use crate::audit::{self, action};
use crate::outbox;
use crate::store::{self, NewEvent};
use crate::Services;

pub const IDENTIFIER_HEADER: &str = "github-public-key-identifier";
pub const SIGNATURE_HEADER: &str = "github-public-key-signature";
/// The actor named in the audit log.
pub const ACTOR: &str = "secret-scanning";
/// Most tokens one report may carry.
pub const MAX_TOKENS: usize = 1000;

/// Reads trusted public keys: PEM text with one or more `PUBLIC KEY` blocks,
/// or the JSON GitHub publishes (`{"public_keys": [{"key": PEM, ...}]}`).
pub fn parse_public_keys(text: &str) -> Result<Vec<VerifyingKey>, String> {
    let pems: Vec<String> = if text.trim_start().starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|_| "not valid JSON".to_owned())?;
        v["public_keys"]
            .as_array()
            .ok_or("no public_keys array")?
            .iter()
            .filter_map(|k| k["key"].as_str().map(str::to_owned))
            .collect()
    } else {
        const END: &str = "-----END PUBLIC KEY-----";
        text.split_inclusive(END)
            .filter(|b| b.contains("-----BEGIN PUBLIC KEY-----"))
            .map(|b| b[b.find("-----BEGIN").unwrap_or(0)..].to_owned())
            .collect()
    };
    if pems.is_empty() {
        return Err("no PUBLIC KEY found".into());
    }
    pems.iter()
        .map(|pem| {
            VerifyingKey::from_public_key_pem(pem.trim())
                .map_err(|_| "a public key is not an ECDSA P-256 key in PEM".to_owned())
        })
        .collect()
}

/// Whether `body` carries a valid signature by one of the trusted keys.
pub fn signature_ok(trusted: &[VerifyingKey], body: &[u8], signature_b64: &str) -> bool {
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    let Ok(sig) = Signature::from_der(&der) else {
        return false;
    };
    trusted.iter().any(|k| k.verify(body, &sig).is_ok())
}

#[derive(Deserialize)]
pub struct Report {
    pub token: String,
    #[serde(rename = "type")]
    pub token_type: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Serialize)]
pub struct Answer {
    pub token_raw: String,
    pub token_type: String,
    pub label: &'static str,
}

/// Checks a signed report and acts on it. The signature is checked before
/// the body is even parsed.
pub async fn handle(
    state: &Services,
    identifier: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Vec<Answer>, Error> {
    let trusted = &state.cfg.secret_scanning_keys;
    if trusted.is_empty() {
        return Err(Error::not_found("Secret scanning is not enabled here."));
    }
    let (Some(identifier), Some(signature)) = (identifier, signature) else {
        return Err(Error::unauthorized(
            "missing_signature",
            "Sign the request: Github-Public-Key-Identifier and Github-Public-Key-Signature.",
        ));
    };
    if identifier.trim().is_empty() || !signature_ok(trusted, body, signature) {
        return Err(Error::unauthorized(
            "invalid_signature",
            "The signature does not verify with a trusted public key.",
        ));
    }
    let reports: Vec<Report> = serde_json::from_slice(body).map_err(|_| {
        Error::bad_request(
            "malformed_json",
            "Send a JSON array of {token, type, url, source}.",
        )
    })?;
    if reports.len() > MAX_TOKENS {
        return Err(Error::unprocessable(
            "too_many_tokens",
            "At most 1000 tokens per request.",
        ));
    }
    let mut answers = Vec::with_capacity(reports.len());
    for r in reports {
        let found = report_one(state, &r).await?;
        answers.push(Answer {
            token_raw: r.token,
            token_type: r.token_type,
            label: if found {
                "true_positive"
            } else {
                "false_positive"
            },
        });
    }
    Ok(answers)
}

/// One reported token: true when it is a key we issued. A live key is
/// revoked at once, its company told, and the event recorded.
async fn report_one(state: &Services, r: &Report) -> Result<bool, Error> {
    // A malformed token or bad checksum is not ours, and costs no lookup.
    let Ok(key) = ApiKey::parse(r.token.trim()) else {
        return Ok(false);
    };
    let hash = key.hash();
    let Some(row) = store::key_by_hash(&state.db, &hash).await? else {
        return Ok(false);
    };
    let now = state.clock.now();
    let url = r
        .url
        .as_deref()
        .unwrap_or("")
        .chars()
        .take(500)
        .collect::<String>();
    let source = r
        .source
        .as_deref()
        .unwrap_or("")
        .chars()
        .take(100)
        .collect::<String>();
    let detail = audit::key_detail(
        &row.name,
        row.environment,
        &row.hint,
        serde_json::json!({"url": url, "source": source}),
    );
    let event = NewEvent {
        company_id: Some(&row.company_id),
        actor_id: None,
        actor: Some(ACTOR),
        action: action::KEY_LEAKED,
        target: Some(&row.id),
        detail: Some(&detail),
        ip: None,
        at: now,
    };
    let revoked = crate::api_keys::revoke_leaked(state, &row, &event).await?;
    if revoked == Some(true) {
        let compose = |t: web::i18n::T| {
            let subject = t.fmt("mail.leak_subject", "name", &row.name);
            let body = crate::i18n::letter(
                t,
                [
                    t.get("mail.leak_body")
                        .replace("{key}", &format!("\"{}\" ({})", row.name, row.hint))
                        .replace("{url}", if url.is_empty() { "-" } else { &url }),
                    t.get("mail.leak_action").to_owned(),
                ],
            );
            (subject, body)
        };
        let dedupe = format!("leak:{}", row.id);
        outbox::notify_owner(
            state,
            &row.company_id,
            outbox::kind::KEY_LEAKED,
            Some(&dedupe),
            compose,
            None,
        )
        .await?;
    }
    Ok(true)
}
