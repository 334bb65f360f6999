//! How the service reaches Amazon: the SP-API application's id, the LWA
//! client, the token URL and Seller Central per country. The client secret
//! stays in its file and is read again whenever the file changes (Amazon
//! requires rotating it every 180 days), with no restart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use web::Secret;

use super::Country;

/// The documented LWA token URL.
pub const DEFAULT_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";
/// The longest client secret file read.
const MAX_SECRET_BYTES: u64 = 4096;

/// The Amazon side of the service; `None` in [`crate::Config`] when it is not
/// set up (then the routes that need Amazon answer 503 `amazon_not_configured`).
#[derive(Clone, Debug)]
pub struct AmazonConfig {
    /// The SP-API app's id (`amzn1.sellerapps.app.…`).
    pub application_id: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub token_url: String,
    /// Seller Central's base URL per country (no trailing slash).
    pub seller_central: BTreeMap<Country, String>,
    /// A draft app: `version=beta` on consent and log-in redirects.
    pub draft_app: bool,
    /// The whole token request's deadline (connecting: at most 5 s of it).
    pub token_timeout: Duration,
}

impl AmazonConfig {
    /// A configuration with Amazon's documented Seller Central URLs.
    pub fn new(application_id: &str, client_id: &str, client_secret: ClientSecret) -> Self {
        AmazonConfig {
            application_id: application_id.to_owned(),
            client_id: client_id.to_owned(),
            client_secret,
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            seller_central: Country::ALL
                .into_iter()
                .map(|c| (c, c.default_seller_central().to_owned()))
                .collect(),
            draft_app: false,
            token_timeout: Duration::from_secs(10),
        }
    }

    /// Applies `--seller-central-url CC=URL` values.
    pub fn with_seller_central(mut self, overrides: &[String]) -> Result<Self, String> {
        for item in overrides {
            let (cc, url) = item
                .split_once('=')
                .ok_or_else(|| format!("--seller-central-url {item}: expected CC=URL"))?;
            let country = Country::from_code(cc.trim()).ok_or_else(|| {
                format!("--seller-central-url: country {cc} is not one of US, CA, MX, GB")
            })?;
            let url = check_url(url).map_err(|e| format!("--seller-central-url {cc}: {e}"))?;
            self.seller_central.insert(country, url);
        }
        Ok(self)
    }

    pub fn with_token_url(mut self, url: &str) -> Result<Self, String> {
        self.token_url = check_url(url).map_err(|e| format!("--lwa-token-url: {e}"))?;
        Ok(self)
    }

    pub fn seller_central_of(&self, country: Country) -> &str {
        self.seller_central
            .get(&country)
            .map_or(country.default_seller_central(), String::as_str)
    }
}

/// Checks the values of the flags that name Amazon's ids.
pub fn check_id(flag: &str, value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 256 || !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{flag}: expected a non-empty id without spaces (at most 256 characters)"
        ));
    }
    Ok(v.to_owned())
}

/// `http(s)://host[:port][/path]`, without query, fragment, user or trailing slash.
pub fn check_url(url: &str) -> Result<String, String> {
    let u = url.trim().trim_end_matches('/');
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty()
        || rest.starts_with('/')
        || rest.contains(['?', '#', '@', ' '])
        || rest.chars().any(char::is_control)
    {
        return Err(format!("{u} is not a usable URL"));
    }
    Ok(u.to_owned())
}

/// The scheme and host[:port] of a URL (`https`, `sellercentral.amazon.com`).
pub fn origin_of(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then_some((scheme, host))
}

/// The LWA client secret: read from its file, and read again when the file's
/// size, modification time or inode change (checked on every use with one
/// `metadata` call). Never shown by `Debug`.
#[derive(Clone)]
pub struct ClientSecret {
    inner: Arc<SecretSource>,
}

