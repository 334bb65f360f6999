//! Seeding many keys at once, for benchmarks: one company, one owner, and
//! `count` production keys inserted through the bulk path.

use keys::{ApiKey, Environment};
use web::db::Db;
use web::Secret;

use crate::store::{self, NewKey};

/// Creates the keys and returns `sample` of their plaintexts, spread evenly.
pub async fn seed_keys(
    db: &Db,
    count: usize,
    sample: usize,
    now: i64,
) -> anyhow::Result<Vec<String>> {
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
            .map(|((id, _), (hash, hint))| NewKey {
                id,
                company_id: &company_id,
                created_by: &account_id,
                name: "bench",
                environment: keys::Environment::Production,
                key_hash: hash,
                hint,
                created_at: now,
                expires_at: None,
                public_key: None,
                create_nonce: None,
            })
            .collect();
        store::insert_keys_bulk(db, &batch).await?;
        for (i, (_, k)) in generated.iter().enumerate() {
            if (done + i) % step == 0 && sampled.len() < sample {
                sampled.push(k.expose().to_owned());
            }
        }
        done += n;
    }
    Ok(sampled)
}
