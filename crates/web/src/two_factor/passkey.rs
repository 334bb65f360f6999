//! Passkeys and security keys (WebAuthn) as a second step, through the
//! `webauthn_rp` relying-party library: registration and sign-in
//! ceremonies whose server state is kept in the app's database (so any
//! node can finish what another started), and stored public keys.
//!
//! The relying party is the site's host: `--public-url`'s, or else the
//! host the page was served from, so that `localhost` works. WebAuthn
//! takes no IP address: on one, passkeys are not offered.

use axum::http::HeaderMap;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine as _;
use webauthn_rp::bin::{Decode, Encode};
use webauthn_rp::request::auth::{AllowedCredentials, NonDiscoverableCredentialRequestOptions};
use webauthn_rp::request::register::{
    PublicKeyCredentialCreationOptions, PublicKeyCredentialUserEntity, UserHandle,
};
use webauthn_rp::request::{AsciiDomain, Credentials as _, PublicKeyCredentialDescriptor, RpId};
use webauthn_rp::response::register::{DynamicState, StaticState};
use webauthn_rp::response::{AuthTransports, CredentialId};
use webauthn_rp::{
    AuthenticatedCredential, NonDiscoverableAuthentication,
    NonDiscoverableAuthenticationServerState, Registration, RegistrationServerState,
};

use super::passkey_store::{self as store, PasskeyRow, PasskeyTables};
use super::{TwoFactorSite, PENDING_SECS};
use crate::Error;

/// Bytes of the user handle an authenticator keeps (derived from the user's id).
const HANDLE_LEN: usize = 16;
/// The longest name a passkey may be given.
pub const MAX_NAME: usize = 60;
const REGISTER: &str = "register";
const AUTHENTICATE: &str = "authenticate";

/// Whom a passkey is made for: the site's host and origin.
#[derive(Clone, Debug)]
pub struct RelyingParty {
    rp_id: RpId,
    origin: String,
}

impl RelyingParty {
    /// The relying party of `origin` (`scheme://host[:port]`); `None` for
    /// an IP address or anything that is not a host.
    pub fn of_origin(origin: &str) -> Option<RelyingParty> {
        let origin = origin.trim_end_matches('/');
        let (_, rest) = origin.split_once("://")?;
        let host = match rest.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => rest,
        };
        let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
        if host.is_empty() || is_ip || host.contains('/') {
            return None;
        }
        let domain = AsciiDomain::try_from(host.to_ascii_lowercase()).ok()?;
        Some(RelyingParty {
            rp_id: RpId::Domain(domain),
            origin: origin.to_ascii_lowercase(),
        })
    }

    /// The relying party of a request: `public_url`'s origin when set,
    /// else the `Host` the request was sent to (checked by the edge).
    pub fn for_request(
        public_url: Option<&str>,
        headers: &HeaderMap,
        secure: bool,
    ) -> Option<RelyingParty> {
        if let Some(url) = public_url {
            let (scheme, rest) = url.split_once("://")?;
            let host = rest.split('/').next()?;
            return Self::of_origin(&format!("{scheme}://{host}"));
        }
        let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
        let scheme = if secure { "https" } else { "http" };
        Self::of_origin(&format!("{scheme}://{host}"))
    }
}

/// Why a passkey ceremony failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyRefusal {
    /// No ceremony was started, it expired, or it was finished already.
    NoCeremony,
    /// The authenticator's answer is not valid for this site and ceremony.
    Invalid,
    /// This authenticator is registered already.
    Duplicate,
    /// The user has no passkey.
    NoPasskey,
}

fn handle(user_id: &str) -> UserHandle<HANDLE_LEN> {
    let digest = keys::hash_str(&format!("webauthn user handle\0{user_id}"));
    let mut bytes = [0u8; HANDLE_LEN];
    bytes.copy_from_slice(&digest.0[..HANDLE_LEN]);
    infallible(UserHandle::decode(bytes))
}

