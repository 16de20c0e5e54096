//! Asking a `resolvers` section's nameservers — exactly those, never the
//! system's — for a name, in parallel, keeping the first answer and which
//! nameserver gave it (HAProxy logs `by <section>/<nameserver>`).

use std::net::IpAddr;

use hickory_resolver::config::Protocol;
use hickory_resolver::config::{
    LookupIpStrategy, NameServerConfig, NameServerConfigGroup, ResolverConfig, ResolverOpts,
};
use hickory_resolver::error::ResolveErrorKind;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::TokioAsyncResolver;
use switchyard_config::Resolvers;
use tokio::task::JoinSet;

/// `resolve-prefer`: which address family is asked for first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    /// HAProxy's default.
    V6,
    V4,
}

impl Family {
    pub(crate) fn from_prefer(p: Option<&str>) -> Family {
        match p {
            Some("ipv4") => Family::V4,
            _ => Family::V6,
        }
    }

    pub(crate) fn matches(self, ip: &IpAddr) -> bool {
        matches!(
            (self, ip),
            (Family::V6, IpAddr::V6(_)) | (Family::V4, IpAddr::V4(_))
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryError {
    Nx,
    Timeout,
    Refused,
    Other,
}

impl QueryError {
    /// Which failure to report when every nameserver failed: an answer
    /// from a server says more than a timeout.
    fn rank(self) -> u8 {
        match self {
            QueryError::Nx => 3,
            QueryError::Refused => 2,
            QueryError::Other => 1,
            QueryError::Timeout => 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// `section/nameserver`.
    pub nameserver: String,
    /// Empty: a valid answer without any address.
    pub ips: Vec<IpAddr>,
}

/// One resolver per nameserver, so we know who answered.
pub(crate) struct NameServers {
    servers: Vec<(String, TokioAsyncResolver, TokioAsyncResolver)>,
}

impl NameServers {
    pub(crate) fn new(cfg: &Resolvers) -> NameServers {
        let servers = cfg
            .nameservers
            .iter()
            .map(|(name, addr)| {
                let mut group = NameServerConfigGroup::new();
                group.push(NameServerConfig::new(*addr, Protocol::Udp));
                let config = ResolverConfig::from_parts(None, Vec::new(), group);
                let mk = |strategy| {
                    let mut o = ResolverOpts::default();
                    o.timeout = if cfg.timeout_retry.is_zero() {
                        std::time::Duration::from_secs(1)
                    } else {
                        cfg.timeout_retry
                    };
                    o.attempts = cfg.resolve_retries.max(1) as usize;
                    o.use_hosts_file = false;
                    o.cache_size = 0;
                    o.ndots = 0;
                    o.ip_strategy = strategy;
                    o.edns0 = cfg.accepted_payload_size.is_some_and(|s| s > 512);
                    TokioAsyncResolver::tokio(config.clone(), o)
                };
                (
                    format!("{}/{}", cfg.name, name),
                    mk(LookupIpStrategy::Ipv6thenIpv4),
                    mk(LookupIpStrategy::Ipv4thenIpv6),
                )
            })
            .collect();
        NameServers { servers }
    }

    /// Query every nameserver at once; the first answer wins.
    pub(crate) async fn resolve(&self, host: &str, family: Family) -> Result<Answer, QueryError> {
        let fqdn = if host.ends_with('.') {
            host.to_string()
        } else {
            format!("{host}.")
        };
        let mut set = JoinSet::new();
        for (name, v6, v4) in &self.servers {
            let r = match family {
                Family::V6 => v6.clone(),
                Family::V4 => v4.clone(),
            };
            let (name, fqdn) = (name.clone(), fqdn.clone());
            set.spawn(async move {
                match r.lookup_ip(fqdn.as_str()).await {
                    Ok(l) => Ok(Answer {
                        nameserver: name,
                        ips: l.iter().collect(),
                    }),
                    Err(e) => match e.kind() {
                        ResolveErrorKind::NoRecordsFound { response_code, .. } => {
                            match *response_code {
                                ResponseCode::NXDomain => Err(QueryError::Nx),
                                ResponseCode::NoError => Ok(Answer {
                                    nameserver: name,
                                    ips: Vec::new(),
                                }),
                                ResponseCode::Refused => Err(QueryError::Refused),
                                _ => Err(QueryError::Other),
                            }
                        }
                        ResolveErrorKind::Timeout => Err(QueryError::Timeout),
                        _ => Err(QueryError::Other),
                    },
                }
            });
        }
        let mut worst: Option<QueryError> = None;
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok(Ok(a)) => return Ok(a),
                Ok(Err(e)) => {
                    if worst.is_none_or(|w| e.rank() > w.rank()) {
                        worst = Some(e);
                    }
                }
                Err(_) => worst = worst.or(Some(QueryError::Other)),
            }
        }
        Err(worst.unwrap_or(QueryError::Other))
    }
}
