//! What the network grants allow, decided before anything is opened: which addresses a
//! script may connect and send to (`--allow-net HOST:PORT`, and where a
//! `HOST:PORT::LOCALHOST:PORT` grant really sends them), which ports it may listen on
//! (`--allow-listen PORT`, on 127.0.0.1 only), which names it may look up, and how a peer's
//! real address is shown back to it.
//!
//! A granted name is looked up by the host; the addresses it resolved to are then granted
//! for that name's port only, so a script may connect to what `gethostbyname` gave it.

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::grants::{Grants, NetGrant};
use crate::net::error::NetError;

/// Addresses remembered from lookups and routes, at most (a script cannot grow them
/// without bound by looking up the same granted names again and again).
const MAX_REMEMBERED: usize = 256;

/// A refused use, in the words of a [`Denial`](crate::Denial).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub what: String,
    pub fix: String,
}

impl From<Refusal> for NetError {
    fn from(refusal: Refusal) -> NetError {
        NetError::Denied { what: refusal.what, fix: refusal.fix }
    }
}

/// Where a permitted connection or datagram goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dest {
    Addr(SocketAddrV4),
    /// A granted name, still to be looked up.
    Lookup(String, u16),
}

/// A permitted destination: the grant that permits it (an index into the policy's
/// grants) and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Permit {
    pub grant: usize,
    pub dest: Dest,
}

/// What a name lookup the policy allows comes down to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// No lookup needed: a numeric address, `localhost`, or a mapped grant's local target.
    Known(Ipv4Addr),
    /// Ask the system's resolver for this name.
    Resolve(String),
}

pub(crate) struct Policy {
    grants: Vec<Granted>,
    listen: Vec<u16>,
    /// (address, grant): a granted name resolved to this address.
    resolved: Vec<(Ipv4Addr, usize)>,
    /// (real address, grant): where connections and datagrams under a grant have gone.
    routed: Vec<(SocketAddrV4, usize)>,
}

struct Granted {
    grant: NetGrant,
    /// The granted host as an address, when it is one (or `localhost`).
    ip: Option<Ipv4Addr>,
    /// The mapped target as an address, when it is one.
    to_ip: Option<Ipv4Addr>,
}

/// `host` as an IPv4 address, when it is one; `localhost` is 127.0.0.1 (it names this
/// machine everywhere, and looking it up reveals nothing).
pub(crate) fn literal(host: &str) -> Option<Ipv4Addr> {
    if host.eq_ignore_ascii_case("localhost") {
        return Some(Ipv4Addr::LOCALHOST);
    }
    host.parse().ok()
}

/// The hosts a listening socket may name: every one is served on 127.0.0.1.
fn is_local(host: &str) -> bool {
    matches!(host, "" | "0.0.0.0" | "127.0.0.1") || host.eq_ignore_ascii_case("localhost")
}

impl Policy {
    pub fn new(grants: &Grants) -> Policy {
        let granted = grants
            .net
            .iter()
            .map(|g| Granted { ip: literal(&g.host), to_ip: g.to.as_ref().and_then(|(host, _)| literal(host)), grant: g.clone() })
            .collect();
        Policy { grants: granted, listen: grants.listen.clone(), resolved: Vec::new(), routed: Vec::new() }
    }

    /// May the script `action` ("connect", "send to") `host:port`, and where does it go?
    pub fn permit(&self, action: &str, host: &str, port: u16) -> Result<Permit, Refusal> {
        let ip = literal(host);
        let by_grant = self.grants.iter().position(|g| g.grant.port == port && (g.grant.host.eq_ignore_ascii_case(host) || (ip.is_some() && g.ip == ip)));
        let by_lookup = || ip.and_then(|ip| self.resolved.iter().find(|(r, i)| *r == ip && self.grants[*i].grant.port == port).map(|(_, i)| *i));
        let Some(index) = by_grant.or_else(by_lookup) else {
            return Err(Refusal { what: format!("{action} {host}:{port}"), fix: format!("--allow-net {host}:{port}") });
        };
        let granted = &self.grants[index];
        let dest = match (&granted.grant.to, granted.to_ip, ip.or(granted.ip)) {
            (Some((_, to_port)), Some(to_ip), _) => Dest::Addr(SocketAddrV4::new(to_ip, *to_port)),
            (Some((to_host, to_port)), None, _) => Dest::Lookup(to_host.clone(), *to_port),
            (None, _, Some(ip)) => Dest::Addr(SocketAddrV4::new(ip, port)),
            (None, _, None) => Dest::Lookup(granted.grant.host.clone(), port),
        };
        Ok(Permit { grant: index, dest })
    }

