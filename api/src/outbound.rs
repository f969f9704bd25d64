//! The one way out: every HTTP request the server makes to an address someone gave it
//! (today: webhook deliveries) goes through [`Outbound`], so that nobody can point the server
//! at itself, the machines beside it or a cloud metadata service.
//!
//! Loopback, private, link-local, unspecified, shared (CGNAT) and other special-purpose
//! addresses are refused unless `MINQING_OUTBOUND_ALLOW` lists them. A name is checked on
//! the addresses it resolves to, at connect time (a resolver that drops refused addresses),
//! so a name that resolves differently later cannot slip past a check made earlier; an
//! address written in the URL, in any spelling the URL parser accepts (`2130706433`,
//! `127.1`, `0x7f.1`, `[::ffff:127.0.0.1]`), is checked before connecting, since no resolver
//! sees it. Redirects are never followed: a 3xx is an answer like any other.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{redirect, Url};

/// Internal targets allowed on purpose: host names (any address they resolve to) and
/// addresses or networks (`10.1.2.3`, `10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    hosts: Vec<String>,
    nets: Vec<Net>,
}

/// An address and prefix length: `10.0.0.0/8`, or one address (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    ip: IpAddr,
    len: u8,
}

impl Net {
    fn parse(text: &str) -> Option<Net> {
        let (ip, len) = match text.split_once('/') {
            Some((ip, len)) => (ip, Some(len.parse::<u8>().ok()?)),
            None => (text, None),
        };
        let ip: IpAddr = ip.trim_matches(['[', ']']).parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = len.unwrap_or(max);
        (len <= max).then_some(Net { ip, len })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.ip, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => in_v4(ip, net, self.len),
            (IpAddr::V6(net), IpAddr::V6(ip)) => in_v6(ip, net, self.len),
            _ => false,
        }
    }
}

fn in_v4(ip: Ipv4Addr, net: Ipv4Addr, len: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

impl AllowList {
    /// Parses `MINQING_OUTBOUND_ALLOW`: comma-separated host names, addresses or CIDRs.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut list = AllowList::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if let Some(net) = Net::parse(entry) {
                list.nets.push(net);
            } else if is_host_name(entry) {
                list.hosts.push(normal_host(entry));
            } else {
                return Err(format!(
                    "{entry:?} is neither a host name, an IP address nor a CIDR such as 10.0.0.0/8"
                ));
            }
        }
        Ok(list)
    }

    /// Parses a list of addresses and networks only (`MINQING_TRUSTED_PROXIES`).
    pub fn parse_networks(text: &str) -> Result<Self, String> {
        let list = Self::parse(text)?;
        match list.hosts.first() {
            Some(host) => Err(format!(
                "{host:?} is not an IP address or a CIDR such as 10.0.0.0/8"
            )),
            None => Ok(list),
        }
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = normal_host(host);
        self.hosts.contains(&host)
    }

    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let plain = canonical(ip);
        self.nets
            .iter()
            .any(|net| net.contains(ip) || net.contains(plain))
    }

    /// Why `ip` may not be reached, or `None` when it may.
    fn refuses(&self, ip: IpAddr) -> Option<&'static str> {
        special(ip).filter(|_| !self.allows_ip(ip))
    }

    /// Checks a target URL as written: its scheme, and its host when that is an address or
    /// a name that always means this machine. Names are checked again when resolved.
    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must be an http:// or https:// URL".into());
        }
        let Some(host) = url.host_str() else {
            return Err("names no host".into());
        };
        // The URL parser has already turned every spelling of an IPv4 address into dotted
        // form; IPv6 comes in brackets.
        let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() else {
            let name = normal_host(host);
            if (name == "localhost" || name.ends_with(".localhost")) && !self.allows_host(&name) {
                return Err(format!(
                    "{name} is this machine (loopback); list it in MINQING_OUTBOUND_ALLOW to allow it"
                ));
            }
            return Ok(());
        };
        match self.refuses(ip) {
            Some(kind) => Err(refusal(&ip.to_string(), ip, kind)),
            None => Ok(()),
        }
    }

    /// The resolved addresses that may be reached; an error naming them when none may.
    fn filter(&self, name: &str, addrs: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, String> {
        if self.allows_host(name) {
            return Ok(addrs);
        }
        let mut refused = None;
        let kept: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| match self.refuses(a.ip()) {
                Some(kind) => {
                    refused.get_or_insert((a.ip(), kind));
                    false
                }
                None => true,
            })
            .collect();
        match (kept.is_empty(), refused) {
            (true, Some((ip, kind))) => Err(refusal(name, ip, kind)),
            (true, None) => Err(format!("{name} resolves to no address")),
            (false, _) => Ok(kept),
        }
    }

    /// Checks a target before it is stored (a new webhook): the URL as written and, when its
    /// name resolves now, every address it resolves to. A name that does not resolve yet is
    /// accepted; it is checked again at every connection.
    pub async fn check_target(&self, url: &str) -> Result<(), String> {
        let url = Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
        self.check_url(&url)?;
        let Some(name) = url
            .host_str()
            .filter(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().is_err())
        else {
            return Ok(());
        };
        if self.allows_host(name) {
            return Ok(());
        }
        let lookup = tokio::net::lookup_host((name, url.port_or_known_default().unwrap_or(80)));
        let Ok(Ok(addrs)) = tokio::time::timeout(Duration::from_secs(2), lookup).await else {
            return Ok(());
        };
        for addr in addrs {
            if let Some(kind) = self.refuses(addr.ip()) {
                return Err(refusal(name, addr.ip(), kind));
            }
        }
        Ok(())
    }
}

