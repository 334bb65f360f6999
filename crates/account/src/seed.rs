//! Seeding many keys at once, for benchmarks: one company, one owner, and
//! `count` production keys inserted through the bulk path; the first
//! `signed` of them with a signing public key, for signed pings.

use keys::{ApiKey, Environment};
use web::db::Db;
use web::Secret;

use crate::store::{self, NewKey};

/// What seeding gives back: plaintexts to present.
pub struct Seeded {
    /// `sample` of the keys, spread evenly.
    pub sample: Vec<String>,
    /// The signed keys with a Services Connector token each (valid for
    /// ten minutes from `now`).
    pub signed: Vec<(String, String)>,
}

/// Creates the keys (see the module's text).
pub async fn seed_keys(
    db: &Db,
    count: usize,
    sample: usize,
    signed: usize,
    now: i64,
) -> anyhow::Result<Seeded> {
    seed_keys_with(db, count, sample, signed, now, false).await
}

/// The policy `--policy` gives every seeded key, the heaviest a key may
/// carry: 50 ranges, loopback last (so a check from 127.0.0.1 walks them
/// all), and the services limited to the Amazon Sales Channel.
pub fn heaviest_policy() -> (String, String) {
    let mut ranges: Vec<String> = (0..49).map(|i| format!("198.51.{i}.0/24")).collect();
    ranges.push("127.0.0.0/8".to_owned());
    let stored = crate::key_policy::parse_allowed_ips(Some(&ranges))
        .ok()
        .flatten()
        .unwrap_or_default();
    (stored, crate::key_policy::AMAZON_SALES_CHANNEL.to_owned())
}

/// [`seed_keys`], each key with [`heaviest_policy`] when `policy` is set.
pub async fn seed_keys_with(
    db: &Db,
    count: usize,
    sample: usize,
    signed: usize,
    now: i64,
    policy: bool,
) -> anyhow::Result<Seeded> {
    let policy = policy.then(heaviest_policy);
    // One signing key for all signed keys: generating RSA keys is slow.
    let signing = match signed {
        0 => None,
        _ => Some(keys::jwt::PrivateKey::generate().map_err(|e| anyhow::anyhow!("{e:?}"))?),
    };
    let public_pem = signing.as_ref().map(|k| k.public_key().to_pem());
    let token = signing.as_ref().map(|k| {
        let mut claims = keys::jwt::connector_claims(now);
        claims["exp"] = (now + crate::verify::PING_MAX_AHEAD).into();
        k.sign(&claims)
    });
    let mut signed_keys = Vec::with_capacity(signed);
    let company_id = keys::random_id("co");
    let account_id = keys::random_id("acct");
    let email = format!(
        "bench-{}@example.com",
        keys::random_base62(8).to_lowercase()
    );
    let hash = web::password::hash(Secret::new(keys::random_base62(24))).await?;
    store::create_company_with_owner(
        db,
        &store::NewOwner {
            company_id: &company_id,
            company_name: "Benchmark",
            account_id: &account_id,
            email: &email,
            name: "Benchmark",
            password_hash: &hash,
            locale: None,
            now,
        },
    )
    .await?;
    let step = (count / sample.max(1)).max(1);
    let mut sampled = Vec::with_capacity(sample);
    const BATCH: usize = 20_000;
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let generated: Vec<(String, ApiKey)> = (0..n)
            .map(|_| {
                (
                    keys::random_id("key"),
                    ApiKey::generate(Environment::Production),
                )
            })
            .collect();
        let rows: Vec<(keys::KeyHash, String)> = generated
            .iter()
            .map(|(_, k)| (k.hash(), k.hint()))
            .collect();
        let batch: Vec<NewKey<'_>> = generated
            .iter()
            .zip(&rows)
            .enumerate()
            .map(|(i, ((id, _), (hash, hint)))| NewKey {
                id,
                company_id: &company_id,
                created_by: &account_id,
                name: "bench",
                environment: keys::Environment::Production,
                key_hash: hash,
                hint,
                created_at: now,
                expires_at: None,
                public_key: public_pem.as_deref().filter(|_| done + i < signed),
                create_nonce: None,
                allowed_ips: policy.as_ref().map(|p| p.0.as_str()),
                services: policy.as_ref().map(|p| p.1.as_str()),
            })
            .collect();
        store::insert_keys_bulk(db, &batch).await?;
        for (i, (_, k)) in generated.iter().enumerate() {
            if (done + i) % step == 0 && sampled.len() < sample {
                sampled.push(k.expose().to_owned());
            }
            if let (Some(token), true) = (&token, done + i < signed) {
                signed_keys.push((k.expose().to_owned(), token.clone()));
            }
        }
        done += n;
    }
    Ok(Seeded {
        sample: sampled,
        signed: signed_keys,
    })
}
