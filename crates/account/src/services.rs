//! What the domain functions work with: storage, the clock, the verifier,
//! the settings and the throttles. Handlers hold it as `AppState`, which
//! derefs to it; domain modules take `&Services` and never the app's state.

use std::sync::Arc;

use web::db::Db;
use web::Clock;

use crate::config::Config;
use crate::limits::Limits;
use crate::verify::Verifier;

/// The account site's device cookie ([`web::device`]).
pub const DEVICE_COOKIE: &str = "acct_device";

/// The services a domain function works with, shared by every request.
pub struct Services {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub verifier: Arc<Verifier>,
    pub cfg: Config,
    pub limits: Limits,
    /// The LWA token endpoint's client, when Amazon is set up.
    pub lwa: Option<crate::amazon::lwa::Lwa>,
    /// Device cookies: browsers that signed in to an account before.
    pub devices: web::device::DeviceCookies,
}

impl Services {
    pub fn new(db: Db, clock: Arc<dyn Clock>, cfg: Config) -> Services {
        let limits = Limits::new(&cfg);
        let verifier = Arc::new(Verifier::new(
            db.clone(),
            clock.clone(),
            cfg.cache_capacity,
            cfg.services.clone(),
        ));
        let lwa = cfg.amazon.as_ref().map(crate::amazon::lwa::Lwa::new);
        let devices = web::device::DeviceCookies::new(
            cfg.link_key.derive("commerce account device cookie v1"),
            DEVICE_COOKIE,
        );
        Services {
            lwa,
            devices,
            db,
            clock,
            verifier,
            cfg,
            limits,
        }
    }
}
