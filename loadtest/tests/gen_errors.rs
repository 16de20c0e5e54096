//! How `switchyard-load` counts failures: error kinds from misbehaving upstreams, and the
//! replay of a request whose reused keep-alive connection was closed under it (what
//! Go's client, and so hey, does) — counted, and an error with `--no-retry`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use switchyard_testkit::{parse_hey, Behavior, FakeUpstream};

const LOAD: &str = env!("CARGO_BIN_EXE_switchyard-load");

fn load(args: &[&str]) -> Output {
    Command::new(LOAD)
        .args(args)
        .output()
        .expect("switchyard-load runs")
}

fn report_json(dir: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn resets_and_junk_are_errors_of_their_kind() {
    let cases = [
        (Behavior::Reset, "reset", "read: connection reset by peer"),
        (
            Behavior::Junk,
            "protocol",
            "net/http: HTTP/1.x transport connection broken: ",
        ),
    ];
    for (behavior, kind, text) in cases {
        let up = FakeUpstream::builder("bad")
            .behavior(behavior.clone())
            .start()
            .expect("starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let out = load(&[
            "-n",
            "6",
            "-c",
            "2",
            "--report",
            &dir.path().display().to_string(),
            &up.url("/"),
        ]);
        assert!(out.status.success());
        let s = parse_hey(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(s.error_count(), 6, "{behavior:?}: {}", s.raw);
        assert!(
            s.errors.iter().all(|(_, e)| e.contains(text)),
            "{behavior:?}: {:?}",
            s.errors
        );
        let json = report_json(dir.path());
        assert_eq!(
            json["totals"]["errors_by_kind"][kind], 6,
            "{behavior:?}: {}",
            json["totals"]
        );
        assert_eq!(json["totals"]["failed"], 6);
    }
}

/// Answers the first request on each connection, then closes the connection when the
/// second arrives, without a word: the keep-alive race a proxy reload provokes.
struct OneShotServer {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl OneShotServer {
    fn start() -> OneShotServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(conn) = conn {
                    std::thread::spawn(move || serve_once(conn));
                }
            }
        });
        OneShotServer { port, stop }
    }
}

impl Drop for OneShotServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn read_head(reader: &mut BufReader<TcpStream>) -> bool {
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) if line == "\r\n" => return true,
            Ok(_) => {}
        }
    }
}

fn serve_once(conn: TcpStream) {
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    if !read_head(&mut reader) {
        return;
    }
    let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    // The second request gets no answer: the connection just closes.
    let _ = read_head(&mut reader);
}

#[test]
fn a_closed_keepalive_connection_is_replayed_like_go_unless_no_retry() {
    let server = OneShotServer::start();
    let url = format!("http://127.0.0.1:{}/", server.port);
    let dir = tempfile::tempdir().expect("tempdir");
    let report = dir.path().display().to_string();

    let out = load(&["-n", "10", "-c", "1", "--report", &report, &url]);
    let s = parse_hey(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(s.count(200), 10, "{}", s.raw);
    assert_eq!(s.error_count(), 0);
    // Every request after the first met a closed connection and was replayed.
    assert_eq!(report_json(dir.path())["totals"]["replayed"], 9);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: 9 requests failed on a reused"),
        "{stderr}"
    );

    let out = load(&["-n", "10", "-c", "1", "--no-retry", &url]);
    let s = parse_hey(&String::from_utf8_lossy(&out.stdout));
    assert_eq!((s.count(200), s.error_count()), (5, 5), "{}", s.raw);
    assert_eq!(s.errors, vec![(5, format!("Get \"{url}\": EOF"))]);
}
