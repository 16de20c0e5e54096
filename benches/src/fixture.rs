//! A config written to a temp dir (with its map file), parsed by the real
//! parser and built into a snapshot by the real builder.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use switchyard_state::{MapIdx, ProxyIdx, Snapshot};
use tempfile::TempDir;

use crate::gen::{self, AclCfg, MapCfg};

/// Why a fixture could not be made. Benches print it and skip, so a crate
/// still being written does not break `cargo bench`.
#[derive(Debug)]
pub enum FixtureError {
    Io(std::io::Error),
    Config(String),
    Build(String),
    Missing(&'static str),
}

impl std::fmt::Display for FixtureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FixtureError::Io(e) => write!(f, "i/o: {e}"),
            FixtureError::Config(e) => write!(f, "config: {e}"),
            FixtureError::Build(e) => write!(f, "snapshot build: {e}"),
            FixtureError::Missing(what) => write!(f, "missing {what}"),
        }
    }
}

impl std::error::Error for FixtureError {}

impl From<std::io::Error> for FixtureError {
    fn from(e: std::io::Error) -> Self {
        FixtureError::Io(e)
    }
}

/// A built snapshot and the files it came from (kept until drop).
pub struct Fixture {
    pub dir: TempDir,
    pub cfg_text: String,
    pub map_path: Option<PathBuf>,
    pub snapshot: Snapshot,
}

impl Fixture {
    /// Parse `text` (written as `haproxy.cfg` in `dir`) and build a snapshot.
    pub fn from_text(
        dir: TempDir,
        text: String,
        map_path: Option<PathBuf>,
    ) -> Result<Fixture, FixtureError> {
        let cfg_path = dir.path().join("haproxy.cfg");
        std::fs::write(&cfg_path, &text)?;
        let config =
            switchyard_config::parse_str(&cfg_path.to_string_lossy(), &text).map_err(|e| {
                let detail: Vec<String> = e.errors.iter().map(|d| d.to_string()).collect();
                FixtureError::Config(format!("{e}: {}", detail.join("; ")))
            })?;
        // Benches use IP literals only: no name is ever resolved.
        let snapshot = switchyard_state::build(Arc::new(config), None, &|_| None)
            .map_err(|e| FixtureError::Build(e.to_string()))?;
        Ok(Fixture {
            dir,
            cfg_text: text,
            map_path,
            snapshot,
        })
    }

    /// Seed 000's shape with a map of `entries` lines and
    /// `servers_per_backend` servers in each of blue and green.
    pub fn seed000(entries: usize, servers_per_backend: usize) -> Result<Fixture, FixtureError> {
        let dir = tempfile::tempdir()?;
        let map_path = dir.path().join("hosts.map");
        std::fs::write(&map_path, gen::map_text(entries))?;
        let mut cfg = MapCfg::new(addr(18785), addr(13000), addr(14000));
        cfg.servers_per_backend = servers_per_backend;
        let text = cfg.render(&map_path);
        Fixture::from_text(dir, text, Some(map_path))
    }

    /// [`AclCfg`] with `rules` rules.
    pub fn acl(rules: usize) -> Result<Fixture, FixtureError> {
        let dir = tempfile::tempdir()?;
        let text = AclCfg {
            bind: addr(18786),
            upstream: addr(13000),
            rules,
        }
        .render();
        Fixture::from_text(dir, text, None)
    }

    /// Seed 004's map-with-default rule.
    pub fn seed004() -> Result<Fixture, FixtureError> {
        let dir = tempfile::tempdir()?;
        let map_path = dir.path().join("bluegreen.map");
        std::fs::write(&map_path, gen::seed004_map())?;
        let text = gen::seed004_cfg(addr(18787), addr(13000), &map_path);
        Fixture::from_text(dir, text, Some(map_path))
    }

    /// The first frontend.
    pub fn frontend(&self) -> Result<ProxyIdx, FixtureError> {
        self.snapshot
            .proxies
            .iter()
            .position(|p| p.frontend.is_some())
            .map(|i| ProxyIdx(i as u32))
            .ok_or(FixtureError::Missing("a frontend"))
    }

    /// The map this fixture routes by, by its config name.
    pub fn map(&self) -> Result<MapIdx, FixtureError> {
        let path = self
            .map_path
            .as_ref()
            .ok_or(FixtureError::Missing("a map file"))?;
        self.snapshot
            .map_idx(&path.to_string_lossy())
            .ok_or(FixtureError::Missing("the map in the snapshot"))
    }

    pub fn backend(&self, name: &str) -> Result<ProxyIdx, FixtureError> {
        self.snapshot
            .backend_by_name(name)
            .ok_or(FixtureError::Missing("a backend"))
    }

    /// Servers in the snapshot, all backends.
    pub fn server_count(&self) -> usize {
        self.snapshot
            .proxies
            .iter()
            .filter_map(|p| p.backend.as_ref())
            .map(|b| b.servers.len())
            .sum()
    }
}

/// 127.0.0.1:port (fixtures never bind or connect: any port is fine).
pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