/// The value of an encoding or decoding that cannot fail.
fn infallible<T>(r: Result<T, std::convert::Infallible>) -> T {
    match r {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

fn tables<S: TwoFactorSite>(site: &S) -> Result<&'static PasskeyTables, Error> {
    site.passkey_tables()
        .ok_or_else(|| Error::internal("this site keeps no passkeys"))
}

fn descriptor(row: &PasskeyRow) -> Option<PublicKeyCredentialDescriptor<Vec<u8>>> {
    let id = CredentialId::decode(B64URL.decode(&row.credential_id).ok()?).ok()?;
    let transports = AuthTransports::decode(u8::try_from(row.transports).ok()?).ok()?;
    Some(PublicKeyCredentialDescriptor { id, transports })
}

/// Starts registering a passkey for `user_id` (`user_name`: how the
/// authenticator lists the account): the options for
/// `PublicKeyCredential.parseCreationOptionsFromJSON`.
pub async fn start_registration<S: TwoFactorSite>(
    site: &S,
    rp: &RelyingParty,
    user_id: &str,
    user_name: &str,
) -> Result<serde_json::Value, Error> {
    let t = tables(site)?;
    let db = site.session_db();
    let exclude: Vec<_> = store::list(db, t, user_id)
        .await?
        .iter()
        .filter_map(descriptor)
        .collect();
    let user_handle = handle(user_id);
    let name: String = user_name.chars().take(60).collect();
    let user = PublicKeyCredentialUserEntity {
        name: name
            .as_str()
            .try_into()
            .map_err(|_| Error::internal("a user name WebAuthn does not take"))?,
        id: &user_handle,
        display_name: None,
    };
    let (server, client) =
        PublicKeyCredentialCreationOptions::second_factor(&rp.rp_id, user, exclude)
            .start_ceremony()
            .map_err(|e| Error::internal(format!("passkey options: {e}")))?;
    let state = server
        .encode()
        .map_err(|e| Error::internal(format!("passkey state: {e}")))?;
    store::put_ceremony(db, t, user_id, REGISTER, &B64.encode(state), site.now()).await?;
    serde_json::to_value(&client).map_err(Error::internal)
}

/// Finishes a registration with the authenticator's answer
/// (`credential.toJSON()`) and stores the passkey under `name`.
pub async fn finish_registration<S: TwoFactorSite>(
    site: &S,
    rp: &RelyingParty,
    user_id: &str,
    name: &str,
    answer: &[u8],
) -> Result<Result<PasskeyRow, PasskeyRefusal>, Error> {
    let t = tables(site)?;
    let db = site.session_db();
    let since = site.now() - PENDING_SECS;
    let Some(state) = store::take_ceremony(db, t, user_id, REGISTER, since).await? else {
        return Ok(Err(PasskeyRefusal::NoCeremony));
    };
    let Some(server) = B64
        .decode(state)
        .ok()
        .and_then(|b| RegistrationServerState::<HANDLE_LEN>::decode(b.as_slice()).ok())
    else {
        return Ok(Err(PasskeyRefusal::NoCeremony));
    };
    let Ok(registration) = Registration::from_json_relaxed(answer) else {
        return Ok(Err(PasskeyRefusal::Invalid));
    };
    let origins = [rp.origin.as_str()];
    let options = webauthn_rp::request::register::RegistrationVerificationOptions::<&str, &str> {
        allowed_origins: &origins,
        ..Default::default()
    };
    let cred = match server.verify(&rp.rp_id, &registration, &options) {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(error = %e, "a passkey registration was refused");
            return Ok(Err(PasskeyRefusal::Invalid));
        }
    };
    let static_state = infallible(cred.static_state().encode());
    let dynamic_state = infallible(cred.dynamic_state().encode());
    let id = cred.id();
    let id_bytes = infallible(id.encode());
    let transports = infallible(cred.transports().encode());
    let name: String = name.trim().chars().take(MAX_NAME).collect();
    let row = PasskeyRow {
        id: keys::random_id("pk"),
        credential_id: B64URL.encode(id_bytes),
        name,
        transports: i64::from(transports),
        static_state: B64.encode(static_state),
        dynamic_state: B64.encode(dynamic_state),
        created_at: site.now(),
        last_used_at: None,
    };
    match store::insert(db, t, user_id, &row).await {
        Ok(()) => Ok(Ok(row)),
        Err(e) if crate::db::is_unique_violation(&e) => Ok(Err(PasskeyRefusal::Duplicate)),
        Err(e) => Err(e.into()),
    }
}

/// Starts a sign-in with one of `user_id`'s passkeys: the options for
/// `PublicKeyCredential.parseRequestOptionsFromJSON`.
pub async fn start_authentication<S: TwoFactorSite>(
    site: &S,
    rp: &RelyingParty,
    user_id: &str,
) -> Result<Result<serde_json::Value, PasskeyRefusal>, Error> {
    let t = tables(site)?;
    let db = site.session_db();
    let rows = store::list(db, t, user_id).await?;
    let mut allowed = AllowedCredentials::with_capacity(rows.len());
    for d in rows.iter().filter_map(descriptor) {
        allowed.push(d.into());
    }
    let Ok(options) = NonDiscoverableCredentialRequestOptions::second_factor(&rp.rp_id, allowed)
    else {
        return Ok(Err(PasskeyRefusal::NoPasskey));
    };
    let (server, client) = options
        .start_ceremony()
        .map_err(|e| Error::internal(format!("passkey options: {e}")))?;
    let state = server
        .encode()
        .map_err(|e| Error::internal(format!("passkey state: {e}")))?;
    store::put_ceremony(db, t, user_id, AUTHENTICATE, &B64.encode(state), site.now()).await?;
    Ok(Ok(serde_json::to_value(&client).map_err(Error::internal)?))
}

