//! The stats page in a real browser: headless Chromium loads switchyard's
//! page with `admin:admin` in the URL (Basic auth), its DOM must list every
//! frontend, backend and server with HAProxy's row classes and statuses,
//! the rows must be painted with HAProxy's state colours (computed by the
//! browser), and a screenshot is kept in `target/test-artifacts/`. With the
//! real HAProxy installed, its page on the same config is rendered too and
//! the rows and colours must be the same.
//!
//! Needs Debian's `chromium` (`/usr/bin/chromium`); skipped with a message
//! when it is absent.

mod stats_page_lab;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use stats_page_lab::{artifact_dir, have_haproxy, switchyard_kind, Lab, Upstreams};
use switchyard_testkit as tk;
use tk::{ChildGuard, ProxyKind};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Run headless Chromium on `url` with `extra` arguments; its stdout.
fn chromium(extra: &[&str], url: &str) -> String {
    let profile = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let mut cmd = Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(url);
    let mut child = match ChildGuard::spawn("chromium", cmd) {
        Ok(c) => c,
        Err(e) => panic!("cannot run {CHROMIUM}: {e}"),
    };
    let status = child.wait_exit(Duration::from_secs(90));
    let out = child.stdout_lines().join("\n");
    match status {
        Some(s) if s.success() => out,
        other => panic!(
            "chromium on {url} ended with {other:?}; output:\n{}",
            child.output().tail(40)
        ),
    }
}

/// `(row anchor, row class)` of every table row with a name link, in page
/// order, from a DOM dump (`igw/Frontend`, `blue/blue1` ...).
fn dom_rows(dom: &str) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    for part in dom.split("<tr class=\"").skip(1) {
        let Some((class, rest)) = part.split_once('"') else {
            continue;
        };
        // Tooltips nest `<tr>`s without a class: the row runs to the next
        // classed one.
        let body = rest;
        let Some(anchor) = body
            .split("class=\"lfsb\" href=\"#")
            .nth(1)
            .and_then(|a| a.split('"').next())
        else {
            continue;
        };
        rows.push((anchor.to_string(), class.to_string(), body.to_string()));
    }
    rows
}

/// The page with a script that writes each row's computed background
/// colour into `<pre id="sy-colours">`, so `--dump-dom` reports what the
/// browser painted.
fn with_colour_probe(html: &str) -> String {
    let probe = "<pre id=\"sy-colours\"></pre><script>\
        var out=[];\
        document.querySelectorAll('tr').forEach(function(tr){\
          var a=tr.querySelector('a.lfsb');\
          if(a){out.push(a.getAttribute('href').slice(1)+' '+getComputedStyle(tr).backgroundColor);}\
        });\
        document.getElementById('sy-colours').textContent=out.join('\\n');\
        </script>";
    match html.rfind("</body>") {
        Some(i) => format!("{}{probe}{}", &html[..i], &html[i..]),
        None => format!("{html}{probe}"),
    }
}

/// `anchor -> rgb(...)` as the browser computed it.
fn colours(lab: &Lab, dir: &Path) -> Vec<(String, String)> {
    let html = lab.get("/admin;norefresh", true).text();
    let file = dir.join(format!("{}-probe.html", lab.label));
    if let Err(e) = std::fs::write(&file, with_colour_probe(&html)) {
        panic!("write {}: {e}", file.display());
    }
    let dom = chromium(&["--dump-dom"], &format!("file://{}", file.display()));
    let text = dom
        .split("<pre id=\"sy-colours\">")
        .nth(1)
        .and_then(|t| t.split("</pre>").next())
        .unwrap_or("");
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(a, c)| (a.to_string(), c.to_string()))
        .collect()
}

struct Seen {
    rows: Vec<(String, String, String)>,
    colours: Vec<(String, String)>,
    shot: PathBuf,
}

