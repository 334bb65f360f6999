//! Throttles against guessing and abuse.

use web::ratelimit::{Limiter, LoginLimiter, LoginLimits};

use crate::config::Config;

/// Reset links one client IP may ask for in an hour.
pub const RESETS_PER_IP: u32 = 30;
/// Reset links one email may be sent in an hour.
pub const RESETS_PER_EMAIL: u32 = 5;

/// Throttles against guessing and abuse. Sign-in attempts are taken before
/// the password is checked and given back when it was right.
pub struct Limits {
    /// Sign-ins per client IP: 50 in 15 minutes; per email from one client
    /// IP: 10 (a stranger elsewhere cannot lock the account out); per email
    /// from anywhere: 100 (guessing spread over many addresses).
    pub login: LoginLimiter,
    /// Sign-ups (new accounts, also by invitation) per client IP, an hour.
    pub signup_by_ip: Limiter,
    /// Failed verifications per client IP: 600 a minute. Once blocked, the
    /// IP's verifications are all answered 429 before any lookup.
    pub verify_by_ip: Limiter,
    /// Password reset links asked for per client IP (30 an hour) and per
    /// email (5 an hour, whether or not it has an account).
    pub reset_by_ip: Limiter,
    pub reset_by_email: Limiter,
    /// Email confirmation links mailed per account: 5 an hour.
    pub verification_mail: Limiter,
}

impl Limits {
    pub fn new(cfg: &Config) -> Self {
        // Counts in Redis are named by HMACs under a key derived from the link
        // key, which every node of the deployment shares.
        let redis = cfg.redis.as_ref().map(|r| {
            std::sync::Arc::new(r.keyed(cfg.link_key.derive("commerce redis throttles v1")))
        });
        Limits {
            login: LoginLimiter::new(LoginLimits {
                per_ip: 50,
                per_name_from_ip: 10,
                per_name: Some(100),
                window_secs: 900,
                capacity: 100_000,
            })
            .shared(redis.clone(), "account_signin"),
            signup_by_ip: Limiter::new(cfg.signups_per_ip_hour, 3600, 100_000)
                .shared(redis.clone(), "account_signup_ip"),
            verify_by_ip: Limiter::new(600, 60, 100_000).shared(redis.clone(), "account_verify_ip"),
            reset_by_ip: Limiter::new(RESETS_PER_IP, 3600, 100_000)
                .shared(redis.clone(), "account_reset_ip"),
            reset_by_email: Limiter::new(RESETS_PER_EMAIL, 3600, 100_000)
                .shared(redis.clone(), "account_reset_email"),
            verification_mail: Limiter::new(5, 3600, 100_000)
                .shared(redis.clone(), "account_verification_mail"),
        }
    }
}
