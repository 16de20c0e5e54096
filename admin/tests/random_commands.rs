//! Random Runtime API command lines, run through a session in process:
//! none panics, every one gets an answer, and one that fails (an error
//! message, `[3]:` with `set severity-output number`) leaves routing as it
//! was: the snapshot generation, every map's entries and every server's
//! state. Seeded, so a failure is reproducible; `scripts/long.sh` runs many
//! more from a time seed (SWITCHYARD_FUZZ_ITERS).

mod common;

use std::sync::Arc;

use common::random_cmd::{self, Names};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use switchyard_admin::{AdminCtx, Env, Progress, Session};
use switchyard_config::CliLevel;

const CFG: &str = "
global
    maxconn 1000
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:1
    use_backend %[req.hdr(x-be),map(MAPFILE,be_app)]
    default_backend be_app
backend be_app
    balance roundrobin
    server s1 127.0.0.1:1 weight 1
    server s2 127.0.0.1:2 weight 10 backup
backend be_green
    balance leastconn
    server g1 127.0.0.1:3 maxconn 5
";

#[test]
fn random_command_lines_answer_and_failures_change_nothing() {
    let mut f = tempfile::NamedTempFile::new().expect("tmp");
    std::io::Write::write_all(&mut f, b"blue be_app\ngreen be_green\n").expect("write");
    let map = f.path().display().to_string();
    let store = common::store_for(&CFG.replace("MAPFILE", &map));
    let config = store.load().config.clone();
    let env = Env {
        store: store.clone(),
        ctx: Arc::new(AdminCtx::from_config(&config)),
        sockets: Vec::new(),
    };
    let commands = command_prefixes(&env);
    assert!(
        commands.len() > 50,
        "help listed {} commands",
        commands.len()
    );

    let names = Names {
        map: &map,
        keys: &["blue", "green", "new", "a b", "", "\\\"q\\\""],
        values: &["be_app", "be_green", "nope", "", "x y"],
        servers: &[
            "be_app/s1",
            "be_app/s2",
            "be_green/g1",
            "be_app/",
            "nope/s1",
            "be_app/nope",
            "s1",
        ],
        frontends: &["fe", "nope", ""],
    };
    let (iters, seed) = switchyard_testkit::fuzz_iters_and_seed(4000, 11);
    eprintln!("random command lines: {iters} from seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sess = Session::new(CliLevel::Admin, 16384);
    let (mut failed, mut ok) = (0, 0);
    let show_map = format!("; show map {map}");
    for i in 0..iters {
        let mut line = random_cmd::line(&mut rng, &names, &commands);
        // Chains, as `socat` users send them.
        if rng.gen_bool(0.05) {
            line.push_str(&show_map);
        }
        sess.state.severity = switchyard_admin::exec::SeverityOutput::Number;
        sess.state.interactive = false;
        let before = routing(&env);
        let Some(out) = run_line(&mut sess, &env, line.as_bytes()) else {
            // `quit`: a fresh session, as a client would reconnect.
            sess = Session::new(CliLevel::Admin, 16384);
            continue;
        };
        let text = String::from_utf8_lossy(&out);
        // Each reply ends in LF, or in the prompt once `prompt` ran.
        assert!(
            out.ends_with(b"\n") || out.ends_with(b"> "),
            "#{i} {line:?}: reply not framed: {text:?}"
        );
        // A chain (`a; b`) may fail in `a` and change routing in `b`:
        // only single commands (and the read-only `show map` suffix) are
        // held to the property.
        let single = !line.trim_end_matches(&show_map).contains(';');
        if single && text.starts_with("[3]:") {
            failed += 1;
            let after = routing(&env);
            assert!(
                before == after,
                "#{i} {line:?} failed with {text:?} but changed routing:\n{before}\n--\n{after}"
            );
        } else {
            ok += 1;
        }
    }
    eprintln!("{failed} failed, {ok} did not");
    // The generator must reach both sides, or the property says nothing.
    assert!(
        failed > iters / 20 && ok > iters / 20,
        "{failed} failed, {ok} ok"
    );
}

/// The first words of every command `help` lists (all of HAProxy's, at
/// the admin level, with expert and experimental ones too).
fn command_prefixes(env: &Env) -> Vec<String> {
    let mut s = Session::new(CliLevel::Admin, 16384);
    let mut all = String::new();
    for l in ["expert-mode on", "experimental-mode on", "help"] {
        let out = run_line(&mut s, env, l.as_bytes()).unwrap_or_default();
        all = String::from_utf8_lossy(&out).into_owned();
    }
    all.lines()
        .filter_map(|l| l.split(':').next())
        .map(|l| {
            l.split_whitespace()
                .take_while(|w| !w.starts_with(['<', '[', '{', '(']) && !w.contains('|'))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|c| !c.is_empty() && !c.starts_with("The following"))
        .collect()
}

/// Feed one line (and no payload) to the session and collect its reply;
/// `None` when the session closes (`quit`).
fn run_line(sess: &mut Session, env: &Env, line: &[u8]) -> Option<Vec<u8>> {
    let mut input = line.to_vec();
    input.push(b'\n');
    // A line ending in `<<` waits for a payload: end it at once.
    if line.trim_ascii_end().ends_with(b"<<") {
        input.push(b'\n');
    }
    let mut out = Vec::new();
    for _ in 0..10_000 {
        match sess.run(&mut input, true, env, &mut out) {
            Progress::More => continue,
            Progress::Idle | Progress::NeedMore => return Some(out),
            Progress::Close => return (!out.is_empty()).then_some(out),
        }
    }
    panic!(
        "{:?}: the session never settled",
        String::from_utf8_lossy(line)
    );
}

/// What routing depends on: the snapshot's generation, every map's
/// entries and every server's state (without the seconds since its last
/// change, which move on their own).
fn routing(env: &Env) -> String {
    let mut s = Session::new(CliLevel::Admin, 16384);
    let mut text = format!("generation {}\n", env.store.load().generation);
    let maps = run_line(&mut s, env, b"show map").unwrap_or_default();
    for id in String::from_utf8_lossy(&maps)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|w| w.starts_with('#') || w.parse::<u32>().is_ok())
    {
        let id = if id.starts_with('#') {
            id.to_string()
        } else {
            format!("#{id}")
        };
        let entries =
            run_line(&mut s, env, format!("show map {id}").as_bytes()).unwrap_or_default();
        text.push_str(&common::norm_addrs(&String::from_utf8_lossy(&entries)));
    }
    let servers = run_line(&mut s, env, b"show servers state").unwrap_or_default();
    for l in String::from_utf8_lossy(&servers).lines() {
        let mut cols: Vec<&str> = l.split(' ').collect();
        if cols.len() > 9 && cols[0].parse::<u32>().is_ok() {
            cols.remove(9);
        }
        text.push_str(&cols.join(" "));
        text.push('\n');
    }
    text
}
