//! Malformed configurations: a clear error naming `file:line`, exit 1, never
//! a panic — checked on `-c` and on a real start (which must not bind).

mod common;

use common::cases::broken;
use common::*;

#[test]
fn check_mode_reports_file_and_line() {
    let dir = tempdir();
    let mut failures = Vec::new();
    for case in broken() {
        let file = format!("{}.cfg", case.name);
        write(dir.path(), &file, &case.text);
        let r = check(&switchyard(), dir.path(), &[&file], &[]);
        r.assert_no_panic(case.name);
        let mut why = Vec::new();
        if r.code != Some(1) {
            why.push(format!("exit {:?}, want 1", r.code));
        }
        if let Some(line) = case.line {
            let loc = format!("{file}:{line}");
            if !r.stderr.contains(&loc) {
                why.push(format!("no '{loc}' in the errors"));
            }
        }
        if !r.stderr.contains(case.mentions) {
            why.push(format!("errors do not mention '{}'", case.mentions));
        }
        if !r.stderr.lines().any(|l| l.starts_with("[ALERT]    (")) {
            why.push("no [ALERT] line".into());
        }
        if !why.is_empty() {
            failures.push(format!("{}: {}\n{}", case.name, why.join("; "), r.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_broken_config_never_starts_serving() {
    let dir = tempdir();
    let mut failures = Vec::new();
    for case in broken() {
        let file = format!("{}.cfg", case.name);
        write(dir.path(), &file, &case.text);
        // Without -c: the process must refuse to start, not serve half a config.
        let r = run(dir.path(), &["-db", "-f", &file]);
        r.assert_no_panic(case.name);
        if r.code != Some(1) {
            failures.push(format!("{}: exit {:?}\n{}", case.name, r.code, r.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Configs stitched from random keywords and punctuation (a fixed-seed
/// generator, so failures reproduce): any verdict is fine, a panic is not.
#[test]
fn keyword_soup_never_panics() {
    const TOKENS: &[&str] = &[
        "global",
        "defaults",
        "frontend f",
        "backend b",
        "listen l",
        "bind",
        "server s",
        "use_backend",
        "default_backend",
        "acl a",
        "http-request",
        "timeout",
        "maxconn",
        "option",
        "balance",
        "%[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "if",
        "unless",
        "!",
        "||",
        "\"",
        "'",
        "\\",
        ":",
        "127.0.0.1:18001",
        "[::1]:0",
        "check",
        "inter",
        "map(",
        "str(",
        "req.hdr(",
        "path_beg",
        "-m",
        "-i",
        "#",
        "\t",
        "999999999999999999999",
        "-1",
        "0",
        "stats",
        "socket",
        "unix@",
        "ipv4@",
        "return",
        "status",
        "string",
        "lower,",
        "\u{feff}",
        "é",
        "\r",
    ];
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = move || {
        // xorshift64
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let dir = tempdir();
    let mut failures = Vec::new();
    for i in 0..150 {
        let mut text = String::new();
        for _ in 0..(next() % 60) {
            text.push_str(TOKENS[(next() % TOKENS.len() as u64) as usize]);
            text.push(match next() % 4 {
                0 => '\n',
                1 => ' ',
                2 => ',',
                _ => ' ',
            });
        }
        let file = format!("soup{i}.cfg");
        write(dir.path(), &file, &text);
        let r = check(&switchyard(), dir.path(), &[&file], &[]);
        r.assert_no_panic(&file);
        if !matches!(r.code, Some(0..=2)) {
            failures.push(format!("{file}: exit {:?}\n{text}\n{}", r.code, r.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
