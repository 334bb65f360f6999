//! The client's address behind reverse proxies (SPEC §10): when the TCP
//! peer is one of the operator's trusted proxies (`--trusted-proxy CIDR`),
//! the client is the rightmost address of `X-Forwarded-For` that is not
//! itself a trusted proxy. Without trusted proxies, or from any other peer,
//! the client is the TCP peer and `X-Forwarded-For` is ignored (a client
//! cannot name its own address).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The header proxies append the address they were called from to.
pub const FORWARDED_FOR: &str = "x-forwarded-for";

/// The most `X-Forwarded-For` entries read (from the right): a longer chain
/// is cut there, so a client cannot make each request cost more.
const MAX_HOPS: usize = 20;

/// An address or CIDR range as the operator or a user writes it (an
/// address alone is a /32 or /128), canonical: host bits cleared, and an
/// IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) as its IPv4 range, so it
/// matches what [`IpAddr::to_canonical`] makes of a peer's address.
pub fn parse_net(s: &str) -> Option<IpNet> {
    let net = s
        .parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))?;
    let net = match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => IpNet::V4(ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).ok()?),
            None => net,
        },
        _ => net,
    };
    Some(net.trunc())
}

/// The operator's trusted proxies: cheap to clone, empty by default.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    /// Parses `CIDR`s and addresses (an address alone is a /32 or /128).
    /// The error names the first that is not one.
    pub fn parse<S: AsRef<str>>(all: &[S]) -> Result<TrustedProxies, String> {
        let nets = all
            .iter()
            .map(|s| {
                let s = s.as_ref().trim();
                parse_net(s).ok_or_else(|| format!("{s:?} is not an IP address or CIDR range"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustedProxies(nets.into()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy (an IPv4-mapped IPv6 address counts
    /// as its IPv4 address).
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request from `peer` with these headers (see the
    /// module). A malformed entry ends the walk: the address before it (a
    /// trusted proxy's) is the client then, never a name the client chose.
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> SocketAddr {
        if self.is_empty() || !self.trusts(peer.ip()) {
            return peer;
        }
        let mut client = peer.ip().to_canonical();
        let hops = headers
            .get_all(FORWARDED_FOR)
            .iter()
            .rev()
            .flat_map(|v| {
                let entries: Vec<&str> = v.to_str().map_or(vec![""], |s| s.split(',').collect());
                entries.into_iter().rev()
            })
            .take(MAX_HOPS);
        for hop in hops {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = ip.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        SocketAddr::new(client, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append(FORWARDED_FOR, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40000)
    }

    #[test]
    fn untrusted_peers_name_no_one() {
        let none = TrustedProxies::default();
        let h = headers(&["203.0.113.9"]);
        assert_eq!(none.client(peer("127.0.0.1"), &h), peer("127.0.0.1"));
        let lo = TrustedProxies::parse(&["127.0.0.1/32"]).unwrap();
        assert_eq!(
            lo.client(peer("198.51.100.7"), &h),
            peer("198.51.100.7"),
            "a forged header from elsewhere"
        );
    }

    #[test]
    fn the_rightmost_untrusted_address_is_the_client() {
        let t = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8", "fd00::/8"]).unwrap();
        let ip = |h: &HeaderMap, p: &str| t.client(peer(p), h).ip().to_string();
        // The client forged a first entry; the proxies appended the truth.
        assert_eq!(
            ip(&headers(&["1.2.3.4, 203.0.113.9, 10.1.1.1"]), "127.0.0.1"),
            "203.0.113.9"
        );
        assert_eq!(
            ip(&headers(&["1.2.3.4", "203.0.113.9"]), "127.0.0.1"),
            "203.0.113.9",
            "two headers"
        );
        assert_eq!(ip(&headers(&["2001:db8::5"]), "127.0.0.1"), "2001:db8::5");
        assert_eq!(
            ip(&headers(&["::ffff:203.0.113.9"]), "127.0.0.1"),
            "203.0.113.9",
            "IPv4-mapped"
        );
        assert_eq!(
            ip(&headers(&["203.0.113.9"]), "::ffff:127.0.0.1"),
            "203.0.113.9",
            "a mapped peer"
        );
        assert_eq!(ip(&headers(&["203.0.113.9"]), "fd00::1"), "203.0.113.9");
        // Every hop trusted: the leftmost; no header: the proxy itself.
        assert_eq!(
            ip(&headers(&["10.0.0.2, 10.0.0.3"]), "127.0.0.1"),
            "10.0.0.2"
        );
        assert_eq!(ip(&headers(&[]), "127.0.0.1"), "127.0.0.1");
        // A malformed entry stops the walk at the last trusted hop.
        assert_eq!(
            ip(&headers(&["203.0.113.9, bogus, 10.0.0.4"]), "127.0.0.1"),
            "10.0.0.4"
        );
        assert_eq!(ip(&headers(&["203.0.113.9:443"]), "127.0.0.1"), "127.0.0.1");
    }

    #[test]
    fn long_chains_are_cut() {
        let t = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        let chain = vec!["10.0.0.1"; 100].join(", ");
        let h = headers(&[&format!("203.0.113.9, {chain}")]);
        assert_eq!(t.client(peer("10.0.0.9"), &h).ip().to_string(), "10.0.0.1");
    }

    #[test]
    fn bad_ranges_are_named() {
        let err = TrustedProxies::parse(&["10.0.0.0/8", "10.0.0.0/33"]).unwrap_err();
        assert!(err.contains("10.0.0.0/33"), "{err}");
        assert!(TrustedProxies::parse(&["nope"]).is_err());
        assert!(TrustedProxies::parse(&["::1", "192.168.1.7/24"])
            .unwrap()
            .trusts("192.168.1.200".parse().unwrap()));
    }
}
