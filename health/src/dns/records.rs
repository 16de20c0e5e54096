//! The addresses one resolution has seen and which server holds which:
//! HAProxy's answer tree with its attached servers. Servers of one backend
//! get distinct addresses (unless `resolve-opts allow-dup-ip`), keep theirs
//! while it is still answered, and a server left without one goes to
//! maintenance; that is what spreads a `server-template` over the A
//! records of a name.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use switchyard_config::IpNet;
use tokio::time::Instant;

use super::Family;

/// A server of the resolution, by backend and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub(crate) proxy: Arc<str>,
    pub(crate) server: Arc<str>,
}

#[derive(Debug)]
struct Record {
    ip: IpAddr,
    /// HAProxy's tree key: XXH32 of the record data seeded with its type.
    /// Records are tried in key order, so ties go the same way as there.
    key: u32,
    last_seen: Instant,
    holders: Vec<Holder>,
}

/// What a server should do with the current records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Choice {
    /// Use this address (it may be the one it has).
    Use(IpAddr),
    /// Nothing it may take: no address for it.
    NoIp,
}

/// How a server weighs the records (its `resolve-*` settings).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prefs<'a> {
    pub(crate) family: Family,
    pub(crate) nets: &'a [IpNet],
    pub(crate) allow_dup_ip: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Records {
    /// Sorted by `key`.
    items: Vec<Record>,
}

fn key(ip: &IpAddr) -> u32 {
    match ip {
        IpAddr::V4(a) => xxhash_rust::xxh32::xxh32(&a.octets(), 1),
        IpAddr::V6(a) => xxhash_rust::xxh32::xxh32(&a.octets(), 28),
    }
}

impl Records {
    /// A valid answer arrived at `now`: refresh or add its addresses, then
    /// drop those not seen for longer than `obsolete` (`hold obsolete`,
    /// 0 by default: whatever this answer left out), freeing their holders.
    pub(crate) fn answer(&mut self, ips: &[IpAddr], now: Instant, obsolete: Duration) {
        for ip in ips {
            match self.items.iter_mut().find(|r| r.ip == *ip) {
                Some(r) => r.last_seen = now,
                None => {
                    let k = key(ip);
                    let at = self.items.partition_point(|r| r.key <= k);
                    self.items.insert(
                        at,
                        Record {
                            ip: *ip,
                            key: k,
                            last_seen: now,
                            holders: Vec::new(),
                        },
                    );
                }
            }
        }
        self.items.retain(|r| r.last_seen + obsolete >= now);
    }

    /// Forget holders that are no longer servers of this resolution (a
    /// reload renamed or removed them), so they block nobody.
    pub(crate) fn keep_holders(&mut self, current: &[Holder]) {
        for r in &mut self.items {
            r.holders.retain(|h| current.contains(h));
        }
    }

    /// `who` lost its address (a failed resolution put it in maintenance):
    /// it holds nothing now.
    pub(crate) fn release(&mut self, who: &Holder) {
        for r in &mut self.items {
            r.holders.retain(|h| h != who);
        }
    }

    /// Forget every record (HAProxy purges its answer tree when no server
    /// of a failed resolution keeps it).
    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }

    /// The address for `who`, which has `current`: the one it holds if that
    /// record is still there, else the best-scoring free record (preferred
    /// family 8, preferred network 4, not held by another server of the
    /// same backend 2, its current address 1), which it then holds.
    pub(crate) fn choose(&mut self, who: &Holder, current: Option<IpAddr>, p: Prefs<'_>) -> Choice {
        if let Some(r) = self.items.iter().find(|r| r.holders.contains(who)) {
            return Choice::Use(r.ip);
        }
        let mut best: Option<(usize, u32)> = None;
        for (i, r) in self.items.iter().enumerate() {
            let mut score = 0;
            if p.family.matches(&r.ip) {
                score += 8;
            }
            if p.nets
                .iter()
                .any(|n| same_family(n, &r.ip) && n.contains(r.ip))
            {
                score += 4;
            }
            let taken = r.holders.iter().any(|h| h.proxy == who.proxy);
            if !taken {
                score += 2;
            } else if !p.allow_dup_ip {
                continue;
            }
            if current == Some(r.ip) {
                score += 1;
            }
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        let Some((i, _)) = best else {
            return Choice::NoIp;
        };
        self.items[i].holders.push(who.clone());
        Choice::Use(self.items[i].ip)
    }
}

fn same_family(n: &IpNet, ip: &IpAddr) -> bool {
    n.addr.is_ipv4() == ip.is_ipv4()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(p: &str, s: &str) -> Holder {
        Holder {
            proxy: p.into(),
            server: s.into(),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    const V4: Prefs<'static> = Prefs {
        family: Family::V4,
        nets: &[],
        allow_dup_ip: false,
    };

    #[test]
    fn servers_of_one_backend_get_distinct_addresses() {
        let mut r = Records::default();
        let now = Instant::now();
        r.answer(&[ip("10.0.0.1"), ip("10.0.0.2")], now, Duration::ZERO);
        let a = r.choose(&h("b", "s1"), None, V4);
        let b = r.choose(&h("b", "s2"), None, V4);
        let c = r.choose(&h("b", "s3"), None, V4);
        assert_ne!(a, b);
        assert!(matches!(a, Choice::Use(_)) && matches!(b, Choice::Use(_)));
        assert_eq!(c, Choice::NoIp);
        // another backend may share
        assert!(matches!(r.choose(&h("o", "s1"), None, V4), Choice::Use(_)));
        // a holder keeps its address while it is answered
        r.answer(&[ip("10.0.0.2"), ip("10.0.0.1")], now, Duration::ZERO);
        assert_eq!(r.choose(&h("b", "s1"), None, V4), a);
    }

    #[test]
    fn a_dropped_record_frees_its_holder_and_dup_ip_can_be_allowed() {
        let mut r = Records::default();
        let now = Instant::now();
        r.answer(&[ip("10.0.0.1")], now, Duration::ZERO);
        assert_eq!(
            r.choose(&h("b", "s1"), None, V4),
            Choice::Use(ip("10.0.0.1"))
        );
        let dup = Prefs {
            allow_dup_ip: true,
            ..V4
        };
        assert_eq!(
            r.choose(&h("b", "s2"), None, dup),
            Choice::Use(ip("10.0.0.1"))
        );
        let later = now + Duration::from_secs(1);
        r.answer(&[ip("10.0.0.9")], later, Duration::ZERO);
        assert_eq!(
            r.choose(&h("b", "s1"), Some(ip("10.0.0.1")), V4),
            Choice::Use(ip("10.0.0.9"))
        );
        // kept for `hold obsolete`
        r.answer(&[ip("10.0.0.8")], later, Duration::from_secs(5));
        assert_eq!(r.items.len(), 2);
    }

    #[test]
    fn preferred_network_then_current_address_break_ties() {
        let mut r = Records::default();
        let now = Instant::now();
        let all = [ip("10.0.0.1"), ip("10.0.0.2"), ip("192.168.0.1")];
        r.answer(&all, now, Duration::ZERO);
        let nets = [IpNet::parse("192.168.0.0/16").expect("net")];
        let p = Prefs { nets: &nets, ..V4 };
        assert_eq!(
            r.choose(&h("b", "n"), None, p),
            Choice::Use(ip("192.168.0.1"))
        );
        assert_eq!(
            r.choose(&h("b", "c"), Some(ip("10.0.0.2")), V4),
            Choice::Use(ip("10.0.0.2"))
        );
    }
}