    /// May the script look `host` up? `port` (0: not given) only shapes the advice.
    pub fn lookup(&self, host: &str, port: u16) -> Result<Lookup, Refusal> {
        if let Some(ip) = literal(host) {
            return Ok(Lookup::Known(ip));
        }
        let named: Vec<&Granted> = self.grants.iter().filter(|g| g.grant.host.eq_ignore_ascii_case(host)).collect();
        // A name granted only as a stand-in for a local target never reaches a resolver:
        // it stands for that target, so a script run offline gets an address it may use.
        match named.iter().find(|g| g.grant.to.is_none()) {
            Some(_) => Ok(Lookup::Resolve(host.to_ascii_lowercase())),
            None => match named.first().map(|g| (g.to_ip, &g.grant.to)) {
                Some((Some(to_ip), _)) => Ok(Lookup::Known(to_ip)),
                Some((None, Some((to_host, _)))) => Ok(Lookup::Resolve(to_host.clone())),
                _ => {
                    let port = if port == 0 { "PORT".to_owned() } else { port.to_string() };
                    Err(Refusal { what: format!("resolve {host}"), fix: format!("--allow-net {host}:{port}") })
                }
            },
        }
    }

    /// `host` (a granted name) resolved to `addresses`: each is granted for the name's ports.
    pub fn remember_lookup(&mut self, host: &str, addresses: &[Ipv4Addr]) {
        for (index, granted) in self.grants.iter().enumerate() {
            if granted.grant.host.eq_ignore_ascii_case(host) {
                for &ip in addresses {
                    if self.resolved.len() < MAX_REMEMBERED && !self.resolved.contains(&(ip, index)) {
                        self.resolved.push((ip, index));
                    }
                }
            }
        }
    }

    /// Traffic under grant `index` went to `real`: datagrams from there are answers.
    pub fn remember_route(&mut self, index: usize, real: SocketAddrV4) {
        if self.routed.len() < MAX_REMEMBERED && !self.routed.contains(&(real, index)) {
            self.routed.push((real, index));
        }
    }

    /// Whether a datagram from `source` may reach the script: it comes from where a grant
    /// sent the script's traffic, or from a granted address.
    pub fn accepts_from(&self, source: SocketAddrV4) -> bool {
        self.routed.iter().any(|(real, _)| *real == source)
            || self.grants.iter().any(|g| g.grant.to.is_none() && g.grant.port == source.port() && g.ip == Some(*source.ip()))
    }

    /// How the script sees a peer: a mapped grant's local target shows as the address the
    /// script named (or, for a name, the address its lookup gave), so answers seem to
    /// come from where it sent.
    pub fn shown(&self, real: SocketAddrV4) -> (String, u16) {
        let mapped = self.routed.iter().map(|(r, i)| (r, &self.grants[*i])).find(|(r, g)| **r == real && g.grant.to.is_some());
        match mapped {
            Some((_, g)) => (g.ip.unwrap_or(*real.ip()).to_string(), g.grant.port),
            None => (real.ip().to_string(), real.port()),
        }
    }

