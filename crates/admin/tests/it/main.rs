//! The integration tests of `admin`, in one binary (one link instead of one per file).

#[macro_use]
mod common;

mod account_setting;
mod amazon_connect;
mod amazon_stores;
mod catalog;
mod config_store;
mod gate;
mod hostile_input;
mod key_checks;
mod key_policy;
mod key_rotation;
mod outbound;
mod pages;
mod pages_config;
mod reasons;
mod two_factor;
mod two_factor_pages;
mod two_factor_passkey_pages;
mod two_factor_passkeys;
mod two_factor_policy;
mod users;
