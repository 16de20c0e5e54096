//! Differential tests: the same config under the real HAProxy 2.6
//! (`/usr/sbin/haproxy -db -f cfg`) and under our admin server, the same
//! command sequences sent to both with socat, outputs compared after
//! normalising only what is volatile (entry addresses, socket ports, ages,
//! pids, uptimes, memory figures).

mod common;

use common::{fill_ports, haproxy_available, norm_addrs, norm_csv, socat_str, Admin, Haproxy};

const CFG: &str = "global
    maxconn 1000
    nbthread 2
    stats socket ipv4@127.0.0.1:{p1} level admin
    stats socket ipv4@127.0.0.1:{p2} level operator
    stats socket ipv4@127.0.0.1:{p3} level user
    stats timeout 2m

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend igw
    bind 127.0.0.1:{p4}
    default_backend DEFAULT
    use_backend %[str(SIMPLE_SERVICE),map(DIR/hosts.map)]

backend blue
    balance roundrobin
    server blue 127.0.0.1:{s5} maxconn 10

backend green
    balance roundrobin
    cookie SRV insert indirect nocache
    server green 127.0.0.1:{s6} maxconn 10 weight 20 cookie g
    server green2 127.0.0.1:{s7} backup cookie g2

backend static
    balance source
    server s1 127.0.0.1:{s8}

backend DEFAULT
    http-request return status 404 content-type \"text/html\" string \"Default backend\"
";

/// Columns that are ages (seconds since a change) and may differ by one.
const AGE_COLS: &[usize] = &[23, 24];

struct Pair {
    _hap: Haproxy,
    ours: Admin,
    /// (haproxy, ours) addresses per level: admin, operator, user.
    addrs: [(String, String); 3],
    map: String,
    _dir: tempfile::TempDir,
}

fn start() -> Option<Pair> {
    if !haproxy_available() {
        eprintln!("haproxy or socat missing: skipping");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().display().to_string();
    std::fs::write(
        dir.path().join("hosts.map"),
        "SIMPLE_SERVICE blue\nOTHER green\n",
    )
    .expect("map");
    let text = common::fill_shared_ports(&CFG.replace("DIR", &d));
    let hcfg = fill_ports(&text);
    let ocfg = fill_ports(&text);
    let hpath = dir.path().join("h.cfg");
    std::fs::write(&hpath, &hcfg).expect("cfg");
    let port = |cfg: &str, n: usize| -> String {
        cfg.lines()
            .filter(|l| l.contains("stats socket"))
            .nth(n)
            .and_then(|l| l.split_whitespace().nth(2))
            .map(|a| a.trim_start_matches("ipv4@").to_string())
            .unwrap_or_default()
    };
    let hap = Haproxy::start_file(&hpath, &port(&hcfg, 0));
    let ours = Admin::start_named(&hpath.display().to_string(), &ocfg, |_| {});
    let addrs = [0, 1, 2].map(|i| (port(&hcfg, i), port(&ocfg, i)));
    Some(Pair {
        _hap: hap,
        ours,
        addrs,
        map: format!("{d}/hosts.map"),
        _dir: dir,
    })
}

fn normalize(s: &str, pair: &Pair) -> String {
    let mut s = norm_addrs(s);
    for (h, o) in &pair.addrs {
        s = s.replace(h.as_str(), "ADDR").replace(o.as_str(), "ADDR");
    }
    let s = norm_csv(&s, AGE_COLS);
    // The same ages in `typed` and `json` output.
    let typed = regex::Regex::new(r"(\.(lastchg|downtime)\.1:M[AC]P:u32:)\d+").expect("re");
    let s = typed.replace_all(&s, "${1}AGE").into_owned();
    let json = regex::Regex::new(
        r#"("name":"(lastchg|downtime)"\}[^}]*\},"value":\{"type":"u32","value":)\d+"#,
    )
    .expect("re");
    let s = json.replace_all(&s, "${1}0").into_owned();
    // A stray client on the frontend port (another test probing ports)
    // shows in the frontend's session counters: they are traffic, not state.
    s.split_inclusive('\n')
        .map(|l| {
            if l.contains(",FRONTEND,") {
                return norm_csv(l, FE_TRAFFIC_COLS);
            }
            // `show servers state` rows: field 10 is an age in seconds.
            let f: Vec<&str> = l.trim_end().split(' ').collect();
            if f.len() == 25 && f[0].parse::<u32>().is_ok() {
                let mut f: Vec<String> = f.iter().map(|x| x.to_string()).collect();
                f[9] = "AGE".into();
                return f.join(" ") + "\n";
            }
            l.to_string()
        })
        .collect()
}

/// Frontend columns that count client connections.
const FE_TRAFFIC_COLS: &[usize] = &[4, 5, 7, 33, 35, 77, 78, 79, 119, 121, 122, 123, 124];

/// Send `cmds` to both on socket `level` (0 admin, 1 operator, 2 user)
/// and compare.
fn same(pair: &Pair, level: usize, cmds: &str) {
    if let Some(d) = difference(pair, level, cmds) {
        panic!("{d}");
    }
}

/// How the outputs of `cmds` on socket `level` differ (the first five
/// differing lines, a missing line shown empty), if they do.
fn difference(pair: &Pair, level: usize, cmds: &str) -> Option<String> {
    let (h, o) = &pair.addrs[level];
    let hx = normalize(&socat_str(h, cmds), pair);
    let ox = normalize(&socat_str(o, cmds), pair);
    if hx == ox {
        return None;
    }
    let (hn, on) = (hx.lines().count(), ox.lines().count());
    let width = hn.max(on);
    let pad = |t: &'_ str| -> Vec<String> {
        t.lines()
            .chain(std::iter::repeat(""))
            .take(width)
            .map(str::to_string)
            .collect()
    };
    let diff: Vec<String> = pad(&hx)
        .into_iter()
        .zip(pad(&ox))
        .filter(|(a, b)| a != b)
        .take(5)
        .map(|(a, b)| format!("haproxy: {a:?}\n   ours: {b:?}"))
        .collect();
    Some(format!(
        "outputs differ for {cmds:?}\n{}\n(line counts {hn} vs {on})",
        diff.join("\n")
    ))
}