/// Load `lab`'s page in Chromium: DOM rows, colours, screenshot.
fn look(lab: &Lab, dir: &Path) -> Seen {
    let url = format!("http://admin:admin@127.0.0.1:{}/admin", lab.fe);
    let dom = chromium(&["--dump-dom"], &url);
    let _ = std::fs::write(
        artifact_dir().join(format!("stats-page-{}.dom.html", lab.label)),
        &dom,
    );
    assert!(
        dom.contains("<title>Statistics Report for HAProxy</title>"),
        "{}: Chromium did not get the page (Basic auth in the URL?):\n{}",
        lab.label,
        &dom[..dom.len().min(2000)]
    );
    let shot = artifact_dir().join(format!("stats-page-{}.png", lab.label));
    let _ = std::fs::remove_file(&shot);
    chromium(&[&format!("--screenshot={}", shot.display())], &url);
    Seen {
        rows: dom_rows(&dom),
        colours: colours(lab, dir),
        shot,
    }
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "{} is not a real screenshot ({} bytes)",
        path.display(),
        bytes.len()
    );
}

#[test]
fn stats_page_renders_like_haproxy_in_chromium() {
    if !Path::new(CHROMIUM).is_file() {
        eprintln!(
            "stats_page_renders_like_haproxy_in_chromium: {CHROMIUM} not found, test skipped \
             (CI needs Debian's `chromium` package)"
        );
        return;
    }
    let up = Upstreams::start();
    let ours = Lab::start(&switchyard_kind(), &up);
    ours.traffic();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let seen = look(&ours, dir.path());

    // Every frontend, server and backend, with HAProxy's classes.
    let classes: Vec<(&str, &str)> = seen
        .rows
        .iter()
        .map(|(a, c, _)| (a.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        classes,
        [
            ("igw/Frontend", "frontend"),
            ("ro/Frontend", "frontend"),
            ("blue/blue1", "active_up"),
            ("blue/blue2", "active_draining"),
            ("blue/Backend", "backend"),
            ("green/green1", "maintain"),
            ("green/green2", "active_down"),
            ("green/Backend", "backend"),
            ("DEFAULT/Backend", "backend"),
        ],
        "rows in the DOM"
    );
    let body = |anchor: &str| -> &str {
        seen.rows
            .iter()
            .find(|(a, _, _)| a == anchor)
            .map(|(_, _, b)| b.as_str())
            .unwrap_or("")
    };
    for (anchor, text) in [
        ("igw/Frontend", ">OPEN</td>"),
        ("blue/blue1", " UP</td>"),
        ("blue/blue2", " DRAIN</td>"),
        ("green/green1", " MAINT</td>"),
        ("green/green2", " DOWN</td>"),
        ("green/Backend", "<font color=\"red\"><b>DOWN</b></font>"),
        ("blue/Backend", " UP</td>"),
        ("green/green2", "L4CON"),
        ("blue/blue1", "L7OK/200"),
    ] {
        assert!(
            body(anchor).contains(text),
            "{anchor}: {text} not in {}",
            body(anchor)
        );
    }
    // HAProxy's state colours, as Chromium painted them.
    let want = [
        ("igw/Frontend", "rgb(232, 232, 208)"),
        ("blue/blue1", "rgb(192, 255, 192)"),
        ("blue/blue2", "rgb(32, 160, 255)"),
        ("blue/Backend", "rgb(232, 232, 208)"),
        ("green/green1", "rgb(192, 120, 32)"),
        ("green/green2", "rgb(255, 144, 144)"),
    ];
    for (anchor, colour) in want {
        let got = seen
            .colours
            .iter()
            .find(|(a, _)| a == anchor)
            .map(|(_, c)| c.as_str());
        assert_eq!(
            got,
            Some(colour),
            "{anchor} colour; all: {:?}",
            seen.colours
        );
    }
    assert_png(&seen.shot);
    eprintln!("screenshot: {}", seen.shot.display());

    if !have_haproxy("stats_page_renders_like_haproxy_in_chromium") {
        return;
    }
    let hap = Lab::start(&ProxyKind::Haproxy, &up);
    hap.traffic();
    let theirs = look(&hap, dir.path());
    assert_png(&theirs.shot);
    eprintln!("haproxy screenshot: {}", theirs.shot.display());
    let cls = |s: &Seen| -> Vec<(String, String)> {
        s.rows
            .iter()
            .map(|(a, c, _)| (a.clone(), c.clone()))
            .collect()
    };
    assert_eq!(cls(&seen), cls(&theirs), "row classes vs HAProxy");
    assert_eq!(seen.colours, theirs.colours, "row colours vs HAProxy");
}
