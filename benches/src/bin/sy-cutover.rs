//! Cutover probe: keep-alive clients loop `GET /` through a proxy while the
//! map is flipped between two backends over the Runtime API (`set map`).
//! Reports, over all flips:
//! - failed requests (I/O errors, early closes, non-200 replies);
//! - stale requests: sent after `set map` returned (and answered before the
//!   next flip was written), answered by the old backend (must be 0: the
//!   very next request sees the change);
//! - the time from writing `set map` to the first response from the new
//!   backend (among requests sent after the command was written), and the
//!   command's own round trip.
//!
//! The backends are told apart by their response body (it must contain the
//! backend name, e.g. nginx `return 200 "blue\n"`).
//!
//! usage: sy-cutover --target H:P --stats H:P --map PATH [--key K]
//!        [--backends blue,green] [-c 200] [--flips 100] [--interval-ms 100]
//!        [--warmup-ms 500]
//! Prints a human summary and one `RESULT k=v ...` line.

use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_benches::http1::{cli_command, read_reply, send_get};

struct Opts {
    target: SocketAddr,
    stats: SocketAddr,
    map: String,
    key: String,
    backends: [String; 2],
    conns: usize,
    flips: usize,
    interval: Duration,
    warmup: Duration,
}

const OTHER: u8 = 2;
const FAILED: u8 = 3;

#[derive(Clone, Copy)]
struct Rec {
    sent: u64,
    done: u64,
    which: u8,
}

struct Flip {
    t0: u64,
    t1: u64,
    to: u8,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: sy-cutover --target H:P --stats H:P --map PATH [--key K] [--backends a,b] \
         [-c N] [--flips N] [--interval-ms N] [--warmup-ms N]"
    );
    ExitCode::from(2)
}

fn parse() -> Option<Opts> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num = |flag: &str, d: u64| get(flag).map(|v| v.parse::<u64>().ok()).unwrap_or(Some(d));
    let backends: Vec<String> = get("--backends")
        .unwrap_or_else(|| "blue,green".into())
        .split(',')
        .map(str::to_string)
        .collect();
    if backends.len() != 2 {
        return None;
    }
    Some(Opts {
        target: get("--target")?.parse().ok()?,
        stats: get("--stats")?.parse().ok()?,
        map: get("--map")?,
        key: get("--key").unwrap_or_else(|| "SIMPLE_SERVICE".into()),
        backends: [backends[0].clone(), backends[1].clone()],
        conns: num("-c", 200)? as usize,
        flips: num("--flips", 100)? as usize,
        interval: Duration::from_millis(num("--interval-ms", 100)?),
        warmup: Duration::from_millis(num("--warmup-ms", 500)?),
    })
}

fn classify(body: &[u8], backends: &[String; 2]) -> u8 {
    let text = String::from_utf8_lossy(body);
    // Test the longer name first so "green" is not mistaken for a prefix match.
    match (
        text.contains(backends[0].as_str()),
        text.contains(backends[1].as_str()),
    ) {
        (true, false) => 0,
        (false, true) => 1,
        _ => OTHER,
    }
}

fn worker(
    o: Arc<Opts>,
    start: Instant,
    stop: Arc<AtomicBool>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
) -> Vec<Rec> {
    let ns = |t: Instant| t.duration_since(start).as_nanos() as u64;
    let host = o.target.to_string();
    let mut recs = Vec::with_capacity(1 << 14);
    let mut conn: Option<(TcpStream, Vec<u8>)> = None;
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        let result = (|| -> std::io::Result<u8> {
            if conn.is_none() {
                let s = TcpStream::connect(o.target)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(Duration::from_secs(10)))?;
                conn = Some((s, Vec::new()));
            }
            let Some((s, buf)) = conn.as_mut() else {
                return Err(std::io::ErrorKind::NotConnected.into());
            };
            send_get(s, &host, "/")?;
            let r = read_reply(s, buf)?;
            if r.status != 200 {
                return Err(std::io::Error::other(format!("status {}", r.status)));
            }
            Ok(classify(&r.body, &o.backends))
        })();
        let which = match result {
            Ok(w) => w,
            Err(e) => {
                conn = None;
                if let Ok(mut v) = errors.lock() {
                    if v.len() < 5 {
                        v.push(e.to_string());
                    }
                }
                FAILED
            }
        };
        recs.push(Rec {
            sent: ns(sent),
            done: ns(Instant::now()),
            which,
        });
    }
    recs
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> ExitCode {
    let Some(o) = parse() else { return usage() };
    let o = Arc::new(o);
    let set = |to: usize| {
        let cmd = format!("set map {} {} {}", o.map, o.key, o.backends[to]);
        cli_command(o.stats, &cmd)
    };
    match set(0) {
        Ok(r) if r.trim().is_empty() => {}
        Ok(r) => {
            eprintln!("sy-cutover: set map refused: {}", r.trim());
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("sy-cutover: stats socket {}: {e}", o.stats);
            return ExitCode::FAILURE;
        }
    }
    let start = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..o.conns)
        .map(|_| {
            let (o, stop, errors) = (o.clone(), stop.clone(), errors.clone());
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || worker(o, start, stop, errors))
        })
        .collect();
    std::thread::sleep(o.warmup);
    let ns = |t: Instant| t.duration_since(start).as_nanos() as u64;
    let mut flips = Vec::with_capacity(o.flips);
    let mut cli_errors = 0usize;
    for i in 0..o.flips {
        let to = (i + 1) % 2;
        let t0 = Instant::now();
        let reply = set(to);
        let t1 = Instant::now();
        match reply {
            Ok(r) if r.trim().is_empty() => flips.push(Flip {
                t0: ns(t0),
                t1: ns(t1),
                to: to as u8,
            }),
            Ok(r) => {
                cli_errors += 1;
                eprintln!("sy-cutover: set map replied: {}", r.trim());
            }
            Err(e) => {
                cli_errors += 1;
                eprintln!("sy-cutover: set map failed: {e}");
            }
        }
        std::thread::sleep(o.interval);
    }
    let end = ns(Instant::now());
    stop.store(true, Ordering::Relaxed);
    let mut recs = Vec::new();
    let mut thread_errors = 0usize;
    for h in handles {
        match h.map(|h| h.join()) {
            Ok(Ok(r)) => recs.extend(r),
            _ => thread_errors += 1,
        }
    }
    // Leave the map as we found it (the first backend).
    let _ = set(0);
    report(&o, &recs, &flips, end, cli_errors + thread_errors, &errors);
    ExitCode::SUCCESS
}

