//! What the domain functions work with: storage, the clock, the verifier,
//! the settings and the throttles. Handlers hold it as `AppState`, which
//! derefs to it; domain modules take `&Ctx` and never the app's state.

use std::sync::Arc;

use web::db::Db;
use web::Clock;

use crate::config::Config;
use crate::limits::Limits;
use crate::verify::Verifier;

pub struct Ctx {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub verifier: Arc<Verifier>,
    pub cfg: Config,
    pub limits: Limits,
    /// The LWA token endpoint's client, when Amazon is set up.
    pub lwa: Option<crate::amazon::lwa::Lwa>,
}

impl Ctx {
    pub fn new(db: Db, clock: Arc<dyn Clock>, cfg: Config) -> Ctx {
        let limits = Limits::new(&cfg);
        let verifier = Arc::new(Verifier::new(db.clone(), clock.clone(), cfg.cache_capacity));
        let lwa = cfg.amazon.as_ref().map(crate::amazon::lwa::Lwa::new);
        Ctx {
            lwa,
            db,
            clock,
            verifier,
            cfg,
            limits,
        }
    }
}
