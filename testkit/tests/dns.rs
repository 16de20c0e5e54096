//! The test DNS server answers A/AAAA over UDP and TCP, and NODATA / REFUSED otherwise.

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::str::FromStr;
use std::time::Duration;
use switchyard_testkit::dns::{DnsRecord, TestDns};

fn query_message(name: &str, rtype: RecordType, id: u16) -> Vec<u8> {
    let mut msg = Message::new();
    msg.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true);
    let name = Name::from_str(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    msg.add_query(Query::query(name, rtype));
    msg.to_vec().unwrap_or_else(|e| panic!("encode: {e}"))
}

fn udp_query(server: SocketAddr, name: &str, rtype: RecordType) -> Message {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap_or_else(|e| panic!("timeout: {e}"));
    sock.send_to(&query_message(name, rtype, 7), server)
        .unwrap_or_else(|e| panic!("send: {e}"));
    let mut buf = [0u8; 1500];
    let (n, _) = sock
        .recv_from(&mut buf)
        .unwrap_or_else(|e| panic!("no answer for {name} {rtype}: {e}"));
    Message::from_vec(&buf[..n]).unwrap_or_else(|e| panic!("decode: {e}"))
}

fn tcp_query(server: SocketAddr, name: &str, rtype: RecordType) -> Message {
    let mut s = TcpStream::connect(server).unwrap_or_else(|e| panic!("connect: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap_or_else(|e| panic!("timeout: {e}"));
    let msg = query_message(name, rtype, 9);
    let len = u16::try_from(msg.len()).unwrap_or(u16::MAX).to_be_bytes();
    s.write_all(&len).unwrap_or_else(|e| panic!("write: {e}"));
    s.write_all(&msg).unwrap_or_else(|e| panic!("write: {e}"));
    let mut len = [0u8; 2];
    s.read_exact(&mut len)
        .unwrap_or_else(|e| panic!("read: {e}"));
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut buf)
        .unwrap_or_else(|e| panic!("read: {e}"));
    Message::from_vec(&buf).unwrap_or_else(|e| panic!("decode: {e}"))
}

fn addrs(msg: &Message) -> Vec<IpAddr> {
    msg.answers()
        .iter()
        .filter_map(|r| match r.data() {
            Some(RData::A(a)) => Some(IpAddr::V4(a.0)),
            Some(RData::AAAA(a)) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

fn server() -> TestDns {
    let records = [
        DnsRecord::new("localhost", IpAddr::V4(Ipv4Addr::LOCALHOST)),
        DnsRecord::parse("app.switchyard.test=::1").unwrap_or_else(|e| panic!("{e}")),
    ];
    TestDns::start(
        "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()),
        &records,
    )
    .unwrap_or_else(|e| panic!("start: {e}"))
}

#[test]
fn answers_a_over_udp_and_tcp() {
    let dns = server();
    let udp = udp_query(dns.addr(), "localhost.", RecordType::A);
    assert_eq!(udp.response_code(), ResponseCode::NoError);
    assert_eq!(addrs(&udp), vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    assert_eq!(udp.id(), 7);
    let tcp = tcp_query(dns.addr(), "localhost.", RecordType::A);
    assert_eq!(addrs(&tcp), vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    assert!(dns.queries() >= 2);
}

#[test]
fn answers_aaaa_and_nodata() {
    let dns = server();
    let v6 = udp_query(dns.addr(), "app.switchyard.test.", RecordType::AAAA);
    assert_eq!(addrs(&v6), vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    // A name with only an A record: NOERROR and no answer (NODATA), so a resolver
    // preferring IPv6 falls back to A.
    let nodata = udp_query(dns.addr(), "localhost.", RecordType::AAAA);
    assert_eq!(nodata.response_code(), ResponseCode::NoError);
    assert!(addrs(&nodata).is_empty(), "{nodata:?}");
}

#[test]
fn unknown_names_get_no_address() {
    let dns = server();
    let other = udp_query(dns.addr(), "example.com.", RecordType::A);
    assert!(addrs(&other).is_empty(), "{other:?}");
    assert_ne!(other.response_code(), ResponseCode::NoError);
}

#[test]
fn bad_records_are_refused() {
    for bad in ["localhost", "=1.2.3.4", "localhost=notanip"] {
        assert!(DnsRecord::parse(bad).is_err(), "{bad} should be refused");
    }
}
