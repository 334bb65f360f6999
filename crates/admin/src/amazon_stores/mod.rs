//! Amazon stores (Store Integration, issue #14): the Admin keeps its own row
//! of each store and registers it with the account service, which authorizes
//! it in Seller Central and reports its status. What the merchant typed is
//! never lost: a store saved while the account service is down is registered
//! on the next open of the channel page (or of the JSON list).

pub mod client;

use axum::http::{header, HeaderMap, HeaderValue};

use crate::channel::{self, NewStoreInput};
use crate::error::AdminError;
use crate::store::{self, AmazonStore};
use crate::AppState;
use client::{NewRemoteStore, RemoteError, RemoteStore, StoresClient};

/// Who asks, from where: what every operation on Amazon stores needs.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    /// The admin's username, for the audit log.
    pub actor: &'a str,
    /// The address the request came to (`http://host:port`): the website
    /// URL a store is registered with.
    pub origin: String,
    pub request_id: Option<&'a HeaderValue>,
}

impl<'a> Ctx<'a> {
    pub fn new(state: &'a AppState, actor: &'a str, headers: &'a HeaderMap) -> Ctx<'a> {
        Ctx {
            state,
            actor,
            origin: origin(headers, state.cfg.secure_cookies),
            request_id: web::request_id::of_headers(headers),
        }
    }

    /// The stores API with the stored credentials, or why it cannot be asked.
    async fn client(&self) -> Result<StoresClient<'a>, AdminError> {
        use crate::account_api::CredentialsError as C;
        let api = self.state.gate.api();
        let creds = match api.credentials(&self.state.config()).await {
            Ok(c) => c,
            Err(C::Storage(e)) => return Err(AdminError::Storage(e)),
            Err(C::Missing) => return Err(AdminError::KeyNotUsable("no Production API key is stored")),
            Err(C::Malformed | C::SandboxKey { .. }) => {
                return Err(AdminError::KeyNotUsable(
                    "the stored Production API key is not a valid Production key",
                ))
            }
            Err(C::PrivateKey { .. }) => {
                return Err(AdminError::KeyNotUsable(
                    "the Production Private key cannot sign requests",
                ))
            }
            Err(C::GatewayUrl { .. }) => {
                return Err(AdminError::KeyNotUsable(
                    "the account service's URL is not an http(s) URL without userinfo, query or fragment",
                ))
            }
        };
        Ok(StoresClient {
            api,
            creds,
            request_id: self.request_id,
        })
    }

    async fn audit(&self, s: &AmazonStore, change: &str) -> Result<(), AdminError> {
        let detail = format!("{} ({}), {}", s.name, s.marketplace, s.status);
        store::insert_amazon_event(
            &self.state.db,
            self.actor,
            &s.id,
            change,
            &detail,
            self.state.clock.now(),
        )
        .await?;
        Ok(())
    }
}

/// `http(s)://{Host}` of a request; the allowed-hosts layer has checked the host.
pub fn origin(headers: &HeaderMap, secure: bool) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if secure { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// Why the stores could not be brought up to date with the account service:
/// "could not be asked" only when it did not answer; each refusal by its own
/// name (the page, each unregistered row and the JSON API say which).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncProblem {
    /// Down, timed out, a 5xx, a redirect, or an answer not understood.
    Unreachable,
    /// The key was made with a key pair, and the Admin holds no private key.
    SignatureRequired,
    /// The signature made with the stored private key was refused.
    SignatureRejected,
    /// The API key itself was refused (not valid, expired, revoked).
    KeyRefused,
    /// The operator has not set up Amazon authorization.
    NotConfigured,
    /// No request could be made with the stored configuration.
    KeyNotUsable,
    /// Another refusal (a store the account service does not take).
    Refused,
}

impl SyncProblem {
    pub const ALL: [SyncProblem; 7] = [
        SyncProblem::Unreachable,
        SyncProblem::SignatureRequired,
        SyncProblem::SignatureRejected,
        SyncProblem::KeyRefused,
        SyncProblem::NotConfigured,
        SyncProblem::KeyNotUsable,
        SyncProblem::Refused,
    ];

