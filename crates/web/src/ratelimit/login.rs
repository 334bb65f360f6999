//! Sign-in throttles: several limiters taken together.

use std::sync::Arc;

use super::{Limiter, SharedCounters};

/// Sign-in attempts of one app, taken before a password is checked: per
/// client IP, per name (an email, a username) from that IP, and, when asked,
/// per name from anywhere (guessing spread over many addresses). Both apps'
/// sign-ins use it, each with its own limits.
pub struct LoginLimiter {
    by_ip: Limiter,
    by_name_from_ip: Limiter,
    by_name: Option<Limiter>,
    /// Sign-ins from a browser with a valid device cookie ([`crate::device`]):
    /// counted per device, as many as per name from one IP.
    by_device: Limiter,
}

/// How many sign-in attempts a [`LoginLimiter`] allows in its window.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    pub per_ip: u32,
    pub per_name_from_ip: u32,
    /// `None`: names are not counted across addresses.
    pub per_name: Option<u32>,
    pub window_secs: i64,
    /// Keys remembered per throttle.
    pub capacity: usize,
}

impl LoginLimiter {
    pub fn new(l: LoginLimits) -> Self {
        LoginLimiter {
            by_ip: Limiter::new(l.per_ip, l.window_secs, l.capacity),
            by_name_from_ip: Limiter::new(l.per_name_from_ip, l.window_secs, l.capacity),
            by_name: l
                .per_name
                .map(|n| Limiter::new(n, l.window_secs, l.capacity)),
            by_device: Limiter::new(l.per_name_from_ip, l.window_secs, l.capacity),
        }
    }

    /// Counts in `counters` (Redis), shared by every node, under names that
    /// start with `name` (the app's: `account_signin`, `admin_signin`).
    pub fn shared(self, counters: Option<Arc<SharedCounters>>, name: &str) -> Self {
        LoginLimiter {
            by_ip: self.by_ip.shared(counters.clone(), &format!("{name}_ip")),
            by_name_from_ip: self
                .by_name_from_ip
                .shared(counters.clone(), &format!("{name}_ip_name")),
            by_name: self
                .by_name
                .map(|l| l.shared(counters.clone(), &format!("{name}_name"))),
            by_device: self.by_device.shared(counters, &format!("{name}_device")),
        }
    }

    /// A sign-in from a browser whose device cookie is valid for the name
    /// (`device`: its id): counted against that device only, never against
    /// the name's or the address's throttles, so that guessing elsewhere
    /// cannot lock the device's owner out.
    pub async fn reserve_device(&self, device: &str, now: i64) -> Result<LoginAttempt<'_>, u64> {
        let steps = [(&self.by_device, device)];
        Limiter::reserve_all(&steps, now).await?;
        Ok(LoginAttempt {
            steps: vec![(&self.by_device, device.to_owned())],
            now,
        })
    }

    /// Takes one attempt from each throttle, or from none: `Err(seconds to
    /// wait)` when one is used up. `ip` is the client address as text; `name`
    /// is compared trimmed and lower-cased. A right password gives the
    /// attempts back (`LoginAttempt::refund`).
    pub async fn reserve(&self, ip: &str, name: &str, now: i64) -> Result<LoginAttempt<'_>, u64> {
        let name = name.trim().to_lowercase();
        let pair = format!("{ip} {name}");
        let mut steps: Vec<(&Limiter, &str)> =
            vec![(&self.by_ip, ip), (&self.by_name_from_ip, &pair)];
        if let Some(by_name) = &self.by_name {
            steps.push((by_name, &name));
        }
        // Held by key from here on: `LoginAttempt::refund` gives them back.
        Limiter::reserve_all(&steps, now).await?;
        Ok(LoginAttempt {
            steps: steps.into_iter().map(|(l, k)| (l, k.to_owned())).collect(),
            now,
        })
    }

    /// Keys remembered, in all throttles.
    pub fn len(&self) -> usize {
        self.by_ip.len()
            + self.by_name_from_ip.len()
            + self.by_name.as_ref().map_or(0, Limiter::len)
            + self.by_device.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sign-in attempts taken by [`LoginLimiter::reserve`]: `refund` gives them
/// back (the password was right), dropping keeps them counted.
pub struct LoginAttempt<'a> {
    steps: Vec<(&'a Limiter, String)>,
    now: i64,
}

impl LoginAttempt<'_> {
    pub async fn refund(self) {
        for (l, k) in self.steps {
            l.refund(&k, self.now).await;
        }
    }
}
