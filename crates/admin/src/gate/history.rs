//! The gate's last checks of the stored Production key: every check is
//! recorded (when, the status, the reason code; never the key), and read
//! back newest first: one by one for the key-status JSON, and in runs of the
//! same outcome for the channel page.

use std::time::Duration;

use web::db::Db;

use super::{Check, KeyStatus, Reason};
use crate::store::key_checks;

pub use key_checks::KEPT;

/// How many checks the key-status JSON lists, and how many runs the page shows.
pub const SHOWN: usize = 10;

/// A bound on recording, so that a slow database never holds up a check.
const RECORD_TIMEOUT: Duration = Duration::from_secs(2);

/// One check of the past: when, and its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PastCheck {
    pub at: i64,
    pub status: KeyStatus,
    pub reason: Option<Reason>,
}

impl PastCheck {
    pub fn of(check: &Check) -> Self {
        PastCheck {
            at: check.at,
            status: check.status,
            reason: check.reason,
        }
    }
}

/// Consecutive checks with the same outcome (status and reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub status: KeyStatus,
    pub reason: Option<Reason>,
    /// The newest check's time.
    pub last: i64,
    /// The oldest check's time.
    pub first: i64,
    pub count: usize,
}

/// The catalog key of a status in a word or two: a row of *Last checks*.
pub fn status_label_key(status: KeyStatus) -> &'static str {
    match status {
        KeyStatus::Valid => "channel.checks.status.valid",
        KeyStatus::Missing => "channel.checks.status.missing",
        KeyStatus::Invalid => "channel.checks.status.invalid",
        KeyStatus::Expired => "channel.checks.status.expired",
        KeyStatus::Revoked => "channel.checks.status.revoked",
        KeyStatus::Unreachable => "channel.checks.status.unreachable",
    }
}

/// Records `check`; returns whether it was. A write that fails (or takes
/// longer than [`RECORD_TIMEOUT`]) is logged and never fails the check.
pub(super) async fn record(db: &Db, check: &Check) -> bool {
    let write = key_checks::record(
        db,
        check.at,
        check.status.as_str(),
        check.reason.map(Reason::as_str),
    );
    match tokio::time::timeout(RECORD_TIMEOUT, write).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the key check could not be recorded");
            false
        }
        Err(_) => {
            tracing::warn!("recording the key check took too long; not recorded");
            false
        }
    }
}

/// The newest checks, newest first, at most `limit`: the stored ones, with
/// `current` first when it could not be recorded. When they cannot be read,
/// `current` alone: the page still answers.
pub async fn last_checks(db: &Db, current: &Check, limit: usize) -> Vec<PastCheck> {
    let rows = match key_checks::recent(db, i64::try_from(limit).unwrap_or(KEPT)).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "the last key checks could not be read");
            return vec![PastCheck::of(current)];
        }
    };
    let mut out = Vec::with_capacity(limit);
    if !current.recorded {
        out.push(PastCheck::of(current));
    }
    out.extend(rows.iter().filter_map(|r| {
        Some(PastCheck {
            at: r.checked_at,
            status: KeyStatus::parse(&r.status)?,
            reason: r.reason.as_deref().and_then(Reason::parse),
        })
    }));
    out.truncate(limit);
    out
}

/// `checks` (newest first) as runs of the same outcome, newest first: at
/// most `max` runs.
pub fn runs(checks: &[PastCheck], max: usize) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for c in checks {
        let full = out.len() == max;
        match out.last_mut() {
            Some(run) if (run.status, run.reason) == (c.status, c.reason) => {
                run.first = c.at;
                run.count += 1;
            }
            _ if full => break,
            _ => out.push(Run {
                status: c.status,
                reason: c.reason,
                last: c.at,
                first: c.at,
                count: 1,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn past(at: i64, status: KeyStatus, reason: Option<Reason>) -> PastCheck {
        PastCheck { at, status, reason }
    }

    #[test]
    fn consecutive_outcomes_make_runs() {
        use KeyStatus::*;
        let checks = [
            past(90, Unreachable, Some(Reason::Down)),
            past(80, Unreachable, Some(Reason::Down)),
            past(70, Unreachable, Some(Reason::BadAnswer)),
            past(60, Revoked, None),
            past(50, Valid, None),
            past(40, Valid, None),
            past(30, Valid, None),
            past(20, Revoked, None),
        ];
        let got = runs(&checks, 10);
        let seen: Vec<_> = got
            .iter()
            .map(|r| (r.status, r.reason, r.last, r.first, r.count))
            .collect();
        assert_eq!(
            seen,
            [
                (Unreachable, Some(Reason::Down), 90, 80, 2),
                (Unreachable, Some(Reason::BadAnswer), 70, 70, 1),
                (Revoked, None, 60, 60, 1),
                (Valid, None, 50, 30, 3),
                (Revoked, None, 20, 20, 1),
            ]
        );
        // At most `max` runs; the last one shown is whole.
        let two = runs(&checks, 2);
        assert_eq!(two.len(), 2);
        assert_eq!((two[1].last, two[1].count), (70, 1));
        assert!(runs(&[], 10).is_empty());
    }

    #[test]
    fn statuses_and_reasons_read_back() {
        for s in KeyStatus::ALL {
            assert_eq!(KeyStatus::parse(s.as_str()), Some(s));
            assert!(status_label_key(s).starts_with("channel.checks.status."));
        }
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
            assert!(r.label_key().ends_with(r.as_str()));
        }
        assert_eq!(KeyStatus::parse("Valid"), None);
        assert_eq!(Reason::parse("nope"), None);
    }
}