    /// The code the JSON API carries.
    pub fn code(self) -> &'static str {
        match self {
            SyncProblem::Unreachable => "account_service_unreachable",
            SyncProblem::SignatureRequired => "signature_required",
            SyncProblem::SignatureRejected => "signature_rejected",
            SyncProblem::KeyRefused => "key_refused",
            SyncProblem::NotConfigured => "amazon_not_configured",
            SyncProblem::KeyNotUsable => "key_not_usable",
            SyncProblem::Refused => "account_service_refused",
        }
    }

    /// The catalog key of the page's sentence: what happened and what to do.
    pub fn catalog_key(self) -> &'static str {
        match self {
            SyncProblem::Unreachable => "amazon.last_known",
            SyncProblem::SignatureRequired => "amazon.sync.signature_required",
            SyncProblem::SignatureRejected => "amazon.sync.signature_rejected",
            SyncProblem::KeyRefused => "amazon.sync.key_refused",
            SyncProblem::NotConfigured => "amazon.sync.not_configured",
            SyncProblem::KeyNotUsable => "amazon.sync.key_not_usable",
            SyncProblem::Refused => "amazon.sync.refused",
        }
    }

    /// The catalog key of an unregistered store's row.
    pub fn row_key(self) -> &'static str {
        match self {
            SyncProblem::Unreachable => "amazon.not_registered",
            SyncProblem::SignatureRequired => "amazon.not_registered.signature_required",
            SyncProblem::SignatureRejected => "amazon.not_registered.signature_rejected",
            SyncProblem::KeyRefused => "amazon.not_registered.key_refused",
            SyncProblem::NotConfigured => "amazon.not_registered.not_configured",
            SyncProblem::KeyNotUsable => "amazon.not_registered.key_not_usable",
            SyncProblem::Refused => "amazon.not_registered.refused",
        }
    }

    /// The page's sentence in English (the JSON API's `message`).
    pub fn message(self) -> &'static str {
        crate::i18n::CATALOG.get(web::i18n::Lang::En, self.catalog_key())
    }

    fn of(e: &AdminError) -> Option<SyncProblem> {
        Some(match e {
            AdminError::Amazon(r) => SyncProblem::from(r),
            AdminError::KeyNotUsable(_) => SyncProblem::KeyNotUsable,
            _ => return None,
        })
    }
}

impl From<&RemoteError> for SyncProblem {
    fn from(e: &RemoteError) -> Self {
        match e {
            RemoteError::Unreachable => SyncProblem::Unreachable,
            RemoteError::SignatureRequired => SyncProblem::SignatureRequired,
            RemoteError::SignatureRejected => SyncProblem::SignatureRejected,
            RemoteError::KeyRefused => SyncProblem::KeyRefused,
            RemoteError::NotConfigured => SyncProblem::NotConfigured,
            RemoteError::NotFound | RemoteError::Rejected(_) => SyncProblem::Refused,
        }
    }
}

/// The stores, each with its status as the account service last reported it.
pub struct Listed {
    pub stores: Vec<AmazonStore>,
    /// Why the account service could not be asked, or refused: the statuses
    /// are then the last known, and unregistered stores stay so.
    pub problem: Option<SyncProblem>,
}

impl Listed {
    pub fn synced(&self) -> bool {
        self.problem.is_none()
    }
}

/// Registers the stores not registered yet, then takes every status from
/// the account service. Only a storage failure is an error.
pub async fn sync(ctx: &Ctx<'_>) -> Result<Listed, AdminError> {
    let stores = store::amazon_stores(&ctx.state.db).await?;
    if stores.is_empty() {
        return Ok(Listed {
            stores,
            problem: None,
        });
    }
    let client = match ctx.client().await {
        Ok(c) => c,
        Err(e) => {
            return Ok(Listed {
                stores,
                problem: Some(SyncProblem::of(&e).ok_or(e)?),
            })
        }
    };
    for s in stores.iter().filter(|s| s.remote_id.is_none()) {
        if let Err(e) = register(ctx, &client, s).await {
            return Ok(Listed {
                problem: Some(SyncProblem::of(&e).ok_or(e)?),
                stores: store::amazon_stores(&ctx.state.db).await?,
            });
        }
    }
    let problem = match client.list().await {
        Ok(remote) => {
            let now = ctx.state.clock.now();
            for s in &stores {
                let found = s
                    .remote_id
                    .as_deref()
                    .and_then(|rid| remote.iter().find(|r| r.id == rid));
                if let Some(status) = found.and_then(RemoteStore::status) {
                    if status != current(s) {
                        store::set_amazon_status(&ctx.state.db, &s.id, &status, now).await?;
                    }
                }
            }
            None
        }
        Err(e) => Some(SyncProblem::from(&e)),
    };
    Ok(Listed {
        stores: store::amazon_stores(&ctx.state.db).await?,
        problem,
    })
}

fn current(s: &AmazonStore) -> store::AmazonStatus {
    store::AmazonStatus {
        status: s.status.clone(),
        reason: s.reason.clone(),
        seller_id: s.seller_id.clone(),
        authorized_at: s.authorized_at,
        authorization_expires_at: s.authorization_expires_at,
    }
}

