//! A client for HAProxy's Runtime API (the "stats socket"), spoken exactly as the seeds'
//! `echo "cmd" | socat stdio tcp4-connect:127.0.0.1:9000` does: one connection per
//! command, the command line, a half-close, then the reply until the server closes.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(
        "invalid stats socket address {0:?} (want host:port, ipv4@host:port, unix@/path or /path)"
    )]
    BadAddress(String),
    #[error("stats socket {addr}: {source}")]
    Io {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("stats socket {addr}: no reply to {command:?} within {timeout:?}")]
    Timeout {
        addr: String,
        command: String,
        timeout: Duration,
    },
    #[error("{command:?} was refused: {reply}")]
    Refused { command: String, reply: String },
    #[error("`show stat` has no column {0:?}")]
    MissingColumn(String),
    #[error("{what} did not happen within {timeout:?} (last seen: {last})")]
    WaitTimeout {
        what: String,
        timeout: Duration,
        last: String,
    },
}

/// Where the Runtime API listens, in HAProxy's `stats socket` address forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiAddr {
    Tcp(String),
    Unix(PathBuf),
}

impl FromStr for ApiAddr {
    type Err = ApiError;

    fn from_str(s: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::BadAddress(s.to_owned());
        if let Some(path) = s.strip_prefix("unix@") {
            return (!path.is_empty())
                .then(|| ApiAddr::Unix(PathBuf::from(path)))
                .ok_or_else(bad);
        }
        let tcp = s
            .strip_prefix("ipv4@")
            .or_else(|| s.strip_prefix("ipv6@"))
            .or_else(|| s.strip_prefix("tcp4-connect:"))
            .or_else(|| s.strip_prefix("tcp-connect:"))
            .unwrap_or(s);
        if tcp.contains('/') {
            return Ok(ApiAddr::Unix(PathBuf::from(tcp)));
        }
        match tcp.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                Ok(ApiAddr::Tcp(tcp.to_owned()))
            }
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for ApiAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiAddr::Tcp(a) => write!(f, "{a}"),
            ApiAddr::Unix(p) => write!(f, "unix@{}", p.display()),
        }
    }
}

/// The parsed output of `show stat`: columns by name, one row per proxy/server.
#[derive(Debug, Clone, Default)]
pub struct StatTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl StatTable {
    pub fn parse(csv: &str) -> Self {
        let mut table = StatTable::default();
        for line in csv.lines() {
            if let Some(header) = line.strip_prefix("# ") {
                table.columns = header.split(',').map(str::to_owned).collect();
            } else if !line.trim().is_empty() {
                table
                    .rows
                    .push(line.split(',').map(str::to_owned).collect());
            }
        }
        table
    }

    fn column(&self, name: &str) -> Result<usize, ApiError> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| ApiError::MissingColumn(name.to_owned()))
    }

    /// The value of `column` in the row of `proxy`/`server` (`BACKEND` for a backend).
    pub fn get(&self, proxy: &str, server: &str, column: &str) -> Result<Option<&str>, ApiError> {
        let (px, sv, col) = (
            self.column("pxname")?,
            self.column("svname")?,
            self.column(column)?,
        );
        Ok(self
            .rows
            .iter()
            .find(|r| {
                r.get(px).map(String::as_str) == Some(proxy)
                    && r.get(sv).map(String::as_str) == Some(server)
            })
            .and_then(|r| r.get(col))
            .map(String::as_str))
    }
}