#[test]
fn read_commands_match_haproxy() {
    let Some(p) = start() else { return };
    let m = p.map.clone();
    for cmd in [
        "show stat\n",
        "show stat typed\n",
        "show stat json\n",
        "show stat -1 4 -1\n",
        "show stat green 4 -1\n",
        "show stat 4 4 1\n",
        "show stat -1 1 -1\n",
        "show stat -1 2 -1 up\n",
        "show stat no-maint\n",
        "show stat green 4\n",
        "show stat desc typed\n",
        "show servers conn\n",
        "show servers conn green $\n",
        "show servers state\n",
        "show servers state blue\n",
        "show backend\n",
        "show map\n",
        &format!("show map {m}\n"),
        "show map #2\n",
        &format!("get map {m} SIMPLE_SERVICE\n"),
        &format!("get map {m} nope\n"),
        "get weight green/green\n",
        "show cli level\n",
        "show cli sockets\n",
        "help\n",
        "xyzzy\n",
        "show foo\n",
        "set\n",
        "show\n",
        "\n",
        "get weight green/green;show cli level;get weight blue/blue\n",
        "prompt\nget weight green/green\nshow cli level\n",
    ] {
        same(&p, 0, cmd);
    }
    // User level: addr, cookie and algo are blank.
    same(&p, 2, "show stat\n");
    same(&p, 1, "show stat typed\n");
}