enum SecretSource {
    File {
        path: PathBuf,
        cached: Mutex<Option<(FileStamp, Arc<Secret>)>>,
    },
    Fixed(Arc<Secret>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    ino: u64,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.inner {
            SecretSource::File { path, .. } => {
                write!(f, "ClientSecret(file {}, redacted)", path.display())
            }
            SecretSource::Fixed(_) => f.write_str("ClientSecret([redacted])"),
        }
    }
}

impl ClientSecret {
    /// The secret in `path`, which must be readable now (checked at start).
    pub fn from_file(path: &Path) -> Result<ClientSecret, String> {
        let secret = ClientSecret {
            inner: Arc::new(SecretSource::File {
                path: path.to_path_buf(),
                cached: Mutex::new(None),
            }),
        };
        secret.get()?;
        Ok(secret)
    }

    /// A secret held in memory (tests and tools).
    pub fn fixed(secret: &str) -> ClientSecret {
        ClientSecret {
            inner: Arc::new(SecretSource::Fixed(Arc::new(Secret::new(secret)))),
        }
    }

    /// The secret as the file holds it now (one trailing newline dropped).
    /// The error names the file, never its content.
    pub fn get(&self) -> Result<Arc<Secret>, String> {
        let (path, cached) = match &*self.inner {
            SecretSource::Fixed(s) => return Ok(s.clone()),
            SecretSource::File { path, cached } => (path, cached),
        };
        let err = |why: &str| format!("--lwa-client-secret-file {}: {why}", path.display());
        let meta = std::fs::metadata(path).map_err(|_| err("cannot be read"))?;
        let stamp = FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            ino: inode(&meta),
        };
        let mut cached = cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((seen, secret)) = cached.as_ref() {
            if *seen == stamp {
                return Ok(secret.clone());
            }
        }
        if stamp.len > MAX_SECRET_BYTES {
            return Err(err("is too large for a client secret"));
        }
        let text = std::fs::read_to_string(path).map_err(|_| err("cannot be read"))?;
        let value = text.trim_end_matches(['\n', '\r']);
        if value.is_empty() || value.chars().any(char::is_control) {
            return Err(err("does not hold a client secret on one line"));
        }
        if cached.is_some() {
            tracing::info!(file = %path.display(), "read the changed LWA client secret file");
        }
        let secret = Arc::new(Secret::new(value));
        *cached = Some((stamp, secret.clone()));
        Ok(secret)
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_: &std::fs::Metadata) -> u64 {
    0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seller_central_overrides_and_bad_values() {
        let cfg = AmazonConfig::new("app", "client", ClientSecret::fixed("s"))
            .with_seller_central(&["US=http://127.0.0.1:9/".into()])
            .unwrap();
        assert_eq!(cfg.seller_central_of(Country::Us), "http://127.0.0.1:9");
        assert_eq!(
            cfg.seller_central_of(Country::Gb),
            "https://sellercentral.amazon.co.uk"
        );
        for bad in ["US", "FR=https://x.example", "US=ftp://x", "US=https://a?b"] {
            let r = AmazonConfig::new("a", "c", ClientSecret::fixed("s"))
                .with_seller_central(&[bad.into()]);
            assert!(r.is_err(), "{bad}");
        }
        assert_eq!(
            origin_of("https://sellercentral.amazon.com/apps/x?y"),
            Some(("https", "sellercentral.amazon.com"))
        );
    }

    #[test]
    fn the_secret_file_is_read_again_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lwa.secret");
        std::fs::write(&path, "first-secret\n").unwrap();
        let s = ClientSecret::from_file(&path).unwrap();
        assert_eq!(s.get().unwrap().expose(), "first-secret");
        // A rotation by rename (a new inode), as tools write files.
        let tmp = dir.path().join("lwa.secret.new");
        std::fs::write(&tmp, "second-secret-longer\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert_eq!(s.get().unwrap().expose(), "second-secret-longer");
        assert!(!format!("{s:?}").contains("second"));
        std::fs::remove_file(&path).unwrap();
        let e = s.get().unwrap_err();
        assert!(e.contains("cannot be read") && !e.contains("second"), "{e}");
        assert!(ClientSecret::from_file(&path).is_err());
    }
}
