//! Key policy (SPEC §10): the services a key may be used for, the addresses
//! it may be used from, and how long a company's new keys may live. What a
//! verification makes of them is in `verify`; the writes are in `key_changes`.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::{AccountError, FieldError};

/// The service every operator runs: the Amazon store routes require it.
pub const AMAZON_SALES_CHANNEL: &str = "amazon_sales_channel";
/// The most services an operator may name (each is a bit of a key's mask).
pub const MAX_SERVICES: usize = 63;
/// The most addresses and ranges one key may allow.
pub const MAX_ALLOWED_IPS: usize = 50;
/// The longest a service name may be.
const MAX_NAME: usize = 64;

/// One of the operator's services: the name keys and `X-Service` use, and
/// the label the pages show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub label: String,
}

/// A set of services as a bit mask over the operator's [`ServiceCatalog`]:
/// cheap to test on the hot path. [`ServiceMask::ALL`] includes services
/// named later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceMask(pub u64);

impl ServiceMask {
    pub const ALL: ServiceMask = ServiceMask(u64::MAX);

    /// Whether the set includes what `wanted` names (a service the operator
    /// does not run is in no set).
    pub fn allows(self, wanted: ServiceMask) -> bool {
        self.0 & wanted.0 != 0
    }
}

/// The operator's services (`--service NAME[=Label]`), with
/// [`AMAZON_SALES_CHANNEL`] always first. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ServiceCatalog(Arc<[Service]>);

impl Default for ServiceCatalog {
    fn default() -> Self {
        ServiceCatalog(Arc::from(vec![amazon()]))
    }
}

fn amazon() -> Service {
    Service {
        name: AMAZON_SALES_CHANNEL.to_owned(),
        label: "Amazon Sales Channel".to_owned(),
    }
}

/// Whether `s` may name a service: 1 to 64 of `a-z`, `0-9` and `_`,
/// starting with a letter.
pub fn is_service_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl ServiceCatalog {
    /// From the `--service` flags, `NAME` or `NAME=Label` each (the label
    /// defaults to the name). The error names the flag that is refused.
    pub fn parse<S: AsRef<str>>(flags: &[S]) -> Result<ServiceCatalog, String> {
        let mut all = vec![amazon()];
        for flag in flags {
            let flag = flag.as_ref();
            let (name, label) = flag.split_once('=').unwrap_or((flag, flag));
            let (name, label) = (name.trim(), label.trim());
            if !is_service_name(name) {
                return Err(format!(
                    "--service {flag:?}: a name is 1 to 64 of a-z, 0-9 and _, starting with a letter"
                ));
            }
            if label.is_empty()
                || label.chars().count() > 100
                || label.chars().any(char::is_control)
            {
                return Err(format!(
                    "--service {flag:?}: the label must be 1 to 100 visible characters"
                ));
            }
            match all.iter_mut().find(|s| s.name == name) {
                // Naming the built-in service again may relabel it.
                Some(s) if s.name == AMAZON_SALES_CHANNEL => s.label = label.to_owned(),
                Some(_) => return Err(format!("--service {name:?} is given twice")),
                None => all.push(Service {
                    name: name.to_owned(),
                    label: label.to_owned(),
                }),
            }
        }
        if all.len() > MAX_SERVICES {
            return Err(format!("at most {MAX_SERVICES} services may be named"));
        }
        Ok(ServiceCatalog(all.into()))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Service> {
        self.0.iter()
    }

    pub fn get(&self, name: &str) -> Option<&Service> {
        self.0.iter().find(|s| s.name == name)
    }

    /// The mask of one service by name; an empty mask when the operator
    /// runs no such service (then no key allows it).
    pub fn bit(&self, name: &str) -> ServiceMask {
        ServiceMask(
            self.0
                .iter()
                .position(|s| s.name == name)
                .map_or(0, |i| 1u64 << i),
        )
    }

    /// The mask of a key's stored services (`None`: all of them). A stored
    /// name the operator no longer runs allows nothing.
    pub fn mask(&self, stored: Option<&str>) -> ServiceMask {
        match stored {
            None => ServiceMask::ALL,
            Some(names) => ServiceMask(
                names
                    .split_ascii_whitespace()
                    .fold(0, |m, n| m | self.bit(n).0),
            ),
        }
    }

    /// A key's services as a request gives them: `None` is all of them;
    /// each name must be one of the operator's, at least one. The stored
    /// form (names separated by spaces, in the catalog's order).
    pub fn parse_services<S: AsRef<str>>(
        &self,
        names: Option<&[S]>,
    ) -> Result<Option<String>, AccountError> {
        let Some(names) = names else {
            return Ok(None);
        };
        let refused = |msg| AccountError::Invalid(FieldError::new("services", msg));
        if names.is_empty() {
            return Err(refused("error.services_empty"));
        }
        if names.len() > MAX_SERVICES {
            return Err(refused("error.services_unknown"));
        }
        let mut mask = 0u64;
        for n in names {
            let bit = self.bit(n.as_ref().trim()).0;
            if bit == 0 {
                return Err(refused("error.services_unknown"));
            }
            mask |= bit;
        }
        let stored: Vec<&str> = self
            .0
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, s)| s.name.as_str())
            .collect();
        Ok(Some(stored.join(" ")))
    }
}

