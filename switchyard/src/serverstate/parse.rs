//! Reading a server state file, the text `show servers state` prints:
//! a version line (`1`), then one line per server with 20 to 25
//! space-separated fields. Parsing follows HAProxy 2.6's
//! `srv_state_parse_line` and `srv_state_srv_update`: a line's values are
//! validated as a whole and a line with any bad value is not applied.

use std::net::IpAddr;

/// Fields of a version 1 line: at least up to `srvrecord`, at most up to
/// `srv_agent_port`.
const MIN_FIELDS: usize = 20;
const MAX_FIELDS: usize = 25;

/// Admin bits as `srv_admin_state` numbers them.
pub const FMAINT: u8 = 0x01;
pub const IMAINT: u8 = 0x02;
pub const CMAINT: u8 = 0x04;
pub const FDRAIN: u8 = 0x08;
pub const IDRAIN: u8 = 0x10;
pub const RMAINT: u8 = 0x20;
pub const HMAINT: u8 = 0x40;

/// `srv_check_state` bits.
pub const CHK_CONFIGURED: u32 = 0x2;
pub const CHK_ENABLED: u32 = 0x4;
const CHK_ALL: u32 = 0x1 | 0x2 | 0x4 | 0x8 | 0x10;

/// Why a whole file is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// No line at all (HAProxy: `Empty ... server state file`).
    Empty,
    /// The first line is not a supported version.
    BadVersion,
    /// A line is truncated or has the wrong number of fields (1-based).
    Corrupted { line: usize },
}

/// One server line, split but not yet validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub be_id: String,
    pub be_name: String,
    pub srv_id: String,
    pub srv_name: String,
    /// `bk_f_forced_id`.
    pub be_forced_id: bool,
    /// Every field from `srv_addr` on.
    rest: Vec<String>,
}

/// The validated values of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values {
    /// `None` for `-`.
    pub addr: Option<IpAddr>,
    pub op_state: u8,
    /// With the inherited and DNS bits already removed, as HAProxy does.
    pub admin: u8,
    pub uweight: u32,
    pub iweight: u32,
    /// Seconds since the last state change.
    pub since_change: u64,
    pub check_status: u8,
    pub check_result: u8,
    pub check_health: u32,
    pub check_state: u32,
    pub port: Option<u16>,
}

/// Split a file into server lines (comments and blank lines skipped).
pub fn parse_file(text: &str) -> Result<Vec<Line>, FileError> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().ok_or(FileError::Empty)?;
    match first.strip_suffix('\n').map(|v| v.parse::<u32>()) {
        Some(Ok(1)) => {}
        _ => return Err(FileError::BadVersion),
    }
    let mut out = Vec::new();
    for (i, raw) in lines.enumerate() {
        let line_no = i + 2;
        // HAProxy refuses a last line without its newline (truncated file).
        let Some(body) = raw.strip_suffix('\n') else {
            return Err(FileError::Corrupted { line: line_no });
        };
        let trimmed = body.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed
            .split([' ', '\t'])
            .filter(|f| !f.is_empty())
            .collect();
        if !(MIN_FIELDS..=MAX_FIELDS).contains(&fields.len()) {
            return Err(FileError::Corrupted { line: line_no });
        }
        out.push(Line {
            be_id: fields[0].to_owned(),
            be_name: fields[1].to_owned(),
            srv_id: fields[2].to_owned(),
            srv_name: fields[3].to_owned(),
            be_forced_id: fields[15] == "1",
            rest: fields[4..].iter().map(|f| (*f).to_owned()).collect(),
        });
    }
    Ok(out)
}

