//! `switchyard`: a drop-in replacement for `haproxy` in blue/green and
//! rolling deployments — same config, same flags, same Runtime API.

mod check;
mod cli;
mod console;
mod ctl;
mod demo;
mod eventlog;
mod fdpass;
mod listener_set;
mod load;
mod resolve;
mod run;
mod serverstate;

use std::process::ExitCode;

use cli::{ArgError, Invocation};

/// mimalloc's per-thread free lists make the hot path's short-lived
/// allocations (buffers, header maps) much cheaper than glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let invocation = match cli::parse(std::env::args_os().skip(1)) {
        Ok(i) => i,
        Err(e) => return refuse(e),
    };
    let result = match invocation {
        Invocation::Demo => demo::run(),
        Invocation::Ctl(args) => Ok(ctl::run(args)),
        Invocation::Proxy(args) => proxy(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            console::alert(&format!("{e:#}"));
            ExitCode::from(1)
        }
    }
}

/// The haproxy-compatible modes: version, check, serve.
fn proxy(args: &cli::Args) -> anyhow::Result<ExitCode> {
    if args.version > 0 {
        print!("{}", cli::banner(args.version > 1));
        return Ok(ExitCode::SUCCESS);
    }
    console::set_quiet(args.quiet && !args.verbose);
    // A daemon's background child inherits the directory already changed.
    if let Some(dir) = args.chdir.as_ref().filter(|_| !run::is_daemon_child()) {
        if let Err(e) = std::env::set_current_dir(dir) {
            console::alert(&format!(
                "[haproxy.main()] Cannot chdir to '{}' : {e}",
                dir.display()
            ));
            return Ok(ExitCode::from(1));
        }
    }
    if args.config_paths.is_empty() {
        return Ok(refuse(ArgError::Usage));
    }
    if args.check_only {
        return Ok(check::run(args));
    }
    run::run(args)
}

/// A bad command line: HAProxy prints its banner and usage, exit 1.
fn refuse(e: ArgError) -> ExitCode {
    match e {
        ArgError::Usage => {
            print!("{}", cli::banner(false));
            eprint!("{}", cli::usage_text("switchyard"));
        }
        ArgError::Alert(msg) => console::alert(&msg),
    }
    ExitCode::from(1)
}