fn refusal(target: &str, ip: IpAddr, kind: &str) -> String {
    let shown = if target == ip.to_string() {
        target.to_string()
    } else {
        format!("{target} ({ip})")
    };
    format!(
        "{shown} is a {kind} address; internal targets are refused unless listed in MINQING_OUTBOUND_ALLOW"
    )
}

fn normal_host(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Letters, digits and hyphens in dot-separated labels; a last label of digits only would
/// be read as an IPv4 address (`10.0.0.300` is a typo, not a name).
fn is_host_name(text: &str) -> bool {
    let labels: Vec<&str> = text.trim_end_matches('.').split('.').collect();
    text.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|last| !last.chars().all(|c| c.is_ascii_digit()))
}

/// An IPv6 address that carries an IPv4 one (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`)
/// is judged as that IPv4 address, since that is where a connection to it ends up.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.octets() {
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]
            | [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, a, b, c, d] => {
                IpAddr::V4(Ipv4Addr::new(a, b, c, d))
            }
            _ => ip,
        },
        v4 => v4,
    }
}

/// IPv4 special-purpose ranges (IANA registry): network, prefix length, what it is.
const SPECIAL_V4: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "unspecified (\"this network\")"),
    ([10, 0, 0, 0], 8, "private"),
    ([100, 64, 0, 0], 10, "shared (carrier-grade NAT)"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private"),
    ([192, 0, 0, 0], 24, "IETF protocol"),
    ([192, 0, 2, 0], 24, "documentation"),
    ([192, 88, 99, 0], 24, "6to4 relay"),
    ([192, 168, 0, 0], 16, "private"),
    ([198, 18, 0, 0], 15, "benchmarking"),
    ([198, 51, 100, 0], 24, "documentation"),
    ([203, 0, 113, 0], 24, "documentation"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([240, 0, 0, 0], 4, "reserved"),
];

/// IPv6 special-purpose ranges; mapped and NAT64 addresses are judged as IPv4 first.
const SPECIAL_V6: &[([u16; 8], u8, &str)] = &[
    (
        [0, 0, 0, 0, 0, 0, 0, 0],
        96,
        "unspecified, loopback or IPv4-compatible",
    ),
    ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "local NAT64"),
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "discard"),
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, "IETF protocol"),
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "documentation"),
    ([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "6to4"),
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "documentation"),
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "private (unique local)"),
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "link-local"),
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "site-local"),
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "multicast"),
];

/// What kind of special-purpose address `ip` is, or `None` for a public one.
fn special(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => SPECIAL_V4
            .iter()
            .find(|(net, len, _)| in_v4(v4, Ipv4Addr::from(*net), *len))
            .map(|(_, _, kind)| *kind),
        IpAddr::V6(v6) => SPECIAL_V6
            .iter()
            .find(|(net, len, _)| in_v6(v6, Ipv6Addr::from(*net), *len))
            .map(|(_, _, kind)| *kind),
    }
}

/// Resolves names with the system resolver and keeps only the addresses that may be reached.
struct GuardedResolver {
    allow: Arc<AllowList>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept = allow.filter(&host, found)?;
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client for outbound requests, with the guard built in.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow: Arc<AllowList>,
}

