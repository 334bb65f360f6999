//! Throttles against guessing and abuse.

use web::ratelimit::Limiter;

use crate::config::Config;

/// Throttles against guessing and abuse. Sign-in attempts are taken before
/// the password is checked and given back when it was right.
pub struct Limits {
    /// Sign-ins per client IP: 50 in 15 minutes.
    pub login_by_ip: Limiter,
    /// Sign-ins per email from one client IP: 10 in 15 minutes (a stranger
    /// elsewhere cannot lock the account out).
    pub login_by_email_ip: Limiter,
    /// Sign-ins per email from anywhere: 100 in 15 minutes (guessing spread
    /// over many addresses).
    pub login_by_email: Limiter,
    /// Sign-ups (new accounts, also by invitation) per client IP, an hour.
    pub signup_by_ip: Limiter,
    /// Failed verifications per client IP: 600 a minute. Once blocked, the
    /// IP's verifications are all answered 429 before any lookup.
    pub verify_by_ip: Limiter,
}

impl Limits {
    pub fn new(cfg: &Config) -> Self {
        Limits {
            login_by_ip: Limiter::new(50, 900, 100_000),
            login_by_email_ip: Limiter::new(10, 900, 100_000),
            login_by_email: Limiter::new(100, 900, 100_000),
            signup_by_ip: Limiter::new(cfg.signups_per_ip_hour, 3600, 100_000),
            verify_by_ip: Limiter::new(600, 60, 100_000),
        }
    }

    /// Takes one sign-in attempt from each throttle, or none (429).
    pub fn login_attempts<'a>(
        &'a self,
        ip: &'a str,
        pair: &'a str,
        email: &'a str,
        now: i64,
    ) -> Result<web::ratelimit::Reserved<'a>, web::Error> {
        Limiter::reserve_all(
            &[
                (&self.login_by_ip, ip),
                (&self.login_by_email_ip, pair),
                (&self.login_by_email, email),
            ],
            now,
        )
        .map_err(web::Error::too_many_requests)
    }
}