/// A key's allowed addresses as a request gives them: `None` or an empty
/// list is any address. Each is an IPv4 or IPv6 address or CIDR range, at
/// most [`MAX_ALLOWED_IPS`]; the stored form is canonical (host bits
/// cleared, IPv4-mapped ranges as IPv4, duplicates dropped), separated by spaces.
pub fn parse_allowed_ips<S: AsRef<str>>(ips: Option<&[S]>) -> Result<Option<String>, AccountError> {
    let ips = match ips {
        None | Some([]) => return Ok(None),
        Some(list) => list,
    };
    let refused = |msg| AccountError::Invalid(FieldError::new("allowed_ips", msg));
    if ips.len() > MAX_ALLOWED_IPS {
        return Err(refused("error.allowed_ips_many"));
    }
    let mut nets: Vec<IpNet> = Vec::with_capacity(ips.len());
    for ip in ips {
        let s = ip.as_ref().trim();
        let net = (s.len() <= 64)
            .then(|| web::proxies::parse_net(s))
            .flatten()
            .ok_or_else(|| refused("error.allowed_ip"))?;
        if !nets.contains(&net) {
            nets.push(net);
        }
    }
    Ok(Some(
        nets.iter()
            .map(IpNet::to_string)
            .collect::<Vec<_>>()
            .join(" "),
    ))
}

/// A key's allowed addresses as verification tests them: each range as
/// (network, mask) integers, IPv4 and IPv6 apart, so a check is an AND and
/// a compare per range (the hot path tests up to 50 of them).
#[derive(Debug, Default)]
pub struct AllowedNets {
    v4: Box<[(u32, u32)]>,
    v6: Box<[(u128, u128)]>,
}

impl AllowedNets {
    /// Whether `ip` is in one of the ranges (an IPv4-mapped address as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip.to_canonical() {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().any(|&(net, mask)| a & mask == net)
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().any(|&(net, mask)| a & mask == net)
            }
        }
    }
}

/// A key's stored allowed addresses, for verification (`None`: any).
pub fn stored_nets(stored: Option<&str>) -> Option<AllowedNets> {
    let stored = stored?;
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for net in stored
        .split_ascii_whitespace()
        .filter_map(|n| n.parse::<IpNet>().ok())
    {
        match net {
            IpNet::V4(n) => v4.push((u32::from(n.network()), u32::from(n.netmask()))),
            IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.netmask()))),
        }
    }
    Some(AllowedNets {
        v4: v4.into(),
        v6: v6.into(),
    })
}

