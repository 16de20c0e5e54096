//! `-p` / `pidfile`: the pid of the process that serves.

use std::path::Path;

use anyhow::Context;

pub fn write(path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, format!("{}\n", std::process::id()))
        .with_context(|| format!("[haproxy.main()] Cannot create pidfile {}", path.display()))
}