/// Registers one store with the account service; returns its remote id.
async fn register(
    ctx: &Ctx<'_>,
    client: &StoresClient<'_>,
    s: &AmazonStore,
) -> Result<String, AdminError> {
    // The store's website is served by this Commerce installation: its
    // address (the Admin keeps no per-website base URL).
    let url = ctx.origin.clone();
    let remote = client
        .create(&NewRemoteStore {
            name: &s.name,
            email: &s.email,
            country: &s.marketplace,
            website_url: &url,
        })
        .await?;
    let Some(status) = remote.status() else {
        tracing::warn!("the account service's new store was not understood");
        return Err(RemoteError::Unreachable.into());
    };
    if !store::set_amazon_remote_id(&ctx.state.db, &s.id, &remote.id, &url).await? {
        // Registered meanwhile by another request, or deleted: this one is spare.
        if let Err(e) = client.delete(&remote.id).await {
            tracing::warn!(error = %e, "a spare registration could not be removed");
        }
        return store::amazon_store(&ctx.state.db, &s.id)
            .await?
            .and_then(|s| s.remote_id)
            .ok_or(AdminError::AmazonStoreNotFound);
    }
    let now = ctx.state.clock.now();
    store::set_amazon_status(&ctx.state.db, &s.id, &status, now).await?;
    let registered = AmazonStore {
        status: status.status,
        ..s.clone()
    };
    ctx.audit(&registered, "amazon_store.registered").await?;
    Ok(remote.id)
}

/// Saves a new store and registers it; a store the account service cannot
/// take now stays saved, unregistered, until the next open, and the problem
/// says why.
pub async fn add(
    ctx: &Ctx<'_>,
    input: &NewStoreInput,
) -> Result<(AmazonStore, Option<SyncProblem>), AdminError> {
    let id = channel::add_store(ctx.state, input)
        .await?
        .map_err(AdminError::InvalidStore)?;
    let saved = find(ctx, &id).await?;
    ctx.audit(&saved, "amazon_store.saved").await?;
    let registered = match ctx.client().await {
        Ok(client) => register(ctx, &client, &saved).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let problem = match registered {
        Ok(()) => None,
        Err(e) => Some(SyncProblem::of(&e).ok_or(e)?),
    };
    Ok((find(ctx, &id).await?, problem))
}

pub async fn find(ctx: &Ctx<'_>, id: &str) -> Result<AmazonStore, AdminError> {
    store::amazon_store(&ctx.state.db, id)
        .await?
        .ok_or(AdminError::AmazonStoreNotFound)
}

/// A store and its remote id, registering it first when needed.
async fn registered<'a>(
    ctx: &Ctx<'a>,
    id: &str,
) -> Result<(AmazonStore, String, StoresClient<'a>), AdminError> {
    let s = find(ctx, id).await?;
    let client = ctx.client().await?;
    let remote_id = match &s.remote_id {
        Some(r) => r.clone(),
        None => register(ctx, &client, &s).await?,
    };
    Ok((s, remote_id, client))
}

/// Keeps a status the account service answered with.
async fn keep(ctx: &Ctx<'_>, id: &str, remote: &RemoteStore) -> Result<AmazonStore, AdminError> {
    let Some(status) = remote.status() else {
        tracing::warn!("the account service's store was not understood");
        return Err(RemoteError::Unreachable.into());
    };
    store::set_amazon_status(&ctx.state.db, id, &status, ctx.state.clock.now()).await?;
    find(ctx, id).await
}

/// The single-use link on the account site that starts the authorization
/// in Seller Central (what **Connect store** and **Re-authorize** open).
pub async fn connect(ctx: &Ctx<'_>, id: &str) -> Result<String, AdminError> {
    let (s, remote_id, client) = registered(ctx, id).await?;
    let link = client.connect_link(&remote_id).await?;
    ctx.audit(&s, "amazon_store.connect_requested").await?;
    Ok(link.url)
}

/// **Activate** / **Deactivate**: an inactive store keeps its authorization.
pub async fn set_active(ctx: &Ctx<'_>, id: &str, active: bool) -> Result<AmazonStore, AdminError> {
    let (_, remote_id, client) = registered(ctx, id).await?;
    let remote = client.set_active(&remote_id, active).await?;
    let s = keep(ctx, id, &remote).await?;
    let change = if active {
        "amazon_store.activated"
    } else {
        "amazon_store.deactivated"
    };
    ctx.audit(&s, change).await?;
    Ok(s)
}

/// Has the account service prove the store's authorization now.
pub async fn check(ctx: &Ctx<'_>, id: &str) -> Result<AmazonStore, AdminError> {
    let (_, remote_id, client) = registered(ctx, id).await?;
    let remote = client.check(&remote_id).await?;
    let s = keep(ctx, id, &remote).await?;
    ctx.audit(&s, "amazon_store.checked").await?;
    Ok(s)
}

/// **Delete**: removes the registration (the account service discards the
/// refresh token), then the Admin's row. When the account service cannot be
/// asked nothing is removed.
pub async fn delete(ctx: &Ctx<'_>, id: &str) -> Result<(), AdminError> {
    let s = find(ctx, id).await?;
    if let Some(remote_id) = &s.remote_id {
        ctx.client().await?.delete(remote_id).await?;
    }
    if store::delete_amazon_store(&ctx.state.db, id).await? {
        ctx.audit(&s, "amazon_store.deleted").await?;
    }
    Ok(())
}