#[test]
fn write_commands_match_haproxy() {
    let Some(p) = start() else { return };
    let m = p.map.clone();
    let seq: Vec<String> = vec![
        format!("set map {m} SIMPLE_SERVICE green\nshow map {m}\n"),
        format!("add map {m} k1 v1\nadd map {m} k1 v2\nget map {m} k1\nshow map {m}\n"),
        format!("del map {m} k1\nshow map {m}\n"),
        format!("prepare map {m}\nadd map @1 {m} a b\nshow map @1 {m}\nshow map\ncommit map @1 {m}\nshow map {m}\nshow map\n"),
        format!("add map {m} <<\nx 1\ny 2 3\n\nshow map {m}\nclear map {m}\nshow map {m}\n"),
        format!("add map {m} <<\n\n"),
        "set server green/green state drain\nshow stat green 4 -1\nshow stat green 2 -1\n".into(),
        "set server green/green state maint\nshow stat green 4 -1\nshow servers state green\nshow stat green 2 -1\n".into(),
        "set server green/green state ready\nshow stat green 4 -1\n".into(),
        "disable server green/green\nshow stat green -1 -1 up\nenable server green/green\n".into(),
        "set weight green/green 50%\nget weight green/green\nset server green/green weight 0\nshow stat green 2 -1\n".into(),
        "set server green/green weight 20\nset server static/s1 weight 5\nset server static/s1 weight 0%\nget weight static/s1\n".into(),
        "set maxconn server green/green 5\nshow stat green 4 1\nset maxconn frontend igw 100\nshow stat igw 1 -1\n".into(),
        "set maxconn global 50\nset maxconn global 5000\n".into(),
        "disable frontend igw\nshow stat igw 1 -1\ndisable frontend igw\nenable frontend igw\nenable frontend igw\n".into(),
        "set server blue/blue addr 127.0.0.2 port 18000\nshow servers conn blue\nset server blue/blue addr 127.0.0.2\nshow stat blue 4 -1\n".into(),
        "set server blue/blue health up\nset server blue/blue check-port 80\nset server blue/blue agent-addr 1.2.3.4\n".into(),
        "shutdown sessions server blue/blue\nshutdown session\nshutdown session 0x1\n".into(),
        "clear counters\nclear counters all\n".into(),
        "set server\nset server green/green\nset server green/nope state ready\nset server nope/green state ready\n".into(),
        "set server green/green state bogus\nset server green/green health bogus\nget weight green\nset weight green/green\n".into(),
        "set server green/green weight 300\nset server green/green weight abc\nset server green/green weight 5x\n".into(),
        "enable health green/green\nenable agent green/green\nset server green/green agent up\n".into(),
        "show servers conn nosuch\nshow servers state nosuch\nshow stat nosuch 4 -1\nshow stat typed up no-maint\n".into(),
        format!("set map {m} nokey v\nset map {m} #0x1 v\nset map\nadd map {m} onlykey\ndel map {m} nokey\n"),
        format!("commit map @9 {m}\ncommit map {m}\nadd map @9 {m} a b\nget map\nshow map nosuch\n"),
        "set timeout cli 60\nset timeout cli x\nset timeout foo\nset severity-output number\nshow cli level\nxx\n".into(),
        "expert-mode\nexpert-mode on\nexpert-mode\nexpert-mode off\nexpert-mode\n".into(),
        // A weight set during maintenance shows only once it ends.
        "set server blue/blue state maint\nset server blue/blue weight 50\nshow stat blue 4 -1\n\
         set weight blue/blue 60\nset server blue/blue state drain\nshow stat blue 4 -1\n\
         set server blue/blue state maint\nset server blue/blue weight 1\nshow stat blue 4 -1\n\
         set server blue/blue state ready\nshow stat blue 4 -1\n"
            .into(),
        // Numbers as C reads them: an unsigned maxconn of -1, an int
        // truncated from a long.
        "set maxconn server blue/blue -1\nshow stat blue 4 -1\nset maxconn server blue/blue 10\n\
         set maxconn frontend igw 99999999999\nshow stat igw 1 -1\n\
         set maxconn frontend igw 99999999999999999999\nset maxconn frontend igw 1000\n"
            .into(),
        // Versions other than the current one: an older one takes entries
        // (unseen, counted, reached by set/del), a commit purges it.
        format!(
            "prepare map {m}\ncommit map @2 {m}\nadd map @0 {m} old o\nshow map\nshow map @0 {m}\n\
             set map {m} old y\nshow map @0 {m}\ndel map {m} old\nshow map\n\
             add map @4294967295 {m} w w\nshow map\nadd map @7 {m} f f\nprepare map {m}\n\
             add map @3 {m} n n\ncommit map @3 {m}\nshow map\nshow map {m}\n\
             show map @99999999999999999999 {m}\nshow map @4294967296 {m}\n"
        ),
        // A map is an ACL reference too: matched by `get acl`, refused by
        // `add acl`.
        format!(
            "get acl {m} SIMPLE_SERVICE\nget acl #2 nope\nget acl #9 x\nadd acl {m} x\n\
             add acl @9 {m} x\nadd acl @0 {m} x\nadd acl /nope x\ndel acl {m} OTHER\nclear acl {m}\n\
             show acl {m}\nshow map {m}\n"
        ),
        // A frontend maxconn of 0 is shown as such (and accepts nothing).
        "set maxconn frontend igw 0\nshow stat igw 1 -1\n".into(),
        // An escaped LF ending the input still ends the line.
        "get weight blue/blue \\\n".into(),
    ];
    for cmds in &seq {
        same(&p, 0, cmds);
    }
    // Permissions.
    for cmds in [
        "set server green/green state drain\n",
        "set weight green/green 1\n",
        "clear counters all\n",
        "clear counters\n",
        "disable frontend igw\n",
        "operator\nuser\nshow cli level\n",
    ] {
        same(&p, 1, cmds);
        same(&p, 2, cmds);
    }
    same(
        &p,
        2,
        &format!("set map {m} SIMPLE_SERVICE blue\nshow map {m}\n"),
    );
}

