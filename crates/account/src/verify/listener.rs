//! The key-change feed on PostgreSQL (LISTEN/NOTIFY).

use std::sync::Arc;

use keys::KeyHash;

use super::Verifier;

/// Keeps every node's cache honest on PostgreSQL: a trigger announces each
/// change of a key's revocation or expiry, and this task drops that key from
/// the cache. After a lost connection (notifications may have been missed)
/// the whole cache is dropped, then listening resumes.
pub async fn listen_for_changes(verifier: Arc<Verifier>, url: String) {
    use sqlx::postgres::PgListener;
    loop {
        let mut listener = match PgListener::connect(&url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for key changes; retrying");
                verifier.invalidate_all();
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen("commerce_key_changes").await {
            tracing::warn!(error = %e, "cannot listen for key changes; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        // Anything cached before listening began may have missed a change.
        verifier.invalidate_all();
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(hash) = KeyHash::from_hex(n.payload()) {
                        verifier.invalidate(&hash);
                    }
                }
                Ok(None) | Err(_) => {
                    tracing::warn!("lost the key-change feed; dropping the cache and reconnecting");
                    verifier.invalidate_all();
                    break;
                }
            }
        }
    }
}
