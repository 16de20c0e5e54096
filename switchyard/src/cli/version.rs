//! `-v` / `-vv`: a banner in HAProxy's shape (`<name> version <v> ...`,
//! `Status:`, `Running on:`), which some tooling greps for.

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The banner; `verbose` (`-vv`) adds build details.
pub fn banner(verbose: bool) -> String {
    let mut out = format!(
        "switchyard version {VERSION} - HAProxy 2.6 compatible reverse proxy\n\
         Status: development branch, compatible with HAProxy 2.6 configuration and Runtime API.\n\
         Running on: {}\n",
        running_on()
    );
    if verbose {
        out.push_str(&format!(
            "Build options :\n  TARGET  = {}-{}\n  PROFILE = {}\n\n\
             Feature list : +THREAD +GETADDRINFO +PROMEX\n\n\
             Default settings :\n  bufsize = 16384\n\n\
             Built with multi-threading support (default={}).\n",
            std::env::consts::ARCH,
            std::env::consts::OS,
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ));
    }
    out
}

/// `uname -srvm` without libc calls: the kernel publishes it under /proc.
fn running_on() -> String {
    let read = |k: &str| {
        std::fs::read_to_string(format!("/proc/sys/kernel/{k}"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    format!(
        "{} {} {} {}",
        read("ostype"),
        read("osrelease"),
        read("version"),
        std::env::consts::ARCH
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn banner_shape() {
        let b = super::banner(false);
        assert!(b.starts_with("switchyard version "));
        assert!(b.contains("\nRunning on: "));
        assert!(super::banner(true).contains("Build options :"));
    }
}
