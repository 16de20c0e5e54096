//! A hostile or broken server cannot crash the proxy: mutated and truncated
//! responses (bit flips, cut heads, bogus chunk sizes, junk framing) each
//! get the client a response or a close, and never a panic anywhere in the
//! process.

mod common;

use std::io::{BufReader, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{raw, read_request_head, serve_each, Harness};
use rand::{Rng, SeedableRng};

const VALID: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: b\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nt: 1\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nx: y\r\n\r\nuntil close",
    b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nframes",
];

/// Serves, to each connection, the next answer from `answers`, then closes.
fn hostile_upstream(answers: Arc<Mutex<Vec<Vec<u8>>>>) -> SocketAddr {
    serve_each(move |s| {
        let answer = answers.lock().map(|mut a| a.pop()).ok().flatten();
        let mut w = s.try_clone().expect("clone");
        // The head, up to a malformed one; the answer goes out regardless.
        let _ = read_request_head(&mut BufReader::new(s));
        let _ = w.write_all(&answer.unwrap_or_default());
    })
}

fn mutate(rng: &mut rand::rngs::StdRng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    match rng.gen_range(0..5) {
        0 => v.truncate(rng.gen_range(0..=v.len())),
        1 => {
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..v.len());
                v[i] ^= 1 << rng.gen_range(0..8);
            }
        }
        2 => {
            let i = rng.gen_range(0..=v.len());
            let junk: Vec<u8> = (0..rng.gen_range(1..40)).map(|_| rng.gen()).collect();
            v.splice(i..i, junk);
        }
        3 => {
            // A framing header with a hostile value.
            let values: &[&[u8]] = &[
                b"content-length: 99999999999999999999999",
                b"content-length: -1",
                b"transfer-encoding: chunked, gzip",
                b"transfer-encoding: chunked\r\ncontent-length: 3",
            ];
            let h = values[rng.gen_range(0..values.len())];
            if let Some(i) = v.windows(2).position(|w| w == b"\r\n") {
                let mut ins = b"\r\n".to_vec();
                ins.extend_from_slice(h);
                v.splice(i..i, ins);
            }
        }
        _ => {
            // A chunk size nobody could send.
            v = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n".to_vec();
        }
    }
    v
}

#[test]
fn mutated_server_responses_never_panic_the_proxy() {
    let panics = Arc::new(AtomicUsize::new(0));
    {
        let p = panics.clone();
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            p.fetch_add(1, Ordering::SeqCst);
            prev(info);
        }));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5917);
    let cases = 300;
    let answers: Vec<Vec<u8>> = (0..cases)
        .map(|i| mutate(&mut rng, VALID[i % VALID.len()]))
        .collect();
    let queue = Arc::new(Mutex::new(answers));
    let up = hostile_upstream(queue.clone());
    let h = Harness::start(&format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 2s\n  timeout server 300ms\n  timeout tunnel 300ms\n\
         frontend fe\n  bind @BIND@\n  default_backend be\n\
         backend be\n  http-reuse never\n  server s1 {up}\n"
    ));
    for i in 0..cases {
        let out = raw(
            h.addr(0),
            b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
            Duration::from_secs(2),
        );
        // A response or a plain close; never a half-written head.
        assert!(
            out.is_empty() || out.starts_with(b"HTTP/1."),
            "case {i}: {:?}",
            String::from_utf8_lossy(&out)
        );
    }
    assert_eq!(panics.load(Ordering::SeqCst), 0, "a task panicked");
    // Still serving.
    queue
        .lock()
        .expect("queue")
        .push(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec());
    let out = raw(
        h.addr(0),
        b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        Duration::from_secs(2),
    );
    assert!(
        out.ends_with(b"\r\n\r\nok"),
        "{:?}",
        String::from_utf8_lossy(&out)
    );
}
