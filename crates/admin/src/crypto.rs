//! Config secrets encrypted at rest: the AEAD lives in `web::crypto`, shared
//! with the account service (which keeps Amazon refresh tokens with it).

pub use web::crypto::*;
