//! The set of proxies one command acts on (`--socket`, repeatable), and the queries
//! every command shares. Targets are handled in the order given, one at a time.

use crate::error::CtlError;
use crate::parse::{parse_servers_conn, parse_show_map, parse_show_stat, StatRow};
use crate::runtime::{command, Client};
use crate::target::Target;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Fleet {
    clients: Vec<Client>,
}

impl Fleet {
    pub fn new(targets: &[Target], io_timeout: Duration) -> Result<Fleet, CtlError> {
        if targets.is_empty() {
            return Err(CtlError::Usage(
                "no target: give at least one --socket <path|host:port>".into(),
            ));
        }
        let mut seen = Vec::new();
        for t in targets {
            if seen.contains(&t) {
                return Err(CtlError::Usage(format!("--socket {t} is given twice")));
            }
            seen.push(t);
        }
        Ok(Fleet {
            clients: targets
                .iter()
                .map(|t| Client::new(t.clone(), io_timeout))
                .collect(),
        })
    }

    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

fn usage(e: String) -> CtlError {
    CtlError::Usage(e)
}

/// Every row of `show stat`.
pub fn show_stat(client: &Client) -> Result<Vec<StatRow>, CtlError> {
    let cmd = "show stat";
    let reply = client.send(cmd)?;
    parse_show_stat(&reply).map_err(|_| client.refusal(cmd, &reply))
}

/// The server rows of one backend: `show stat <backend> 4 -1`. The filter needs all
/// three arguments (with fewer, 2.6 silently dumps everything).
pub fn server_rows(client: &Client, backend: &str) -> Result<Vec<StatRow>, CtlError> {
    let cmd = format!("{} 4 -1", command("show stat", &[backend]).map_err(usage)?);
    let reply = client.send(&cmd)?;
    let rows = parse_show_stat(&reply).map_err(|_| client.refusal(&cmd, &reply))?;
    // A filter by name is exact in HAProxy; keep only what we asked for in case a
    // proxy answers more.
    Ok(rows
        .into_iter()
        .filter(|r| r.is_server() && r.proxy == backend)
        .collect())
}

/// Connections still in flight on `backend` (or on one of its servers): per server the
/// higher of `scur` (show stat) and `used_cur` (show servers conn), plus queued requests.
pub fn in_flight(client: &Client, backend: &str, server: Option<&str>) -> Result<u64, CtlError> {
    let cmd = format!("{} 6 -1", command("show stat", &[backend]).map_err(usage)?);
    let reply = client.send(&cmd)?;
    let rows = parse_show_stat(&reply).map_err(|_| client.refusal(&cmd, &reply))?;
    let conn_cmd = command("show servers conn", &[backend]).map_err(usage)?;
    let conn_reply = client.send(&conn_cmd)?;
    let conns =
        parse_servers_conn(&conn_reply).map_err(|_| client.refusal(&conn_cmd, &conn_reply))?;
    let wanted = |name: &str| server.is_none_or(|s| s == name);
    let mut total = 0;
    let mut found = false;
    for row in rows.iter().filter(|r| r.proxy == backend) {
        if row.is_server() && wanted(&row.name) {
            found = true;
            let used = conns
                .iter()
                .find(|c| c.backend == backend && c.server == row.name)
                .map_or(0, |c| c.used_cur);
            total += row.in_flight().max(used + row.qcur.unwrap_or(0));
        } else if !row.is_server() && server.is_none() {
            // Requests queued on the backend itself (no server chosen yet).
            total += row.qcur.unwrap_or(0);
        }
    }
    if let (Some(s), false) = (server, found) {
        return Err(client.refusal(&cmd, &format!("No such server. ({backend}/{s})")));
    }
    Ok(total)
}

/// Every value `key` has in `map` (HAProxy keeps duplicates; `set map` sets them all).
/// An empty list means the key is absent.
pub fn map_values(client: &Client, map: &str, key: &str) -> Result<Vec<String>, CtlError> {
    let cmd = command("show map", &[map]).map_err(usage)?;
    let reply = client.send(&cmd)?;
    let entries = parse_show_map(&reply).map_err(|_| client.refusal(&cmd, &reply))?;
    Ok(entries
        .into_iter()
        .filter(|e| e.key == key)
        .map(|e| e.value)
        .collect())
}

/// The single current value of `key`, or a precondition error when it is absent.
pub fn map_value(client: &Client, map: &str, key: &str) -> Result<String, CtlError> {
    let values = map_values(client, map, key)?;
    match values.first() {
        Some(v) => Ok(v.clone()),
        None => Err(CtlError::Precondition(format!(
            "{}: map {map} has no key {key:?} (add it to the map file, or with `add map`)",
            client.target()
        ))),
    }
}

/// `set map <map> <key> <value>`; success is an empty reply.
pub fn set_map(client: &Client, map: &str, key: &str, value: &str) -> Result<(), CtlError> {
    let cmd = command("set map", &[map, key, value]).map_err(usage)?;
    client.set(&cmd)
}

/// `set server <backend>/<server> state <state>`.
pub fn set_server_state(client: &Client, server: &str, state: &str) -> Result<(), CtlError> {
    let cmd = command("set server", &[server]).map_err(usage)? + " state " + state;
    client.set(&cmd)
}
