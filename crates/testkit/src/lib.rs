//! What the integration tests of every crate share: fresh databases on both
//! backends (`db`), HTTP clients and responses read in full (`http`), a
//! cookie-keeping browser and form helpers (`browser`, `forms`), clients of
//! both apps' JSON APIs (`clients`), an SMTP sink (`smtp`), misbehaving
//! servers (`raw`), byte searches (`files`), bursts of requests (`load`) and a
//! software passkey (`webauthn`).
//!
//! App-specific starters (the account service, the Admin, the binary) stay in
//! each crate's `tests/it/common`.

pub mod amazon;
mod browser;
mod clients;
mod db;
mod files;
mod forms;
mod http;
mod load;
mod raw;
pub mod smtp;
pub mod webauthn;

pub use browser::Browser;
pub use clients::{unique_email, AccountApi, AdminApi, PASSWORD};
pub use db::{drop_postgres_db, fresh_postgres_url, Backend, PgDb, Scratch};
pub use files::{all_files, contains_bytes};
pub use forms::{form_input, hidden_csrf, hidden_input, html_escaped};
pub use http::{http_client, http_client_with_timeout, set_cookie_value, Resp};
pub use load::at_most;
pub use raw::{raw_server, write_endless_chunks};
