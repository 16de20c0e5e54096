//! Helpers shared by the health integration tests: stores built from config
//! text, the checker on its own thread, HAProxy-style status strings,
//! captured event lines, and tiny loopback servers.
#![allow(dead_code)]

pub mod dns_server;
pub mod servers;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use switchyard_config::LogLevel;
use switchyard_state::{OpState, ProxyIdx, ServerIdx, ServerRt, Store};

/// Parse `text` and build a store (literal IPs only; names resolve to
/// nothing, so `init-addr none` servers wait for DNS).
pub fn store_from(text: &str) -> Arc<Store> {
    let cfg = match switchyard_config::parse_str("test.cfg", text) {
        Ok(c) => c,
        Err(e) => panic!("config does not parse: {e:?}\n{text}"),
    };
    let snap = match switchyard_state::build(Arc::new(cfg), None, &|_| None) {
        Ok(s) => s,
        Err(e) => panic!("snapshot does not build: {e}"),
    };
    Arc::new(Store::new(snap))
}

pub fn idx(store: &Store, be: &str, sv: &str) -> (ProxyIdx, ServerIdx) {
    store
        .load()
        .find_server(be, sv)
        .unwrap_or_else(|| panic!("no server {be}/{sv}"))
}

pub fn with_server<T>(store: &Store, be: &str, sv: &str, f: impl FnOnce(&ServerRt) -> T) -> T {
    let snap = store.load();
    let (p, s) = snap
        .find_server(be, sv)
        .unwrap_or_else(|| panic!("no server {be}/{sv}"));
    f(snap
        .server(p, s)
        .unwrap_or_else(|| panic!("no server {be}/{sv}")))
}

/// The `status` column as HAProxy 2.6 computes it (reference §2.4); the
/// admin crate owns the production version.
pub fn status_of(sv: &ServerRt) -> String {
    if sv.admin.is_maint() {
        return if sv.admin.has(switchyard_state::AdminState::RMAINT) {
            "MAINT (resolution)".into()
        } else {
            "MAINT".into()
        };
    }
    let live = &sv.live;
    let (rise, fall) = (sv.cfg.rise.max(1), sv.cfg.fall.max(1));
    let max = rise + fall - 1;
    let health = live.health.load(Relaxed);
    let checked = sv.cfg.check && live.checks_enabled.load(Relaxed);
    let frac = |word: &str| {
        if !checked || health >= max {
            word.to_string()
        } else {
            // As `show stat` renders it: a reading taken between the
            // health drop and the state change (health below `rise` while
            // still up) shows as the step before it.
            format!("{word} {}/{fall}", health.saturating_sub(rise) + 1)
        }
    };
    match live.op_state() {
        OpState::Running | OpState::Starting => {
            if !checked {
                if sv.admin.is_drain() {
                    "DRAIN".into()
                } else {
                    "no check".into()
                }
            } else if sv.admin.is_drain() {
                frac("DRAIN")
            } else {
                frac("UP")
            }
        }
        OpState::Stopping => frac("NOLB"),
        OpState::Stopped => {
            if !checked || health == 0 {
                "DOWN".into()
            } else {
                format!("DOWN {health}/{rise}")
            }
        }
    }
}

pub fn status(store: &Store, be: &str, sv: &str) -> String {
    with_server(store, be, sv, status_of)
}

/// The checker on its own current-thread runtime, as the binary runs it.
pub struct Checker {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checker {
    pub fn start(store: Arc<Store>) -> Checker {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let h = switchyard_health::start(store);
                let _ = rx.await;
                h.shutdown().await;
            });
        });
        Checker {
            stop: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Records the distinct successive statuses of one server, polled every
/// 10 ms on a thread.
pub struct StatusRecorder {
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StatusRecorder {
    pub fn start(store: Arc<Store>, be: &str, sv: &str) -> StatusRecorder {
        // The first sample is taken now, before any check can run.
        let seen = Arc::new(Mutex::new(vec![status(&store, be, sv)]));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (be, sv) = (be.to_string(), sv.to_string());
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Relaxed) {
                let st = status(&store, &be, &sv);
                let mut v = seen2.lock().unwrap_or_else(|p| p.into_inner());
                if v.last() != Some(&st) {
                    v.push(st);
                }
                drop(v);
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        StatusRecorder {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Wait until the sequence ends with `last`; return the sequence.
    pub fn wait_for(&self, last: &str, timeout: Duration) -> Vec<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let s = self.seen();
            if s.last().map(String::as_str) == Some(last) {
                return s;
            }
            if std::time::Instant::now() > deadline {
                panic!("status never became {last:?}; saw {s:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn clear(&self) {
        let mut v = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let last = v.pop();
        v.clear();
        v.extend(last);
    }
}

impl Drop for StatusRecorder {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn log_store() -> &'static Mutex<Vec<(LogLevel, String)>> {
    static LINES: OnceLock<Mutex<Vec<(LogLevel, String)>>> = OnceLock::new();
    LINES.get_or_init(|| {
        switchyard_state::events::set_sink(|level, msg| {
            log_store()
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((level, msg.to_string()));
        });
        Mutex::new(Vec::new())
    })
}

/// Start capturing event lines (idempotent).
pub fn capture_logs() {
    let _ = log_store();
}

/// Captured log lines containing `needle` (each test uses its own backend
/// names, so tests running in parallel do not see each other's lines).
pub fn logs_with(needle: &str) -> Vec<String> {
    log_store()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|(_, m)| m.contains(needle))
        .map(|(_, m)| m.clone())
        .collect()
}

/// Like [`logs_with`] with the log level.
pub fn logs_with_level(needle: &str) -> Vec<(LogLevel, String)> {
    log_store()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|(_, m)| m.contains(needle))
        .cloned()
        .collect()
}

/// Poll `f` every 10 ms until it is true or `timeout` passes.
pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !f() {
        if std::time::Instant::now() > deadline {
            panic!("timed out waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
