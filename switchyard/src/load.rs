//! config files → validated `Config` → routing `Snapshot`. The same steps
//! run at startup and on every reload, so both report errors identically.

use std::path::PathBuf;
use std::sync::Arc;

use switchyard_config::{Config, ConfigErrors, Diagnostic, InitAddr};
use switchyard_state::{BuildError, Snapshot};

use crate::console;
use crate::resolve::libc_resolve;

/// Why a load failed; [`LoadError::report`] prints it like HAProxy.
#[derive(Debug)]
pub enum LoadError {
    Config(ConfigErrors),
    Build(BuildError),
    /// `-dW` and warnings were printed.
    ZeroWarning,
    /// A reload could not open a new listener.
    Bind(switchyard_proxy::ProxyError),
    /// A reload could not open a new stats socket.
    Admin(switchyard_admin::AdminError),
    /// A reload could not duplicate a socket it keeps.
    Io(std::io::Error),
}

/// A successful load: the config (kept for reload) and its first snapshot.
pub struct Loaded {
    pub config: Arc<Config>,
    pub snapshot: Snapshot,
    /// Warnings printed while building (the server state file's).
    pub build_warnings: usize,
}

/// How to load: the command line's say in it.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub paths: Vec<PathBuf>,
    /// `-dW`: warnings are fatal.
    pub zero_warning: bool,
    /// `-n`: overrides the global `maxconn`.
    pub maxconn: Option<u32>,
    /// Warnings were already printed (by a daemon's foreground parent).
    pub silent_warnings: bool,
    /// `-dr`: a server name that does not resolve starts in maintenance
    /// instead of failing the load.
    pub ignore_resolve_failures: bool,
}

/// Load every `-f` path, print warnings, build the snapshot (carrying live
/// state over from `prev` on reload).
pub fn load(opts: &LoadOptions, prev: Option<&Snapshot>) -> Result<Loaded, LoadError> {
    let config = parse(opts)?;
    let (snapshot, build_warnings) = build(config.clone(), prev, opts.silent_warnings)?;
    Ok(Loaded {
        config,
        snapshot,
        build_warnings,
    })
}

/// Read and validate the configuration (and the map files it names),
/// printing its warnings.
pub fn parse(opts: &LoadOptions) -> Result<Arc<Config>, LoadError> {
    let warn = |w: &[Diagnostic]| {
        if !opts.silent_warnings {
            print_warnings(w);
        }
    };
    let mut config = match switchyard_config::load(&opts.paths) {
        Ok(c) => c,
        Err(e) => {
            warn(&e.warnings);
            return Err(LoadError::Config(e));
        }
    };
    warn(&config.warnings);
    if opts.zero_warning && !config.warnings.is_empty() {
        return Err(LoadError::ZeroWarning);
    }
    if let Some(n) = opts.maxconn {
        config.global.maxconn = Some(n);
    }
    if opts.ignore_resolve_failures {
        allow_unresolved_servers(&mut config);
    }
    Ok(Arc::new(config))
}

/// The routing snapshot for `config`: names resolved, live state carried
/// over from `prev`, then the server state file applied. Also returns how
/// many warnings that gave (printed unless `silent`).
pub fn build(
    config: Arc<Config>,
    prev: Option<&Snapshot>,
    silent: bool,
) -> Result<(Snapshot, usize), LoadError> {
    let mut snapshot =
        switchyard_state::build(config, prev, &libc_resolve).map_err(LoadError::Build)?;
    let warnings = crate::serverstate::apply(&mut snapshot, prev, silent);
    Ok((snapshot, warnings))
}

/// `-dr`: end every server's `init-addr` list with `none` (the default list
/// is `last,libc`), so resolution failures leave it in maintenance.
fn allow_unresolved_servers(config: &mut Config) {
    let servers = config
        .proxies
        .iter_mut()
        .filter_map(|p| p.backend.as_mut())
        .flat_map(|b| b.servers.iter_mut());
    for s in servers {
        if s.init_addr.is_empty() {
            s.init_addr = vec![InitAddr::Last, InitAddr::Libc];
        }
        if !s.init_addr.contains(&InitAddr::None) {
            s.init_addr.push(InitAddr::None);
        }
    }
}

pub fn print_warnings(warnings: &[Diagnostic]) {
    for w in warnings {
        console::warning(&format!("config : {w}"));
    }
}

impl LoadError {
    /// HAProxy's alert lines for this failure.
    pub fn report(&self) {
        match self {
            LoadError::Config(e) => {
                for d in &e.errors {
                    console::alert(&format!("config : {d}"));
                }
                for f in &e.files {
                    console::alert(&format!(
                        "config : Error(s) found in configuration file : {f}"
                    ));
                }
                // A file that cannot be opened stops HAProxy before the
                // "Fatal errors" summary.
                let unreadable_only = e.files.is_empty()
                    && e.errors
                        .iter()
                        .all(|d| d.message.starts_with("Cannot open configuration file"));
                if !unreadable_only {
                    console::alert("config : Fatal errors found in configuration.");
                }
            }
            LoadError::Build(e) => {
                console::alert(&format!("config : {e}"));
                // HAProxy finds certificate errors while parsing the file.
                if let BuildError::BindTls { location, .. } = e {
                    let file = location.rsplit_once(':').map_or(location.as_str(), |f| f.0);
                    console::alert(&format!(
                        "config : Error(s) found in configuration file : {file}"
                    ));
                }
                console::alert("config : Fatal errors found in configuration.");
            }
            LoadError::Bind(e) => {
                console::alert(&e.to_string());
                console::alert("[haproxy.main()] Some protocols failed to start their listeners!");
            }
            LoadError::Admin(e) => {
                console::alert(&e.to_string());
                console::alert("[haproxy.main()] Some protocols failed to start their listeners!");
            }
            LoadError::Io(e) => console::alert(&format!("reload: {e}")),
            LoadError::ZeroWarning => {
                console::alert(
                    "config : Some warnings were found and 'zero-warning' is set. Aborting.",
                );
            }
        }
    }
}

/// Listeners the config declares: frontend binds plus stats sockets. HAProxy
/// refuses to start (and `-c` exits 2) when there are none.
pub fn listener_count(config: &Config) -> usize {
    let binds: usize = config
        .proxies
        .iter()
        .filter(|p| p.kind.has_frontend() && !p.disabled)
        .filter_map(|p| p.frontend.as_ref())
        .map(|f| f.binds.len())
        .sum();
    binds + config.global.stats_sockets.len()
}
