//! Seed 003 ("Webapp Blue-Green Deployment Without Breaking Sessions"), against switchyard
//! and, as the baseline, the real HAProxy 2.6 on the same config
//! (`tests/seeds/seed003/haproxy.cfg`: one backend with blue and green, `cookie SERVERID
//! insert indirect nocache`, `option httpchk HEAD /health` + `http-check disable-on-404`,
//! `option redispatch`).
//!
//! The app is `switchyard-echo --disabled-status 404`: `POST /health/disable` makes its
//! `HEAD /health` answer 404 (soft stop: HAProxy's NOLB), `POST /health/enable` 200.
//! The article's deployment: redeploy the previous zone, start it, switch over by telling
//! the old instance to report unavailable and the new one healthy. Then new users go to
//! the new colour, users with a session (cookie) on the old colour stay there, and a user
//! pinned to a server that really died is moved, with a new cookie.
//!
//! Loopback only, free ports; no namespaces needed.

#[path = "seeds/harness.rs"]
mod harness;

use harness::Target;
use std::time::Duration;
use switchyard_testkit as tk;
use tk::{eventually_named, BackgroundHey, EchoOptions, EchoProcess, HttpResponse, Proxy};

const CONFIG: &str = include_str!("seeds/seed003/haproxy.cfg");
const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

struct Lab {
    target: Target,
    proxy: Proxy,
    port: u16,
    cli: String,
}

