//! Hostile HTTP/2 clients, written frame by frame: garbage after the
//! preface, an undecodable header block, more streams than the connection
//! allows, a flood of streams opened and reset at once. None of them may
//! take the proxy down: each connection ends (or is refused streams) and
//! the next client is served.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::Harness;
use switchyard_testkit::{Behavior, FakeUpstream};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const GOAWAY: u8 = 7;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.extend_from_slice(&[kind, flags]);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// `GET http://a.test/` as a header block: static-table entries and a
/// literal authority that leaves the decoder's table alone.
fn get_block() -> Vec<u8> {
    let mut b = vec![0x82, 0x86, 0x84, 0x01, 6];
    b.extend_from_slice(b"a.test");
    b
}

/// The preface and an empty SETTINGS frame.
fn hello() -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    out
}

/// Send `bytes`, then read frames until the server closes or `wait`
/// passes: the type, stream and (for RST_STREAM and GOAWAY) error code of
/// each.
fn exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> Vec<(u8, u32, u32)> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let _ = s.write_all(bytes);
    let mut got = Vec::new();
    let end = Instant::now() + wait;
    let mut buf = [0u8; 65536];
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
    }
    let mut frames = Vec::new();
    let mut rest = &got[..];
    while rest.len() >= 9 {
        let len = u32::from_be_bytes([0, rest[0], rest[1], rest[2]]) as usize;
        if rest.len() < 9 + len {
            break;
        }
        let kind = rest[3];
        let stream = u32::from_be_bytes([rest[5], rest[6], rest[7], rest[8]]) & 0x7fff_ffff;
        let p = &rest[9..9 + len];
        let code = match kind {
            RST_STREAM if p.len() >= 4 => u32::from_be_bytes([p[0], p[1], p[2], p[3]]),
            GOAWAY if p.len() >= 8 => u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
            _ => 0,
        };
        frames.push((kind, stream, code));
        rest = &rest[9 + len..];
    }
    frames
}

/// A plain HTTP/2 GET on a fresh connection succeeds.
fn still_serving(addr: SocketAddr) {
    let mut req = hello();
    req.extend(frame(HEADERS, 0x5, 1, &get_block()));
    let frames = exchange(addr, &req, Duration::from_secs(2));
    assert!(
        frames.iter().any(|f| f.0 == HEADERS && f.1 == 1),
        "no response to a well-formed request: {frames:?}"
    );
}

fn harness(up: &FakeUpstream) -> Harness {
    Harness::start(&format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         frontend h2\n  bind @BIND@ proto h2\n  default_backend be\n\
         backend be\n  server s1 {}\n",
        up.addr()
    ))
}

#[test]
fn garbage_after_the_preface_ends_only_that_connection() {
    let up = FakeUpstream::start("s1");
    let h = harness(&up);
    for addr in [h.addr(0), h.addr(1)] {
        // A frame of an impossible size, a DATA frame on stream 0, random
        // bytes: each is a connection error (GOAWAY) or a close.
        let cases: Vec<Vec<u8>> = vec![
            [hello(), vec![0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1]].concat(),
            [hello(), frame(0, 0, 0, b"data")].concat(),
            [hello(), b"GET / HTTP/1.1\r\n\r\n".to_vec()].concat(),
            [
                PREFACE.to_vec(),
                vec![0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5],
            ]
            .concat(),
            [
                hello(),
                frame(HEADERS, 0x5, 1, &[0xff, 0xff, 0xff, 0xff, 0x7f]),
            ]
            .concat(),
        ];
        for c in &cases {
            let frames = exchange(addr, c, Duration::from_secs(2));
            assert!(
                !frames.iter().any(|f| f.0 == HEADERS),
                "answered garbage: {frames:?}"
            );
        }
        still_serving(addr);
    }
    // HTTP/1 on `proto h2`: not HTTP/2, closed without a response.
    let frames = exchange(
        h.addr(1),
        b"GET / HTTP/1.1\r\nhost: a\r\n\r\n",
        Duration::from_secs(2),
    );
    assert!(!frames.iter().any(|f| f.0 == HEADERS), "{frames:?}");
    still_serving(h.addr(1));
}

#[test]
fn too_many_streams_are_refused_and_the_proxy_carries_on() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Delay(Duration::from_millis(500)))
        .start()
        .expect("up");
    let h = harness(&up);
    let mut req = hello();
    for i in 0..150u32 {
        req.extend(frame(HEADERS, 0x5, 2 * i + 1, &get_block()));
    }
    let frames = exchange(h.addr(0), &req, Duration::from_secs(3));
    let answered = frames.iter().filter(|f| f.0 == HEADERS).count();
    let refused = frames
        .iter()
        .filter(|f| (f.0 == RST_STREAM && f.2 == 7) || f.0 == GOAWAY)
        .count();
    assert!(answered <= 100, "{answered} streams answered (at most 100)");
    assert!(refused > 0, "nothing refused: {frames:?}");
    still_serving(h.addr(0));
}

#[test]
fn a_flood_of_reset_streams_does_not_take_the_proxy_down() {
    let up = FakeUpstream::builder("s1")
        .behavior(Behavior::Delay(Duration::from_millis(100)))
        .start()
        .expect("up");
    let h = harness(&up);
    let mut req = hello();
    for i in 0..2000u32 {
        let id = 2 * i + 1;
        req.extend(frame(HEADERS, 0x5, id, &get_block()));
        req.extend(frame(RST_STREAM, 0, id, &8u32.to_be_bytes()));
    }
    let frames = exchange(h.addr(0), &req, Duration::from_secs(3));
    // The codec's rapid-reset guard may end the connection; either way no
    // panic, and the next client is served.
    assert!(frames.iter().filter(|f| f.0 == HEADERS).count() < 2000);
    still_serving(h.addr(0));
}
