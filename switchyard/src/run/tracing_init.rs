//! Diagnostics from the libraries' `tracing` calls (accept errors and the
//! like), on stderr: `RUST_LOG` decides, `warn` by default, nothing with -q.

use tracing_subscriber::EnvFilter;

pub fn init(quiet: bool) {
    let filter = if quiet {
        EnvFilter::new("off")
    } else {
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"))
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
