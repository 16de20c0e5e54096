//! `cfgcheck FILE...`: load configs like `haproxy -c -f` and print the
//! diagnostics (a development aid for comparing with real HAProxy).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    match switchyard_config::load(&paths) {
        Ok(cfg) => {
            for w in &cfg.warnings {
                eprintln!("[WARNING] config : {w}");
            }
            println!("Configuration file is valid");
            ExitCode::SUCCESS
        }
        Err(e) => {
            for w in &e.warnings {
                eprintln!("[WARNING] config : {w}");
            }
            for err in &e.errors {
                eprintln!("[ALERT] config : {err}");
            }
            ExitCode::FAILURE
        }
    }
}
