//! HAProxy's command line, parsed by hand: its flags are single-dash and
//! multi-letter (`-sf`, `-Ws`, `-db`), and `-sf`/`-st` take a variable number
//! of pids, which a declarative parser would get subtly wrong.

use std::ffi::OsString;
use std::path::PathBuf;

/// What the process was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// The haproxy-compatible command line.
    Proxy(Args),
    /// `switchyard demo`
    Demo,
    /// `switchyard ctl ...` (arguments after `ctl`)
    Ctl(Vec<String>),
}

/// Which signal `-sf`/`-st` sends to the old pids once we are bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OldPidSignal {
    /// `-sf`: SIGUSR1, finish in-flight work then exit.
    Finish,
    /// `-st`: SIGTERM, exit at once.
    Terminate,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Args {
    /// `-f` files or directories, and anything after `--`, in order.
    pub config_paths: Vec<PathBuf>,
    /// `-c`
    pub check_only: bool,
    /// `-v` (1) or `-vv` (2)
    pub version: u8,
    /// `-V`
    pub verbose: bool,
    /// `-q`
    pub quiet: bool,
    /// `-d`: debug mode (foreground, verbose).
    pub debug: bool,
    /// `-db`: stay in the foreground even if the config says `daemon`.
    pub no_background: bool,
    /// `-D`
    pub daemon: bool,
    /// `-W`
    pub master_worker: bool,
    /// `-Ws`
    pub master_worker_systemd: bool,
    /// `-dW`: warnings are fatal.
    pub zero_warning: bool,
    /// `-dr`: ignore server address resolution failures.
    pub ignore_resolve_failures: bool,
    /// `-p`
    pub pidfile: Option<PathBuf>,
    /// `-sf`/`-st` and their pids (an empty list is allowed, as in
    /// `-sf $(cat pidfile)` with no previous process).
    pub old_pids: Vec<i32>,
    pub old_pid_signal: Option<OldPidSignal>,
    /// `-x`: where to fetch listening sockets from (stored for the upgrade
    /// feature).
    pub fd_socket: Option<PathBuf>,
    /// `-S`: master CLI bind (stored for master-worker).
    pub master_cli: Vec<String>,
    /// `-n`
    pub maxconn: Option<u32>,
    /// `-N`
    pub maxpconn: Option<u32>,
    /// `-C`: change to this directory before loading files.
    pub chdir: Option<PathBuf>,
    /// `-L`
    pub local_peer: Option<String>,
}

impl Args {
    /// What the loader needs from the command line.
    pub fn load_options(&self) -> crate::load::LoadOptions {
        crate::load::LoadOptions {
            paths: self.config_paths.clone(),
            zero_warning: self.zero_warning,
            maxconn: self.maxconn,
            silent_warnings: false,
            ignore_resolve_failures: self.ignore_resolve_failures,
        }
    }
}

/// Why the command line was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgError {
    /// Print the usage text and exit 1 (HAProxy's `usage()`).
    Usage,
    /// Print this as an alert and exit 1.
    Alert(String),
}

/// Parse the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, ArgError> {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.into_string().map_err(|_| ArgError::Usage))
        .collect::<Result<_, _>>()?;
    match args.first().map(String::as_str) {
        Some("demo") => {
            if args.len() > 1 {
                return Err(ArgError::Alert(format!(
                    "demo: unexpected argument '{}'",
                    args[1]
                )));
            }
            return Ok(Invocation::Demo);
        }
        Some("ctl") => return Ok(Invocation::Ctl(args[1..].to_vec())),
        _ => {}
    }
    parse_proxy_args(&args).map(Invocation::Proxy)
}

fn parse_proxy_args(argv: &[String]) -> Result<Args, ArgError> {
    let mut a = Args::default();
    let mut i = 0;
    while i < argv.len() {
        let arg = argv[i].as_str();
        i += 1;
        let Some(flag) = arg.strip_prefix('-') else {
            return Err(ArgError::Usage);
        };
        match flag {
            "v" => a.version = a.version.max(1),
            "vv" => a.version = 2,
            "V" => a.verbose = true,
            "q" => a.quiet = true,
            "c" => a.check_only = true,
            "D" => a.daemon = true,
            "W" => a.master_worker = true,
            "Ws" => {
                a.master_worker = true;
                a.master_worker_systemd = true;
            }
            "d" => a.debug = true,
            "db" => a.no_background = true,
            "dW" => a.zero_warning = true,
            "dr" => a.ignore_resolve_failures = true,
            // HAProxy's tuning/debug switches with no meaning here.
            "de" | "dp" | "dS" | "dG" | "dR" | "dL" | "dV" | "dD" => {}
            f if f.starts_with("dM") || f.starts_with("dK") => {}
            "sf" | "st" => {
                a.old_pid_signal = Some(if flag == "sf" {
                    OldPidSignal::Finish
                } else {
                    OldPidSignal::Terminate
                });
                while i < argv.len() && !argv[i].starts_with('-') {
                    a.old_pids.push(parse_pid(flag, &argv[i])?);
                    i += 1;
                }
            }
            // `--`: the rest are config files.
            "-" => {
                a.config_paths.extend(argv[i..].iter().map(PathBuf::from));
                i = argv.len();
            }
            "f" | "p" | "x" | "S" | "n" | "N" | "m" | "C" | "L" => {
                let value = argv.get(i).ok_or(ArgError::Usage)?.clone();
                i += 1;
                match flag {
                    "f" => a.config_paths.push(PathBuf::from(value)),
                    "p" => a.pidfile = Some(PathBuf::from(value)),
                    "x" => a.fd_socket = Some(PathBuf::from(value)),
                    "S" => a.master_cli.push(value),
                    "n" => a.maxconn = Some(parse_number(flag, &value)?),
                    "N" => a.maxpconn = Some(parse_number(flag, &value)?),
                    "C" => a.chdir = Some(PathBuf::from(value)),
                    "L" => a.local_peer = Some(value),
                    // `-m`: a memory limit we do not enforce.
                    _ => {}
                }
            }
            _ => return Err(ArgError::Usage),
        }
    }
    Ok(a)
}

