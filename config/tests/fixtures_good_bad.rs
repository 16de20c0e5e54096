//! Every fixture under `fixtures/good` loads; every one under `fixtures/bad`
//! fails with an error at the `file:line` and with the text its first line
//! (`# expect: <line> <text>`) names.

mod common;

use common::{cfg_files, expectation};

#[test]
fn good_fixtures_load() {
    let files = cfg_files("good");
    assert!(
        files.len() >= 10,
        "expected good fixtures, found {}",
        files.len()
    );
    for f in files {
        match switchyard_config::load(std::slice::from_ref(&f)) {
            Ok(cfg) => assert!(cfg.has_listener(), "{}: no listener", f.display()),
            Err(e) => {
                let errs: Vec<String> = e.errors.iter().map(|d| d.to_string()).collect();
                panic!("{} should load:\n{}", f.display(), errs.join("\n"));
            }
        }
    }
}

#[test]
fn bad_fixtures_fail_at_the_right_place() {
    let files = cfg_files("bad");
    assert!(
        files.len() >= 40,
        "expected bad fixtures, found {}",
        files.len()
    );
    for f in files {
        let (line, text) = expectation(&f);
        let e = match switchyard_config::load(std::slice::from_ref(&f)) {
            Ok(_) => panic!("{} should be rejected", f.display()),
            Err(e) => e,
        };
        let file = f.display().to_string();
        // Line 0: HAProxy names no location for this error.
        let unlocated = line == 0;
        let hit = e.errors.iter().any(|d| {
            let here = if unlocated {
                d.location.file.is_empty()
            } else {
                d.location.file == file && d.location.line == line
            };
            here && d.message.contains(&text)
        });
        let all: Vec<String> = e.errors.iter().map(|d| d.to_string()).collect();
        assert!(
            hit,
            "{}: expected an error at line {line} containing {text:?}, got:\n{}",
            f.display(),
            all.join("\n")
        );
        // Errors found by the checks after parsing (HAProxy's
        // check_config_validity) leave the files summary empty.
        assert!(
            e.files.contains(&file) || e.files.is_empty(),
            "{}: files {:?}",
            f.display(),
            e.files
        );
        // Printed HAProxy-style, with the location (server lines without
        // `parsing `, as HAProxy prints them).
        assert!(all.iter().any(|s| {
            unlocated
                || s.starts_with(&format!("parsing [{file}:{line}] : "))
                || s.starts_with(&format!("[{file}:{line}] : 'server"))
        }));
    }
}

#[test]
fn a_directory_loads_its_cfg_files_in_name_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("10-defaults.cfg"),
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("20-proxies.cfg"),
        "frontend fe\n    bind 127.0.0.1:18400\n    default_backend be\nbackend be\n    server s 127.0.0.1:18401\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("ignored.txt"), "garbage\n").expect("write");
    let cfg = switchyard_config::load(&[dir.path().to_path_buf()]).expect("loads");
    assert_eq!(cfg.files.len(), 2);
    assert!(cfg.files[0].ends_with("10-defaults.cfg"));
    assert_eq!(
        cfg.frontend("fe").map(|p| p.mode),
        Some(switchyard_config::Mode::Http)
    );
}

#[test]
fn a_missing_file_is_an_error() {
    let e = switchyard_config::load(&["/nonexistent/switchyard.cfg".into()]).expect_err("fails");
    assert!(
        e.errors[0].message.contains("No such file or directory"),
        "{:?}",
        e.errors
    );
}

#[test]
fn many_errors_are_reported_in_one_pass() {
    let text = "global\n    foo bar\n    nbthread\ndefaults\n    mode http\n    timeout connect 2x\n    timeout client\n\
                frontend fe\n    bind 127.0.0.1:18000\n    server x 127.0.0.1:80\n    default_backend nope\n    frobnicate\n\
                backend b\n    server s1 127.0.0.1:1 weight 300\n    server s2 127.0.0.1:2 rise 0\n    server s3\n";
    let e = switchyard_config::parse_str("multi.cfg", text).expect_err("invalid");
    let lines: Vec<usize> = e.errors.iter().map(|d| d.location.line).collect();
    for want in [2, 3, 6, 7, 10, 12, 14, 15, 16] {
        assert!(
            lines.contains(&want),
            "no error at line {want}: {:?}",
            e.errors
        );
    }
    // As in HAProxy, a file that fails to parse is not checked as a whole:
    // the unknown default_backend of line 11 goes unreported.
    assert!(!lines.contains(&11), "{:?}", e.errors);
    assert_eq!(e.files, vec!["multi.cfg".to_string()]);
}

#[test]
fn harmless_keywords_warn_and_name_themselves() {
    let text = "global\n    chroot /var/empty\n    tune.ssl.default-dh-param 2048\n";
    let cfg = switchyard_config::parse_str("w.cfg", text).expect("valid");
    assert_eq!(cfg.warnings.len(), 2, "{:?}", cfg.warnings);
    assert!(cfg.warnings[0]
        .to_string()
        .starts_with("parsing [w.cfg:2] : "));
    assert!(cfg.warnings[0].message.contains("'chroot'"));
    assert!(cfg.warnings[1]
        .message
        .contains("'tune.ssl.default-dh-param'"));
    assert!(switchyard_config::HARMLESS_GLOBAL_KEYWORDS.contains(&"chroot"));
}