fn report(
    o: &Opts,
    recs: &[Rec],
    flips: &[Flip],
    end: u64,
    errs: usize,
    errors: &std::sync::Mutex<Vec<String>>,
) {
    let failed = recs.iter().filter(|r| r.which == FAILED).count();
    let other = recs.iter().filter(|r| r.which == OTHER).count();
    let debug = std::env::var_os("SY_CUTOVER_DEBUG").is_some();
    let mut stale = 0usize;
    let mut missing = 0usize;
    let (mut rtt, mut first_new, mut first_after_return) = (Vec::new(), Vec::new(), Vec::new());
    for (i, f) in flips.iter().enumerate() {
        let win_end = flips.get(i + 1).map(|n| n.t0).unwrap_or(end);
        let from = 1 - f.to;
        rtt.push((f.t1 - f.t0) as f64 / 1e6);
        // Sent after this `set map` returned and answered before the next
        // one was written: must be the new backend. (A request still open
        // when the next flip is written may rightly see either.)
        let stale_here: Vec<&Rec> = recs
            .iter()
            .filter(|r| r.which == from && r.sent >= f.t1 && r.done < win_end)
            .collect();
        if debug && !stale_here.is_empty() {
            let late: Vec<String> = stale_here
                .iter()
                .take(8)
                .map(|r| {
                    format!(
                        "+{:.3}/{:.3}",
                        (r.sent - f.t1) as f64 / 1e6,
                        (r.done - f.t1) as f64 / 1e6
                    )
                })
                .collect();
            eprintln!(
                "flip {i}: {} stale, sent/done ms after set map returned: {}",
                stale_here.len(),
                late.join(" ")
            );
        }
        stale += stale_here.len();
        let new_after = |t: u64| {
            recs.iter()
                .filter(|r| r.which == f.to && r.sent >= t && r.sent < win_end)
                .map(|r| r.done)
                .min()
        };
        match new_after(f.t0) {
            Some(d) => first_new.push((d - f.t0) as f64 / 1e6),
            None => missing += 1,
        }
        if let Some(d) = new_after(f.t1) {
            first_after_return.push((d - f.t1) as f64 / 1e6);
        }
    }
    for v in [&mut rtt, &mut first_new, &mut first_after_return] {
        v.sort_by(|a, b| a.total_cmp(b));
    }
    let secs = end as f64 / 1e9;
    println!(
        "requests {} over {:.1}s ({:.0}/s) on {} connections",
        recs.len(),
        secs,
        recs.len() as f64 / secs,
        o.conns
    );
    println!("failed {failed}, unrecognised bodies {other}, probe errors {errs}");
    if let Ok(v) = errors.lock() {
        for e in v.iter() {
            println!("  e.g. {e}");
        }
    }
    println!(
        "flips {} (every {:?}), stale after set map returned: {stale}",
        flips.len(),
        o.interval
    );
    println!(
        "set map round trip ms: p50 {:.3} max {:.3}",
        pct(&rtt, 0.5),
        pct(&rtt, 1.0)
    );
    println!(
        "set map written -> first new-backend response ms: p50 {:.3} p99 {:.3} max {:.3} (flips with none: {missing})",
        pct(&first_new, 0.5),
        pct(&first_new, 0.99),
        pct(&first_new, 1.0)
    );
    println!(
        "set map returned -> first new-backend response ms: p50 {:.3} max {:.3}",
        pct(&first_after_return, 0.5),
        pct(&first_after_return, 1.0)
    );
    println!(
        "RESULT conns={} requests={} failed={failed} other={other} probe_errors={errs} flips={} stale={stale} \
         missing_new={missing} rtt_p50_ms={:.3} first_new_p50_ms={:.3} first_new_p99_ms={:.3} first_new_max_ms={:.3}",
        o.conns,
        recs.len(),
        flips.len(),
        pct(&rtt, 0.5),
        pct(&first_new, 0.5),
        pct(&first_new, 0.99),
        pct(&first_new, 1.0)
    );
}
