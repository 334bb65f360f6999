//! Amazon stores (Store Integration, issue #14): the Admin keeps its own row
//! of each store and registers it with the account service, which authorizes
//! it in Seller Central and reports its status. What the merchant typed is
//! never lost: a store saved while the account service is down is registered
//! on the next open of the channel page (or of the JSON list).

pub mod client;
mod sync_problem;

use axum::http::{header, HeaderMap, HeaderValue};

use crate::error::{AdminError, RemoteError};
use crate::store::{self, AmazonStore};
use crate::store_integration::{self, NewStoreInput};
use crate::Services;
use client::{NewRemoteStore, RemoteStore, StoresClient};
pub use sync_problem::SyncProblem;

/// Who asks, from where: the Admin request (its admin, address and id) that
/// every operation on Amazon stores is made for.
pub struct Caller<'a> {
    pub services: &'a Services,
    /// The admin's username, for the audit log.
    pub actor: &'a str,
    /// The address the request came to (`http://host:port`): the website
    /// URL a store is registered with.
    pub origin: String,
    pub request_id: Option<&'a HeaderValue>,
}

impl<'a> Caller<'a> {
    pub fn new(services: &'a Services, actor: &'a str, headers: &'a HeaderMap) -> Caller<'a> {
        Caller {
            services,
            actor,
            origin: origin(headers, services.cfg.secure_cookies),
            request_id: web::request_id::of_headers(headers),
        }
    }

    /// The stores API with the stored credentials, or why it cannot be asked.
    async fn client(&self) -> Result<StoresClient<'a>, AdminError> {
        use crate::account_api::CredentialsError as C;
        let api = self.services.gate.api();
        let creds = match api.credentials(&self.services.config()).await {
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
            &self.services.db,
            self.actor,
            &s.id,
            change,
            &detail,
            self.services.clock.now(),
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
pub async fn sync(caller: &Caller<'_>) -> Result<Listed, AdminError> {
    let stores = store::amazon_stores(&caller.services.db).await?;
    if stores.is_empty() {
        return Ok(Listed {
            stores,
            problem: None,
        });
    }
    let client = match caller.client().await {
        Ok(c) => c,
        Err(e) => {
            return Ok(Listed {
                stores,
                problem: Some(SyncProblem::of(&e).ok_or(e)?),
            })
        }
    };
    for s in stores.iter().filter(|s| s.remote_id.is_none()) {
        if let Err(e) = register(caller, &client, s).await {
            return Ok(Listed {
                problem: Some(SyncProblem::of(&e).ok_or(e)?),
                stores: store::amazon_stores(&caller.services.db).await?,
            });
        }
    }
    let problem = match client.list().await {
        Ok(remote) => {
            let now = caller.services.clock.now();
            for s in &stores {
                let found = s
                    .remote_id
                    .as_deref()
                    .and_then(|rid| remote.iter().find(|r| r.id == rid));
                if let Some(status) = found.and_then(RemoteStore::status) {
                    if status != current(s) {
                        store::set_amazon_status(&caller.services.db, &s.id, &status, now).await?;
                    }
                }
            }
            None
        }
        Err(e) => Some(SyncProblem::from(&e)),
    };
    Ok(Listed {
        stores: store::amazon_stores(&caller.services.db).await?,
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
    caller: &Caller<'_>,
    client: &StoresClient<'_>,
    s: &AmazonStore,
) -> Result<String, AdminError> {
    // The store's website is served by this Commerce installation: its
    // address (the Admin keeps no per-website base URL).
    let url = caller.origin.clone();
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
    if !store::set_amazon_remote_id(&caller.services.db, &s.id, &remote.id, &url).await? {
        // Registered meanwhile by another request, or deleted: this one is spare.
        if let Err(e) = client.delete(&remote.id).await {
            tracing::warn!(error = %e, "a spare registration could not be removed");
        }
        return store::amazon_store(&caller.services.db, &s.id)
            .await?
            .and_then(|s| s.remote_id)
            .ok_or(AdminError::AmazonStoreNotFound);
    }
    let now = caller.services.clock.now();
    store::set_amazon_status(&caller.services.db, &s.id, &status, now).await?;
    let registered = AmazonStore {
        status: status.status,
        ..s.clone()
    };
    caller.audit(&registered, "amazon_store.registered").await?;
    Ok(remote.id)
}

/// Saves a new store and registers it; a store the account service cannot
/// take now stays saved, unregistered, until the next open, and the problem
/// says why.
pub async fn add(
    caller: &Caller<'_>,
    input: &NewStoreInput,
) -> Result<(AmazonStore, Option<SyncProblem>), AdminError> {
    let id = store_integration::add_store(caller.services, input)
        .await?
        .map_err(AdminError::InvalidStore)?;
    let saved = find(caller, &id).await?;
    caller.audit(&saved, "amazon_store.saved").await?;
    let registered = match caller.client().await {
        Ok(client) => register(caller, &client, &saved).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let problem = match registered {
        Ok(()) => None,
        Err(e) => Some(SyncProblem::of(&e).ok_or(e)?),
    };
    Ok((find(caller, &id).await?, problem))
}

pub async fn find(caller: &Caller<'_>, id: &str) -> Result<AmazonStore, AdminError> {
    store::amazon_store(&caller.services.db, id)
        .await?
        .ok_or(AdminError::AmazonStoreNotFound)
}

/// A store and its remote id, registering it first when needed.
async fn registered<'a>(
    caller: &Caller<'a>,
    id: &str,
) -> Result<(AmazonStore, String, StoresClient<'a>), AdminError> {
    let s = find(caller, id).await?;
    let client = caller.client().await?;
    let remote_id = match &s.remote_id {
        Some(r) => r.clone(),
        None => register(caller, &client, &s).await?,
    };
    Ok((s, remote_id, client))
}

/// Keeps a status the account service answered with.
async fn keep(
    caller: &Caller<'_>,
    id: &str,
    remote: &RemoteStore,
) -> Result<AmazonStore, AdminError> {
    let Some(status) = remote.status() else {
        tracing::warn!("the account service's store was not understood");
        return Err(RemoteError::Unreachable.into());
    };
    store::set_amazon_status(
        &caller.services.db,
        id,
        &status,
        caller.services.clock.now(),
    )
    .await?;
    find(caller, id).await
}

/// The single-use link on the account site that starts the authorization
/// in Seller Central (what **Connect store** and **Re-authorize** open).
pub async fn connect(caller: &Caller<'_>, id: &str) -> Result<String, AdminError> {
    let (s, remote_id, client) = registered(caller, id).await?;
    let link = client.connect_link(&remote_id).await?;
    caller.audit(&s, "amazon_store.connect_requested").await?;
    Ok(link.url)
}

/// **Activate** / **Deactivate**: an inactive store keeps its authorization.
pub async fn set_active(
    caller: &Caller<'_>,
    id: &str,
    active: bool,
) -> Result<AmazonStore, AdminError> {
    let (_, remote_id, client) = registered(caller, id).await?;
    let remote = client.set_active(&remote_id, active).await?;
    let s = keep(caller, id, &remote).await?;
    let change = if active {
        "amazon_store.activated"
    } else {
        "amazon_store.deactivated"
    };
    caller.audit(&s, change).await?;
    Ok(s)
}

/// Has the account service prove the store's authorization now.
pub async fn check(caller: &Caller<'_>, id: &str) -> Result<AmazonStore, AdminError> {
    let (_, remote_id, client) = registered(caller, id).await?;
    let remote = client.check(&remote_id).await?;
    let s = keep(caller, id, &remote).await?;
    caller.audit(&s, "amazon_store.checked").await?;
    Ok(s)
}

/// **Delete**: removes the registration (the account service discards the
/// refresh token), then the Admin's row. When the account service cannot be
/// asked nothing is removed.
pub async fn delete(caller: &Caller<'_>, id: &str) -> Result<(), AdminError> {
    let s = find(caller, id).await?;
    if let Some(remote_id) = &s.remote_id {
        caller.client().await?.delete(remote_id).await?;
    }
    if store::delete_amazon_store(&caller.services.db, id).await? {
        caller.audit(&s, "amazon_store.deleted").await?;
    }
    Ok(())
}
