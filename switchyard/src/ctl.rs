//! `switchyard ctl ...`: the deployment helper (status, cutover, rollback,
//! drain) of the `switchyard-ctl` crate, built into the binary.

use std::process::ExitCode;

pub fn run(args: Vec<String>) -> ExitCode {
    let code = switchyard_ctl::main(args);
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
