//! Asking a `resolvers` section's nameservers — exactly those, never the
//! system's, the hosts file or a resolver's built-in answers (a caching
//! resolver answers `localhost` itself) — for a name, as HAProxy does: the
//! preferred family's record type first (AAAA unless `resolve-prefer ipv4`),
//! the other one when no nameserver has an address of that type, each query
//! waiting `timeout retry`, the round repeated up to `resolve_retries` times
//! while no nameserver gave a conclusive reply. Nameservers are asked in
//! their config order and the next one only when the previous one had no
//! address (HAProxy asks all at once and keeps the first valid answer; the
//! same result, without sending every query to every nameserver). The
//! nameserver that answered is kept: HAProxy logs `by <section>/<ns>`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::error::{ProtoError, ProtoErrorKind};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::udp::UdpClientStream;
use hickory_proto::xfer::{DnsExchange, DnsHandle, DnsRequest, DnsRequestOptions, FirstAnswer};
use hickory_proto::TokioTime;
use switchyard_config::Resolvers;
use tokio::net::UdpSocket;
use tokio::time::{sleep_until, timeout, Instant};

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

    /// The record types asked for, in order.
    fn query_types(self) -> [RecordType; 2] {
        match self {
            Family::V6 => [RecordType::AAAA, RecordType::A],
            Family::V4 => [RecordType::A, RecordType::AAAA],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryError {
    Nx,
    Timeout,
    Refused,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// `section/nameserver`.
    pub nameserver: String,
    /// Empty: a valid answer without any address.
    pub ips: Vec<IpAddr>,
}

/// What one nameserver said to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    /// Addresses of the asked type.
    Addrs(Vec<IpAddr>),
    /// NOERROR without an address of the asked type.
    Empty,
    Failed(QueryError),
}

impl Reply {
    /// Which reply to report when no nameserver had an address: an answer
    /// says more than an error, an error more than silence.
    fn rank(&self) -> u8 {
        match self {
            Reply::Addrs(_) => 6,
            Reply::Empty => 5,
            Reply::Failed(QueryError::Nx) => 4,
            Reply::Failed(QueryError::Refused) => 3,
            Reply::Failed(QueryError::Other) => 2,
            Reply::Failed(QueryError::Timeout) => 1,
        }
    }

    /// The name's state is known (retrying would not change it).
    fn conclusive(&self) -> bool {
        matches!(
            self,
            Reply::Addrs(_) | Reply::Empty | Reply::Failed(QueryError::Nx)
        )
    }
}

/// A section's nameservers, in config order, and how to ask them.
pub(crate) struct NameServers {
    /// (`section/nameserver`, address)
    servers: Vec<(String, SocketAddr)>,
    /// `timeout retry`: how long one query waits for its reply.
    retry: Duration,
    /// `resolve_retries`: rounds before giving up.
    attempts: u32,
    /// `accepted_payload_size`, announced in the EDNS0 record HAProxy
    /// always adds.
    payload: u16,
}

impl NameServers {
    pub(crate) fn new(cfg: &Resolvers) -> NameServers {
        NameServers {
            servers: cfg
                .nameservers
                .iter()
                .map(|(name, addr)| (format!("{}/{}", cfg.name, name), *addr))
                .collect(),
            retry: if cfg.timeout_retry.is_zero() {
                Duration::from_secs(1)
            } else {
                cfg.timeout_retry
            },
            attempts: cfg.resolve_retries.max(1),
            payload: cfg
                .accepted_payload_size
                .map_or(512, |s| u16::try_from(s.max(512)).unwrap_or(u16::MAX)),
        }
    }

    /// Resolve `host`: the first addresses found for the preferred type,
    /// else for the other one; a valid answer without addresses when the
    /// name exists without any.
    pub(crate) async fn resolve(&self, host: &str, family: Family) -> Result<Answer, QueryError> {
        let mut name = Name::from_ascii(host).map_err(|_| QueryError::Other)?;
        name.set_fqdn(true);
        let mut best: Option<(String, Reply)> = None;
        for attempt in 0..self.attempts {
            let started = Instant::now();
            let mut conclusive = true;
            for qtype in family.query_types() {
                let (ns, reply) = self.ask_in_order(&name, qtype).await;
                if let Reply::Addrs(ips) = reply {
                    return Ok(Answer {
                        nameserver: ns,
                        ips,
                    });
                }
                conclusive &= reply.conclusive();
                if best.as_ref().is_none_or(|(_, b)| reply.rank() > b.rank()) {
                    best = Some((ns, reply));
                }
            }
            if conclusive {
                break;
            }
            if attempt + 1 < self.attempts {
                // HAProxy sends the next round when `timeout retry` is
                // over, even when every nameserver failed at once.
                sleep_until(started + self.retry).await;
            }
        }
        match best {
            Some((ns, Reply::Empty)) => Ok(Answer {
                nameserver: ns,
                ips: Vec::new(),
            }),
            Some((_, Reply::Failed(e))) => Err(e),
            Some((ns, Reply::Addrs(ips))) => Ok(Answer {
                nameserver: ns,
                ips,
            }),
            None => Err(QueryError::Timeout),
        }
    }

    /// Ask the nameservers in order until one has addresses; else the most
    /// telling reply.
    async fn ask_in_order(&self, name: &Name, qtype: RecordType) -> (String, Reply) {
        let mut best: Option<(String, Reply)> = None;
        for (label, addr) in &self.servers {
            let reply = self.ask(*addr, name, qtype).await;
            if matches!(reply, Reply::Addrs(_)) {
                return (label.clone(), reply);
            }
            if best.as_ref().is_none_or(|(_, b)| reply.rank() > b.rank()) {
                best = Some((label.clone(), reply));
            }
        }
        best.unwrap_or_else(|| (String::new(), Reply::Failed(QueryError::Timeout)))
    }

    /// One query to one nameserver over UDP.
    async fn ask(&self, addr: SocketAddr, name: &Name, qtype: RecordType) -> Reply {
        match timeout(self.retry, self.exchange(addr, name, qtype)).await {
            Ok(Ok(resp)) => read_reply(&resp, name, qtype),
            Ok(Err(e)) => Reply::Failed(from_proto(&e)),
            Err(_) => Reply::Failed(QueryError::Timeout),
        }
    }

    async fn exchange(
        &self,
        addr: SocketAddr,
        name: &Name,
        qtype: RecordType,
    ) -> Result<Message, ProtoError> {
        let stream = UdpClientStream::<UdpSocket>::with_timeout(addr, self.retry);
        let (client, background) = DnsExchange::connect::<_, _, TokioTime>(stream).await?;
        // Ends by itself once `client` and its requests are dropped.
        tokio::spawn(background);
        let mut msg = Message::new();
        let query = Query::query(name.clone(), qtype);
        msg.set_message_type(MessageType::Query)
            .set_op_code(OpCode::Query)
            .set_recursion_desired(true)
            .add_query(query);
        let mut edns = Edns::new();
        edns.set_max_payload(self.payload).set_version(0);
        msg.set_edns(edns);
        let mut options = DnsRequestOptions::default();
        options.use_edns = true;
        let resp = client
            .send(DnsRequest::new(msg, options))
            .first_answer()
            .await?;
        Ok(resp.into_message())
    }
}

/// Classify a nameserver's response (HAProxy's checks: the response is
/// for the name asked, and carries the answer's rcode).
fn read_reply(resp: &Message, name: &Name, qtype: RecordType) -> Reply {
    if resp.message_type() != MessageType::Response
        || resp.truncated()
        || !resp.queries().iter().any(|q| q.name() == name)
    {
        return Reply::Failed(QueryError::Other);
    }
    match resp.response_code() {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Reply::Failed(QueryError::Nx),
        ResponseCode::Refused => return Reply::Failed(QueryError::Refused),
        _ => return Reply::Failed(QueryError::Other),
    }
    // Records of the asked type, whichever name (a CNAME chain ends with
    // the target's records).
    let ips: Vec<IpAddr> = resp
        .answers()
        .iter()
        .filter_map(|r| match (qtype, r.data()) {
            (RecordType::A, Some(RData::A(a))) => Some(IpAddr::V4(a.0)),
            (RecordType::AAAA, Some(RData::AAAA(a))) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect();
    if ips.is_empty() {
        Reply::Empty
    } else {
        Reply::Addrs(ips)
    }
}

fn from_proto(e: &ProtoError) -> QueryError {
    match e.kind() {
        // A nameserver that cannot be reached never answers (HAProxy
        // ignores send errors and waits): a timeout.
        ProtoErrorKind::Timeout | ProtoErrorKind::Io(_) => QueryError::Timeout,
        _ => QueryError::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{A, AAAA, CNAME};
    use hickory_proto::rr::Record;

    fn name(s: &str) -> Name {
        Name::from_ascii(s).expect("name")
    }

    fn response(q: &str, qtype: RecordType, code: ResponseCode, answers: Vec<Record>) -> Message {
        let mut m = Message::new();
        m.set_message_type(MessageType::Response)
            .set_response_code(code)
            .add_query(Query::query(name(q), qtype));
        for a in answers {
            m.add_answer(a);
        }
        m
    }

    #[test]
    fn replies_are_classified_like_haproxy() {
        let n = name("localhost.");
        let a = Record::from_rdata(n.clone(), 1, RData::A(A::new(127, 0, 0, 1)));
        let r = response("localhost.", RecordType::A, ResponseCode::NoError, vec![a]);
        assert_eq!(
            read_reply(&r, &n, RecordType::A),
            Reply::Addrs(vec!["127.0.0.1".parse().expect("ip")])
        );
        // NOERROR without AAAA: the A query is next
        let r = response(
            "localhost.",
            RecordType::AAAA,
            ResponseCode::NoError,
            vec![],
        );
        assert_eq!(read_reply(&r, &n, RecordType::AAAA), Reply::Empty);
        let r = response("localhost.", RecordType::A, ResponseCode::NXDomain, vec![]);
        assert_eq!(
            read_reply(&r, &n, RecordType::A),
            Reply::Failed(QueryError::Nx)
        );
        let r = response("localhost.", RecordType::A, ResponseCode::Refused, vec![]);
        assert_eq!(
            read_reply(&r, &n, RecordType::A),
            Reply::Failed(QueryError::Refused)
        );
        let r = response("localhost.", RecordType::A, ResponseCode::ServFail, vec![]);
        assert_eq!(
            read_reply(&r, &n, RecordType::A),
            Reply::Failed(QueryError::Other)
        );
        // an answer for another name is not an answer
        let r = response("other.", RecordType::A, ResponseCode::NoError, vec![]);
        assert_eq!(
            read_reply(&r, &n, RecordType::A),
            Reply::Failed(QueryError::Other)
        );
    }

    #[test]
    fn a_cname_chain_gives_the_targets_addresses_of_the_asked_type() {
        let n = name("www.test.");
        let t = name("real.test.");
        let answers = vec![
            Record::from_rdata(n.clone(), 1, RData::CNAME(CNAME(t.clone()))),
            Record::from_rdata(t.clone(), 1, RData::AAAA(AAAA::new(0, 0, 0, 0, 0, 0, 0, 1))),
            Record::from_rdata(t, 1, RData::A(A::new(127, 0, 0, 2))),
        ];
        let r = response(
            "www.test.",
            RecordType::AAAA,
            ResponseCode::NoError,
            answers,
        );
        assert_eq!(
            read_reply(&r, &n, RecordType::AAAA),
            Reply::Addrs(vec!["::1".parse().expect("ip")])
        );
    }

    #[test]
    fn preferred_type_comes_first() {
        assert_eq!(
            Family::from_prefer(None).query_types(),
            [RecordType::AAAA, RecordType::A]
        );
        assert_eq!(
            Family::from_prefer(Some("ipv4")).query_types(),
            [RecordType::A, RecordType::AAAA]
        );
    }
}