#[test]
fn show_info_keys_match_haproxy() {
    let Some(p) = start() else { return };
    let keys = |addr: &str| -> Vec<String> {
        socat_str(addr, "show info\n")
            .lines()
            .map(|l| l.split(':').next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(keys(&p.addrs[0].0), keys(&p.addrs[0].1));
    let typed = |addr: &str| -> Vec<String> {
        socat_str(addr, "show info typed\n")
            .lines()
            .map(|l| l.splitn(4, ':').take(3).collect::<Vec<_>>().join(":"))
            .collect()
    };
    assert_eq!(typed(&p.addrs[0].0), typed(&p.addrs[0].1));
    let _ = &p.ours;
}

/// Commands the random lines start with: the ones that change routing and
/// the read-only ones whose output is deterministic here. Not `show acl`,
/// nor a bare `#` id: HAProxy's internal httpclient holds two ACL
/// references (#0, #1) and the CLI's own frontend answers to `#`, none of
/// which switchyard has.
const RANDOM_COMMANDS: &[&str] = &[
    "show map",
    "get map",
    "set map",
    "add map",
    "del map",
    "clear map",
    "prepare map",
    "commit map",
    "add acl",
    "get acl",
    "del acl",
    "clear acl",
    "show servers state",
    "show servers conn",
    "show backend",
    "get weight",
    "set weight",
    "show stat",
    "set server",
    "enable server",
    "disable server",
    "enable health",
    "disable health",
    "enable agent",
    "disable agent",
    "set maxconn server",
    "set maxconn frontend",
    "enable frontend",
    "disable frontend",
    "shutdown sessions server",
    "shutdown frontend",
    "set severity-output",
    "show cli level",
    "operator",
    "user",
    "help",
    "xyzzy",
    "show",
    "set",
    "get",
];

#[test]
fn random_command_lines_match_haproxy() {
    use common::random_cmd::{self, Names};
    use rand::SeedableRng;
    let Some(p) = start() else { return };
    let names = Names {
        map: &p.map,
        keys: &["SIMPLE_SERVICE", "OTHER", "new", "a b", ""],
        values: &["blue", "green", "static", "nope", "", "x y"],
        servers: &[
            "blue/blue",
            "green/green",
            "green/green2",
            "static/s1",
            "green/",
            "nope/blue",
            "green/nope",
            "blue",
        ],
        frontends: &["igw", "nope", ""],
    };
    let commands: Vec<String> = RANDOM_COMMANDS.iter().map(|c| c.to_string()).collect();
    let (iters, seed) = switchyard_testkit::fuzz_iters_and_seed(300, 11);
    eprintln!("random command lines: {iters} from seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut diffs = Vec::new();
    let state = format!("show servers state\nshow map {}\nshow map\n", p.map);
    for i in 0..iters {
        let line = random_cmd::line(&mut rng, &names, &commands);
        let mut probe = vec![line + "\n"];
        if i % 10 == 9 {
            probe.push(state.clone());
        }
        for cmds in probe {
            if let Some(d) = difference(&p, 0, &cmds) {
                diffs.push(format!("#{i} {d}"));
            }
        }
        if diffs.len() >= 10 {
            break;
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences; first:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
