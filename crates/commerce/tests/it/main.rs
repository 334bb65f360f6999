//! The integration tests of `commerce`, in one binary (one link instead of one per file).

#[macro_use]
mod common;

mod account_two_factor_reset;
mod admin_password;
mod amazon_flags;
mod backup;
mod config_value_file;
mod connector13;
mod errors;
mod faults_signals;
mod files;
mod health;
mod key_change;
mod key_policy;
mod leaks;
mod metrics;
mod outbound;
mod request_id;
mod sequence;
mod serve;
mod services_flag;
mod shared_throttles;
mod two_factor;
mod two_nodes;
mod users;