/// A key's stored allowed addresses as a list (empty: any).
pub fn allowed_list(stored: Option<&str>) -> Vec<String> {
    stored
        .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The longest maximum key lifetime an owner may set: ten years.
pub const MAX_LIFETIME_DAYS: i64 = 3660;

/// Checks an owner's maximum key lifetime (`None`: no limit).
pub fn check_lifetime_days(days: Option<i64>) -> Result<Option<i64>, AccountError> {
    match days {
        Some(d) if !(1..=MAX_LIFETIME_DAYS).contains(&d) => Err(AccountError::Invalid(
            FieldError::new("max_key_lifetime_days", "error.lifetime_days"),
        )),
        d => Ok(d),
    }
}

/// Whether a new key expiring at `expires_at` (`None`: never) keeps within
/// a company's maximum lifetime of `max_days` from `now`.
pub fn within_lifetime(max_days: Option<i64>, expires_at: Option<i64>, now: i64) -> bool {
    match (max_days, expires_at) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(d), Some(e)) => e <= now + d * 86400,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_amazon_first_and_refuses_bad_flags() {
        let c = ServiceCatalog::parse(&["billing=Billing API", "reports"]).unwrap();
        let names: Vec<_> = c.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, [AMAZON_SALES_CHANNEL, "billing", "reports"]);
        assert_eq!(c.get("reports").unwrap().label, "reports");
        assert_eq!(c.bit("billing"), ServiceMask(2));
        assert_eq!(c.bit("nope"), ServiceMask(0));
        for bad in ["", "Bad", "1x", "a-b", "x=", "billing\u{0}"] {
            assert!(ServiceCatalog::parse(&[bad]).is_err(), "{bad:?}");
        }
        assert!(ServiceCatalog::parse(&["a", "a"]).is_err());
        let many: Vec<String> = (0..MAX_SERVICES).map(|i| format!("s{i}")).collect();
        assert!(ServiceCatalog::parse(&many).is_err());
        assert!(ServiceCatalog::parse(&many[1..]).is_ok());
    }

    #[test]
    fn masks_follow_the_stored_names() {
        let c = ServiceCatalog::parse(&["billing"]).unwrap();
        let stored = c.parse_services(Some(&["billing", "billing"])).unwrap();
        assert_eq!(stored.as_deref(), Some("billing"));
        let m = c.mask(stored.as_deref());
        assert!(m.allows(c.bit("billing")));
        assert!(!m.allows(c.bit(AMAZON_SALES_CHANNEL)));
        assert!(!ServiceMask::ALL.allows(c.bit("unknown")));
        assert!(c.parse_services::<&str>(Some(&[])).is_err());
        assert!(c.parse_services(Some(&["gone"])).is_err());
        assert_eq!(c.parse_services::<&str>(None).unwrap(), None);
    }

    #[test]
    fn allowed_ips_are_canonical() {
        let stored = parse_allowed_ips(Some(&[
            "203.0.113.7",
            "10.1.2.3/8",
            "::ffff:192.0.2.0/120",
            "2001:db8::1/32",
            "10.0.0.0/8",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            stored,
            "203.0.113.7/32 10.0.0.0/8 192.0.2.0/24 2001:db8::/32"
        );
        let nets = stored_nets(Some(&stored)).unwrap();
        assert!(nets.contains("10.9.9.9".parse().unwrap()));
        assert!(nets.contains("::ffff:192.0.2.200".parse().unwrap()));
        assert!(nets.contains("2001:db8:ffff::2".parse().unwrap()));
        assert!(!nets.contains("203.0.113.8".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "1.2.3", "::g", "10.0.0.0/8\u{0}"] {
            assert!(parse_allowed_ips(Some(&[bad])).is_err(), "{bad:?}");
        }
        let many: Vec<String> = (0..=MAX_ALLOWED_IPS)
            .map(|i| format!("10.0.0.{i}"))
            .collect();
        assert!(parse_allowed_ips(Some(&many)).is_err());
        assert_eq!(parse_allowed_ips::<&str>(Some(&[])).unwrap(), None);
    }

    #[test]
    fn lifetime() {
        assert!(within_lifetime(None, None, 0));
        assert!(!within_lifetime(Some(30), None, 0));
        assert!(within_lifetime(Some(30), Some(30 * 86400), 0));
        assert!(!within_lifetime(Some(30), Some(30 * 86400 + 1), 0));
        assert!(check_lifetime_days(Some(0)).is_err());
        assert!(check_lifetime_days(Some(MAX_LIFETIME_DAYS + 1)).is_err());
        assert_eq!(check_lifetime_days(None).unwrap(), None);
    }
}