    /// Where a TCP listener or a UDP socket binding `host:port` is served: 127.0.0.1:port
    /// for a granted port. `port` 0 is allowed for UDP only (a port of the system's choosing,
    /// as `sendto` binds one); what it then receives is still filtered by
    /// [`accepts_from`](Policy::accepts_from).
    pub fn bind(&self, tcp: bool, host: &str, port: u16) -> Result<SocketAddrV4, Refusal> {
        let shown = if host.is_empty() { "0.0.0.0" } else { host };
        if !tcp && port == 0 && (is_local(host) || literal(host) == Some(Ipv4Addr::UNSPECIFIED)) {
            return Ok(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
        }
        if is_local(host) && port != 0 && self.listen.contains(&port) {
            return Ok(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        }
        let what = format!("listen {shown}:{port}{}", if tcp { "" } else { " (UDP)" });
        let fix = match (port, is_local(host)) {
            (0, _) => "--allow-listen PORT, and bind that port (not 0)".to_owned(),
            (port, true) => format!("--allow-listen {port}"),
            (port, false) => format!("--allow-listen {port}, and bind '127.0.0.1' or '' (pyproc listens on 127.0.0.1 only)"),
        };
        Err(Refusal { what, fix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(net: &[&str], listen: &[u16]) -> Policy {
        let mut grants = Grants::none();
        for spec in net {
            grants = grants.allow_net(spec).unwrap();
        }
        for &port in listen {
            grants = grants.allow_listen(port);
        }
        Policy::new(&grants)
    }

    fn addr(text: &str) -> SocketAddrV4 {
        text.parse().unwrap()
    }

    #[test]
    fn only_the_granted_address_and_port_are_permitted() {
        let p = policy(&["10.0.0.5:5555"], &[]);
        assert_eq!(p.permit("connect", "10.0.0.5", 5555).unwrap().dest, Dest::Addr(addr("10.0.0.5:5555")));
        let refused = p.permit("connect", "10.0.0.5", 5556).unwrap_err();
        assert_eq!((refused.what.as_str(), refused.fix.as_str()), ("connect 10.0.0.5:5556", "--allow-net 10.0.0.5:5556"));
        assert!(p.permit("connect", "10.0.0.6", 5555).is_err());
    }

    #[test]
    fn a_mapped_grant_sends_to_its_target_and_shows_the_named_address() {
        let mut p = policy(&["hub.invalid:5555::127.0.0.1:6000"], &[]);
        let permit = p.permit("connect", "HUB.invalid", 5555).unwrap();
        assert_eq!(permit.dest, Dest::Addr(addr("127.0.0.1:6000")));
        assert_eq!(p.lookup("hub.invalid", 5555), Ok(Lookup::Known(Ipv4Addr::LOCALHOST)));
        p.remember_lookup("hub.invalid", &[Ipv4Addr::LOCALHOST]);
        assert_eq!(p.permit("send to", "127.0.0.1", 5555).unwrap().dest, Dest::Addr(addr("127.0.0.1:6000")));
        p.remember_route(permit.grant, addr("127.0.0.1:6000"));
        assert_eq!(p.shown(addr("127.0.0.1:6000")), ("127.0.0.1".to_owned(), 5555));
        assert!(p.accepts_from(addr("127.0.0.1:6000")) && !p.accepts_from(addr("127.0.0.1:6001")));
    }

    #[test]
    fn a_granted_name_is_looked_up_and_its_addresses_granted_for_its_port_only() {
        let mut p = policy(&["hub.lab:5555"], &[]);
        assert_eq!(p.permit("connect", "hub.lab", 5555).unwrap().dest, Dest::Lookup("hub.lab".into(), 5555));
        assert_eq!(p.lookup("Hub.Lab", 0), Ok(Lookup::Resolve("hub.lab".into())));
        assert!(p.permit("connect", "10.1.2.3", 5555).is_err());
        p.remember_lookup("hub.lab", &["10.1.2.3".parse().unwrap()]);
        assert_eq!(p.permit("connect", "10.1.2.3", 5555).unwrap().dest, Dest::Addr(addr("10.1.2.3:5555")));
        assert!(p.permit("connect", "10.1.2.3", 80).is_err());
    }

    #[test]
    fn ungranted_names_are_not_looked_up() {
        let p = policy(&["hub.lab:5555"], &[]);
        let refused = p.lookup("example.org", 443).unwrap_err();
        assert_eq!((refused.what.as_str(), refused.fix.as_str()), ("resolve example.org", "--allow-net example.org:443"));
        assert_eq!(p.lookup("example.org", 0).unwrap_err().fix, "--allow-net example.org:PORT");
        assert_eq!(p.lookup("192.168.0.1", 0), Ok(Lookup::Known("192.168.0.1".parse().unwrap())));
    }

    #[test]
    fn listening_is_on_granted_ports_of_127_0_0_1_only() {
        let p = policy(&[], &[9000]);
        for host in ["", "0.0.0.0", "localhost", "127.0.0.1"] {
            assert_eq!(p.bind(true, host, 9000), Ok(addr("127.0.0.1:9000")), "{host:?}");
        }
        let refused = p.bind(true, "127.0.0.1", 9001).unwrap_err();
        assert_eq!((refused.what.as_str(), refused.fix.as_str()), ("listen 127.0.0.1:9001", "--allow-listen 9001"));
        assert!(p.bind(true, "192.168.1.5", 9000).is_err());
        assert!(p.bind(true, "", 0).is_err());
        assert_eq!(p.bind(false, "", 0), Ok(addr("0.0.0.0:0")));
    }
}
