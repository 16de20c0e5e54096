//! Relaying a TCP-mode stream's bytes both ways with HAProxy's timeout
//! semantics:
//! - each side has an inactivity timeout (`timeout client` for the client,
//!   `timeout server` for the server, both replaced by the backend's
//!   `timeout tunnel` when set); reading from a side or writing to it is
//!   activity on that side (HAProxy refreshes a side's read timeout on
//!   writes to it unless `option independent-streams`);
//! - a side that times out or closes is half-closed: its peer gets a FIN
//!   and the other direction carries on (so a silent server with `timeout
//!   server 3s` and `timeout client 4s` ends at 4 s with `sD`);
//! - a read or write error (reset, broken pipe) aborts the whole stream;
//! - the first abnormal event names the termination state: `cD`/`sD`
//!   (timeouts), `CD`/`SD` (aborts), `K-`/`D-` (killed).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant as TokioInstant;

use crate::kill::KillWatch;

const BUF: usize = 16 * 1024;

/// Byte counts and how the stream ended.
#[derive(Debug, Clone, Copy)]
pub(super) struct Relayed {
    pub(super) from_client: u64,
    pub(super) to_client: u64,
    /// `--` for a clean end.
    pub(super) term: [u8; 2],
}

/// One side's inactivity clock: milliseconds since the stream's base
/// instant at its last activity. Whole milliseconds, like HAProxy's ticks,
/// so two sides active in the same millisecond expire together (and the
/// client side is then reported first, as HAProxy checks it first).
struct Activity {
    base: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new(base: Instant) -> Activity {
        Activity {
            base,
            last_ms: AtomicU64::new(base.elapsed().as_millis() as u64),
        }
    }

    fn touch(&self) {
        self.last_ms
            .store(self.base.elapsed().as_millis() as u64, Relaxed);
    }

    fn deadline(&self, t: Duration) -> TokioInstant {
        let at = self.base + Duration::from_millis(self.last_ms.load(Relaxed)) + t;
        TokioInstant::from_std(at)
    }
}

/// How one direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The source closed; the destination got a FIN.
    Eof,
    /// The source was inactive for its timeout; the destination got a FIN.
    Timeout,
    /// Reading the source failed (reset).
    ReadErr,
    /// Writing the destination failed.
    WriteErr,
    /// The destination did not take data within its timeout.
    WriteTimeout,
}

/// Read into `buf` unless the side stays inactive for `t` (its clock may be
/// pushed back by the other direction meanwhile). `None` on timeout.
async fn read_timed<R: AsyncRead + Unpin>(
    from: &mut R,
    buf: &mut [u8],
    act: &Activity,
    t: Option<Duration>,
) -> Option<std::io::Result<usize>> {
    let Some(t) = t else {
        return Some(from.read(buf).await);
    };
    loop {
        let deadline = act.deadline(t);
        // `read` is cancel-safe: nothing is lost when the sleep wins.
        tokio::select! {
            r = from.read(buf) => return Some(r),
            _ = tokio::time::sleep_until(deadline) => {
                if act.deadline(t) <= deadline {
                    return None;
                }
            }
        }
    }
}

/// Copy `from` to `to` until the source ends.
async fn pump<R, W>(
    mut from: R,
    mut to: W,
    src: &Activity,
    src_t: Option<Duration>,
    dst: &Activity,
    dst_t: Option<Duration>,
    count: &AtomicU64,
) -> End
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUF];
    loop {
        let n = match read_timed(&mut from, &mut buf, src, src_t).await {
            None => {
                let _ = to.shutdown().await;
                return End::Timeout;
            }
            Some(Ok(0)) => {
                let _ = to.shutdown().await;
                return End::Eof;
            }
            Some(Ok(n)) => n,
            Some(Err(_)) => return End::ReadErr,
        };
        src.touch();
        count.fetch_add(n as u64, Relaxed);
        let write = to.write_all(&buf[..n]);
        let written = match dst_t {
            Some(t) => match crate::timing::timeout(t, write).await {
                Ok(r) => r,
                Err(_) => return End::WriteTimeout,
            },
            None => write.await,
        };
        if written.is_err() {
            return End::WriteErr;
        }
        dst.touch();
    }
}

/// Termination state for an end of the client-to-server direction (`cs`)
/// or the server-to-client one, and whether it aborts the stream.
fn classify(end: End, client_to_server: bool) -> (Option<[u8; 2]>, bool) {
    let (mine_to, mine_err, peer_to, peer_err) = if client_to_server {
        (*b"cD", *b"CD", *b"sD", *b"SD")
    } else {
        (*b"sD", *b"SD", *b"cD", *b"CD")
    };
    match end {
        End::Eof => (None, false),
        End::Timeout => (Some(mine_to), false),
        End::ReadErr => (Some(mine_err), true),
        End::WriteErr => (Some(peer_err), true),
        End::WriteTimeout => (Some(peer_to), true),
    }
}

/// Relay between the client halves and the server connection until both
/// directions ended, an abort, a kill, or `hard` resolves (hard stop).
#[allow(clippy::too_many_arguments)]
pub(super) async fn relay<CR, CW, SR, SW>(
    client_rd: CR,
    client_wr: CW,
    server_rd: SR,
    server_wr: SW,
    t_client: Option<Duration>,
    t_server: Option<Duration>,
    kill: &KillWatch,
    hard: impl Future<Output = ()>,
) -> Relayed
where
    CR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
    SR: AsyncRead + Unpin,
    SW: AsyncWrite + Unpin,
{
    let base = Instant::now();
    let client = Activity::new(base);
    let server = Activity::new(base);
    let from_client = AtomicU64::new(0);
    let to_client = AtomicU64::new(0);
    let c2s = pump(
        client_rd,
        server_wr,
        &client,
        t_client,
        &server,
        t_server,
        &from_client,
    );
    let s2c = pump(
        server_rd, client_wr, &server, t_server, &client, t_client, &to_client,
    );
    tokio::pin!(c2s, s2c, hard);
    let kill = kill.killed();
    tokio::pin!(kill);
    let mut term: Option<[u8; 2]> = None;
    let (mut c_done, mut s_done) = (false, false);
    while !(c_done && s_done) {
        let (t, abort) = tokio::select! {
            biased;
            e = &mut c2s, if !c_done => {
                c_done = true;
                classify(e, true)
            }
            e = &mut s2c, if !s_done => {
                s_done = true;
                let (mut t, abort) = classify(e, false);
                // Both sides idle since the same moment expire together in
                // HAProxy (its clock ticks in whole milliseconds per loop),
                // and it reports the client side first.
                let now = crate::timing::deadline(Duration::from_millis(1));
                if e == End::Timeout && t_client.is_some_and(|tc| client.deadline(tc) <= now) {
                    t = Some(*b"cD");
                }
                (t, abort)
            }
            k = &mut kill => (Some([k.code(), b'-']), true),
            _ = &mut hard => (Some(*b"K-"), true),
        };
        if term.is_none() {
            term = t;
        }
        if abort {
            break;
        }
    }
    Relayed {
        from_client: from_client.load(Relaxed),
        to_client: to_client.load(Relaxed),
        term: term.unwrap_or(*b"--"),
    }
}
