//! Usage reports (SPEC §11): a company's verifications by hour or day and
//! outcome, zero-filled, for the API, the CSV download and the Usage page.

use crate::store::{self, Account, Counts, Grain, OUTCOMES};
use crate::{AccountError, FieldError, Services};

/// The most buckets one report holds: 31 days by hour, 400 by day.
const MAX_HOURS: i64 = 31 * 24;
const MAX_DAYS: i64 = 400;

/// What a report covers: buckets `from` up to `to` (exclusive), counted in
/// hours or days since the epoch, of the company or of one of its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageQuery {
    pub grain: Grain,
    pub from: i64,
    pub to: i64,
    pub key_id: Option<String>,
}

/// The length of a bucket in seconds.
pub fn bucket_secs(grain: Grain) -> i64 {
    match grain {
        Grain::Hour => 3600,
        Grain::Day => 86400,
    }
}

pub fn grain_name(grain: Grain) -> &'static str {
    match grain {
        Grain::Hour => "hour",
        Grain::Day => "day",
    }
}

impl UsageQuery {
    /// The last 24 hours (by hour) or the last 30 days (by day), ending
    /// with the bucket `now` is in.
    pub fn recent(grain: Grain, now: i64, key_id: Option<String>) -> UsageQuery {
        let to = now.div_euclid(bucket_secs(grain)) + 1;
        let n = match grain {
            Grain::Hour => 24,
            Grain::Day => 30,
        };
        UsageQuery {
            grain,
            from: to - n,
            to,
            key_id,
        }
    }

    /// From the request's text: `granularity` `hour` (default) or `day`;
    /// `from` and `to` RFC 3339 times (default: [`UsageQuery::recent`]),
    /// widened to whole buckets; at most 31 days by hour, 400 by day.
    pub fn parse(
        granularity: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        key_id: Option<&str>,
        now: i64,
    ) -> Result<UsageQuery, AccountError> {
        let refused = |field, msg| AccountError::Invalid(FieldError::new(field, msg));
        let grain = match granularity {
            None | Some("hour") => Grain::Hour,
            Some("day") => Grain::Day,
            Some(_) => return Err(refused("granularity", "error.usage_granularity")),
        };
        let time = |v: &str, field| {
            web::clock::parse_rfc3339_checked(v).map_err(|_| refused(field, "error.usage_time"))
        };
        let key_id = match key_id {
            Some(k) if !web::extract::is_id(k) => return Err(AccountError::KeyNotFound),
            k => k.map(str::to_owned),
        };
        let b = bucket_secs(grain);
        let recent = UsageQuery::recent(grain, now, key_id.clone());
        let to = match to {
            Some(t) => {
                let t = time(t, "to")?;
                t.div_euclid(b) + i64::from(t.rem_euclid(b) != 0)
            }
            None => recent.to,
        };
        let from = match from {
            Some(f) => time(f, "from")?.div_euclid(b),
            None => to - (recent.to - recent.from),
        };
        if to <= from {
            return Err(refused("to", "error.usage_order"));
        }
        let max = match grain {
            Grain::Hour => MAX_HOURS,
            Grain::Day => MAX_DAYS,
        };
        if to - from > max {
            return Err(refused("from", "error.usage_range"));
        }
        Ok(UsageQuery {
            grain,
            from,
            to,
            key_id,
        })
    }
}

/// One bucket: its start (Unix seconds) and counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub start: i64,
    pub counts: Counts,
}

/// A report: every bucket of the query, zero-filled, and the totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub grain: Grain,
    pub points: Vec<Point>,
    pub totals: Counts,
}

/// The user's company's usage; a key of another company is not found.
pub async fn report(
    state: &Services,
    user: &Account,
    q: &UsageQuery,
) -> Result<Report, AccountError> {
    if let Some(id) = &q.key_id {
        crate::api_keys::company_key(state, &user.company_id, id).await?;
    }
    let found = store::usage(
        &state.db,
        &user.company_id,
        q.key_id.as_deref(),
        q.grain,
        q.from,
        q.to,
    )
    .await?;
    let b = bucket_secs(q.grain);
    let mut totals = [0; 8];
    let points = (q.from..q.to)
        .map(|bucket| {
            let counts = found.get(&bucket).copied().unwrap_or([0; 8]);
            for (t, n) in totals.iter_mut().zip(counts) {
                *t += n;
            }
            Point {
                start: bucket * b,
                counts,
            }
        })
        .collect();
    Ok(Report {
        grain: q.grain,
        points,
        totals,
    })
}

/// The report as CSV: a header line, then a line per bucket (RFC 4180,
/// CRLF line ends; every field is a time or a number, nothing to quote).
pub fn to_csv(report: &Report) -> String {
    let mut out = String::with_capacity(64 + report.points.len() * 48);
    out.push_str("start,");
    out.push_str(&OUTCOMES.join(","));
    out.push_str("\r\n");
    for p in &report.points {
        out.push_str(&web::clock::rfc3339(p.start));
        for n in p.counts {
            out.push(',');
            out.push_str(&n.to_string());
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000 + 1800; // half past an hour

    #[test]
    fn recent_ends_with_the_current_bucket() {
        let q = UsageQuery::parse(None, None, None, None, NOW).unwrap();
        assert_eq!(q.grain, Grain::Hour);
        assert_eq!(q.to, NOW / 3600 + 1);
        assert_eq!(q.to - q.from, 24);
        let d = UsageQuery::parse(Some("day"), None, None, None, NOW).unwrap();
        assert_eq!(d.to - d.from, 30);
    }

    #[test]
    fn times_widen_to_whole_buckets_and_are_bounded() {
        let q = UsageQuery::parse(
            Some("hour"),
            Some("2027-01-01T10:30:00Z"),
            Some("2027-01-01T12:00:01Z"),
            None,
            NOW,
        )
        .unwrap();
        assert_eq!(q.to - q.from, 3);
        for (g, f, t) in [
            (Some("minute"), None, None),
            (None, Some("yesterday"), None),
            (
                None,
                Some("2027-01-02T00:00:00Z"),
                Some("2027-01-01T00:00:00Z"),
            ),
            (
                None,
                Some("2026-01-01T00:00:00Z"),
                Some("2027-01-01T00:00:00Z"),
            ),
            (
                Some("day"),
                Some("2020-01-01T00:00:00Z"),
                Some("2027-01-01T00:00:00Z"),
            ),
        ] {
            assert!(
                UsageQuery::parse(g, f, t, None, NOW).is_err(),
                "{g:?} {f:?} {t:?}"
            );
        }
        assert!(matches!(
            UsageQuery::parse(None, None, None, Some("key\u{0}"), NOW),
            Err(AccountError::KeyNotFound)
        ));
    }

    #[test]
    fn csv_has_a_header_and_a_line_per_bucket() {
        let r = Report {
            grain: Grain::Hour,
            points: vec![Point {
                start: 3600,
                counts: [1, 2, 3, 4, 5, 6, 7, 8],
            }],
            totals: [1, 2, 3, 4, 5, 6, 7, 8],
        };
        assert_eq!(
            to_csv(&r),
            "start,valid,invalid,expired,revoked,disabled,ip_not_allowed,insufficient_scope,throttled\r\n\
             1970-01-01T01:00:00Z,1,2,3,4,5,6,7,8\r\n"
        );
    }
}
