//! The seed fixtures in `tests/seeds/` are the articles' configs and scripts verbatim:
//! each is compared with the code block of its article (`shared/seeds/*.txt` beside the
//! workspace, or `$SWITCHYARD_SEEDS_DIR`) after undoing only the blog rendering's damage:
//! lines glued together (`stats timeout 2mresolvers local`), the markdown indentation of
//! the code block, and non-breaking spaces on blank lines (which HAProxy rejects).

use std::path::{Path, PathBuf};

fn articles_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SWITCHYARD_SEEDS_DIR") {
        return Some(PathBuf::from(dir));
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds");
    beside.is_dir().then_some(beside)
}

fn article(prefix: &str) -> Option<String> {
    let dir = articles_dir()?;
    let entry = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with(prefix))?;
    std::fs::read_to_string(entry.path()).ok()
}

fn fixture(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/seeds")
        .join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text between the first line equal to `start` (included) and the next "```" line.
fn block_from(text: &str, start: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("article has no block starting {start:?}"));
    let rest = &text[from..];
    let end = rest.find("\n```").unwrap_or(rest.len());
    rest[..end].to_owned()
}

/// Text of the block after `marker` up to the closing fence, each line with `indent`
/// leading characters removed.
fn indented_block(text: &str, marker: &str, indent: usize, end: &str) -> String {
    let from = text
        .find(marker)
        .unwrap_or_else(|| panic!("article has no {marker:?}"))
        + marker.len();
    let rest = &text[from..];
    let stop = rest.find(end).unwrap_or(rest.len());
    rest[..stop]
        .lines()
        .map(|l| l.get(indent..).unwrap_or("").to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn unglue(text: &str, glued: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (from, to) in glued {
        assert!(
            out.contains(from),
            "expected glued text {from:?} in the article"
        );
        out = out.replace(from, to);
    }
    out
}

#[track_caller]
fn assert_same(name: &str, article: &str, fixture: &str) {
    let a: Vec<&str> = article.trim_end().lines().collect();
    let f: Vec<&str> = fixture.trim_end().lines().collect();
    for (i, (x, y)) in a.iter().zip(f.iter()).enumerate() {
        assert_eq!(x, y, "{name}: line {} differs from the article", i + 1);
    }
    assert_eq!(
        a.len(),
        f.len(),
        "{name}: line count differs from the article"
    );
}

#[test]
fn fixtures_are_the_articles_text() {
    let Some(s000) = article("000_") else {
        eprintln!("skipped: no shared/seeds beside the workspace (set SWITCHYARD_SEEDS_DIR)");
        return;
    };
    let cfg = block_from(&s000, "global\n    maxconn 8192");
    let cfg = unglue(
        &cfg,
        &[
            (
                "stats timeout 2mresolvers local",
                "stats timeout 2m\nresolvers local",
            ),
            ("timeout resolve 1sdefaults", "timeout resolve 1s\ndefaults"),
            (
                "timeout server 5sfrontend igw",
                "timeout server 5s\nfrontend igw",
            ),
            (
                "option forwardfor    use_backend",
                "option forwardfor\n    use_backend",
            ),
            ("hosts.map)]backend blue", "hosts.map)]\nbackend blue"),
            ("init-addr nonebackend", "init-addr none\nbackend"),
        ],
    );
    assert_same("seed000/haproxy.cfg", &cfg, &fixture("seed000/haproxy.cfg"));

    let deploy = block_from(&s000, "#!/bin/bashfunction forwardTo(){");
    let deploy = unglue(
        &deploy,
        &[
            ("#!/bin/bashfunction", "#!/bin/bash\nfunction"),
            ("}function", "}\nfunction"),
            ("}case $1 in", "}\ncase $1 in"),
        ],
    );
    assert_same("seed000/deploy", &deploy, &fixture("seed000/deploy"));

    // Seed 001 prints no config: ours is seed 000's with the map key STATIC.
    assert_eq!(
        fixture("seed001/haproxy.cfg"),
        fixture("seed000/haproxy.cfg").replace("str(SIMPLE_SERVICE)", "str(STATIC)"),
        "seed001/haproxy.cfg must be seed 000's config with the key STATIC"
    );
    if let Some(s001) = article("001_") {
        let script = indented_block(&s001, "     ```bash\n", 5, "     ```");
        assert_same("seed001/deploy.sh", &script, &fixture("seed001/deploy.sh"));
    }

    if let Some(s004) = article("004_") {
        let cfg = indented_block(
            &s004,
            "    /etc/haproxy/haproxy.cfg\n",
            4,
            "\n\n    Replace the backend",
        )
        .replace('\u{a0}', "");
        assert_same("seed004/haproxy.cfg", &cfg, &fixture("seed004/haproxy.cfg"));
        assert!(s004.contains("    /etc/haproxy/maps/bluegreen.map\n    active backend_blue\n"));
        assert_eq!(fixture("seed004/bluegreen.map"), "active backend_blue\n");
    }
}
