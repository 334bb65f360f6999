//! The integration tests of `account`, in one binary (one link instead of one per file).

#[macro_use]
mod common;

mod account_information;
mod amazon_api;
mod amazon_connect;
mod amazon_login;
mod amazon_reauth;
mod amazon_renewal;
mod api;
mod api_guards;
mod api_keys;
mod catalog;
mod email_verification;
mod hardening;
mod hardening_input;
mod hardening_memory;
mod hardening_protections;
mod hardening_races;
mod hardening_races_members;
mod hardening_round3;
mod lifecycle_audit;
mod lifecycle_expiry;
mod lifecycle_leaks;
mod lifecycle_members;
mod lifecycle_outbox;
mod lifecycle_removed;
mod lifecycle_roles;
mod lifecycle_roll;
mod openapi;
mod pages;
mod pages_keys;
mod pages_signin;
mod password_reset;
mod ping;
mod refusal_pages;
mod store;
mod throttle;
mod two_factor;
mod two_factor_pages;
mod two_factor_passkeys;
mod two_factor_policy;