/// A pid after `-sf`/`-st`, with HAProxy's messages for junk.
fn parse_pid(flag: &str, text: &str) -> Result<i32, ArgError> {
    let digits_end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '+')))
        .map(|(i, _)| i)
        .unwrap_or(text.len());
    let rest = text[digits_end..].trim_start();
    if !rest.is_empty() {
        return Err(ArgError::Alert(format!(
            "-{flag} option: some bytes unconsumed in PID list {{{rest}}}"
        )));
    }
    match text[..digits_end].parse::<i32>() {
        Ok(pid) if pid > 0 => Ok(pid),
        Ok(_) => Err(ArgError::Usage),
        Err(e) => Err(ArgError::Alert(format!(
            "-{flag} option: failed to parse {{{text}}}: {e}"
        ))),
    }
}

fn parse_number(flag: &str, text: &str) -> Result<u32, ArgError> {
    text.parse()
        .map_err(|_| ArgError::Alert(format!("-{flag} option: invalid number '{text}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Invocation, ArgError> {
        parse(s.split_whitespace().map(OsString::from))
    }

    fn args(s: &str) -> Args {
        match p(s) {
            Ok(Invocation::Proxy(a)) => a,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn seed_command_lines() {
        let a = args("-W -f haproxy.cfg -p haproxy.pid");
        assert!(a.master_worker);
        assert_eq!(a.config_paths, vec![PathBuf::from("haproxy.cfg")]);
        assert_eq!(a.pidfile, Some(PathBuf::from("haproxy.pid")));

        let a = args("-c -V -f /etc/haproxy/haproxy.cfg");
        assert!(a.check_only && a.verbose);

        let a = args("-D -p /run/h.pid -f cfg -sf 12 34 -x /run/s.sock");
        assert!(a.daemon);
        assert_eq!(a.old_pids, vec![12, 34]);
        assert_eq!(a.old_pid_signal, Some(OldPidSignal::Finish));
        assert_eq!(a.fd_socket, Some(PathBuf::from("/run/s.sock")));
    }

    #[test]
    fn sf_list_may_be_empty_and_ends_at_next_flag() {
        let a = args("-f a.cfg -st -f b.cfg");
        assert!(a.old_pids.is_empty());
        assert_eq!(a.old_pid_signal, Some(OldPidSignal::Terminate));
        assert_eq!(a.config_paths.len(), 2);
    }

    #[test]
    fn bad_pids_are_alerts() {
        assert_eq!(
            p("-sf 12x"),
            Err(ArgError::Alert(
                "-sf option: some bytes unconsumed in PID list {x}".into()
            ))
        );
        assert_eq!(p("-sf 0"), Err(ArgError::Usage));
    }

    #[test]
    fn versions_and_modes() {
        assert_eq!(args("-v").version, 1);
        assert_eq!(args("-vv").version, 2);
        let a = args("-Ws -db -q -dW -dr -dM -dKall");
        assert!(a.master_worker_systemd && a.no_background && a.quiet && a.zero_warning);
        assert!(a.ignore_resolve_failures);
    }

    #[test]
    fn double_dash_takes_the_rest_as_files() {
        let a = args("-c -- a.cfg b.cfg");
        assert_eq!(
            a.config_paths,
            vec![PathBuf::from("a.cfg"), PathBuf::from("b.cfg")]
        );
    }

    #[test]
    fn usage_errors() {
        assert_eq!(p("-f"), Err(ArgError::Usage));
        assert_eq!(p("-zz"), Err(ArgError::Usage));
        assert_eq!(p("stray"), Err(ArgError::Usage));
    }

    #[test]
    fn subcommands() {
        assert_eq!(p("demo"), Ok(Invocation::Demo));
        assert_eq!(
            p("ctl status x"),
            Ok(Invocation::Ctl(vec!["status".into(), "x".into()]))
        );
    }
}