impl Line {
    /// Validate every value; the error lists each bad one as HAProxy does
    /// (`, invalid srv_op_state value 'x'`).
    pub fn values(&self) -> Result<Values, String> {
        let mut msg = String::new();
        let f = |i: usize| self.rest.get(i).map(String::as_str).unwrap_or("");
        let mut bad = |name: &str, text: &str| {
            msg.push_str(&format!(", invalid {name} value '{text}'"));
        };

        let op_state = match f(1).parse::<u8>() {
            Ok(v) if v <= 3 => v,
            _ => {
                bad("srv_op_state", f(1));
                0
            }
        };
        let admin = match f(2).parse::<u8>() {
            Ok(v) => {
                let v = v & !(IDRAIN | IMAINT | RMAINT | HMAINT);
                let allowed = [0, FMAINT, CMAINT, CMAINT | FMAINT, CMAINT | FDRAIN, FDRAIN];
                if !allowed.contains(&v) {
                    bad("srv_admin_state", f(2));
                }
                v
            }
            Err(_) => {
                bad("srv_admin_state", f(2));
                0
            }
        };
        let mut weight = |i: usize, name: &str| match f(i).parse::<u32>() {
            Ok(v) if v <= 256 => v,
            _ => {
                bad(name, f(i));
                0
            }
        };
        let uweight = weight(3, "srv_uweight");
        let iweight = weight(4, "srv_iweight");
        let since_change = f(5).parse::<u64>().unwrap_or_else(|_| {
            bad("srv_last_time_change", f(5));
            0
        });
        let check_status = f(6).parse::<u8>().unwrap_or_else(|_| {
            bad("srv_check_status", f(6));
            0
        });
        let check_result = match f(7).parse::<u8>() {
            Ok(v) if v <= 4 => v,
            _ => {
                bad("srv_check_result", f(7));
                0
            }
        };
        let check_health = f(8).parse::<u32>().unwrap_or_else(|_| {
            bad("srv_check_health", f(8));
            0
        });
        let mut check_bits = |i: usize, name: &str| match f(i).parse::<u32>() {
            Ok(v) if v & !CHK_ALL == 0 => v,
            _ => {
                bad(name, f(i));
                0
            }
        };
        let check_state = check_bits(9, "srv_check_state");
        let _agent_state = check_bits(10, "srv_agent_state");
        for (i, name) in [(11, "bk_f_forced_id"), (12, "srv_f_forced_id")] {
            if !matches!(f(i), "0" | "1") {
                bad(name, f(i));
            }
        }
        let port = match f(14).parse::<u16>() {
            Ok(p) => Some(p),
            Err(_) => {
                bad("srv_port", f(14));
                None
            }
        };
        let addr = match f(0) {
            "-" => None,
            text => text.parse::<IpAddr>().ok(),
        };
        if !msg.is_empty() {
            return Err(msg);
        }
        Ok(Values {
            addr,
            op_state,
            admin,
            uweight,
            iweight,
            since_change,
            check_status,
            check_result,
            check_health,
            check_state,
            port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = "1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 blue 1 b1 127.0.0.1 2 8 1 1 0 6 3 4 6 0 0 0 - 23401 - 0 0 - - 0
3 blue 2 b2 127.0.0.2 2 0 50 1 5 6 3 4 6 0 0 0 - 23401 - 0 0 - - 0
4 green 1 g1 127.0.0.1 0 1 1 1 0 6 3 0 14 0 0 0 - 23402 - 0 0 - - 0

";

    #[test]
    fn reads_a_real_haproxy_dump() {
        let lines = parse_file(DUMP).expect("parses");
        assert_eq!(lines.len(), 3);
        assert_eq!(
            (lines[0].be_name.as_str(), lines[0].srv_name.as_str()),
            ("blue", "b1")
        );
        let v = lines[0].values().expect("valid");
        assert_eq!(v.admin, FDRAIN);
        assert_eq!(v.op_state, 2);
        let v = lines[1].values().expect("valid");
        assert_eq!((v.uweight, v.iweight), (50, 1));
        assert_eq!(v.addr, "127.0.0.2".parse().ok());
        assert_eq!(v.port, Some(23401));
        let v = lines[2].values().expect("valid");
        assert_eq!((v.admin, v.op_state, v.check_state), (FMAINT, 0, 14));
    }

    #[test]
    fn file_level_errors() {
        assert_eq!(parse_file(""), Err(FileError::Empty));
        assert_eq!(parse_file("2\n"), Err(FileError::BadVersion));
        assert_eq!(parse_file("1"), Err(FileError::BadVersion));
        assert_eq!(
            parse_file("1\n3 be 1 s 127.0.0.1 2\n"),
            Err(FileError::Corrupted { line: 2 })
        );
        // A truncated last line.
        let cut = DUMP.trim_end_matches('\n');
        assert!(matches!(parse_file(cut), Err(FileError::Corrupted { .. })));
        assert_eq!(parse_file("1\n"), Ok(Vec::new()));
    }

    #[test]
    fn bad_values_are_all_named() {
        let text = "1\n3 be 1 s 127.0.0.1 9 9 999 1 0 6 3 4 6 0 0 0 - 80 -\n";
        let lines = parse_file(text).expect("splits");
        let err = lines[0].values().expect_err("invalid");
        assert_eq!(
            err,
            ", invalid srv_op_state value '9', invalid srv_admin_state value '9', invalid srv_uweight value '999'"
        );
    }

    #[test]
    fn inherited_bits_are_dropped() {
        let text = "1\n3 be 1 s - 2 48 1 1 0 6 3 4 6 0 0 0 - 0 -\n";
        let v = parse_file(text).expect("splits")[0]
            .values()
            .expect("valid");
        // IDRAIN|RMAINT removed: nothing left.
        assert_eq!(v.admin, 0);
        assert_eq!(v.addr, None);
    }
}