impl Lab {
    fn start(target: Target, blue: &EchoProcess, green: &EchoProcess) -> Lab {
        let port = tk::free_port();
        let cli_port = tk::free_port();
        let cfg = CONFIG
            .replace("@PORT@", &port.to_string())
            .replace("@CLI@", &cli_port.to_string())
            .replace("@BLUE@", &blue.port().to_string())
            .replace("@GREEN@", &green.port().to_string());
        let kind = match target {
            Target::Switchyard => tk::ProxyKind::Switchyard(target.binary()),
            Target::Haproxy => tk::ProxyKind::Haproxy,
        };
        let mut proxy = Proxy::spawn_kind(&kind, &cfg, &[])
            .unwrap_or_else(|e| panic!("spawn {}: {e}", target.label()));
        proxy.wait_ready(tk::loopback(port), WAIT);
        Lab {
            target,
            proxy,
            port,
            cli: format!("127.0.0.1:{cli_port}"),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// `status` of server `name` in `show stat`.
    fn status(&self, name: &str) -> String {
        let out = tk::try_cli(&self.cli, "show stat app 4 -1").unwrap_or_default();
        out.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f.len() > 17 && f[0] == "app" && f[1] == name)
            .map(|f| f[17].to_owned())
            .unwrap_or_default()
    }

    #[track_caller]
    fn wait_status(&self, name: &str, want: &str) {
        let what = format!("{}: server {name} {want}", self.target.label());
        eventually_named(&what, WAIT, POLL, || {
            let got = self.status(name);
            if got == want {
                Ok(())
            } else {
                Err(got)
            }
        });
    }

    /// GET / as a browser with (or without) the session cookie.
    fn get(&self, cookie: Option<&str>) -> HttpResponse {
        let header;
        let headers: Vec<(&str, &str)> = match cookie {
            Some(c) => {
                header = format!("SERVERID={c}");
                vec![("Cookie", header.as_str())]
            }
            None => Vec::new(),
        };
        tk::http_get(&self.url(), &headers)
            .unwrap_or_else(|e| panic!("{}: GET {}: {e}", self.target.label(), self.url()))
    }

    /// The request answered 200 by `server`, and the cookie it set (if any).
    #[track_caller]
    fn expect(&self, cookie: Option<&str>, server: &str) -> Option<String> {
        let resp = self.get(cookie);
        assert_eq!(
            (resp.status, resp.header("x-served-by")),
            (200, Some(server)),
            "{}: cookie {cookie:?} should reach {server}: {resp:?}\n{}",
            self.target.label(),
            self.proxy.child().output().tail(30)
        );
        resp.header("set-cookie").map(str::to_owned)
    }
}

fn echo(
    name: &str,
    version: &str,
    port: u16,
    disabled_status: u16,
    start_disabled: bool,
) -> EchoProcess {
    let mut opts = EchoOptions::new(name)
        .version(version)
        .port(port)
        .arg("--disabled-status")
        .arg(&disabled_status.to_string());
    if start_disabled {
        opts = opts.arg("--start-disabled");
    }
    tk::spawn_echo_binary(opts)
}

/// The app's own health switch (the article's servlet: POST /health/enable|disable).
fn set_health(app: &EchoProcess, enabled: bool) {
    let path = if enabled {
        "/health/enable"
    } else {
        "/health/disable"
    };
    let resp = tk::http_request("POST", &app.url(path), &[], b"")
        .unwrap_or_else(|e| panic!("POST {path} to {}: {e}", app.name));
    assert_eq!(resp.status, 200, "{resp:?}");
}

/// Requests `app` has answered (its own counter, read directly).
fn served(app: &EchoProcess) -> u64 {
    tk::http_get(&app.url("/_echo/stats"), &[])
        .ok()
        .and_then(|r| r.json().ok())
        .and_then(|j| j["requests"].as_u64())
        .unwrap_or_else(|| panic!("cannot read {}'s counters", app.name))
}

#[track_caller]
fn assert_set_cookie(label: &str, set_cookie: Option<String>, server: &str) {
    let value = set_cookie.unwrap_or_default();
    assert!(
        value.starts_with(&format!("SERVERID={server}")),
        "{label}: expected a new SERVERID={server} cookie, got {value:?}"
    );
}

#[track_caller]
fn assert_all_200(label: &str, what: &str, hey: &tk::HeySummary, min: u64) {
    assert!(
        hey.total_requests >= min && hey.only_200(),
        "{label}: {what}: expected >= {min} requests, all 200, no errors; got statuses {:?}, errors {:?}\n{}",
        hey.status_codes,
        hey.errors,
        hey.raw
    );
}

/// Soft stop by 404: the article's release without breaking sessions, under load.
fn soft_stop_release(target: Target) {
    let label = target.label();
    // Blue is the current zone; green the previous one, reporting itself unavailable.
    let blue = echo("blue", "v1", 0, 404, false);
    let mut green = echo("green", "v1", 0, 404, true);
    let green_port = green.port();
    let lab = Lab::start(target, &blue, &green);
    lab.wait_status("blue", "UP");
    lab.wait_status("green", "NOLB");

    // A user starts a session on the current version.
    let cookie = lab.expect(None, "blue");
    assert_set_cookie(label, cookie, "blue");
    assert_eq!(
        lab.expect(Some("blue"), "blue"),
        None,
        "{label}: indirect: no new cookie"
    );

    // Load through the whole release: new users, and users with a blue session.
    let url = lab.url();
    let new_users = BackgroundHey::start(&["-n", "1000000", "-c", "25", &url])
        .unwrap_or_else(|e| panic!("hey: {e}"));
    let blue_users = BackgroundHey::start(&[
        "-n",
        "1000000",
        "-c",
        "25",
        "-H",
        "Cookie: SERVERID=blue",
        &url,
    ])
    .unwrap_or_else(|e| panic!("hey: {e}"));
    std::thread::sleep(Duration::from_secs(1));

    // 3. Deploy over the previous instance (green) and start it; 4. verify it is well.
    green.child.stop();
    green = echo("green", "v2", green_port, 404, true);
    let direct = tk::http_get(&green.url("/healthz"), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(direct.status, 200);
    // 5. Switch over: the new instance reports healthy, then (once the proxy sees it UP,
    // so new users always have a server) the old one reports unavailable.
    set_health(&green, true);
    lab.wait_status("green", "UP");
    set_health(&blue, false);
    lab.wait_status("blue", "NOLB");
    std::thread::sleep(Duration::from_secs(1));

    let new_hey = new_users.finish(Duration::ZERO);
    let blue_hey = blue_users.finish(Duration::ZERO);
    assert_all_200(label, "new users during the release", &new_hey, 500);
    assert_all_200(label, "blue sessions during the release", &blue_hey, 500);

    // After the switch: new users go to green (with a green cookie), blue sessions stay.
    for _ in 0..5 {
        assert_set_cookie(label, lab.expect(None, "green"), "green");
        assert_eq!(
            lab.expect(Some("blue"), "blue"),
            None,
            "{label}: blue session kept, no new cookie"
        );
        assert_eq!(lab.expect(Some("green"), "green"), None);
    }
    // The same under load, counted by the apps themselves.
    let (b0, g0) = (served(&blue), served(&green));
    let hey = tk::run_hey(&["-n", "2000", "-c", "20", &url]);
    assert_all_200(label, "new users after the switch", &hey, 2000);
    let (b1, g1) = (served(&blue), served(&green));
    assert!(
        g1 - g0 >= 2000 && b1 - b0 < 100,
        "{label}: new users: green served {}, blue {} (health checks and counter reads included)",
        g1 - g0,
        b1 - b0
    );
    let hey = tk::run_hey(&[
        "-n",
        "2000",
        "-c",
        "20",
        "-H",
        "Cookie: SERVERID=blue",
        &url,
    ]);
    assert_all_200(label, "blue sessions after the switch", &hey, 2000);
    let (b2, g2) = (served(&blue), served(&green));
    assert!(
        b2 - b1 >= 2000 && g2 - g1 < 100,
        "{label}: blue sessions: blue served {}, green {}",
        b2 - b1,
        g2 - g1
    );

    // Blue really dies: its users are moved to green with a new cookie (option
    // redispatch), first before the checks notice, then once blue is DOWN.
    let mut blue = blue;
    blue.child.kill();
    assert_set_cookie(label, lab.expect(Some("blue"), "green"), "green");
    lab.wait_status("blue", "DOWN");
    assert_set_cookie(label, lab.expect(Some("blue"), "green"), "green");
    assert_eq!(lab.expect(Some("green"), "green"), None);
}

/// The same switch with 503 instead of 404: the old colour goes DOWN, so even its
/// sessions move to the new one, with a new cookie.
fn hard_stop_release(target: Target) {
    let label = target.label();
    let blue = echo("blue", "v1", 0, 503, false);
    let green = echo("green", "v2", 0, 503, false);
    let lab = Lab::start(target, &blue, &green);
    lab.wait_status("blue", "UP");
    lab.wait_status("green", "UP");
    assert_eq!(lab.expect(Some("blue"), "blue"), None);

    set_health(&blue, false);
    lab.wait_status("blue", "DOWN");
    assert_set_cookie(label, lab.expect(Some("blue"), "green"), "green");
    for _ in 0..4 {
        assert_set_cookie(label, lab.expect(None, "green"), "green");
    }
    let hey = tk::run_hey(&[
        "-n",
        "2000",
        "-c",
        "20",
        "-H",
        "Cookie: SERVERID=blue",
        &lab.url(),
    ]);
    assert_all_200(label, "blue sessions after blue went DOWN", &hey, 2000);
}

#[test]
fn seed_003_soft_stop_keeps_sessions_against_switchyard() {
    soft_stop_release(Target::Switchyard);
}

#[test]
fn seed_003_soft_stop_keeps_sessions_against_haproxy() {
    soft_stop_release(Target::Haproxy);
}

#[test]
fn seed_003_down_server_moves_sessions_against_switchyard() {
    hard_stop_release(Target::Switchyard);
}

#[test]
fn seed_003_down_server_moves_sessions_against_haproxy() {
    hard_stop_release(Target::Haproxy);
}
