//! `switchyard-load` as a process against a real `switchyard-echo` upstream: hey's
//! -n/-c/-z/-q semantics, a summary that hey's parser reads, errors when the upstream is
//! down, backend attribution, and the report files.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use switchyard_testkit::{parse_hey, spawn_echo_binary, EchoOptions, EchoProcess, HeySummary};

const LOAD: &str = env!("CARGO_BIN_EXE_switchyard-load");

fn echo(name: &str) -> EchoProcess {
    spawn_echo_binary(EchoOptions::new(name).binary(env!("CARGO_BIN_EXE_switchyard-echo")))
}

fn load(args: &[&str]) -> Output {
    match Command::new(LOAD).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run {LOAD}: {e}"),
    }
}

/// Runs a load that must succeed and parses its summary.
fn summary(args: &[&str]) -> HeySummary {
    let out = load(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "switchyard-load {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_hey(&stdout)
}

/// A loopback port with nothing listening on it.
fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn counts_every_request_and_prints_heys_layout() {
    let up = echo("blue");
    let s = summary(&["-n", "200", "-c", "10", &up.url("/")]);
    assert_eq!(s.count(200), 200, "{}", s.raw);
    assert_eq!(s.total_requests, 200);
    assert_eq!(s.error_count(), 0);
    assert!(s.requests_per_sec.is_some_and(|r| r > 0.0));
    for section in [
        "\nSummary:\n  Total:\t",
        "  Requests/sec:\t",
        "  Total data:\t",
        "\nResponse time histogram:\n",
        "\nLatency distribution:\n  10% in ",
        "\n  99% in ",
        "\nDetails (average, fastest, slowest):\n  DNS+dialup:\t",
        "\n  resp read:\t",
        "\nStatus code distribution:\n  [200]\t200 responses\n",
    ] {
        assert!(s.raw.contains(section), "missing {section:?} in\n{}", s.raw);
    }
    assert_eq!(
        s.raw.matches(" [").count(),
        11 + 1,
        "11 histogram rows + 1 status line"
    );
}

#[test]
fn n_is_split_evenly_among_workers_like_hey() {
    let up = echo("blue");
    // hey runs n/c requests per worker: 105 / 10 workers = 10 each.
    let s = summary(&["-n", "105", "-c", "10", &up.url("/")]);
    assert_eq!(s.count(200), 100, "{}", s.raw);
}

#[test]
fn n_below_c_is_a_usage_error() {
    let out = load(&["-n", "5", "-c", "10", "http://127.0.0.1:1/"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("-n cannot be less than -c."), "{stderr}");
    let out = load(&["-H", "no-colon-here", "http://127.0.0.1:1/"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("could not parse the provided input; input = no-colon-here"),
        "{stderr}"
    );
}

#[test]
fn z_runs_for_the_duration_and_q_limits_each_worker() {
    let up = echo("blue");
    // -z wins over -n; 2 workers at 20 QPS each for 1 s: about 40 requests.
    let s = summary(&["-z", "1s", "-n", "3", "-c", "2", "-q", "20", &up.url("/")]);
    let total = s.total_secs.expect("Total line");
    assert!((1.0..3.0).contains(&total), "Total {total}");
    let n = s.count(200);
    let ceiling = (2.0 * 20.0 * total).ceil() as u64 + 2;
    assert!(
        n >= 10 && n <= ceiling,
        "{n} requests in {total}s (ceiling {ceiling})"
    );
}

#[test]
fn errors_are_counted_when_the_upstream_is_down() {
    let port = dead_port();
    let url = format!("http://127.0.0.1:{port}/");
    let s = summary(&["-n", "20", "-c", "2", &url]);
    assert_eq!(s.total_requests, 20);
    assert_eq!(s.count(200), 0);
    assert_eq!(
        s.errors,
        vec![(
            20,
            format!("Get \"{url}\": dial tcp 127.0.0.1:{port}: connect: connection refused")
        )]
    );
}

#[test]
fn a_timeout_is_an_error() {
    let up = echo("slow");
    let url = up.url("/delay/3000");
    let s = summary(&["-n", "2", "-c", "2", "-t", "1", &url]);
    assert_eq!(s.error_count(), 2, "{}", s.raw);
    assert!(
        s.errors[0]
            .1
            .contains("Client.Timeout exceeded while awaiting headers"),
        "{:?}",
        s.errors
    );
}

#[test]
fn backend_attribution_by_header_and_by_body() {
    let up = echo("blue");
    let s = summary(&[
        "-n",
        "50",
        "-c",
        "5",
        "--backend-header",
        "X-Served-By",
        &up.url("/"),
    ]);
    assert!(
        s.raw
            .contains("\nBackend distribution:\n  [blue]\t50 responses\n"),
        "{}",
        s.raw
    );
    let s = summary(&[
        "-n",
        "20",
        "-c",
        "2",
        "--backend-body-regex",
        r#""name":"([^"]+)""#,
        &up.url("/"),
    ]);
    assert!(
        s.raw
            .contains("\nBackend distribution:\n  [blue]\t20 responses\n"),
        "{}",
        s.raw
    );
}

#[test]
fn csv_output_has_a_row_per_response() {
    let up = echo("blue");
    let out = load(&["-n", "20", "-c", "2", "-o", "csv", &up.url("/")]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| r.len() == 8 && r[6] == "200"), "{text}");
}

#[test]
fn keepalive_reuses_one_connection_per_worker_and_disable_keepalive_does_not() {
    let up = echo("blue");
    // The echo reports the client's address; attributing by it counts connections.
    let connections = |extra: &[&str]| -> usize {
        let url = up.url("/");
        let mut args = vec![
            "-n",
            "20",
            "-c",
            "2",
            "--backend-body-regex",
            r#""remote_addr":"([^"]+)""#,
        ];
        args.extend_from_slice(extra);
        args.push(&url);
        let s = summary(&args);
        let section = s.raw.split("Backend distribution:").nth(1).unwrap_or("");
        section.lines().filter(|l| l.contains(" responses")).count()
    };
    assert_eq!(connections(&[]), 2);
    assert_eq!(connections(&["-disable-keepalive"]), 20);
}

fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

#[test]
fn report_files_are_written_and_well_formed() {
    let up = echo("blue");
    let dir = tempfile::tempdir().expect("tempdir");
    let events = dir.path().join("events");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    // An event 300 ms into the run, as a driver would append it.
    std::fs::write(&events, format!("{} set map -> green\n", now_ms + 300)).expect("write");
    let report = dir.path().join("report");
    let out = load(&[
        "-z",
        "1s",
        "-c",
        "4",
        "--backend-header",
        "X-Served-By",
        "--event-file",
        &events.display().to_string(),
        "--report",
        &report.display().to_string(),
        &up.url("/"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let text = read(&report.join("timeline.txt"));
    assert!(
        text.starts_with("# switchyard-load timeline: GET "),
        "{text}"
    );
    assert!(text.contains("p50(ms)") && text.contains("blue"), "{text}");
    assert!(text.contains("set map -> green"), "{text}");
    let rows = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains(">>"))
        .count();
    assert!(rows >= 1, "{text}");

    let json: serde_json::Value =
        serde_json::from_str(&read(&report.join("report.json"))).expect("report.json is JSON");
    assert_eq!(json["totals"]["failed"], 0);
    assert!(json["totals"]["backends"]["blue"]
        .as_u64()
        .is_some_and(|n| n > 0));
    assert!(json["seconds"].as_array().is_some_and(|s| !s.is_empty()));
    assert_eq!(json["events"][0]["label"], "set map -> green");
    assert!(json["events"][0]["t_ms"]
        .as_i64()
        .is_some_and(|t| (0..1000).contains(&t)));

    let svg = read(&report.join("timeline.svg"));
    let doc = roxmltree::Document::parse(&svg).expect("timeline.svg is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for want in ["blue", "set map -> green", "time since start (s)"] {
        assert!(
            texts.iter().any(|t| t.contains(want)),
            "no {want:?} in {texts:?}"
        );
    }
    assert!(
        doc.descendants().any(|n| n.has_tag_name("polyline")),
        "no lines drawn"
    );
    assert!(read(&report.join("summary.txt")).contains("Summary:"));
}

#[test]
fn event_subcommand_appends_a_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ev");
    let file_arg = file.display().to_string();
    assert!(load(&["event", &file_arg, "set", "map", "->", "green"])
        .status
        .success());
    assert!(load(&["event", &file_arg, "rollback"]).status.success());
    let text = read(&file);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].ends_with(" set map -> green"), "{text}");
    assert!(lines[0]
        .split(' ')
        .next()
        .is_some_and(|ms| ms.parse::<u64>().is_ok()));
}
