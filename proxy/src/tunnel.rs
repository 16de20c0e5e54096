//! Upgraded connections (`101 Switching Protocols`, e.g. WebSocket): after
//! the 101 the two sides exchange raw bytes until either closes or the
//! tunnel stays idle for `timeout tunnel`.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::h1::{ClientRead, Reader};
use crate::kill::{killed, KillWatch};
use crate::upstream::{Conn, UpIo};

/// Bytes moved each way, and the termination code when the tunnel was
/// killed (`shutdown sessions server`, server marked down).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Moved {
    pub(crate) to_client: u64,
    pub(crate) to_server: u64,
    pub(crate) term: Option<[u8; 2]>,
}

/// Relay between the client connection and the upgraded server connection.
pub(crate) async fn relay<R, W>(
    reader: &mut Reader<R>,
    wr: &mut W,
    up: Conn,
    idle: Option<Duration>,
    kill: Option<&KillWatch>,
) -> Moved
where
    R: ClientRead,
    W: AsyncWrite + Unpin,
{
    let (io, early) = up.rd.into_parts();
    match io {
        UpIo::Plain(s) => {
            let (ur, uw) = s.into_split();
            relay_io(reader, wr, ur, uw, early, idle, kill).await
        }
        UpIo::Tls(t) => {
            let (ur, uw) = tokio::io::split(t.stream);
            relay_io(reader, wr, ur, uw, early, idle, kill).await
        }
    }
}

async fn relay_io<R, W, UR, UW>(
    reader: &mut Reader<R>,
    wr: &mut W,
    mut ur: UR,
    mut uw: UW,
    early: bytes::BytesMut,
    idle: Option<Duration>,
    kill: Option<&KillWatch>,
) -> Moved
where
    R: ClientRead,
    W: AsyncWrite + Unpin,
    UR: AsyncRead + Unpin,
    UW: AsyncWrite + Unpin,
{
    let mut moved = Moved::default();
    // What the server sent right behind its 101 goes first.
    if !early.is_empty() {
        if wr.write_all(&early).await.is_err() {
            return moved;
        }
        moved.to_client += early.len() as u64;
    }
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Bytes the client already sent after its request head go first.
        if !reader.buf.is_empty() {
            let chunk = reader.buf.split();
            if uw.write_all(&chunk).await.is_err() {
                break;
            }
            moved.to_server += chunk.len() as u64;
            continue;
        }
        let step = async {
            tokio::select! {
                r = reader.fill() => match r {
                    Ok(0) | Err(_) => Step::Done,
                    Ok(_) => Step::Again,
                },
                r = ur.read(&mut buf) => match r {
                    Ok(0) | Err(_) => Step::Done,
                    Ok(n) => Step::ToClient(n),
                },
            }
        };
        let timed = async {
            match idle {
                Some(t) => crate::timing::timeout(t, step).await.unwrap_or(Step::Done),
                None => step.await,
            }
        };
        let s = tokio::select! {
            s = timed => s,
            k = killed(kill) => {
                moved.term = Some([k.code(), b'D']);
                Step::Done
            }
        };
        match s {
            Step::Done => break,
            Step::Again => {}
            Step::ToClient(n) => {
                if wr.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                moved.to_client += n as u64;
            }
        }
    }
    let _ = uw.shutdown().await;
    let _ = wr.shutdown().await;
    moved
}

enum Step {
    Done,
    Again,
    ToClient(usize),
}