impl Outbound {
    pub fn new(allow: &AllowList, timeout: Duration) -> Result<Self, reqwest::Error> {
        let allow = Arc::new(allow.clone());
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(redirect::Policy::none())
            // A proxy would resolve and connect on our behalf, out of the guard's sight.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow: allow.clone(),
            }))
            .build()?;
        Ok(Outbound { client, allow })
    }

    /// A POST to `url`, or why it may not be sent.
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, String> {
        let url = Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        self.allow.check_url(&url)?;
        Ok(self.client.post(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn special_addresses_are_told_apart_from_public_ones() {
        for internal in [
            "127.0.0.1",
            "127.255.255.254",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "100.127.255.255",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
        ] {
            assert!(special(ip(internal)).is_some(), "{internal}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "169.255.0.1",
            "2400:3200::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(special(ip(public)).is_none(), "{public}");
        }
    }

    #[test]
    fn every_spelling_of_an_internal_address_in_a_url_is_caught() {
        let none = AllowList::default();
        for url in [
            "http://127.0.0.1/hook",
            "http://2130706433/hook",
            "http://127.1/hook",
            "http://0x7f.1/hook",
            "http://0177.0.0.1/hook",
            "http://127.0.0.1./hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://[::1]:8080/hook",
            "http://0.0.0.0/hook",
            "http://0/hook",
            "http://10.0.0.8/hook",
            "http://169.254.169.254/latest/meta-data/",
            "https://LOCALHOST/hook",
            "http://localhost./hook",
            "http://api.localhost/hook",
        ] {
            let parsed = Url::parse(url).unwrap();
            assert!(none.check_url(&parsed).is_err(), "{url} -> {parsed}");
        }
        for url in ["https://hooks.example.com/x", "http://8.8.8.8/x"] {
            assert!(none.check_url(&Url::parse(url).unwrap()).is_ok(), "{url}");
        }
        assert!(none
            .check_url(&Url::parse("ftp://8.8.8.8/x").unwrap())
            .is_err());
    }

    #[test]
    fn the_allow_list_admits_what_it_names_and_nothing_else() {
        let allow = AllowList::parse(" 127.0.0.1, 10.0.0.0/8 ,hooks.internal.,[fd00::1],").unwrap();
        let ok = |url: &str| allow.check_url(&Url::parse(url).unwrap()).is_ok();
        assert!(ok("http://127.0.0.1:9000/hook"));
        assert!(ok("http://[::ffff:127.0.0.1]/hook"), "the same address");
        assert!(ok("http://10.200.3.4/hook"));
        assert!(ok("http://[fd00::1]/hook"));
        assert!(!ok("http://127.0.0.2/hook"));
        assert!(!ok("http://192.168.0.1/hook"));
        assert!(!ok("http://localhost/hook"));
        let resolved = vec![SocketAddr::new(ip("10.9.9.9"), 80)];
        assert!(allow.filter("HOOKS.internal", resolved.clone()).is_ok());
        let loopback = vec![SocketAddr::new(ip("127.0.0.5"), 80)];
        assert!(allow.filter("other.internal", loopback).is_err());
        assert_eq!(
            AllowList::parse("").unwrap(),
            AllowList::default(),
            "empty by default"
        );
        assert!(AllowList::parse("10.0.0.0/33").is_err());
        assert!(AllowList::parse("10.0.0.300").is_err());
        assert!(AllowList::parse("http://x/").is_err());
    }

    #[tokio::test]
    async fn names_are_checked_on_what_they_resolve_to_when_connecting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let outbound = Outbound::new(&AllowList::default(), Duration::from_secs(5)).unwrap();
        // Past the check of the written URL (as a name that resolves to loopback would be),
        // the connection itself is refused.
        let sent = outbound
            .client
            .get(format!("http://localhost:{port}/"))
            .send()
            .await;
        let err = sent.unwrap_err();
        let chain = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ");
        assert!(chain.contains("loopback"), "{chain}");
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "nothing connected");

        let allowed = AllowList::parse("localhost").unwrap();
        let outbound = Outbound::new(&allowed, Duration::from_secs(5)).unwrap();
        let request = outbound.post(&format!("http://localhost:{port}/")).unwrap();
        tokio::spawn(request.send());
        let accepted = tokio::time::timeout(Duration::from_secs(5), listener.accept()).await;
        assert!(accepted.is_ok(), "an allowed name connects");
    }

    #[test]
    fn resolved_addresses_are_filtered() {
        let none = AllowList::default();
        let mixed = vec![
            SocketAddr::new(ip("127.0.0.1"), 80),
            SocketAddr::new(ip("93.184.215.14"), 80),
        ];
        assert_eq!(
            none.filter("example.com", mixed).unwrap(),
            vec![SocketAddr::new(ip("93.184.215.14"), 80)]
        );
        let internal = vec![SocketAddr::new(ip("169.254.169.254"), 80)];
        let err = none.filter("metadata.example", internal).unwrap_err();
        assert!(
            err.contains("169.254.169.254") && err.contains("link-local"),
            "{err}"
        );
    }
}
