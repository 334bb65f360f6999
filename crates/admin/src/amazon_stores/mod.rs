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

/// The stores, each with its status as the account service last reported it.
pub struct Listed {
    pub stores: Vec<AmazonStore>,
    /// False when the account service could not be asked (or refused): the
    /// statuses are the last known, and unregistered stores stay so.
    pub synced: bool,
}

/// Registers the stores not registered yet, then takes every status from
/// the account service. Only a storage failure is an error.
pub async fn sync(ctx: &Ctx<'_>) -> Result<Listed, AdminError> {
    let stores = store::amazon_stores(&ctx.state.db).await?;
    if stores.is_empty() {
        return Ok(Listed {
            stores,
            synced: true,
        });
    }
    let client = match ctx.client().await {
        Ok(c) => c,
        Err(AdminError::Storage(e)) => return Err(AdminError::Storage(e)),
        Err(_) => {
            return Ok(Listed {
                stores,
                synced: false,
            })
        }
    };
    for s in stores.iter().filter(|s| s.remote_id.is_none()) {
        match register(ctx, &client, s).await {
            Ok(_) => {}
            Err(AdminError::Amazon(_)) => {
                return Ok(Listed {
                    stores: store::amazon_stores(&ctx.state.db).await?,
                    synced: false,
                })
            }
            Err(e) => return Err(e),
        }
    }
    let synced = match client.list().await {
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
            true
        }
        Err(_) => false,
    };
    Ok(Listed {
        stores: store::amazon_stores(&ctx.state.db).await?,
        synced,
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
/// take now stays saved, unregistered, until the next open.
pub async fn add(ctx: &Ctx<'_>, input: &NewStoreInput) -> Result<AmazonStore, AdminError> {
    let id = channel::add_store(ctx.state, input)
        .await?
        .map_err(AdminError::InvalidStore)?;
    let saved = find(ctx, &id).await?;
    ctx.audit(&saved, "amazon_store.saved").await?;
    match ctx.client().await {
        Ok(client) => match register(ctx, &client, &saved).await {
            Ok(_) | Err(AdminError::Amazon(_)) => {}
            Err(e) => return Err(e),
        },
        Err(AdminError::Storage(e)) => return Err(e.into()),
        Err(_) => {}
    }
    find(ctx, &id).await
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