/// Finishes a sign-in with the authenticator's answer
/// (`credential.toJSON()`): the passkey used, its counter recorded.
pub async fn finish_authentication<S: TwoFactorSite>(
    site: &S,
    rp: &RelyingParty,
    user_id: &str,
    answer: &[u8],
) -> Result<Result<PasskeyRow, PasskeyRefusal>, Error> {
    let t = tables(site)?;
    let db = site.session_db();
    let since = site.now() - PENDING_SECS;
    let Some(state) = store::take_ceremony(db, t, user_id, AUTHENTICATE, since).await? else {
        return Ok(Err(PasskeyRefusal::NoCeremony));
    };
    let Some(server) = B64
        .decode(state)
        .ok()
        .and_then(|b| NonDiscoverableAuthenticationServerState::decode(b.as_slice()).ok())
    else {
        return Ok(Err(PasskeyRefusal::NoCeremony));
    };
    let Ok(answer) = NonDiscoverableAuthentication::<HANDLE_LEN>::from_json_relaxed(answer) else {
        return Ok(Err(PasskeyRefusal::Invalid));
    };
    let raw_id = answer.raw_id();
    let used_id = B64URL.encode(infallible(raw_id.encode()));
    let rows = store::list(db, t, user_id).await?;
    let Some(row) = rows.into_iter().find(|r| r.credential_id == used_id) else {
        return Ok(Err(PasskeyRefusal::Invalid));
    };
    let user_handle = handle(user_id);
    let (Some(static_bytes), Some(dynamic_bytes)) = (
        B64.decode(&row.static_state).ok(),
        B64.decode(&row.dynamic_state)
            .ok()
            .and_then(|b| <[u8; 7]>::try_from(b).ok()),
    ) else {
        return Err(Error::internal("a stored passkey cannot be read"));
    };
    let id_bytes = B64URL
        .decode(&row.credential_id)
        .map_err(|_| Error::internal("a stored passkey id cannot be read"))?;
    let (Ok(static_state), Ok(dynamic_state), Ok(cred_id)) = (
        StaticState::decode(static_bytes.as_slice()),
        DynamicState::decode(dynamic_bytes),
        CredentialId::<&[u8]>::decode(id_bytes.as_slice()),
    ) else {
        return Err(Error::internal("a stored passkey cannot be read"));
    };
    let mut cred = AuthenticatedCredential::new(cred_id, &user_handle, static_state, dynamic_state)
        .map_err(|e| Error::internal(format!("a stored passkey: {e}")))?;
    let origins = [rp.origin.as_str()];
    let options = webauthn_rp::request::auth::AuthenticationVerificationOptions::<&str, &str> {
        allowed_origins: &origins,
        ..Default::default()
    };
    if let Err(e) = server.verify(&rp.rp_id, &answer, &mut cred, &options) {
        tracing::info!(error = %e, "a passkey sign-in was refused");
        return Ok(Err(PasskeyRefusal::Invalid));
    }
    let dynamic = B64.encode(infallible(cred.dynamic_state().encode()));
    let now = site.now();
    store::used(db, t, user_id, &row.id, &dynamic, now).await?;
    Ok(Ok(PasskeyRow {
        dynamic_state: dynamic,
        last_used_at: Some(now),
        ..row
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_host_never_an_address() {
        let rp = RelyingParty::of_origin("http://localhost:8080").unwrap();
        assert_eq!(rp.origin, "http://localhost:8080");
        assert!(matches!(&rp.rp_id, RpId::Domain(d) if d.as_ref() == "localhost"));
        let rp = RelyingParty::of_origin("https://Shop.Example.com/").unwrap();
        assert_eq!(rp.origin, "https://shop.example.com");
        assert!(RelyingParty::of_origin("http://127.0.0.1:8080").is_none());
        assert!(RelyingParty::of_origin("http://[::1]:8080").is_none());
        assert!(RelyingParty::of_origin("localhost").is_none());
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::HOST, "localhost:9".parse().unwrap());
        let rp = RelyingParty::for_request(None, &h, false).unwrap();
        assert_eq!(rp.origin, "http://localhost:9");
        let rp =
            RelyingParty::for_request(Some("https://acct.example.com/base"), &h, false).unwrap();
        assert_eq!(rp.origin, "https://acct.example.com");
    }

    #[test]
    fn a_user_handle_is_stable_and_per_user() {
        assert_eq!(handle("acc_1"), handle("acc_1"));
        assert_ne!(handle("acc_1"), handle("acc_2"));
    }
}
