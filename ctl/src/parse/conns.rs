//! `show servers conn [<backend>]`: a space-separated table whose header names the
//! columns (`# bkname/svname bkid/svid addr port - purge_delay used_cur …`). In 2.6
//! `used_cur` is field 7 (the seed scripts' `cut -f 7`); 3.3+ inserts `served` before
//! it, so the column is found by name.

use serde::Serialize;

/// Connections in use on one server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerConns {
    pub backend: String,
    pub server: String,
    pub used_cur: u64,
}

pub fn parse_servers_conn(reply: &str) -> Result<Vec<ServerConns>, String> {
    let mut lines = reply.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("empty reply")?;
    let Some(names) = header.strip_prefix('#') else {
        return Err(header.trim().to_owned());
    };
    let names: Vec<&str> = names.split_whitespace().collect();
    let used = names
        .iter()
        .position(|n| *n == "used_cur")
        .ok_or("show servers conn header has no `used_cur` column")?;
    let id = names
        .iter()
        .position(|n| *n == "bkname/svname")
        .ok_or("show servers conn header has no `bkname/svname` column")?;
    let mut out = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(name), Some(count)) = (fields.get(id), fields.get(used)) else {
            return Err(format!("short show servers conn line: {line:?}"));
        };
        let (backend, server) = name
            .split_once('/')
            .ok_or_else(|| format!("bad backend/server {name:?}"))?;
        let used_cur = count
            .parse()
            .map_err(|_| format!("bad used_cur {count:?} in {line:?}"))?;
        out.push(ServerConns {
            backend: backend.to_owned(),
            server: server.to_owned(),
            used_cur,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_used_cur_by_name() {
        let v26 = "# bkname/svname bkid/svid addr port - purge_delay used_cur used_max need_est unsafe_nb safe_nb idle_lim idle_cur idle_per_thr[2]\n\
                   be_green/g1 4/1 127.0.0.1 18102 - 5000 3 4 4 1 0 -1 1 0 1\n\
                   be_green/g2 4/2 127.0.0.1 18103 - 5000 0 4 4 1 0 -1 1 0 1\n\n";
        let rows = parse_servers_conn(v26).expect("parses");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].server, "g1");
        assert_eq!(rows[0].used_cur, 3);
        assert_eq!(rows[1].used_cur, 0);
        let v33 = "# bkname/svname bkid/svid addr port - purge_delay served used_cur used_max\nb/s 1/1 ::1 80 - 5000 9 2 4\n";
        assert_eq!(parse_servers_conn(v33).expect("parses")[0].used_cur, 2);
    }

    #[test]
    fn error_reply() {
        assert_eq!(
            parse_servers_conn("Can't find backend.\n"),
            Err("Can't find backend.".into())
        );
    }
}
