//! Usage (SPEC §11): each node adds its counts of verifications per key,
//! hour and outcome to the same rows (additive upserts, so the nodes' counts
//! add up exactly); a company's counts by hour or day; and the roll-up of
//! hours older than [`KEEP_HOURLY_DAYS`] into days, kept [`KEEP_DAILY_DAYS`].

use std::collections::HashMap;
use std::fmt::Write as _;

use web::db::Db;

use super::DbError;

/// The outcomes counted, in the order of [`Counts`] and of the columns.
pub const OUTCOMES: [&str; 8] = [
    "valid",
    "invalid",
    "expired",
    "revoked",
    "disabled",
    "ip_not_allowed",
    "insufficient_scope",
    "throttled",
];

/// One count per outcome of [`OUTCOMES`].
pub type Counts = [i64; 8];

/// How long hourly counts are kept before they are rolled up by day.
pub const KEEP_HOURLY_DAYS: i64 = 90;
/// How long daily counts are kept (13 months).
pub const KEEP_DAILY_DAYS: i64 = 396;

/// Rows per statement: 10 parameters each.
const ROWS: usize = 200;

fn columns() -> String {
    OUTCOMES.join(", ")
}

/// Adds counts to `table`'s rows (`key_usage` by hour, `key_usage_daily` by
/// day), creating those that are missing; counts of keys that are not
/// stored are dropped.
async fn add_counts<S: AsRef<str>>(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    bucket: &str,
    rows: &[(S, i64, Counts)],
) -> Result<(), DbError> {
    let cols = columns();
    let sums: Vec<String> = OUTCOMES
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    for chunk in rows.chunks(ROWS) {
        let mut sql =
            format!("INSERT INTO {table} (key_id, {bucket}, {cols}) SELECT * FROM (VALUES ");
        for i in 0..chunk.len() {
            sql.push_str(if i == 0 { "(" } else { ",(" });
            for c in 0..10 {
                let _ = write!(sql, "{}${}", if c == 0 { "" } else { "," }, i * 10 + c + 1);
            }
            sql.push(')');
        }
        // SQLite needs the WHERE to read ON CONFLICT as the upsert.
        let _ = write!(
            sql,
            ") AS v WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.id = v.column1) \
             ON CONFLICT (key_id, {bucket}) DO UPDATE SET {}",
            sums.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (id, at, counts) in chunk {
            q = q.bind(id.as_ref()).bind(*at);
            for n in counts {
                q = q.bind(*n);
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds one node's hourly counts, in one transaction.
pub async fn add_usage<S: AsRef<str>>(db: &Db, rows: &[(S, i64, Counts)]) -> Result<(), DbError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool.begin().await?;
    add_counts(&mut tx, "key_usage", "hour", rows).await?;
    tx.commit().await
}

/// The grain of a usage query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    Hour,
    Day,
}

/// A company's counts (or one of its keys') from bucket `from` up to
/// `to` (hours or days since the epoch), summed per bucket; buckets
/// without counts are left out.
pub async fn usage(
    db: &Db,
    company_id: &str,
    key_id: Option<&str>,
    grain: Grain,
    from: i64,
    to: i64,
) -> Result<HashMap<i64, Counts>, DbError> {
    let sums: Vec<String> = OUTCOMES
        .iter()
        .map(|c| format!("CAST(SUM(u.{c}) AS BIGINT)"))
        .collect();
    let sums = sums.join(", ");
    let key = if key_id.is_some() {
        " AND u.key_id = $4"
    } else {
        ""
    };
    let (hourly_bucket, hourly_from, hourly_to) = match grain {
        Grain::Hour => ("u.hour", from, to),
        Grain::Day => ("u.hour / 24", from * 24, to * 24),
    };
    let mut queries = vec![(
        format!(
            "SELECT {hourly_bucket}, {sums} FROM key_usage u JOIN api_keys k ON k.id = u.key_id \
             WHERE k.company_id = $1 AND u.hour >= $2 AND u.hour < $3{key} GROUP BY {hourly_bucket}"
        ),
        hourly_from,
        hourly_to,
    )];
    if grain == Grain::Day {
        queries.push((
            format!(
                "SELECT u.day, {sums} FROM key_usage_daily u JOIN api_keys k ON k.id = u.key_id \
                 WHERE k.company_id = $1 AND u.day >= $2 AND u.day < $3{key} GROUP BY u.day"
            ),
            from,
            to,
        ));
    }
    let mut out: HashMap<i64, Counts> = HashMap::new();
    for (sql, lo, hi) in queries {
        let mut q = sqlx::query_as::<_, (i64, i64, i64, i64, i64, i64, i64, i64, i64)>(&sql)
            .bind(company_id)
            .bind(lo)
            .bind(hi);
        if let Some(k) = key_id {
            q = q.bind(k);
        }
        for (b, a, i, e, r, d, ip, s, t) in q.fetch_all(&db.pool).await? {
            let sum = out.entry(b).or_insert([0; 8]);
            for (slot, n) in sum.iter_mut().zip([a, i, e, r, d, ip, s, t]) {
                *slot += n;
            }
        }
    }
    Ok(out)
}

/// Rows one roll-up moves at most (the next purge moves the rest).
const ROLL_UP_ROWS: i64 = 5000;

/// Moves hourly counts older than [`KEEP_HOURLY_DAYS`] (whole UTC days)
/// into daily ones and deletes daily counts older than [`KEEP_DAILY_DAYS`].
/// The delete returns what it took, so two nodes rolling up at once never
/// move the same hours twice. Returns the hourly rows moved.
pub async fn roll_up_usage(db: &Db, now: i64) -> Result<u64, DbError> {
    let today = now.div_euclid(86400);
    let cutoff_hour = (today - KEEP_HOURLY_DAYS) * 24;
    let mut tx = db.pool.begin().await?;
    let taken =
        sqlx::query_as::<_, (String, i64, i64, i64, i64, i64, i64, i64, i64, i64)>(&format!(
            "DELETE FROM key_usage WHERE (key_id, hour) IN \
             (SELECT key_id, hour FROM key_usage WHERE hour < $1 LIMIT $2) \
             RETURNING key_id, hour, {}",
            columns()
        ))
        .bind(cutoff_hour)
        .bind(ROLL_UP_ROWS)
        .fetch_all(&mut *tx)
        .await?;
    let moved = taken.len() as u64;
    let mut days: HashMap<(String, i64), Counts> = HashMap::new();
    for (id, hour, a, i, e, r, d, ip, s, t) in taken {
        let sum = days.entry((id, hour.div_euclid(24))).or_insert([0; 8]);
        for (slot, n) in sum.iter_mut().zip([a, i, e, r, d, ip, s, t]) {
            *slot += n;
        }
    }
    let rows: Vec<(String, i64, Counts)> = days
        .into_iter()
        .map(|((id, day), c)| (id, day, c))
        .collect();
    add_counts(&mut tx, "key_usage_daily", "day", &rows).await?;
    sqlx::query("DELETE FROM key_usage_daily WHERE day < $1")
        .bind(today - KEEP_DAILY_DAYS)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(moved)
}
