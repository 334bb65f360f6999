//! The failed-verification throttle: a client that keeps presenting keys
//! that are not valid is answered 429 for a while, whatever it presents.

use std::sync::Arc;

use web::Error;

use crate::verify::{Outcome, Status};
use crate::AppState;

/// The failed-verification throttle of one client. A blocked client is
/// answered 429 before any lookup, whatever the key (so the throttle is no
/// yes/no oracle and spares storage); a valid key is never counted.
pub(super) struct Throttle {
    /// The client IP as text, formatted on the stack (the hot path allocates nothing here).
    key: [u8; 48],
    len: usize,
    now: i64,
}

impl Throttle {
    /// Checks the client; a refusal is counted in the usage of the key it
    /// presented (`presented`), when memory knows that key.
    pub(super) fn check(
        state: &AppState,
        ip: std::net::IpAddr,
        presented: Option<&str>,
    ) -> Result<Throttle, Error> {
        let mut key = [0u8; 48];
        let len = ip_text(ip, &mut key);
        let t = Throttle {
            key,
            len,
            now: state.clock.now(),
        };
        match state.limits.verify_by_ip.blocked(t.key(), t.now) {
            Some(wait) => {
                if let Some(key) = presented {
                    state.verifier.count_throttled(key, t.now);
                }
                Err(Error::too_many_requests(wait))
            }
            None => Ok(t),
        }
    }

    /// The clock's time when the client was checked.
    pub(super) fn now(&self) -> i64 {
        self.now
    }

    fn key(&self) -> &str {
        std::str::from_utf8(&self.key[..self.len]).unwrap_or("")
    }

    /// Counts a failed verification against the client; with the key's
    /// id, counts the outcome in the key's usage.
    pub(super) async fn count(&self, state: &AppState, key_id: Option<&Arc<str>>, status: Status) {
        if let Some(id) = key_id {
            state.verifier.count(id, Outcome::of(status), self.now);
        }
        if status != Status::Valid {
            state.limits.verify_by_ip.fail(self.key(), self.now).await;
        }
    }
}

/// Writes `ip` as text into `out` and returns its length: an IPv4 address
/// digit by digit (the formatter's machinery cost more than the rest of the
/// throttle), an IPv6 address (at most 45 characters) through `Display`.
fn ip_text(ip: std::net::IpAddr, out: &mut [u8; 48]) -> usize {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let mut n = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out[n] = b'.';
                    n += 1;
                }
                if octet >= 100 {
                    out[n] = b'0' + octet / 100;
                    n += 1;
                }
                if octet >= 10 {
                    out[n] = b'0' + octet / 10 % 10;
                    n += 1;
                }
                out[n] = b'0' + octet % 10;
                n += 1;
            }
            n
        }
        std::net::IpAddr::V6(v6) => {
            use std::io::Write;
            let mut cursor = std::io::Cursor::new(&mut out[..]);
            let _ = write!(cursor, "{v6}");
            cursor.position() as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ip_text;

    #[test]
    fn ip_text_is_the_address_as_displayed() {
        let mut addrs: Vec<std::net::IpAddr> = vec![
            "0.0.0.0".parse().unwrap(),
            "255.255.255.255".parse().unwrap(),
            "10.0.100.9".parse().unwrap(),
            "::1".parse().unwrap(),
            "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
                .parse()
                .unwrap(),
            "2001:db8::ff00:42:8329".parse().unwrap(),
        ];
        // Every octet value in every place, and a sweep over the whole range.
        for v in 0..=255u8 {
            addrs.push(std::net::Ipv4Addr::new(v, 255 - v, v / 3, v).into());
        }
        for x in (0..=u32::MAX).step_by(429_497) {
            addrs.push(std::net::Ipv4Addr::from(x).into());
        }
        for ip in addrs {
            let mut out = [0u8; 48];
            let n = ip_text(ip, &mut out);
            assert_eq!(std::str::from_utf8(&out[..n]), Ok(ip.to_string().as_str()));
        }
    }
}