#[derive(Debug, Clone)]
pub struct RuntimeApi {
    addr: ApiAddr,
    timeout: Duration,
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    command: &str,
) -> std::io::Result<String> {
    stream.write_all(format!("{command}\n").as_bytes()).await?;
    stream.shutdown().await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

impl RuntimeApi {
    pub fn new(addr: ApiAddr, timeout: Duration) -> Self {
        RuntimeApi { addr, timeout }
    }

    pub fn addr(&self) -> &ApiAddr {
        &self.addr
    }

    /// Sends one command and returns the whole reply.
    pub async fn command(&self, command: &str) -> Result<String, ApiError> {
        let io_err = |source| ApiError::Io {
            addr: self.addr.to_string(),
            source,
        };
        let run = async {
            match &self.addr {
                ApiAddr::Tcp(a) => exchange(TcpStream::connect(a).await?, command).await,
                ApiAddr::Unix(p) => exchange(UnixStream::connect(p).await?, command).await,
            }
        };
        match tokio::time::timeout(self.timeout, run).await {
            Ok(reply) => reply.map_err(io_err),
            Err(_) => Err(ApiError::Timeout {
                addr: self.addr.to_string(),
                command: command.to_owned(),
                timeout: self.timeout,
            }),
        }
    }

    /// A command whose success is an empty reply (`set map`, `set server`, ...).
    pub async fn command_ok(&self, command: &str) -> Result<(), ApiError> {
        let reply = self.command(command).await?;
        let reply = reply.trim();
        if reply.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Refused {
                command: command.to_owned(),
                reply: reply.to_owned(),
            })
        }
    }

    pub async fn set_map(&self, map: &str, key: &str, value: &str) -> Result<(), ApiError> {
        self.command_ok(&format!("set map {map} {key} {value}"))
            .await
    }

    /// The value of `key` in `show map <map>` (lines `<ref> <key> <value>`).
    pub async fn map_value(&self, map: &str, key: &str) -> Result<Option<String>, ApiError> {
        let reply = self.command(&format!("show map {map}")).await?;
        for line in reply.lines() {
            let mut parts = line.splitn(3, ' ');
            if let (Some(_), Some(k), Some(v)) = (parts.next(), parts.next(), parts.next()) {
                if k == key {
                    return Ok(Some(v.trim().to_owned()));
                }
            }
        }
        if reply.lines().next().is_some_and(|l| !l.starts_with("0x")) {
            return Err(ApiError::Refused {
                command: format!("show map {map}"),
                reply: reply.trim().to_owned(),
            });
        }
        Ok(None)
    }

    pub async fn show_stat(&self) -> Result<StatTable, ApiError> {
        let reply = self.command("show stat").await?;
        let table = StatTable::parse(&reply);
        if table.columns.is_empty() {
            return Err(ApiError::Refused {
                command: "show stat".into(),
                reply: reply.trim().to_owned(),
            });
        }
        Ok(table)
    }

    /// Polls `show stat` until `proxy`/`server`'s `column` satisfies `ok`.
    pub async fn wait_for(
        &self,
        proxy: &str,
        server: &str,
        column: &str,
        what: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> Result<(), ApiError> {
        let start = Instant::now();
        loop {
            let last = match self.show_stat().await {
                Ok(table) => match table.get(proxy, server, column)? {
                    Some(value) if ok(value) => return Ok(()),
                    Some(value) => format!("{column}={value}"),
                    None => format!("no row {proxy}/{server}"),
                },
                Err(e) => e.to_string(),
            };
            if start.elapsed() >= timeout {
                return Err(ApiError::WaitTimeout {
                    what: what.to_owned(),
                    timeout,
                    last,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the server's status is `UP` (or `no check`: nothing to wait for).
    pub async fn wait_up(
        &self,
        proxy: &str,
        server: &str,
        timeout: Duration,
    ) -> Result<(), ApiError> {
        let what = format!("{proxy}/{server} UP");
        self.wait_for(proxy, server, "status", &what, timeout, |s| {
            s == "UP" || s == "no check"
        })
        .await
    }

    pub async fn wait_down(
        &self,
        proxy: &str,
        server: &str,
        timeout: Duration,
    ) -> Result<(), ApiError> {
        let what = format!("{proxy}/{server} DOWN");
        self.wait_for(proxy, server, "status", &what, timeout, |s| {
            s.starts_with("DOWN")
        })
        .await
    }

    pub async fn set_server_state(
        &self,
        proxy: &str,
        server: &str,
        state: &str,
    ) -> Result<(), ApiError> {
        self.command_ok(&format!("set server {proxy}/{server} state {state}"))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_forms() {
        assert_eq!(
            "127.0.0.1:9000".parse::<ApiAddr>().expect("ok"),
            ApiAddr::Tcp("127.0.0.1:9000".into())
        );
        assert_eq!(
            "ipv4@127.0.0.1:9000".parse::<ApiAddr>().expect("ok"),
            ApiAddr::Tcp("127.0.0.1:9000".into())
        );
        assert_eq!(
            "/run/haproxy/admin.sock".parse::<ApiAddr>().expect("ok"),
            ApiAddr::Unix("/run/haproxy/admin.sock".into())
        );
        assert_eq!(
            "unix@/tmp/s".parse::<ApiAddr>().expect("ok"),
            ApiAddr::Unix("/tmp/s".into())
        );
        for bad in ["", "9000", "host:", "unix@", "host:port"] {
            assert!(bad.parse::<ApiAddr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn stat_table_lookup() {
        let csv = "# pxname,svname,qcur,status\nfe,FRONTEND,,OPEN\nblue,blue1,0,UP\nblue,BACKEND,0,UP\ngreen,green1,0,DOWN\n\n";
        let t = StatTable::parse(csv);
        assert_eq!(t.get("blue", "blue1", "status").expect("cols"), Some("UP"));
        assert_eq!(
            t.get("green", "green1", "status").expect("cols"),
            Some("DOWN")
        );
        assert_eq!(t.get("red", "x", "status").expect("cols"), None);
        assert!(t.get("blue", "blue1", "nope").is_err());
    }
}
