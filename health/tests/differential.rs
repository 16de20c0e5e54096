//! Differential test: real HAProxy 2.6 and switchyard's checker watch the
//! same upstream while it goes down, comes back, fails with 503 and stops;
//! the sequences of distinct statuses (HAProxy's `show stat` status column
//! vs. ours from `ServerLive`) and the settled check columns must match.

mod common;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{status, store_from, wait_until, with_server, Checker, StatusRecorder};
use switchyard_testkit::{haproxy_available, try_cli, FakeUpstream, Proxy};

const T: Duration = Duration::from_secs(15);

/// `(status, check_status, check_code, last_chk)` of `be/sv` from `show stat`.
fn haproxy_row(sock: &str, be: &str, sv: &str) -> Option<(String, String, String, String)> {
    let out = try_cli(sock, "show stat").ok()?;
    out.lines().find_map(|l| {
        let f: Vec<&str> = l.split(',').collect();
        (f.len() > 56 && f[0] == be && f[1] == sv).then(|| {
            (
                f[17].to_string(),
                f[36].trim_start_matches("* ").to_string(),
                f[37].to_string(),
                f[56].to_string(),
            )
        })
    })
}

/// Polls HAProxy's status column and keeps the distinct successive values.
struct HaproxyRecorder {
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HaproxyRecorder {
    fn start(sock: String, be: &'static str, sv: &'static str) -> HaproxyRecorder {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Relaxed) {
                if let Some((st, ..)) = haproxy_row(&sock, be, sv) {
                    let mut v = seen2.lock().unwrap_or_else(|p| p.into_inner());
                    if v.last() != Some(&st) {
                        v.push(st);
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        HaproxyRecorder {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for HaproxyRecorder {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// From the first `DOWN` on (both start `UP 1/2` for an instant that a
/// poller may or may not catch).
fn from_first_down(v: &[String]) -> Vec<String> {
    v.iter().skip_while(|s| *s != "DOWN").cloned().collect()
}

#[test]
fn same_status_sequence_as_haproxy() {
    if !haproxy_available() {
        eprintln!("haproxy not installed; skipping");
        return;
    }
    common::capture_logs();
    let mut up = FakeUpstream::start("df_green");
    let port = up.port();
    up.stop();
    let body = format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         backend df_be\n    option httpchk GET /health\n    server green 127.0.0.1:{port} check inter 1s rise 2 fall 2\n"
    );
    let hap = Proxy::haproxy(
        &format!("global\n    stats socket @DIR@/h.sock level admin\n{body}"),
        &[],
    )
    .expect("haproxy");
    let sock = format!("unix@{}/h.sock", hap.dir().display());
    let store = store_from(&body);
    let ours = StatusRecorder::start(store.clone(), "df_be", "green");
    let _checker = Checker::start(store.clone());
    wait_until("haproxy CLI", T, || {
        haproxy_row(&sock, "df_be", "green").is_some()
    });
    let theirs = HaproxyRecorder::start(sock.clone(), "df_be", "green");

    let settle = |want: &str| {
        wait_until(&format!("both {want}"), T, || {
            status(&store, "df_be", "green") == want
                && haproxy_row(&sock, "df_be", "green").is_some_and(|r| r.0 == want)
        });
        // same check columns once settled
        let h = haproxy_row(&sock, "df_be", "green").expect("row");
        let o = with_server(&store, "df_be", "green", |s| {
            let code = s.live.check_code.load(Relaxed);
            (
                s.live.check_status().name().to_string(),
                if code == 0 {
                    String::new()
                } else {
                    code.to_string()
                },
                s.live
                    .last_check_text
                    .load()
                    .as_deref()
                    .cloned()
                    .unwrap_or_default(),
            )
        });
        assert_eq!((h.1, h.2, h.3), o, "check columns when {want}");
    };
    settle("DOWN");
    up.restart();
    settle("UP");
    up.set_healthy(false);
    settle("DOWN");
    up.set_healthy(true);
    settle("UP");
    up.stop();
    settle("DOWN");
    std::thread::sleep(Duration::from_millis(200));

    let (o, h) = (
        from_first_down(&ours.seen()),
        from_first_down(&theirs.seen()),
    );
    let expected = [
        "DOWN", "DOWN 1/2", "UP", "UP 1/2", "DOWN", "DOWN 1/2", "UP", "UP 1/2", "DOWN",
    ];
    assert_eq!(h, expected, "haproxy");
    assert_eq!(o, h, "ours vs haproxy");
    assert_eq!(
        ours.seen().first().map(String::as_str),
        Some("UP 1/2"),
        "a checked server starts UP 1/2"
    );
}
