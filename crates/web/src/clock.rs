//! Time is a parameter: code asks a `Clock`, tests move a `ManualClock`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use time::OffsetDateTime;

pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch.
    fn now(&self) -> i64;
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one place that reads the system clock: clippy.toml disallows it
    // everywhere else so domain code asks the app's `Clock`.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// A clock that only moves when told to.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn new(start: i64) -> Self {
        ManualClock(Arc::new(AtomicI64::new(start)))
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// RFC 3339 for a Unix timestamp (UTC).
pub fn rfc3339(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Why a time was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// Not RFC 3339 at all.
    Format,
    /// In the format, but the date is not in the calendar (2027-02-29, 2026-04-31).
    NoSuchDate,
}

/// Parses RFC 3339 into a Unix timestamp, telling a date that does not
/// exist from text that is not a time.
pub fn parse_rfc3339_checked(s: &str) -> Result<i64, TimeError> {
    if let Some(t) = parse_rfc3339(s) {
        return Ok(t);
    }
    let s = s.trim();
    let number = |range: std::ops::Range<usize>| {
        s.get(range)
            .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
    };
    let dashes = s.as_bytes().get(4) == Some(&b'-') && s.as_bytes().get(7) == Some(&b'-');
    match (dashes, number(0..4), number(5..7), number(8..10)) {
        (true, Some(year), Some(month), Some(day)) => {
            let month = time::Month::try_from(u8::try_from(month).unwrap_or(0));
            let real = month.is_ok_and(|m| {
                i32::try_from(year).is_ok_and(|y| {
                    time::Date::from_calendar_date(y, m, u8::try_from(day).unwrap_or(0)).is_ok()
                })
            });
            if real {
                Err(TimeError::Format)
            } else {
                Err(TimeError::NoSuchDate)
            }
        }
        _ => Err(TimeError::Format),
    }
}

/// Parses RFC 3339 into a Unix timestamp.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// A short human date-time for pages: `2026-11-26 23:05 UTC`.
pub fn human(ts: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// A date for pages: `2026-11-26`.
pub fn human_date(ts: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(100);
        assert_eq!(c.now(), 100);
        c.advance(5);
        assert_eq!(c.now(), 105);
    }

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(parse_rfc3339(&rfc3339(1_800_000_000)), Some(1_800_000_000));
        assert_eq!(
            parse_rfc3339("2026-01-01T00:00:00+01:00"),
            Some(1_767_222_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}

#[cfg(test)]
mod date_tests {
    use super::*;

    #[test]
    fn a_date_that_does_not_exist_is_told_apart() {
        assert!(parse_rfc3339_checked("2028-02-29T00:00:00Z").is_ok());
        for missing in [
            "2027-02-29T00:00:00Z",
            "2026-04-31T23:59:59Z",
            "2026-13-01T00:00:00Z",
            "2026-00-10T00:00:00Z",
        ] {
            assert_eq!(
                parse_rfc3339_checked(missing),
                Err(TimeError::NoSuchDate),
                "{missing}"
            );
        }
        for junk in [
            "",
            "tomorrow",
            "2026-01-01",
            "2026-01-01T25:00:00Z",
            "2026/01/01T00:00:00Z",
        ] {
            assert_eq!(
                parse_rfc3339_checked(junk),
                Err(TimeError::Format),
                "{junk}"
            );
        }
    }
}
