//! `haproxy -c` and `switchyard -c` on the same files: the seeds' configs,
//! the config crate's good/bad fixtures, and the malformed table must be
//! accepted or rejected alike (exit codes 0/1/2 equal), and where HAProxy
//! blames a `file:line`, switchyard must name it too.

mod common;

use std::path::{Path, PathBuf};

use common::cases::{broken, edge_cases, stricter_than_haproxy};
use common::*;

/// One comparison; returns a description of the mismatch, if any.
fn compare(dir: &Path, file: &str) -> Option<String> {
    let h = check(Path::new(tk::HAPROXY_PATH), dir, &[file], &[]);
    let s = check(&switchyard(), dir, &[file], &[]);
    s.assert_no_panic(file);
    let mut why = Vec::new();
    if h.code != s.code {
        why.push(format!(
            "exit codes differ: haproxy {:?}, switchyard {:?}",
            h.code, s.code
        ));
    }
    if h.code == Some(1) {
        if let Some(loc) = alert_locations(&h.stderr).first() {
            if !s.stderr.contains(loc.as_str()) {
                why.push(format!("haproxy blames {loc}, switchyard does not"));
            }
        }
    }
    if why.is_empty() {
        None
    } else {
        Some(format!(
            "{}: {}\n--- haproxy:\n{}--- switchyard:\n{}",
            dir.join(file).display(),
            why.join("; "),
            h.stderr,
            s.stderr
        ))
    }
}

fn cfg_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn compare_all(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .filter_map(|p| {
            let dir = p.parent()?;
            let name = p.file_name()?.to_str()?;
            compare(dir, name)
        })
        .collect()
}

#[test]
fn seed_and_fixture_configs_agree_with_haproxy() {
    if !have_haproxy("seed_and_fixture_configs_agree_with_haproxy") {
        return;
    }
    let fixtures = workspace().join("config/tests/fixtures");
    let mut files = Vec::new();
    for sub in ["seeds", "good", "bad"] {
        files.extend(cfg_files(&fixtures.join(sub)));
    }
    assert!(
        !files.is_empty(),
        "no fixtures under {}",
        fixtures.display()
    );
    let failures = compare_all(&files);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The seeds' configs with their map files present (the articles' absolute
/// paths replaced by temp files): both must accept them.
#[test]
fn seed_configs_with_their_maps_are_valid() {
    if !have_haproxy("seed_configs_with_their_maps_are_valid") {
        return;
    }
    let dir = tempdir();
    let map_dir = dir.path().join("maps");
    let seeds = cfg_files(&workspace().join("config/tests/fixtures/seeds"));
    assert!(!seeds.is_empty());
    let mut failures = Vec::new();
    for seed in &seeds {
        let Ok(text) = std::fs::read_to_string(seed) else {
            continue;
        };
        let mut text = text;
        for (path, line) in [
            (
                "/home/dong/code/learn-haproxy/hosts.map",
                "SIMPLE_SERVICE blue\n",
            ),
            ("/etc/haproxy/maps/bluegreen.map", "active backend_blue\n"),
        ] {
            if text.contains(path) {
                let local = map_dir.join(path.trim_start_matches('/').replace('/', "_"));
                write(
                    &map_dir,
                    &local
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    line,
                );
                text = text.replace(path, &local.display().to_string());
            }
        }
        let name = seed
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        write(dir.path(), &name, &text);
        if let Some(f) = compare(dir.path(), &name) {
            failures.push(f);
        }
        let s = check(&switchyard(), dir.path(), &[&name], &[]);
        if s.code != Some(0) {
            failures.push(format!(
                "{name}: switchyard -c exit {:?}\n{}",
                s.code, s.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn malformed_table_agrees_with_haproxy() {
    if !have_haproxy("malformed_table_agrees_with_haproxy") {
        return;
    }
    let dir = tempdir();
    let mut failures = Vec::new();
    for case in broken() {
        let file = format!("{}.cfg", case.name);
        write(dir.path(), &file, &case.text);
        // The table itself is checked against the oracle.
        let h = check(Path::new(tk::HAPROXY_PATH), dir.path(), &[&file], &[]);
        if h.code != Some(1) {
            failures.push(format!(
                "{}: haproxy exit {:?} (table is wrong)",
                case.name, h.code
            ));
        }
        if let Some(line) = case.line {
            if !h.stderr.contains(&format!("{file}:{line}")) {
                failures.push(format!(
                    "{}: haproxy does not blame line {line} (table is wrong)\n{}",
                    case.name, h.stderr
                ));
            }
        }
        failures.extend(compare(dir.path(), &file));
    }
    for (name, text) in edge_cases() {
        let file = format!("{name}.cfg");
        write(dir.path(), &file, &text);
        failures.extend(compare(dir.path(), &file));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The documented exceptions: HAProxy accepts these, switchyard names the
/// bad value's line and refuses.
#[test]
fn junk_numbers_are_refused_where_haproxy_guesses() {
    if !have_haproxy("junk_numbers_are_refused_where_haproxy_guesses") {
        return;
    }
    let dir = tempdir();
    let mut failures = Vec::new();
    for (name, text, line) in stricter_than_haproxy() {
        let file = format!("{name}.cfg");
        write(dir.path(), &file, &text);
        let h = check(Path::new(tk::HAPROXY_PATH), dir.path(), &[&file], &[]);
        if h.code == Some(1) {
            failures.push(format!(
                "{name}: haproxy now rejects it; move it to the parity table"
            ));
        }
        let s = check(&switchyard(), dir.path(), &[&file], &[]);
        s.assert_no_panic(name);
        if s.code != Some(1) || !s.stderr.contains(&format!("{file}:{line}")) {
            failures.push(format!(
                "{name}: want exit 1 naming {file}:{line}\n{}",
                s.stderr
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
