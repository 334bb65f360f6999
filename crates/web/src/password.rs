//! Password hashing with argon2id, on blocking threads so the async runtime
//! keeps serving while a hash is computed.

use std::sync::LazyLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::{Error, Secret};

pub async fn hash(password: Secret) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(Error::internal)?
    .map_err(Error::internal)
}

/// A real hash of a random password, checked when the user is unknown.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(keys::random_base62(20).as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Checks a password; with no stored hash it still spends the same time, so
/// an unknown user cannot be told from a wrong password by timing.
pub async fn verify(password: Secret, stored: Option<String>) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let hash_text = stored.as_deref().unwrap_or(&DUMMY_HASH);
        let ok = PasswordHash::new(hash_text)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.expose().as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && stored.is_some()
    })
    .await
    .map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash(Secret::new("correct horse battery")).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify(Secret::new("correct horse battery"), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify(Secret::new("wrong horse battery"), Some(h))
            .await
            .unwrap());
        assert!(!verify(Secret::new("anything"), None).await.unwrap());
    }
}
